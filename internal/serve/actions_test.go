package serve

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/manifest"
)

// Stop and resume through the handlers (the browser test does the same from the page): a
// running run is stopped by the stop action, stays resumable, and the resume action completes
// it in the server's process.
func TestStopAndResumeActions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	llm := newSlowLLM(t, 40*time.Millisecond)
	const agents = 20
	exp := llmExperiment(t, llm.URL, agents, 1)
	root := t.TempDir()
	dir := filepath.Join(root, "live")
	runErr := make(chan error, 1)
	go func() {
		_, err := engine.Run(ctx, exp, engine.Options{Out: dir, NoCache: true})
		runErr <- err
	}()
	for !isRun(dir) {
		time.Sleep(10 * time.Millisecond)
	}
	s, err := New(ctx, Options{Roots: []string{root}, Loopback: true, Log: t.Output()})
	if err != nil {
		t.Fatal(err)
	}
	post := func(action string) int {
		req := httptest.NewRequest("POST", "/runs/live/"+action, nil)
		req.Host = "127.0.0.1:8787"
		req.Header.Set("X-Prosim-Action", "1")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w.Code
	}
	status := func() *Snapshot { return s.snapshot("live", dir, true) }
	for status().Status == "starting" {
		time.Sleep(10 * time.Millisecond)
	}
	if st := status().Status; st != "running" {
		t.Fatalf("status %q while the run goes on", st)
	}
	if c := post("resume"); c != http.StatusConflict {
		t.Fatalf("resume of a running run: %d", c)
	}
	if c := post("stop"); c != http.StatusAccepted {
		t.Fatalf("stop: %d", c)
	}
	if err := <-runErr; err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("the stopped run returned %v", err)
	}
	snap := status()
	if snap.Status != "stopped" || !snap.CanResume || snap.Done >= snap.Expected {
		t.Fatalf("after stop: %+v", snap)
	}
	if c := post("resume"); c != http.StatusAccepted {
		t.Fatalf("resume: %d", c)
	}
	for snap = status(); snap.Status != "complete"; snap = status() {
		if ctx.Err() != nil {
			t.Fatalf("the resumed run did not complete: %+v", snap)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if snap.Done != agents*2*2 || snap.Error != "" {
		t.Fatalf("complete: %+v", snap)
	}
	s.Wait() // the resume may still be writing its results when the store says complete
}

// A run stopped at its spend cap: its page names it by its folder, never by the server's
// path, and says that the cap is raised from the command line, before and after a Resume
// from the page (which keeps the cap and stops again) (QA9 repro-9).
func TestCapStopShownByFolderName(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	s, root, dir := cappedServer(ctx, t)
	check := func(when, msg string) {
		t.Helper()
		if strings.Contains(msg, root) || !strings.Contains(msg, "prosim resume capped --max-cost ") || !strings.Contains(msg, capHint) {
			t.Errorf("%s, the page says %q: want the folder's name, --max-cost and the hint, not %s", when, msg, root)
		}
	}
	snap := s.snapshot("capped", dir, false)
	if snap.Status != "stopped" {
		t.Fatalf("status %q", snap.Status)
	}
	check("stopped", snap.Error)

	req := httptest.NewRequest("POST", "/runs/capped/resume", nil)
	req.Host = "127.0.0.1:8787"
	req.Header.Set("X-Prosim-Action", "1")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusAccepted {
		t.Fatalf("resume: %d", w.Code)
	}
	s.Wait()
	snap = s.snapshot("capped", dir, false)
	if !strings.HasPrefix(snap.Error, "resume: spend cap of $0.002 reached") {
		t.Errorf("after a resume at the same cap: %q", snap.Error)
	}
	check("after resume", snap.Error)
}

// cappedServer serves a new root holding one run folder, dir ("capped"), that stopped at a
// spend cap of $0.002.
func cappedServer(ctx context.Context, t *testing.T) (s *Server, root, dir string) {
	t.Helper()
	llm := newSlowLLM(t, 0)
	exp := llmExperiment(t, llm.URL, 20, 1)
	root = t.TempDir()
	dir = filepath.Join(root, "capped")
	_, err := engine.Run(ctx, exp, engine.Options{Out: dir, NoCache: true, MaxCost: 0.002})
	if _, ok := errors.AsType[*engine.BudgetStop](err); !ok {
		t.Fatalf("run: %v, want a stop at the cap", err)
	}
	s, err = New(ctx, Options{Roots: []string{root}, Loopback: true, Log: t.Output()})
	if err != nil {
		t.Fatal(err)
	}
	return s, root, dir
}

// The cap note comes from the manifest read with the run's tally: a page's refresh does not
// read manifest.json again until it changes.
func TestCapStopFromCachedManifest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	s, _, dir := cappedServer(ctx, t)
	// Twice: the first read-only open leaves an empty WAL, which the second reads as a change.
	for range 2 {
		if snap := s.snapshot("capped", dir, false); !strings.Contains(snap.Error, "--max-cost") {
			t.Fatalf("stopped at the cap, the page says %q", snap.Error)
		}
	}
	// Unreadable now, with the same size and time: a read per request would lose the note.
	mf := filepath.Join(dir, manifest.File)
	fi, err := os.Stat(mf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mf, bytes.Repeat([]byte("x"), int(fi.Size())), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(mf, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if snap := s.snapshot("capped", dir, false); !strings.Contains(snap.Error, "--max-cost") {
		t.Errorf("manifest unchanged by size and time, the page says %q: want the note read before", snap.Error)
	}
	// A changed manifest is read again: this one records no stop.
	if err := os.WriteFile(mf, []byte(`{"status": "stopped"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if snap := s.snapshot("capped", dir, false); snap.Error != "" {
		t.Errorf("manifest without a stop, the page says %q", snap.Error)
	}
}

// A Resume from the page whose backend names its key's variable (api_key_env) with that
// variable empty here fails at once, saying so on the page: QA's resume sent 304 calls to the
// run's server with no Authorization header.
func TestResumeWithoutNamedKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	s, _, dir := cappedServer(ctx, t)
	t.Setenv(testKeyEnv, "")
	req := httptest.NewRequest("POST", "/runs/capped/resume", nil)
	req.Host = "127.0.0.1:8787"
	req.Header.Set("X-Prosim-Action", "1")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusAccepted {
		t.Fatalf("resume: %d", w.Code)
	}
	s.Wait()
	snap := s.snapshot("capped", dir, false)
	if !strings.Contains(snap.Error, "openai: no API key: set the environment variable "+testKeyEnv) {
		t.Errorf("after a resume without the key, the page says %q", snap.Error)
	}
}
