// Package games is the economic-games battery: every agent plays every game of the
// experiment's games: list (dictator, ultimatum, trust, public goods without and with peer
// punishment) in every cell (backend x condition x replicate). The world's rules are Go
// (internal/game): matching in seeded pairs and groups, what each agent is shown, payoffs.
// Only the agents' decisions come from the backend.
//
// Games advance in synchronous steps: a step asks every decision that can be asked (every
// proposer's offer, then every responder's answer to its proposer's recorded offer; every
// member's contribution in round t, then the punishment points of round t, then round t+1),
// all games and cells together, and the next step is built from the step's replies (given to
// Batch.Absorb, kept as each game's moves). A resumed run replays the steps over the run
// store: decisions already recorded are not asked again (the runner reads their replies back
// for Absorb), and the prompts of later steps are rebuilt from the same recorded replies.
//
// Store keys: Round is the public goods round (1 for one-shot games), Trial is the game's
// 1-based position among the games played (GameInstance.Index); a punishment
// decision's Trial is 1000 x that position + the target's rank among the punisher's fellow
// group members (ascending agent id), and its Params carry target_id.
package games

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/scorecard"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/situation"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/study/spill"
	"github.com/prosim/prosim/internal/yamlx"
)

// Name is the study's name in experiment files.
const Name = "games"

func init() {
	study.RegisterDesign(Name, design)
	study.Register(Name, New, GamesSchema, PunishmentsSchema, StatsSchema, RoundsSchema, RejectionsSchema, scorecard.Schema)
}

// punishTrialBase separates punishment decisions' trial numbers: game index x 1000 + rank.
const punishTrialBase = 1000

// gamesStudy is the games battery for one run.
type gamesStudy struct {
	env *study.Env
	pl  *plan
	ms  []gameRun
	// pending are the machines whose step was handed to the runner last, to advance with
	// the step's replies on the next call of Next.
	pending []gameMachine
	// from is the first machine not yet done (Next steps machines from there).
	from int
	// replies are the replies of that step by key (Batch.Absorb: asked, or read back from
	// the run store on resume and replay), until the machines have read them: the games keep
	// what they need of earlier steps as moves, so no reply outlives its step.
	mu      sync.Mutex
	replies map[store.Key]stepReply
	// analysis is computed once, after the last step.
	res *results
	// systems are the system texts under the persona and system factors.
	systems *study.Systems
	// spill holds the public goods rounds played (pgM.rounds).
	spill spill.File
	// strs are the distinct model versions the machines keep by number (intern); strs[0] is "".
	strs  []string
	strIx map[string]uint32
	// live counts the machines started and not yet done: their game state (agents, pairs or
	// groups, the last round) is held from start to release, so at most a window's worth.
	live int
}

// liveHook, when set (tests), is told the number of live machines whenever it changes.
var liveHook func(live int)

// intern numbers a model version (absorbs run one at a time, from Next: no lock).
func (s *gamesStudy) intern(v string) uint32 {
	if s.strIx == nil {
		s.strs, s.strIx = []string{""}, map[string]uint32{"": 0}
	}
	i, ok := s.strIx[v]
	if !ok {
		i = uint32(len(s.strs))
		s.strs = append(s.strs, v)
		s.strIx[v] = i
	}
	return i
}

// plan is the scenarios of every game instance's roles.
type plan struct {
	inst []GameInstance
	// sc[i][role] is the scenario asked (built-in or framing variant); base[i][role] the
	// built-in scenario whose rules, schema maximum and behavioural model apply.
	sc, base []map[string]scenario.Scenario
}

// New resolves and checks the games' scenarios and the conditions' policy texts for them,
// and builds every cell's games.
func New(env *study.Env) (study.Study, error) {
	pl, err := newPlan(env)
	if err != nil {
		return nil, err
	}
	s := &gamesStudy{env: env, pl: pl, systems: study.NewSystems(env), spill: spill.File{What: "game records"}}
	if s.ms, err = s.machines(); err != nil {
		return nil, err
	}
	return s, nil
}

