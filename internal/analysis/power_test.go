package analysis

import (
	"math"
	"testing"
)

func TestMDE(t *testing.T) {
	// 1.959964 + 0.841621 = 2.801585 (normal quantiles).
	if got := MDE(0.1, 0.05, 0.8); math.Abs(got-0.2801585) > 1e-6 {
		t.Errorf("MDE(0.1) = %v, want 0.2801585", got)
	}
	// At the MDE the power of the two-sided test is 0.8 (the other tail is negligible).
	se := 0.25
	d := MDE(se, 0.05, 0.8)
	z := 1.959964
	power := 1 - normCDF(z-d/se) + normCDF(-z-d/se)
	if math.Abs(power-0.8) > 1e-4 {
		t.Errorf("power at the MDE = %v, want 0.8", power)
	}
	// A target half the MDE needs four times the sample.
	if f := SampleFactor(0.4, 0.2); math.Abs(f-4) > 1e-12 {
		t.Errorf("SampleFactor = %v, want 4", f)
	}
}

func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
