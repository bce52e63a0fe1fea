// # Scenario files
//
// Scenarios are YAML. A file holds one scenario (a mapping) or a list of them. Unknown keys,
// wrong types and missing required keys are errors reported as "file:line:col: field path:
// message". Keys:
//
//	id:        required; lower case letters, digits, '-' or '_' (no dots), unique in the library
//	title:     a short name
//	kind:      required; vignette (an everyday situation) or game (an economic game)
//	game:      required for kind game: the payoff rules in Go ("tpp", "dictator", ...)
//	text:      required; the situation, a Go text/template (see below)
//	question:  required; asked after the policy text; also a template
//	cost:      what acting prosocially costs, in words (shown by `prosim scenarios`)
//	params:    default numeric parameters, e.g. {fine: 50}; the experiment may override them
//	response:
//	  fields:  every field is required in a reply
//	    - name: willingness
//	      kind: likert            # likert (integer min..max), amount (number), choice (options)
//	      min: 1
//	      max: 7
//	      step: 1                 # amount only: 1 = whole numbers, 0 = any number
//	      options: [a, b]         # choice only; the value recorded is the 0-based index
//	      low_label: not at all willing
//	      high_label: extremely willing
//	      description: how willing you are, from 1 to 7
//	model:     vignettes only, for the behavioural model: base (typical human mean 1-7 with
//	           no policy), cost (0-1), money (1 if the cost is money, 0 if time or effort),
//	           visibility (0-1), need (0-1)
//
// In text and question, {{.name}} is a parameter (printed without trailing zeros: 100, 0.5),
// {{.currency}} is the population's currency, and add, sub, mul, div do arithmetic:
// "you keep {{sub .endowment .x}} {{.currency}}". A parameter that is not given is an error,
// never an empty string.
//
// A prompt is composed as: text, the policy text (if any) as its own paragraph, question, and
// the answer-format instructions of the response schema (Schema.Instructions). Replies are read
// by Parse. See docs/scenarios.md for a complete example.
package scenario
