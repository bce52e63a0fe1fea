package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/usd"
)

// About is what a study says of itself in the report's design table.
type About struct {
	// Title names the study, e.g. "Study 1, everyday scenarios under policy frames (vignettes)".
	Title string
	// Rows are the study's own settings, shown after the seed.
	Rows [][2]string
	// Unrecorded, when set, says how decisions were kept when they were not journaled one by
	// one (Study 3's summary store), and what validity the study counted itself.
	Unrecorded *Unrecorded
}

// Unrecorded describes a run whose decisions were aggregated, not recorded.
type Unrecorded struct {
	Population string // appended to the population row
	Recorded   string // the "Decisions recorded" row
	Validity   string // the validity statement, in place of the validity table
}

// RunInput is one run for the common sections.
type RunInput struct {
	Run   *Run
	About About
	// Folder names the run's folder on the page: its name, never its path (a page moves
	// with its runs).
	Folder string
}

//go:embed common.html.tmpl
var commonSrc string

var commonTmpl = template.Must(template.New("common").Funcs(Funcs).Parse(commonSrc))

type designData struct {
	Rows [][2]string
	Runs [][]string
}

type validityData struct {
	Heading  string
	Note     string
	Validity [][]string
	Reasons  [][]string
	Usage    [][]string
	Versions [][]string
	// VersionWarnings say when the run mixes model versions (VersionWarnings).
	VersionWarnings []string
}

// Common are the sections every report has: the design of each run, then validity and cost.
func Common(in []RunInput) []Section {
	multi := len(in) > 1
	var out []Section
	for i, x := range in {
		id, title := "design", "Design"
		if multi {
			id = fmt.Sprintf("design-%d", i+1)
			title = "Design: " + runLabel(x)
		}
		d := design(x)
		out = append(out, Section{ID: id, Title: title, Render: func(fig *Figures) (template.HTML, error) {
			return execNamed(commonTmpl, "design", d)
		}})
	}
	var vs []validityData
	for _, x := range in {
		vs = append(vs, validity(x, multi))
	}
	out = append(out, Section{ID: "validity", Title: "Validity and cost", Render: func(fig *Figures) (template.HTML, error) {
		return execNamed(commonTmpl, "validity", vs)
	}})
	return out
}

func execNamed(t *template.Template, name string, data any) (template.HTML, error) {
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}

// runLabel tells the runs of a comparison apart: experiment and folder.
func runLabel(x RunInput) string { return fmt.Sprintf("%s (%s)", x.Run.Exp.Name, x.Folder) }

