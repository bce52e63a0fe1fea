package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/prosim/prosim/internal/plural"
)

// Section is one section of report.html. A study's analysis makes its sections; the page
// numbers figures across sections in order, so a section renders only when the page does.
type Section struct {
	ID, Title string
	// Render writes the section's body. Its figures take their numbers from fig.
	Render func(fig *Figures) (template.HTML, error)
}

// Figures numbers the figures of one page and keeps each one's SVG, for the download links
// and `prosim report --figures`.
type Figures struct {
	n     int
	saved []Figure
	// collect, when set, keeps each embedded chart by its title: a comparison's first pass
	// over a run's sections, to find the charts the runs share.
	collect map[string]any
	// overlaid are the charts a comparison draws over each other, by title: the figure
	// number of the overlay, which a run's own section points to instead of drawing them.
	overlaid map[string]int
	// pending is the overlay's number when the chart just embedded was overlaid: its
	// caption takes that number instead of one of its own, which would have no picture.
	pending int
}

// Figure is one figure of a page: its number and its standalone SVG document.
type Figure struct {
	N     int
	Title string
	SVG   string
}

// File is the figure's file name: figure-03.svg (zero-padded, so files sort in page order).
func (f Figure) File() string { return fmt.Sprintf("figure-%02d.svg", f.N) }

// PDFFile is the name of the figure's PDF: figure-03.pdf.
func (f Figure) PDFFile() string { return strings.TrimSuffix(f.File(), ".svg") + ".pdf" }

// PDF is the figure drawn as a one-page PDF (see PDF).
func (f Figure) PDF() ([]byte, error) {
	b, err := PDF(strings.TrimPrefix(f.SVG, xmlHeader))
	if err != nil {
		return nil, fmt.Errorf("figure %d (%s): %w", f.N, f.Title, err)
	}
	return b, nil
}

// Next is the next figure's number.
func (f *Figures) Next() int { f.n++; return f.n }

// embed is the {{svg}} of a page: the chart, then a link that saves it as an SVG file. The
// link is a data: URL, so it works offline and from file:// without a script. A chart is
// embedded before its caption's {{figure}}, so it is figure n+1.
func (f *Figures) embed(c interface{ SVG() string }) template.HTML {
	svg := c.SVG()
	title := svgTitle(svg)
	if f.collect != nil {
		if _, ok := f.collect[title]; !ok {
			f.collect[title] = c
		}
	}
	f.pending = 0
	if n, ok := f.overlaid[title]; ok {
		f.pending = n
		return template.HTML(fmt.Sprintf(`<p class="note overlaid">This run's series are drawn with the other runs' in Figure %d.</p>`, n))
	}
	fg := Figure{N: f.n + 1, Title: title, SVG: svg}
	f.saved = append(f.saved, fg)
	return template.HTML(svg + `<a class="svg-dl" download="` + fg.File() + `" href="data:image/svg+xml;base64,` +
		base64.StdEncoding.EncodeToString([]byte(xmlHeader+svg)) + `">Download SVG</a>`)
}

// caption is a caption's figure number ({{figure}}): the next number, or for a chart a
// comparison drew in its overlay, the overlay's ("2, this run's series"), so that every
// figure number has a picture and `prosim report --figures` a file for it.
func (f *Figures) caption() string {
	if n := f.pending; n > 0 {
		f.pending = 0
		return fmt.Sprintf("%d, this run's series", n)
	}
	return strconv.Itoa(f.Next())
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// svgTitle is the text of a chart's <title>, unescaped.
func svgTitle(svg string) string {
	_, rest, ok := strings.Cut(svg, "<title>")
	if !ok {
		return ""
	}
	t, _, _ := strings.Cut(rest, "</title>")
	return html.UnescapeString(t)
}

// Exec runs a section template with data. The template may call {{figure}} for the next
// figure number (in a caption, after the chart's {{svg}}) and {{svg .Chart}} to embed a chart; every other value is escaped by
// html/template according to its context.
func Exec(t *template.Template, data any, fig *Figures) (template.HTML, error) {
	c, err := t.Clone()
	if err != nil {
		return "", err
	}
	c.Funcs(template.FuncMap{"figure": fig.caption, "svg": fig.embed})
	var b bytes.Buffer
	if err := c.Execute(&b, data); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}

// Funcs are the functions every section template may use; parse section templates with
// template.New(name).Funcs(report.Funcs).Parse(...).
var Funcs = template.FuncMap{
	"figure": func() string { panic("figure: use report.Exec") },
	// svg embeds a chart. Charts build their SVG themselves and escape every text they draw
	// (esc), so their markup is trusted here.
	"svg":  func(c interface{ SVG() string }) template.HTML { return template.HTML(c.SVG()) },
	"f2":   f2,
	"join": strings.Join,
	// count writes a number with its noun: {{count .Agents "agent"}} is "1 agent", "5 agents".
	"count": plural.Count,
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
<p class="note">Run director{{if gt (len .Folders) 1}}ies{{else}}y{{end}}: {{range $i, $d := .Folders}}{{if $i}}, {{end}}<code>{{$d}}</code>{{end}}. Written by <code>prosim report</code> from the run database; every figure below is computed from it.{{with .Behavioural}} Backend{{if gt (len .) 1}}s{{end}} {{range $i, $b := .}}{{if $i}}, {{end}}<code>{{$b}}</code>{{end}} {{if gt (len .) 1}}are{{else}}is{{end}} the embedded behavioural model, not an LLM.{{end}}</p>
<nav><ul>{{range .Sections}}<li><a href="#{{.ID}}">{{.Title}}</a></li>{{end}}</ul></nav>
{{range .Sections}}<h2 id="{{.ID}}">{{.Title}}</h2>
{{.Body}}{{end}}</body></html>
`))

type renderedSection struct {
	ID, Title string
	Body      template.HTML
}

// WritePage writes a whole self-contained report: inline CSS and SVG, no script, nothing
// fetched from the network. folders name the run folders (their names, not paths); backends are the backend labels of the page's runs: the page
// says of those that name the behavioural model that it is not an LLM, and of no other.
func WritePage(w io.Writer, title string, folders, backends []string, sections []Section) error {
	_, err := WritePageFigures(w, title, folders, backends, sections)
	return err
}

// WritePageFigures writes the page (WritePage) and returns its figures in page order, each a
// standalone SVG document (with its XML header) for `prosim report --figures`.
func WritePageFigures(w io.Writer, title string, folders, backends []string, sections []Section) ([]Figure, error) {
	fig := &Figures{}
	var rs []renderedSection
	for _, s := range sections {
		body, err := s.Render(fig)
		if err != nil {
			return nil, fmt.Errorf("report section %q: %w", s.Title, err)
		}
		rs = append(rs, renderedSection{s.ID, s.Title, body})
	}
	for i := range fig.saved {
		fig.saved[i].SVG = xmlHeader + fig.saved[i].SVG
	}
	var behavioural []string
	for _, b := range backends {
		if Behavioural(b) && !slices.Contains(behavioural, b) {
			behavioural = append(behavioural, b)
		}
	}
	return fig.saved, pageTmpl.Execute(w, struct {
		Title       string
		CSS         template.CSS
		Folders     []string
		Behavioural []string
		Sections    []renderedSection
	}{title, template.CSS(css), folders, behavioural, rs})
}

// F2 formats a number for tables and labels: two decimals, "n/a" for NaN.
func F2(v float64) string { return f2(v) }
