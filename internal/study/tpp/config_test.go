package tpp

import (
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

const base = "name: s2\nstudy: tpp\nseed: 3\npopulation: {source: sample, n: 10}\n"

// The tpp block is optional (absent or empty: the defaults), checked with its lines, and
// written into the resolved config.
func TestConfig(t *testing.T) {
	for _, src := range []string{base, base + "tpp:\n", base + "tpp: {history: true}\n"} {
		e, err := experiment.Parse([]byte(src), "s2.yaml")
		if err != nil {
			t.Fatalf("%v\n%s", err, src)
		}
		c := ConfigOf(e)
		if c == nil || c.Variant != "binary" || c.History != strings.Contains(src, "history") {
			t.Errorf("%q: %+v", src, c)
		}
		out, err := e.Resolved()
		if err != nil || !strings.HasSuffix(string(out), "tpp:\n  variant: binary\n"+map[bool]string{true: "  history: true\n"}[c.History]) {
			t.Errorf("resolved config:\n%s (%v)", out, err)
		}
	}
	for src, want := range map[string]string{
		base + "tpp: {variant: x}\n":     "s2.yaml:5:16: field tpp.variant: unknown variant \"x\"",
		base + "tpp: {varant: graded}\n": "s2.yaml:5:7: field tpp.varant: unknown field",
		base + "scenarios: [helping]\n":  "s2.yaml:5:12: field scenarios: not used by study: tpp",
		strings.Replace(base, "study: tpp", "study: vignettes", 1) + "scenarios: [helping]\ntpp: {variant: graded}\n": "s2.yaml:6:1: field tpp: only for study: tpp",
	} {
		if _, err := experiment.Parse([]byte(src), "s2.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q for\n%s", err, want, src)
		}
	}
}

// The block's problems are reported with the experiment's, all at once: wrong types and the
// checks of the rest of the block together (errs3 #2: the variant waited for the history).
func TestConfigEveryProblem(t *testing.T) {
	src := "name: s2\nstudy: tpp\nseed: x\npopulation: {source: sample, n: 10}\ntpp: {variant: 2, history: maybe}\n"
	_, err := experiment.Parse([]byte(src), "s2.yaml")
	want := "s2.yaml: 3 problems:\n  s2.yaml:3:7: field seed: expected a whole number, got a string \"x\"\n  s2.yaml:5:16: field tpp.variant: unknown variant \"2\" (want binary or graded)\n  s2.yaml:5:28: field tpp.history: expected true or false"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	src = "name: s2\nstudy: tpp\nreplicates: -1\npopulation: {source: sample, n: 10}\nscenarios: [helping]\ntpp: {variant: x}\n"
	_, err = experiment.Parse([]byte(src), "s2.yaml")
	want = "s2.yaml: 3 problems:\n  s2.yaml:3:13: field replicates: -1 is out of range 1..10000\n  s2.yaml:5:12: field scenarios: not used by study: tpp (the game is the scenario)\n  s2.yaml:6:16: field tpp.variant: unknown variant \"x\""
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}