// newPlan resolves the games' scenarios; errors point at the experiment file's fields.
func newPlan(env *study.Env) (*plan, error) {
	if len(env.Agents) < 2 {
		return nil, env.Errorf("population", "the games need at least 2 agents (the population has %d)", len(env.Agents))
	}
	exp := env.Exp
	cfg := ConfigOf(exp)
	if cfg == nil {
		return nil, env.Errorf("games", "study games needs its checked games block")
	}
	pl := &plan{inst: cfg.Instances()}
	cur := exp.Population.Currency
	// Every role's problems at once; an entry's instances (a sweep of its terms) share its
	// scenarios: a problem they share is told once.
	l := yamlx.NewList(env.Doc.Name())
	told := map[string]bool{}
	add := func(err error) {
		if err != nil && !told[err.Error()] {
			told[err.Error()] = true
			l.Add(err)
		}
	}
	// A scenario without a wording is one problem however many games ask it: told once, with
	// the games by the names the user gave them.
	type lack struct {
		scenario, role, wording string
		at                      int // its index in factors.wording
		has                     []string
		games                   []string
	}
	var lacks []*lack
	lackOf := map[[2]string]*lack{}
	for i := range pl.inst {
		in := &pl.inst[i]
		sc, base := map[string]scenario.Scenario{}, map[string]scenario.Scenario{}
		for _, role := range in.Roles() {
			path := fmt.Sprintf("games[%d].scenarios.%s", in.Entry, role)
			if _, given := (*cfg)[in.Entry].Scenarios[role]; !given {
				path = fmt.Sprintf("games[%d]", in.Entry)
			}
			bid := DefaultGameScenario(in, role)
			b, ok := env.Scenarios.Get(bid)
			if !ok {
				return nil, fmt.Errorf("built-in scenario %q is missing from the library", bid)
			}
			s, ok := env.Scenarios.Get(in.Scenarios[role])
			switch {
			case !ok:
				add(env.Errorf(path, "%s", env.Scenarios.Unknown(in.Scenarios[role], "see `prosim scenarios`, or add it with scenario_files")))
				continue
			case s.Kind != "game" || s.Game != b.Game:
				add(env.Errorf(path, "scenario %q is kind %q of game %q; the %s of %s needs a game scenario of game %q", s.ID, s.Kind, s.Game, role, in.named(), b.Game))
				continue
			case !sameFields(s.Response, b.Response):
				add(env.Errorf(path, "scenario %q must answer with the fields of %s (%s), as the rules read them", s.ID, b.ID, fieldList(b.Response)))
				continue
			}
			// Render once with the game's terms so that a template error shows now, not mid-run.
			probe := maps.Clone(b.Params)
			maps.Copy(probe, terms(in))
			// A field whose maximum the rules set (the endowment: game.SchemaMax) is asked
			// with that maximum: a custom scenario's other max would be replaced silently.
			if s.ID != b.ID && !slices.Contains(varying, b.ID) {
				if field, mx, ok := game.SchemaMax(b.ID, probe); ok {
					for fi, f := range s.Response.Fields {
						if f.Name == field && f.Max != mx {
							add(s.FieldError(fi, "max", fmt.Sprintf("%s's max %g is not the endowment %g of %s (games[%d]): the rules let the %s choose 0..%g, so write max: %g",
								field, f.Max, mx, in.named(), in.Entry, role, mx, mx)))
						}
					}
				}
			}
			if _, err := scenario.Compose(s, probe, cur, ""); err != nil {
				add(withTerms(env, path, in.Entry, err, env.Errorf(path, "%v", err)))
			}
			for wi, w := range exp.Factors.Wording {
				ws, ok := s.Worded(w)
				if !ok {
					k := [2]string{s.ID, w}
					if lackOf[k] == nil {
						lackOf[k] = &lack{scenario: s.ID, role: role, wording: w, at: wi, has: s.Wordings()}
						lacks = append(lacks, lackOf[k])
					}
					if m := lackOf[k]; !slices.Contains(m.games, in.Base) {
						m.games = append(m.games, in.Base)
					}
				} else if _, err := scenario.Compose(ws, probe, cur, ""); err != nil {
					// Located in the scenario's file, the variant's line says the wording.
					add(withTerms(env, path, in.Entry, err, env.Errorf(fmt.Sprintf("factors.wording[%d]", wi), "scenario %s wording %s: %v", s.ID, w, err)))
				}
			}
			for ci, c := range exp.Conditions {
				f, ok := env.Policies.Get(c.Policy)
				if !ok {
					continue // the runner has already reported an unknown policy
				}
				if _, err := f.Text(s.ID, cur); err != nil {
					add(env.Errorf(fmt.Sprintf("conditions[%d].policy", ci), "policy %q with game scenario %q: %v", f.ID, s.ID, err))
				}
			}
			sc[role], base[role] = s, b
		}
		pl.sc, pl.base = append(pl.sc, sc), append(pl.base, base)
	}
	for _, m := range lacks {
		games := "game " + m.games[0]
		if len(m.games) > 1 {
			games = "games " + strings.Join(m.games, ", ")
		}
		add(env.Errorf(fmt.Sprintf("factors.wording[%d]", m.at), "scenario %s (the %s of %s) has no wording %q (it has %v; add variants: to its YAML)", m.scenario, m.role, games, m.wording, m.has))
	}
	if err := l.Err(); err != nil {
		return nil, err
	}
	return pl, nil
}

// named is the game as the user named it, for messages: "game charity (a dictator game)", or
// "game trust" when its name is its game's.
func (g *GameInstance) named() string {
	if g.Base == g.Game {
		return "game " + g.Base
	}
	return fmt.Sprintf("game %s (a %s game)", g.Base, g.Game)
}

func sameFields(a, b scenario.Schema) bool {
	return slices.EqualFunc(a.Fields, b.Fields, func(x, y scenario.Field) bool {
		return x.Name == y.Name && x.Kind == y.Kind && slices.Equal(x.Options, y.Options)
	})
}

func fieldList(s scenario.Schema) string {
	var out string
	for i, f := range s.Fields {
		if i > 0 {
			out += ", "
		}
		out += f.Name + " (" + string(f.Kind) + ")"
	}
	return out
}

// varying are the built-in game scenarios whose amount field's maximum changes from request to
// request (game.SchemaMax): a scenario's max for them is a placeholder.
var varying = []string{game.ScenarioTrustReturner}

// withTerms is the problem err of rendering a game's scenario with the game's terms: a problem
// located in the scenario's file is that file's, saying which game's terms it was rendered with
// (they are not in the file), or else at path (the scenario's field); a problem not located
// elsewhere is here.
func withTerms(env *study.Env, path string, entry int, err, here error) error {
	if !yamlx.Elsewhere(err, env.Doc.Name()) {
		return here
	}
	var e *yamlx.Error
	if errors.As(err, &e) && e == err {
		c := *e
		c.Msg += fmt.Sprintf(" (rendered with the terms of games[%d])", entry)
		return &c
	}
	return env.Errorf(path, "%v", err)
}

// terms are the game's parameters shown in every prompt of the game.
func terms(in *GameInstance) map[string]float64 {
	t := map[string]float64{"endowment": in.Endowment}
	if in.Game == "trust" || in.Game == "public_goods" {
		t["multiplier"] = in.Multiplier
	}
	return t
}

