// Package usd prints and rounds amounts of US dollars, the same way in every message, table,
// page and file of prosim (QA10: a page printed "$0.000300" where a message said "$0.0003",
// and manifest.json recorded 0.00030000000000000003).
package usd

import (
	"math"
	"strconv"
	"strings"
)

// String prints x with the digits it needs, without the dollar sign: rounded to four
// decimals, or to two significant digits below $0.0001 (one cheap call costs less), trailing
// zeros dropped; 0 is "0" (QA9: a spend of $0.00004 was printed "$0.0000").
func String(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return strconv.FormatFloat(x, 'f', -1, 64)
	case x == 0:
		return "0"
	case math.Abs(x) < 0.0001:
		return significant(x, 2)
	}
	s := strings.TrimRight(strconv.FormatFloat(x, 'f', 4, 64), "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// Round is x as files record it: to 12 significant digits, which drops the noise of summing
// float costs (0.0001+0.0002 is 0.00030000000000000003) and keeps far more than any bill's
// precision.
func Round(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	return r
}

// Exact prints an amount the user gave or is to type back, a cap or a suggested cap, with
// every digit it has (QA9: a cap of $0.001 was printed "$0.00"): String would round it.
func Exact(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// Apart prints a and b as String does, with more significant digits when String would print
// two different amounts alike: a message saying one is more than the other must show it
// ("up to $0.00047, more than the $0.00047 the cap leaves" said "$0.0005" twice).
func Apart(a, b float64) (string, string) {
	sa, sb := String(a), String(b)
	for digits := 3; sa == sb && a != b && digits <= 17; digits++ {
		sa, sb = significant(a, digits), significant(b, digits)
	}
	return sa, sb
}

// significant prints x to the given number of significant digits, trailing zeros dropped.
func significant(x float64, digits int) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', digits, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}
