package network

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/termtable"
)

// The twin design's outputs: network_effects.csv, network_contagion.csv and the summary's
// lines, all printed from Comparison.Effects and Comparison.Contagion.

// effPct and effReps are effectLevel (in percent) and BootReps, for the docs.
var effPct, effReps = strconv.FormatFloat(100*effectLevel, 'g', -1, 64), strconv.Itoa(BootReps)

// EffectsSchema declares results/network_effects.csv.
var EffectsSchema = table.Schema{Name: "network_effects", Doc: "Study 3: per inequity condition, exposure group, round and outcome, the effect against the control twin: the " + effectEstimand + ", with a 95% percentile CI from a two-way bootstrap resampling replicates and agents (1000 resamples, seeded; above 256 agents, blocks of agents)", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "condition", Type: table.String, Doc: "the inequity condition"},
	{Name: "exposure_group", Type: table.String, Doc: "victims, distance_1, distance_2, distance_3plus (distance from the nearest victim), unreachable (as in network_groups.csv), and distance 2 split by whether a distance-1 neighbour was affected the round before: distance_2_changed, distance_2_unchanged"},
	{Name: "round", Type: table.Int, Doc: "round (day), from 1: every round, those before the unfair treatment too"},
	{Name: "outcome", Type: table.String, Doc: "willingness or unfairness"},
	{Name: "effect", Type: table.Float, Doc: "mean paired difference, inequity run minus control twin, on the scenario's scale"},
	{Name: "ci_low", Type: table.Float, Doc: "lower bound of the effect's " + effPct + "% percentile CI: type-7 quantiles of the effect in " + effReps + " seeded two-way bootstrap resamples (replicates and agents drawn independently with replacement); empty when no resample holds an agent x replicate pair"},
	{Name: "ci_high", Type: table.Float, Doc: "upper bound of that CI"},
	{Name: "n_agents", Type: table.Int, Doc: "the group's agent x replicate pairs with both decisions valid this round (an agent counts once per replicate; the distance_2_changed and _unchanged groups are re-formed every round)"},
	{Name: "n_replicates", Type: table.Int, Doc: "replicates with at least one such agent"},
}}

// ContagionSchema declares results/network_contagion.csv.
var ContagionSchema = table.Schema{Name: "network_contagion", Doc: "Study 3: per inequity condition, exposure group and round, the " + contagionEstimand + ", the placebo's share and the p-value of spread (a permutation test over placements on the behavioural model, a sign-flip test over replicates on other backends)", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "condition", Type: table.String, Doc: "the inequity condition"},
	{Name: "exposure_group", Type: table.String, Doc: "victims, distance_1, distance_2, distance_3plus, unreachable, all (as in network_groups.csv)"},
	{Name: "round", Type: table.Int, Doc: "round (day), from the inequity's first round of unfair treatment (inequity.from) on: nobody is labelled before"},
	{Name: "affected_share", Type: table.Float, Doc: "share of the group's agent x replicate pairs affected this round: rated at least a noise band below the control twin, this round and the round before (see label.go); the band is 1.96 times the agent's noise SD, the root mean square of twin differences before the treatment, pooled over replicates and shrunk toward all agents' with 8 pseudo-observations (LabelPrior), and at least 1 point. On the behavioural model they are the run's own twin differences; on other backends (an LLM, whose twins share a reply until their prompts differ) the placebo's: a control against another replicate's control, two independent draws. The share_affected of network_groups.csv"},
	{Name: "placebo_affected_share", Type: table.Float, Doc: "what noise alone gives: the label on a control against the next replicate's control (each pair of replicates once: one pair with 2 replicates; no treatment, no shared random numbers), grouped by distance from pseudo-victims chosen by the same targeting rule on a third replicate's pre-treatment ratings (see label.go)"},
	{Name: "p_value", Type: table.Float, Doc: "spread at this distance, one-sided (the share of the reference set with a mean at most the observed; see twinstats.go), on the willingness effect (mean twin difference) of the agents at this distance. On the behavioural model a permutation test over where the victims sit (999 placements, fewer for very large runs), among the agents at least this far from the real victims. On other backends (an LLM) a sign-flip test over replicates (each replicate's run and twin swapped or not): every one of the 2^R sign patterns up to 12 replicates, else 999 random ones and the observed; its smallest p is 2^-R (1/16 with 4 replicates, 1/64 with 6; 1/1000 above 12). Empty for unreachable, all and before the unfair treatment, and on every backend when every agent is a victim (target: all: the victims are then all agents, nobody is at any distance from them, and no other placement exists)"},
}}

