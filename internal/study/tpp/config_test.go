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
		base + "tpp: {varant: graded}\n": "s2.yaml:5:7: field varant: unknown field",
		base + "scenarios: [helping]\n":  "s2.yaml:5:12: field scenarios: not used by study: tpp",
		strings.Replace(base, "study: tpp", "study: vignettes", 1) + "scenarios: [helping]\ntpp: {variant: graded}\n": "s2.yaml:6:6: field tpp: only for study: tpp",
	} {
		if _, err := experiment.Parse([]byte(src), "s2.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q for\n%s", err, want, src)
		}
	}
}
