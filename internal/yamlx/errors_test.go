package yamlx

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Three independent decoding problems (a wrong type at the top, an unknown field and a wrong
// type inside a list) are reported together, in file order, each at its line.
func TestDecodeAllReportsEveryProblem(t *testing.T) {
	src := "name: a\nreplicates: three\nconditions:\n  - policy: moral\n    wieght: 2\n  - policy: social\n    weight: [1]\n"
	var v outer
	err := DecodeAll([]byte(src), "exp.yaml", &v)
	var es *Errors
	if !errors.As(err, &es) {
		t.Fatalf("want *Errors, got %T %v", err, err)
	}
	want := []string{
		`exp.yaml:2:13: field replicates: expected a whole number, got a string "three"`,
		`exp.yaml:5:5: field conditions[0].wieght: unknown field (did you mean weight?)`,
		`exp.yaml:7:13: field conditions[1].weight: expected a whole number`,
	}
	if len(es.Errs) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(es.Errs), len(want), err)
	}
	for i, w := range want {
		if got := es.Errs[i].Error(); !strings.HasPrefix(got, w) {
			t.Errorf("problem %d:\n got %s\nwant %s...", i, got, w)
		}
	}
	if !strings.HasPrefix(err.Error(), "exp.yaml: 3 problems:\n  exp.yaml:2:13: field replicates") {
		t.Errorf("message:\n%s", err)
	}
	// errors.As finds the first.
	var first *Error
	if !errors.As(err, &first) || first.Line != 2 {
		t.Errorf("errors.As found %v", first)
	}
}

// One problem is reported as itself, as Decode reports it; a syntax error alone.
func TestDecodeAllOneProblem(t *testing.T) {
	var v outer
	err := DecodeAll([]byte("name: a\nreplicates: three\n"), "exp.yaml", &v)
	if _, ok := err.(*Error); !ok || !strings.HasPrefix(err.Error(), "exp.yaml:2:13: field replicates:") {
		t.Fatalf("got %T %v", err, err)
	}
	err = DecodeAll([]byte("name: [a\nreplicates: three\n"), "exp.yaml", &v)
	if _, ok := err.(*Error); !ok {
		t.Fatalf("syntax error: got %T %v", err, err)
	}
	if err := DecodeAll([]byte("name: a\nreplicates: 3\n"), "exp.yaml", &v); err != nil || v.Replicates != 3 {
		t.Fatalf("valid file: %v %+v", err, v)
	}
}

func TestListSortsCapsAndJoins(t *testing.T) {
	defer func(n int) { MaxErrors = n }(MaxErrors)
	MaxErrors = 3
	l := NewList("f.yaml")
	if l.Err() != nil {
		t.Fatal("empty list is an error")
	}
	for _, line := range []int{9, 2, 7, 4, 5} {
		l.Add(&Error{File: "f.yaml", Line: line, Col: 1, Msg: fmt.Sprint("at ", line)})
	}
	l.Add(nil)
	err := l.Err()
	want := "f.yaml: 5 problems:\n  f.yaml:2:1: at 2\n  f.yaml:4:1: at 4\n  f.yaml:5:1: at 5\n  ... and 2 more (the first 3 are shown)"
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err, want)
	}
	// A list added to another is merged; another file's list is joined after it.
	m := NewList("f.yaml")
	m.Add(&Error{File: "f.yaml", Line: 1, Msg: "first"})
	m.Add(err)
	if got := m.Err().(*Errors); len(got.Errs) != 3 || got.More != 3 || got.Errs[0].Msg != "first" {
		t.Errorf("merged: %v", got)
	}
	other := &Error{File: "g.yaml", Line: 3, Col: 2, Msg: "bad"}
	j := Join(err, nil, other)
	if !strings.HasSuffix(j.Error(), "more (the first 3 are shown)\ng.yaml:3:2: bad") {
		t.Errorf("joined:\n%s", j)
	}
	if !errors.Is(j, other) {
		t.Error("errors.Is does not find the second file's error")
	}
	var e *Error
	if !errors.As(j, &e) || e.Line != 2 {
		t.Errorf("errors.As found %v, want the first", e)
	}
	if Join(nil, nil) != nil || Join(nil, other) != other {
		t.Error("Join of nothing or one")
	}
}

// A number with a fraction where a whole number is wanted is an error (the YAML decoder
// would truncate it without a word); 2.0 is a whole number.
func TestFractionForAWholeNumber(t *testing.T) {
	var v outer
	err := DecodeAll([]byte("name: a\nreplicates: 0.5\nconditions:\n  - {policy: x, weight: 2.0}\n  - {policy: y, weight: 1.5}\n"), "exp.yaml", &v)
	want := "exp.yaml: 2 problems:\n  exp.yaml:2:13: field replicates: expected a whole number, got 0.5\n  exp.yaml:5:25: field conditions[1].weight: expected a whole number, got 1.5"
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	if err := Decode([]byte("name: a\nreplicates: 5e-1\n"), "exp.yaml", &v); err == nil || !strings.Contains(err.Error(), "expected a whole number, got 5e-1") {
		t.Errorf("5e-1: %v", err)
	}
	if err := Decode([]byte("name: a\nreplicates: 2.0\n"), "exp.yaml", &v); err != nil || v.Replicates != 2 {
		t.Fatalf("2.0: %v %d", err, v.Replicates)
	}
}

