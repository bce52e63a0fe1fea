package scenario

import "github.com/prosim/prosim/internal/schema"

// The response schema lives in package schema (the backends need it without the scenario
// library); these aliases keep scenario.Schema, scenario.Parse, ... working unchanged.

type (
	// Schema is the typed response of a scenario: every field is required (schema.Schema).
	Schema = schema.Schema
	// Field is one named value an agent must give (schema.Field).
	Field = schema.Field
	// Kind is the type of one response field (schema.Kind).
	Kind = schema.Kind
)

const (
	// Likert is an integer rating from Min to Max (1-7 unless set).
	Likert = schema.Likert
	// Amount is a number in [Min, Max]; Step 1 makes it an integer, 0 leaves it continuous.
	Amount = schema.Amount
	// Choice is one of Options; its value is the option's 0-based index.
	Choice = schema.Choice
)

// Parse reads an agent's reply into field values and validates them against s (schema.Parse).
func Parse(s Schema, raw string) (map[string]float64, error) { return schema.Parse(s, raw) }

// RepairMessage is what an agent is told when its reply could not be used and it is asked
// again (schema.RepairMessage).
func RepairMessage(reason string, s Schema) string { return schema.RepairMessage(reason, s) }
