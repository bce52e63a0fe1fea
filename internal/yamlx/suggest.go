package yamlx

import "fmt"

// DidYouMean is " (did you mean X?)" for the option X closest to a misspelt word, or "" when
// none is close: within one edit for a short word, a third of its length for a longer one
// (an edit: a letter added, dropped, changed, or two neighbours swapped).
func DidYouMean(word string, options []string) string {
	best, bestD := "", 0
	limit := max(1, len([]rune(word))/3)
	for _, o := range options {
		if o == word || abs(len(o)-len(word)) > limit {
			continue // too long or short to be close: not measured (a library of many ids)
		}
		if d := edits(word, o); d <= limit && (best == "" || d < bestD) {
			best, bestD = o, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// edits is the optimal string alignment distance between a and b.
func edits(a, b string) int {
	x, y := []rune(a), []rune(b)
	// d[i][j] is the distance between x[:i] and y[:j].
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
