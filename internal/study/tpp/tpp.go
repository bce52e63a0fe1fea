// Package tpp is Study 2, third-party punishment. Player 1 splits $30 with Player 2; the agent,
// a third party with $10, may pay to punish Player 1. The binary variant (the original) asks
// 60 trials per agent, a low-cost block then a high-cost block of every (x, y) pair in a seeded
// order, with emotions rated before and after; the graded variant asks punishment points at a
// 1:3 cost ratio for every transfer (Fehr & Fischbacher 2004).
//
// Trials are stateless by default: every trial is its own call, all in one step. With
// history, trial t of every agent is asked after trial t-1 of every agent is recorded, and the
// prompt lists the agent's earlier trials as recorded: one step per trial.
package tpp

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/scorecard"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/situation"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/study/robust"
	"github.com/prosim/prosim/internal/yamlx"
)

// Name is the study's name in experiment files.
const Name = "tpp"

func init() {
	study.RegisterDesign(Name, design)
	study.Register(Name, New, TrialsSchema, GradedTrialsSchema, RatesSchema, LogitSchema, MeansSchema, GradedSchema, PunishersSchema, scorecard.Schema, robust.Schema)
}

// trial is one trial of one agent's schedule, binary or graded: its position (from 1) and
// terms; params builds its template's. A schedule is held as codes (trialCode), one byte a
// trial.
type trial struct {
	index int16
	// x and y are Player 2's share and the cost of punishing (binary); x is the transfer
	// (graded).
	x, y   int16
	graded bool
}

func (t trial) params() map[string]float64 {
	if t.graded {
		return game.GradedTrial{Index: int(t.index), Transfer: int(t.x)}.Params()
	}
	return game.Trial{Index: int(t.index), X: int(t.x), Y: int(t.y)}.Params()
}

// session is one agent's schedule in one cell of the design.
type session struct {
	cell  *study.Cell
	agent int // index into env.Agents
	// sched is the schedule as trial codes in position order (trialCode), shared by the
	// sessions of one agent and replicate (every condition and backend meets it).
	sched []uint8
	// The history option's outcomes of the trials asked so far, in schedule order: what the
	// next prompt lists, kept instead of the replies (Absorb). hn counts them; bit p of
	// hValid and hPunished is position p's; hPoints are the graded points.
	hn                int
	hValid, hPunished uint64
	hPoints           []float64
	// What Observe read of the recorded trials, for the analysis: bit p is the trial at
	// position p (a schedule has at most 60). seen: recorded; valid: valid as the game scores
	// it (binary: game.TPPOutcomeFrom; graded: the reply); punished: binary, punished.
	seen, valid, punished uint64
}

// outcome is what a prompt with history says of an earlier trial.
type outcome struct {
	valid    bool
	punished bool    // binary: the agent chose to punish
	points   float64 // graded: the points assigned
}

// hist is the history option's outcome of the trial at position p (p < ss.hn).
func (ss *session) hist(p int) outcome {
	o := outcome{valid: ss.hValid&(1<<p) != 0, punished: ss.hPunished&(1<<p) != 0}
	if ss.hPoints != nil {
		o.points = ss.hPoints[p]
	}
	return o
}

// trialCode is a trial's terms in a byte: binary (x - 10) * 10 + y; graded the transfer's
// index in game.GradedTransfers.
func trialCode(t trial) uint8 {
	if t.graded {
		return uint8(slices.Index(game.GradedTransfers, int(t.x)))
	}
	return uint8((int(t.x)-game.TPPMinX)*10 + int(t.y) - game.TPPMinY)
}

// trialAt is the trial at position p of the session's schedule (positions count from 0,
// trial indexes from 1).
func (s *tpp) trialAt(ss *session, p int) trial {
	c := int(ss.sched[p])
	if s.graded {
		return trial{index: int16(p + 1), x: int16(game.GradedTransfers[c]), graded: true}
	}
	return trial{index: int16(p + 1), x: int16(game.TPPMinX + c/10), y: int16(game.TPPMinY + c%10)}
}

// Study 2 for one run.
type tpp struct {
	env     *study.Env
	cfg     *Config
	sc      scenario.Scenario
	graded  bool
	history bool
	// sessions are in design order: cell, then agent as the population lists them.
	sessions []session
	// perAgent is the length of every schedule.
	perAgent int
	step     int // next step: the trial position with history, else 0 or 1
	// systems are the system texts under the persona and system factors.
	systems *study.Systems
	// seen is what the analysis reads of the recorded trials (Observe).
	seen *observed
}

