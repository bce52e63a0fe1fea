package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// Section is one section of report.html. A study's analysis makes its sections; the page
// numbers figures across sections in order, so a section renders only when the page does.
type Section struct {
	ID, Title string
	// Render writes the section's body. Its figures take their numbers from fig.
	Render func(fig *Figures) (template.HTML, error)
}

// Figures numbers the figures of one page.
type Figures struct{ n int }

// Next is the next figure's number.
func (f *Figures) Next() int { f.n++; return f.n }

// Exec runs a section template with data. The template may call {{figure}} for the next
// figure number and {{svg .Chart}} to embed a chart; every other value is escaped by
// html/template according to its context.
func Exec(t *template.Template, data any, fig *Figures) (template.HTML, error) {
	c, err := t.Clone()
	if err != nil {
		return "", err
	}
	c.Funcs(template.FuncMap{"figure": fig.Next})
	var b bytes.Buffer
	if err := c.Execute(&b, data); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}

// Funcs are the functions every section template may use; parse section templates with
// template.New(name).Funcs(report.Funcs).Parse(...).
var Funcs = template.FuncMap{
	"figure": func() int { panic("figure: use report.Exec") },
	// svg embeds a chart. Charts build their SVG themselves and escape every text they draw
	// (esc), so their markup is trusted here.
	"svg":  func(c interface{ SVG() string }) template.HTML { return template.HTML(c.SVG()) },
	"f2":   f2,
	"join": strings.Join,
	// list and rows build a table's header and body for the "table" template.
	"list": func(xs ...string) []string { return xs },
	"rows": func(head []string, rows [][]string) tableData { return tableData{head, rows} },
}

// tableData is a plain table: a header and rows of cells, all escaped as text.
type tableData struct {
	Head []string
	Rows [][]string
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/><title>{{.Title}}</title>
<style>{{.CSS}}</style></head><body>
<h1>{{.Title}}</h1>
<p class="note">Run director{{if gt (len .Dirs) 1}}ies{{else}}y{{end}}: {{range $i, $d := .Dirs}}{{if $i}}, {{end}}<code>{{$d}}</code>{{end}}. Written by <code>prosim report</code> from the run database; every figure below is computed from it. Backend <code>builtin</code> is the embedded behavioural model, not an LLM.</p>
<nav><ul>{{range .Sections}}<li><a href="#{{.ID}}">{{.Title}}</a></li>{{end}}</ul></nav>
{{range .Sections}}<h2 id="{{.ID}}">{{.Title}}</h2>
{{.Body}}{{end}}</body></html>
`))

type renderedSection struct {
	ID, Title string
	Body      template.HTML
}

// WritePage writes a whole self-contained report: inline CSS and SVG, no script, nothing
// fetched from the network.
func WritePage(w io.Writer, title string, dirs []string, sections []Section) error {
	fig := &Figures{}
	var rs []renderedSection
	for _, s := range sections {
		body, err := s.Render(fig)
		if err != nil {
			return fmt.Errorf("report section %q: %w", s.Title, err)
		}
		rs = append(rs, renderedSection{s.ID, s.Title, body})
	}
	return pageTmpl.Execute(w, struct {
		Title    string
		CSS      template.CSS
		Dirs     []string
		Sections []renderedSection
	}{title, template.CSS(css), dirs, rs})
}

// F2 formats a number for tables and labels: two decimals, "n/a" for NaN.
func F2(v float64) string { return f2(v) }
