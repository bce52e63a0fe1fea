package report

import (
	"bytes"
	"compress/zlib"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// checkPDF checks the structure of a PDF without a PDF library: the header and trailer, that
// every cross-reference offset points at its object, the page count, the title in the
// document information, and the text drawn (from the inflated content streams).
func checkPDF(t *testing.T, b []byte, pages int, title string, texts ...string) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("%PDF-1.")) || !bytes.HasSuffix(bytes.TrimSpace(b), []byte("%%EOF")) {
		t.Fatalf("not a PDF: header %q, tail %q", b[:min(10, len(b))], b[max(0, len(b)-10):])
	}
	m := regexp.MustCompile(`startxref\s+(\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no startxref")
	}
	off, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(b[off:], []byte("xref")) {
		t.Fatalf("startxref %d does not point at the xref table", off)
	}
	xr := regexp.MustCompile(`(?m)^(\d{10}) 00000 n`).FindAllSubmatch(b[off:], -1)
	if len(xr) < 3 {
		t.Fatalf("xref table has %d objects", len(xr))
	}
	for i, e := range xr {
		o, _ := strconv.Atoi(string(e[1]))
		want := strconv.Itoa(i+1) + " 0 obj"
		if !bytes.HasPrefix(b[o:], []byte(want)) {
			t.Fatalf("xref entry %d (offset %d) points at %q, want %q", i+1, o, b[o:min(o+12, len(b))], want)
		}
	}
	if n := bytes.Count(b, []byte("/Type /Page\n")) + bytes.Count(b, []byte("/Type /Page ")); n != pages {
		t.Errorf("%d page objects, want %d", n, pages)
	}
	if !bytes.Contains(b, []byte("/Count "+strconv.Itoa(pages))) {
		t.Errorf("page tree does not count %d pages", pages)
	}
	var content strings.Builder
	for _, s := range regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`).FindAllSubmatch(b, -1) {
		r, err := zlib.NewReader(bytes.NewReader(s[1]))
		if err != nil {
			content.Write(s[1])
			continue
		}
		d, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("a content stream does not inflate: %v", err)
		}
		content.Write(d)
	}
	if !strings.Contains(string(b), "/Title") {
		t.Error("no /Title in the document information")
	}
	for _, s := range append([]string{title}, texts...) {
		lit := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(s) // a PDF string literal
		if !strings.Contains(content.String(), "("+lit+")") {
			t.Errorf("text %q is not drawn in the PDF", s)
		}
	}
}

func TestPDFOfEachChartKind(t *testing.T) {
	nan := math.NaN()
	charts := []struct {
		c     interface{ SVG() string }
		title string
		texts []string
	}{
		{LineChart{Title: "Line chart", XLabel: "Round", YLabel: "Share", YFormat: Percent, LegendTitle: "Condition",
			Series: []Series{{Name: "a", X: []float64{1, 2, 3}, Y: []float64{10, 20, nan}, Lo: []float64{5, 15, nan}, Hi: []float64{15, 25, nan}},
				{Name: "b", X: []float64{1, 2, 3}, Y: []float64{12, 18, 30}, Dashed: true}},
			Bands: []Band{{X0: 1, X1: 3, Lo: 40, Hi: 60, Label: "humans 40-60%"}}}, "Line chart", []string{"Round", "Condition", "humans 40-60%"}},
		{BarChart{Title: "Bar chart", XLabel: "Game", YLabel: "Mean", Categories: []string{"dictator: give", "a very long category name that wraps"}, Groups: []string{"g1"},
			Mean: [][]float64{{30, 40}}, Lo: [][]float64{{20, 30}}, Hi: [][]float64{{40, 50}}, Y0: 0, Y1: 100, YFormat: Percent,
			Refs: []Ref{{Value: 28, Lo: nan, Hi: nan}, {Value: nan, Lo: 40, Hi: 60, Label: "humans 40-60%"}}, RefLabel: "Humans"}, "Bar chart", []string{"dictator: give", "Humans"}},
		{HeatMap{Title: "Heat map", XLabel: "x", YLabel: "y", ZLabel: "z", XCats: []string{"1", "2"}, YCats: []string{"r"}, Z: [][]float64{{0.2, nan}}, Z0: 0, Z1: 1}, "Heat map", []string{"0.20"}},
		{NetworkChart{Title: "Network", N: 3, Edges: [][2]int{{0, 1}, {1, 2}}, State: []string{"victim", "affected", "unaffected"}}, "Network", []string{"victim (1)"}},
		{MediationDiagram{Title: "Mediation", X: "exposed", M: "unfairness", Y: "willingness", CILabel: "95% CI"}, "Mediation", []string{"exposed", "direct c' = 0.00; total c = 0.00"}},
		{ForestPlot{Title: "Forest", XLabel: "Difference", Rows: []ForestRow{{Label: "b - a", Mean: 0.4, Lo: 0.2, Hi: 0.6}}}, "Forest", []string{"b - a"}},
		{SmallMultiples{Title: "Panels", XLabel: "Round", YLabel: "Mean", LegendTitle: "Condition", Panels: []LineChart{
			{Title: "victims", Series: []Series{{Name: "inequity", X: []float64{1, 2}, Y: []float64{3, 4}}}},
			{Title: "distance 1", Series: []Series{{Name: "inequity", X: []float64{1, 2}, Y: []float64{5, 4}}}}}}, "Panels", []string{"victims", "distance 1", "Condition"}},
	}
	for _, c := range charts {
		svg := c.c.SVG()
		b, err := PDF(svg)
		if err != nil {
			t.Fatalf("%s: %v", c.title, err)
		}
		checkPDF(t, b, 1, c.title, c.texts...)
		again, _ := PDF(svg)
		if !bytes.Equal(b, again) {
			t.Errorf("%s: two PDFs of one chart differ", c.title)
		}
	}
}

func TestPDFRefusesWhatItCannotDraw(t *testing.T) {
	for _, svg := range []string{
		`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><ellipse cx="1" cy="1" rx="1" ry="1"/></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><path d="M1 1C2 2 3 3 4 4" stroke="#000"/></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg" width="10"><rect/></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect x="1" y="1" width="2" height="2" fill="red"/></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect`,
	} {
		if _, err := PDF(svg); err == nil {
			t.Errorf("PDF(%q) gave no error", svg)
		}
	}
}
