// Package plural writes a count with its noun, "1 row" and "2 rows", for the summaries and
// reports prosim prints: one place for the singular, not a "%d rows" that reads "1 rows".
package plural

import "strconv"

// Count is n and the noun, in the plural unless n is 1: Count(1, "row") is "1 row",
// Count(0, "row") "0 rows". The plural adds an s (every noun prosim counts takes one).
func Count(n int, noun string) string { return strconv.Itoa(n) + " " + Noun(n, noun) }

// Noun is the noun alone, in the plural unless n is 1, for a count written otherwise
// ("3/4 decisions").
func Noun(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}
