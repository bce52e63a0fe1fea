package yamlx

import (
	"fmt"
	"strings"
	"testing"
)

type inner struct {
	Policy string `yaml:"policy"`
	Weight int    `yaml:"weight"`
}

type outer struct {
	Name       string  `yaml:"name"`
	Replicates int     `yaml:"replicates"`
	Conditions []inner `yaml:"conditions"`
}

func TestDecodeReportsLineAndField(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"unknown field", "name: a\nreplicatse: 3\n", "exp.yaml:2:1: field replicatse: unknown field"},
		{"wrong type", "name: a\nreplicates: three\n", "exp.yaml:2:13: field replicates: expected a whole number, got a string \"three\""},
		{"nested unknown", "name: a\nconditions:\n  - policy: moral\n    wieght: 2\n", "exp.yaml:4:5: field wieght: unknown field"},
		{"nested type", "name: a\nconditions:\n  - policy: moral\n    weight: [1]\n", "exp.yaml:4:13: field weight: expected a whole number"},
		{"duplicate key", "name: a\nname: b\n", "exp.yaml:2:1:"},
		{"syntax", "name: [a\n", "exp.yaml:"},
		{"empty", "  \n", "exp.yaml: file is empty"},
		{"scalar for a mapping", "name: a\nconditions:\n  - moral\n", "exp.yaml:3:5: expected a mapping (key: value lines, or {key: value, ...}), got a string \"moral\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v outer
			err := Decode([]byte(c.src), "exp.yaml", &v)
			if err == nil {
				t.Fatalf("no error for %q", c.src)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got  %q\nwant prefix %q", err.Error(), c.want)
			}
		})
	}
}

func TestDecodeAcceptsValid(t *testing.T) {
	var v outer
	if err := Decode([]byte("name: a\nreplicates: 3\nconditions:\n  - {policy: moral, weight: 2}\n"), "x.yaml", &v); err != nil {
		t.Fatal(err)
	}
	if v.Replicates != 3 || v.Conditions[0].Policy != "moral" || v.Conditions[0].Weight != 2 {
		t.Errorf("decoded %+v", v)
	}
}

func TestDocErrorfLocatesFieldOrNearestParent(t *testing.T) {
	src := "name: a\nconditions:\n  - policy: moral\n  - policy: bogus\n"
	d, err := Parse([]byte(src), "exp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Errorf("conditions[1].policy", "unknown policy %q", "bogus").Error(); got != `exp.yaml:4:13: field conditions[1].policy: unknown policy "bogus"` {
		t.Errorf("got %q", got)
	}
	// weight is absent: the error points at its condition.
	e := d.Errorf("conditions[1].weight", "required")
	if e.Line != 4 {
		t.Errorf("absent field located at line %d, want 4 (its parent)", e.Line)
	}
}

// A field missing from a mapping points at the key naming the mapping, or at the first key of
// a list entry, not at the mapping's own token (a block mapping's is its first key's ':').
func TestDocErrorfMissingFieldPointsAtKey(t *testing.T) {
	src := "name: a\npopulation:\n  source: sample\nflow: {a: 1}\nbackends:\n  - provider: openai\n    temperature: 0\n  - {provider: x}\n"
	d, err := Parse([]byte(src), "exp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"population.n":      "2:1",  // the key population, not source's ':' (3:9)
		"population":        "2:1",  // a mapping itself
		"flow.b":            "4:1",  // a flow mapping named by a key: the key, not '{'
		"backends[0].model": "6:5",  // the entry's first key, not provider's ':' (6:13)
		"backends[1].model": "8:5",  // an unnamed flow mapping: its '{'
		"population.source": "3:11", // a value present: the value
		"missing":           "",     // a top-level field: the file
	} {
		e := d.Errorf(path, "required")
		if got := fmt.Sprintf("%d:%d", e.Line, e.Col); got != want && !(want == "" && e.Line == 0) {
			t.Errorf("%s at %s, want %s", path, got, want)
		}
	}
}

// Has tells a field written (a zero or a null among them) from one left out.
func TestDocHas(t *testing.T) {
	d, err := Parse([]byte("network:\n  graph: {type: ring, k: 0}\n  rounds:\nconditions: [{policy: moral}]\n"), "exp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{"network.graph.k": true, "network.rounds": true, "conditions[0].policy": true,
		"network.graph.p": false, "conditions[1].policy": false, "population": false} {
		if got := d.Has(path); got != want {
			t.Errorf("Has(%q) = %v, want %v", path, got, want)
		}
	}
	if (*Doc)(nil).Has("network") {
		t.Error("a nil Doc has a field")
	}
}

