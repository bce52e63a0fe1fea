package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// Two agents whose persona texts are identical (an imported population with coarse fields)
// are two draws, each its own call, with the cache and without it: neither is served the
// other's reply. Before the agent id was in the cache key and in Collapse's identity, the
// second twin's decisions were copies of the first's (cached = 1).
func TestTwinsAreTwoDraws(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := newLLMServer(t)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		return 200, nil, normal
	}
	dir := t.TempDir()
	const head = "id,gender,age,marital,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion\n"
	const twin = ",female,33,married,52000,EUR,college,nurse,3,3,3,3,3,3,3,3,3\n"
	if err := os.WriteFile(filepath.Join(dir, "twins.csv"), []byte(head+"a"+twin+"b"+twin), 0o644); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`name: twins
study: vignettes
seed: 5
replicates: 1
concurrency: 2
population: {source: file, file: twins.csv}
scenarios: [volunteering, donating]
conditions:
  - {name: none, policy: none}
backends:
  - provider: openai
    model: loopback-llm
    base_url: %s/v1
    api_key_env: %s
    max_concurrency: 2
`, s.URL, llmKeyEnv)
	path := filepath.Join(dir, "twins.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s.learn(exp)
	for _, opt := range []Options{{NoCache: true}, {CachePath: filepath.Join(dir, "cache.db")}} {
		before := s.calls()
		opt.Out = filepath.Join(t.TempDir(), "run")
		res, err := Run(context.Background(), exp, opt)
		if err != nil {
			t.Fatal(err)
		}
		if n := s.calls() - before; n != 4 || res.Decisions != 4 {
			t.Errorf("no cache %v: %d calls for %d decisions of two twins; want 4 and 4", opt.NoCache, n, res.Decisions)
		}
	}
}
