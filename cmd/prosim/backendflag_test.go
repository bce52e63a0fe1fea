package main

import (
	"os"
	"strings"
	"testing"
)

func TestBackendFlagsSharingALabelAreRefused(t *testing.T) {
	_, err := parseBackendFlags([]string{"openai:m@http://127.0.0.1:1/v1", "openai:m@http://127.0.0.1:2/v1"})
	if err == nil || !strings.Contains(err.Error(), `both labelled "openai:m"`) {
		t.Fatalf("err %v, want the shared label named", err)
	}
	bs, err := parseBackendFlags([]string{"builtin", "openai:m@http://127.0.0.1:1/v1"})
	if err != nil || len(bs) != 2 {
		t.Fatalf("two distinct backends: %v, %d", err, len(bs))
	}
}

// An error about a --backend model names the flag the user typed, not the line of the file's
// backends it replaced (QA repro-4: "study1.yaml:28:13: field backends[0].model: no price ...").
func TestBackendFlagErrorsNameTheFlag(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "")
	for _, args := range [][]string{
		{"--backend", "openai:mymodel@http://127.0.0.1:1/v1", "--max-cost", "1"},
		{"--backend", "anthropic:mymodel"}, // no key: the client cannot be built
	} {
		_, err := prosim(t, append([]string{"run", "../../examples/study1.yaml", "--out", t.TempDir() + "/run", "-q"}, args...)...)
		if err == nil || !strings.HasPrefix(err.Error(), "--backend "+args[1]+": ") || strings.Contains(err.Error(), "study1.yaml") {
			t.Errorf("%v: err %v, want it to start with the flag and not name the file", args, err)
		}
	}
	// The file's own backend is still located at its line.
	dir := t.TempDir()
	src, err := os.ReadFile("../../examples/study1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	exp := strings.Replace(string(src), "  - provider: builtin ", "  - {provider: openai, model: mymodel, base_url: \"http://127.0.0.1:1/v1\"} ", 1)
	if err := os.WriteFile(dir+"/exp.yaml", []byte(exp), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = prosim(t, "run", dir+"/exp.yaml", "--out", dir+"/run", "-q", "--max-cost", "1")
	if err == nil || !strings.Contains(err.Error(), "exp.yaml:") || !strings.Contains(err.Error(), "backends[0].model: no price is known") {
		t.Errorf("file backend: err %v, want its line", err)
	}
}