func (s *gamesStudy) Describe() string {
	var names []string
	for _, in := range s.pl.inst {
		names = append(names, in.Name)
	}
	e := s.env.Exp
	return fmt.Sprintf("study games: %s (%s) x %s%s x %s x %s = at most %s",
		plural.Count(len(s.env.Agents), "agent")+" x "+plural.Count(len(names), "game"), strings.Join(names, ", "), plural.Count(len(e.Conditions), "condition"),
		study.FactorsDescribed(e), plural.Count(e.Replicates, "replicate"), plural.Count(len(s.env.Backends), "backend"), plural.Count(s.Expected(), "decision"))
}

func (s *gamesStudy) Expected() int {
	n := 0
	for _, g := range s.ms {
		n += g.m.expected()
	}
	return n
}

// NotAsked sums the games' decisions not needed so far by who and why, in the order first
// met (cells, then games).
func (s *gamesStudy) NotAsked() []study.NotAsked {
	var out []study.NotAsked
	for _, g := range s.ms {
		g.m.notAsked(func(n int, who, why string) {
			for i := range out {
				if out[i].Who == who && out[i].Why == why {
					out[i].N += n
					return
				}
			}
			out = append(out, study.NotAsked{N: n, Who: who, Why: why})
		})
	}
	return out
}

// Next advances every machine of the last step with the step's recorded replies, then
// returns the next step of the machines not done, in their order, up to stepWindow decisions,
// as one batch.
func (s *gamesStudy) Next() (*study.Batch, error) {
	for {
		for _, m := range s.pending {
			if err := m.absorb(); err != nil {
				return nil, err
			}
			if m.done() {
				// What the results read is in the spill file or in the machine's counts.
				m.release()
				s.setLive(s.live - 1)
			}
		}
		s.pending = nil
		s.replies = map[store.Key]stepReply{}
		var tasks []lazyTask
		for i := s.from; i < len(s.ms) && len(tasks) < stepWindow; i++ {
			g := s.ms[i]
			if g.m.done() {
				if i == s.from {
					s.from++
				}
				continue
			}
			if started, err := g.m.start(); err != nil {
				return nil, err
			} else if started {
				s.setLive(s.live + 1)
			}
			ts, err := g.m.step()
			if err != nil {
				return nil, err
			}
			tasks = append(tasks, ts...)
			s.pending = append(s.pending, g.m)
		}
		if len(s.pending) == 0 {
			return nil, nil
		}
		if len(tasks) > 0 {
			return &study.Batch{N: len(tasks), Build: func(i int) (study.Task, error) { return tasks[i].build() },
				Keys:   func(i int) study.Task { return study.Task{Keys: []store.Key{tasks[i].key}, Cell: tasks[i].cell} },
				Absorb: s.absorb}, nil
		}
		// A step without decisions (every proposer's reply invalid, say): advance at once.
	}
}

// stepWindow bounds the decisions of a step: machines (a game in a cell) are stepped in their
// order until a step has this many, the others wait for a later step. A step's tasks and
// replies are held until it ends (about 0.5 KB a decision), so this bounds them whatever the
// number of cells (replicates, conditions); a machine's own decisions are never split, and
// each is independent of the others' (its own seeds), so the order changes no result. A
// machine's game state is made when it is first stepped and freed when it is done, so the
// machines alive are those of a window too, not every cell's.
var stepWindow = 4096 // a variable for the tests

func (s *gamesStudy) setLive(n int) {
	s.live = n
	if liveHook != nil {
		liveHook(n)
	}
}

// absorb keeps what the machines read of a task's replies (not the raw text) for the end of
// the step.
func (s *gamesStudy) absorb(_ int, t *study.Task, replies []backend.Reply) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for j, k := range t.Keys {
		r := replies[j]
		sr := stepReply{has: r.Values != nil, invalid: r.Invalid, version: r.ModelVersion}
		if len(r.Values) == 1 { // a game's scenario asks one field: the map is not kept
			for f, v := range r.Values {
				sr.field, sr.value = f, v
			}
		} else {
			sr.values = r.Values
		}
		s.replies[k] = sr
	}
	return nil
}

// stepReply is what a machine reads of a reply at the end of its step: a step holds one per
// decision of every cell, so not the whole backend.Reply (about 190 bytes more), nor the
// values' map when the reply has one value (about 250 bytes more).
type stepReply struct {
	has              bool // the reply had values
	field            string
	value            float64
	values           map[string]float64 // when not one value
	invalid, version string
}

// valid is backend.Reply.Valid.
func (r stepReply) valid() bool { return r.invalid == "" && r.has }

// get reads a value as the reply's map would: 0 when absent.
func (r stepReply) get(field string) float64 {
	if r.values != nil {
		return r.values[field]
	}
	if r.field == field {
		return r.value
	}
	return 0
}

// EstimateNote says how the games' later steps, which depend on earlier replies, are
// estimated.
func (s *gamesStudy) EstimateNote() string {
	return "the games' later steps depend on earlier replies, so they are estimated with placeholder " +
		"answers (every offer, amount sent and contribution half the endowment, no punishment points): every ultimatum " +
		"responder and trust returner is counted (trust returners at most: none is asked when nothing was sent), and " +
		"public goods rounds after the first and their punishment stages are counted in full, with prompts built from " +
		"that placeholder history"
}

// Placeholder answers a decision while estimating: every first mover offers or sends half
// the endowment (so every second mover is asked), every public goods member puts in half the
// endowment and gives no punishment points; a responder accepts.
func (s *gamesStudy) Placeholder(t *study.Task) backend.Reply {
	rep := study.Midpoint(t.Req.Schema)
	idx := t.Keys[0].Trial // the game's index, or index x punishTrialBase + rank
	if idx >= punishTrialBase {
		idx /= punishTrialBase
	}
	half := math.Floor(s.pl.inst[idx-1].Endowment / 2)
	for f := range rep.Values {
		switch f {
		case "give", "offer", "send", "contribute", "min_accept":
			rep.Values[f] = half
		case "points", "return":
			rep.Values[f] = 0
		case "choice":
			rep.Values[f] = game.ChoiceAccept
		}
	}
	return rep
}

