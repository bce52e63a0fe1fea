package engine

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// effectServer is noEffectServer with an effect on the victims only: a request whose prompt
// carries the reward preset's unfair-treatment text gets its willingness 2 points lower (3-5
// becomes 1-3); every other request is drawn as noEffectServer draws it.
func effectServer(t *testing.T) *llmServer {
	s := noEffectServer(t)
	plain := s.answer
	wRE := regexp.MustCompile(`"willingness": (\d+)`)
	s.answer = func(d llmDecision, first bool, choice int, normal string) (int, map[string]string, string) {
		status, h, body := plain(d, first, choice, normal)
		if !strings.Contains(d.prompt, "stipend for the same work and you did not") {
			return status, h, body
		}
		w, _ := strconv.Atoi(wRE.FindStringSubmatch(body)[1])
		return status, h, wRE.ReplaceAllString(body, fmt.Sprintf(`"willingness": %d`, w-2))
	}
	return s
}

// contagionP runs a Study 3 of 60 agents on the loopback model at url and returns its
// network_contagion.csv p-values by exposure group and round (-1: empty), its summary and its
// report.
func contagionP(t *testing.T, url string, seed, reps, rounds int) (map[string]map[int]float64, string, string) {
	t.Helper()
	exp := noEffectStudy3(t, url, seed, 60, reps, rounds, "victims")
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	out := map[string]map[int]float64{}
	for _, m := range csvByName(t, filepath.Join(dir, "results", "network_contagion.csv")) {
		r, err := strconv.Atoi(m["round"])
		if err != nil {
			t.Fatal(err)
		}
		p, err := strconv.ParseFloat(m["p_value"], 64)
		if m["p_value"] == "" {
			p, err = -1, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		if out[m["exposure_group"]] == nil {
			out[m["exposure_group"]] = map[int]float64{}
		}
		out[m["exposure_group"]][r] = p
	}
	sum, err := os.ReadFile(filepath.Join(dir, "results", "network_summary.txt"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	return out, string(sum), string(rep)
}

// TestNetworkLLMSignFlipCalibration measures the p-values' level and power on an LLM (set
// PROSIM_CALIBRATE to the number of seeds, e.g. 30; skipped otherwise): 60 agents, 6
// replicates, 5 days, k = 5 reward victims from day 2, against the no-effect loopback model
// (runs with p < 0.05 by group and day) and against one whose victims rate 2 points lower
// (the victims' p-values).
func TestNetworkLLMSignFlipCalibration(t *testing.T) {
	seeds, _ := strconv.Atoi(os.Getenv("PROSIM_CALIBRATE"))
	if seeds == 0 {
		t.Skip("PROSIM_CALIBRATE not set")
	}
	t.Setenv(llmKeyEnv, llmKey)
	const reps, rounds = 6, 5
	null := noEffectServer(t)
	low := map[string]map[int]int{}
	for sd := 1; sd <= seeds; sd++ {
		ps, _, _ := contagionP(t, null.URL, sd, reps, rounds)
		for _, g := range []string{"victims", "distance_1", "distance_2"} {
			if low[g] == nil {
				low[g] = map[int]int{}
			}
			for r := 2; r <= rounds; r++ {
				if p, ok := ps[g][r]; ok && p >= 0 && p < 0.05 {
					low[g][r]++
				}
			}
		}
	}
	for _, g := range []string{"victims", "distance_1", "distance_2"} {
		t.Logf("no effect, %s: runs with p < 0.05 on days 2-%d: %v of %d", g, rounds, []int{low[g][2], low[g][3], low[g][4], low[g][5]}, seeds)
	}
	eff := effectServer(t)
	for sd := 1; sd <= min(seeds, 10); sd++ {
		ps, sum, _ := contagionP(t, eff.URL, sd, reps, rounds)
		if sd == 1 {
			t.Logf("summary:\n%s", sum)
		}
		t.Logf("victims 2 points lower, seed %d: victims' p on days 2-%d %v, distance 1 %v", sd, rounds,
			[]float64{ps["victims"][2], ps["victims"][3], ps["victims"][4], ps["victims"][5]},
			[]float64{ps["distance_1"][2], ps["distance_1"][3], ps["distance_1"][4], ps["distance_1"][5]})
	}
}

// On an LLM the p-values of spread come from a sign-flip test over replicates, which holds its
// level: against the no-effect loopback model (60 agents, 6 replicates, 5 days, k = 5 victims
// from day 2), 3 seeds, the victims' and distance 1's p fall below 0.05 in the
// 24 p-values of days 2-5 at most 3 times (5%: 1.2 expected at most; these seeds 2), each a
// count of the 64 sign patterns, and the summary and the report say so. The placement test
// they replace ran low there: on an LLM a victim's twin difference is two independent draws
// while most agents' are copied 0s, so victims placed at random mostly average 0s (these
// seeds: 6 of the 24 below 0.05, the victims' on 5 of 12 days; each p a count of 1000).
func TestNetworkLLMSignFlipHoldsLevel(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := noEffectServer(t)
	low := 0
	for sd := 1; sd <= 3; sd++ {
		ps, sum, rep := contagionP(t, s.URL, sd, 6, 5)
		for what, text := range map[string]string{"summary": sum, "report": rep} {
			for _, w := range []string{"a sign-flip test over replicates (a replicate&#39;s run and twin swapped)", "6 replicates: all 64 sign patterns, smallest p 1/64"} {
				if what == "summary" {
					w = strings.ReplaceAll(w, "&#39;", "'")
				}
				if !strings.Contains(text, w) {
					t.Errorf("seed %d: the %s does not say %q", sd, what, w)
				}
			}
		}
		for _, g := range []string{"victims", "distance_1"} {
			for r := 2; r <= 5; r++ {
				p, ok := ps[g][r]
				if !ok || p < 0 {
					t.Fatalf("seed %d: no p-value for %s on day %d", sd, g, r)
				}
				if k := p * 64; math.Abs(k-math.Round(k)) > 1e-9 {
					t.Errorf("seed %d, %s, day %d: p = %v is not a count of 64 sign patterns", sd, g, r, p)
				}
				if p < 0.05 {
					low++
				}
			}
		}
	}
	t.Logf("no effect: %d of 24 p-values below 0.05", low)
	if low > 3 {
		t.Errorf("no effect: %d of 24 p-values below 0.05", low)
	}
}

// With every agent a victim (target: all) an LLM run gives no p-value, as the behavioural
// model does (TestNetworkNoDistanceOne), and says why in the summary, the report and the CSV's
// column doc. The p tests where the effect sits, by distance from the victims (the all row has
// none); with every agent a victim the victims are all agents and nobody is at any distance
// from them. Before, the sign-flip test gave the victims' row a p (the test of all), while
// the behavioural model gave none. The victims' effect stays in network_effects.csv.
func TestNetworkLLMAllVictimsNoP(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := noEffectServer(t)
	exp := llmStudy3(t, s.URL, 3, 12, 3, 3, "victims", `{target: all, from: 2, text: "You were passed over for the stipend."}`, "")
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	rows := csvByName(t, filepath.Join(dir, "results", "network_contagion.csv"))
	if len(rows) == 0 {
		t.Fatal("network_contagion.csv has no rows")
	}
	for _, m := range rows {
		if m["p_value"] != "" {
			t.Errorf("network_contagion.csv: %s, round %s has p_value %s", m["exposure_group"], m["round"], m["p_value"])
		}
	}
	if eff := csvByName(t, filepath.Join(dir, "results", "network_effects.csv")); len(eff) == 0 {
		t.Error("network_effects.csv has no rows")
	}
	sum, err := os.ReadFile(filepath.Join(dir, "results", "network_summary.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"summary": string(sum), "report": render(t, dir)} {
		if !strings.Contains(text, "sign-flip test") || !strings.Contains(text, "not run: every agent is a victim") {
			t.Errorf("the %s does not name the sign-flip test and why it was not run:\n%s", what, text)
		}
	}
}

// A summary-store LLM run read back (its folder moved, then reported) names the sign-flip
// test and says its p-values are read back from network_contagion.csv, where the run's own
// summary gave the reference set ("4 replicates: all 16 sign patterns, smallest p 1/16"):
// the rest of the printed summary, p-values included, is the run's.
func TestNetworkLLMSignFlipReadBack(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := noEffectServer(t)
	exp := llmStudy3(t, s.URL, 2, 16, 4, 3, "victims", "{preset: reward, k: 3, from: 2}", "  store: summary\n")
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "results", "network_summary.txt"))
	if err != nil {
		t.Fatal(err)
	}
	const ref = "(4 replicates: all 16 sign patterns, smallest p 1/16)"
	if !strings.Contains(string(b), ref) {
		t.Fatalf("the run's summary does not say %q:\n%s", ref, b)
	}
	moved := filepath.Join(t.TempDir(), "moved")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	an, err := Analyze(moved)
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	var again strings.Builder
	if err := an.Analysis.Summary(&again); err != nil {
		t.Fatal(err)
	}
	cut := func(s string) string { return s[strings.Index(s, "Network ("):strings.Index(s, "Mediation")] }
	want := strings.Replace(cut(string(b)), ref, "(read back from results/network_contagion.csv)", 1)
	if got := cut(again.String()); got != want {
		t.Errorf("read back:\n%s\nwant the run's summary with the reference set read back:\n%s", got, want)
	}
	if !strings.Contains(want, "p=") || !strings.Contains(want, "a sign-flip test over replicates") {
		t.Errorf("the summary has no sign-flip p-value:\n%s", want)
	}
	rep := render(t, moved)
	for _, w := range []string{"sign-flip test over replicates", "read back from results/network_contagion.csv"} {
		if !strings.Contains(rep, w) {
			t.Errorf("the report of the moved run does not say %q", w)
		}
	}
}