func nanNil(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

func (r *results) effectsTable() *table.Table {
	return &table.Table{Schema: EffectsSchema, Rows: func(emit func([]any) error) error {
		for _, c := range r.Cmps {
			for _, e := range c.Effects {
				if err := emit([]any{c.Backend, c.Inequity, effGroupKeys[e.G], e.Round, e.Outcome(), e.Effect, nanNil(e.Lo), nanNil(e.Hi), e.NAgents, e.NReps}); err != nil {
					return err
				}
			}
		}
		return nil
	}}
}

func (r *results) contagionTable() *table.Table {
	return &table.Table{Schema: ContagionSchema, Rows: func(emit func([]any) error) error {
		for _, c := range r.Cmps {
			for _, x := range c.Contagion {
				if err := emit([]any{c.Backend, c.Inequity, groupKeys[x.G], x.Round, nanNil(x.Share), nanNil(x.PlaceboShare), nanNil(x.P)}); err != nil {
					return err
				}
			}
		}
		return nil
	}}
}

// shownRounds are the rounds the summary prints: From to the last, at most 8 (evenly
// spaced, the first and the last always); the tables have every round.
func (c *Comparison) shownRounds() []int {
	n := c.Rounds - c.From + 1
	var out []int
	if n <= 8 {
		for t := c.From; t <= c.Rounds; t++ {
			out = append(out, t)
		}
		return out
	}
	for i := range 8 {
		out = append(out, c.From+int(math.Round(float64(i)*float64(n-1)/7)))
	}
	return out
}

// roundsNote says which rounds the summary's and the report's tables show when shownRounds
// leaves some out ("" when it shows them all): r6 of a 10-round run was left out without a
// word (QA14 F12).
func (c *Comparison) roundsNote() string {
	n, shown := c.Rounds-c.From+1, c.shownRounds()
	if len(shown) >= n {
		return ""
	}
	return fmt.Sprintf("rounds shown: %d of the %d from the unfair treatment's r%d to r%d, evenly spaced, the first and the last always; results/%s.csv has every round",
		len(shown), n, c.From, c.Rounds, EffectsSchema.Name)
}

// Effect is the row of group g, round t and outcome, if any.
func (c *Comparison) Effect(g, t int, unfair bool) (EffectRow, bool) {
	for _, e := range c.Effects {
		if e.G == g && e.Round == t && e.Unfair == unfair {
			return e, true
		}
	}
	return EffectRow{}, false
}

// ContagionAt is the row of contagion group g and round t, if any.
func (c *Comparison) ContagionAt(g, t int) (ContagionRow, bool) {
	for _, x := range c.Contagion {
		if x.G == g && x.Round == t {
			return x, true
		}
	}
	return ContagionRow{}, false
}

// effectCell is how the summary and the report print an effect with its CI.
func effectCell(e EffectRow) string {
	if math.IsNaN(e.Lo) {
		return fmt.Sprintf("%+.2f", e.Effect)
	}
	return fmt.Sprintf("%+.2f [%+.2f, %+.2f]", e.Effect, e.Lo, e.Hi)
}

// pct prints a share as a percentage with one decimal; "-" for none.
func pct(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

// pval prints a p-value; "-" for none.
func pval(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}

// printTwin prints the effects against the twin and the contagion label with its placebo
// and p-values (the summary's section of the twin design).
func (c *Comparison) printTwin(w io.Writer) {
	rounds := c.shownRounds()
	fmt.Fprintf(w, "Effect against the control twin: %s; 95%% CI from a two-way bootstrap over replicates and agents (%d resamples)\n", effectEstimand, c.BootReps)
	if note := c.roundsNote(); note != "" {
		fmt.Fprintf(w, "  (%s)\n", note)
	}
	split := false // whether a row of the distance-2 split is shown, which the note explains
	for _, unfair := range []bool{false, true} {
		name := "willingness"
		if unfair {
			name = "unfairness"
		}
		hdr := []string{"effect on " + name, termPairsHead}
		for _, t := range rounds {
			hdr = append(hdr, fmt.Sprintf("r%d", t))
		}
		rows := [][]string{hdr}
		for g := range nEffGroups {
			n, cells, ok := c.effectLine(g, unfair, rounds)
			if !ok {
				continue
			}
			rows = append(rows, append([]string{effGroupKeys[g], n}, cells...)) // the split of distance 2 spelt out below
			split = split || g == eDist2Changed || g == eDist2Unchanged
		}
		termtable.Write(w, 2, rows) // key: group, pairs; split by rounds on a narrow terminal
	}
	if split {
		fmt.Fprintf(w, "  (%s: distance 2 with a distance-1 neighbour affected the round before; %s: with none;\n", effGroupKeys[eDist2Changed], effGroupKeys[eDist2Unchanged])
		fmt.Fprintf(w, "  every round each distance-2 pair is in one of the two, so their counts are per round: fewest-most of the rounds shown)\n")
	}
	test, perm := "a permutation test over where the victims sit", fmt.Sprintf("%d victim placements", c.Perms)
	if c.SignFlip {
		test = signFlipName
	}
	switch {
	case c.Perms == noPlacements:
		perm = noPlacementsWhy
	case c.SignFlip:
		perm = c.signFlipRef()
	case c.Perms == 0:
		perm = "read back from results/" + ContagionSchema.Name + ".csv"
	}
	fmt.Fprintf(w, "Affected (willingness at least a noise band below the control twin, two days running): %s;\n", contagionEstimand)
	fmt.Fprintf(w, "  placebo in parentheses (noise alone: a control against another replicate's, label.go); p = spread at this distance,\n")
	fmt.Fprintf(w, "  %s on the willingness effect, not on the label (%s)\n", test, perm)
	hdr := []string{"affected"}
	for _, t := range rounds {
		hdr = append(hdr, fmt.Sprintf("r%d", t))
	}
	termtable.Write(w, 1, append([][]string{hdr}, contagionRows(c, rounds)...))
}

// noPlacementsWhy says, in the summary and the report, why no test of spread was run
// (noPlacements), on every backend.
const noPlacementsWhy = "not run: every agent is a victim, so nobody is at any distance from the victims; their effect is in results/network_effects.csv"

// signFlipName names the p-values' test on a backend other than the behavioural model
// (signFlipStats), in the summary and the report.
const signFlipName = "a sign-flip test over replicates (a replicate's run and twin swapped)"

// signFlipRef is the sign-flip test's reference set in words: "4 replicates: all 16 sign
// patterns, smallest p 1/16".
func (c *Comparison) signFlipRef() string {
	switch {
	case c.Perms == 0:
		return "read back from results/" + ContagionSchema.Name + ".csv"
	case signFlipExact(c.Replicates):
		return fmt.Sprintf("%d replicates: all %d sign patterns, smallest p 1/%d", c.Replicates, c.Perms, c.Perms)
	}
	return fmt.Sprintf("%d replicates: %d random sign patterns and the observed one, smallest p 1/%d", c.Replicates, c.Perms-1, c.Perms)
}

// effPairsHead heads the report's effects tables' count: a group's agent x replicate pairs
// with both decisions valid, in each round shown (effectLine); termPairsHead the summary's,
// short so that a narrow terminal's blocks, which repeat it, keep room for the rounds (the
// line above the table names the pairs).
const (
	effPairsHead  = pairsHead + " per round"
	termPairsHead = "pairs per round"
)

// effectLine is group g's row of an effects table over the rounds shown: its agent x
// replicate pairs with both decisions valid, per round ("889"; "0-170" where the rounds
// differ, as for the split of distance 2, whose groups are re-formed every round; a round
// without any is a "-" cell and counts 0), and the effect cells; false when no round shown
// has any.
func (c *Comparison) effectLine(g int, unfair bool, rounds []int) (n string, cells []string, ok bool) {
	lo, hi := math.MaxInt, 0
	for _, t := range rounds {
		e, found := c.Effect(g, t, unfair)
		if !found {
			lo = 0
			cells = append(cells, "-")
			continue
		}
		ok = true
		lo, hi = min(lo, e.NAgents), max(hi, e.NAgents)
		cells = append(cells, effectCell(e))
	}
	n = strconv.Itoa(hi)
	if lo != hi {
		n = fmt.Sprintf("%d-%d", lo, hi)
	}
	return n, cells, ok
}

// readTwin reads back the twin design's tables of a summary run replayed for its report.
func (s *netStudy) readTwin(cmps []*Comparison) error {
	byKey := map[string]*Comparison{}
	for _, c := range cmps {
		byKey[c.Backend+"\x00"+c.Inequity] = c
		c.BootReps = BootReps
	}
	effG, contG := map[string]int{}, map[string]int{"all": gAll}
	for g, k := range effGroupKeys {
		for _, k := range []string{k, legacyEffGroupKeys[g]} {
			effG[k] = g
			if g < gAll {
				contG[k] = g
			}
		}
	}
	read := func(sc table.Schema, row func(c *Comparison, get func(string) string, line int) error) error {
		path := filepath.Join(s.resultsDir(), sc.Name+".csv")
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("this network.store: summary run's results/%s.csv is missing (written by an older prosim?): run it again", sc.Name)
			}
			return err
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(recs) == 0 {
			return fmt.Errorf("%s is empty", path)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		if i, ok := col["group"]; ok {
			if _, ok := col["exposure_group"]; !ok {
				col["exposure_group"] = i // a run written before named the column group
			}
		}
		for _, c := range sc.Columns {
			if _, ok := col[c.Name]; !ok {
				return fmt.Errorf("%s: no column %s (written by an older prosim: run it again)", path, c.Name)
			}
		}
		for i, rec := range recs[1:] {
			get := func(name string) string { return rec[col[name]] }
			c := byKey[get("backend")+"\x00"+get("condition")]
			if c == nil {
				return fmt.Errorf("%s line %d: no inequity condition %q of backend %q in this design", path, i+2, get("condition"), get("backend"))
			}
			if err := row(c, get, i+2); err != nil {
				return fmt.Errorf("%s line %d: %w", path, i+2, err)
			}
		}
		return nil
	}
	num := func(get func(string) string, name string) (float64, error) {
		v := get(name)
		if v == "" {
			return math.NaN(), nil
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("bad %s %q", name, v)
		}
		return x, nil
	}
	integer := func(get func(string) string, name string) (int, error) {
		x, err := strconv.Atoi(get(name))
		if err != nil {
			return 0, fmt.Errorf("bad %s %q", name, get(name))
		}
		return x, nil
	}
	err := read(EffectsSchema, func(c *Comparison, get func(string) string, _ int) error {
		g, ok := effG[get("exposure_group")]
		if !ok {
			return fmt.Errorf("unknown exposure_group %q", get("exposure_group"))
		}
		e := EffectRow{G: g, Unfair: get("outcome") == "unfairness"}
		var errs [6]error
		e.Round, errs[0] = integer(get, "round")
		e.Effect, errs[1] = num(get, "effect")
		e.Lo, errs[2] = num(get, "ci_low")
		e.Hi, errs[3] = num(get, "ci_high")
		e.NAgents, errs[4] = integer(get, "n_agents")
		e.NReps, errs[5] = integer(get, "n_replicates")
		if err := errors.Join(errs[:]...); err != nil {
			return err
		}
		c.Effects = append(c.Effects, e)
		return nil
	})
	if err != nil {
		return err
	}
	return read(ContagionSchema, func(c *Comparison, get func(string) string, _ int) error {
		g, ok := contG[get("exposure_group")]
		if !ok {
			return fmt.Errorf("unknown exposure_group %q", get("exposure_group"))
		}
		x := ContagionRow{G: g}
		var errs [4]error
		x.Round, errs[0] = integer(get, "round")
		x.Share, errs[1] = num(get, "affected_share")
		x.PlaceboShare, errs[2] = num(get, "placebo_affected_share")
		x.P, errs[3] = num(get, "p_value")
		if err := errors.Join(errs[:]...); err != nil {
			return err
		}
		c.Contagion = append(c.Contagion, x)
		return nil
	})
}

// contagionRows are the affected shares by group and round as the summary and the report print
// them: "share (placebo) p=...", one row per group that has any round.
func contagionRows(c *Comparison, rounds []int) [][]string {
	var rows [][]string
	for _, g := range []int{gVictims, gDist1, gDist2, gDist3, gUnreachable, gAll} {
		line := []string{groupKeys[g]}
		any := false
		for _, t := range rounds {
			x, ok := c.ContagionAt(g, t)
			if !ok {
				line = append(line, "-")
				continue
			}
			any = true
			cell := pct(x.Share) + " (" + pct(x.PlaceboShare) + ")"
			if !math.IsNaN(x.P) {
				cell += " p=" + pval(x.P)
			}
			line = append(line, cell)
		}
		if any {
			rows = append(rows, line)
		}
	}
	return rows
}
