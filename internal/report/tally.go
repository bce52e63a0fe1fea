package report

import (
	"math"

	"github.com/prosim/prosim/internal/store"
)

// Tally is what the common sections and the validity summary read of a run's decisions,
// counted in one pass over the store (Add, in store order): a run of millions of decisions
// is summarised without holding them.
type Tally struct {
	runs      []store.Run
	runOf     map[string]store.Run
	Decisions int
	agents    map[int]struct{}
	models    map[string][]string // backend -> models in order of first appearance
	reasons   map[string]int
	validity  map[[2]string]*ValidityRow // backend, condition
	usage     map[string]*Usage
	latency   map[string]float64
	versions  map[[2]string]*VersionCount // backend, version
}

// NewTally is an empty tally over a run's design.
func NewTally(runs []store.Run) *Tally {
	t := &Tally{runOf: map[string]store.Run{}, agents: map[int]struct{}{}, models: map[string][]string{},
		reasons: map[string]int{}, validity: map[[2]string]*ValidityRow{}, usage: map[string]*Usage{},
		latency: map[string]float64{}, versions: map[[2]string]*VersionCount{}}
	t.runs = runs
	for _, x := range runs {
		t.runOf[x.ID] = x
	}
	return t
}

// Runs are the runs of the design the tally was made over.
func (t *Tally) Runs() []store.Run { return t.runs }

// Add counts one decision.
func (t *Tally) Add(d store.Decision) {
	run := t.runOf[d.RunID]
	b := run.Backend
	t.Decisions++
	t.agents[d.AgentID] = struct{}{}
	if m := d.Reply.Model; m != "" && !contains(t.models[b], m) {
		t.models[b] = append(t.models[b], m)
	}
	valid := d.Reply.Valid()
	if !valid {
		t.reasons[d.Reply.Invalid]++
	}
	vk := [2]string{b, run.Condition}
	v := t.validity[vk]
	if v == nil {
		v = &ValidityRow{Backend: b, Condition: run.Condition}
		t.validity[vk] = v
	}
	if valid {
		v.Valid++
	} else {
		v.Invalid++
	}
	u := t.usage[b]
	if u == nil {
		u = &Usage{Backend: b}
		t.usage[b] = u
	}
	u.Decisions++
	u.Calls += d.Reply.Calls
	u.FailedCalls += d.Reply.FailedCalls
	u.UnusableCalls += d.Reply.UnusableCalls
	u.NoUsageCalls += d.Reply.NoUsageCalls
	if d.Reply.Cached {
		u.Cached++
	}
	u.InputTokens += d.Reply.InputTokens
	u.OutputTokens += d.Reply.OutputTokens
	if math.IsNaN(d.Reply.CostUSD) {
		if d.Reply.Calls > 0 {
			u.CostUSD = math.NaN()
			if !contains(u.Unpriced, d.Reply.Model) {
				u.Unpriced = append(u.Unpriced, d.Reply.Model)
			}
		}
	} else {
		u.CostUSD += d.Reply.CostUSD
		u.KnownCostUSD += d.Reply.CostUSD
	}
	t.latency[b] += float64(d.Reply.Latency.Microseconds()) / 1000
	ck := [2]string{b, d.Reply.ModelVersion}
	c := t.versions[ck]
	if c == nil {
		c = &VersionCount{Backend: b, Version: d.Reply.ModelVersion}
		t.versions[ck] = c
	}
	if d.Reply.Cached {
		c.Cached++
	} else {
		c.Fresh++
	}
}

// tally is r's tally: the one counted as it was loaded, or one counted now from
// r.Decisions (a run record built by hand, as prosim serve's live view does).
func (r *Run) tally() *Tally {
	if r.Tally != nil {
		return r.Tally
	}
	t := NewTally(r.Runs)
	for _, d := range r.Decisions {
		t.Add(d)
	}
	return t
}
