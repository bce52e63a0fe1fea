package schema

import (
	"os"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// corpusSchemas are the schemas testdata/replies.yaml names.
var corpusSchemas = map[string]Schema{
	"willingness": likert,
	"unfairness":  {Fields: []Field{{Name: "unfairness", Kind: Likert, Min: 0, Max: 10}}},
	"give":        amount,
	"decision":    choice,
	"multi":       multi,
}

// TestCorpus checks the verdict on every reply of testdata/replies.yaml: chatty, fenced,
// reasoning-then-answer, refusals and noise.
func TestCorpus(t *testing.T) {
	data, err := os.ReadFile("testdata/replies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Schema  string             `yaml:"schema"`
		Reply   string             `yaml:"reply"`
		Want    map[string]float64 `yaml:"want"`
		Invalid string             `yaml:"invalid"`
	}
	if err := yaml.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 40 {
		t.Fatalf("corpus has %d replies, want at least 40", len(cases))
	}
	for i, c := range cases {
		s, ok := corpusSchemas[c.Schema]
		if !ok || (c.Want == nil) == (c.Invalid == "") {
			t.Fatalf("case %d: bad entry (schema %q; give exactly one of want, invalid)", i, c.Schema)
		}
		got, err := Parse(s, c.Reply)
		switch {
		case c.Invalid != "" && err == nil:
			t.Errorf("case %d %q: accepted as %v, want invalid (%s)", i, c.Reply, got, c.Invalid)
		case c.Invalid != "" && !strings.Contains(err.Error(), c.Invalid):
			t.Errorf("case %d %q: reason %q, want it to contain %q", i, c.Reply, err, c.Invalid)
		case c.Want != nil && err != nil:
			t.Errorf("case %d %q: %v, want %v", i, c.Reply, err, c.Want)
		case c.Want != nil && !sameValues(got, c.Want):
			t.Errorf("case %d %q: got %v, want %v", i, c.Reply, got, c.Want)
		}
	}
}
