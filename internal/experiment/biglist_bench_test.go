package experiment

import (
	"fmt"
	"strings"
	"testing"
)

// bigConditions is an experiment whose conditions are an inline list of n {name, policy}
// mappings, one with a name of the wrong type and one with an unknown key.
func bigConditions(n int) []byte {
	var b strings.Builder
	b.WriteString("name: big\nstudy: vignettes\npopulation: {source: sample, n: 10}\nscenarios: [volunteering]\nconditions: [")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		switch i {
		case 5:
			b.WriteString("{name: [x], policy: none}")
		case n / 2:
			b.WriteString("{name: c, policy: none, colour: red}")
		default:
			fmt.Fprintf(&b, "{name: c%d, policy: none}", i)
		}
	}
	b.WriteString("]\n")
	return []byte(b.String())
}

// BenchmarkParseLongListWithProblems: checking a file whose long inline list has a value of
// the wrong type and an unknown key (each problem found, the rest checked beside them).
func BenchmarkParseLongListWithProblems(b *testing.B) {
	data := bigConditions(20000)
	for b.Loop() {
		if _, _, err := parse(data, "big.yaml"); err == nil {
			b.Fatal("no problem found")
		}
	}
}
