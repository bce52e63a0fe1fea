package analysis

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"
)

// readCSV reads a numeric-or-string CSV with a header into columns by name.
func readCSV(t *testing.T, path string) map[string][]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cols := map[string][]string{}
	for _, r := range recs[1:] {
		for j, h := range recs[0] {
			cols[h] = append(cols[h], r[j])
		}
	}
	return cols
}

func floats(t *testing.T, s []string) []float64 {
	t.Helper()
	out := make([]float64, len(s))
	for i, v := range s {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = f
	}
	return out
}

func ints(t *testing.T, s []string) []int {
	t.Helper()
	out := make([]int, len(s))
	for i, v := range s {
		f, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = f
	}
	return out
}

// digits returns the number of agreeing significant digits (LRE, as NIST uses).
func digits(got, want float64) float64 {
	if got == want {
		return 17
	}
	if want == 0 {
		return -math.Log10(math.Abs(got))
	}
	return -math.Log10(math.Abs(got-want) / math.Abs(want))
}

func checkDigits(t *testing.T, what string, got, want, min float64) {
	t.Helper()
	if d := digits(got, want); !(d >= min) {
		t.Errorf("%s = %.15g, want %.15g (%.1f digits, need %.0f)", what, got, want, d, min)
	}
}

// checkRel checks a relative (or, near zero, absolute) tolerance.
func checkRel(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !(math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))) {
		t.Errorf("%s = %.12g, want %.12g (tol %g)", what, got, want, tol)
	}
}

// rRef returns R's reference numbers from testdata/fixture_results.csv (made by testdata/fixtures.R).
func rRef(t *testing.T) func(key string) float64 {
	t.Helper()
	c := readCSV(t, "testdata/fixture_results.csv")
	m := map[string]float64{}
	for i, k := range c["key"] {
		v, err := strconv.ParseFloat(c["value"][i], 64)
		if err != nil {
			t.Fatal(err)
		}
		m[k] = v
	}
	return func(key string) float64 {
		t.Helper()
		v, ok := m[key]
		if !ok {
			t.Fatalf("no R reference %q", key)
		}
		return v
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
