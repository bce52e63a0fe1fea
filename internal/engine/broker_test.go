package engine

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/manifest"
)

// A clean experiment decided on a broker's workers (execution.nats) with the broker's shared
// cache validates without a key: validate has no broker, so it neither opens that cache nor
// builds a client (it panicked on the nil SharedCache).
func TestBrokerExperimentValidates(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	const src = `name: b
study: vignettes
seed: 1
population: {source: sample, n: 4}
scenarios: [volunteering]
conditions: [{name: none, policy: none}]
cache: nats
execution: {nats: "nats://127.0.0.1:4222"}
backends: [{provider: openai, model: gpt-4o-mini}]
`
	path, err := checkFileWith(t, src, Options{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	// On its broker (Remote) without the shared cache's opener (a library caller): an error.
	remote := func(experiment.Backend) (backend.Backend, error) { return nil, errors.New("no call expected") }
	_, err = checkFileWith(t, src, Options{Remote: remote})
	if err == nil || !strings.Contains(err.Error(), "shared cache is not open") {
		t.Fatalf("err %v, want the shared cache not open", err)
	}
}

// A run of an execution.nats experiment not connected to its broker (no Options.Remote, as
// prosim serve's resume) has no endpoint to call: it stops at the first decision saying
// how to run it, with nothing recorded, instead of recording every decision invalid.
func TestBrokerExperimentWithoutRemoteStops(t *testing.T) {
	exp := llmExperiment(t, "http://127.0.0.1:1", 2, 1, 1)
	exp.Execution.NATS = "nats://user:secret@127.0.0.1:4222"
	dir := filepath.Join(t.TempDir(), "run")
	const want = "prosim run or prosim resume"
	_, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true})
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
		t.Fatalf("run: err %v\nwant it stopped saying %q, without the broker's credentials", err, want)
	}
	if n := countDecisions(t, filepath.Join(dir, dbFile)); n != 0 {
		t.Fatalf("%d decisions recorded by run, want none", n)
	}
	_, err = Resume(context.Background(), dir, Options{})
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("resume: err %v\nwant it stopped saying %q", err, want)
	}
	if n := countDecisions(t, filepath.Join(dir, dbFile)); n != 0 {
		t.Fatalf("%d decisions recorded by resume, want none", n)
	}
}

// A run whose context its caller cancels with a reason (prosim run --workers: a local worker
// that keeps ending) stops with that reason, recorded as an error, not as a Ctrl-C.
func TestRunStoppedWithTheCallersCause(t *testing.T) {
	exp := llmExperiment(t, "http://127.0.0.1:1", 4, 1, 1)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	why := errors.New("local worker local1 ended 4 times")
	remote := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			cancel(why)
			return backend.Reply{}, ctx.Err()
		}), nil
	}
	_, err := Run(ctx, exp, Options{Out: dir, NoCache: true, Remote: remote})
	if !errors.Is(err, why) || errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "prosim resume") {
		t.Fatalf("err %v, want the cause, and how to resume", err)
	}
	if m, merr := manifest.Read(dir); merr != nil || m.Stop == nil || m.Stop.Reason != manifest.StopError {
		t.Fatalf("manifest %+v (%v): want stopped by an error", m, merr)
	}
}
