package schema

import (
	"reflect"
	"strings"
	"testing"
)

// sameAsText checks that parseFlat, when it takes a reply, gives what parseText gives, and
// returns whether it took it.
func sameAsText(t *testing.T, s Schema, text string) bool {
	t.Helper()
	vals, ok, err := parseFlat(s, text)
	if !ok {
		return false
	}
	if err == nil {
		err = s.Validate(vals)
		if err != nil {
			vals = nil
		}
	}
	want, werr := parseText(s, text)
	if (err != nil) != (werr != nil) || err != nil && err.Error() != werr.Error() || !reflect.DeepEqual(vals, want) {
		t.Fatalf("%q: flat %v, %v; text %v, %v", text, vals, err, want, werr)
	}
	return true
}

var flatSchemas = []Schema{likert, choice, amount, multi,
	{Fields: []Field{{Name: "unfairness", Kind: Likert, Min: 0, Max: 10}}},
	{Fields: []Field{{Name: "Give Amount", Kind: Amount, Min: 0, Max: 30, Step: 0.5}}}}

// The objects models send take the short road and read as parseText reads them: values,
// errors and validation alike.
func TestParseFlat(t *testing.T) {
	for _, text := range []string{
		`{"willingness": 6}`, `{"willingness":6}`, "{\n  \"willingness\": 2\n}", `{"willingness": 6.0}`,
		`{"willingness": 6.5}`, `{"willingness": 9}`, `{"willingness": -0}`, `{"willingness": 1e0}`, `{"Willingness ": 3}`,
		`{"rating": 3}`, `{"decision": 1}`, `{"decision": 7}`, `{"give": 12, "reason": 4}`, `{"give": 1e999}`,
		`{"decision": 0, "valence": 6, "arousal": 3}`, `{"valence": 6, "arousal": 3}`, `{"unfairness": 10}`,
		`{"give amount": 2.5}`,
	} {
		took := false
		for _, s := range flatSchemas {
			took = sameAsText(t, s, text) || took
		}
		if !took {
			t.Errorf("%q took the short road for no schema", text)
		}
	}
	for _, text := range []string{
		`{"x": 3}`, `{"willingness": "6"}`, `{"willingness": 6, "willingness": 5}`, `{"willingness": 6, "WILLINGNESS": 5}`,
		`{"willingness": {"a": 1}}`, `{"will{ingness": 6}`, `{"willingness": 06}`, `{"willingness": 6,}`, `{}`,
		`{"willingness": 6} {"willingness": 6}`, "```{\"willingness\": 6}```", `{"willingness": .5}`, `{"w\u00e9": 6}`,
		`{"willingness": 6`, `{"willingness": null}`, `{"score": 4, "x": 1}`, `{"willingness": [6]}`, "{\"willingness\":\u00a06}",
	} {
		for _, s := range flatSchemas {
			if sameAsText(t, s, text) {
				t.Errorf("%q took the short road", text)
			}
		}
	}
}

// Run: go test ./internal/schema -run '^$' -fuzz FuzzParseFlat -fuzztime 60s
func FuzzParseFlat(f *testing.F) {
	for _, s := range []string{`{"willingness": 6}`, `{"decision": 0, "valence": 6, "arousal": 3}`, `{"rating": 3}`,
		`{"give": 12.5e-1, "Reason ": 4}`, `{"Willingness":-0.0}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		text := strings.TrimSpace(raw)
		for _, s := range flatSchemas {
			sameAsText(t, s, text)
		}
	})
}
