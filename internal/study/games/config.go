package games

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/yamlx"
)

// Config is the study's block, `games:` in the experiment file (required): the list of games
// played.
type Config []Game

func init() {
	experiment.RegisterBlock(Name, func() experiment.Block { return &Config{} })
}

// ConfigOf is the checked block of an experiment of study games.
func ConfigOf(e *experiment.Experiment) *Config {
	c, _ := e.Block.(*Config)
	return c
}

// Game is one entry of the games: list of study: games.
type Game struct {
	// Game is dictator, ultimatum, trust or public_goods.
	Game string `yaml:"game"`
	// Name names the game in results; default the game id (public_goods_punish for a public
	// goods game with punishment). A public goods entry with punishment both becomes two
	// games, Name and Name_punish.
	Name string `yaml:"name,omitempty"`
	// Endowment is the first mover's (each member's, in public goods) tokens, a whole number.
	// Defaults: dictator 100, ultimatum 100, trust 10, public_goods 20.
	Endowment float64 `yaml:"endowment,omitempty"`
	// Multiplier: trust (what the returner receives per token sent, default 3) and
	// public_goods (the pool's multiplier, default 1.6).
	Multiplier float64 `yaml:"multiplier,omitempty"`
	// Responder is the ultimatum responder's task: choice (accept or reject the proposer's
	// actual offer, default) or mao (state a minimum acceptable offer; the strategy method).
	Responder string `yaml:"responder,omitempty"`
	// GroupSize, Rounds and Punishment configure public_goods (defaults 4, 10, both).
	GroupSize  int        `yaml:"group_size,omitempty"`
	Rounds     int        `yaml:"rounds,omitempty"`
	Punishment Punishment `yaml:"punishment,omitempty"`
	// Scenarios replace a role's built-in scenario by a framing variant from scenario_files,
	// e.g. {proposer: ultimatum_proposer_fair}. The variant must be a game scenario of the
	// same game with the same response fields; see GameRoles.
	Scenarios map[string]string `yaml:"scenarios,omitempty"`
}

// Punishment is the peer-punishment setting of a public goods game: "off", "on" or "both"
// (two treatments, without and with punishment). YAML true and false mean on and off.
type Punishment string

// UnmarshalYAML reads true and false as on and off, and any other value as written (checked
// with the rest of the games: section, so that an error carries its line).
func (p *Punishment) UnmarshalYAML(b []byte) error {
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("expected on, off or both")
	}
	switch x := v.(type) {
	case bool:
		*p = map[bool]Punishment{true: "on", false: "off"}[x]
	case string:
		*p = Punishment(x)
	default:
		*p = Punishment(fmt.Sprint(x))
	}
	return nil
}

// GameRoles are the roles of each game whose scenario can be replaced, with the built-in
// scenario of each (ultimatum's responder depends on the responder task).
var GameRoles = map[string][]string{
	"dictator":     {"dictator"},
	"ultimatum":    {"proposer", "responder"},
	"trust":        {"sender", "returner"},
	"public_goods": {"contribute", "punish"},
}

// GameIDs are the games study: games plays, in a stable order.
var GameIDs = []string{"dictator", "ultimatum", "trust", "public_goods"}

// DefaultGameScenario is the built-in scenario of a game's role.
func DefaultGameScenario(g *GameInstance, role string) string {
	switch g.Game + "." + role {
	case "dictator.dictator":
		return "dictator"
	case "ultimatum.proposer":
		return "ultimatum_proposer"
	case "ultimatum.responder":
		if g.Responder == "mao" {
			return "ultimatum_mao"
		}
		return "ultimatum_responder"
	case "trust.sender":
		return "trust_sender"
	case "trust.returner":
		return "trust_returner"
	case "public_goods.contribute":
		return "public_goods"
	case "public_goods.punish":
		return "public_goods_punish"
	}
	return ""
}

