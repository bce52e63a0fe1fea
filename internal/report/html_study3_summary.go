package report

// Study 3 runs with network.store: summary keep no per-agent rows, only
// results/rounds_summary.csv (per inequity run, round and exposure group, beside the same
// agents in the control run). The report draws their trajectories and contagion curve from it:
// means pooled over replicates, without CIs, network drawing or mediation (they need per-agent
// rows), and says so.

import (
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const roundsSummaryFile = "rounds_summary.csv"

// summaryGroups are rounds_summary.csv's exposure groups, in drawing order.
var summaryGroups = []string{"victims", "distance_1", "distance_2", "distance_3plus"}

// pooled is a sum of means weighted by their counts.
type pooled struct{ sum, n float64 }

func (p *pooled) add(mean string, n string) error {
	if mean == "" {
		return nil
	}
	m, err := strconv.ParseFloat(mean, 64)
	if err != nil {
		return err
	}
	k, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return err
	}
	p.sum += m * k
	p.n += k
	return nil
}

func (p pooled) mean() float64 {
	if p.n == 0 {
		return math.NaN()
	}
	return p.sum / p.n
}

// loadStudy3Summary draws a summary-store run; nil when it has no rounds_summary.csv.
func loadStudy3Summary(r *Run) (*Study3Data, error) {
	path := filepath.Join(r.Dir, "results", roundsSummaryFile)
	recs, err := readCSVFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(recs) < 2 {
		return nil, nil
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	need := []string{"condition", "round", "exposure_group", "agents", "valid", "mean_willingness", "mean_unfairness",
		"share_affected", "control_valid", "control_mean_willingness", "control_mean_unfairness"}
	for _, c := range need {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%s: no column %s", path, c)
		}
	}
	type key struct {
		cond, group string
		round       int
	}
	type cell struct{ w, u, cw, cu, aff pooled }
	cells := map[key]*cell{}
	var conds []string
	rounds := 0
	for i, rec := range recs[1:] {
		t, err := strconv.Atoi(rec[col["round"]])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: round: %w", path, i+2, err)
		}
		rounds = max(rounds, t)
		k := key{rec[col["condition"]], rec[col["exposure_group"]], t}
		c := cells[k]
		if c == nil {
			c = &cell{}
			cells[k] = c
			if !slices.Contains(conds, k.cond) {
				conds = append(conds, k.cond)
			}
		}
		v, cv := rec[col["valid"]], rec[col["control_valid"]]
		for _, e := range []error{c.w.add(rec[col["mean_willingness"]], v), c.u.add(rec[col["mean_unfairness"]], v),
			c.cw.add(rec[col["control_mean_willingness"]], cv), c.cu.add(rec[col["control_mean_unfairness"]], cv),
			c.aff.add(rec[col["share_affected"]], rec[col["agents"]])} {
			if e != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, i+2, e)
			}
		}
	}
	out := &Study3Data{NoCI: true}
	for _, cond := range conds {
		var c Study3Comparison
		if len(conds) > 1 {
			c.Label = cond + " vs control"
		}
		for g, gname := range summaryGroups {
			for _, f := range []struct {
				dst      *[]Series
				tr, ctrl func(*cell) pooled
			}{{&c.Willingness, func(c *cell) pooled { return c.w }, func(c *cell) pooled { return c.cw }},
				{&c.Unfairness, func(c *cell) pooled { return c.u }, func(c *cell) pooled { return c.cu }}} {
				var x, y, cx, cy []float64
				for t := 1; t <= rounds; t++ {
					cl := cells[key{cond, gname, t}]
					if cl == nil {
						continue
					}
					x, y = append(x, float64(t)), append(y, f.tr(cl).mean())
					cx, cy = append(cx, float64(t)+controlDodge), append(cy, f.ctrl(cl).mean())
				}
				if len(x) == 0 {
					continue
				}
				col := Palette[g%len(Palette)]
				*f.dst = append(*f.dst, Series{Name: exposureGroups[g] + ": " + cond, X: x, Y: y, Color: col, Marker: "circle"},
					Series{Name: exposureGroups[g] + ": control", X: cx, Y: cy, Color: col, Dashed: true, Marker: "open"})
			}
		}
		if len(conds) == 1 {
			out.Willingness, out.Unfairness = c.Willingness, c.Unfairness
		} else {
			out.Comparisons = append(out.Comparisons, c)
		}
		var x, y []float64
		for t := 1; t <= rounds; t++ {
			if cl := cells[key{cond, "all", t}]; cl != nil {
				x, y = append(x, float64(t)), append(y, cl.aff.mean())
			}
		}
		out.Contagion = append(out.Contagion, Series{Name: cond, X: x, Y: y})
	}
	if err := addPlacebo(out, filepath.Dir(path), false); err != nil {
		return nil, err
	}
	out.Notes = append(out.Notes, "This run used network.store: summary: it kept per-round aggregates by exposure group (results/rounds_summary.csv), not a row per agent. The trajectories are means pooled over replicates without confidence intervals; the network drawing and the mediation analysis need per-agent rows and are not drawn (run with store: full for them).")
	return out, nil
}

