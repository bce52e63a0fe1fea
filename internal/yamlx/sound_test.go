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
	// Aliases stop the fields being decoded apart: no rest.
	d, _ = ParseFile([]byte("name: &n a\nreplicates: three\nconditions: [{policy: *n, weight: x}]\n"), "exp.yaml")
	if _, ok, err := d.DecodeSound(&v, nil); ok || err == nil {
		t.Errorf("aliases: ok %v, err %v", ok, err)
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
