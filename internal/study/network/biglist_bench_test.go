package network

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// BenchmarkLoadInequityList: loading a Study 3 experiment whose inequity names 450,000 agents
// (target list). The list is decoded once, into the inequity's own type.
func BenchmarkLoadInequityList(b *testing.B) {
	const n = 450_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint(i + 1)
	}
	src := fmt.Sprintf(`name: big
study: network
seed: 9
population: {source: sample, n: %d}
network:
  graph: {type: erdos_renyi, m: 10}
  rounds: 3
  scenario: donating
  store: summary
conditions:
  - {name: control, policy: enforce}
  - name: withheld
    policy: enforce
    inequity: {target: list, agents: [%s], from: 2, text: "Your voucher was withheld."}
`, n+10, strings.Join(ids, ","))
	f := filepath.Join(b.TempDir(), "big.yaml")
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		e, err := experiment.LoadChecking(f)
		if err != nil {
			b.Fatal(err)
		}
		if q := e.Conditions[1].Inequity.(*Inequity); len(q.Agents) != n {
			b.Fatalf("%d agents", len(q.Agents))
		}
	}
}