// GameInstance is one game as played: an entry of games:, with punishment both expanded into
// its two treatments and every default filled.
type GameInstance struct {
	// Index is the 1-based position among the instances; it is the trial number of the game's
	// decisions in the run store.
	Index int
	// Entry is the index of the games: entry it comes from (for messages).
	Entry      int
	Name       string
	Game       string
	Endowment  float64
	Multiplier float64
	Responder  string
	GroupSize  int
	Rounds     int
	Punishment bool
	// Base is the entry's name before expansion: the two treatments of one entry share their
	// groups (and so differ only by the punishment stage).
	Base string
	// Scenarios maps every role to the scenario asked (built-in or variant).
	Scenarios map[string]string
}

// Roles are the instance's roles in order (public goods without punishment has no punish role).
func (g *GameInstance) Roles() []string {
	rs := GameRoles[g.Game]
	if g.Game == "public_goods" && !g.Punishment {
		return rs[:1]
	}
	return rs
}

// Instances expands the checked games: list.
func (c Config) Instances() []GameInstance {
	var out []GameInstance
	for i, g := range c {
		mk := func(name string, pun bool) {
			in := GameInstance{Index: len(out) + 1, Entry: i, Name: name, Game: g.Game, Endowment: g.Endowment,
				Multiplier: g.Multiplier, Responder: g.Responder, GroupSize: g.GroupSize, Rounds: g.Rounds,
				Punishment: pun, Base: g.Name, Scenarios: map[string]string{}}
			for _, role := range in.Roles() {
				in.Scenarios[role] = DefaultGameScenario(&in, role)
				if s, ok := g.Scenarios[role]; ok {
					in.Scenarios[role] = s
				}
			}
			out = append(out, in)
		}
		switch {
		case g.Game != "public_goods":
			mk(g.Name, false)
		case g.Punishment == "both":
			mk(g.Name, false)
			mk(g.Name+"_punish", true)
		default:
			mk(g.Name, g.Punishment == "on")
		}
	}
	return out
}

// Check validates and fills the games: section.
func (c *Config) Check(e *experiment.Experiment, doc *yamlx.Doc) error {
	// Every independent problem is reported; a check that reads a value found wrong is skipped.
	l := yamlx.NewList(doc.Name())
	if len(e.Scenarios) != 0 {
		l.Add(doc.Errorf("scenarios", "not used by study: games (give framing variants in games[i].scenarios)"))
	}
	if len(*c) == 0 {
		// Point at games: when it is there (empty), else at study: games, which needs it.
		if err := doc.Errorf("games", ""); err.Line == 0 {
			l.Add(doc.Errorf("study", "study games needs a games: list such as [{game: dictator}, {game: ultimatum}, {game: trust}, {game: public_goods}]"))
		} else {
			l.Add(doc.Errorf("games", "required for study: games: a list such as [{game: dictator}, {game: ultimatum}, {game: trust}, {game: public_goods}]"))
		}
	}
	if p := e.Population; p.Source == "sample" && p.N < 2 && e.Decoded("population") {
		l.Add(doc.Errorf("population.n", "the games need at least 2 agents (got %d)", p.N))
	}
	gamesOK := true
	for i := range *c {
		if l.Add((*c)[i].check(doc, fmt.Sprintf("games[%d]", i))) {
			gamesOK = false
		}
	}
	seen := map[string]int{}
	for _, in := range c.Instances() {
		if !gamesOK {
			break // names are filled in by the games' checks
		}
		if !e.Decoded(fmt.Sprintf("games[%d].name", in.Entry)) {
			continue // its name is not known
		}
		if j, ok := seen[in.Name]; ok {
			l.Add(doc.Errorf(fmt.Sprintf("games[%d].name", in.Entry), "game name %q is used twice (entries %d and %d): give one a name", in.Name, j, in.Entry))
		}
		seen[in.Name] = in.Entry
	}
	return l.Err()
}

func wholeTokens(v float64) bool { return v == math.Trunc(v) && v >= 1 && v <= 1e6 }

