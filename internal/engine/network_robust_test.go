package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
)

// Study 3 under the wording factor: an LLM whose victims lose willingness when told of the
// unfair treatment, except in paraphrase p1, where nothing moves them. Each level's inequity
// runs are paired with the control of the same level, so the victims' effect is -3 in the
// original wording and 0 in p1: robustness.csv says the pooled negative effect holds in
// "original" and not in p1; the distance-1 effect (none anywhere) holds in both. (Four
// replicates: the pooled CI resamples the pairs of both levels; with two, one resample in 16
// draws p1 pairs only, which puts 0 inside the 95% interval.)
func TestNetworkRobustnessPerFactorLevel(t *testing.T) {
	exp, err := experiment.Parse([]byte(`name: s3robust
study: network
seed: 5
replicates: 4
population: {source: sample, n: 30}
network:
  graph: {type: watts_strogatz, k: 4, p: 0.2}
  rounds: 3
  scenario: volunteering
  activation: {fraction: 0.5}
conditions:
  - {name: control, policy: economic}
  - name: reward_inequity
    policy: economic
    inequity: {preset: reward, k: 4, from: 2, text: "UNFAIR: the reward skips you."}
factors:
  wording: [original, p1]
backend:
  provider: openai
  model: fake
`), "s3robust.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fake := func(experiment.Backend) (backend.Backend, error) {
		return backend.Validate(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			w := 5
			if strings.Contains(req.Prompt, "UNFAIR:") && !strings.Contains(req.Prompt, "Volunteers are needed this weekend by a local community group") {
				w = 2
			}
			raw := fmt.Sprintf(`{"willingness": %d, "unfairness": 3}`, w)
			return backend.Reply{Raw: raw, Provider: "fake", Model: "fake", Calls: 1}, nil
		}), 0), nil
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true, Backends: fake}); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, filepath.Join(dir, "results", "robustness.csv"))
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	if len(recs)-1 != 2*2 {
		t.Fatalf("%d rows, want 2 effects x 2 levels:\n%v", len(recs)-1, recs)
	}
	for _, r := range recs[1:] {
		get := func(c string) string { return r[col[c]] }
		victims := strings.Contains(get("claim"), "victims")
		switch {
		case victims && get("conclusion") != "negative":
			t.Errorf("pooled victims' effect %s: want negative (%v)", get("conclusion"), r)
		case victims && get("level") == "original" && (get("level_estimate") != "-3" || get("holds") != "1"):
			t.Errorf("original level: %v, want effect -3 that holds", r)
		case victims && get("level") == "p1" && (get("level_estimate") != "0" || get("holds") != "0"):
			t.Errorf("p1 level: %v, want effect 0 that does not hold", r)
		case !victims && (get("conclusion") != "not significant" || get("holds") != "1"):
			t.Errorf("distance 1: %v, want no effect anywhere", r)
		}
	}
}
