package engine

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// noEffectServer is an OpenAI-compatible loopback model with no effect at all: every call
// draws willingness and unfairness 3-5 afresh (the n-th call of one exact request its n-th
// draw, so that the answers do not depend on the order the calls come in), whatever the prompt
// says of unfair treatment or neighbours.
func noEffectServer(t *testing.T) *llmServer {
	s := newLLMServer(t)
	s.open = true
	count := map[string]int{}
	hashRE := regexp.MustCompile(`"req": "([0-9a-f]+)"`)
	s.answer = func(_ llmDecision, _ bool, _ int, normal string) (int, map[string]string, string) {
		h := hashRE.FindStringSubmatch(normal)[1]
		s.mu.Lock()
		count[h]++
		n := count[h]
		s.mu.Unlock()
		sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", h, n))
		return 200, nil, fmt.Sprintf(`{"willingness": %d, "unfairness": %d}`, 3+int(sum[0])%3, 3+int(sum[1])%3)
	}
	return s
}

// noEffectStudy3 is a Study 3 of n agents (5 reward victims from day 2) on the loopback model
// at url.
func noEffectStudy3(t *testing.T, url string, seed, n, reps, rounds int, spread string) *experiment.Experiment {
	t.Helper()
	return llmStudy3(t, url, seed, n, reps, rounds, spread, "{preset: reward, k: 5, from: 2}", "")
}

// llmStudy3 is noEffectStudy3 with its own inequity and more lines of the network section
// (each ending in a newline).
func llmStudy3(t *testing.T, url string, seed, n, reps, rounds int, spread, inequity, network string) *experiment.Experiment {
	t.Helper()
	src := fmt.Sprintf(`name: llmband
study: network
seed: %d
replicates: %d
concurrency: 16
population: {source: sample, n: %d}
network:
  graph: {type: watts_strogatz, k: 4, p: 0.2}
  rounds: %d
  scenario: volunteering
  history: 1
  spread_from: %s
%sconditions:
  - name: reward
    policy: economic
    inequity: %s
backends:
  - provider: openai
    model: loopback-llm
    base_url: %s/v1
    api_key_env: %s
    temperature: 1.0
    max_concurrency: 16
`, seed, reps, n, rounds, spread, network, inequity, url, llmKeyEnv)
	return loadYAML(t, src)
}

// On an LLM whose replies carry no effect at all, the affected label marks about as many
// victims and distance-1 agents as its placebo does (what noise alone gives). Before, the
// band was measured on the twin differences before the treatment, which on an LLM are 0 (an
// agent whose prompt equals its twin's gets the twin's reply), so it was its floor of one
// point, and once the prompts differed two independent draws a point apart twice running
// marked an agent affected: in this run 15% and 20% of the victims on days 4 and 5, 0 in the
// placebo. The band is now the placebo's (a control against the next replicate's control:
// two independent draws of the same agent on the same prompt). Under spread_from: affected
// the label feeds the next round's prompts, so the band must be there at day 2, when the
// placebo's day 1 is in.
func TestNetworkLLMLabelBandIndependentDraws(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := noEffectServer(t)
	const rounds = 5
	for _, spread := range []string{"victims", "affected"} {
		exp := noEffectStudy3(t, s.URL, 1, 60, 4, rounds, spread)
		dir := filepath.Join(t.TempDir(), "run")
		if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
			t.Fatalf("spread_from %s: %v", spread, err)
		}
		num := func(m map[string]string, c string) float64 {
			v, err := strconv.ParseFloat(m[c], 64)
			if err != nil {
				t.Fatalf("spread_from %s: %s = %q in %v", spread, c, m[c], m)
			}
			return v
		}
		checked := 0
		for _, m := range csvByName(t, filepath.Join(dir, "results", "network_contagion.csv")) {
			g, r := m["exposure_group"], num(m, "round")
			if (g != "victims" && g != "distance_1") || r < rounds-1 {
				continue
			}
			checked++
			// 20 victim x replicate pairs: 0.05 is one pair.
			if a, p := num(m, "affected_share"), num(m, "placebo_affected_share"); a > p+0.05 {
				t.Errorf("spread_from %s, %s, day %.0f: %.3f affected, placebo %.3f: noise marks agents affected", spread, g, r, a, p)
			}
		}
		if checked != 4 {
			t.Fatalf("spread_from %s: %d rows of victims and distance 1 on the last two days, want 4", spread, checked)
		}
	}
}

// With one replicate an LLM comparison's band cannot be measured (it is measured between
// replicates), so the design is refused where replicates is written, before any call; the
// behavioural model, whose band is its own twins', runs one replicate as before.
func TestNetworkLLMOneReplicateRefused(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := noEffectServer(t)
	exp := noEffectStudy3(t, s.URL, 1, 12, 1, 3, "victims")
	_, err := Prepare(exp, Options{NoCache: true})
	if err == nil {
		t.Fatal("one replicate on an LLM accepted")
	}
	for _, w := range []string{"exp.yaml:4:", "replicates", "give replicates: 2 or more"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if n := s.calls(); n != 0 {
		t.Errorf("%d calls before the refusal", n)
	}
	exp = noEffectStudy3(t, s.URL, 1, 12, 1, 3, "victims")
	exp.Backends = []experiment.Backend{{Provider: "builtin"}}
	r, err := Prepare(exp, Options{NoCache: true})
	if err != nil {
		t.Fatalf("one replicate on the behavioural model: %v", err)
	}
	r.Close()
}
