// Package robust says whether a study's conclusions survive its prompt-design factors: each
// conclusion (the sign and significance of an estimate pooled over every level) is
// re-estimated within each level of each factor, and holds when the level says the same.
// Study 2 (the inequity and cost slopes) and Study 3 (the effects on victims and at distance
// 1) write results/robustness.csv with this schema; Study 1's contrasts keep their own.
package robust

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/termtable"
)

// Estimate is one estimate with its significance: by its p-value when P is a number, else
// by whether its 95% interval [Lo, Hi] excludes 0. NaN Value: not estimable.
type Estimate struct {
	Value, Lo, Hi, P float64
}

// None is a missing estimate.
var None = Estimate{math.NaN(), math.NaN(), math.NaN(), math.NaN()}

// Conclusions an estimate can support.
const (
	Positive     = "positive"
	Negative     = "negative"
	NoEffect     = "not significant"
	NotEstimable = "not estimable"
)

// Conclusion is e's sign and significance at the 5% level.
func (e Estimate) Conclusion() string {
	if math.IsNaN(e.Value) {
		return NotEstimable
	}
	sig := false
	switch {
	case !math.IsNaN(e.P):
		sig = e.P < 0.05
	case !math.IsNaN(e.Lo) && !math.IsNaN(e.Hi):
		sig = e.Lo > 0 || e.Hi < 0
	}
	switch {
	case !sig:
		return NoEffect
	case e.Value > 0:
		return Positive
	}
	return Negative
}

// Claim is one conclusion of a study, pooled over every level of every factor.
type Claim struct {
	Backend, Condition string
	// Name says what is estimated ("inequity slope", "victims' willingness effect, day 7").
	Name     string
	Estimand string
	Pooled   Estimate
}

// Row is a claim re-estimated within one level of one factor.
type Row struct {
	Claim
	Factor, Level string
	Within        Estimate
}

// Holds says the level supports the pooled conclusion.
func (r Row) Holds() bool { return r.Within.Conclusion() == r.Pooled.Conclusion() }

// Schema declares results/robustness.csv of Study 2 and Study 3.
var Schema = table.Schema{Name: "robustness", Doc: "with factors: whether each conclusion (the sign and significance of an estimate pooled over every level) holds when re-estimated within each level of each factor (Study 2: the inequity and cost slopes; Study 3: the willingness effects on victims and at distance 1 on the last day)", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "condition", Type: table.String, Doc: "condition (Study 2) or inequity condition (Study 3)"},
	{Name: "claim", Type: table.String, Doc: "what is estimated"},
	{Name: "estimand", Type: table.String, Doc: "how it is estimated, and how its significance is judged"},
	{Name: "estimate", Type: table.Float, Doc: "pooled over every level"},
	{Name: "ci_low", Type: table.Float, Doc: "pooled 95% interval, lower bound"},
	{Name: "ci_high", Type: table.Float, Doc: "upper bound"},
	{Name: "p", Type: table.Float, Doc: "pooled p-value; empty where significance is read from the interval"},
	{Name: "conclusion", Type: table.String, Doc: "the pooled conclusion: positive, negative or not significant (at 5%), or not estimable"},
	{Name: "factor", Type: table.String, Doc: "design factor"},
	{Name: "level", Type: table.String, Doc: "the factor's level: the estimate recomputed on that level's decisions alone"},
	{Name: "level_estimate", Type: table.Float, Doc: "estimate within the level"},
	{Name: "level_ci_low", Type: table.Float, Doc: "95% interval within the level, lower bound"},
	{Name: "level_ci_high", Type: table.Float, Doc: "upper bound"},
	{Name: "level_p", Type: table.Float, Doc: "p-value within the level; empty where significance is read from the interval"},
	{Name: "level_conclusion", Type: table.String, Doc: "the conclusion within the level"},
	{Name: "holds", Type: table.Bool, Doc: "1 when the level's conclusion equals the pooled one"},
}}

// Table is rows as results/robustness.csv.
func Table(rows []Row) *table.Table {
	return &table.Table{Schema: Schema, Rows: func(emit func([]any) error) error {
		for _, r := range rows {
			p, w := r.Pooled, r.Within
			if err := emit([]any{r.Backend, r.Condition, r.Name, r.Estimand, p.Value, p.Lo, p.Hi, p.P, p.Conclusion(),
				r.Factor, r.Level, w.Value, w.Lo, w.Hi, w.P, w.Conclusion(), r.Holds()}); err != nil {
				return err
			}
		}
		return nil
	}}
}

// Verdict is one claim's robustness to every factor: "yes", or "no (level: says, ...)".
type Verdict struct {
	Backend, Condition, Claim, Conclusion string
	ByFactor                              []string
}

// Factors are the factors of rows, in their order.
func Factors(rows []Row) []string {
	var out []string
	for _, r := range rows {
		if !slices.Contains(out, r.Factor) {
			out = append(out, r.Factor)
		}
	}
	return out
}

