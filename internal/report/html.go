package report

// The HTML report: one self-contained file (inline CSS and SVG, no scripts, nothing fetched)
// with the design, validity and cost, and the charts of each study. Every number is computed
// from the run directories given.

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
)

// ReportFile is the report's name in a run directory.
const ReportFile = "report.html"

// page accumulates the HTML document.
type page struct {
	b   strings.Builder
	toc []string // "id|title"
	fig int
}

func (p *page) h2(id, title string) {
	p.toc = append(p.toc, id+"|"+title)
	fmt.Fprintf(&p.b, "<h2 id=\"%s\">%s</h2>\n", id, esc(title))
}

func (p *page) para(format string, a ...any) {
	fmt.Fprintf(&p.b, "<p>%s</p>\n", fmt.Sprintf(format, a...))
}

// figure adds an SVG chart with a numbered caption.
func (p *page) figure(svg, caption string) {
	p.fig++
	fmt.Fprintf(&p.b, "<figure>%s<figcaption><b>Figure %d.</b> %s</figcaption></figure>\n", svg, p.fig, caption)
}

func (p *page) table(head []string, rows [][]string) {
	p.b.WriteString("<table><thead><tr>")
	for _, h := range head {
		fmt.Fprintf(&p.b, "<th>%s</th>", esc(h))
	}
	p.b.WriteString("</tr></thead><tbody>\n")
	for _, r := range rows {
		p.b.WriteString("<tr>")
		for _, c := range r {
			fmt.Fprintf(&p.b, "<td>%s</td>", esc(c))
		}
		p.b.WriteString("</tr>\n")
	}
	p.b.WriteString("</tbody></table>\n")
}

const css = `body{font-family:Georgia,"Times New Roman",serif;max-width:1040px;margin:2em auto;padding:0 1em;color:#111;line-height:1.45}
h1,h2,h3{font-family:Helvetica,Arial,sans-serif}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-family:Helvetica,Arial,sans-serif;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f2f2f2}
figure{margin:1.2em 0}figcaption{font-size:13px;color:#333;max-width:720px}svg.chart{max-width:100%;height:auto;display:block}
.note{font-size:13px;color:#555}nav ul{columns:2}code{font-size:90%}`

func byStudy(runs []*Run, study string) []*Run {
	var out []*Run
	for _, r := range runs {
		if r.Exp.Study == study {
			out = append(out, r)
		}
	}
	return out
}

func runLabel(r *Run, withDir bool) string {
	if withDir {
		return fmt.Sprintf("%s (%s)", r.Exp.Name, filepath.Base(r.Dir))
	}
	return r.Exp.Name
}

var studyNames = map[string]string{
	experiment.StudyVignettes: "Study 1, everyday scenarios under policy frames (vignettes)",
	experiment.StudyTPP:       "Study 2, third-party punishment (tpp)",
	experiment.StudyNetwork:   "Study 3, policy-induced inequity on a network (network)",
	experiment.StudyGames:     "Economic games: dictator, ultimatum, trust, public goods (games)",
}

func agentsOf(r *Run) []int {
	seen := map[int]bool{}
	var out []int
	for _, d := range r.Decisions {
		if !seen[d.AgentID] {
			seen[d.AgentID] = true
			out = append(out, d.AgentID)
		}
	}
	sort.Ints(out)
	return out
}