// ---- machines -------------------------------------------------------------------------------

// row is one row of results/games.csv.
type row struct {
	round, group int // group 0: none
	agent        int
	role         string
	partner      int     // 0: none
	choice       float64 // NaN: no decision
	payoff       float64 // NaN: not determined (a reply it depends on was invalid)
	valid        bool
	reason       string
	version      string // model version of the agent's own decision; "" when not asked
}

// gameMachine plays one game instance in one cell.
type gameMachine interface {
	// step lists the decisions of the current step (possibly none).
	step() ([]lazyTask, error)
	// absorb reads the step's replies (gamesStudy.replies) and advances the game.
	absorb() error
	done() bool
	// start makes the game's state before its first step (started: it was not made yet);
	// release frees what the results do not read, once the game is done.
	start() (started bool, err error)
	release()
	// rows are the game's rows of games.csv, made as they are read.
	rows() iter.Seq[row]
	// expected is how many decisions the game asks at most (for progress).
	expected() int
	// notAsked tells add of the decisions of expected that the steps made so far did not
	// need (see gamesStudy.NotAsked).
	notAsked(add func(n int, who, why string))
}

// gameBase is what every machine shares.
type gameBase struct {
	s      *gamesStudy
	cell   *study.Cell
	in     *GameInstance
	ids    []int       // agent ids in population order
	index  map[int]int // agent id -> index in env.Agents
	sd     uint64      // the matching's seed (pairs, groups)
	stage  int
	asked  []store.Key
	finish bool
	begun  bool
}

func (b *gameBase) done() bool { return b.finish }

// begin reports whether the game is starting now (start).
func (b *gameBase) begin() bool {
	if b.begun {
		return false
	}
	b.begun = true
	return true
}

// keep writes a finished one-shot game's moves to the study's spill file: the results read
// them after the last step, and holding every cell's took about 100 bytes a decision.
func (b *gameBase) keep(ms ...map[int]move) (spill.Span, error) {
	return b.s.spill.Write(b.s.encodeMoves(nil, ms...))
}

// load reads back the n maps of moves keep wrote at sp. A read error is kept for Analyze and
// the tables (spill.File.Err) and gives n empty maps.
func (b *gameBase) load(sp spill.Span, n int) []map[int]move {
	rec, err := b.s.spill.Read(sp, nil)
	var ms []map[int]move
	if err == nil {
		ms, err = b.s.decodeMoves(rec)
	}
	if err == nil && len(ms) != n {
		err = fmt.Errorf("game moves: a record holds %d sets of moves, not %d", len(ms), n)
	}
	if err != nil {
		b.s.spill.Fail(err)
		ms = make([]map[int]move, n)
	}
	return ms
}

// lazyTask is one decision's key and cell, and builds its task when the runner takes it, so
// that a step's prompts are not all held at once (a step is every agent of every cell). A
// resumed run reads a recorded decision back from its key (Batch.Keys): composing the
// prompts of recorded decisions was a third of a resume with nothing left to ask.
type lazyTask struct {
	key   store.Key
	cell  *study.Cell
	build func() (study.Task, error)
}

// ask remembers one decision's key for absorb and returns its task, built on demand from
// what the step knows now (the game state is not written until the step's replies are
// absorbed). prefix, if any, is shown before the scenario.
//
// mk makes the scenario's parameters and the extra ones the store keeps, when the task is
// built (a step's parameters are not all held at once).
func (b *gameBase) ask(role string, agent, round, trial int, mk func() (params, extra map[string]float64), prefix string) (lazyTask, error) {
	env, cell, in := b.s.env, b.cell, b.in
	sc, _ := b.s.pl.sc[in.Index-1][role].Worded(cell.Level("wording")) // checked in newPlan
	key := store.Key{RunID: cell.ID, AgentID: env.Agents[b.index[agent]].ID, Round: round, Trial: trial, Scenario: sc.ID}
	b.asked = append(b.asked, key)
	return lazyTask{key: key, cell: cell, build: func() (study.Task, error) {
		params, extra := mk()
		return b.task(key, role, agent, round, trial, params, extra, prefix)
	}}, nil
}

// task is one decision's task (ask).
func (b *gameBase) task(key store.Key, role string, agent, round, trial int, params, extra map[string]float64, prefix string) (study.Task, error) {
	env, cell, in := b.s.env, b.cell, b.in
	sc, base := b.s.pl.sc[in.Index-1][role], b.s.pl.base[in.Index-1][role]
	sc, _ = sc.Worded(cell.Level("wording")) // checked in newPlan
	schema := scenario.Schema{Fields: slices.Clone(sc.Response.Fields)}
	if field, mx, ok := game.SchemaMax(base.ID, params); ok {
		for i := range schema.Fields {
			if schema.Fields[i].Name == field {
				schema.Fields[i].Max = mx
			}
		}
	}
	canon := schema
	decSeed := seed.Decision(*env.Exp.Seed, cell.Replicate, env.Agents[b.index[agent]].ID, round, trial, sc.ID)
	schema, shown := Reorder(schema, cell.Level("option_order"), cell.LevelSeed(decSeed))
	sc.Response = schema
	cur := env.Exp.Population.Currency
	policyText, err := cell.Frame.Text(sc.ID, cur)
	if err != nil {
		return study.Task{}, err
	}
	prompt, err := scenario.Compose(sc, params, cur, policyText)
	if err != nil {
		return study.Task{}, study.ScenarioError(sc.ID, err)
	}
	prompt = prefix + prompt
	ai := b.index[agent]
	a := &env.Agents[ai]
	stored := maps.Clone(params)
	maps.Copy(stored, extra)
	baseID := base.ID
	return study.Task{
		Keys:   []store.Key{key},
		Params: []map[string]float64{stored},
		Cell:   cell,
		Req: backend.Request{
			AgentID: a.ID, System: b.s.systems.Text(cell, ai), Prompt: prompt, Schema: schema,
			// The behavioural model plays the built-in game whatever the framing: it reads no text.
			Structured: &situation.Situation{Persona: a, Scenario: baseID, Kind: "game", Params: study.SituationParams(sc, params), Policy: study.Exposure(cell.Frame)},
			Sampling:   cell.Sampling, Replicate: cell.Replicate,
			Seed: cell.LevelSeed(decSeed),
		},
		// The game's rules check every reply, whatever the backend chain did, once a choice
		// shown in another order is recoded to the scenario's option.
		Split: func(rep backend.Reply) []backend.Reply {
			if rep.Valid() {
				rep = Recode(rep, schema, shown)
				if err := checkMove(baseID, canon, params, rep.Values); err != nil {
					rep.Invalid, rep.Values = err.Error(), nil
				}
			} else if rep.Invalid == "" {
				rep.Invalid = "reply without values"
			}
			return []backend.Reply{rep}
		},
	}, nil
}

