package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/termtable"
)

// A table row: cells apart by two or more spaces, or a right-aligned grid of numbers.
var tableRow = regexp.MustCompile(`\S {2,}\S|^ *[-+]?[0-9.%]+( +[-+]?[0-9.%]+){3,} *$`)

// numberAt80 is a number running across column 80, which a terminal would cut in two.
var numberAt80 = regexp.MustCompile(`[0-9.]$`)

// checkFits fails for a table row wider than 80 columns and for any line that a terminal of
// 80 columns would break inside a number. Prose may wrap (between words).
func checkFits(t *testing.T, what, out string) {
	t.Helper()
	for _, p := range notFitting(out) {
		t.Errorf("%s: %s", what, p)
	}
}

func notFitting(out string) []string {
	var bad []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, " ")
		if utf8.RuneCountInString(line) <= 80 {
			continue
		}
		r := []rune(line)
		if tableRow.MatchString(line) {
			bad = append(bad, fmt.Sprintf("a table row of %d columns at width 80:\n%s", len(r), line))
		} else if numberAt80.MatchString(string(r[:80])) && strings.ContainsAny(string(r[80]), "0123456789.") {
			bad = append(bad, "a number cut at column 80:\n"+line)
		}
	}
	return bad
}

// summaryAt80 prints a finished run's summary as an 80-column terminal shows it.
func summaryAt80(t *testing.T, dir string) string {
	t.Helper()
	a, err := engine.Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var b bytes.Buffer
	if err := a.Summary(termtable.Fit(&b, 80)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// prosimAt80 runs a command whose tables fit 80 columns.
func prosimAt80(t *testing.T, args ...string) string {
	t.Helper()
	return prosimAt(t, 80, args...)
}

// prosimAt runs a command as a terminal of width columns shows it.
func prosimAt(t *testing.T, width int, args ...string) string {
	t.Helper()
	root := newRoot()
	var b bytes.Buffer
	root.SetOut(termtable.Fit(&b, width))
	root.SetErr(&b)
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("prosim %s: %v\n%s", strings.Join(args, " "), err, b.String())
	}
	return b.String()
}

func TestCommandTablesFitEightyColumns(t *testing.T) {
	checkFits(t, "scenarios", prosimAt80(t, "scenarios"))
	for _, ex := range []string{"study1", "study2-tpp", "study3-network", "games"} {
		checkFits(t, "estimate "+ex, prosimAt80(t, "estimate", "../../examples/"+ex+".yaml"))
	}
}

func TestCheckFitsCatchesACutNumber(t *testing.T) {
	if bad := notFitting(strings.Repeat("x", 70) + "  4.43 [4.27, 4.58]"); len(bad) != 1 {
		t.Errorf("a table row of 89 columns: %q", bad)
	}
	if bad := notFitting(strings.Repeat("word ", 15) + "ab 12345 words"); len(bad) != 1 {
		t.Errorf("a number across column 80: %q", bad)
	}
	if bad := notFitting(strings.Repeat("word ", 20)); len(bad) != 0 {
		t.Errorf("prose: %q", bad)
	}
}
