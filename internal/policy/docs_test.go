package policy

import (
	"os"
	"regexp"
	"testing"

	"github.com/prosim/prosim/internal/scenario"
)

// The examples in docs/scenarios.md must load and render: users copy them.
func TestDocExamples(t *testing.T) {
	md, err := os.ReadFile("../../docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(md), -1)
	if len(blocks) != 2 {
		t.Fatalf("found %d yaml blocks, want 2", len(blocks))
	}
	scs, err := scenario.Load([]byte(blocks[0][1]), "docs/scenarios.md#scenario")
	if err != nil {
		t.Fatal(err)
	}
	frames, err := Load([]byte(blocks[1][1]), "docs/scenarios.md#policy")
	if err != nil {
		t.Fatal(err)
	}
	text, err := frames[0].Text(scs[0].ID, "yuan")
	if err != nil {
		t.Fatal(err)
	}
	p, err := scenario.Compose(scs[0], nil, "yuan", text)
	if err != nil {
		t.Fatal(err)
	}
	if want := "a 200 yuan meal allowance"; !regexp.MustCompile(want).MatchString(p) {
		t.Errorf("prompt lacks %q:\n%s", want, p)
	}
	if want := scs[0].Response.Instructions(); !regexp.MustCompile(regexp.QuoteMeta(`{"willingness": <integer 1-7>}, where willingness is how willing you are to give blood`)).MatchString(want) {
		t.Errorf("instructions in the doc are out of date: %s", want)
	}
}
