package usd

import "testing"

func TestString(t *testing.T) {
	for x, want := range map[float64]string{
		0: "0", 0.0003: "0.0003", 0.0001 + 0.0004: "0.0005", 0.02: "0.02", 5: "5", 1.23456: "1.2346",
		0.00004: "0.00004", 0.0000106: "0.000011", 0.000099999: "0.0001", 12.5: "12.5", 0.00001234: "0.000012",
	} {
		if got := String(x); got != want {
			t.Errorf("String(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestRound(t *testing.T) {
	a, b := 0.0001, 0.0002 // variables: constants would sum exactly
	if x := a + b; x == 0.0003 || Round(x) != 0.0003 {
		t.Errorf("Round(%v) = %v, want 0.0003", x, Round(x))
	}
	for _, x := range []float64{0, 1.05e-05, 0.75, 20, 0.123456789012} {
		if Round(x) != x {
			t.Errorf("Round(%v) = %v", x, Round(x))
		}
	}
}

func TestApart(t *testing.T) {
	for _, c := range [][4]any{
		{0.00046905, 0.0004685, "0.000469", "0.0004685"},
		{0.0005, 0.0002, "0.0005", "0.0002"},
		{0.3, 0.3, "0.3", "0.3"},
	} {
		a, b := Apart(c[0].(float64), c[1].(float64))
		if a != c[2] || b != c[3] {
			t.Errorf("Apart(%v, %v) = %q, %q, want %q, %q", c[0], c[1], a, b, c[2], c[3])
		}
	}
}