// checkMove validates a reply against the schema as asked and the game's rules.
func checkMove(id string, s scenario.Schema, p, v map[string]float64) error {
	if err := s.Validate(v); err != nil {
		return err
	}
	switch id {
	case game.ScenarioDictator:
		return game.DictatorCheck(p["endowment"], v["give"])
	case game.ScenarioUltimatumProposer:
		return game.UltimatumCheck(p["endowment"], v["offer"])
	case game.ScenarioUltimatumMAO:
		return game.MAOCheck(p["endowment"], v["min_accept"])
	case game.ScenarioTrustSender:
		return game.TrustSendCheck(p["endowment"], p["multiplier"], v["send"])
	case game.ScenarioTrustReturner:
		return game.TrustReturnCheck(p["sent"], p["multiplier"], v["return"])
	}
	return nil
}

// move is a recorded decision of one agent: its value, or why there is none.
type move struct {
	asked   bool
	valid   bool
	value   float64
	reason  string
	version string // the model version that answered
}

func (b *gameBase) moveOf(k store.Key, field string) (move, error) {
	rep, ok := b.s.replies[k] // read after the step, by Next alone
	if !ok {
		return move{}, fmt.Errorf("decision %+v is not recorded", k)
	}
	if !rep.valid() {
		return move{asked: true, reason: orDefault(rep.invalid, "invalid reply"), version: rep.version}, nil
	}
	return move{asked: true, valid: true, value: rep.get(field), version: rep.version}, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// ---- dictator -------------------------------------------------------------------------------

type dictatorM struct {
	gameBase
	moves spill.Span // the dictators' moves, once decided (keep); read once finish
}

func (m *dictatorM) expected() int { return len(m.ids) }

func (m *dictatorM) start() (bool, error) { return m.begin(), nil }
func (m *dictatorM) release()             {}

func (m *dictatorM) notAsked(func(int, string, string)) {}

func (m *dictatorM) step() ([]lazyTask, error) {
	var ts []lazyTask
	for _, id := range m.ids {
		t, err := m.ask("dictator", id, 1, m.in.Index, func() (map[string]float64, map[string]float64) { return terms(m.in), nil }, "")
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

func (m *dictatorM) absorb() error {
	moves := map[int]move{}
	for _, k := range m.asked {
		mv, err := m.moveOf(k, "give")
		if err != nil {
			return err
		}
		moves[k.AgentID] = mv
	}
	var err error
	m.moves, err = m.keep(moves)
	m.asked = nil
	m.finish = true
	return err
}

func (m *dictatorM) rows() iter.Seq[row] {
	var out []row
	var moves map[int]move // none until the game is over (a live view of a run under way)
	if m.finish {
		moves = m.load(m.moves, 1)[0]
	}
	for _, id := range m.ids {
		mv := moves[id]
		r := row{round: 1, agent: id, role: "dictator", choice: math.NaN(), payoff: math.NaN(), reason: mv.reason, version: mv.version}
		if mv.valid {
			own, _, _ := game.DictatorPayoff(m.in.Endowment, mv.value)
			r.choice, r.payoff, r.valid = mv.value, own, true
		}
		out = append(out, r)
	}
	return slices.Values(out)
}

// ---- two-player games: ultimatum and trust ---------------------------------------------------

// pairM plays the ultimatum or the trust game in seeded pairs: the first of a pair is the
// first mover (proposer, sender), the second the responder (returner). With an odd number of
// agents one agent, drawn at random, sits the game out (a row says so).
type pairM struct {
	gameBase
	// pairs and unpaired are the matching, from start to release; rowList draws it again
	// from the seed (game.Pair), so a finished game keeps none.
	pairs    [][2]int
	unpaired []int
	first    map[int]move // by first mover, until the game is over
	second   map[int]move // by second mover, until the game is over
	moves    spill.Span   // first and second, once the game is over (keep)
	// unasked counts the second movers not asked, by reason in the order first met (notAsked).
	unasked []unasked
}

type unasked struct {
	why string
	n   int
}

func (m *pairM) expected() int { return len(m.ids) / 2 * 2 }

func (m *pairM) start() (bool, error) {
	if !m.begin() {
		return false, nil
	}
	m.pairs, m.unpaired = game.Pair(m.ids, m.sd)
	return true, nil
}

func (m *pairM) release() { m.pairs, m.unpaired = nil, nil }

func (m *pairM) roles() (string, string, string, string) {
	if m.in.Game == "trust" {
		return "sender", "returner", "send", "return"
	}
	if m.in.Responder == "mao" {
		return "proposer", "responder", "offer", "min_accept"
	}
	return "proposer", "responder", "offer", "choice"
}

func (m *pairM) step() ([]lazyTask, error) {
	r1, r2, _, _ := m.roles()
	var ts []lazyTask
	add := func(role string, agent, partner, pair int, params map[string]float64) error {
		t, err := m.ask(role, agent, 1, m.in.Index, func() (map[string]float64, map[string]float64) {
			return params, map[string]float64{"partner_id": float64(partner), "pair": float64(pair)}
		}, "")
		if err == nil {
			ts = append(ts, t)
		}
		return err
	}
	mao := m.in.Game == "ultimatum" && m.in.Responder == "mao"
	for i, p := range m.pairs {
		switch m.stage {
		case 0:
			if err := add(r1, p[0], p[1], i+1, terms(m.in)); err != nil {
				return nil, err
			}
			if mao { // the strategy method: the responder answers before seeing the offer
				if err := add(r2, p[1], p[0], i+1, terms(m.in)); err != nil {
					return nil, err
				}
			}
		case 1:
			f := m.first[p[0]]
			if m.secondUnasked(f) != "" {
				continue
			}
			params := terms(m.in)
			if m.in.Game == "trust" {
				params["sent"] = f.value
			} else {
				params["offer"] = f.value
			}
			if err := add(r2, p[1], p[0], i+1, params); err != nil {
				return nil, err
			}
		}
	}
	return ts, nil
}

// secondUnasked says why a pair's second mover is not asked after the first mover's move f
// ("" when it is): step skips it, its row says why, notAsked counts it.
func (m *pairM) secondUnasked(f move) string {
	r1, _, _, _ := m.roles()
	switch {
	case m.in.Responder == "mao":
		return "" // the strategy method: asked beside the proposer
	case !f.valid:
		return "the " + r1 + "'s reply was invalid"
	case m.in.Game == "trust" && f.value == 0:
		return "nothing was sent, 0 returned by rule"
	}
	return ""
}

func (m *pairM) notAsked(add func(int, string, string)) {
	if m.stage < 1 || m.in.Responder == "mao" {
		return // the second movers are not due yet, or were asked with the first
	}
	_, r2, _, _ := m.roles()
	for _, u := range m.unasked {
		add(u.n, m.in.Game+" "+r2, u.why)
	}
}

func (m *pairM) absorb() error {
	_, _, f1, f2 := m.roles()
	if m.first == nil {
		m.first, m.second = map[int]move{}, map[int]move{}
	}
	firstOf := map[int]bool{}
	for _, p := range m.pairs {
		firstOf[p[0]] = true
	}
	for _, k := range m.asked {
		field, into := f2, m.second
		if firstOf[k.AgentID] {
			field, into = f1, m.first
		}
		mv, err := m.moveOf(k, field)
		if err != nil {
			return err
		}
		into[k.AgentID] = mv
	}
	m.asked = nil
	m.stage++
	if m.stage == 1 && m.in.Responder != "mao" {
		for _, p := range m.pairs {
			if why := m.secondUnasked(m.first[p[0]]); why != "" {
				i := slices.IndexFunc(m.unasked, func(u unasked) bool { return u.why == why })
				if i < 0 {
					i = len(m.unasked)
					m.unasked = append(m.unasked, unasked{why: why})
				}
				m.unasked[i].n++
			}
		}
	}
	if m.stage == 2 || (m.in.Game == "ultimatum" && m.in.Responder == "mao") {
		m.finish = true
		var err error
		m.moves, err = m.keep(m.first, m.second)
		m.first, m.second = nil, nil
		return err
	}
	return nil
}

func (m *pairM) rows() iter.Seq[row] { return slices.Values(m.rowList()) }

func (m *pairM) rowList() []row {
	r1, r2, _, _ := m.roles()
	if m.in.Responder == "mao" {
		r2 = "responder_mao"
	}
	E := m.in.Endowment
	var out []row
	// The moves are in the spill file once the game is over, in memory until then (a live
	// view of a run under way).
	first, second := m.first, m.second
	if m.finish {
		moves := m.load(m.moves, 2)
		first, second = moves[0], moves[1]
	}
	pairs, unpaired := m.pairs, m.unpaired
	if pairs == nil {
		pairs, unpaired = game.Pair(m.ids, m.sd)
	}
	for i, p := range pairs {
		a := row{round: 1, group: i + 1, agent: p[0], role: r1, partner: p[1], choice: math.NaN(), payoff: math.NaN()}
		b := row{round: 1, group: i + 1, agent: p[1], role: r2, partner: p[0], choice: math.NaN(), payoff: math.NaN()}
		f, s := first[p[0]], second[p[1]]
		a.valid, a.reason, a.version = f.valid, f.reason, f.version
		if f.valid {
			a.choice = f.value
		}
		b.valid, b.reason, b.version = s.valid, s.reason, s.version
		if s.valid {
			b.choice = s.value
		}
		why := m.secondUnasked(f)
		switch {
		case why != "" && !f.valid:
			b.reason = "not asked: " + why
		case why != "": // trust: nothing was sent
			b.reason = "not asked: " + why
			a.payoff, b.payoff = E, 0
		case f.valid && s.valid:
			switch {
			case m.in.Game == "trust":
				a.payoff, b.payoff, _ = game.TrustPayoff(E, m.in.Multiplier, f.value, s.value)
			case m.in.Responder == "mao":
				_, a.payoff, b.payoff, _ = game.UltimatumMAOPayoff(E, f.value, s.value)
			default:
				a.payoff, b.payoff, _ = game.UltimatumPayoff(E, f.value, s.value == game.ChoiceAccept)
			}
		}
		out = append(out, a, b)
	}
	for _, u := range unpaired {
		out = append(out, row{round: 1, agent: u, role: "unpaired", choice: math.NaN(), payoff: math.NaN(),
			reason: "not asked: no partner (odd number of agents)"})
	}
	return out
}

// ---- public goods ---------------------------------------------------------------------------

type pgM struct {
	gameBase
	// g and groups (the game's, fixed for all rounds) are held from start to release: the
	// rounds played are in the spill file, each with every agent's group.
	g       *game.PGGame
	reqs    []game.PGRequest
	groups  [][]int
	members int // sum over groups of size x (size - 1): punishment decisions per round
	// cur are the model versions of the current round's contributions by agent (index in
	// env.Agents), as gamesStudy.intern numbers them, until the round's record is spilled.
	cur []uint32
	// spilled are the rounds played, in the study's spill file (the game keeps only the last).
	spilled []spill.Span
	// skipped counts the punishment decisions of the rounds played that were not asked.
	skipped int
}

func (m *pgM) start() (bool, error) {
	if !m.begin() {
		return false, nil
	}
	in := m.in
	g, err := game.NewPG(m.ids, in.GroupSize, in.Rounds, in.Endowment, in.Multiplier, in.Punishment, m.sd)
	if err != nil {
		return false, fmt.Errorf("game %s: %w", in.Name, err)
	}
	m.g, m.groups = g, g.Groups()
	return true, nil
}

func (m *pgM) release() { m.g, m.groups, m.reqs, m.cur = nil, nil, nil, nil }

func (m *pgM) expected() int {
	n := m.in.Rounds * len(m.ids)
	if m.in.Punishment {
		n += m.in.Rounds * m.members
	}
	return n
}

// notAsked counts the punishment decisions of each round played that were not asked: those
// whose punisher's or target's contribution was invalid.
func (m *pgM) notAsked(add func(int, string, string)) {
	if !m.in.Punishment {
		return
	}
	if m.skipped > 0 {
		add(m.skipped, "public goods punishment decision", "the punisher's or the target's contribution was invalid")
	}
}

func (m *pgM) step() ([]lazyTask, error) {
	// The requests without their parameters: each task makes its own when it is built (the
	// game does not change until the step's replies are absorbed).
	m.reqs = m.g.Pending()
	var ts []lazyTask
	for _, q := range m.reqs {
		var t lazyTask
		var err error
		gi := m.g.GroupOf(q.Agent)
		mk := func() (map[string]float64, map[string]float64) {
			extra := map[string]float64{"group": float64(gi + 1)}
			if q.Target >= 0 {
				extra["target_id"] = float64(q.Target)
			}
			return m.g.ParamsOf(q), extra
		}
		if q.Target < 0 {
			t, err = m.ask("contribute", q.Agent, q.Round, m.in.Index, mk, "")
		} else {
			// Each other member is its own decision: the member's number keeps two members who
			// put in the same amount from being one identical prompt (one cached answer).
			k, n := m.rank(q.Agent, q.Target), len(m.groups[gi])-1
			prefix := fmt.Sprintf("You decide about the other members of your group one at a time. This is member %d of %d.\n\n", k, n)
			t, err = m.ask("punish", q.Agent, q.Round, m.in.Index*punishTrialBase+k, mk, prefix)
		}
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// rank is target's 1-based position among agent's fellow group members, by ascending id.
func (m *pgM) rank(agent, target int) int {
	k := 0
	for _, o := range m.groups[m.g.GroupOf(agent)] {
		if o == agent {
			continue
		}
		k++
		if o == target {
			return k
		}
	}
	return 0
}

func (m *pgM) absorb() error {
	for i, q := range m.reqs {
		k := m.asked[i]
		field := "contribute"
		if q.Target >= 0 {
			field = "points"
		}
		mv, err := m.moveOf(k, field)
		if err != nil {
			return err
		}
		if q.Target < 0 {
			if m.cur == nil {
				m.cur = make([]uint32, len(m.s.env.Agents))
			}
			m.cur[m.index[q.Agent]] = m.s.intern(mv.version)
		}
		switch {
		case q.Target < 0 && mv.valid:
			err = m.g.Contribute(q.Agent, mv.value)
		case q.Target < 0:
			err = m.g.Invalid(q.Agent, mv.reason)
		case mv.valid:
			err = m.g.Punish(q.Agent, q.Target, mv.value)
		default:
			err = m.g.InvalidPunish(q.Agent, q.Target, mv.reason)
		}
		if err != nil {
			return fmt.Errorf("game %s, run %s: %w", m.in.Name, m.cell.ID, err)
		}
	}
	m.asked, m.reqs = nil, nil
	rd, err := m.g.Advance()
	if err != nil {
		return err
	}
	if rd != nil { // the round is over: its record goes to the spill file
		if m.in.Punishment {
			m.skipped += m.members - len(rd.Punishments)
		}
		vs := make([]uint32, len(rd.Agents))
		for i, a := range rd.Agents {
			vs[i] = m.cur[m.index[a.Agent]]
		}
		sp, err := m.s.spill.Write(encodeRound(nil, rd, vs))
		if err != nil {
			return err
		}
		m.spilled = append(m.spilled, sp)
		m.g.TrimHistory()
		clear(m.cur)
	}
	m.finish = m.g.Stage() == game.PGDone
	return nil
}

// playedRound is a round's record with the model version of each agent's contribution, in
// the order of its Agents.
type playedRound struct {
	game.PGRound
	versions []uint32
}

// groupOf is the 1-based group of agent id in the round (its Agents are in population order).
func (m *pgM) groupOf(rd playedRound, id int) int {
	if i, ok := m.index[id]; ok && i < len(rd.Agents) && rd.Agents[i].Agent == id {
		return rd.Agents[i].Group + 1
	}
	for _, a := range rd.Agents {
		if a.Agent == id {
			return a.Group + 1
		}
	}
	return 0
}

// rounds are the rounds played, read back from the spill file one at a time. A read error
// ends them early and is kept for Analyze and the tables (spill.File.Err).
func (m *pgM) rounds() iter.Seq[playedRound] {
	return func(yield func(playedRound) bool) {
		var buf []byte
		for _, sp := range m.spilled {
			b, err := m.s.spill.Read(sp, buf)
			if err != nil {
				m.s.spill.Fail(err)
				return
			}
			buf = b
			rd, vs, err := decodeRound(b)
			if err != nil {
				m.s.spill.Fail(err)
				return
			}
			if !yield(playedRound{rd, vs}) {
				return
			}
		}
	}
}

// rows are the members' rows, round by round, by group and agent.
func (m *pgM) rows() iter.Seq[row] {
	return func(yield func(row) bool) {
		for rd := range m.rounds() {
			for r := range m.roundRows(rd) {
				if !yield(r) {
					return
				}
			}
		}
	}
}

// roundRows are the members' rows of one round, by group and agent.
func (m *pgM) roundRows(rd playedRound) iter.Seq[row] {
	return func(yield func(row) bool) {
		idx := make([]int, len(rd.Agents))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(i, j int) int {
			a, b := rd.Agents[i], rd.Agents[j]
			if a.Group != b.Group {
				return a.Group - b.Group
			}
			return a.Agent - b.Agent
		})
		for _, i := range idx {
			a := rd.Agents[i]
			r := row{round: rd.Round, group: a.Group + 1, agent: a.Agent, role: "member", choice: math.NaN(), payoff: a.Payoff, valid: a.Valid, reason: a.Reason,
				version: m.s.strs[rd.versions[i]]}
			if a.Valid {
				r.choice = a.Contribution
			}
			if !yield(r) {
				return
			}
		}
	}
}

// gameRun is one machine with its cell and game.
type gameRun struct {
	cell *study.Cell
	in   *GameInstance
	m    gameMachine
}

// machines makes every cell's games, in design order (cells, then games).
func (s *gamesStudy) machines() ([]gameRun, error) {
	env := s.env
	ids := make([]int, len(env.Agents))
	index := make(map[int]int, len(env.Agents))
	for i, a := range env.Agents {
		ids[i] = a.ID
		index[a.ID] = i
	}
	// A public goods game's punishment decisions per round (pgM.members), from its groups'
	// sizes, which do not depend on the seed; the game made here also checks its terms now,
	// not at its first step.
	members := make([]int, len(s.pl.inst))
	for ii, in := range s.pl.inst {
		if in.Game != "public_goods" {
			continue
		}
		g, err := game.NewPG(ids, in.GroupSize, in.Rounds, in.Endowment, in.Multiplier, in.Punishment, 0)
		if err != nil {
			return nil, fmt.Errorf("game %s: %w", in.Name, err)
		}
		for _, grp := range g.Groups() {
			members[ii] += len(grp) * (len(grp) - 1)
		}
	}
	var out []gameRun
	for _, cell := range env.Cells {
		for ii := range s.pl.inst {
			in := &s.pl.inst[ii]
			// Matching depends on the replicate and the game, not the condition or backend, so
			// every condition and backend meets the same pairs and groups (common random numbers);
			// the two treatments of one public goods entry share their groups.
			sd := seed.Derive(*env.Exp.Seed, "games-match", in.Base, cell.Replicate)
			b := gameBase{s: s, cell: cell, in: in, ids: ids, index: index, sd: sd}
			// The game's state is made at its first step (start), not here for every cell.
			var m gameMachine
			switch in.Game {
			case "dictator":
				m = &dictatorM{gameBase: b}
			case "ultimatum", "trust":
				m = &pairM{gameBase: b}
			case "public_goods":
				m = &pgM{gameBase: b, members: members[ii]}
			default:
				return nil, fmt.Errorf("game %q is not implemented", in.Game)
			}
			out = append(out, gameRun{cell, in, m})
		}
	}
	return out, nil
}

// design: the games vary the order a choice's options are shown in (experiment factors:
// option_order); the recorded value is always the scenario's own option.
var design = study.Design{Factors: []string{"wording", "persona", "system", "temperature", "option_order"}}

// Reorder shows every choice of sc in the order of level ("original" or "": as written;
// "reversed"; "shuffled": a permutation drawn from sd). shown[field][i] is the scenario's
// index of the option shown i-th.
func Reorder(sc scenario.Schema, level string, sd uint64) (scenario.Schema, map[string][]int) {
	if level == "" || level == "original" {
		return sc, nil
	}
	out := scenario.Schema{Fields: slices.Clone(sc.Fields)}
	shown := map[string][]int{}
	for i, f := range out.Fields {
		if f.Kind != scenario.Choice {
			continue
		}
		n := len(f.Options)
		perm := make([]int, n)
		for k := range perm {
			perm[k] = n - 1 - k
		}
		if level == "shuffled" {
			perm = rand.New(rand.NewPCG(seed.Derive(sd, "option order", f.Name), 0)).Perm(n)
		}
		opts := make([]string, n)
		for k, j := range perm {
			opts[k] = f.Options[j]
		}
		out.Fields[i].Options = opts
		shown[f.Name] = perm
	}
	return out, shown
}

// Recode maps each choice given as the index of the option shown back to the scenario's
// index of that option.
func Recode(rep backend.Reply, sc scenario.Schema, shown map[string][]int) backend.Reply {
	if len(shown) == 0 || !rep.Valid() {
		return rep
	}
	v := maps.Clone(rep.Values)
	for name, perm := range shown {
		if x, ok := v[name]; ok && x == float64(int(x)) && int(x) >= 0 && int(x) < len(perm) {
			v[name] = float64(perm[int(x)])
		}
	}
	rep.Values = v
	return rep
}
