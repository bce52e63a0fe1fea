package scenario

import (
	"os"
	"path/filepath"
	"testing"
)

// LoadFileSound adds a file's scenarios that have no problem of their own, and returns the
// file's problems; LoadFile adds none of them.
func TestLoadFileSoundAddsTheSoundEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	src := "- id: good_one\n  kind: vignette\n  text: t\n  question: q\n" +
		"  response: {fields: [{name: w, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}]}\n" +
		"- id: bad_one\n  kind: vignete\n  text: t\n  question: q\n" +
		"  response: {fields: [{name: w, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}]}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		load func(*Library, string) error
		good bool
	}{{"LoadFile", (*Library).LoadFile, false}, {"LoadFileSound", (*Library).LoadFileSound, true}} {
		l, err := Builtin()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.load(l, path); err == nil {
			t.Fatalf("%s: no error", c.name)
		}
		if _, ok := l.Get("good_one"); ok != c.good {
			t.Errorf("%s: good_one in the library: %v, want %v", c.name, ok, c.good)
		}
		if _, ok := l.Get("bad_one"); ok {
			t.Errorf("%s: bad_one in the library", c.name)
		}
	}
}
