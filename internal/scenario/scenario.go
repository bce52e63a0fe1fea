package scenario

// Scenario is one prosocial situation an agent responds to. Scenarios are data: the built-in
// library is YAML embedded in the binary, and users add their own YAML files.
type Scenario struct {
	// ID is unique across the library, lower case, e.g. "volunteering", "tpp".
	ID    string `yaml:"id" json:"id"`
	Title string `yaml:"title" json:"title"`
	// Kind is "vignette" (an everyday situation rated on a scale) or "game" (an economic game
	// whose payoff rules are Go code in internal/game, named by Game).
	Kind string `yaml:"kind" json:"kind"`
	// Game names the payoff rules of a game scenario ("tpp", "dictator", ...); empty for vignettes.
	Game string `yaml:"game,omitempty" json:"game,omitempty"`
	// Text is the situation, a Go text/template. Its data are the scenario's parameters
	// ({{.x}}, {{.endowment}}, ...) plus {{.currency}}.
	Text string `yaml:"text" json:"text"`
	// Question asks for the response; it is shown after the policy frame, if any.
	Question string `yaml:"question" json:"question"`
	// Cost says in words what acting prosocially costs the agent (shown in `prosim scenarios`).
	Cost string `yaml:"cost" json:"cost"`
	// Response is the typed schema every reply must fit.
	Response Schema `yaml:"response" json:"response"`
	// Params are default numeric parameters of the scenario (a game's terms), overridable by
	// the experiment and by game schedules.
	Params map[string]float64 `yaml:"params,omitempty" json:"params,omitempty"`
	// Model holds the behavioural model's parameters for a vignette (see internal/backend/behavioral):
	// base (typical human mean willingness 1-7 with no policy), cost (0-1, how costly),
	// money (1 if the cost is money, 0 if time or effort), visibility (0-1, how public the act
	// is), need (0-1, how clearly someone needs help).
	Model map[string]float64 `yaml:"model,omitempty" json:"model,omitempty"`
	// Source is where the scenario was defined ("builtin" or a file path), for messages.
	Source string `yaml:"-" json:"source"`
}