func design(p *page, r *Run) {
	e := r.Exp
	var rows [][]string
	add := func(k, v string) { rows = append(rows, []string{k, v}) }
	add("Experiment", e.Name)
	if e.Description != "" {
		add("Description", e.Description)
	}
	add("Study", studyNames[e.Study])
	pop := e.Population.Source
	if e.Population.N > 0 {
		pop += fmt.Sprintf(", n = %d", e.Population.N)
	}
	if summaryStore(r) {
		pop += "; decisions aggregated in memory (network.store: summary), not recorded per agent"
	} else {
		pop += fmt.Sprintf("; %d agents with recorded decisions", len(agentsOf(r)))
	}
	if e.Population.Currency != "" {
		pop += "; currency " + e.Population.Currency
	}
	add("Population", pop)
	if len(e.Scenarios) > 0 {
		add("Scenarios", strings.Join(e.Scenarios, ", "))
	}
	var conds []string
	for _, c := range e.Conditions {
		s := c.Name + " (policy " + c.Policy
		if c.Inequity != nil {
			s += ", inequity " + c.Inequity.Preset
		}
		conds = append(conds, s+")")
	}
	add("Conditions", strings.Join(conds, "; "))
	var bs []string
	for _, b := range backendsOf(r) {
		models := modelsOf(r, b)
		s := describeBackend(b)
		if len(models) > 0 && b != "builtin" {
			s += " [model " + strings.Join(models, ", ") + "]"
		}
		bs = append(bs, s)
	}
	add("Backends", strings.Join(bs, "; "))
	add("Replicates", fmt.Sprint(e.Replicates))
	if e.Seed != nil {
		add("Seed", fmt.Sprint(*e.Seed))
	}
	if e.Study == experiment.StudyVignettes && e.Prompt.Mode != "" {
		add("Prompt mode", e.Prompt.Mode)
	}
	if e.TPP != nil {
		add("TPP", fmt.Sprintf("variant %s, history %v", orDefault(e.TPP.Variant, "binary"), e.TPP.History))
	}
	if nw := e.Network; nw != nil {
		add("Network", fmt.Sprintf("%s graph (n %d, k %d, p %g, m %d%s), %d rounds, scenario %s, observation %s, contagion rule %s",
			nw.Graph.Type, nw.Graph.N, nw.Graph.K, nw.Graph.P, nw.Graph.M, ifNonEmpty(", file ", nw.Graph.File), nw.Rounds, nw.Scenario, nw.Observation, nw.Contagion.Rule))
	}
	if summaryStore(r) {
		add("Decisions recorded", "none per decision (network.store: summary): aggregates in results/"+roundsSummaryFile)
	} else {
		add("Decisions recorded", fmt.Sprint(len(r.Decisions)))
	}
	p.table([]string{"", ""}, rows)
	fmt.Fprintf(&p.b, "<details><summary>Runs of the design (%d): backend x condition x replicate, with derived seeds</summary>\n", len(r.Runs))
	var rr [][]string
	for _, x := range r.Runs {
		rr = append(rr, []string{x.ID, x.Backend, x.Condition, x.Policy, fmt.Sprint(x.Replicate), fmt.Sprint(x.Seed)})
	}
	p.table([]string{"run", "backend", "condition", "policy", "replicate", "seed"}, rr)
	p.b.WriteString("</details>\n")
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func ifNonEmpty(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

func modelsOf(r *Run, backend string) []string {
	runOf := runIndex(r)
	var out []string
	for _, d := range r.Decisions {
		if runOf[d.RunID].Backend == backend && d.Reply.Model != "" && !slices.Contains(out, d.Reply.Model) {
			out = append(out, d.Reply.Model)
		}
	}
	return out
}

func runIndex(r *Run) map[string]store.Run {
	m := map[string]store.Run{}
	for _, x := range r.Runs {
		m[x.ID] = x
	}
	return m
}

// ValidityRow is the valid and invalid decision counts of one backend x condition.
type ValidityRow struct {
	Backend, Condition string
	Valid, Invalid     int
}

// ValidityRows counts valid and invalid decisions per backend x condition, in design order.
func ValidityRows(r *Run) []ValidityRow {
	runOf := runIndex(r)
	type key struct{ b, c string }
	cnt := map[key]*ValidityRow{}
	for _, d := range r.Decisions {
		k := key{runOf[d.RunID].Backend, runOf[d.RunID].Condition}
		v := cnt[k]
		if v == nil {
			v = &ValidityRow{Backend: k.b, Condition: k.c}
			cnt[k] = v
		}
		if d.Reply.Valid() {
			v.Valid++
		} else {
			v.Invalid++
		}
	}
	var out []ValidityRow
	for _, b := range backendsOf(r) {
		for _, c := range r.Exp.Conditions {
			if v := cnt[key{b, c.Name}]; v != nil {
				out = append(out, *v)
			} else {
				out = append(out, ValidityRow{Backend: b, Condition: c.Name})
			}
		}
	}
	return out
}

// Usage is the provider use of one backend in a run, from the recorded decisions.
type Usage struct {
	Backend                   string
	Decisions, Calls, Cached  int
	InputTokens, OutputTokens int
	CostUSD                   float64 // NaN when a price is unknown for decisions that made calls
	MeanLatencyMS             float64
}

// UsageOf sums calls, tokens, cost and latency per backend.
func UsageOf(r *Run) []Usage {
	runOf := runIndex(r)
	m := map[string]*Usage{}
	lat := map[string]float64{}
	for _, d := range r.Decisions {
		b := runOf[d.RunID].Backend
		u := m[b]
		if u == nil {
			u = &Usage{Backend: b}
			m[b] = u
		}
		u.Decisions++
		u.Calls += d.Reply.Calls
		if d.Reply.Cached {
			u.Cached++
		}
		u.InputTokens += d.Reply.InputTokens
		u.OutputTokens += d.Reply.OutputTokens
		if math.IsNaN(d.Reply.CostUSD) {
			if d.Reply.Calls > 0 {
				u.CostUSD = math.NaN()
			}
		} else {
			u.CostUSD += d.Reply.CostUSD
		}
		lat[b] += float64(d.Reply.Latency.Microseconds()) / 1000
	}
	var out []Usage
	for _, b := range backendsOf(r) {
		if u := m[b]; u != nil {
			u.MeanLatencyMS = lat[b] / float64(u.Decisions)
			out = append(out, *u)
		}
	}
	return out
}

func validityCost(p *page, r *Run, multi bool) {
	if multi {
		fmt.Fprintf(&p.b, "<h3>%s</h3>\n", esc(runLabel(r, true)))
	}
	if summaryStore(r) {
		p.para("%s", esc(summaryValidity(r)))
		return
	}
	var rows [][]string
	for _, v := range ValidityRows(r) {
		rate := "-"
		if n := v.Valid + v.Invalid; n > 0 {
			rate = fmt.Sprintf("%.1f%%", 100*float64(v.Valid)/float64(n))
		}
		rows = append(rows, []string{describeBackend(v.Backend), v.Condition, fmt.Sprint(v.Valid), fmt.Sprint(v.Invalid), rate})
	}
	p.table([]string{"backend", "condition", "valid", "invalid", "valid rate"}, rows)
	reasons := map[string]int{}
	for _, d := range r.Decisions {
		if !d.Reply.Valid() {
			reasons[d.Reply.Invalid]++
		}
	}
	if len(reasons) > 0 {
		var top [][]string
		for k, v := range reasons {
			top = append(top, []string{fmt.Sprint(v), k})
		}
		sort.Slice(top, func(i, j int) bool {
			a, b := reasons[top[i][1]], reasons[top[j][1]]
			return a > b || a == b && top[i][1] < top[j][1]
		})
		if len(top) > 5 {
			top = top[:5]
		}
		p.para("Most common reasons a reply was recorded invalid (invalid decisions are left out of every mean and rate):")
		p.table([]string{"decisions", "reason"}, top)
	}
	rows = nil
	for _, u := range UsageOf(r) {
		if u.Backend == "builtin" {
			rows = append(rows, []string{describeBackend(u.Backend), fmt.Sprint(u.Decisions), "0 (no provider)", "-", "-", "-", "none", fmt.Sprintf("%.2f", u.MeanLatencyMS)})
			continue
		}
		cost := fmt.Sprintf("%.4f", u.CostUSD)
		if math.IsNaN(u.CostUSD) {
			cost = "unknown (no price for this model)"
		}
		rows = append(rows, []string{u.Backend, fmt.Sprint(u.Decisions), fmt.Sprint(u.Calls), fmt.Sprint(u.Cached), fmt.Sprint(u.InputTokens), fmt.Sprint(u.OutputTokens), cost, fmt.Sprintf("%.2f", u.MeanLatencyMS)})
	}
	p.table([]string{"backend", "decisions", "provider calls", "from cache", "input tokens", "output tokens", "cost (USD)", "mean latency (ms)"}, rows)
}

// seriesLabel names one backend (and condition, and run) in a comparison.
func seriesLabel(r *Run, backend, condition string, multiRun, multiCond bool) string {
	s := backend
	if backend == "builtin" {
		s = "builtin (behavioural model)"
	}
	if multiCond {
		s += ", " + condition
	}
	if multiRun {
		s += " [" + r.Exp.Name + "]"
	}
	return s
}

// rateCI is a pooled punishment rate with its Wilson 95% CI.
func rateCI(k, n int) (rate, lo, hi float64) {
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	lo, hi = analysis.ProportionCI(k, n, 0.95)
	return float64(k) / float64(n), lo, hi
}

// roundsSummaryFile is the aggregate of a network.store: summary run (Study 3).
const roundsSummaryFile = "rounds_summary.csv"

// summaryStore reports whether r kept per-round aggregates only (network.store: summary).
func summaryStore(r *Run) bool {
	return r.Exp.Network != nil && r.Exp.Network.Store == "summary"
}

// summaryValidity is the validity the study counted in memory, from the first paragraph of
// its results/network_summary.txt.
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
