package study1

import (
	"path/filepath"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// The file parses as the design the bench programs count on: Agents agents x 6 scenarios x 5
// conditions x reps, with the extra lines and the backends given.
func TestYAML(t *testing.T) {
	n := Agents(1000, 2)
	if n != 17 || Agents(0, 1) != 1 {
		t.Errorf("Agents(1000, 2) = %d, want 17 (1,020 decisions); Agents(0, 1) = %d, want 1", n, Agents(0, 1))
	}
	src := YAML("b", 2, 8, n, "execution: {mode: batch}\n", "  - {provider: openai, model: m, base_url: http://127.0.0.1:9/v1}")
	exp, err := experiment.Parse([]byte(src), filepath.Join(t.TempDir(), "b.yaml"))
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	if exp.Name != "b" || exp.Replicates != 2 || exp.Concurrency != 8 || exp.Population.N != n || len(exp.Scenarios) != Scenarios ||
		len(exp.Conditions) != Conditions || exp.Execution.Mode != "batch" || len(exp.Backends) != 1 || exp.Backends[0].Model != "m" {
		t.Errorf("parsed as %+v", exp)
	}
}