func design(x RunInput) designData {
	r, e := x.Run, x.Run.Exp
	var rows [][2]string
	add := func(k, v string) { rows = append(rows, [2]string{k, v}) }
	add("Experiment", e.Name)
	if e.Description != "" {
		add("Description", e.Description)
	}
	add("Study", orDefault(x.About.Title, e.Study))
	pop := e.Population.Source
	if e.Population.N > 0 {
		pop += fmt.Sprintf(", n = %d", e.Population.N)
	}
	if u := x.About.Unrecorded; u != nil {
		pop += "; " + u.Population
	} else {
		pop += "; " + plural.Count(agents(r), "agent") + " with recorded decisions"
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
			// The field is the study's (Study 3's *network.Inequity): it names itself.
			s += ", inequity "
			if l, ok := c.Inequity.(interface{ Label() string }); ok {
				s += l.Label()
			}
		}
		conds = append(conds, s+")")
	}
	add("Conditions", strings.Join(conds, "; "))
	var bs []string
	for _, b := range backendsOf(r) {
		models := modelsOf(r, b)
		s := DescribeBackend(b)
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
	rows = append(rows, x.About.Rows...)
	if u := x.About.Unrecorded; u != nil {
		add("Decisions recorded", u.Recorded)
	} else {
		add("Decisions recorded", fmt.Sprint(r.tally().Decisions))
	}
	d := designData{Rows: rows}
	for _, x := range r.Runs {
		d.Runs = append(d.Runs, []string{x.ID, x.Backend, x.Condition, x.Policy, fmt.Sprint(x.Replicate), fmt.Sprint(x.Seed)})
	}
	return d
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func agents(r *Run) int { return len(r.tally().agents) }

func modelsOf(r *Run, backend string) []string { return r.tally().models[backend] }

// UnknownCost says why a backend's cost is unknown: the models its replies named that have no
// price and, when that is not the configured model (a gateway may answer with another), the
// configured one (QA12: "no price for this model" although the experiment's model had one).
// configured may be "" when unknown.
func UnknownCost(configured string, unpriced []string) string {
	if len(unpriced) == 0 {
		return "unknown (no price for this model)"
	}
	names := make([]string, len(unpriced))
	for i, m := range unpriced {
		names[i] = strconv.Quote(m)
	}
	s := "unknown (no price for model " + strings.Join(names, ", ")
	if configured != "" && !slices.Equal(unpriced, []string{configured}) {
		s += ", which the replies named; the configured model is " + strconv.Quote(configured)
	}
	return s + ")"
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func validity(x RunInput, multi bool) validityData {
	r := x.Run
	var v validityData
	if multi {
		v.Heading = runLabel(x)
	}
	if u := x.About.Unrecorded; u != nil {
		v.Note = u.Validity
		return v
	}
	for _, row := range ValidityRows(r) {
		v.Validity = append(v.Validity, []string{DescribeBackend(row.Backend), row.Condition, fmt.Sprint(row.Valid), fmt.Sprint(row.Invalid), row.Rate()})
	}
	for _, t := range topReasons(r, 5) {
		v.Reasons = append(v.Reasons, []string{fmt.Sprint(t.N), t.Reason})
	}
	vs := ModelVersions(r)
	for _, c := range vs {
		v.Versions = append(v.Versions, []string{DescribeBackend(c.Backend), versionLabel(c.Version), fmt.Sprint(c.Fresh), fmt.Sprint(c.Cached)})
	}
	v.VersionWarnings = VersionWarnings(vs)
	for _, u := range UsageOf(r) {
		if Behavioural(u.Backend) {
			v.Usage = append(v.Usage, []string{DescribeBackend(u.Backend), fmt.Sprint(u.Decisions), "0 (no provider)", "-", "-", "-", "none", fmt.Sprintf("%.2f", u.MeanLatencyMS)})
			continue
		}
		cost := usd.String(u.CostUSD)
		if math.IsNaN(u.CostUSD) {
			cost = UnknownCost("", u.Unpriced)
		}
		calls := fmt.Sprint(u.Calls)
		if u.FailedCalls > 0 || u.UnusableCalls > 0 || u.NoUsageCalls > 0 {
			calls += " (" + failedUnusable(u.FailedCalls, u.UnusableCalls, u.NoUsageCalls) + ")"
		}
		v.Usage = append(v.Usage, []string{u.Backend, fmt.Sprint(u.Decisions), calls, fmt.Sprint(u.Cached), fmt.Sprint(u.InputTokens), fmt.Sprint(u.OutputTokens), cost, fmt.Sprintf("%.2f", u.MeanLatencyMS)})
	}
	return v
}

// failedUnusable says how many calls failed, how many came back with HTTP 200 unusable and
// how many had a reply that said no token usage (any may be 0, not all), for a calls column:
// "2 failed", "1 unusable (cut, malformed, or timed out after sending)", "2 failed, 1 unusable
// (...)", "3 without token usage, at their worst case" (why a decision of 0 tokens has a cost).
func failedUnusable(failed, unusable, noUsage int) string {
	var parts []string
	if failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", failed))
	}
	if unusable > 0 {
		parts = append(parts, fmt.Sprintf("%d unusable (cut, malformed, or timed out after sending)", unusable))
	}
	if noUsage > 0 {
		parts = append(parts, fmt.Sprintf("%d without token usage, at their worst case", noUsage))
	}
	return strings.Join(parts, ", ")
}
