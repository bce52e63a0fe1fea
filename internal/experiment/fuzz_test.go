package experiment

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: whatever the bytes, Parse returns an experiment or an error, never panics, hangs
// or takes unbounded memory (the YAML limits act before parsing), and an error names the file.
// `go test` runs the seed corpus only (the examples, and inputs that broke parsers before);
// `go test -fuzz FuzzParse ./internal/experiment` explores further.
func FuzzParse(f *testing.F) {
	examples, _ := filepath.Glob("../../examples/*.yaml")
	for _, p := range examples {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"",
		"\ufeffname: x\nstudy: vignettes\n",
		"name: x\n---\nname: y\n",
		"a: " + strings.Repeat("[", 200) + strings.Repeat("]", 200),
		"l0: &l0 [lol]\nl1: &l1 [*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]\nl2: [*l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1]\n",
		"name: x\nstudy: vignettes\nreplicates: 0\npopulation: {source: sample, n: 10}\nscenarios: [volunteering]\n",
		"name: x\nstudy: vignettes\npopulation: {source: sample, n: 1000000000000}\n",
		"backends: [{provider: openai, model: m, base_url: 'http://x', max_reply: 1GB, max_retry_after: -1s}]\n",
		"conditions: [{name: a, policy: moral}, {name: a, policy: none}]\n",
		"name: {a: 1}\nseed: -1\n",
		"? [a, b]\n: c\n",
		"*x\n",
		"a: !!binary AAAA\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		exp, err := Parse(data, "fuzz.yaml")
		if err == nil && exp == nil {
			t.Fatal("nil experiment without an error")
		}
		if err != nil && !strings.Contains(err.Error(), "fuzz.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
