package engine

// study: games, the economic-games battery. Every agent plays every game of the experiment's
// games: list in every run (backend x condition x replicate). The world's rules are Go
// (internal/game): matching in seeded pairs and groups, what each agent is shown, payoffs.
// Only the agents' decisions come from the backend, through decide() like every other study, so
// the cache, the run store and resume work as they do there.
//
// Games advance in synchronous steps: a step asks every decision that can be asked (every
// proposer's offer, then every responder's answer to its proposer's recorded offer; every
// member's contribution in round t, then the punishment points of round t, then round t+1),
// all games and runs together, and the next step is built from the recorded replies. A resumed
// run replays the steps from the store: decisions already recorded are not asked again, and
// the prompts of later steps are rebuilt from the same recorded replies.
//
// Store keys: Round is the public goods round (1 for one-shot games), Trial is the game's
// 1-based position among the games played (experiment.GameInstance.Index); a punishment
// decision's Trial is 1000 x that position + the target's rank among the punisher's fellow
// group members (ascending agent id), and its Params carry target_id.

import (
	"context"
	"encoding/csv"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/yamlx"
)

// GameColumns is the header of results/games.csv: one row per agent per game per round.
var GameColumns = []string{"run_id", "condition", "replicate", "game", "round", "group", "agent_id", "role",
	"partner_id", "choice", "payoff", "valid", "invalid_reason"}

// PunishmentColumns is the header of results/pg_punishments.csv: one row per punisher, target
// and round of the public goods games with punishment.
var PunishmentColumns = []string{"run_id", "condition", "replicate", "game", "round", "group", "agent_id",
	"target_id", "points", "valid", "invalid_reason"}

// punishTrialBase separates punishment decisions' trial numbers: game index x 1000 + rank.
const punishTrialBase = 1000

// gamesPlan is the scenarios of every game instance's roles.
type gamesPlan struct {
	inst []experiment.GameInstance
	// sc[i][role] is the scenario asked (built-in or framing variant); base[i][role] the
	// built-in scenario whose rules, schema maximum and behavioural model apply.
	sc, base []map[string]scenario.Scenario
}

