package report

import (
	"math"
	"strings"
	"testing"
)

// A chart with nothing to draw (a run with no valid decision) says so where the plot would
// be, instead of empty axes.
func TestChartsWithoutDataSaySo(t *testing.T) {
	nan := math.NaN()
	for _, c := range []interface{ SVG() string }{
		LineChart{Title: "l", Series: []Series{{Name: "a", X: []float64{1, 2}, Y: []float64{nan, nan}}}},
		BarChart{Title: "b", Categories: []string{"x"}, Groups: []string{"g"}, Mean: [][]float64{{nan}}, Lo: [][]float64{{nan}}, Hi: [][]float64{{nan}}, Y0: 0, Y1: 7},
		SmallMultiples{Title: "s", Panels: []LineChart{{Title: "p", Series: []Series{{Name: "a", X: []float64{1}, Y: []float64{nan}}}}}},
	} {
		svg := c.SVG()
		if !strings.Contains(svg, "No data: no valid decision to draw") {
			t.Errorf("%s: no note", svgTitle(svg))
		}
		if _, err := PDF(svg); err != nil {
			t.Errorf("%s: %v", svgTitle(svg), err)
		}
	}
	// One empty panel among others: that panel says so, the others draw.
	sm := SmallMultiples{Title: "s", Panels: []LineChart{
		{Title: "full", Series: []Series{{Name: "a", X: []float64{1, 2}, Y: []float64{1, 2}}}},
		{Title: "empty", Series: []Series{{Name: "a", X: []float64{1, 2}, Y: []float64{nan, nan}}}}}}.SVG()
	if !strings.Contains(sm, ">no data</text>") || strings.Contains(sm, "No data: no valid") {
		t.Error("an empty panel among others is not marked alone")
	}
}
