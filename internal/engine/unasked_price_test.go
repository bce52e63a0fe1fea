package engine

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
)

// A cluster task's second reply (a reply that answers no ask) naming a model with no price is
// counted by the spend cap at its tokens at the configured model's price, as a call of an
// unpriced model is counted at the configured model's price (Budgeted: its reservation), not at
// nothing: its cost is unknown in the unrecorded table and the summary, and the cap's account
// (spent_usd) has it. Before, it added $0 to the cap.
func TestUnaskedReplyOfUnpricedModelCountsAgainstTheCap(t *testing.T) {
	exp := remoteExperiment(t)
	var count func(string, backend.Reply)
	var once sync.Once
	remote := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			once.Do(func() { // a second worker's reply to a task, by a model with no price
				count("remote", backend.Reply{Provider: "openai", Model: "unpriced", Calls: 1, InputTokens: 300, OutputTokens: 8})
			})
			return remoteReply, nil
		}), nil
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true, Remote: remote,
		Unasked: func(f func(string, backend.Reply)) { count = f }, MaxCost: 10}); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenReadOnly(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	us, err := st.UnrecordedSpend()
	if err != nil || len(us) != 1 || us[0].Calls != 1 || !math.IsNaN(us[0].CostUSD) {
		t.Errorf("unrecorded %+v, %v; want the second reply's call at an unknown cost", us, err)
	}
	spent, _ := st.Meta(spentKey)
	if s, err := strconv.ParseFloat(spent, 64); err != nil || math.Abs(s-3*remoteCall) > 1e-12 {
		t.Errorf("spent_usd %q; want the 2 decisions' and the unpriced reply's at the configured price, $%v", spent, 3*remoteCall)
	}
}

// remoteReply is a worker's reply to each decision of remoteExperiment, remoteCall its cost.
var remoteReply = backend.Reply{Raw: `{"willingness": 4}`, Values: map[string]float64{"willingness": 4}, Provider: "openai",
	Model: "loopback-llm", Calls: 1, InputTokens: 300, OutputTokens: 8}

const remoteCall = (300*100 + 8*400) / 1e6

// remoteExperiment is 2 decisions of a priced model on a cluster's workers (label remote).
func remoteExperiment(t *testing.T) *experiment.Experiment {
	t.Helper()
	const src = `name: u
study: vignettes
seed: 1
population: {source: sample, n: 2}
scenarios: [volunteering]
conditions: [{name: none, policy: none}]
prices: {loopback-llm: {input: 100, output: 400}}
backends: [{provider: openai, model: loopback-llm, label: remote}]
`
	path := filepath.Join(t.TempDir(), "u.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// A task's second reply that comes after the invocation saved its spend (while the results
// are written, before the coordinator closes) is written to the unrecorded table and the
// run's spend at once, so that the summary and a resumed cap see it. Before, it was added to
// the invocation's count in memory only, and lost.
func TestLateUnaskedReplyIsSaved(t *testing.T) {
	exp := remoteExperiment(t)
	var count func(string, backend.Reply)
	remote := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(context.Context, backend.Request) (backend.Reply, error) { return remoteReply, nil }), nil
	}
	dir := filepath.Join(t.TempDir(), "run")
	r, err := Prepare(exp, Options{Out: dir, NoCache: true, Remote: remote, Unasked: func(f func(string, backend.Reply)) { count = f }})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.create(context.Background(), dir); err != nil {
		r.close()
		t.Fatal(err)
	}
	if _, err := r.execute(context.Background()); err != nil {
		r.close()
		t.Fatal(err)
	}
	count("remote", remoteReply) // the slow worker's reply, after the spend was saved
	r.close()
	count("remote", remoteReply) // after the store closed: not written, no failure
	st, err := store.OpenReadOnly(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	us, err := st.UnrecordedSpend()
	if err != nil || len(us) != 1 || us[0].Backend != "remote" || us[0].Calls != 1 || math.Abs(us[0].CostUSD-remoteCall) > 1e-12 {
		t.Errorf("unrecorded %+v, %v; want the late reply's call at $%v", us, err, remoteCall)
	}
	spent, _ := st.Meta(spentKey)
	if s, err := strconv.ParseFloat(spent, 64); err != nil || math.Abs(s-3*remoteCall) > 1e-12 {
		t.Errorf("spent_usd %q; want the 3 calls' $%v", spent, 3*remoteCall)
	}
}

// A reply that answers no ask and said no token usage (a cluster task's second reply; the
// worker counted it at its worst case) is named as such in the unrecorded table and the run's
// usage, as a decision's reply without usage is: before, the table had no such count, and the
// summary gave its cost with 0 tokens and no reason.
func TestUnaskedReplyWithoutUsageIsNamed(t *testing.T) {
	exp := remoteExperiment(t)
	var count func(string, backend.Reply)
	var once sync.Once
	remote := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			once.Do(func() {
				count("remote", backend.Reply{Provider: "openai", Model: "loopback-llm", Calls: 1, NoUsageCalls: 1, UnusableInputTokens: 300, UnusableOutputTokens: 8})
			})
			return remoteReply, nil
		}), nil
	}
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true, Remote: remote,
		Unasked: func(f func(string, backend.Reply)) { count = f }})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenReadOnly(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	us, err := st.UnrecordedSpend()
	if err != nil || len(us) != 1 || us[0].Calls != 1 || us[0].NoUsageCalls != 1 || math.Abs(us[0].CostUSD-remoteCall) > 1e-12 {
		t.Errorf("unrecorded %+v, %v; want the second reply's call, without usage, at its worst case $%v", us, err, remoteCall)
	}
	if u := res.RunUsage[0]; u.Calls != 3 || u.NoUsageCalls != 1 {
		t.Errorf("the run's usage %+v; want 3 calls, 1 without usage", u)
	}
}
