package report

import (
	"html/template"
	"strings"
	"testing"
)

var figTmpl = template.Must(template.New("s").Funcs(Funcs).Parse(
	`<p>{{.Text}}</p><figure>{{svg .Chart}}<figcaption>Figure {{figure}}. {{.Caption}}</figcaption></figure>`))

type figData struct {
	Text, Caption string
	Chart         BarChart
}

// Figures are numbered across sections in page order, and every text a section or the page
// is given is escaped; charts escape their own labels.
func TestWritePageNumbersFiguresAndEscapes(t *testing.T) {
	const evil = `<script>alert(1)</script>`
	sec := func(id string) Section {
		return Section{ID: id, Title: "Title " + evil, Render: func(fig *Figures) (template.HTML, error) {
			return Exec(figTmpl, figData{Text: evil, Caption: "cap " + evil, Chart: BarChart{Title: evil, Categories: []string{evil},
				Groups: []string{"g"}, Mean: [][]float64{{2}}, Lo: [][]float64{{1}}, Hi: [][]float64{{3}}, Y0: 1, Y1: 7}}, fig)
		}}
	}
	var b strings.Builder
	if err := WritePage(&b, "report "+evil, []string{"runs/a" + evil, "runs/b"}, nil, []Section{sec("one"), sec("two")}); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	if strings.Contains(strings.ToLower(doc), "<script") {
		t.Error("raw <script> in the page")
	}
	for _, want := range []string{"Figure 1. cap &lt;script&gt;", "Figure 2. cap &lt;script&gt;", `<h2 id="two">Title &lt;script&gt;`,
		"<code>runs/a&lt;script&gt;alert(1)&lt;/script&gt;</code>, <code>runs/b</code>", `<a href="#one">`} {
		if !strings.Contains(doc, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// The note that the behavioural model is not an LLM names the page's behavioural backends,
// and is absent from a page whose runs used none (QA: it was on every page).
func TestWritePageNotesBehaviouralBackendsOnly(t *testing.T) {
	for _, c := range []struct {
		backends []string
		want     string // "" for no note
	}{
		{[]string{"openai:gpt-4o-mini", "anthropic:claude"}, ""},
		{nil, ""},
		{[]string{"openai:gpt-4o-mini", "builtin", "builtin"}, "Backend <code>builtin</code> is the embedded behavioural model, not an LLM."},
		{[]string{"builtin", "builtin-noisy"}, "Backends <code>builtin</code>, <code>builtin-noisy</code> are the embedded behavioural model, not an LLM."},
	} {
		var b strings.Builder
		if err := WritePage(&b, "r", []string{"runs/a"}, c.backends, nil); err != nil {
			t.Fatal(err)
		}
		doc := b.String()
		if c.want == "" {
			if strings.Contains(doc, "behavioural model") || strings.Contains(doc, "not an LLM") {
				t.Errorf("backends %v: the page speaks of the behavioural model:\n%s", c.backends, doc)
			}
			continue
		}
		if !strings.Contains(doc, c.want) {
			t.Errorf("backends %v: the page lacks %q:\n%s", c.backends, c.want, doc)
		}
	}
}
