package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer a command writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serve reads run databases read-only, and a read-only connection leaves prosim.db-wal and
// -shm beside the database when it closes; once serve stops, the folders it showed have none
// (QA10 repro-3: both stayed in every folder after Ctrl-C).
func TestServeLeavesNoWAL(t *testing.T) {
	root := t.TempDir()
	exp := filepath.Join(t.TempDir(), "exp.yaml")
	if err := os.WriteFile(exp, []byte(fmt.Sprintf(agentsStudy, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "run1")
	if out, err := prosim(t, "run", exp, "--out", dir, "-q"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	db := filepath.Join(dir, "prosim.db")
	leftovers := func() (found []string) {
		for _, f := range []string{db + "-wal", db + "-shm"} {
			if _, err := os.Stat(f); err == nil {
				found = append(found, filepath.Base(f))
			}
		}
		return found
	}
	if l := leftovers(); len(l) > 0 {
		t.Fatalf("the run left %v", l)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cli := newRoot()
	var out lockedBuffer
	cli.SetOut(&out)
	cli.SetErr(&out)
	cli.SetArgs([]string{"serve", root, "--addr", "127.0.0.1:0"})
	done := make(chan error, 1)
	go func() { done <- cli.ExecuteContext(ctx) }()
	addr := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		url = addr.FindString(out.String())
	}
	if url == "" {
		t.Fatalf("serve printed no address:\n%s", out.String())
	}
	for _, p := range []string{"", "runs/run1", "runs/run1/snapshot", "runs/run1/results", "runs/run1/decisions"} {
		resp, err := http.Get(url + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /%s: %s", p, resp.Status)
		}
	}
	if len(leftovers()) == 0 {
		t.Fatal("serve's reads left no -wal/-shm while it ran: this test no longer tests their removal")
	}
	cancel() // as Ctrl-C does
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if l := leftovers(); len(l) > 0 {
		t.Errorf("serve left %v in the run folder", l)
	}
}
