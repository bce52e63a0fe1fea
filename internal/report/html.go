package report

// The HTML report: one self-contained file (inline CSS and SVG, no scripts, nothing fetched)
// with the design, validity and cost, and the charts of each study. Every number is computed
// from the run directories given.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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

// WriteHTML writes dir/report.html for one run directory.
func WriteHTML(dir string) error {
	return WriteHTMLFile(filepath.Join(dir, ReportFile), dir)
}

// WriteHTMLFile writes a report of one or several run directories (compared side by side) to
// out. The file is written whole and renamed into place.
func WriteHTMLFile(out string, dirs ...string) error {
	if len(dirs) == 0 {
		return errors.New("report: no run directory given")
	}
	var runs []*Run
	for _, d := range dirs {
		r, err := Load(d)
		if err != nil {
			return err
		}
		runs = append(runs, r)
	}
	var buf bytes.Buffer
	if err := Render(&buf, runs); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// Study3Loader, when set, extracts the Study 3 (network) results of a run for the report. It
// returns nil data when the run has none. The default reads results/rounds.csv when present.
var Study3Loader func(r *Run) (*Study3Data, error) = loadStudy3

// Study3Data is what the report draws for one Study 3 run (or backend).
type Study3Data struct {
	Label string
	// Willingness and Unfairness are trajectories by exposure group (victim, exposed
	// neighbour, distance 2, unexposed): X is the round, Y the mean (1-7), Lo/Hi its CI.
	Willingness, Unfairness []Series
	// Comparisons, when several inequity conditions (or backends) are compared with their
	// controls, are drawn as one pair of trajectory charts each, after Willingness and
	// Unfairness.
	Comparisons []Study3Comparison
	// Contagion is the share of agents affected by round, one series per condition.
	Contagion []Series
	// Network is the graph (or a sample of it) coloured by final state; nil when absent.
	Network *NetworkChart
	// Mediation is exposure -> perceived unfairness -> willingness; nil when not estimated.
	Mediation *MediationDiagram
	Notes     []string
	// NoCI says the trajectories carry no confidence intervals (network.store: summary).
	NoCI bool
}

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

// Render writes the report of runs to w.
func Render(w io.Writer, runs []*Run) error {
	if len(runs) == 0 {
		return errors.New("report: no runs")
	}
	p := &page{}
	multi := len(runs) > 1
	for i, r := range runs {
		id := "design"
		title := "Design"
		if multi {
			id = fmt.Sprintf("design-%d", i+1)
			title = "Design: " + runLabel(r, true)
		}
		p.h2(id, title)
		design(p, r)
	}
	p.h2("validity", "Validity and cost")
	for _, r := range runs {
		validityCost(p, r, multi)
	}
	if rs := byStudy(runs, experiment.StudyNetwork); len(rs) > 0 {
		p.h2("study3", "Study 3: policy-induced inequity on a network")
		if err := study3(p, rs, multi); err != nil {
			return err
		}
	}

	var names []string
	for _, r := range runs {
		names = append(names, r.Exp.Name)
	}
	title := "prosim report: " + strings.Join(names, " vs ")
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>%s</title>\n<style>%s</style></head><body>\n", esc(title), css)
	fmt.Fprintf(w, "<h1>%s</h1>\n", esc(title))
	var dirs []string
	for _, r := range runs {
		dirs = append(dirs, r.Dir)
	}
	fmt.Fprintf(w, "<p class=\"note\">Run director%s: <code>%s</code>. Written by <code>prosim report</code> from the run database; every figure below is computed from it. Backend <code>builtin</code> is the embedded behavioural model, not an LLM.</p>\n",
		map[bool]string{true: "ies", false: "y"}[multi], esc(strings.Join(dirs, "</code>, <code>")))
	fmt.Fprintf(w, "<nav><ul>")
	for _, t := range p.toc {
		id, name, _ := strings.Cut(t, "|")
		fmt.Fprintf(w, "<li><a href=\"#%s\">%s</a></li>", id, esc(name))
	}
	fmt.Fprintf(w, "</ul></nav>\n")
	if _, err := io.WriteString(w, p.b.String()); err != nil {
		return err
	}
	_, err := io.WriteString(w, "</body></html>\n")
	return err
}

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

func study3(p *page, runs []*Run, multi bool) error {
	any := false
	for _, r := range runs {
		if Study3Loader == nil {
			break
		}
		d, err := Study3Loader(r)
		if err != nil {
			return fmt.Errorf("study 3 report of %s: %w", r.Dir, err)
		}
		if d == nil {
			continue
		}
		any = true
		if d.Label == "" && multi {
			d.Label = runLabel(r, true)
		}
		Study3Figures(p, d)
	}
	if !any {
		p.para("This run directory holds no Study 3 round results (results/rounds.csv) yet, so no trajectories are drawn.")
	}
	return nil
}

// Study3Figures draws one Study 3 data set: trajectories, contagion, network and mediation.
func Study3Figures(p *page, d *Study3Data) {
	suffix := ""
	if d.Label != "" {
		suffix = ": " + d.Label
		fmt.Fprintf(&p.b, "<h3>%s</h3>\n", esc(d.Label))
	}
	whiskers := " Whiskers: 95% CI."
	if d.NoCI {
		whiskers = " No CIs: the run kept aggregates only."
	}
	cmps := append([]Study3Comparison{{Willingness: d.Willingness, Unfairness: d.Unfairness}}, d.Comparisons...)
	for _, c := range cmps {
		sfx := suffix
		if c.Label != "" {
			sfx += ": " + c.Label
		}
		if len(c.Willingness) > 0 {
			p.figure(LineChart{Title: "Willingness by exposure group" + sfx, XLabel: "Round (day)", YLabel: "Mean willingness (1-7 scale)", Y0: 1, Y1: 7, XTicks: roundTicks(c.Willingness), Series: c.Willingness}.SVG(),
				"Mean willingness by round for victims, exposed neighbours, agents at distance 2 and unexposed agents."+whiskers)
		}
		if len(c.Unfairness) > 0 {
			p.figure(LineChart{Title: "Perceived unfairness by exposure group" + sfx, XLabel: "Round (day)", YLabel: "Mean perceived unfairness (1-7 scale)", Y0: 1, Y1: 7, XTicks: roundTicks(c.Unfairness), Series: c.Unfairness}.SVG(),
				"Mean perceived unfairness by round and exposure group."+whiskers)
		}
	}
	if len(d.Contagion) > 0 {
		p.figure(LineChart{Title: "Contagion curve" + suffix, XLabel: "Round (day)", YLabel: "Agents affected (% of population)", Y0: 0, Y1: 1, XTicks: roundTicks(d.Contagion),
			YFormat: func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }, Series: d.Contagion}.SVG(),
			"Share of agents in the affected state by round (exposed through a neighbour, willingness down and perceived unfairness up). Nobody is exposed in the control, so nobody there can be affected; an exposed agent whose ratings move that way by noise alone also counts, and then exposes its neighbours: read the curve with the trajectories against the control.")
	}
	if d.Network != nil {
		n := *d.Network
		if n.Title == "" {
			n.Title = "Network coloured by final state" + suffix
		}
		p.figure(n.SVG(), fmt.Sprintf("The network (%d agents, %d edges drawn), each agent coloured by its state after the last round.", n.N, len(n.Edges)))
	}
	if d.Mediation != nil {
		m := *d.Mediation
		if m.Title == "" {
			m.Title = "Mediation: exposure, perceived unfairness, willingness" + suffix
		}
		p.figure(m.SVG(), "Path estimates with cluster-robust standard errors; the indirect effect's interval is a percentile bootstrap resampling agents.")
	}
	for _, n := range d.Notes {
		p.para("%s", esc(n))
	}
}
