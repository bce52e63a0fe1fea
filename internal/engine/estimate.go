package engine

import (
	"fmt"
	"math"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
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
	case r.exp.Study == experiment.StudyNetwork:
		tasks, err = r.netEstimateTasks()
		note = netEstimateNote
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

// netEstimateNote says how Study 3's later rounds, whose prompts depend on earlier replies,
// are estimated.
const netEstimateNote = "rounds after the first show what neighbours answered the day before, so their prompts are " +
	"built with placeholder answers (every agent rating 4 and 4): the count of calls is exact, their tokens approximate"

// netEstimateTasks lists Study 3's decisions for Estimate: it runs the world's rules round by
// round, as runNetwork does, with the same requests, but records the placeholder answer 4
// (willingness and unfairness) for every agent instead of asking a backend.
func (r *Runner) netEstimateTasks() ([]task, error) {
	s, err := r.netSetup()
	if err != nil {
		return nil, err
	}
	var out []task
	worlds := make([]*netWorld, len(r.runs))
	for i := range r.runs {
		worlds[i] = s.newWorld(&r.runs[i], len(r.agents), s.cfg.History)
	}
	for t := 1; t <= s.cfg.Rounds; t++ {
		for _, w := range worlds {
			if err := w.begin(t, s.activation(w.rep, t), r.income); err != nil {
				return nil, err
			}
			ts, err := r.netTasks(w, t)
			if err != nil {
				return nil, err
			}
			out = append(out, ts...)
			w.end(t, func(int) (int8, int8, bool, string) { return 4, 4, true, "" }, nil)
		}
	}
	return out, nil
}
