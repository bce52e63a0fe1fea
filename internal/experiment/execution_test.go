package experiment

import (
	"strings"
	"testing"
)

// execution.nats is checked where it is written, and the resolved config a run directory
// keeps has the broker's URL without its credentials.
func TestExecutionNATS(t *testing.T) {
	base := "name: x\nstudy: vignettes\nseed: 1\npopulation: {source: sample, n: 2}\nscenarios: [helping]\nconditions: [{name: none, policy: none}]\n"
	e, err := Parse([]byte(base+"execution: {nats: 'nats://alice:pw-123@broker:4222,nats://tok-456@b2:4222'}\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := e.Bundle(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if s := string(cfg); strings.Contains(s, "pw-123") || strings.Contains(s, "tok-456") || strings.Contains(s, "alice") ||
		!strings.Contains(s, "nats://broker:4222,nats://b2:4222") {
		t.Fatalf("resolved config:\n%s", s)
	}
	if !strings.Contains(e.Execution.NATS, "pw-123") {
		t.Fatal("Bundle changed the experiment itself")
	}
	_, err = Parse([]byte(base+"execution: {nats: 'http://broker:4222'}\n"), "x.yaml")
	if err == nil || !strings.Contains(err.Error(), "x.yaml:7") || !strings.Contains(err.Error(), "execution.nats") {
		t.Fatalf("want a located error for an http URL, got %v", err)
	}
}