// A number the field's Go type cannot hold is named without Go's words.
func TestOverflowIsSaidPlainly(t *testing.T) {
	var v struct {
		Seed       uint64 `yaml:"seed"`
		Replicates int    `yaml:"replicates"`
	}
	for src, want := range map[string]string{
		"seed: -1\n":                         "exp.yaml:1:7: field seed: -1: a negative number where a whole number from 0 is wanted",
		"replicates: 99999999999999999999\n": "exp.yaml:1:13: field replicates: 99999999999999999999 is too large a number for this field",
	} {
		if err := Decode([]byte(src), "exp.yaml", &v); err == nil || err.Error() != want {
			t.Errorf("%q: %v\nwant %s", src, err, want)
		}
	}
}

// A value of the wrong type is told in the user's words, by one rule for lists and mappings
// however written (flow or block) and wherever found (a field, a list's entry, a map's
// value): its size, a mapping's first keys, a scalar's value; never the token it begins with
// (`got a list "["`, `got a mapping ":"`), nor the parser's "sequence was used where ...".
func TestFoundInTheUsersWords(t *testing.T) {
	type typed struct {
		N     int               `yaml:"n"`
		S     string            `yaml:"s"`
		L     []string          `yaml:"l"`
		M     map[string]string `yaml:"m"`
		Inner inner             `yaml:"inner"`
		List  []inner           `yaml:"list"`
	}
	for _, c := range []struct{ src, want string }{
		{"n: [1, 2, 3]\n", "q.yaml:1:4: field n: expected a whole number, got a list of 3 items"},
		{"n:\n  - 1\n", "q.yaml:2:3: field n: expected a whole number, got a list of 1 item"},
		{"n: []\n", "q.yaml:1:4: field n: expected a whole number, got an empty list"},
		{"n: {a: 1, b: 2}\n", "q.yaml:1:4: field n: expected a whole number, got a mapping of 2 keys: a, b"},
		{"n:\n  a: 1\n  b: 2\n  c: 3\n  d: 4\n", "field n: expected a whole number, got a mapping of 4 keys: a, b, c, ..."},
		{"s: {x: 1}\n", "q.yaml:1:4: field s: expected a string, got a mapping of 1 key: x"},
		{"s: [x]\n", "q.yaml:1:4: field s: expected a string, got a list of 1 item"},
		{"n: three\n", `q.yaml:1:4: field n: expected a whole number, got a string "three"`},
		{"n: |\n  three\n  lines\n", `q.yaml:1:4: field n: expected a whole number, got a string "three\nlines\n"`},
		{"n: >\n  folded\n", `q.yaml:1:4: field n: expected a whole number, got a string "folded\n"`},
		{"l: helping\n", `q.yaml:1:4: field l: expected a list (- item lines, or [a, b, ...]), got a string "helping"`},
		{"l: 3\n", `q.yaml:1:4: field l: expected a list (- item lines, or [a, b, ...]), got the whole number 3`},
		{"l: {a: b}\n", `q.yaml:1:4: field l: expected a list (- item lines, or [a, b, ...]), got a mapping of 1 key: a`},
		{"l: [[x, y]]\n", `q.yaml:1:5: field l[0]: expected a string, got a list of 2 items`},
		{"m: {a: [x]}\n", `q.yaml:1:8: field m.a: expected a string, got a list of 1 item`},
		{"m: [a]\n", `q.yaml:1:4: field m: expected a mapping (key: value lines, or {key: value, ...}), got a list of 1 item`},
		{"inner: [policy, moral]\n", `q.yaml:1:8: field inner: expected a mapping (key: value lines, or {key: value, ...}), got a list of 2 items`},
		{"list: [moral]\n", `q.yaml:1:8: field list[0]: expected a mapping (key: value lines, or {key: value, ...}), got a string "moral"`},
		{"list: [{weight: {w: 1}}]\n", `q.yaml:1:17: field list[0].weight: expected a whole number, got a mapping of 1 key: w`},
	} {
		var v typed
		err := DecodeAll([]byte(c.src), "q.yaml", &v)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %s", c.src, err, c.want)
		}
	}
}
