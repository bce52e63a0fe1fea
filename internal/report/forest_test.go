package report

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

// A forest plot escapes its labels, is well-formed XML, draws the zero line inside the
// range, and skips the whisker of a row without CI and the point of a row without estimate.
func TestForestPlotEscapesAndDrawsZero(t *testing.T) {
	const evil = `<script>alert("x")</script> & co`
	svg := ForestPlot{Title: "t " + evil, XLabel: "x " + evil, Rows: []ForestRow{
		{Label: evil, Mean: 0.4, Lo: 0.1, Hi: 0.7},
		{Label: "no ci", Mean: -0.2, Lo: math.NaN(), Hi: math.NaN()},
		{Label: "none", Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN()},
	}}.SVG()
	if strings.Contains(svg, "<script") {
		t.Fatal("raw label in the SVG")
	}
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
	}
	for _, want := range []string{`class="zero"`, "&lt;script&gt;", "<title>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co: 0.40 [0.10, 0.70]</title>", "<title>no ci: -0.20 [n/a, n/a]</title>", ">none</text>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("forest plot lacks %q", want)
		}
	}
	if n := strings.Count(svg, `<g class="estimate">`); n != 2 {
		t.Errorf("%d estimates drawn, want 2", n)
	}
	if n := strings.Count(svg, "v8M"); n != 1 {
		t.Errorf("%d whiskers drawn, want 1", n)
	}
}