func (g *Game) check(doc *yamlx.Doc, p string) error {
	// What else a game may set depends on which game it is.
	if g.Game == "" {
		return doc.Errorf(p+".game", "required: one of %s", strings.Join(GameIDs, ", "))
	}
	if !slices.Contains(GameIDs, g.Game) {
		return doc.Errorf(p+".game", "unknown game %q (want one of %s)", g.Game, strings.Join(GameIDs, ", "))
	}
	l := yamlx.NewList(doc.Name())
	if g.Name == "" {
		g.Name = g.Game
		if pun := strings.ToLower(string(g.Punishment)); g.Game == "public_goods" && (pun == "on" || pun == "true" || pun == "yes") {
			g.Name = "public_goods_punish"
		}
	}
	if !experiment.ValidName(g.Name) {
		l.Add(doc.Errorf(p+".name", "%s", experiment.BadName(g.Name)))
	}
	def := map[string]float64{"dictator": 100, "ultimatum": 100, "trust": 10, "public_goods": 20}
	if g.Endowment == 0 {
		g.Endowment = def[g.Game]
	}
	if !wholeTokens(g.Endowment) {
		l.Add(doc.Errorf(p+".endowment", "%g: want a whole number of tokens from 1 to 1000000", g.Endowment))
	}
	switch g.Game {
	case "trust":
		if g.Multiplier == 0 {
			g.Multiplier = 3
		}
		if g.Multiplier < 1 || g.Multiplier > 100 || math.IsNaN(g.Multiplier) {
			l.Add(doc.Errorf(p+".multiplier", "%g is out of range 1..100 (what the returner receives per token sent)", g.Multiplier))
		}
	case "public_goods":
		if g.Multiplier == 0 {
			g.Multiplier = 1.6
		}
		if g.Multiplier <= 0 || g.Multiplier > 100 || math.IsNaN(g.Multiplier) {
			l.Add(doc.Errorf(p+".multiplier", "%g is out of range (0, 100] (the pool's multiplier)", g.Multiplier))
		}
	default:
		if g.Multiplier != 0 {
			l.Add(doc.Errorf(p+".multiplier", "only for trust and public_goods"))
		}
	}
	if g.Game == "ultimatum" {
		switch g.Responder {
		case "":
			g.Responder = "choice"
		case "choice", "mao":
		default:
			l.Add(doc.Errorf(p+".responder", "unknown responder task %q (want choice: accept or reject the offer, or mao: a minimum acceptable offer)", g.Responder))
		}
	} else if g.Responder != "" {
		l.Add(doc.Errorf(p+".responder", "only for ultimatum"))
	}
	if g.Game == "public_goods" {
		if g.GroupSize == 0 {
			g.GroupSize = 4
		}
		if g.GroupSize < 2 || g.GroupSize > 100 {
			l.Add(doc.Errorf(p+".group_size", "%d is out of range 2..100", g.GroupSize))
		}
		if g.Rounds == 0 {
			g.Rounds = 10
		}
		if g.Rounds < 1 || g.Rounds > 100 {
			l.Add(doc.Errorf(p+".rounds", "%d is out of range 1..100", g.Rounds))
		}
		switch strings.ToLower(string(g.Punishment)) {
		case "":
			g.Punishment = "both"
		case "on", "true", "yes":
			g.Punishment = "on"
		case "off", "false", "no":
			g.Punishment = "off"
		case "both":
			g.Punishment = "both"
		default:
			l.Add(doc.Errorf(p+".punishment", "%q: want on, off or both (both plays the game without and with punishment, as two games)", string(g.Punishment)))
		}
	} else {
		if g.GroupSize != 0 {
			l.Add(doc.Errorf(p+".group_size", "only for public_goods"))
		}
		if g.Rounds != 0 {
			l.Add(doc.Errorf(p+".rounds", "only for public_goods (the other games are one-shot)"))
		}
		if g.Punishment != "" {
			l.Add(doc.Errorf(p+".punishment", "only for public_goods"))
		}
	}
	roles := GameRoles[g.Game]
	keys := make([]string, 0, len(g.Scenarios))
	for k := range g.Scenarios {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, role := range keys {
		switch {
		case !slices.Contains(roles, role):
			l.Add(doc.Errorf(p+".scenarios."+role, "game %s has no role %q (roles: %s)", g.Game, role, strings.Join(roles, ", ")))
		case g.Scenarios[role] == "":
			l.Add(doc.Errorf(p+".scenarios."+role, "give a scenario id (from scenario_files)"))
		case role == "punish" && g.Punishment == "off":
			l.Add(doc.Errorf(p+".scenarios."+role, "this game has no punishment stage (punishment: off)"))
		}
	}
	return l.Err()
}
