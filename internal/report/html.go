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
	"github.com/prosim/prosim/internal/game"
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
	if rs := byStudy(runs, experiment.StudyTPP); len(rs) > 0 {
		p.h2("study2", "Study 2: third-party punishment")
		if err := study2(p, rs, multi); err != nil {
			return err
		}
	}
	if rs := byStudy(runs, experiment.StudyGames); len(rs) > 0 {
		p.h2("games", "Economic games")
		if err := studyGames(p, rs, multi); err != nil {
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

// tppGroup is the outcomes of one backend x condition of one run.
type tppGroup struct {
	label    string
	outcomes []game.TPPOutcome
	graded   map[int]map[int][]float64 // transfer -> agent -> points
}

func tppGroups(runs []*Run, multi bool) []tppGroup {
	var out []tppGroup
	for _, r := range runs {
		runOf := runIndex(r)
		multiCond := len(r.Exp.Conditions) > 1
		idx := map[string]int{}
		for _, d := range r.Decisions {
			run := runOf[d.RunID]
			lab := seriesLabel(r, run.Backend, run.Condition, multi, multiCond)
			i, ok := idx[lab]
			if !ok {
				i = len(out)
				idx[lab] = i
				out = append(out, tppGroup{label: lab, graded: map[int]map[int][]float64{}})
			}
			g := &out[i]
			if _, ok := d.Params["transfer"]; ok {
				if d.Reply.Valid() {
					t := int(d.Params["transfer"])
					if g.graded[t] == nil {
						g.graded[t] = map[int][]float64{}
					}
					g.graded[t][d.AgentID] = append(g.graded[t][d.AgentID], d.Reply.Values["points"])
				}
				continue
			}
			tr := game.Trial{Index: d.Trial, X: int(d.Params["x"]), Y: int(d.Params["y"])}
			var err error
			if !d.Reply.Valid() {
				err = errors.New(orDefault(d.Reply.Invalid, "invalid reply"))
			}
			// A replicate is a separate participant-session: agent ids are made unique per run.
			g.outcomes = append(g.outcomes, game.TPPOutcomeFrom(d.AgentID+1_000_000*run.Replicate+ordOf(r, d.RunID)*1_000_000_000, tr, d.Reply.Values, err))
		}
	}
	return out
}

func ordOf(r *Run, id string) int {
	for _, x := range r.Runs {
		if x.ID == id {
			return x.Ord
		}
	}
	return 0
}

// rateCI is a pooled punishment rate with its Wilson 95% CI.
func rateCI(k, n int) (rate, lo, hi float64) {
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	lo, hi = analysis.ProportionCI(k, n, 0.95)
	return float64(k) / float64(n), lo, hi
}

func study2(p *page, runs []*Run, multi bool) error {
	groups := tppGroups(runs, multi)
	binary := slices.ContainsFunc(groups, func(g tppGroup) bool { return len(g.outcomes) > 0 })
	graded := slices.ContainsFunc(groups, func(g tppGroup) bool { return len(g.graded) > 0 })
	if binary {
		tppBinary(p, groups)
		tppLogitTable(p, runs, multi)
	}
	if graded {
		tppGraded(p, groups)
	}
	if !binary && !graded {
		p.para("No TPP decisions are recorded in this run.")
	}
	return nil
}

func tppBinary(p *page, groups []tppGroup) {
	p.para("Player 1 splits $30 and gives Player 2 a share x; the agent, a third party endowed with $10, accepts or pays y to set Player 1's earnings to 0. Rates are the share of valid trials in which the agent punished. Human reference: %s.", esc(game.HumanTPP.Source))
	human := LegendEntry{}
	_ = human
	var byX, byY []Series
	var cmp [][]string
	var gm [][]string
	for gi, g := range groups {
		if len(g.outcomes) == 0 {
			continue
		}
		grid := game.TPPGrid(g.outcomes)
		hm := HeatMap{
			Title:  "Punishment rate by share and cost: " + g.label,
			XLabel: "Cost of punishing y ($)",
			YLabel: "Player 2's share x of $30 ($)",
			ZLabel: "Punishment rate (share of trials)",
			Z0:     0, Z1: 1,
		}
		for y := game.TPPMinY; y <= game.TPPMaxY; y++ {
			hm.XCats = append(hm.XCats, fmt.Sprint(y))
		}
		totalN := 0
		for x := game.TPPMinX; x <= game.TPPMaxX; x++ {
			lab := fmt.Sprint(x)
			if x == game.TPPMaxX {
				lab += " (fair)"
			}
			hm.YCats = append(hm.YCats, lab)
			row := make([]float64, 0, 10)
			for y := 0; y < 10; y++ {
				row = append(row, grid.Rate[x-game.TPPMinX][y])
				totalN += grid.N[x-game.TPPMinX][y]
			}
			hm.Z = append(hm.Z, row)
		}
		p.figure(hm.SVG(), fmt.Sprintf("Punishment rate in each (x, y) cell, %s; %d valid trials. Grey: no valid trial.", esc(g.label), totalN))

		col := Palette[gi%len(Palette)]
		sx := Series{Name: g.label, Color: col}
		for x := game.TPPMinX; x <= game.TPPMaxX; x++ {
			k, n := 0, 0
			for y := 0; y < 10; y++ {
				k += grid.Punish[x-game.TPPMinX][y]
				n += grid.N[x-game.TPPMinX][y]
			}
			r, lo, hi := rateCI(k, n)
			sx.X, sx.Y, sx.Lo, sx.Hi = append(sx.X, float64(game.TPPMaxX-x)), append(sx.Y, r), append(sx.Lo, lo), append(sx.Hi, hi)
		}
		byX = append(byX, sx)
		sy := Series{Name: g.label, Color: col}
		for y := game.TPPMinY; y <= game.TPPMaxY; y++ {
			k, n := 0, 0
			for x := game.TPPMinX; x < game.TPPMaxX; x++ {
				k += grid.Punish[x-game.TPPMinX][y]
				n += grid.N[x-game.TPPMinX][y]
			}
			r, lo, hi := rateCI(k, n)
			sy.X, sy.Y, sy.Lo, sy.Hi = append(sy.X, float64(y)), append(sy.Y, r), append(sy.Lo, lo), append(sy.Hi, hi)
		}
		byY = append(byY, sy)
		c := game.CompareHuman(grid)
		cmp = append(cmp, []string{g.label, f2(c.RMSEx), f2(c.RMSEy)})
		m := game.TPPGroupMeans(g.label, g.outcomes)
		gm = append(gm, []string{m.Group, f2(m.UnfairLow), f2(m.UnfairHigh), f2(m.FairLow), f2(m.FairHigh), fmt.Sprint(m.N)})
	}
	hx := Series{Name: "Humans (n = 1,017)", Color: HumanColor, Dashed: true, Marker: "open"}
	for x := game.TPPMinX; x < game.TPPMaxX; x++ {
		hx.X, hx.Y = append(hx.X, float64(game.TPPMaxX-x)), append(hx.Y, game.HumanTPP.RateByX[x])
	}
	hy := Series{Name: "Humans (n = 1,017)", Color: HumanColor, Dashed: true, Marker: "open"}
	for y := game.TPPMinY; y <= game.TPPMaxY; y++ {
		hy.X, hy.Y = append(hy.X, float64(y)), append(hy.Y, game.HumanTPP.RateByY[y])
	}
	pct := func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }
	p.figure(LineChart{
		Title:  "Punishment rises with inequity",
		XLabel: "Inequity 15 - x ($ below an equal split; 0 = fair control)",
		YLabel: "Punishment rate (% of trials)",
		X0:     0, X1: 5, Y0: 0, Y1: 1, XTicks: []float64{0, 1, 2, 3, 4, 5}, YFormat: pct,
		Series: append(byX, hx),
	}.SVG(), "Punishment rate by inequity, all costs pooled. Whiskers: Wilson 95% CI over trials. Dashed black: the human reference (no fair-control value published).")
	p.figure(LineChart{
		Title:  "Punishment falls with cost",
		XLabel: "Cost of punishing y ($ of the agent's $10)",
		YLabel: "Punishment rate (% of trials)",
		X0:     0, X1: 9, Y0: 0, Y1: 1, XTicks: []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, YFormat: pct,
		Series: append(byY, hy),
	}.SVG(), "Punishment rate by cost, unfair offers (x &lt; 15) pooled, as in the human reference. Whiskers: Wilson 95% CI over trials. Dashed black: humans.")
	p.para("Distance from the human reference: root mean squared difference of punishment rates over x = 10..14 (costs pooled) and over y = 0..9 (unfair offers pooled).")
	p.table([]string{"series", "RMSE by x", "RMSE by y"}, cmp)
	p.para("Participant-level mean punishment rates (each agent-replicate's rate in the cell, averaged), next to the published groups:")
	for _, h := range game.HumanTPP.Groups {
		gm = append(gm, []string{"reference: " + h.Group, f2(h.UnfairLow), f2(h.UnfairHigh), f2(h.FairLow), f2(h.FairHigh), fmt.Sprint(h.N)})
	}
	p.table([]string{"group", "unfair, low cost", "unfair, high cost", "fair, low cost", "fair, high cost", "participants"}, gm)
}

// tppLogitTable reports the summary's logistic regression, punish ~ inequity + cost.
func tppLogitTable(p *page, runs []*Run, multi bool) {
	var rows [][]string
	var notes []string
	for _, r := range runs {
		for _, g := range TPPGroups(r) {
			lab := seriesLabel(r, g.Backend, g.Condition, multi, len(r.Exp.Conditions) > 1)
			if g.Logit == nil {
				if g.FitErr != nil {
					notes = append(notes, fmt.Sprintf("%s: not fitted (%v)", lab, g.FitErr))
				}
				continue
			}
			l := g.Logit
			for i, name := range l.Names {
				rows = append(rows, []string{lab, name, fmt.Sprintf("%.3f", l.Coef[i]), fmt.Sprintf("%.3f", l.SE[i]), fmt.Sprintf("%.2f", l.Z[i]), pval(l.P[i]),
					fmt.Sprintf("[%.3f, %.3f]", l.CILow[i], l.CIHigh[i]), fmt.Sprintf("%d / %d", l.N, l.NClusters)})
			}
		}
	}
	if len(rows) == 0 && len(notes) == 0 {
		return
	}
	p.para("Logistic regression of the choice to punish on inequity (15 - x, $) and cost (y, $), with standard errors clustered by agent. Humans punish more as inequity rises (positive inequity coefficient) and less as cost rises (negative cost coefficient).")
	if len(rows) > 0 {
		p.table([]string{"series", "term", "coefficient (log-odds per $)", "SE", "z", "p", "95% CI", "trials / agents"}, rows)
	}
	for _, n := range notes {
		p.para("Logistic regression, %s", esc(n))
	}
}

func tppGraded(p *page, groups []tppGroup) {
	var ss []Series
	for gi, g := range groups {
		if len(g.graded) == 0 {
			continue
		}
		s := Series{Name: g.label, Color: Palette[gi%len(Palette)]}
		for _, t := range game.GradedTransfers {
			var means []float64
			var agents []int
			for a := range g.graded[t] {
				agents = append(agents, a)
			}
			sort.Ints(agents)
			for _, a := range agents {
				means = append(means, mean(g.graded[t][a]))
			}
			m, lo, hi := math.NaN(), math.NaN(), math.NaN()
			if len(means) > 0 {
				m = mean(means)
				lo, hi = analysis.MeanCI(means, 0.95)
			}
			s.X, s.Y, s.Lo, s.Hi = append(s.X, float64(t)), append(s.Y, m), append(s.Lo, lo), append(s.Hi, hi)
		}
		ss = append(ss, s)
	}
	h := Series{Name: "Humans (Fehr & Fischbacher 2004)", Color: HumanColor, Dashed: true, Marker: "open"}
	for _, t := range game.GradedTransfers {
		h.X, h.Y = append(h.X, float64(t)), append(h.Y, game.HumanGradedPoints(t))
	}
	p.figure(LineChart{
		Title:  "Graded punishment by the dictator's transfer",
		XLabel: "Transfer to the recipient (MU of 100)",
		YLabel: "Mean punishment points (MU, 0-50)",
		X0:     0, X1: 50, Y0: 0, Y1: 50, XTicks: []float64{0, 10, 20, 30, 40, 50},
		Series: append(ss, h),
	}.SVG(), "Mean punishment points by transfer (each point costs the third party 1 MU and removes 3 MU from the dictator). Whiskers: 95% t CI over agents. Dashed black: human reference, 0.28 x (50 - transfer). Source: "+esc(game.HumanGraded.Source)+".")
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
