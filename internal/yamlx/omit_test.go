package yamlx

import (
	"strings"
	"testing"
)

// DecodeAll leaves out the fields omit names at any depth ("conditions[1].weight"), so that a
// field its owner decodes from the file itself (a study's inequity, half a million agent ids)
// is not decoded twice; the parse is not changed: the field is still found, and decoded, at
// its place.
func TestDecodeAllOmitsNestedFields(t *testing.T) {
	src := "name: a\nconditions:\n  - {policy: x, weight: 1}\n  - policy: y\n    weight: 2\n  - {weight: 3}\n"
	d, err := ParseFile([]byte(src), "exp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	var v outer
	err = d.DecodeAll(&v, func(p string) bool {
		paths = append(paths, p)
		return p == "conditions[1].weight" || p == "conditions[2].weight"
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Conditions) != 3 || v.Conditions[0].Weight != 1 || v.Conditions[1].Weight != 0 || v.Conditions[1].Policy != "y" || v.Conditions[2].Weight != 0 {
		t.Errorf("decoded %+v", v)
	}
	if got := strings.Join(paths, " "); got != "name conditions conditions[0].policy conditions[0].weight conditions[1].policy conditions[1].weight conditions[2].weight" {
		t.Errorf("omit asked about %s", got)
	}
	var w int
	if found, err := d.DecodeAt("conditions[1].weight", &w); !found || err != nil || w != 2 {
		t.Errorf("the parse lost the field: %v %v %d", found, err, w)
	}
	// The problems of what is decoded are placed as before; the fields left out have none.
	bad, _ := ParseFile([]byte("name: a\nconditions:\n  - {policy: x, weight: [1]}\n  - {policy: [y], weight: z}\n"), "exp.yaml")
	err = bad.DecodeAll(&v, func(p string) bool { return p == "conditions[1].weight" || p == "conditions[0].weight" })
	if err == nil || !strings.HasPrefix(err.Error(), `exp.yaml:4:14: field conditions[1].policy: expected a string, got a list`) {
		t.Errorf("got %v", err)
	}
}