// summaryStore reports whether r kept per-round aggregates only (network.store: summary).
func summaryStore(r *Run) bool {
	return r.Exp.Network != nil && r.Exp.Network.Store == "summary"
}

// summaryValidity is the validity the engine counted in memory, from network_summary.txt.
func summaryValidity(r *Run) string {
	b, err := os.ReadFile(filepath.Join(r.Dir, "results", "network_summary.txt"))
	if err != nil {
		return "This run used network.store: summary and its network_summary.txt is missing, so validity is unknown."
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" {
			break
		}
		lines = append(lines, strings.TrimSpace(l))
	}
	return strings.Join(lines, " ")
}

const contagionFile = "network_contagion.csv"

// placeboSeries reads results/network_contagion.csv (written by the engine) and returns one
// grey dashed placebo curve per inequity condition (and backend): the contagion rule applied
// to the control's own ratings with the inequity run's exposures. Nil when the file is absent
// (runs written before it existed).
func placeboSeries(resDir string, multiBackend bool) ([]Series, error) {
	path := filepath.Join(resDir, contagionFile)
	recs, err := readCSVFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, nil
	}
	byKey := map[string]*Series{}
	var order []string
	for i, rec := range recs[1:] {
		if len(rec) < 6 || rec[5] == "" {
			continue
		}
		t, err1 := strconv.Atoi(rec[3])
		v, err2 := strconv.ParseFloat(rec[5], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s:%d: bad round or placebo", path, i+2)
		}
		name := "placebo: " + rec[1]
		if multiBackend {
			name = "placebo: " + rec[0] + " " + rec[1]
		}
		s := byKey[name]
		if s == nil {
			s = &Series{Name: name, Color: "#555555", Dashed: true, Marker: "open"}
			byKey[name] = s
			order = append(order, name)
		}
		s.X, s.Y = append(s.X, float64(t)), append(s.Y, v)
	}
	var out []Series
	for _, n := range order {
		out = append(out, *byKey[n])
	}
	return out, nil
}

// placeboNote explains the placebo curves of the contagion chart.
const placeboNote = "Contagion curve: the grey dashed placebo applies the affected rule to the control run's own ratings with the inequity run's exposures; it is what noise and the exposure structure alone give, so the effect of the inequity is the gap between a condition's curve and its placebo."

// addPlacebo adds the placebo curves of a run's results directory to d.
func addPlacebo(d *Study3Data, resDir string, multiBackend bool) error {
	pl, err := placeboSeries(resDir, multiBackend)
	if err != nil {
		return err
	}
	if len(pl) > 0 {
		d.Contagion = append(d.Contagion, pl...)
		d.Notes = append(d.Notes, placeboNote)
	}
	return nil
}

// readCSVFile reads a whole CSV file; errors other than a missing file name the file.
func readCSVFile(path string) ([][]string, error) {
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
