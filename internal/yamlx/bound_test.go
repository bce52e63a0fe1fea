package yamlx

import (
	"strings"
	"testing"
)

// A message quotes at most ClipBytes of a value and says how long it was, whatever the value:
// a CSV given where a YAML file is expected (one string of a megabyte) and a 100,000-character
// value or key were printed whole (QA14 F4: 1,000,118 bytes for a 1 MB CSV).
func TestMessagesQuoteABoundedPrefix(t *testing.T) {
	big := strings.Repeat("x", 100000)
	for _, c := range []struct{ src, want string }{
		{"id,gender\n" + strings.Repeat("1,"+big+"\n", 10),
			`exp.yaml:1:1: expected a mapping (key: value lines, or {key: value, ...}), got a string "id,gender 1,xxxxxxxxxxxxxxxxxxxxxxxxxxxx..." (1000039 bytes)`},
		{"name: a\nreplicates: " + big + "\n",
			`exp.yaml:2:13: field replicates: expected a whole number, got a string "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..." (100000 bytes)`},
		{"name: a\nreplicates: 1." + strings.Repeat("5", 1000) + "\n",
			`exp.yaml:2:13: field replicates: expected a whole number, got 1.55555555555555555555555555555555555555... (1002 bytes)`},
		{"name: a\ny" + big + ": 1\n",
			`exp.yaml:2:1: field yxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...: unknown field (check its spelling and indentation)`},
	} {
		var v outer
		err := Decode([]byte(c.src), "exp.yaml", &v)
		if err == nil || err.Error() != c.want {
			got := "<nil>"
			if err != nil {
				got = err.Error()[:min(300, len(err.Error()))]
			}
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
	// Any message's quoted values and field are bounded when printed, whoever built it.
	e := &Error{File: "f.yaml", Line: 3, Col: 1, Field: strings.Repeat("k", 1000), Msg: `unknown policy "` + big + `" (want "a" or "b")`}
	want := `f.yaml:3:1: field ` + strings.Repeat("k", 200) + `... (1000 bytes): unknown policy "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..." (100000 bytes) (want "a" or "b")`
	if got := e.Error(); got != want {
		t.Errorf("got  %.400s\nwant %s", got, want)
	}
	e = &Error{File: "f.yaml", Msg: strings.Repeat("m ", 5000)}
	if got := e.Error(); len(got) > maxMsgBytes+40 || !strings.HasSuffix(got, "... (10000 bytes)") {
		t.Errorf("an unbounded message: %d bytes, ends %q", len(got), got[len(got)-30:])
	}
	// A value Quote cut is not cut again.
	if got := clipQuoted(`a ` + Quote(big) + ` and ` + Quote(big)); got != `a "`+big[:40]+`..." (100000 bytes) and "`+big[:40]+`..." (100000 bytes)` {
		t.Errorf("cut twice: %s", got)
	}
}
