package scenario

import (
	"regexp"
	"slices"
)

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
	// Cost says in words what acting prosocially costs the agent (shown in `prosim scenarios`);
	// a template like Text.
	Cost string `yaml:"cost" json:"cost"`
	// Response is the typed schema every reply must fit.
	Response Schema `yaml:"response" json:"response"`
	// Params are default numeric parameters of the scenario (a game's terms), overridable by
	// the experiment and by game schedules.
	Params map[string]float64 `yaml:"params,omitempty" json:"params,omitempty"`
	// Model holds the behavioural model's parameters for a vignette (see internal/backend/behavioral):
	// base (mean willingness 1-7 with no policy: hand-set for the built-in vignettes, assumed,
	// not taken from a published human study), cost (0-1, how costly),
	// money (1 if the cost is money, 0 if time or effort), visibility (0-1, how public the act
	// is), need (0-1, how clearly someone needs help).
	Model map[string]float64 `yaml:"model,omitempty" json:"model,omitempty"`
	// Variants are other wordings of Text and Question (paraphrases), asked when the
	// experiment crosses the wording factor (factors: {wording: [original, p1, ...]}).
	Variants []Variant `yaml:"variants,omitempty" json:"variants,omitempty"`
	// Source is where the scenario was defined ("builtin" or a file path), for messages.
	Source string `yaml:"-" json:"source"`

	// at places the templates in the file Source (nil for a scenario made in code), and
	// wording is the variant Worded chose (its index + 1; 0 for the original): a template
	// that fails when rendered is reported at its line.
	at      *origin
	wording int
}

// origin is where a scenario's templates are in its file.
type origin struct {
	prefix string            // the scenario's path in its file: "[2]." in a list, "" alone
	pos    map[string][2]int // "text", "variants[1].question", ... -> line, column
}

// Variant is another wording of a scenario: the same situation, costs and question, in
// words written afresh. Question may be left out to keep the scenario's own.
type Variant struct {
	ID       string `yaml:"id" json:"id"`
	Text     string `yaml:"text" json:"text"`
	Question string `yaml:"question,omitempty" json:"question,omitempty"`
}

// UsesCurrency says whether a text or question of the scenario, in any wording, uses
// {{.currency}}: it names a sum of money, which a built-in scenario sizes for yuan.
func (sc Scenario) UsesCurrency() bool {
	texts := []string{sc.Text, sc.Question}
	for _, v := range sc.Variants {
		texts = append(texts, v.Text, v.Question)
	}
	for _, text := range texts {
		if t, err := Template(sc.ID, text); err == nil && slices.Contains(Refs(t), "currency") {
			return true
		}
	}
	return false
}

// UsesDollars says whether a text or question of the scenario, in any wording, names a sum in
// dollars whatever the population's currency ("$30", "${{.pie}}"): the TPP game does, as the
// human study it is compared with did.
func (sc Scenario) UsesDollars() bool {
	texts := []string{sc.Text, sc.Question}
	for _, v := range sc.Variants {
		texts = append(texts, v.Text, v.Question)
	}
	for _, text := range texts {
		if dollarRE.MatchString(text) {
			return true
		}
	}
	return false
}

var dollarRE = regexp.MustCompile(`\$(\d|\{\{)`)

// Original is the wording level of a scenario's own Text and Question.
const Original = "original"

// Worded returns the scenario in wording id: itself for "original", else with the variant's
// text (and question, when the variant gives one). ok is false when it has no such variant.
func (sc Scenario) Worded(id string) (Scenario, bool) {
	if id == Original || id == "" {
		return sc, true
	}
	for i, v := range sc.Variants {
		if v.ID == id {
			sc.Text = v.Text
			if v.Question != "" {
				sc.Question = v.Question
			}
			sc.wording = i + 1
			return sc, true
		}
	}
	return sc, false
}

// Wordings are the scenario's wording ids: "original", then its variants'.
func (sc Scenario) Wordings() []string {
	out := []string{Original}
	for _, v := range sc.Variants {
		out = append(out, v.ID)
	}
	return out
}