// planGames resolves and checks the games' scenarios and the conditions' policy texts for
// them. doc locates errors in the experiment file; frames are the conditions' frames (nil
// skips that check).
func (r *Runner) planGames(doc *yamlx.Doc, frames []policy.Frame) (*gamesPlan, error) {
	if len(r.agents) < 2 {
		return nil, doc.Errorf("population", "the games need at least 2 agents (the population has %d)", len(r.agents))
	}
	pl := &gamesPlan{inst: r.exp.GameInstances()}
	cur := r.exp.Population.Currency
	for i := range pl.inst {
		in := &pl.inst[i]
		sc, base := map[string]scenario.Scenario{}, map[string]scenario.Scenario{}
		for _, role := range in.Roles() {
			path := fmt.Sprintf("games[%d].scenarios.%s", in.Entry, role)
			if _, given := r.exp.Games[in.Entry].Scenarios[role]; !given {
				path = fmt.Sprintf("games[%d]", in.Entry)
			}
			bid := experiment.DefaultGameScenario(in, role)
			b, ok := r.scen.Get(bid)
			if !ok {
				return nil, fmt.Errorf("built-in scenario %q is missing from the library", bid)
			}
			s, ok := r.scen.Get(in.Scenarios[role])
			if !ok {
				return nil, doc.Errorf(path, "unknown scenario %q (see `prosim scenarios`, or add it with scenario_files)", in.Scenarios[role])
			}
			if s.Kind != "game" || s.Game != b.Game {
				return nil, doc.Errorf(path, "scenario %q is kind %q of game %q; the %s of %s needs a game scenario of game %q", s.ID, s.Kind, s.Game, role, in.Game, b.Game)
			}
			if !sameFields(s.Response, b.Response) {
				return nil, doc.Errorf(path, "scenario %q must answer with the fields of %s (%s), as the rules read them", s.ID, b.ID, fieldList(b.Response))
			}
			// Render once with the game's terms so that a template error shows now, not mid-run.
			probe := maps.Clone(b.Params)
			maps.Copy(probe, terms(in))
			if _, err := scenario.Compose(s, probe, cur, ""); err != nil {
				return nil, doc.Errorf(path, "%v", err)
			}
			for ci, f := range frames {
				if _, err := f.Text(s.ID, cur); err != nil {
					return nil, doc.Errorf(fmt.Sprintf("conditions[%d].policy", ci), "policy %q with game scenario %q: %v", f.ID, s.ID, err)
				}
			}
			sc[role], base[role] = s, b
		}
		pl.sc, pl.base = append(pl.sc, sc), append(pl.base, base)
	}
	return pl, nil
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

// terms are the game's parameters shown in every prompt of the game.
func terms(in *experiment.GameInstance) map[string]float64 {
	t := map[string]float64{"endowment": in.Endowment}
	if in.Game == "trust" || in.Game == "public_goods" {
		t["multiplier"] = in.Multiplier
	}
	return t
}

// gameRow is one row of results/games.csv.
type gameRow struct {
	round, group int // group 0: none
	agent        int
	role         string
	partner      int     // 0: none
	choice       float64 // NaN: no decision
	payoff       float64 // NaN: not determined (a reply it depends on was invalid)
	valid        bool
	reason       string
}

// gameMachine plays one game instance in one run.
type gameMachine interface {
	// step lists the decisions of the current step (possibly none).
	step() ([]task, error)
	// absorb reads the step's decisions from the journal and advances the game.
	absorb() error
	done() bool
	rows() []gameRow
	// expected is how many decisions the game asks at most (for progress).
	expected() int
}

// gameBase is what every machine shares.
type gameBase struct {
	r      *Runner
	run    *runInfo
	pl     *gamesPlan
	in     *experiment.GameInstance
	ids    []int       // agent ids in population order
	index  map[int]int // agent id -> index in r.agents
	stage  int
	asked  []store.Key
	finish bool
}

func (b *gameBase) done() bool { return b.finish }

// ask makes one decision's task and remembers its key for absorb. prefix, if any, is shown
// before the scenario.
func (b *gameBase) ask(role string, agent, round, trial int, params, extra map[string]float64, prefix string) (task, error) {
	r, run, in := b.r, b.run, b.in
	sc, base := b.pl.sc[in.Index-1][role], b.pl.base[in.Index-1][role]
	schema := scenario.Schema{Fields: slices.Clone(sc.Response.Fields)}
	if field, mx, ok := game.SchemaMax(base.ID, params); ok {
		for i := range schema.Fields {
			if schema.Fields[i].Name == field {
				schema.Fields[i].Max = mx
			}
		}
	}
	sc.Response = schema
	cur := r.exp.Population.Currency
	policyText, err := run.frame.Text(sc.ID, cur)
	if err != nil {
		return task{}, err
	}
	prompt, err := scenario.Compose(sc, params, cur, policyText)
	if err != nil {
		return task{}, fmt.Errorf("scenario %s: %w", sc.ID, err)
	}
	prompt = prefix + prompt
	ai := b.index[agent]
	a := &r.agents[ai]
	stored := maps.Clone(params)
	maps.Copy(stored, extra)
	key := store.Key{RunID: run.ID, AgentID: a.ID, Round: round, Trial: trial, Scenario: sc.ID}
	b.asked = append(b.asked, key)
	baseID := base.ID
	return task{
		keys:   []store.Key{key},
		params: []map[string]float64{stored},
		run:    run,
		req: backend.Request{
			AgentID: a.ID, Persona: a, System: systemText(r.texts[ai]), Prompt: prompt, Schema: schema,
			// The behavioural model plays the built-in game whatever the framing: it reads no text.
			Situation: backend.Situation{Scenario: baseID, Kind: "game", Params: situationParams(sc, params), Policy: exposure(run.frame)},
			Sampling:  run.backend.sampling(), Replicate: run.Replicate,
			Seed: decisionSeed(*r.exp.Seed, run.Replicate, a.ID, round, trial, sc.ID),
		},
		// The game's rules check every reply, whatever the backend chain did.
		split: func(rep backend.Reply) []backend.Reply {
			if rep.Valid() {
				if err := checkMove(baseID, schema, params, rep.Values); err != nil {
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

// reply is a step's recorded decision.
func (b *gameBase) reply(k store.Key) (backend.Reply, error) {
	d, ok := b.r.journal[k]
	if !ok {
		return backend.Reply{}, fmt.Errorf("decision %+v is not recorded", k)
	}
	return d.Reply, nil
}

// move is a recorded decision of one agent: its value, or why there is none.
type move struct {
	asked  bool
	valid  bool
	value  float64
	reason string
}

func (b *gameBase) moveOf(k store.Key, field string) (move, error) {
	rep, err := b.reply(k)
	if err != nil {
		return move{}, err
	}
	if !rep.Valid() {
		return move{asked: true, reason: orDefault(rep.Invalid, "invalid reply")}, nil
	}
	return move{asked: true, valid: true, value: rep.Values[field]}, nil
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
	moves map[int]move
}

func (m *dictatorM) expected() int { return len(m.ids) }

func (m *dictatorM) step() ([]task, error) {
	var ts []task
	for _, id := range m.ids {
		t, err := m.ask("dictator", id, 1, m.in.Index, terms(m.in), nil, "")
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

func (m *dictatorM) absorb() error {
	m.moves = map[int]move{}
	for _, k := range m.asked {
		mv, err := m.moveOf(k, "give")
		if err != nil {
			return err
		}
		m.moves[k.AgentID] = mv
	}
	m.finish = true
	return nil
}

func (m *dictatorM) rows() []gameRow {
	var out []gameRow
	for _, id := range m.ids {
		mv := m.moves[id]
		row := gameRow{round: 1, agent: id, role: "dictator", choice: math.NaN(), payoff: math.NaN(), reason: mv.reason}
		if mv.valid {
			own, _, _ := game.DictatorPayoff(m.in.Endowment, mv.value)
			row.choice, row.payoff, row.valid = mv.value, own, true
		}
		out = append(out, row)
	}
	return out
}

// ---- two-player games: ultimatum and trust ---------------------------------------------------

// pairM plays the ultimatum or the trust game in seeded pairs: the first of a pair is the
// first mover (proposer, sender), the second the responder (returner). With an odd number of
// agents one agent, drawn at random, sits the game out (a row says so).
type pairM struct {
	gameBase
	pairs    [][2]int
	unpaired []int
	first    map[int]move // by first mover
	second   map[int]move // by second mover
}

func (m *pairM) expected() int { return 2 * len(m.pairs) }

func (m *pairM) roles() (string, string, string, string) {
	if m.in.Game == "trust" {
		return "sender", "returner", "send", "return"
	}
	if m.in.Responder == "mao" {
		return "proposer", "responder", "offer", "min_accept"
	}
	return "proposer", "responder", "offer", "choice"
}

func (m *pairM) step() ([]task, error) {
	r1, r2, _, _ := m.roles()
	var ts []task
	add := func(role string, agent, partner, pair int, params map[string]float64) error {
		t, err := m.ask(role, agent, 1, m.in.Index, params, map[string]float64{"partner_id": float64(partner), "pair": float64(pair)}, "")
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
			if !f.valid {
				continue
			}
			params := terms(m.in)
			if m.in.Game == "trust" {
				if f.value == 0 {
					continue // nothing to return: not asked, 0 returned by rule
				}
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
	if m.stage == 2 || (m.in.Game == "ultimatum" && m.in.Responder == "mao") {
		m.finish = true
	}
	return nil
}

func (m *pairM) rows() []gameRow {
	r1, r2, _, _ := m.roles()
	if m.in.Responder == "mao" {
		r2 = "responder_mao"
	}
	E := m.in.Endowment
	var out []gameRow
	for i, p := range m.pairs {
		a := gameRow{round: 1, group: i + 1, agent: p[0], role: r1, partner: p[1], choice: math.NaN(), payoff: math.NaN()}
		b := gameRow{round: 1, group: i + 1, agent: p[1], role: r2, partner: p[0], choice: math.NaN(), payoff: math.NaN()}
		f, s := m.first[p[0]], m.second[p[1]]
		a.valid, a.reason = f.valid, f.reason
		if f.valid {
			a.choice = f.value
		}
		b.valid, b.reason = s.valid, s.reason
		if s.valid {
			b.choice = s.value
		}
		switch {
		case !s.asked && !f.valid:
			b.reason = "not asked: the " + r1 + "'s reply was invalid"
		case !s.asked && m.in.Game == "trust" && f.value == 0:
			b.reason = "not asked: nothing was sent, 0 returned by rule"
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
	for _, u := range m.unpaired {
		out = append(out, gameRow{round: 1, agent: u, role: "unpaired", choice: math.NaN(), payoff: math.NaN(),
			reason: "not asked: no partner (odd number of agents)"})
	}
	return out
}

// ---- public goods ---------------------------------------------------------------------------

type pgM struct {
	gameBase
	g       *game.PGGame
	reqs    []game.PGRequest
	rounds  []game.PGRound
	groups  [][]int // the game's groups, fixed for all rounds
	members int     // sum over groups of size x (size - 1): punishment decisions per round
}

func (m *pgM) expected() int {
	n := m.in.Rounds * len(m.ids)
	if m.in.Punishment {
		n += m.in.Rounds * m.members
	}
	return n
}

func (m *pgM) step() ([]task, error) {
	m.reqs = m.g.Requests()
	var ts []task
	for _, q := range m.reqs {
		var t task
		var err error
		gi := m.g.GroupOf(q.Agent)
		extra := map[string]float64{"group": float64(gi + 1)}
		if q.Target < 0 {
			t, err = m.ask("contribute", q.Agent, q.Round, m.in.Index, q.Params, extra, "")
		} else {
			// Each other member is its own decision: the member's number keeps two members who
			// put in the same amount from being one identical prompt (one cached answer).
			extra["target_id"] = float64(q.Target)
			k, n := m.rank(q.Agent, q.Target), len(m.groups[gi])-1
			prefix := fmt.Sprintf("You decide about the other members of your group one at a time. This is member %d of %d.\n\n", k, n)
			t, err = m.ask("punish", q.Agent, q.Round, m.in.Index*punishTrialBase+k, q.Params, extra, prefix)
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
			return fmt.Errorf("game %s, run %s: %w", m.in.Name, m.run.ID, err)
		}
	}
	m.asked, m.reqs = nil, nil
	rnd, err := m.g.Advance()
	if err != nil {
		return err
	}
	if rnd != nil {
		m.rounds = append(m.rounds, *rnd)
	}
	m.finish = m.g.Stage() == game.PGDone
	return nil
}

func (m *pgM) rows() []gameRow {
	var out []gameRow
	for _, rd := range m.rounds {
		ags := slices.Clone(rd.Agents)
		slices.SortStableFunc(ags, func(a, b game.PGAgentRound) int {
			if a.Group != b.Group {
				return a.Group - b.Group
			}
			return a.Agent - b.Agent
		})
		for _, a := range ags {
			row := gameRow{round: rd.Round, group: a.Group + 1, agent: a.Agent, role: "member", choice: math.NaN(), payoff: a.Payoff, valid: a.Valid, reason: a.Reason}
			if a.Valid {
				row.choice = a.Contribution
			}
			out = append(out, row)
		}
	}
	return out
}

// ---- driver ---------------------------------------------------------------------------------

// gameRun is one machine with its run and game.
type gameRun struct {
	run *runInfo
	in  *experiment.GameInstance
	m   gameMachine
}

func (r *Runner) gameMachines(pl *gamesPlan) ([]gameRun, error) {
	ids := make([]int, len(r.agents))
	index := make(map[int]int, len(r.agents))
	for i, a := range r.agents {
		ids[i] = a.ID
		index[a.ID] = i
	}
	var out []gameRun
	for ri := range r.runs {
		run := &r.runs[ri]
		for ii := range pl.inst {
			in := &pl.inst[ii]
			b := gameBase{r: r, run: run, pl: pl, in: in, ids: ids, index: index}
			// Matching depends on the replicate and the game, not the condition or backend, so
			// every condition and backend meets the same pairs and groups (common random numbers);
			// the two treatments of one public goods entry share their groups.
			seed := derive(*r.exp.Seed, "games-match", in.Base, run.Replicate)
			var m gameMachine
			switch in.Game {
			case "dictator":
				m = &dictatorM{gameBase: b}
			case "ultimatum", "trust":
				pairs, unpaired := game.Pair(ids, seed)
				m = &pairM{gameBase: b, pairs: pairs, unpaired: unpaired}
			case "public_goods":
				g, err := game.NewPG(ids, in.GroupSize, in.Rounds, in.Endowment, in.Multiplier, in.Punishment, seed)
				if err != nil {
					return nil, fmt.Errorf("game %s: %w", in.Name, err)
				}
				pm := &pgM{gameBase: b, g: g, groups: g.Groups()}
				for _, grp := range pm.groups {
					pm.members += len(grp) * (len(grp) - 1)
				}
				m = pm
			default:
				return nil, fmt.Errorf("game %q is not implemented", in.Game)
			}
			out = append(out, gameRun{run, in, m})
		}
	}
	return out, nil
}

// runGames plays every game of every run in synchronous steps, then writes results/games.csv
// and results/pg_punishments.csv.
func (r *Runner) runGames(ctx context.Context) error {
	pl, err := r.planGames(experiment.Locator(r.exp), nil)
	if err != nil {
		return err
	}
	ms, err := r.gameMachines(pl)
	if err != nil {
		return err
	}
	total := 0
	for _, g := range ms {
		total += g.m.expected()
	}
	r.prog = newProgress(r.opt.Progress, total, r.exp.Name)
	for {
		var tasks []task
		var active []gameMachine
		for _, g := range ms {
			if g.m.done() {
				continue
			}
			ts, err := g.m.step()
			if err != nil {
				return err
			}
			tasks = append(tasks, ts...)
			active = append(active, g.m)
		}
		if len(active) == 0 {
			break
		}
		if err := r.decide(ctx, tasks); err != nil {
			return err
		}
		for _, m := range active {
			if err := m.absorb(); err != nil {
				return err
			}
		}
	}
	return r.writeGames(ms)
}

func (r *Runner) writeGames(ms []gameRun) error {
	dir := filepath.Join(r.dir, "results")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(dir, "games.csv"), func(w *csv.Writer) error {
		if err := w.Write(GameColumns); err != nil {
			return err
		}
		for _, g := range ms {
			for _, row := range g.m.rows() {
				rec := []string{g.run.ID, g.run.Condition, strconv.Itoa(g.run.Replicate), g.in.Name, strconv.Itoa(row.round),
					intOrEmpty(row.group), strconv.Itoa(row.agent), row.role, intOrEmpty(row.partner),
					formatNum(row.choice), formatNum(tidy(row.payoff)), b01(row.valid), oneLine(row.reason)}
				if err := w.Write(rec); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		return err
	}
	pun := filepath.Join(dir, "pg_punishments.csv")
	if !slices.ContainsFunc(ms, func(g gameRun) bool { return g.in.Punishment }) {
		return nil
	}
	return writeCSV(pun, func(w *csv.Writer) error {
		if err := w.Write(PunishmentColumns); err != nil {
			return err
		}
		for _, g := range ms {
			pm, ok := g.m.(*pgM)
			if !ok || !g.in.Punishment {
				continue
			}
			for _, rd := range pm.rounds {
				for _, p := range rd.Punishments {
					pts := math.NaN()
					if p.Valid {
						pts = p.Points
					}
					rec := []string{g.run.ID, g.run.Condition, strconv.Itoa(g.run.Replicate), g.in.Name, strconv.Itoa(rd.Round),
						strconv.Itoa(pm.g.GroupOf(p.From) + 1), strconv.Itoa(p.From), strconv.Itoa(p.To), formatNum(pts), b01(p.Valid), oneLine(p.Reason)}
					if err := w.Write(rec); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// tidy rounds away floating-point noise (20 - 8 + 1.6 x 7 is 23.200000000000003) at 1e-9.
func tidy(v float64) float64 { return math.Round(v*1e9) / 1e9 }

func intOrEmpty(v int) string {
	if v == 0 {
		return ""
	}
	return strconv.Itoa(v)
}

// describeGames is Describe for study: games.
func (r *Runner) describeGames() string {
	var names []string
	for _, in := range r.exp.GameInstances() {
		names = append(names, in.Name)
	}
	n := 0
	if pl, err := r.planGames(nil, nil); err == nil {
		if ms, err := r.gameMachines(pl); err == nil {
			for _, g := range ms {
				n += g.m.expected()
			}
		}
	}
	return fmt.Sprintf("study games: %d agents x %d games (%s) x %d conditions x %d replicates x %d backends = at most %d decisions",
		len(r.agents), len(names), strings.Join(names, ", "), len(r.exp.Conditions), r.exp.Replicates, len(r.backends), n)
}
