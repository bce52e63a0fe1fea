package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/engine"
)

// withoutKey is cmd with durableKeyEnv unset (unset true) or empty.
func withoutKey(cmd *exec.Cmd, unset bool) *exec.Cmd {
	cmd.Env = slices.DeleteFunc(cmd.Env, func(kv string) bool { return strings.HasPrefix(kv, durableKeyEnv+"=") })
	if !unset {
		cmd.Env = append(cmd.Env, durableKeyEnv+"=")
	}
	return cmd
}

// An api_key_env that names an unset or empty variable is an error at the backend's line for
// validate, run and resume (estimate, which needs no key, warns), even with a base_url (a server of one's own, which needs
// no key when api_key_env is not given): QA's resume sent 304 calls with no Authorization
// header to a server whose key was in an unset QA_KEY.
func TestNamedKeyVariableUnset(t *testing.T) {
	ownCacheDir(t)
	s := newCountingServer(t, 20*time.Millisecond)
	exp := llmStudy(t, s.URL, 40, 2)
	want := filepath.Base(exp) + ":9:5: field backends[0]: openai: no API key: set the environment variable " + durableKeyEnv
	for _, unset := range []bool{true, false} {
		for _, args := range [][]string{{"validate", exp}, {"run", exp, "--out", filepath.Join(t.TempDir(), "run"), "--no-cache"}} {
			out, err := withoutKey(cliCmd(t, args...), unset).CombinedOutput()
			if err == nil || !strings.Contains(string(out), want) {
				t.Errorf("%s with %s unset=%v: %v, want the error %q\n%s", args[0], durableKeyEnv, unset, err, want, out)
			}
		}
	}
	// estimate contacts no provider and needs no key, but warns that a run would be refused, at
	// the field's line.
	out, err := withoutKey(cliCmd(t, "estimate", exp), true).CombinedOutput()
	if err != nil || !strings.Contains(string(out), filepath.Base(exp)+":9:84: field backends[0].api_key_env: "+durableKeyEnv+" is not set (backend openai:m): run and resume will refuse it") {
		t.Errorf("estimate without the key: %v\n%s", err, out)
	}
	// A file's single backend block: the warning is at its api_key_env too.
	src, err := os.ReadFile(exp)
	if err != nil {
		t.Fatal(err)
	}
	one := filepath.Join(t.TempDir(), "one.yaml")
	if err := os.WriteFile(one, []byte(strings.Replace(string(src), "backends:\n  - {", "backend:\n  {", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = withoutKey(cliCmd(t, "estimate", one), true).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "one.yaml:9:82: field backend.api_key_env: "+durableKeyEnv+" is not set (backend openai:m)") {
		t.Errorf("estimate of a backend block without the key: %v\n%s", err, out)
	}
	// A run stopped after a few calls, resumed without the key.
	dir := filepath.Join(t.TempDir(), "run")
	var once sync.Once
	s.mu.Lock()
	s.at = func(n int) {
		if n >= 5 {
			once.Do(func() { engine.RequestStop(dir) })
		}
	}
	s.mu.Unlock()
	if out, err := cliCmd(t, "run", exp, "--out", dir, "--no-cache", "-q").CombinedOutput(); err == nil {
		t.Fatalf("run was not stopped:\n%s", out)
	}
	before := s.calls()
	out, err = withoutKey(cliCmd(t, "resume", dir), false).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "openai: no API key: set the environment variable "+durableKeyEnv) {
		t.Errorf("resume without the key: %v\n%s", err, out)
	}
	if n := s.calls() - before; n != 0 {
		t.Errorf("resume without the key made %d calls", n)
	}
	if n := s.calls(); n == 0 {
		t.Errorf("no call without a key was made, nor with it")
	}
}

// validate and run list a missing key with the file's values of the wrong type, which stop
// the file's other checks (QA12 #9: the key came a run later).
func TestKeyUnsetWithWrongTypes(t *testing.T) {
	ownCacheDir(t)
	s := newCountingServer(t, 20*time.Millisecond)
	exp := llmStudy(t, s.URL, 40, 2)
	src, err := os.ReadFile(exp)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(filepath.Dir(exp), "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(string(src), "concurrency: 2", "concurrency: many", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"validate", bad}, {"run", bad, "--out", filepath.Join(t.TempDir(), "run"), "--no-cache"}} {
		out, err := withoutKey(cliCmd(t, args...), true).CombinedOutput()
		for _, want := range []string{"bad.yaml:4:14: field concurrency: expected a whole number", "bad.yaml:9:5: field backends[0]: openai: no API key: set the environment variable " + durableKeyEnv} {
			if err == nil || !strings.Contains(string(out), want) {
				t.Errorf("%s: %v, want %q\n%s", args[0], err, want, out)
			}
		}
	}
}