// Verdicts are the claims of rows, in order, each with its verdict per factor.
func Verdicts(rows []Row) []Verdict {
	fs := Factors(rows)
	var out []Verdict
	idx := map[string]int{}
	for _, r := range rows {
		key := r.Backend + "\x00" + r.Condition + "\x00" + r.Name
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, Verdict{Backend: r.Backend, Condition: r.Condition, Claim: r.Name, Conclusion: r.Pooled.Conclusion(),
				ByFactor: make([]string, len(fs))})
		}
		v := &out[i].ByFactor[slices.Index(fs, r.Factor)]
		if *v == "" {
			*v = "yes"
		}
		if !r.Holds() {
			if *v == "yes" {
				*v = "no ("
			} else {
				*v = strings.TrimSuffix(*v, ")") + ", "
			}
			*v += r.Level + ": " + r.Within.Conclusion() + ")"
		}
	}
	return out
}

// Summary writes the verdicts of rows as a text table of "yes" and "no", with the levels
// behind each "no" listed under it (PrintVerdicts).
func Summary(w io.Writer, rows []Row, note string) error {
	if len(rows) == 0 {
		return nil
	}
	fs := Factors(rows)
	fmt.Fprintln(w)
	termtable.WriteText(w, "Robust to each factor: does each conclusion (sign and significance at 5%) hold in every level? (results/robustness.csv)")
	table := [][]string{append([]string{"backend", "condition", "conclusion of", "pooled"}, fs...)}
	for _, v := range Verdicts(rows) {
		table = append(table, append([]string{v.Backend, v.Condition, v.Claim, v.Conclusion}, v.ByFactor...))
	}
	if err := PrintVerdicts(w, table, 3, 4); err != nil {
		return err
	}
	if note != "" {
		return termtable.WriteText(w, note)
	}
	return nil
}

// PrintVerdicts prints a robustness table whose columns from first on are one factor's
// verdict each ("yes", or "no (level: says, ...)"), fitted to the terminal (the labels
// before first wrap; past that, split by columns after the key columns). The table shows "yes" or "no" only, so that it stays narrow; a
// list under it names, for each conclusion with a "no", the levels where it differs and
// what they say: every verdict of the full table, in the same words.
func PrintVerdicts(w io.Writer, table [][]string, key, first int) error {
	short := make([][]string, len(table))
	var items []string
	for i, r := range table {
		short[i] = slices.Clone(r)
		if i == 0 {
			continue
		}
		var differs []string
		for j := first; j < len(r); j++ {
			word, levels, ok := strings.Cut(r[j], " (")
			short[i][j] = word
			if ok {
				differs = append(differs, table[0][j]+" ("+levels)
			}
		}
		if len(differs) > 0 {
			items = append(items, strings.Join(r[:first], ", ")+": "+strings.Join(differs, "; "))
		}
	}
	wrap := map[int]int{} // the labels may wrap, so that the verdicts stay beside them
	for j := range first {
		wrap[j] = 16
	}
	if err := termtable.WriteWrap(w, key, short, wrap); err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	fmt.Fprintln(w, "Where a conclusion differs (\"no\"), the levels that say otherwise:")
	return termtable.WriteList(w, items)
}

//go:embed robust.html.tmpl
var src string

var tmpl = template.Must(template.New("robust").Funcs(report.Funcs).Parse(src))

// Section is the report section of rows ("Robust to wording ...: yes/no, per conclusion").
func Section(rows []Row, note string) report.Section {
	return report.Section{ID: "robustness", Title: "Robustness to the design factors", Render: func(fig *report.Figures) (template.HTML, error) {
		return report.Exec(tmpl, struct {
			Factors  []string
			Verdicts []Verdict
			Note     string
		}{Factors(rows), Verdicts(rows), note}, fig)
	}}
}

// builtinNote says what the factors can change on the behavioural model.
const builtinNote = "The behavioural model (builtin) reads no text and no sampling temperature: on it wording, persona, system and temperature change only the seeds of its draws, so its rows show what an insensitive respondent looks like."

// Attach adds robustness.csv, its summary lines (after the study's) and its report section
// to a study's analysis; nothing without rows.
func Attach(a *study.Analysis, rows []Row, backends []experiment.Backend) {
	if len(rows) == 0 {
		return
	}
	note := ""
	if slices.ContainsFunc(backends, func(b experiment.Backend) bool { return b.Provider == "builtin" }) {
		note = builtinNote
	}
	a.Tables = append(a.Tables, Table(rows))
	sum := a.Summary
	a.Summary = func(w io.Writer) error {
		if sum != nil {
			if err := sum(w); err != nil {
				return err
			}
		}
		return Summary(w, rows, note)
	}
	a.Sections = append(a.Sections, Section(rows, note))
}
