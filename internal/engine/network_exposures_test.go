package engine

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// rounds.csv's exposures (what the contagion rule counts) against its other counts, over real
// runs of examples/study3-network.yaml (3 replicates) with each spread_from and each rule. With
// spread_from affected they are the neighbours treated unfairly plus those affected; with
// victims the affected are not passed on (neighbours_affected empty) but the rule still counts
// them: exposures is the treated and more, not derived from the other columns, which is why the
// spill keeps the affected count in either case (decodeObs).
func TestNetworkExposuresIdentity(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the example")
	}
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "study3-network.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ spread, rule string }{
		{"victims", "{rule: original}"}, {"affected", "{rule: original}"},
		{"victims", "{rule: threshold, threshold: 1}"}, {"affected", "{rule: sis, recovery: 0.2}"},
	} {
		dir := t.TempDir()
		y := strings.NewReplacer("replicates: 20", "replicates: 3", "spread_from: victims", "spread_from: "+c.spread,
			"contagion: {rule: original}", "contagion: "+c.rule).Replace(string(src))
		path := filepath.Join(dir, "s.yaml")
		if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		exp, err := experiment.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Run(context.Background(), exp, Options{Out: filepath.Join(dir, "run"), NoCache: true}); err != nil {
			t.Fatal(err)
		}
		n := func(m map[string]string, col string) int {
			if m[col] == "" {
				return 0
			}
			v, err := strconv.Atoi(m[col])
			if err != nil {
				t.Fatalf("%s = %q", col, m[col])
			}
			return v
		}
		beyond, bad := 0, 0
		for _, m := range csvByName(t, filepath.Join(dir, "run", "results", "rounds.csv")) {
			e, tr := n(m, "exposures"), n(m, "neighbours_treated")
			if e > tr {
				beyond++
			}
			if (c.spread == "affected" && e != tr+n(m, "neighbours_affected")) || e < tr {
				if bad++; bad <= 3 {
					t.Errorf("spread_from %s, contagion %s: exposures %d of %v", c.spread, c.rule, e, m)
				}
			}
		}
		// Either way some rows count affected neighbours, or the identity is not tried.
		if beyond == 0 {
			t.Errorf("spread_from %s, contagion %s: no row's exposures count an affected neighbour", c.spread, c.rule)
		}
	}
}
