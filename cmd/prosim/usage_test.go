package main

import (
	"errors"
	"io"
	"testing"
)

// An unknown command or a wrong number of arguments is a usage error (exit status 2), like a
// bad flag.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"run"}, {"validate", "a.yaml", "b.yaml"}, {"run", "--bogus", "x.yaml"}} {
		root := newRoot()
		root.SetArgs(args)
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		var ue usageError
		if err := root.Execute(); !errors.As(err, &ue) {
			t.Errorf("prosim %v: error %v, want a usage error", args, err)
		}
	}
}
