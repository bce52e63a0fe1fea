package schema

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Kind is the type of one response field.
type Kind string

const (
	// Likert is an integer rating from Min to Max (1-7 unless set).
	Likert Kind = "likert"
	// Amount is a number in [Min, Max]; Step 1 makes it an integer, 0 leaves it continuous.
	Amount Kind = "amount"
	// Choice is one of Options; its value is the option's 0-based index.
	Choice Kind = "choice"
)

// Field is one named value an agent must give.
type Field struct {
	Name        string   `yaml:"name" json:"name"`
	Kind        Kind     `yaml:"kind" json:"kind"`
	Min         float64  `yaml:"min" json:"min"`
	Max         float64  `yaml:"max" json:"max"`
	Step        float64  `yaml:"step" json:"step"`
	Options     []string `yaml:"options" json:"options,omitempty"`
	Description string   `yaml:"description" json:"description"`
	LowLabel    string   `yaml:"low_label" json:"low_label,omitempty"`
	HighLabel   string   `yaml:"high_label" json:"high_label,omitempty"`
}

// Schema is the typed response of a scenario: every field is required.
type Schema struct {
	Fields []Field `yaml:"fields" json:"fields"`
}

// Field returns the named field.
func (s Schema) Field(name string) (Field, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Check reports whether the schema itself is well formed: its first problem.
func (s Schema) Check() error {
	if ps := s.Problems(); len(ps) > 0 {
		return ps[0]
	}
	return nil
}

// KeyProblem is a problem of one key of a field (Problems: the step of an amount), so that it
// can be placed at that key.
type KeyProblem struct {
	Key string
	Err error
}

func (k KeyProblem) Error() string { return k.Err.Error() }
func (k KeyProblem) Unwrap() error { return k.Err }

// Problems are every problem of the schema, field by field (a field's independent keys each
// their own: an amount's range and its step).
func (s Schema) Problems() []error {
	if len(s.Fields) == 0 {
		return []error{fmt.Errorf("schema has no fields")}
	}
	var out []error
	seen := map[string]bool{}
	for i, f := range s.Fields {
		if f.Name == "" {
			out = append(out, fmt.Errorf("fields[%d]: name is empty", i))
			continue
		}
		if seen[f.Name] {
			out = append(out, fmt.Errorf("fields[%d]: duplicate field name %q", i, f.Name))
			continue
		}
		seen[f.Name] = true
		switch f.Kind {
		case Likert:
			if f.Min != math.Trunc(f.Min) || f.Max != math.Trunc(f.Max) || f.Max <= f.Min {
				out = append(out, fmt.Errorf("field %q: likert needs integer min < max (got %g..%g)", f.Name, f.Min, f.Max))
			}
		case Amount:
			// The range and the step are independent: both are told (QA14 F5).
			if f.Max <= f.Min {
				out = append(out, fmt.Errorf("field %q: amount needs min < max (got %g..%g)", f.Name, f.Min, f.Max))
			}
			if f.Step < 0 {
				out = append(out, KeyProblem{Key: "step", Err: fmt.Errorf("field %q: step must be >= 0", f.Name)})
			}
		case Choice:
			if len(f.Options) < 2 {
				out = append(out, fmt.Errorf("field %q: choice needs at least two options", f.Name))
			}
		default:
			out = append(out, fmt.Errorf("field %q: unknown kind %q (want likert, amount or choice)", f.Name, f.Kind))
		}
	}
	return out
}

// Validate checks a set of parsed values against the schema: every field present, in range,
// of its type, and no unknown fields. The error is the invalid-reason recorded with a decision.
func (s Schema) Validate(values map[string]float64) error {
	for _, f := range s.Fields {
		v, ok := values[f.Name]
		if !ok {
			return fmt.Errorf("missing field %q", f.Name)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("field %q: not a number", f.Name)
		}
		switch f.Kind {
		case Likert:
			if v != math.Trunc(v) {
				return fmt.Errorf("field %q: %g is not a whole number", f.Name, v)
			}
			if v < f.Min || v > f.Max {
				return fmt.Errorf("field %q: %g is outside %g..%g", f.Name, v, f.Min, f.Max)
			}
		case Amount:
			if v < f.Min || v > f.Max {
				return fmt.Errorf("field %q: %g is outside %g..%g", f.Name, v, f.Min, f.Max)
			}
			if f.Step > 0 {
				k := (v - f.Min) / f.Step
				if math.Abs(k-math.Round(k)) > 1e-9 {
					return fmt.Errorf("field %q: %g is not a multiple of %g", f.Name, v, f.Step)
				}
			}
		case Choice:
			if v != math.Trunc(v) || v < 0 || int(v) >= len(f.Options) {
				return fmt.Errorf("field %q: %g is not one of %s", f.Name, v, strings.Join(f.Options, ", "))
			}
		}
	}
	if len(values) > len(s.Fields) {
		var extra []string
		for k := range values {
			if _, ok := s.Field(k); !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		return fmt.Errorf("unknown field(s) %s", strings.Join(extra, ", "))
	}
	return nil
}

// JSONSchema is the schema in JSON Schema form, for providers' structured output.
func (s Schema) JSONSchema() map[string]any {
	props := map[string]any{}
	var req []string
	for _, f := range s.Fields {
		var p map[string]any
		switch f.Kind {
		case Likert:
			p = map[string]any{"type": "integer", "minimum": f.Min, "maximum": f.Max}
		case Amount:
			t := "number"
			if f.Step == 1 && f.Min == math.Trunc(f.Min) {
				t = "integer"
			}
			p = map[string]any{"type": t, "minimum": f.Min, "maximum": f.Max}
		case Choice:
			p = map[string]any{"type": "string", "enum": append([]string(nil), f.Options...)}
		}
		if f.Description != "" {
			p["description"] = f.Description
		}
		props[f.Name] = p
		req = append(req, f.Name)
	}
	return map[string]any{
		"type":                 "object",
		"properties":           props,
		"required":             req,
		"additionalProperties": false,
	}
}
