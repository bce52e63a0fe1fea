package robust

import (
	"math"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/termtable"
)

func TestSummaryFitsEightyColumnsAndKeepsEveryVerdict(t *testing.T) {
	nan := math.NaN()
	pos := Estimate{Value: -1.7, Lo: -2.2, Hi: -1.3, P: nan}
	flat := Estimate{Value: -0.1, Lo: -0.5, Hi: 0.3, P: nan}
	victims := Claim{Backend: "builtin", Condition: "reward", Name: "willingness effect on victims, day 7", Pooled: pos}
	d1 := Claim{Backend: "builtin", Condition: "reward", Name: "willingness effect on distance 1, day 7", Pooled: pos}
	rows := []Row{
		{Claim: victims, Factor: "wording", Level: "original", Within: pos},
		{Claim: victims, Factor: "wording", Level: "p1", Within: pos},
		{Claim: victims, Factor: "temperature", Level: "0.7", Within: flat},
		{Claim: victims, Factor: "temperature", Level: "1.0", Within: pos},
		{Claim: d1, Factor: "wording", Level: "original", Within: flat},
		{Claim: d1, Factor: "wording", Level: "p1", Within: flat},
		{Claim: d1, Factor: "temperature", Level: "0.7", Within: pos},
		{Claim: d1, Factor: "temperature", Level: "1.0", Within: pos},
	}
	var b strings.Builder
	if err := Summary(termtable.Fit(&b, 80), rows, builtinNote); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, l := range strings.Split(out, "\n") {
		if len([]rune(l)) > 80 {
			t.Errorf("%d columns: %q", len([]rune(l)), l)
		}
	}
	// The table says yes or no; the list under it gives each "no" with its levels.
	if !strings.Contains(out, "negative  yes      no\n") || !strings.Contains(out, "negative  no       yes\n") {
		t.Errorf("table:\n%s", out)
	}
	words := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{
		"- builtin, reward, willingness effect on victims, day 7, negative: temperature (0.7: not significant)",
		"- builtin, reward, willingness effect on distance 1, day 7, negative: wording (original: not significant, p1: not significant)",
	} {
		if !strings.Contains(words, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	// Without a width (a file, a pipe) the same words, each item on one line.
	b.Reset()
	if err := Summary(&b, rows, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\n- builtin, reward, willingness effect on victims, day 7, negative: temperature (0.7: not significant)\n") {
		t.Errorf("without a width:\n%s", b.String())
	}
}
