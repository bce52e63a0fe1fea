package yamlx

import (
	"slices"
	"strings"
	"testing"
)

// DecodeSound decodes the rest of a file with problems: the fields they are placed at are left
// out, a list's entry made null so that the others keep their places.
func TestDecodeSoundLeavesOutTheProblems(t *testing.T) {
	src := "name: a\nreplicates: three\nconditions:\n  - policy: moral\n    wieght: 2\n  - moral\n  - {policy: social, weight: 4}\n"
	d, err := ParseFile([]byte(src), "exp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var v outer
	undecoded, ok, err := d.DecodeSound(&v, nil)
	if !ok || err == nil || !strings.HasPrefix(err.Error(), "exp.yaml: 3 problems:") {
		t.Fatalf("ok %v, err %v", ok, err)
	}
	want := outer{Name: "a", Conditions: []inner{{Policy: "moral"}, {}, {Policy: "social", Weight: 4}}}
	if v.Name != want.Name || v.Replicates != 0 || !slices.Equal(v.Conditions, want.Conditions) {
		t.Errorf("decoded %+v, want %+v", v, want)
	}
	// The misspelt key's field (its hint) is not decoded either: its zero value is no value.
	if w := []string{"replicates", "conditions[0].wieght", "conditions[0].weight", "conditions[1]"}; !slices.Equal(undecoded, w) {
		t.Errorf("undecoded %q, want %q", undecoded, w)
	}
	// A file without problems decodes whole.
	d, _ = ParseFile([]byte("name: a\nreplicates: 3\n"), "exp.yaml")
	if undecoded, ok, err := d.DecodeSound(&v, nil); !ok || err != nil || undecoded != nil || v.Replicates != 3 {
		t.Errorf("valid file: %v %v %v %+v", undecoded, ok, err, v)
	}
	// Aliases are expanded: every problem is found, and the rest decoded (errs3 #3).
	d, _ = ParseFile([]byte("name: &n a\nreplicates: three\nconditions: [{policy: *n, weight: x}]\n"), "exp.yaml")
	if undecoded, ok, err := d.DecodeSound(&v, nil); !ok || err == nil || !slices.Equal(undecoded, []string{"replicates", "conditions[0].weight"}) || v.Conditions[0].Policy != "a" {
		t.Errorf("aliases: ok %v, undecoded %q, err %v, %+v", ok, undecoded, err, v)
	}
}

// A file with anchors, aliases and merge keys reports every problem (errs3 #3: only the
// first), an aliased value's at its anchor, once for each field that names it; a merged key
// the mapping writes itself is its own.
func TestEveryProblemWithAliases(t *testing.T) {
	src := `name: a
replicates: three
base: &b {policy: moral, weight: x}
conditions:
  - *b
  - <<: *b
    weight: 2
    colour: red
  - {policy: [p], weight: 1}
`
	type file struct {
		Name       string  `yaml:"name"`
		Replicates int     `yaml:"replicates"`
		Base       inner   `yaml:"base"`
		Conditions []inner `yaml:"conditions"`
	}
	var v file
	err := DecodeAll([]byte(src), "exp.yaml", &v)
	want := `exp.yaml: 5 problems:
  exp.yaml:2:13: field replicates: expected a whole number, got a string "three"
  exp.yaml:3:34: field base.weight: expected a whole number, got a string "x"
  exp.yaml:3:34: field conditions[0].weight: expected a whole number, got a string "x"
  exp.yaml:8:5: field conditions[1].colour: unknown field (check its spelling and indentation)
  exp.yaml:9:14: field conditions[2].policy: expected a string, got a list of 1 item`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

// An unknown key without a hint stands for no field: the fields its mapping leaves out are
// not undecoded, so that a check that a required one is there runs beside it (errs3 #1). A
// file that is a list has its entries of the wrong type made null, in their places.
func TestDecodeSoundUnhintedKeysAndListFiles(t *testing.T) {
	d, _ := ParseFile([]byte("- {policy: moral, xyzzy: 2}\n- moral\n- {policy: social}\n"), "l.yaml")
	var v []inner
	undecoded, ok, err := d.DecodeSound(&v, nil)
	if !ok || err == nil {
		t.Fatalf("ok %v, err %v", ok, err)
	}
	if w := []string{"[0].xyzzy", "[1]"}; !slices.Equal(undecoded, w) {
		t.Errorf("undecoded %q, want %q", undecoded, w)
	}
	if w := []inner{{Policy: "moral"}, {}, {Policy: "social"}}; !slices.Equal(v, w) {
		t.Errorf("decoded %+v, want %+v", v, w)
	}
	for _, c := range []struct {
		path, outer string
		in          bool
	}{{"[1].id", "", true}, {"[1].id", "[1]", true}, {"backends[0].model", "backend", false}, {"backends[0].model", "backends", true}, {"a", "a", false}} {
		if Within(c.path, c.outer) != c.in {
			t.Errorf("Within(%q, %q) = %v", c.path, c.outer, !c.in)
		}
	}
}
