package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/manifest"
	"github.com/prosim/prosim/internal/store"
)

// A run interrupted between decisions, while every decision in flight ends well, stops as
// interrupted and resumable: it is not finalised as complete with decisions missing.
func TestInterruptBetweenDecisionsIsNotComplete(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int64
	hook := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(_ context.Context, req backend.Request) (backend.Reply, error) {
			if n.Add(1) == 10 {
				cancel() // the decision itself ends well, as a reply already received would
			}
			return backend.Reply{Raw: `{"willingness": 4}`, Values: map[string]float64{"willingness": 4}}, nil
		}), nil
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(ctx, load(t, study1, 1), Options{Out: dir, Backends: hook}); err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("an interrupted run returned %v", err)
	}
	if st, _ := Status(dir); st != "running" {
		t.Fatalf("status %q after an interrupt, want running", st)
	}
	if m, err := manifest.Read(dir); err != nil || m.Status != "stopped" {
		t.Fatalf("manifest after an interrupt: %+v, %v", m, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "results", "decisions.csv")); err == nil {
		t.Fatal("an interrupted run wrote results/decisions.csv")
	}
	res, err := Resume(context.Background(), dir, Options{Backends: hook})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decisions != 12*3*3*2 {
		t.Fatalf("%d decisions after resume, want %d", res.Decisions, 12*3*3*2)
	}
}

// With on_error: stop, a failed decision stops the batch: the error is returned, and the workers take no further
// task once it is known (at most the decisions already in flight end).
func TestFailedDecisionStopsTheBatch(t *testing.T) {
	const conc = 3
	var n atomic.Int64
	hook := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			switch k := n.Add(1); {
			case k == 5:
				return backend.Reply{}, errors.New("provider down")
			case k > 5:
				// A call that starts after the failure waits for the run to cancel it, so the
				// count does not depend on how the scheduler orders the failing worker's return:
				// each other worker can have started at most one such call.
				<-ctx.Done()
				return backend.Reply{}, ctx.Err()
			}
			return backend.Reply{Raw: `{"willingness": 4}`, Values: map[string]float64{"willingness": 4}}, nil
		}), nil
	}
	dir := filepath.Join(t.TempDir(), "run")
	exp := load(t, study1, conc)
	exp.OnError = "stop" // the default, record, records the failure and goes on (TestOnErrorRecord)
	if _, err := Run(context.Background(), exp, Options{Out: dir, Backends: hook}); err == nil || !strings.Contains(err.Error(), "provider down") {
		t.Fatalf("a run with a failing decision returned %v", err)
	}
	if got := n.Load(); got > 5+conc-1 {
		t.Fatalf("%d decisions asked after a failure at the 5th with %d workers", got, conc)
	}
	if st, _ := Status(dir); st != "running" {
		t.Fatalf("status %q after a failure, want running", st)
	}
}

// on_error: record (the default): a decision whose backend fails is recorded invalid with the
// error as its reason and the run finishes; resume --retry-invalid asks those again.
func TestOnErrorRecord(t *testing.T) {
	var n, failing atomic.Int64
	failing.Store(1)
	hook := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			if n.Add(1)%7 == 0 && failing.Load() == 1 {
				return backend.Reply{}, errors.New("provider down")
			}
			return backend.Reply{Raw: `{"willingness": 4}`, Values: map[string]float64{"willingness": 4}}, nil
		}), nil
	}
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), load(t, study1, 3), Options{Out: dir, Backends: hook})
	if err != nil {
		t.Fatal(err)
	}
	count := func() (all, erred int) {
		st, err := store.Open(filepath.Join(dir, dbFile))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		st.Decisions(func(d store.Decision) error {
			all++
			if strings.HasPrefix(d.Reply.Invalid, "error: ") && strings.Contains(d.Reply.Invalid, "provider down") {
				erred++
			}
			return nil
		})
		return
	}
	all, bad := count()
	if all != res.Decisions || bad == 0 || bad > all/7+1 {
		t.Fatalf("%d decisions (result says %d), %d recorded invalid with the error", all, res.Decisions, bad)
	}
	if st, _ := Status(dir); st != "complete" {
		t.Fatalf("status %q, want complete", st)
	}
	failing.Store(0)
	asked := n.Load()
	if _, err := Resume(context.Background(), dir, Options{Backends: hook, RetryInvalid: true}); err != nil {
		t.Fatal(err)
	}
	if again := n.Load() - asked; again != int64(bad) {
		t.Errorf("resume --retry-invalid asked %d decisions, want the %d that failed", again, bad)
	}
	if all2, bad2 := count(); all2 != all || bad2 != 0 {
		t.Fatalf("after resume --retry-invalid: %d decisions, %d still invalid with an error", all2, bad2)
	}
}

