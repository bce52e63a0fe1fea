// Package situation is the structured, non-text description of one decision: who decides (the
// structured persona) and in what situation (scenario, kind, numeric parameters, the policy frame
// shown, and the social state of a networked study). Studies put a *Situation in
// backend.Request.Structured; only backends that do not read text (the behavioural model) read
// it. LLM clients see only the request's System and Prompt texts, never this.
package situation

import (
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/schema"
)

// Situation describes a decision in structured form for the behavioural model.
type Situation struct {
	// Persona is the structured persona of the deciding agent.
	Persona *persona.Persona
	// Scenario is the scenario id ("volunteering", "tpp", "dictator", ...).
	Scenario string
	// Kind is "vignette" for everyday scenarios rated on a scale, or "game".
	Kind string
	// Params are the scenario's numeric parameters: the behavioural model's vignette
	// parameters (from the scenario's model: block) and the game's terms (x, y, endowment, ...).
	Params map[string]float64
	Policy PolicyExposure
	Social Social
	// ScaleReversed is true when the rating scale is shown reversed (1 = the high label,
	// the scale factor's descending level): the rating is given on the scale shown, and
	// the study recodes it.
	ScaleReversed bool
	// Parts are the scenarios of a joint prompt (Kind "joint"), one situation each; the
	// joint schema names their fields SCENARIO.FIELD.
	Parts []Situation
}

// PolicyExposure is the policy frame an agent sees with a decision.
type PolicyExposure struct {
	ID       string  // "none" when no policy is shown
	Channel  string  // none | moral | social | enforce | economic
	Strength float64 // 1 = the frame as written; 0 = no effect
	Amount   float64 // money at stake: stipend (economic) or fine (enforce), in the scenario's currency
}

// Social is what an agent knows of its network and of its own treatment (Study 3).
type Social struct {
	Round int
	// Observed is how many neighbours the agent observed this round.
	Observed int
	// MeanObserved is the observed neighbours' mean willingness (1-7); meaningful if Observed > 0.
	MeanObserved float64
	// UnfairObserved is how many observed neighbours were treated unfairly.
	UnfairObserved int
	// TreatedUnfairly is true when the policy treats this agent unfairly this round.
	TreatedUnfairly bool
	// PrevWillingness and PrevUnfairness are the agent's own ratings last round; 0 if none.
	PrevWillingness float64
	PrevUnfairness  float64
}

// Typed is implemented by a backend that decides from the structured situation alone and
// cannot give an invalid answer (the behavioural model). A study that puts one situation to a
// whole population, round after round (Study 3), can then skip what the generic path builds
// for every decision (the request and its text, the reply's JSON and values map, the schema
// check): Prepare binds the backend to the population and the situation once, per-agent work
// included, and the Rater it returns rates agent by agent.
type Typed interface {
	// Prepare readies sit (its Persona and Social are ignored) for the agents, answered on
	// schema s. It fails where Decide would fail for every agent (a field or policy the
	// backend does not model); the study then keeps the generic path.
	Prepare(agents []persona.Persona, sit *Situation, s *schema.Schema) (Rater, error)
	// ModelVersion is the Reply.ModelVersion of the backend's decisions.
	ModelVersion() string
}

// Rater rates a prepared situation. It is safe for concurrent use.
type Rater interface {
	// Rate writes agent i's answer (i indexes the prepared agents) with social state soc and
	// the decision's seed into out, one value per schema field in order: bit for bit the
	// Values of the reply Decide gives for the same request.
	Rate(i int, soc *Social, seed uint64, out []float64)
}
