package yamlx

import (
	"strings"
	"testing"
)

// Doc.DecodeAll leaving keys out decodes what is left of the file as the file with those
// keys' lines blanked did (what experiment files were decoded as, parsed again): the same
// value, the same problems at the same places, "file is empty" when only blank lines are left.
func TestDecodeAllWithoutKeysIsTheBlankedFile(t *testing.T) {
	omit := func(k string) bool { return k == "block" }
	for _, src := range []string{
		"name: a\nblock:\n  x: 1\n  y: [2, 3]\nreplicates: 3\n",
		"name: a\nblock: {x: 1.5}\nreplicates: 3\n",
		"block:\n  x: 1\nname: a\nreplicatse: 3\nconditions:\n  - {policy: [m], weight: 2.5}\n  - {wieght: 1}\n",
		"# only a block\nblock: {x: 1}\n",
		"\n\nblock: {x: 1}\n# after\n",
		"---\nblock: {x: 1}\n",
		"name: a\nreplicates: 2.5\nblock: 1\n",
		"name: a\nreplicates: .5\n",
		"- name: a\n",
		"# nothing\n",
		"name: a\nblock:\n",
	} {
		var got, want outer
		d, err := ParseFile([]byte(src), "f.yaml")
		if err != nil {
			t.Fatal(err)
		}
		gotErr := d.DecodeAll(&got, omit)
		wantErr := DecodeAll([]byte(blankKey(src, "block")), "f.yaml", &want)
		if fmtErr(gotErr) != fmtErr(wantErr) || fmtErr(gotErr) == "nil" && got.Name != want.Name {
			t.Errorf("%q:\ngot  %s %+v\nwant %s %+v", src, fmtErr(gotErr), got, fmtErr(wantErr), want)
		}
	}
}

// blankKey is src with the lines of top-level key k blanked, from its line to the next key's.
func blankKey(src, k string) string {
	lines := strings.Split(src, "\n")
	in := false
	for i, l := range lines {
		top := l != "" && l[0] != ' ' && l[0] != '#' && l[0] != '-'
		if top {
			in = strings.HasPrefix(l, k+":")
		}
		if in {
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n")
}

func fmtErr(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// A file is lexed and parsed once, whatever the checks of its limits need: its tokens are the
// parser's.
func TestParseFileParsesOnce(t *testing.T) {
	before := Parses("once.yaml")
	d, err := ParseFile([]byte("a: &x [1, 2]\nb: *x\n"), "once.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var v map[string][]int
	if err := d.DecodeAll(&v, nil); err != nil || len(v["b"]) != 2 {
		t.Fatalf("%v %v", v, err)
	}
	if n := Parses("once.yaml") - before; n != 1 {
		t.Errorf("parsed %d times", n)
	}
	if _, err := ParseFile([]byte(" \n\t\n"), "blank.yaml"); err == nil || err.Error() != "blank.yaml: file is empty" {
		t.Errorf("a blank file: %v", err)
	}
}
