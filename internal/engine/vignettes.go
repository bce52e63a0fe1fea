package engine

import (
	"context"
	"fmt"
	"maps"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/store"
)

// roleText follows the persona in every system prompt.
const roleText = "Answer every question as this person would, in their own situation, honestly and without lecturing."

func systemText(personaText string) string { return personaText + "\n\n" + roleText }

// exposure is the structured form of a policy frame for the behavioural model.
func exposure(f policy.Frame) backend.PolicyExposure {
	return backend.PolicyExposure{ID: f.ID, Channel: f.Channel, Strength: f.Strength, Amount: f.Amount}
}

// situationParams merges a scenario's behavioural-model parameters and its terms.
func situationParams(sc scenario.Scenario, extra map[string]float64) map[string]float64 {
	p := make(map[string]float64, len(sc.Model)+len(sc.Params)+len(extra))
	maps.Copy(p, sc.Model)
	maps.Copy(p, sc.Params)
	maps.Copy(p, extra)
	return p
}

// runVignettes is Study 1: every agent rates every scenario under every condition.
func (r *Runner) runVignettes(ctx context.Context) error {
	tasks, err := r.vignetteTasks()
	if err != nil {
		return err
	}
	r.prog = newProgress(r.opt.Progress, countKeys(tasks), r.exp.Name)
	return r.decide(ctx, tasks)
}

// vignetteTasks lists every call of Study 1.
func (r *Runner) vignetteTasks() ([]task, error) {
	scs := make([]scenario.Scenario, len(r.exp.Scenarios))
	for i, id := range r.exp.Scenarios {
		scs[i], _ = r.scen.Get(id)
	}
	cur := r.exp.Population.Currency
	var tasks []task
	for ri := range r.runs {
		run := &r.runs[ri]
		texts := make([]string, len(scs))
		prompts := make([]string, len(scs))
		for i, sc := range scs {
			t, err := run.frame.Text(sc.ID, cur)
			if err != nil {
				return nil, fmt.Errorf("policy %s, scenario %s: %w", run.frame.ID, sc.ID, err)
			}
			texts[i] = t
			if prompts[i], err = scenario.Compose(sc, sc.Params, cur, t); err != nil {
				return nil, fmt.Errorf("scenario %s: %w", sc.ID, err)
			}
		}
		for ai := range r.agents {
			a := &r.agents[ai]
			if r.exp.Prompt.Mode == "joint" {
				t, err := r.jointTask(run, a, r.texts[ai], scs, texts)
				if err != nil {
					return nil, err
				}
				tasks = append(tasks, t)
				continue
			}
			for i, sc := range scs {
				tasks = append(tasks, task{
					keys:   []store.Key{{RunID: run.ID, AgentID: a.ID, Scenario: sc.ID}},
					params: []map[string]float64{sc.Params},
					run:    run,
					req: backend.Request{
						AgentID: a.ID, Persona: a, System: systemText(r.texts[ai]), Prompt: prompts[i],
						Schema:    sc.Response,
						Situation: backend.Situation{Scenario: sc.ID, Kind: sc.Kind, Params: situationParams(sc, nil), Policy: exposure(run.frame)},
						Sampling:  run.backend.sampling(), Replicate: run.Replicate,
						Seed: decisionSeed(*r.exp.Seed, run.Replicate, a.ID, 0, 0, sc.ID),
					},
				})
			}
		}
	}
	return tasks, nil
}

// jointTask asks all scenarios in one prompt, in an order drawn for this agent and replicate.
func (r *Runner) jointTask(run *runInfo, a *persona.Persona, ptext string, scs []scenario.Scenario, policyTexts []string) (task, error) {
	seed := decisionSeed(*r.exp.Seed, run.Replicate, a.ID, 0, 0, "joint")
	prompt, schema, _, err := scenario.ComposeJoint(scs, policyTexts, r.exp.Population.Currency, seed)
	if err != nil {
		return task{}, err
	}
	t := task{run: run, req: backend.Request{
		AgentID: a.ID, Persona: a, System: systemText(ptext), Prompt: prompt, Schema: schema,
		Situation: backend.Situation{Scenario: "joint", Kind: "joint", Policy: exposure(run.frame)},
		Sampling:  run.backend.sampling(), Replicate: run.Replicate, Seed: seed,
	}}
	for _, sc := range scs {
		t.keys = append(t.keys, store.Key{RunID: run.ID, AgentID: a.ID, Scenario: sc.ID})
		t.params = append(t.params, sc.Params)
	}
	t.split = func(rep backend.Reply) []backend.Reply {
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
			out[i] = o
		}
		return out
	}
	return t, nil
}

func countKeys(tasks []task) int {
	n := 0
	for _, t := range tasks {
		n += len(t.keys)
	}
	return n
}

func (b *backendEntry) sampling() backend.Sampling {
	return backend.Sampling{Temperature: b.cfg.Temperature, TopP: b.cfg.TopP, MaxTokens: b.cfg.MaxTokens}
}
