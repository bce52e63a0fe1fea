package study

import (
	"testing"

	"github.com/prosim/prosim/internal/scenario"
)

// The estimate's placeholder sits in the middle of each field's range, on its step.
func TestMidpoint(t *testing.T) {
	s := scenario.Schema{Fields: []scenario.Field{
		{Name: "w", Kind: scenario.Likert, Min: 1, Max: 7},
		{Name: "z", Kind: scenario.Likert, Min: 0, Max: 10},
		{Name: "give", Kind: scenario.Amount, Min: 0, Max: 15, Step: 1},
		{Name: "share", Kind: scenario.Amount, Min: 0, Max: 1},
		{Name: "c", Kind: scenario.Choice, Options: []string{"a", "b"}},
	}}
	got := Midpoint(s).Values
	want := map[string]float64{"w": 4, "z": 5, "give": 7, "share": 0.5, "c": 0}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %g, want %g", k, got[k], v)
		}
	}
}

// A name can be registered once; the registry lists names in order.
func TestRegister(t *testing.T) {
	Register("zz-test", func(*Env) (Study, error) { return nil, nil })
	if _, ok := Lookup("zz-test"); !ok {
		t.Fatal("registered study not found")
	}
	defer func() {
		if recover() == nil {
			t.Error("a second registration under one name must panic")
		}
	}()
	Register("zz-test", func(*Env) (Study, error) { return nil, nil })
}
