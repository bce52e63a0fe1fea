// # Policy frame files
//
// Policy frames are YAML. A file holds one frame (a mapping) or a list of them. Unknown keys,
// wrong types and missing required keys are errors reported as "file:line:col: field path:
// message". Keys:
//
//	id:       required; lower case letters, digits, '-' or '_', unique in the library
//	title:    a short name
//	channel:  required; how the behavioural model reads the frame: none, moral (warm glow),
//	          social (descriptive norm), enforce (expected fine, reactance) or economic (price,
//	          possible crowding-out)
//	amount:   money at stake (a stipend or a fine) in the population's currency; required when
//	          a text uses {{.amount}}
//	strength: scales the frame's effect in the behavioural model; 1 when not set (an explicit
//	          0 is kept: the text is shown but the model gives it no effect)
//	default:  text for scenarios without a text of their own
//	texts:    per-scenario texts, keyed by scenario id
//
// Texts are Go text/templates that know {{.amount}} and {{.currency}} (and the functions add,
// sub, mul, div); every text is rendered when the file is loaded, so a mistake is reported with
// its line before a run starts. A frame other than channel none needs a default or texts; a
// frame with no text for a scenario and no default is an error when used with it, except for
// channel none, which shows nothing.
package policy
