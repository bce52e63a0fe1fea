package policy

// Frame is a policy as agents see it: text appended to a scenario. Frames are data: the
// built-in ones (none, moral, social, enforce, economic) are YAML embedded in the binary, and
// users add their own YAML files.
type Frame struct {
	ID    string `yaml:"id" json:"id"`
	Title string `yaml:"title" json:"title"`
	// Channel is how the behavioural model reads the frame:
	// none | moral (warm glow) | social (descriptive norm) | enforce (expected fine, reactance) |
	// economic (price, possible crowding-out).
	Channel string `yaml:"channel" json:"channel"`
	// Amount is the money at stake (stipend or fine) in the population's currency; shown to
	// agents through the {{.amount}} template variable and read by the behavioural model.
	Amount float64 `yaml:"amount" json:"amount"`
	// Strength scales the frame's effect in the behavioural model; 1 when not set.
	Strength float64 `yaml:"strength" json:"strength"`
	// Default is the text used for a scenario that has no text of its own in Texts.
	Default string `yaml:"default" json:"default"`
	// Texts are per-scenario texts, keyed by scenario id (Go text/template).
	Texts map[string]string `yaml:"texts" json:"texts"`
	// Source is where the frame was defined ("builtin" or a file path).
	Source string `yaml:"-" json:"source"`
}