// New checks the scenario and the policy texts the study needs, and makes the study.
func New(env *study.Env) (study.Study, error) {
	e := env.Exp
	cfg := ConfigOf(env.Exp)
	if cfg == nil {
		return nil, env.Errorf("tpp", "study tpp needs its checked tpp block")
	}
	s := &tpp{env: env, cfg: cfg, history: cfg.History, graded: cfg.Variant == "graded", systems: study.NewSystems(env)}
	id := game.ScenarioTPP
	if s.graded {
		id = game.ScenarioTPPGraded
	}
	sc, ok := env.Scenarios.Get(id)
	if !ok {
		return nil, env.Errorf("tpp.variant", "scenario %q is missing from the library", id)
	}
	s.sc = sc
	// Every factor level's and condition's problem at once.
	l := yamlx.NewList(env.Doc.Name())
	for i, w := range e.Factors.Wording {
		if _, ok := sc.Worded(w); !ok {
			l.Add(env.Errorf(fmt.Sprintf("factors.wording[%d]", i), "scenario %s has no wording %q (it has %v)", sc.ID, w, sc.Wordings()))
		}
	}
	// A frame must have text for the scenario it is shown with: find out now, not mid-run.
	for i, c := range e.Conditions {
		f, ok := env.Policies.Get(c.Policy)
		if !ok {
			continue // the runner has located unknown policies already
		}
		if _, err := f.Text(sc.ID, e.Population.Currency); err != nil {
			l.Add(env.Errorf(fmt.Sprintf("conditions[%d].policy", i), "policy %q with scenario %q: %v", c.Policy, sc.ID, err))
		}
	}
	if err := l.Err(); err != nil {
		return nil, err
	}
	// One schedule per agent and replicate, shared by its cells.
	scheds := map[int][][]uint8{}
	for _, c := range env.Cells {
		per := scheds[c.Replicate]
		if per == nil {
			per = make([][]uint8, len(env.Agents))
			for ai := range env.Agents {
				per[ai] = s.schedule(c.Replicate, env.Agents[ai].ID)
			}
			scheds[c.Replicate] = per
		}
		for ai := range env.Agents {
			s.perAgent = len(per[ai])
			s.sessions = append(s.sessions, session{cell: c, agent: ai, sched: per[ai]})
		}
	}
	if s.perAgent > 64 {
		return nil, fmt.Errorf("tpp: %d trials an agent (a session keeps its trials in 64-bit masks)", s.perAgent)
	}
	return s, nil
}

// schedule is the agent's trial schedule, as trial codes in position order (a trial's index
// is its position from 1). It depends on the replicate and the agent, not the condition or
// backend, so every condition and backend meets the same sequence.
func (s *tpp) schedule(replicate, agent int) []uint8 {
	sd := seed.Derive(*s.env.Exp.Seed, "tpp-schedule", replicate, agent)
	var out []uint8
	if s.graded {
		for _, t := range game.TPPGradedSchedule(sd) {
			out = append(out, trialCode(trial{index: int16(t.Index), x: int16(t.Transfer), graded: true}))
		}
		return out
	}
	for _, t := range game.TPPSchedule(sd) {
		out = append(out, trialCode(trial{index: int16(t.Index), x: int16(t.X), y: int16(t.Y)}))
	}
	return out
}

// trialsPerAgent is the schedule's length (the same for every agent).
func (s *tpp) trialsPerAgent() int {
	if s.graded {
		return len(game.GradedTransfers)
	}
	return game.TPPTrials
}

func (s *tpp) Describe() string {
	e := s.env.Exp
	return fmt.Sprintf("study %s: %s x %d TPP %s x %s%s x %s x %s = %s",
		Name, plural.Count(len(s.env.Agents), "agent"), s.trialsPerAgent(), plural.Noun(s.trialsPerAgent(), "trial"), plural.Count(len(e.Conditions), "condition"),
		study.FactorsDescribed(e), plural.Count(e.Replicates, "replicate"), plural.Count(len(s.env.Backends), "backend"), plural.Count(s.Expected(), "decision"))
}

func (s *tpp) Expected() int { return len(s.sessions) * s.perAgent }

// Next asks every trial in one step, or, with history, trial position by trial position.
// Tasks are built as the runner takes them (Batch.Build), so no step is held in memory.
func (s *tpp) Next() (*study.Batch, error) {
	if len(s.sessions) == 0 || s.perAgent == 0 {
		return nil, nil
	}
	if !s.history {
		if s.step > 0 {
			return nil, nil
		}
		s.step++
		per := s.perAgent
		return &study.Batch{N: len(s.sessions) * per, Build: func(i int) (study.Task, error) {
			ss := &s.sessions[i/per]
			return s.task(ss, s.trialAt(ss, i%per))
		}, Keys: func(i int) study.Task { return s.keys(&s.sessions[i/per], i%per) }}, nil
	}
	if s.step == s.perAgent {
		return nil, nil
	}
	step := s.step
	s.step++
	return &study.Batch{N: len(s.sessions),
		Build: func(i int) (study.Task, error) { return s.task(&s.sessions[i], s.trialAt(&s.sessions[i], step)) },
		Keys:  func(i int) study.Task { return s.keys(&s.sessions[i], step) },
		// Each task is its own session's: absorbs of one step write disjoint sessions.
		Absorb: func(i int, _ *study.Task, replies []backend.Reply) error {
			ss := &s.sessions[i]
			if ss.hn != step {
				return fmt.Errorf("tpp: trial position %d of agent %d absorbed out of order", step+1, s.env.Agents[ss.agent].ID)
			}
			rep := replies[0]
			var points float64
			if rep.Valid() {
				ss.hValid |= 1 << step
				if rep.Values["choice"] == 1 {
					ss.hPunished |= 1 << step
				}
				points = rep.Values["points"]
			}
			if s.graded {
				ss.hPoints = append(ss.hPoints, points)
			}
			ss.hn++
			return nil
		}}, nil
}

