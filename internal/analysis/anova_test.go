package analysis

import (
	"math"
	"testing"
)

var sqrt = math.Sqrt

// NIST StRD SiRstv certified values (testdata/nist_sirstv_certified.md).
func TestOneWaySiRstvNIST(t *testing.T) {
	c := readCSV(t, "testdata/nist_sirstv.csv")
	y := floats(t, c["resistivity"])
	tab, err := OneWay(y, c["instrument"])
	if err != nil {
		t.Fatal(err)
	}
	e := tab.Effects[0]
	const need = 10
	if e.DF != 4 || tab.Residual.DF != 20 {
		t.Errorf("df = %v, %v", e.DF, tab.Residual.DF)
	}
	checkDigits(t, "SS between", e.SS, 5.11462616000000e-02, need)
	checkDigits(t, "MS between", e.MS, 1.27865654000000e-02, need)
	checkDigits(t, "F", e.F, 1.18046237440255e+00, need)
	checkDigits(t, "SS within", tab.Residual.SS, 2.16636560000000e-01, need)
	checkDigits(t, "MS within", tab.Residual.MS, 1.08318280000000e-02, need)
	checkDigits(t, "R2", tab.R2, 1.90999039051129e-01, need)
	checkDigits(t, "resid SD", sqrt(tab.Residual.MS), 1.04076068334656e-01, need)
	checkDigits(t, "eta2", e.EtaSq, 1.90999039051129e-01, need) // eta² = R² in one-way
	t.Logf("F %.1f digits, SSB %.1f, SSW %.1f", digits(e.F, 1.18046237440255), digits(e.SS, 5.11462616e-02), digits(tab.Residual.SS, 2.1663656e-01))
	// p from R: pf(1.18046237440255, 4, 20, lower.tail = FALSE)
	checkRel(t, "p", e.P, 0.349447493402193, 1e-9)
	// omega² = (SSB - 4 MSW)/(SST + MSW)
	checkRel(t, "omega2", e.OmegaSq, (5.11462616e-02-4*1.0831828e-02)/(5.11462616e-02+2.1663656e-01+1.0831828e-02), 1e-10)
	checkRel(t, "partial omega2", e.PartialOmegaSq, e.OmegaSq, 1e-12)
}

// Two-way ANOVA vs R (testdata/fixtures.R: drop1 on sum-coded lm for Type III,
// nested lm comparisons for Type II).
func TestTwoWayVsR(t *testing.T) {
	ref := rRef(t)
	c := readCSV(t, "testdata/twoway.csv")
	y := floats(t, c["y"])
	for _, design := range []string{"unbalanced", "balanced"} {
		var yy []float64
		var a, b []string
		for i, d := range c["design"] {
			if d == design {
				yy = append(yy, y[i])
				a = append(a, c["A"][i])
				b = append(b, c["B"][i])
			}
		}
		for _, ss := range []SSType{TypeII, TypeIII} {
			tab, err := TwoWay(yy, a, b, ss)
			if err != nil {
				t.Fatal(err)
			}
			roman := map[SSType]string{TypeII: "II", TypeIII: "III"}[ss]
			pre := "twoway." + design + "."
			checkRel(t, pre+"resid.SS", tab.Residual.SS, ref(pre+"resid.SS"), 1e-10)
			if tab.Residual.DF != ref(pre+"resid.df") {
				t.Errorf("%s resid df %v", pre, tab.Residual.DF)
			}
			for _, e := range tab.Effects {
				k := pre + roman + "." + e.Source + "."
				checkRel(t, k+"SS", e.SS, ref(k+"SS"), 1e-10)
				checkRel(t, k+"F", e.F, ref(k+"F"), 1e-10)
				checkRel(t, k+"p", e.P, ref(k+"p"), 1e-10)
				checkRel(t, k+"partial eta2", e.PartialEtaSq, e.SS/(e.SS+ref(pre+"resid.SS")), 1e-10)
			}
			if design == "balanced" {
				// Balanced: all SS types equal the sequential (Type I) aov table.
				for i, e := range tab.Effects {
					checkRel(t, pre+"typeI vs "+roman+" "+e.Source, e.SS, ref(pre+"I.SS."+string(rune('1'+i))), 1e-10)
				}
			}
		}
	}
}

func TestTwoWayEmptyCell(t *testing.T) {
	_, err := TwoWay([]float64{1, 2, 3, 4, 5}, []string{"a", "a", "b", "b", "b"}, []string{"x", "y", "x", "x", "x"}, TypeIII)
	if err == nil {
		t.Fatal("expected error for empty cell")
	}
}
