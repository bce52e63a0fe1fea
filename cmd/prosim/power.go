package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	netstudy "github.com/prosim/prosim/internal/study/network"
	"github.com/prosim/prosim/internal/termtable"
)

func init() { extraCommands = append(extraCommands, powerCmd) }

// Power analysis of Study 3's design: the design is simulated on the embedded model and
// each exposure group's effect on willingness at the last round is read with its bootstrap
// CI (results/network_effects.csv, the numbers a real run reports); its SE is the CI's half
// width / 1.96. The minimum detectable effect (80% power, two-sided 5%) is 2.80 SE, and
// the replicates (or agents) a target effect needs scale as (MDE/target)^2, since the SE
// shrinks as 1/sqrt(n), n the group's agent x replicate pairs.
const (
	powerAlpha = 0.05
	powerLevel = 0.8
)

func powerCmd() *cobra.Command {
	var effect, sd float64
	var out string
	var seed uint64
	c := &cobra.Command{
		Use:   "power FILE",
		Short: "Smallest effect Study 3's design detects per exposure group at 80% power, and the size a target effect needs",
		Long: `Simulates the experiment (study network) on the embedded behavioural model and reports, per
exposure group, the standard error of the effect on willingness against the control twin at the
last round (from the run's bootstrap CI), the minimum detectable effect at 80% power (two-sided 5%),
and, for a target effect (--effect, else the simulated one), the replicates or agents needed.
With common random numbers a group the inequity does not reach has no variation at all; --sd
gives the SD of the paired difference per agent x replicate pair to assume instead (e.g. sqrt(2) x the rating
noise for an LLM that ignores the seed).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			exp, err := experiment.Load(args[0])
			if err != nil {
				return err
			}
			if exp.Study != netstudy.Name {
				return usageError{fmt.Errorf("%s: prosim power takes an experiment of study network (this is study %s)", args[0], exp.Study)}
			}
			if cmd.Flags().Changed("seed") {
				exp.Seed = &seed
			}
			if exp.Backends, err = parseBackendFlags([]string{"builtin"}); err != nil {
				return err
			}
			dir := out
			if dir == "" {
				tmp, err := os.MkdirTemp("", "prosim-power-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				dir = filepath.Join(tmp, "run")
			}
			if _, err := engine.Run(cmd.Context(), exp, engine.Options{Out: dir, NoCache: true}); err != nil {
				return err
			}
			recs, err := readPowerCSV(filepath.Join(dir, "results", netstudy.EffectsSchema.Name+".csv"))
			if err != nil {
				return err
			}
			rows, err := powerRows(recs, exp.Replicates, effect, sd)
			if err != nil {
				return err
			}
			return printPower(cmd.OutOrStdout(), rows, effect, sd)
		},
	}
	c.Flags().Float64Var(&effect, "effect", 0, "target effect on willingness in points (default: each group's simulated effect)")
	c.Flags().Float64Var(&sd, "sd", 0, "SD of the paired difference per agent x replicate pair to assume where the simulation shows none")
	c.Flags().StringVar(&out, "out", "", "keep the simulated run in this directory")
	c.Flags().Uint64Var(&seed, "seed", 0, "seed of the simulation (overrides the file's)")
	return c
}

// powerRow is one condition and group at the last round.
type powerRow struct {
	Condition, Group string
	Round            int
	Pairs, Reps      int // the group's agent x replicate pairs in the round; replicates
	Effect, SE, MDE  float64
	Target           float64
	Factor           float64 // sample factor for the target
	Agents           int     // population the run had (agent x replicate pairs of the round / replicates)
	Assumed          bool    // SE from --sd
}

// powerRows computes the power table from network_effects.csv's records: willingness,
// the last round, the exposure groups.
func powerRows(recs [][]string, reps int, effect, sd float64) ([]powerRow, error) {
	if len(recs) < 2 {
		return nil, fmt.Errorf("no effects in the simulation")
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	if _, ok := col["exposure_group"]; !ok {
		col["exposure_group"] = col["group"] // a run written before named the column group
	}
	last := map[string]int{}
	pop := map[string]int{} // condition+round -> agent x replicate pairs over the exposure groups
	// The exposure groups, as network_effects.csv spells them (and as runs before spelt them).
	groups := map[string]bool{"victims": true, "distance_1": true, "distance_2": true, "distance_3plus": true, "unreachable": true,
		"victim": true, "1": true, "2": true, "3+": true}
	for _, r := range recs[1:] {
		if r[col["outcome"]] != "willingness" || !groups[r[col["exposure_group"]]] {
			continue
		}
		t, _ := strconv.Atoi(r[col["round"]])
		n, _ := strconv.Atoi(r[col["n_agents"]])
		last[r[col["condition"]]] = max(last[r[col["condition"]]], t)
		pop[r[col["condition"]]+"\x00"+r[col["round"]]] += n
	}
	var out []powerRow
	for _, r := range recs[1:] {
		cond := r[col["condition"]]
		t, _ := strconv.Atoi(r[col["round"]])
		if r[col["outcome"]] != "willingness" || !groups[r[col["exposure_group"]]] || t != last[cond] {
			continue
		}
		f := func(name string) float64 {
			v, err := strconv.ParseFloat(r[col[name]], 64)
			if err != nil {
				return math.NaN()
			}
			return v
		}
		n, _ := strconv.Atoi(r[col["n_agents"]])
		nr, _ := strconv.Atoi(r[col["n_replicates"]])
		p := powerRow{Condition: cond, Group: r[col["exposure_group"]], Round: t, Pairs: n, Reps: reps, Effect: f("effect"),
			SE: (f("ci_high") - f("ci_low")) / (2 * 1.959964), Agents: int(math.Round(float64(pop[cond+"\x00"+r[col["round"]]]) / float64(max(1, nr))))}
		if !(p.SE > 0) && sd > 0 && n > 0 {
			p.SE, p.Assumed = sd/math.Sqrt(float64(n)), true
		}
		p.MDE = analysis.MDE(p.SE, powerAlpha, powerLevel)
		p.Target = effect
		if p.Target == 0 {
			p.Target = p.Effect
		}
		p.Factor = analysis.SampleFactor(p.MDE, math.Abs(p.Target))
		out = append(out, p)
	}
	return out, nil
}

func printPower(w io.Writer, rows []powerRow, effect, sd float64) error {
	fmt.Fprintf(w, "Power of Study 3's design on the embedded model: effect on willingness against the control twin at the last round,\n")
	fmt.Fprintf(w, "minimum detectable effect (MDE) at %.0f%% power, two-sided %.0f%%: 2.80 x SE, SE from the run's bootstrap CI.\n", 100*powerLevel, 100*powerAlpha)
	target := "each group's simulated effect"
	if effect != 0 {
		target = fmt.Sprintf("%+.2f points", effect)
	}
	fmt.Fprintf(w, "Needed for the target (%s): SE shrinks as 1/sqrt(agent x replicate pairs), so replicates (or agents, if the group grows with the population) x (MDE/target)^2.\n", target)
	table := [][]string{{"condition", "group", "round", "agent x replicate pairs", "effect", "SE", "MDE", "replicates needed", "agents needed"}}
	for _, p := range rows {
		se, mde, nr, na := f3(p.SE), f3(p.MDE), "-", "-"
		if p.Assumed {
			se += " (--sd)"
		}
		if !(p.SE > 0) {
			se, mde = "0 (no variation: give --sd)", "-"
		} else if !math.IsNaN(p.Factor) && !math.IsInf(p.Factor, 0) {
			nr = strconv.Itoa(max(1, int(math.Ceil(float64(p.Reps)*p.Factor))))
			na = strconv.Itoa(max(1, int(math.Ceil(float64(p.Agents)*p.Factor))))
		}
		table = append(table, []string{p.Condition, p.Group, fmt.Sprint(p.Round), fmt.Sprint(p.Pairs), fmt.Sprintf("%+.3f", p.Effect), se, mde, nr, na})
	}
	if err := termtable.Write(w, 2, table); err != nil { // key: condition, group
		return err
	}
	fmt.Fprintln(w, "Replicates needed keep the agents; agents needed keep the replicates (victims: the target group's k must grow too).")
	return nil
}

func f3(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}

func readPowerCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}
