package engine

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
)

// rounds.csv says what each agent heard from its neighbours in each round: the counts the
// prompt and the behavioural model were given, as the run store records them with each
// decision (QA9 repro-6: they were in prosim.db only).
func TestRoundsSayWhatEachAgentHeard(t *testing.T) {
	for _, spread := range []string{"affected", "victims"} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "path.csv"), []byte("source,target\n1,2\n2,3\n3,4\n4,5\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "s.yaml")
		if err := os.WriteFile(path, []byte(strings.Replace(spreadExp, "SPREAD", spread, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		exp, err := experiment.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "run")
		if _, err := Run(context.Background(), exp, Options{Out: out, NoCache: true}); err != nil {
			t.Fatal(err)
		}
		st, err := store.Open(filepath.Join(out, dbFile))
		if err != nil {
			t.Fatal(err)
		}
		params := map[string]map[string]float64{}
		err = st.Decisions(func(d store.Decision) error {
			params[d.RunID+"/"+strconv.Itoa(d.AgentID)+"/"+strconv.Itoa(d.Round)] = d.Params
			return nil
		})
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		recs := readCSV(t, filepath.Join(out, "results", "rounds.csv"))
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		heard := 0
		for _, r := range recs[1:] {
			p := params[r[col["run_id"]]+"/"+r[col["agent_id"]]+"/"+r[col["round"]]]
			for c, k := range map[string]string{"neighbours_rated": "observed", "neighbours_treated": "unfair_observed", "neighbours_affected": "affected_observed", "exposures": "exposures"} {
				want := ""
				if v, ok := p[k]; ok {
					want = strconv.Itoa(int(v))
				}
				if got := r[col[c]]; got != want {
					t.Errorf("spread_from %s, %s agent %s round %s: %s %q, the store's %s %q", spread, r[col["run_id"]], r[col["agent_id"]], r[col["round"]], c, got, k, want)
				}
			}
			if r[col["neighbours_treated"]] == "1" {
				heard++
			}
		}
		if len(recs) < 1+5*5 || heard == 0 {
			t.Errorf("spread_from %s: %d rows, %d told by a treated neighbour", spread, len(recs)-1, heard)
		}
	}
}