// A run interrupted during set-up, before its first decision, is not left saying running: an
// interrupt in the run directory's creation stops it before the manifest is written (a resume
// finishes the creation, TestInterruptedCreationIsResumable); one after it, the manifest says
// stopped (execute).
func TestInterruptBeforeFirstDecisionStopsManifest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C while the run directory was being created
	dir := filepath.Join(t.TempDir(), "run")
	hook := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(context.Context, backend.Request) (backend.Reply, error) {
			t.Error("a decision was asked after the interrupt")
			return backend.Reply{}, errors.New("asked")
		}), nil
	}
	if _, err := Run(ctx, load(t, study1, 1), Options{Out: dir, Backends: hook}); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("a run interrupted during set-up returned %v", err)
	}
	if m, err := manifest.Read(dir); err == nil && (m.Status != "stopped" || m.Stop == nil || m.Stop.Reason != manifest.StopInterrupted) {
		t.Fatalf("manifest after an interrupt during set-up: status %q, stop %+v; want none, or stopped, interrupted", m.Status, m.Stop)
	}
	ok := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(context.Context, backend.Request) (backend.Reply, error) {
			return backend.Reply{Raw: `{"willingness": 4}`, Values: map[string]float64{"willingness": 4}}, nil
		}), nil
	}
	if _, err := Resume(context.Background(), dir, Options{Backends: ok}); err != nil {
		t.Fatal(err)
	}
	if m, err := manifest.Read(dir); err != nil || m.Status != "complete" || m.Stop != nil {
		t.Fatalf("manifest after resume: %+v, %v", m, err)
	}
}

// Ctrl-C while the run directory is being created (writing the agents: 20 s at 300,000)
// stops the creation between batches of agents, and the folder it leaves (config.yaml, a
// database that records no runs, or none) is finished by a resume from its config.yaml: it
// was a dead end, resume sending to run and run, refusing the non-empty folder, to resume
// (QA14 F3).
func TestInterruptedCreationIsResumable(t *testing.T) {
	hook := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(_ context.Context, req backend.Request) (backend.Reply, error) {
			return backend.Reply{Raw: `{"willingness": 4}`, Values: map[string]float64{"willingness": 4}}, nil
		}), nil
	}
	for _, noDB := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // before the creation: it stops at its first check
		dir := filepath.Join(t.TempDir(), "run")
		_, err := Run(ctx, load(t, study1, 1), Options{Out: dir, Backends: hook})
		if !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "while creating the run directory") || !strings.Contains(err.Error(), "prosim resume "+dir) {
			t.Fatalf("a run interrupted in its creation returned %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, manifest.File)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("an interrupted creation wrote its manifest (%v)", err)
		}
		if noDB { // stopped between config.yaml and the database
			os.Remove(filepath.Join(dir, "prosim.db"))
		}
		if err := CheckRunDir(dir); err == nil || !strings.Contains(err.Error(), "prosim resume "+dir+" finishes the creation") {
			t.Fatalf("report of the interrupted creation: %v, want it to say resume finishes it", err)
		}
		res, err := Resume(context.Background(), dir, Options{Backends: hook})
		if err != nil {
			t.Fatalf("resume of an interrupted creation: %v", err)
		}
		if res.Decisions != 12*3*3*2 || res.Asked != res.Decisions {
			t.Fatalf("%d decisions (%d asked) after resume, want %d", res.Decisions, res.Asked, 12*3*3*2)
		}
		st, err := store.OpenExisting(filepath.Join(dir, "prosim.db"))
		if err != nil {
			t.Fatal(err)
		}
		agents, err := st.Agents()
		st.Close()
		if err != nil || len(agents) != 12 || agents[0].Text == "" {
			t.Fatalf("%d agents recorded (%v), want 12 with their texts", len(agents), err)
		}
	}
}
