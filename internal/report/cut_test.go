package report

import (
	"math"
	"regexp"
	"strings"
	"testing"
)

var pathData = regexp.MustCompile(`d="[^"]*"`)

// lineTos counts the L commands of an SVG's paths.
func lineTos(svg string) int {
	n := 0
	for _, d := range pathData.FindAllString(svg, -1) {
		n += strings.Count(d, "L")
	}
	return n
}

// A whisker past the axis is cut at the edge with an arrowhead, not a cap, and the legend says
// so (QA repro-8: the report cut them at 0 and 100% without a mark); one within the axis is not.
func TestCutWhiskersAreMarked(t *testing.T) {
	bar := func(lo, hi float64) string {
		return BarChart{Title: "t", Categories: []string{"a"}, Groups: []string{"g"}, Y0: 0, Y1: 1,
			Mean: [][]float64{{0.5}}, Lo: [][]float64{{lo}}, Hi: [][]float64{{hi}}}.SVG()
	}
	line := func(lo, hi float64) string {
		return LineChart{Title: "t", Y0: 0, Y1: 1, X0: 0, X1: 2, Series: []Series{{Name: "s", X: []float64{1}, Y: []float64{0.5},
			Lo: []float64{lo}, Hi: []float64{hi}}}}.SVG()
	}
	for name, draw := range map[string]func(lo, hi float64) string{"bar": bar, "line": line} {
		inside := draw(0.2, 0.8)
		if strings.Contains(inside, cutEntry.Name) {
			t.Errorf("%s: an interval within the axis is marked cut", name)
		}
		for _, ci := range [][2]float64{{-0.4, 0.8}, {0.2, 1.3}, {-2.9, 3.7}} {
			svg := draw(ci[0], ci[1])
			if !strings.Contains(svg, cutEntry.Name) {
				t.Errorf("%s %v: no legend for the cut whisker", name, ci)
			}
			arrows := lineTos(svg) - lineTos(inside)
			want := 0
			for _, past := range []bool{ci[0] < 0, ci[1] > 1} {
				if past {
					want += 2 // an arrowhead is two line segments
				}
			}
			if arrows != want+2 { // the legend's arrow marker has two more
				t.Errorf("%s %v: %d arrow segments, want %d", name, ci, arrows, want+2)
			}
		}
		if svg := draw(math.NaN(), math.NaN()); strings.Contains(svg, cutEntry.Name) {
			t.Errorf("%s: no interval, marked cut", name)
		}
	}
}
