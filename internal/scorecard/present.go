package scorecard

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/termtable"
)

// Table is results/scorecard.csv of rows.
func Table(rows []Row) *table.Table {
	return &table.Table{Schema: Schema, Rows: func(emit func([]any) error) error {
		for _, r := range rows {
			if err := emit(r.Values()); err != nil {
				return err
			}
		}
		return nil
	}}
}

// scoreGrid lays the rows out as measure x backend, for the summary and the report.
func grid(rows []Row, backends []string) (head []string, body [][]string) {
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

// Methods names the rows' interval methods, each with the measures it serves, in the order
// first met: "basic bootstrap of the squared distance over agents (1000 resamples) for
// dictator_js_distance, dictator_wasserstein; ...".
func Methods(rows []Row) string {
	var ms []string
	of := map[string][]string{}
	for _, r := range rows {
		if r.Method == "" {
			continue
		}
		if _, ok := of[r.Method]; !ok {
			ms = append(ms, r.Method)
		}
		if !slices.Contains(of[r.Method], r.Measure) {
			of[r.Method] = append(of[r.Method], r.Measure)
		}
	}
	if len(ms) == 0 {
		return "none"
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m + " for " + strings.Join(of[m], ", ")
	}
	return strings.Join(parts, "; ")
}

// correctedNote says which rows' values are bias-corrected (BootstrapDistance's), by what they
// are: "distances", "RMSEs" (Study 2's, which its summary prints raw beside: the names tell
// the two apart) or both; "" when none is.
func correctedNote(rows []Row) string {
	var dist, rmse bool
	for _, r := range rows {
		if r.Method == BootMethod {
			rmse = rmse || r.Estimand == EstCurveRMSE
			dist = dist || r.Estimand != EstCurveRMSE
		}
	}
	what := "distances"
	switch {
	case !dist && !rmse:
		return ""
	case dist && rmse:
		what = "distances and RMSEs"
	case rmse:
		what = "RMSEs"
	}
	return what + " bias-corrected (the basic bootstrap's median)"
}

// Summary prints the rows as measure x backend, and note, when not empty, on a line under them.
func Summary(w io.Writer, rows []Row, backends []string, note string) error {
	if len(rows) == 0 {
		return nil
	}
	corr := correctedNote(rows)
	if corr != "" {
		corr += "; "
	}
	fmt.Fprintf(w, "\nHuman-likeness scorecard (control condition; %s95%% CI: %s; reference %s)\n", corr, Methods(rows), rows[0].Reference)
	head, body := grid(rows, backends)
	if err := termtable.Write(w, 1, append([][]string{head}, body...)); err != nil { // key: measure; split by backends
		return err
	}
	if note != "" {
		return termtable.WriteText(w, note)
	}
	return nil
}

// noneNote begins the note of a scorecard whose every game was left out.
const noneNote = "No human-likeness scorecard."

var scoreTmpl = template.Must(template.New("scorecard").Funcs(report.Funcs).Parse(`<p>{{.Intro}} Reference: {{.Source}}; control condition {{.Control}}. {{.Corrected}}Intervals (95%): {{.Methods}}. "fitted to it": the behavioural model (builtin) was calibrated to this human figure, so its value is in-sample, not a validation.</p>
<table><thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Body}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>`))

// Section renders the rows as a table of measure x backend; intro says what the measures are.
func Section(rows []Row, backends []string, control, intro string) func(fig *report.Figures) (template.HTML, error) {
	return func(fig *report.Figures) (template.HTML, error) {
		head, body := grid(rows, backends)
		labels := make([]string, len(backends))
		for i, b := range backends {
			labels[i] = report.DescribeBackend(b)
		}
		copy(head[1:], labels)
		note := correctedNote(rows)
		if note != "" {
			note = strings.ToUpper(note[:1]) + note[1:] + ". "
		}
		return report.Exec(scoreTmpl, map[string]any{"Intro": intro, "Control": control, "Source": rows[0].Reference, "Methods": Methods(rows), "Corrected": note, "Head": head, "Body": body}, fig)
	}
}

// Attach adds a scorecard to a study's analysis: its table, its lines after the study's own
// summary, and its report section. note (what was left unscored, or "") ends both the summary's
// lines and the section's intro. With no rows there is no table; a note is then the summary's
// last line and the section's text, as every game was left out; without one nothing is added.
func Attach(a *study.Analysis, rows []Row, backends []string, control, intro, note string) {
	if len(rows) == 0 && note == "" {
		return
	}
	own := a.Summary
	a.Summary = func(w io.Writer) error {
		if own != nil {
			if err := own(w); err != nil {
				return err
			}
		}
		if len(rows) == 0 {
			if _, err := fmt.Fprintln(w); err != nil {
				return err
			}
			return termtable.WriteText(w, noneNote+" "+note)
		}
		return Summary(w, rows, backends, note)
	}
	if len(rows) == 0 {
		a.Sections = append(a.Sections, report.Section{ID: "scorecard", Title: "Human-likeness scorecard", Render: func(*report.Figures) (template.HTML, error) {
			return template.HTML("<p>" + template.HTMLEscapeString(noneNote+" "+note) + "</p>"), nil
		}})
		return
	}
	a.Tables = append(a.Tables, Table(rows))
	if note != "" {
		intro += " " + note
	}
	a.Sections = append(a.Sections, report.Section{ID: "scorecard", Title: "Human-likeness scorecard", Render: Section(rows, backends, control, intro)})
}
