package yamlx

import "testing"

// A '{' or '[' left open is reported where it was opened, with where the parser noticed (QA12:
// "exp6.yaml:6:1: field scenarios: ',' or '}' must be specified" for a '{' of line 5).
func TestUnclosedBracketPlacedWhereOpened(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"name: e6\npopulation: {source: sample, n: 4\nscenarios: [volunteering]\n",
			"exp.yaml:2:13: field population: the { opened here is not closed (noticed at 3:1)"},
		{"name: e6\npopulation: {source: sample, n: 4\n",
			"exp.yaml:2:13: field population: the { opened here is not closed (the file ends first)"},
		{"name: e6\nscenarios: [volunteering\nseed: 1\n",
			"exp.yaml:2:12: field scenarios: the [ opened here is not closed (noticed at 3:1)"},
		{"name: e6\nscenarios: [volunteering\n",
			"exp.yaml:2:12: field scenarios: the [ opened here is not closed (the file ends first)"},
		// The innermost open bracket of the kind the parser wants closed.
		{"name: e6\nc:\n  - {a: [1, 2}\n", "exp.yaml:3:9: the [ opened here is not closed (noticed at 3:14)"},
		{"name: e6\nc: [a, {b: 2]\n", "exp.yaml:2:8: field c: the { opened here is not closed (noticed at 2:13)"},
		{"name: e6\nc: {a: {b: 1}\nd: 2\n", "exp.yaml:2:4: field c: the { opened here is not closed (noticed at 3:1)"},
		// Quoted brackets are text.
		{"name: e6\nc: {a: \"{[\", b: 1\nd: 2\n", "exp.yaml:2:4: field c: the { opened here is not closed (noticed at 3:1)"},
	} {
		for _, parse := range []func([]byte, string) (*Doc, error){Parse, ParseFile} {
			_, err := parse([]byte(c.src), "exp.yaml")
			if err == nil || err.Error() != c.want {
				t.Errorf("%q:\n got %v\nwant %s", c.src, err, c.want)
			}
		}
	}
}

// A key given twice is placed as prosim places things ("first at 3:1", not "[3:1]").
func TestDuplicateKeyWorded(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"name: d\nseed: 1\nseed: 2\n", `exp.yaml:3:1: field seed: "seed" is given twice (first at 2:1)`},
		{"name: d\nc:\n  - {a: 1, a: 2}\n", `exp.yaml:3:12: "a" is given twice (first at 3:6)`},
	} {
		if _, err := ParseFile([]byte(c.src), "exp.yaml"); err == nil || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.src, err, c.want)
		}
	}
}
