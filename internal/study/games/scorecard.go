package games

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/scorecard"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/table"
)

// scorecardRows compares each backend's dictator gifts in the control condition (the first:
// the human figures were measured without a policy frame) with the human distribution. The
// unit of the bootstrap is the agent: its replicates stay together.
func (s *gamesStudy) scorecardRows(r *results) ([]scorecard.Row, error) {
	ref, err := scorecard.HumanDictator()
	if err != nil {
		return nil, err
	}
	h := game.HumanDictator
	control := s.env.Exp.Conditions[0].Name
	var out []scorecard.Row
	for _, b := range s.env.Backends {
		for _, in := range r.inst {
			if in.Game != "dictator" {
				continue
			}
			by := map[int][]float64{} // agent -> gift shares
			for _, g := range r.ms {
				if g.cell.Backend != b || g.cell.Condition != control || g.in.Name != in.Name {
					continue
				}
				for _, rw := range g.m.rows() {
					if rw.role == "dictator" && rw.valid {
						by[rw.agent] = append(by[rw.agent], rw.choice/in.Endowment)
					}
				}
			}
			agents := make([]int, 0, len(by))
			for a := range by {
				agents = append(agents, a)
			}
			sort.Ints(agents)
			// dist is the decile distribution of the gifts of the agents idx; nothing, half
			// the shares giving nothing and exactly half.
			stats := func(idx []int) (dist []float64, nothing, half float64) {
				dist = make([]float64, len(ref.Share))
				var n float64
				for _, i := range idx {
					for _, v := range by[agents[i]] {
						dist[int(math.Round(10*v))]++
						n++
						if v == 0 {
							nothing++
						}
						if v == 0.5 {
							half++
						}
					}
				}
				return dist, nothing / n, half / n
			}
			all := make([]int, len(agents))
			for i := range all {
				all[i] = i
			}
			measures := []struct {
				name   string
				f      func(idx []int) float64
				human  float64
				fitted bool
			}{
				{"dictator_js_distance", func(idx []int) float64 {
					d, _, _ := stats(idx)
					v, err := scorecard.JSDistance(d, ref.Proportion)
					if err != nil {
						return math.NaN()
					}
					return v
				}, math.NaN(), true},
				{"dictator_wasserstein", func(idx []int) float64 {
					d, _, _ := stats(idx)
					v, err := scorecard.Wasserstein(d, ref.Proportion, ref.Share)
					if err != nil {
						return math.NaN()
					}
					return v
				}, math.NaN(), true},
				{"dictator_give_nothing", func(idx []int) float64 { _, z, _ := stats(idx); return z }, h.GiveNothing, false},
				{"dictator_give_half", func(idx []int) float64 { _, _, x := stats(idx); return x }, h.GiveHalf, false},
			}
			prefix := ""
			if in.Name != "dictator" {
				prefix = in.Name + ":"
			}
			for _, m := range measures {
				row := scorecard.Row{Backend: b, Measure: prefix + m.name, Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN(),
					Human: m.human, Reference: ref.Source, Fitted: m.fitted}
				if len(agents) > 0 {
					row.Value = m.f(all)
					row.Lo, row.Hi = scorecard.Bootstrap(len(agents), seed.Derive(*s.env.Exp.Seed, "scorecard", b, in.Name, m.name), m.f)
				}
				out = append(out, row)
			}
		}
	}
	return out, nil
}

func scorecardTable(rows []scorecard.Row) *table.Table {
	return &table.Table{Schema: scorecard.Schema, Rows: func(emit func([]any) error) error {
		for _, r := range rows {
			if err := emit(r.Values()); err != nil {
				return err
			}
		}
		return nil
	}}
}

// scoreGrid lays the rows out as measure x backend, for the summary and the report.
func scoreGrid(rows []scorecard.Row, backends []string) (head []string, body [][]string) {
	head = append([]string{"measure"}, backends...)
	head = append(head, "human", "fitted to it")
	idx := map[string]int{}
	for _, r := range rows {
		i, ok := idx[r.Measure]
		if !ok {
			i = len(body)
			idx[r.Measure] = i
			line := make([]string, len(head))
			line[0] = r.Measure
			line[len(head)-2] = "-"
			if !math.IsNaN(r.Human) {
				line[len(head)-2] = fmt.Sprintf("%.3f", r.Human)
			}
			line[len(head)-1] = "no"
			if r.Fitted {
				line[len(head)-1] = "yes (in-sample for builtin)"
			}
			body = append(body, line)
		}
		for j, b := range backends {
			if b == r.Backend {
				body[i][1+j] = fmt.Sprintf("%s [%s, %s]", f3(r.Value), f3(r.Lo), f3(r.Hi))
			}
		}
	}
	return head, body
}

func f3(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}

func scorecardSummary(w io.Writer, rows []scorecard.Row, backends []string) error {
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nHuman-likeness scorecard (control condition; 95%% bootstrap CI over agents, %d resamples; reference %s)\n", scorecard.Reps, rows[0].Reference)
	head, body := scoreGrid(rows, backends)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, line := range append([][]string{head}, body...) {
		fmt.Fprintln(tw, strings.Join(line, "\t")+"\t")
	}
	return tw.Flush()
}

var scoreTmpl = template.Must(template.New("scorecard").Funcs(report.Funcs).Parse(`<p>Each backend's dictator gifts in the control condition ({{.Control}}) against the human distribution ({{.Source}}): Jensen-Shannon distance between the gift distributions by decile of the pie (0 = identical, 1 = disjoint; base-2 logarithms), Wasserstein distance (how far, in shares of the pie, the gifts must move to match the human ones), and the shares of dictators giving nothing and exactly half. Intervals: 95% percentile bootstrap over agents ({{.Reps}} resamples). "fitted to it": the behavioural model (builtin) was calibrated to this human figure, so its value is in-sample, not a validation.</p>
<table><thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Body}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>`))

func scorecardSection(rows []scorecard.Row, backends []string, control string) func(fig *report.Figures) (template.HTML, error) {
	return func(fig *report.Figures) (template.HTML, error) {
		head, body := scoreGrid(rows, backends)
		labels := make([]string, len(backends))
		for i, b := range backends {
			labels[i] = report.DescribeBackend(b)
		}
		copy(head[1:], labels)
		return report.Exec(scoreTmpl, map[string]any{"Control": control, "Source": rows[0].Reference, "Reps": scorecard.Reps, "Head": head, "Body": body}, fig)
	}
}
