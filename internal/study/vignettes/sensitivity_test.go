package vignettes

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"
)

// readCSV reads a CSV with a header into columns.
func readCols(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range recs[1:] {
		for i, h := range recs[0] {
			out[h] = append(out[h], r[i])
		}
	}
	return out
}

// The variance shares against R: the two-way data and R's Type II sums of squares and
// p-values are internal/analysis's fixtures (testdata/fixtures.R: lm and nested model
// comparisons, as car::Anova(type = 2)); the total sum of squares is computed here by its
// definition, Σ(y - ȳ)², independently of the ANOVA code. share = SS_R / SS_total.
func TestSharesMatchR(t *testing.T) {
	c := readCols(t, "../../analysis/testdata/twoway.csv")
	ref := readCols(t, "../../analysis/testdata/fixture_results.csv")
	r := map[string]float64{}
	for i, k := range ref["key"] {
		v, err := strconv.ParseFloat(ref["value"][i], 64)
		if err != nil {
			t.Fatal(err)
		}
		r[k] = v
	}
	if len(r) == 0 {
		t.Fatal("no R results read")
	}
	for _, design := range []string{"balanced", "unbalanced"} {
		var y []float64
		var a, b []string
		for i, d := range c["design"] {
			if d != design {
				continue
			}
			v, _ := strconv.ParseFloat(c["y"][i], 64)
			y, a, b = append(y, v), append(a, c["A"][i]), append(b, c["B"][i])
		}
		var m, sst float64
		for _, v := range y {
			m += v
		}
		m /= float64(len(y))
		for _, v := range y {
			sst += (v - m) * (v - m)
		}
		share, p, err := Shares(y, a, b)
		if err != nil {
			t.Fatal(err)
		}
		for term, src := range map[string]string{"policy": "A", "factor": "B", "policy:factor": "A:B"} {
			ss, ok := r["twoway."+design+".II."+src+".SS"]
			if !ok {
				t.Fatalf("no R value for %s %s", design, src)
			}
			if want := ss / sst; math.Abs(share[term]-want) > 1e-10*math.Max(1, want) {
				t.Errorf("%s %s share = %.15g, R gives %.15g", design, term, share[term], want)
			}
			if want := r["twoway."+design+".II."+src+".p"]; math.Abs(p[term]-want) > 1e-8*want+1e-14 {
				t.Errorf("%s %s p = %.15g, R gives %.15g", design, term, p[term], want)
			}
		}
	}
}

// With one condition only the factor's share is defined: the one-way eta squared, here
// computed by hand. y = 1, 2, 3 in level a and 5, 6, 7 in b: ȳ = 4, SS_total = 9+4+1+1+4+9
// = 28, SS_between = 3·(2-4)² + 3·(6-4)² = 24, share = 24/28.
func TestSharesOneCondition(t *testing.T) {
	share, _, err := Shares([]float64{1, 2, 3, 5, 6, 7}, []string{"none", "none", "none", "none", "none", "none"}, []string{"a", "a", "a", "b", "b", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(share["factor"]-24.0/28) > 1e-12 || !math.IsNaN(share["policy"]) || !math.IsNaN(share["policy:factor"]) {
		t.Errorf("shares = %v, want factor 24/28 and no policy terms", share)
	}
}

// A conclusion holds in a level when its sign and significance are the pooled ones; the
// verdict names the levels where it does not.
func TestRobustnessVerdicts(t *testing.T) {
	c := Contrast{Backend: "b", Scenario: "donating", Condition: "moral", Against: "none", Diff: 0.4, PHolm: 0.01}
	x := &sensitivity{Factors: []string{"wording", "scale"}}
	add := func(f, l string, d, p float64) {
		x.Robust = append(x.Robust, Robust{Contrast: c, Factor: f, Level: l, Diff: d, PHolm: p,
			Pooled: conclusion(c.Diff, c.PHolm), LevelSays: conclusion(d, p)})
	}
	add("wording", "original", 0.5, 0.001)
	add("wording", "p1", 0.1, 0.3)    // not significant: does not hold
	add("wording", "p2", -0.4, 0.002) // reversed: does not hold
	add("scale", "ascending", 0.3, 0.04)
	add("scale", "descending", 0.45, 0.0001)
	v := x.verdicts("b")
	if len(v) != 1 {
		t.Fatalf("%d verdicts, want 1", len(v))
	}
	if v[0].Conclusion != "higher" || v[0].ByFactor[0] != "no (p1: no difference, p2: lower)" || v[0].ByFactor[1] != "yes" {
		t.Errorf("verdict = %+v", v[0])
	}
	if conclusion(0.4, math.NaN()) != "no difference" || conclusion(-0.1, 0.049) != "lower" || conclusion(0.1, 0.05) != "no difference" {
		t.Error("conclusion thresholds")
	}
}

// The variance shares of a sensitivity design against R (testdata/shares.R, base R lm fits:
// Type II sums of squares from nested models, share = SS / SS_total, F-test p): ratings 1-7 of
// policy x wording with cells thinned unevenly, as invalid replies thin them.
func TestSharesMatchRFixture(t *testing.T) {
	d := readCols(t, "testdata/shares_data.csv")
	ref := readCols(t, "testdata/shares_r.csv")
	var y []float64
	for _, v := range d["rating"] {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatal(err)
		}
		y = append(y, f)
	}
	share, p, err := Shares(y, d["policy"], d["wording"])
	if err != nil {
		t.Fatal(err)
	}
	if len(ref["term"]) != 3 {
		t.Fatalf("R fixture has %d terms", len(ref["term"]))
	}
	for i, term := range ref["term"] {
		ws, _ := strconv.ParseFloat(ref["share"][i], 64)
		wp, _ := strconv.ParseFloat(ref["p"][i], 64)
		if math.Abs(share[term]-ws) > 1e-12 || math.Abs(p[term]-wp) > 1e-9*wp {
			t.Errorf("%s: share %.17g p %.17g; R %.17g, %.17g", term, share[term], p[term], ws, wp)
		}
	}
}
