package engine

import (
	"fmt"
	"math"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/game"
)

// Estimate is what a run will ask, before it runs.
type Estimate struct {
	Backend      string
	Calls        int // first attempts; re-asks of invalid replies and retries come on top
	Decisions    int
	InputTokens  int
	OutputTokens int
	CostUSD      float64 // NaN when the model's price is unknown
	Note         string
}

// Estimate counts the calls, tokens and cost of the run the experiment describes, per backend,
// from the very requests the run would make. Tokens are estimated from text length (about four
// characters a token), so they are approximate; cache hits are not subtracted.
func (r *Runner) Estimate() ([]Estimate, error) {
	by := map[*backendEntry]*Estimate{}
	var out []*Estimate
	for _, b := range r.backends {
		e := &Estimate{Backend: b.label}
		by[b] = e
		out = append(out, e)
	}
	var tasks []task
	var err error
	note := ""
	switch {
	case r.study != nil:
		note, err = r.estimateStudy(by)
	case r.exp.Study == experiment.StudyTPP:
		tasks, err = r.tppTasks()
		if r.exp.TPP.History {
			note = "with history, later trials' prompts grow; this estimate counts prompts without history"
		}
	case r.exp.Study == experiment.StudyGames:
		tasks, err = r.gameEstimateTasks()
		note = gamesEstimateNote
	default:
		return nil, fmt.Errorf("estimate is not available for study %s", r.exp.Study)
	}
	if err != nil {
		return nil, err
	}
	for _, e := range out {
		e.Note = note
	}
	for _, t := range tasks {
		e := by[t.run.backend]
		e.Calls++
		e.Decisions += len(t.keys)
		in, outTok := backend.EstimateIO(t.req)
		e.InputTokens += in
		e.OutputTokens += outTok
	}
	prices := r.prices()
	res := make([]Estimate, len(out))
	for i, e := range out {
		b := r.backends[i]
		switch {
		case b.cfg.Provider == "builtin":
			e.Calls, e.InputTokens, e.OutputTokens, e.CostUSD = 0, 0, 0, 0
			e.Note = "behavioural model: no provider calls"
		default:
			if c, ok := prices.Cost(canonicalProvider(b.cfg.Provider), b.cfg.Model, e.InputTokens, e.OutputTokens); ok {
				e.CostUSD = c
			} else {
				e.CostUSD = math.NaN()
			}
		}
		res[i] = *e
	}
	return res, nil
}

// prices are the default price table with the experiment's overrides.
func (r *Runner) prices() backend.Prices {
	over := backend.Prices{}
	for m, p := range r.exp.Prices {
		over[m] = backend.Price{InputPerMTok: p.Input, OutputPerMTok: p.Output}
	}
	return backend.DefaultPrices().With(over)
}

// gamesEstimateNote says how the games' later steps, which depend on earlier replies, are
// estimated.
const gamesEstimateNote = "the games' later steps depend on earlier replies, so they are estimated with placeholder " +
	"answers (every offer, amount sent and contribution half the endowment, no punishment points): every ultimatum " +
	"responder and trust returner is counted (trust returners at most: none is asked when nothing was sent), and " +
	"public goods rounds after the first and their punishment stages are counted in full, with prompts built from " +
	"that placeholder history"

// gameEstimateTasks lists the decisions of study: games for Estimate. It plays the games'
// steps as the driver does (runGames), with the same prompts and requests, but answers each
// step with placeholders instead of asking a backend: every first mover offers or sends half
// the endowment (so every second mover is asked), every public goods member puts in half the
// endowment and gives no punishment points. Nothing is journaled.
func (r *Runner) gameEstimateTasks() ([]task, error) {
	pl, err := r.planGames(experiment.Locator(r.exp), nil)
	if err != nil {
		return nil, err
	}
	ms, err := r.gameMachines(pl)
	if err != nil {
		return nil, err
	}
	var out []task
	for _, g := range ms {
		half := math.Floor(g.in.Endowment / 2)
		for !g.m.done() {
			ts, err := g.m.step()
			if err != nil {
				return nil, err
			}
			out = append(out, ts...)
			if err := placeholderAbsorb(g.m, half); err != nil {
				return nil, fmt.Errorf("game %s: %w", g.in.Name, err)
			}
		}
	}
	return out, nil
}

// placeholderAbsorb advances a game machine past its current step as if every decision of the
// step had been answered with the placeholder amount v (no punishment points).
func placeholderAbsorb(m gameMachine, v float64) error {
	switch m := m.(type) {
	case *dictatorM:
		m.finish = true
	case *pairM:
		if m.stage == 0 {
			m.first = map[int]move{}
			for _, p := range m.pairs {
				m.first[p[0]] = move{asked: true, valid: true, value: v}
			}
		}
		m.asked = nil
		m.stage++
		m.finish = m.stage == 2 || (m.in.Game == "ultimatum" && m.in.Responder == "mao")
	case *pgM:
		for _, q := range m.reqs {
			var err error
			if q.Target < 0 {
				err = m.g.Contribute(q.Agent, v)
			} else {
				err = m.g.Punish(q.Agent, q.Target, 0)
			}
			if err != nil {
				return err
			}
		}
		m.asked, m.reqs = nil, nil
		if _, err := m.g.Advance(); err != nil {
			return err
		}
		m.finish = m.g.Stage() == game.PGDone
	default:
		return fmt.Errorf("no estimate for game machine %T", m)
	}
	return nil
}
