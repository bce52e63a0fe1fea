// Package game holds the rules of prosim's economic games: schedules, payoffs, validity checks
// of decisions and, for repeated games, the round mechanics. Everything here is plain,
// deterministic Go: only the agents' decisions come from a backend. The prompts and response
// schemas of the games live as scenarios in internal/scenario/library/game_*.yaml; the ids of
// those scenarios are the Scenario* constants below.
//
// Randomness (schedules, group partitions) comes from math/rand/v2 PCG generators seeded with
// the caller's seed and a fixed per-purpose stream, so the same seed always yields the same
// output and different purposes never share a random sequence.
//
// Choice fields are answered as the 0-based index of the option in the scenario's schema:
// tpp's [accept, punish] and ultimatum_responder's [accept, reject] both put accept at 0.
package game

// Scenario ids of the game scenarios (internal/scenario/library/game_<id>.yaml).
const (
	ScenarioTPP                = "tpp"
	ScenarioTPPGraded          = "tpp_graded"
	ScenarioDictator           = "dictator"
	ScenarioUltimatumProposer  = "ultimatum_proposer"
	ScenarioUltimatumResponder = "ultimatum_responder"
	ScenarioUltimatumMAO       = "ultimatum_mao"
	ScenarioPublicGoods        = "public_goods"
	ScenarioPublicGoodsPunish  = "public_goods_punish"
	ScenarioTrustSender        = "trust_sender"
	ScenarioTrustReturner      = "trust_returner"
)

// Scenarios lists every game scenario id, in a stable order.
func Scenarios() []string {
	return []string{
		ScenarioTPP, ScenarioTPPGraded, ScenarioDictator,
		ScenarioUltimatumProposer, ScenarioUltimatumResponder, ScenarioUltimatumMAO,
		ScenarioPublicGoods, ScenarioPublicGoodsPunish,
		ScenarioTrustSender, ScenarioTrustReturner,
	}
}

// Option indices of choice fields.
const (
	// ChoiceAccept is option 0 of tpp's and ultimatum_responder's choice field.
	ChoiceAccept = 0
	// ChoicePunish is option 1 of tpp's choice field.
	ChoicePunish = 1
	// ChoiceReject is option 1 of ultimatum_responder's choice field.
	ChoiceReject = 1
)

// Random streams, one per purpose (the second argument of rand.NewPCG).
const (
	streamTPP       = 0x7470_7031 // TPP schedule
	streamTPPGraded = 0x7470_7067 // graded TPP transfer order
	streamPGGroups  = 0x7067_6770 // public goods group partition
	streamPairs     = 0x7061_6972 // two-player matching
)

// Game ids: the payoff rules a game scenario's "game" field names. One game can have several
// scenarios (its roles and stages).
const (
	GameTPP         = "tpp"
	GameTPPGraded   = "tpp_graded"
	GameDictator    = "dictator"
	GameUltimatum   = "ultimatum"
	GamePublicGoods = "public_goods"
	GameTrust       = "trust"
)

// Games lists every game id, in a stable order.
func Games() []string {
	return []string{GameTPP, GameTPPGraded, GameDictator, GameUltimatum, GamePublicGoods, GameTrust}
}

// GameOf is the game whose rules a game scenario uses ("" for an unknown scenario id).
func GameOf(scenarioID string) string {
	switch scenarioID {
	case ScenarioTPP:
		return GameTPP
	case ScenarioTPPGraded:
		return GameTPPGraded
	case ScenarioDictator:
		return GameDictator
	case ScenarioUltimatumProposer, ScenarioUltimatumResponder, ScenarioUltimatumMAO:
		return GameUltimatum
	case ScenarioPublicGoods, ScenarioPublicGoodsPunish:
		return GamePublicGoods
	case ScenarioTrustSender, ScenarioTrustReturner:
		return GameTrust
	}
	return ""
}

// SchemaMax says which amount field of a game scenario has a maximum that depends on the
// request's parameters, and its value: the schema in the YAML carries the default's maximum,
// and the driver must set Field(field).Max = max on each request whose parameters differ
// (before rendering the answer instructions and validating the reply). ok is false for
// scenarios without such a field (tpp, ultimatum_responder, public_goods_punish with its fixed
// 0..PGMaxPoints) and unknown ids. A max of 0 (trust_returner when nothing was sent) means
// there is nothing to decide: do not ask.
func SchemaMax(scenarioID string, params map[string]float64) (field string, max float64, ok bool) {
	switch scenarioID {
	case ScenarioTPPGraded:
		return "points", params["endowment"], true
	case ScenarioDictator:
		return "give", params["endowment"], true
	case ScenarioUltimatumProposer:
		return "offer", params["endowment"], true
	case ScenarioUltimatumMAO:
		return "min_accept", params["endowment"], true
	case ScenarioPublicGoods:
		return "contribute", params["endowment"], true
	case ScenarioTrustSender:
		return "send", params["endowment"], true
	case ScenarioTrustReturner:
		return "return", ReturnSchemaMax(params["sent"], params["multiplier"]), true
	}
	return "", 0, false
}
