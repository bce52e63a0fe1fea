// Package vignettes is Study 1: every agent rates every everyday scenario (volunteering,
// helping, donating, ...) on its response scale, under every policy condition. It is one
// synchronous step; its analysis is the mean rating by backend x scenario x condition.
package vignettes

import (
	"fmt"
	"slices"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/situation"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
)

// Name is the study's name in experiment files.
const Name = "vignettes"

func init() {
	study.Register(Name, New, CellsSchema, ContrastsSchema, SensitivitySchema, RobustnessSchema)
}

// Study 1 for one run.
type vignettes struct {
	env   *study.Env
	scs   []scenario.Scenario
	asked bool
	keys  []store.Key // every decision, in design order
	// systems are the system texts under the persona and system factors.
	systems *study.Systems
}

// New checks the experiment's scenarios and makes the study.
func New(env *study.Env) (study.Study, error) {
	s := &vignettes{env: env, systems: study.NewSystems(env)}
	if len(env.Exp.Scenarios) == 0 {
		return nil, env.Errorf("scenarios", "required: the scenario ids to ask (see `prosim scenarios`)")
	}
	for i, id := range env.Exp.Scenarios {
		sc, ok := env.Scenarios.Get(id)
		if !ok {
			return nil, env.Errorf(fmt.Sprintf("scenarios[%d]", i), "unknown scenario %q (see `prosim scenarios`, or add it with scenario_files)", id)
		}
		if sc.Kind != "vignette" {
			return nil, env.Errorf(fmt.Sprintf("scenarios[%d]", i), "scenario %q is a %s; study vignettes takes vignettes", id, sc.Kind)
		}
		s.scs = append(s.scs, sc)
	}
	if err := s.checkFactors(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *vignettes) Describe() string {
	e := s.env.Exp
	factors := study.FactorsDescribed(e) // each factor's levels multiply the cells
	return fmt.Sprintf("study %s: %d agents x %d scenarios x %d conditions%s x %d replicates x %d backends = %d decisions",
		Name, len(s.env.Agents), len(s.scs), len(e.Conditions), factors, e.Replicates, len(s.env.Backends), s.Expected())
}

func (s *vignettes) Expected() int { return len(s.env.Cells) * len(s.env.Agents) * len(s.scs) }

// CellDecisions: every agent rates every scenario once.
func (s *vignettes) CellDecisions(*study.Cell) int { return len(s.env.Agents) * len(s.scs) }

// JointPrompts: every scenario can be put in one prompt (prompt.mode: joint).
func (s *vignettes) JointPrompts() bool { return true }

// SharedReplicates: replicates ask the same prompts, unless the joint prompt's order (drawn
// per replicate) differs.
func (s *vignettes) SharedReplicates() bool {
	return s.env.Exp.Prompt.Mode != "joint" && !slices.Contains(s.env.Exp.Factors.Prompt, "joint")
}

// Next asks everything in one step.
func (s *vignettes) Next() (*study.Batch, error) {
	if s.asked {
		return nil, nil
	}
	s.asked = true
	tasks, err := s.tasks()
	if err != nil {
		return nil, err
	}
	for _, t := range tasks {
		s.keys = append(s.keys, t.Keys...)
	}
	return &study.Batch{Tasks: tasks}, nil
}

// tasks lists every call.
func (s *vignettes) tasks() ([]study.Task, error) {
	env := s.env
	cur := env.Exp.Population.Currency
	var tasks []study.Task
	for _, cell := range env.Cells {
		texts := make([]string, len(s.scs))
		prompts := make([]string, len(s.scs))
		schemas := make([]scenario.Schema, len(s.scs))
		shown := make([]scenario.Scenario, len(s.scs)) // in the cell's wording and scale
		reversed := cell.Level("scale") == "descending"
		for i, sc := range s.scs {
			t, err := cell.Frame.Text(sc.ID, cur)
			if err != nil {
				return nil, fmt.Errorf("policy %s, scenario %s: %w", cell.Frame.ID, sc.ID, err)
			}
			texts[i] = t
			worded, ok := sc.Worded(cell.Level("wording"))
			if !ok {
				return nil, fmt.Errorf("scenario %s has no wording %q", sc.ID, cell.Level("wording"))
			}
			schemas[i] = sc.Response
			if reversed {
				schemas[i] = Reversed(sc.Response)
			}
			worded.Response = schemas[i]
			shown[i] = worded
			if prompts[i], err = scenario.Compose(worded, sc.Params, cur, t); err != nil {
				return nil, fmt.Errorf("scenario %s: %w", sc.ID, err)
			}
		}
		for ai := range env.Agents {
			a := &env.Agents[ai]
			if s.mode(cell) == "joint" {
				t, err := s.jointTask(cell, ai, shown, texts, reversed)
				if err != nil {
					return nil, err
				}
				tasks = append(tasks, t)
				continue
			}
			for i, sc := range s.scs {
				sit := &situation.Situation{Persona: a, Scenario: sc.ID, Kind: sc.Kind, Params: study.SituationParams(sc, nil), Policy: study.Exposure(cell.Frame), ScaleReversed: reversed}
				t := study.Task{
					Keys:   []store.Key{{RunID: cell.ID, AgentID: a.ID, Scenario: sc.ID}},
					Params: []map[string]float64{sc.Params},
					Cell:   cell,
					Req: backend.Request{
						AgentID: a.ID, System: s.systems.Text(cell, ai), Prompt: prompts[i],
						Schema:     schemas[i],
						Structured: sit,
						Sampling:   cell.Sampling, Replicate: cell.Replicate,
						Seed: cell.LevelSeed(seed.Decision(*env.Exp.Seed, cell.Replicate, a.ID, 0, 0, sc.ID)),
					},
				}
				if len(env.Exp.Factors.Scale) > 0 {
					fields := sc.Response.Fields
					t.Split = func(rep backend.Reply) []backend.Reply { return []backend.Reply{Recode(rep, fields, reversed)} }
				}
				tasks = append(tasks, t)
			}
		}
	}
	return tasks, nil
}

// mode is the cell's prompt mode: its level of the prompt factor, else prompt.mode.
func (s *vignettes) mode(c *study.Cell) string {
	if m := c.Level("prompt"); m != "" {
		return m
	}
	return s.env.Exp.Prompt.Mode
}

// jointTask asks all scenarios in one prompt, in an order drawn for this agent and replicate;
// shown are the scenarios in the cell's wording and scale direction.
func (s *vignettes) jointTask(cell *study.Cell, ai int, shown []scenario.Scenario, policyTexts []string, reversed bool) (study.Task, error) {
	env := s.env
	a := &env.Agents[ai]
	sd := cell.LevelSeed(seed.Decision(*env.Exp.Seed, cell.Replicate, a.ID, 0, 0, "joint"))
	prompt, schema, _, err := scenario.ComposeJoint(shown, policyTexts, env.Exp.Population.Currency, sd)
	if err != nil {
		return study.Task{}, err
	}
	parts := make([]situation.Situation, len(s.scs))
	for i, sc := range s.scs {
		parts[i] = situation.Situation{Persona: a, Scenario: sc.ID, Kind: sc.Kind, Params: study.SituationParams(sc, nil), Policy: study.Exposure(cell.Frame), ScaleReversed: reversed}
	}
	t := study.Task{Cell: cell, Req: backend.Request{
		AgentID: a.ID, System: s.systems.Text(cell, ai), Prompt: prompt, Schema: schema,
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
				o.InputTokens, o.OutputTokens, o.Calls, o.CostUSD = 0, 0, 0, 0
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
