package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/engine"
)

// A resume whose recorded cache file is gone (its folder moved) stops, naming the file and
// the flags that choose: it created an empty cache at the old path, with its folders, and
// would have asked again every reply the moved file holds (QA11: mv exp/llm exp/llm-x; prosim
// resume runs/sig2). Both records of the cache: the run's --cache and the experiment's cache:.
func TestResumeWithMovedCache(t *testing.T) {
	ownCacheDir(t)
	s := newCountingServer(t, 20*time.Millisecond)
	for _, how := range []string{"--cache", "cache:"} {
		t.Run(map[string]string{"--cache": "flag", "cache:": "file"}[how], func(t *testing.T) {
			base := t.TempDir()
			folder := filepath.Join(base, "llm")
			if err := os.Mkdir(folder, 0o755); err != nil {
				t.Fatal(err)
			}
			exp := llmStudy(t, s.URL, 40, 2)
			cache := filepath.Join(folder, "c.db")
			args := []string{"run", exp, "--out", filepath.Join(base, "run"), "-q"}
			if how == "--cache" {
				args = append(args, "--cache", cache)
			} else {
				src, err := os.ReadFile(exp)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(exp, append(src, "cache: "+cache+"\n"...), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			dir := args[3]
			var once sync.Once
			s.mu.Lock()
			at := s.n + 5
			s.at = func(n int) {
				if n >= at {
					once.Do(func() { engine.RequestStop(dir) })
				}
			}
			s.mu.Unlock()
			if out, err := cliCmd(t, args...).CombinedOutput(); err == nil || !strings.Contains(string(out), "interrupted by a stop request") {
				t.Fatalf("run was not stopped: %v\n%s", err, out)
			}
			if err := os.Rename(folder, folder+"-x"); err != nil {
				t.Fatal(err)
			}
			before := s.calls()
			out, err := cliCmd(t, "resume", dir).CombinedOutput()
			want := "the run's reply cache " + cache + " does not exist (moved or deleted?): give --cache PATH (the file where it is now) or --no-cache, or --cache NEW to start a new one"
			if err == nil || !strings.Contains(string(out), want) {
				t.Errorf("resume with its cache moved: %v, want %q\n%s", err, want, out)
			}
			if _, err := os.Stat(folder); err == nil {
				t.Errorf("resume made the moved cache's folder %s again", folder)
			}
			if n := s.calls() - before; n != 0 {
				t.Errorf("resume with its cache moved made %d calls", n)
			}
			// Given where the file is now, the resume completes with it.
			if out, err := cliCmd(t, "resume", dir, "--cache", filepath.Join(folder+"-x", "c.db"), "-q").CombinedOutput(); err != nil {
				t.Errorf("resume --cache with the moved file: %v\n%s", err, out)
			}
		})
	}
}