func (s *tpp) key(ss *session, index int16) store.Key {
	return store.Key{RunID: ss.cell.ID, AgentID: s.env.Agents[ss.agent].ID, Trial: int(index), Scenario: s.sc.ID}
}

// keys is the task of a session's trial at position p without its request (Batch.Keys): a
// resumed run reads a recorded trial back without composing its prompt.
func (s *tpp) keys(ss *session, p int) study.Task {
	return study.Task{Keys: []store.Key{s.key(ss, s.trialAt(ss, p).index)}, Cell: ss.cell}
}

// design: Study 2 varies the scenario's wording (the game's paraphrases), the persona's
// rendering, the system line and the temperature; its conclusions (the inequity and cost
// slopes) are refitted within each level (results/robustness.csv).
var design = study.Design{Factors: []string{"wording", "persona", "system", "temperature"}}

func (s *tpp) task(ss *session, t trial) (study.Task, error) {
	env := s.env
	sc, _ := s.sc.Worded(ss.cell.Level("wording")) // checked in New
	cur := env.Exp.Population.Currency
	a := &env.Agents[ss.agent]
	policyText, err := ss.cell.Frame.Text(sc.ID, cur)
	if err != nil {
		return study.Task{}, err
	}
	params := t.params()
	prompt, err := scenario.Compose(sc, params, cur, policyText)
	if err != nil {
		return study.Task{}, study.ScenarioError(sc.ID, err)
	}
	if s.history {
		prompt = s.historyText(ss, t.index) + prompt
	}
	return study.Task{
		Keys:   []store.Key{s.key(ss, t.index)},
		Params: []map[string]float64{params},
		Cell:   ss.cell,
		Req: backend.Request{
			AgentID: a.ID, System: s.systems.Text(ss.cell, ss.agent), Prompt: prompt, Schema: sc.Response,
			Structured: &situation.Situation{Persona: a, Scenario: sc.ID, Kind: sc.Kind, Params: study.SituationParams(sc, params), Policy: study.Exposure(ss.cell.Frame)},
			Sampling:   ss.cell.Sampling, Replicate: ss.cell.Replicate,
			Seed: ss.cell.LevelSeed(seed.Decision(*env.Exp.Seed, ss.cell.Replicate, a.ID, 0, int(t.index), sc.ID)),
		},
	}, nil
}

// historyText lists an agent's earlier trials as answered (the session's outcomes), for the
// history option.
func (s *tpp) historyText(ss *session, upTo int16) string {
	var b strings.Builder
	for p := range ss.sched {
		t := s.trialAt(ss, p)
		if t.index == upTo {
			break
		}
		if p >= ss.hn {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("Your earlier rounds in this task:\n")
		}
		fmt.Fprintf(&b, "- Round %d: %s\n", t.index, describeTrial(t, ss.hist(p)))
	}
	if b.Len() > 0 {
		b.WriteString("\nNow a new round.\n\n")
	}
	return b.String()
}

func describeTrial(t trial, o outcome) string {
	var what string
	if t.graded {
		what = fmt.Sprintf("Player 1 transferred %s", formatNum(float64(t.x)))
		if o.valid {
			what += fmt.Sprintf("; you assigned %s punishment points", formatNum(o.points))
		}
	} else {
		what = fmt.Sprintf("Player 2 received %s of %s and punishing cost %s", formatNum(float64(t.x)), formatNum(game.TPPPie), formatNum(float64(t.y)))
		if o.valid {
			if o.punished {
				what += "; you punished"
			} else {
				what += "; you accepted"
			}
		}
	}
	if !o.valid {
		what += "; your answer was not usable"
	}
	return what
}

func formatNum(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Placeholder answers every trial of an estimate at the middle of the schema (accept, valence
// 0, arousal 5; graded: half the points), so that later prompts' history can be built.
func (s *tpp) Placeholder(t *study.Task) backend.Reply { return study.Midpoint(t.Req.Schema) }

// EstimateNote says how prompts with history are estimated.
func (s *tpp) EstimateNote() string {
	if !s.history {
		return ""
	}
	return "with history, each prompt lists the agent's earlier trials; they are built here from placeholder answers " +
		"(every field at the middle of its range, the first option of a choice): the count of requests is exact, " +
		"their tokens approximate"
}
