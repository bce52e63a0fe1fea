package backend

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// A call through Stack under a send gate is prepared (the cache is looked up) but reaches the
// endpoint only once the gate opens; a cached reply needs no gate; a gate that fails fails the
// call unsent.
func TestSendGate(t *testing.T) {
	c, err := OpenCache(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f := &fake{}
	chain := Stack([]Backend{f}, StackConfig{ID: BackendID{Provider: "openai", Model: "m"}, Cache: c,
		Limits: Limits{Concurrency: 1}})
	if !HonoursSendGate(chain) {
		t.Fatal("a Stack chain does not say it honours send gates")
	}
	if HonoursSendGate(f) {
		t.Fatal("a bare client says it honours send gates")
	}

	open := make(chan struct{})
	gated := WithSendGate(context.Background(), func(ctx context.Context) error {
		select {
		case <-open:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	done := make(chan error, 1)
	go func() {
		_, err := chain.Decide(gated, testReq("first", 1))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if n := f.calls.Load(); n != 0 {
		t.Fatalf("%d calls reached the endpoint before the gate opened", n)
	}
	close(open)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("%d calls after the gate opened, want 1", n)
	}

	// Cached: served without the gate (which would never open).
	shut := WithSendGate(context.Background(), func(ctx context.Context) error { select {} })
	if r, err := chain.Decide(shut, testReq("first", 1)); err != nil || !r.Cached {
		t.Fatalf("cached reply: %+v, %v", r, err)
	}

	boom := errors.New("commit failed")
	failed := WithSendGate(context.Background(), func(context.Context) error { return boom })
	if _, err := chain.Decide(failed, testReq("second", 1)); !errors.Is(err, boom) {
		t.Fatalf("a failed gate gave %v, want %v", err, boom)
	}
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("a call behind a failed gate reached the endpoint (%d calls)", n)
	}
}