// A list takes MaxProblems and no more: a check over a million bad entries asks Enough and
// stops, and the message says the rest was not checked.
func TestListStopsAtMaxProblems(t *testing.T) {
	defer func(n, m int) { MaxErrors, MaxProblems = n, m }(MaxErrors, MaxProblems)
	MaxErrors, MaxProblems = 2, 5
	l := NewList("f.yaml")
	checked := 0
	for line := 1; line <= 1_000_000; line++ {
		if l.Enough() {
			break
		}
		checked++
		l.Add(&Error{File: "f.yaml", Line: line, Msg: "bad"})
	}
	if checked != 5 || l.Len() != 5 {
		t.Errorf("checked %d, took %d, want 5", checked, l.Len())
	}
	want := "f.yaml: at least 5 problems:\n  f.yaml:1: bad\n  f.yaml:2: bad\n  ... and 3 more (the first 2 are shown)\n  ... and more problems not checked (checking stops after 5)"
	if err := l.Err(); err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	// Merged into another list, it still says so.
	m := NewList("f.yaml")
	m.Add(l.Err())
	if e, ok := m.Err().(*Errors); !ok || !e.Stopped {
		t.Errorf("merged: %v", m.Err())
	}
	// Exactly MaxProblems, all checked: nothing is said to be left.
	l = NewList("f.yaml")
	for line := 1; line <= 5; line++ {
		l.Add(&Error{File: "f.yaml", Line: line, Msg: "bad"})
	}
	if e := l.Err().(*Errors); e.Stopped {
		t.Errorf("five of five checked: %v", e)
	}
}

// Another file's list added to a file's list is told as that file's, under its own header,
// after this file's problems; Elsewhere says where a problem is located.
func TestListKeepsAnotherFilesList(t *testing.T) {
	edges := &Errors{File: "edges.csv", Errs: []*Error{{File: "edges.csv", Line: 3, Col: 3, Msg: "a"}, {File: "edges.csv", Line: 4, Col: 1, Msg: "b"}}}
	l := NewList("exp.yaml")
	l.Add(edges)
	l.Add(&Error{File: "exp.yaml", Line: 2, Col: 1, Msg: "c"})
	want := "exp.yaml:2:1: c\nedges.csv: 2 problems:\n  edges.csv:3:3: a\n  edges.csv:4:1: b"
	if got := l.Err().Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	for _, c := range []struct {
		err  error
		file string
		want bool
	}{
		{edges, "exp.yaml", true}, {edges, "edges.csv", false}, {fmt.Errorf("%w\n  hint", edges), "", true},
		{edges.Errs[0], "exp.yaml", true}, {&Error{Msg: "x"}, "exp.yaml", false}, {errors.New("x"), "", false},
	} {
		if got := Elsewhere(c.err, c.file); got != c.want {
			t.Errorf("Elsewhere(%v, %q) = %v", c.err, c.file, got)
		}
	}
}

// A quoted key is the field it names: "policy": is policy, known, and a problem under a
// quoted key names the field without its quotes (it was reported as the unknown field
// `conditions[0]."policy"`, and a wrong type under it by the Go field, Conditions).
func TestQuotedKeysAreTheirFields(t *testing.T) {
	src := "name: a\n'replicates': three\nconditions:\n  - \"policy\": moral\n    \"weight\": [1]\n    \"wieght\": 2\n"
	var v outer
	err := DecodeAll([]byte(src), "exp.yaml", &v)
	var es *Errors
	if !errors.As(err, &es) {
		t.Fatalf("want *Errors, got %T %v", err, err)
	}
	want := []string{
		`exp.yaml:2:15: field replicates: expected a whole number, got a string "three"`,
		`exp.yaml:5:15: field conditions[0].weight: expected a whole number`,
		`exp.yaml:6:5: field conditions[0].wieght: unknown field`,
	}
	if len(es.Errs) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(es.Errs), len(want), err)
	}
	for i, w := range want {
		if got := es.Errs[i].Error(); !strings.HasPrefix(got, w) {
			t.Errorf("problem %d:\n got %s\nwant %s...", i, got, w)
		}
	}
	// Decode, which stops at the first, names it as the file writes it too.
	err = Decode([]byte("name: a\n\"replicates\": three\n"), "exp.yaml", &v)
	if want := `exp.yaml:2:15: field replicates: expected a whole number`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Decode: %v, want %s...", err, want)
	}
}

// A custom decoder's problem in a flow mapping is listed once, at its value (it was listed
// twice, once without a place: 'exp.yaml: "5 minutes" is not a duration').
func TestCustomDecoderProblemListedOnce(t *testing.T) {
	type b struct {
		Name    string `yaml:"name"`
		Timeout dur    `yaml:"timeout"`
	}
	var v struct {
		Backends []b `yaml:"backends"`
	}
	err := DecodeAll([]byte("backends:\n  - {name: a, timeout: 5 minutes}\n"), "exp.yaml", &v)
	if err == nil || err.Error() != `exp.yaml:2:24: field backends[0].timeout: not a duration` {
		t.Errorf("got %v", err)
	}
}
