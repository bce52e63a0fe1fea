// Package schema is the typed response an agent's reply must fit: its fields (likert, amount,
// choice), the checks of a schema and of a set of values, the JSON Schema sent to providers for
// structured output, the answer-format instructions and repair message shown to a model, and
// Parse, which reads a model's reply text into values.
//
// It depends on nothing else in prosim, so that the backend clients, which need the schema but
// not the scenarios, do not import the scenario library. Package scenario re-exports these
// names (scenario.Schema is schema.Schema), so code that deals in scenarios need not import it.
package schema
