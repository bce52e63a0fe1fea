// Package vignettes is Study 1: every agent rates every everyday scenario (volunteering,
// helping, donating, ...) on its response scale, under every policy condition. It is one
// synchronous step; its analysis is the mean rating by backend x scenario x condition.
package vignettes

import (
	"fmt"
	"slices"
	"sort"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/behavioral"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/situation"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/yamlx"
)

// Name is the study's name in experiment files.
const Name = "vignettes"

func init() {
	study.RegisterDesign(Name, design)
	study.Register(Name, New, CellsSchema, ContrastsSchema, SensitivitySchema, RobustnessSchema)
}

// Study 1 for one run.
type vignettes struct {
	env   *study.Env
	scs   []scenario.Scenario
	asked bool
	// sitParams are each scenario's behavioural-model parameters, shared by its requests.
	sitParams []map[string]float64
	// seen gathers the recorded replies the analysis reads (Observe).
	seen *observed
	// systems are the system texts under the persona and system factors.
	systems *study.Systems
	// items are the rows of the analysis: every measure of every scenario, in design order;
	// byScenario has each scenario's measures.
	items      []item
	byScenario map[string][]measure
}

// New checks the experiment's scenarios and makes the study.
func New(env *study.Env) (study.Study, error) {
	s := &vignettes{env: env, systems: study.NewSystems(env), byScenario: map[string][]measure{}}
	if len(env.Exp.Scenarios) == 0 {
		return nil, env.Errorf("scenarios", "required: the scenario ids to ask (see `prosim scenarios`)")
	}
	// Every scenario's problems, then the factors' levels checked against the sound ones.
	l := yamlx.NewList(env.Doc.Name())
	for i, id := range env.Exp.Scenarios {
		sc, ok := env.Scenarios.Get(id)
		if !ok {
			l.Add(env.Errorf(fmt.Sprintf("scenarios[%d]", i), "%s", env.Scenarios.Unknown(id, "see `prosim scenarios`, or add it with scenario_files")))
			continue
		}
		if sc.Kind != "vignette" {
			l.Add(env.Errorf(fmt.Sprintf("scenarios[%d]", i), "scenario %q is a %s; study vignettes takes vignettes", id, sc.Kind))
			continue
		}
		s.scs = append(s.scs, sc)
		s.measure(id, sc.Response)
		s.sitParams = append(s.sitParams, study.SituationParams(sc, nil))
		if msg := builtinProblem(sc, env.Exp.Backends); msg != "" {
			l.Add(env.Errorf(fmt.Sprintf("scenarios[%d]", i), "%s", msg))
		}
	}
	s.checkFactors(l)
	if err := l.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// builtinProblem is why the experiment's behavioural model (a builtin backend among backends)
// cannot rate scenario sc, "" if it can: refused before any decision, since every decision of
// it would be recorded invalid. LLM-only experiments need no model: block.
func builtinProblem(sc scenario.Scenario, backends []experiment.Backend) string {
	if !slices.ContainsFunc(backends, func(b experiment.Backend) bool { return b.Provider == "builtin" }) || sc.Kind != "vignette" {
		return ""
	}
	if len(sc.Model) == 0 {
		return fmt.Sprintf("scenario %s has no model: block, which the builtin backend needs (base: mean willingness on 1-7 with no policy; optional cost, money, visibility, need; see docs/scenarios.md)", sc.ID)
	}
	if err := behavioral.CheckVignette(sc.ID, study.SituationParams(sc, nil), sc.Response); err != nil {
		return fmt.Sprintf("scenario %s cannot be rated by the builtin backend: %v", sc.ID, err)
	}
	return ""
}

// measure adds a scenario's measures to the analysis's rows (once, if it is asked twice).
func (s *vignettes) measure(id string, r scenario.Schema) {
	if _, dup := s.byScenario[id]; dup {
		return
	}
	s.byScenario[id] = measures(r)
	for _, m := range s.byScenario[id] {
		s.items = append(s.items, item{id, m})
	}
}

func (s *vignettes) Describe() string {
	e := s.env.Exp
	factors := study.FactorsDescribed(e) // each factor's levels multiply the cells
	return fmt.Sprintf("study %s: %s x %s x %s%s x %s x %s = %s",
		Name, plural.Count(len(s.env.Agents), "agent"), plural.Count(len(s.scs), "scenario"), plural.Count(len(e.Conditions), "condition"), factors,
		plural.Count(e.Replicates, "replicate"), plural.Count(len(s.env.Backends), "backend"), plural.Count(s.Expected(), "decision"))
}

func (s *vignettes) Expected() int { return len(s.env.Cells) * len(s.env.Agents) * len(s.scs) }

// CellDecisions: every agent rates every scenario once.
func (s *vignettes) CellDecisions(*study.Cell) int { return len(s.env.Agents) * len(s.scs) }

// SharedReplicates: replicates ask the same prompts, unless the joint prompt's order (drawn
// per replicate) differs.
func (s *vignettes) SharedReplicates() bool {
	return s.env.Exp.Prompt.Mode != "joint" && !slices.Contains(s.env.Exp.Factors.Prompt, "joint")
}

// Next asks everything in one step. Its tasks are built on demand (a run of 100k agents has
// millions), from what each cell shares: its prompts and schemas, and each agent's system
// text, rendered once.
func (s *vignettes) Next() (*study.Batch, error) {
	if s.asked {
		return nil, nil
	}
	s.asked = true
	plans, n, err := s.plans()
	if err != nil {
		return nil, err
	}
	return &study.Batch{N: n, Build: func(i int) (study.Task, error) {
		// The plan holding task i: the last whose first task is at or before i.
		p := plans[sort.Search(len(plans), func(j int) bool { return plans[j].first > i })-1]
		j := i - p.first
		if p.joint {
			return s.jointTask(p, j)
		}
		return s.task(p, j/len(s.scs), j%len(s.scs)), nil
	}}, nil
}

// plan is what every task of one cell shares.
type plan struct {
	cell     *study.Cell
	first    int // index of the cell's first task in the batch
	joint    bool
	reversed bool
	texts    []string            // policy texts, by scenario
	prompts  []string            // by scenario
	schemas  []scenario.Schema   // by scenario, in the cell's scale direction
	shown    []scenario.Scenario // in the cell's wording and scale
	systems  []string            // by agent index
}

// plans prepares every cell, in design order, and counts the tasks.
func (s *vignettes) plans() ([]*plan, int, error) {
	env := s.env
	cur := env.Exp.Population.Currency
	systems := map[[2]string][]string{} // by persona and system level
	var plans []*plan
	n := 0
	for _, cell := range env.Cells {
		p := &plan{cell: cell, first: n, joint: s.mode(cell) == "joint", reversed: cell.Level("scale") == "descending",
			texts: make([]string, len(s.scs)), prompts: make([]string, len(s.scs)),
			schemas: make([]scenario.Schema, len(s.scs)), shown: make([]scenario.Scenario, len(s.scs))}
		for i, sc := range s.scs {
			t, err := cell.Frame.Text(sc.ID, cur)
			if err != nil {
				return nil, 0, fmt.Errorf("policy %s, scenario %s: %w", cell.Frame.ID, sc.ID, err)
			}
			p.texts[i] = t
			worded, ok := sc.Worded(cell.Level("wording"))
			if !ok {
				return nil, 0, fmt.Errorf("scenario %s has no wording %q", sc.ID, cell.Level("wording"))
			}
			p.schemas[i] = sc.Response
			if p.reversed {
				p.schemas[i] = Reversed(sc.Response)
			}
			worded.Response = p.schemas[i]
			p.shown[i] = worded
			if p.prompts[i], err = scenario.Compose(worded, sc.Params, cur, t); err != nil {
				return nil, 0, study.ScenarioError(sc.ID, err)
			}
		}
		sk := [2]string{cell.Level("persona"), cell.Level("system")}
		if systems[sk] == nil {
			systems[sk] = make([]string, len(env.Agents))
			for ai := range env.Agents {
				systems[sk][ai] = s.systems.Text(cell, ai)
			}
		}
		p.systems = systems[sk]
		plans = append(plans, p)
		if p.joint {
			n += len(env.Agents)
		} else {
			n += len(env.Agents) * len(s.scs)
		}
	}
	return plans, n, nil
}

// task asks agent ai scenario si in the plan's cell.
func (s *vignettes) task(p *plan, ai, si int) study.Task {
	env, cell, sc := s.env, p.cell, s.scs[si]
	a := &env.Agents[ai]
	sit := &situation.Situation{Persona: a, Scenario: sc.ID, Kind: sc.Kind, Params: s.sitParams[si], Policy: study.Exposure(cell.Frame), ScaleReversed: p.reversed}
	t := study.Task{
		Keys:   []store.Key{{RunID: cell.ID, AgentID: a.ID, Scenario: sc.ID}},
		Params: []map[string]float64{sc.Params},
		Cell:   cell,
		Req: backend.Request{
			AgentID: a.ID, System: p.systems[ai], Prompt: p.prompts[si],
			Schema:     p.schemas[si],
			Structured: sit,
			Sampling:   cell.Sampling, Replicate: cell.Replicate,
			Seed: cell.LevelSeed(seed.Decision(*env.Exp.Seed, cell.Replicate, a.ID, 0, 0, sc.ID)),
		},
	}
	if len(env.Exp.Factors.Scale) > 0 {
		fields, reversed := sc.Response.Fields, p.reversed
		t.Split = func(rep backend.Reply) []backend.Reply { return []backend.Reply{Recode(rep, fields, reversed)} }
	}
	return t
}

// mode is the cell's prompt mode: its level of the prompt factor, else prompt.mode.
func (s *vignettes) mode(c *study.Cell) string {
	if m := c.Level("prompt"); m != "" {
		return m
	}
	return s.env.Exp.Prompt.Mode
}

// jointTask asks all scenarios in one prompt, in an order drawn for this agent and replicate,
// in the plan's wording and scale direction.
func (s *vignettes) jointTask(p *plan, ai int) (study.Task, error) {
	env, cell, shown, policyTexts, reversed := s.env, p.cell, p.shown, p.texts, p.reversed
	a := &env.Agents[ai]
	sd := cell.LevelSeed(seed.Decision(*env.Exp.Seed, cell.Replicate, a.ID, 0, 0, "joint"))
	prompt, schema, _, err := scenario.ComposeJoint(shown, policyTexts, env.Exp.Population.Currency, sd)
	if err != nil {
		return study.Task{}, err
	}
	parts := make([]situation.Situation, len(s.scs))
	for i, sc := range s.scs {
		parts[i] = situation.Situation{Persona: a, Scenario: sc.ID, Kind: sc.Kind, Params: s.sitParams[i], Policy: study.Exposure(cell.Frame), ScaleReversed: reversed}
	}
	t := study.Task{Cell: cell, Req: backend.Request{
		AgentID: a.ID, System: p.systems[ai], Prompt: prompt, Schema: schema,
		Structured: &situation.Situation{Persona: a, Scenario: "joint", Kind: "joint", Policy: study.Exposure(cell.Frame), Parts: parts},
		Sampling:   cell.Sampling, Replicate: cell.Replicate, Seed: sd,
	}}
	for _, sc := range s.scs {
		t.Keys = append(t.Keys, store.Key{RunID: cell.ID, AgentID: a.ID, Scenario: sc.ID})
		t.Params = append(t.Params, sc.Params)
	}
	scs := s.scs
	recode := len(env.Exp.Factors.Scale) > 0
	t.Split = func(rep backend.Reply) []backend.Reply {
		out := make([]backend.Reply, len(scs))
		var parts map[string]map[string]float64
		if rep.Valid() {
			parts = scenario.SplitJoint(rep.Values)
		}
		for i, sc := range scs {
			o := rep
			// Tokens, calls and cost belong to the one call: count them on the first decision only.
			if i > 0 {
				o = o.Unspent()
			}
			o.Values = nil
			if rep.Valid() {
				o.Values = parts[sc.ID]
			}
			if recode {
				o = Recode(o, sc.Response.Fields, reversed)
			}
			out[i] = o
		}
		return out
	}
	return t, nil
}
