package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/report"
	netstudy "github.com/prosim/prosim/internal/study/network"
)

// A Study 3 run writes the graph and the mediation estimates beside rounds.csv, agreeing with
// network_summary.txt, and its report draws every Study 3 figure from them.
func TestNetworkFilesAndReport(t *testing.T) {
	exp, err := experiment.Parse([]byte(`name: s3files
study: network
seed: 5
replicates: 2
population: {source: sample, n: 40}
network:
  graph: {type: watts_strogatz, k: 4, p: 0.2}
  rounds: 4
  scenario: volunteering
  activation: {fraction: 0.5}
conditions:
  - {name: control, policy: economic}
  - name: reward_inequity
    policy: economic
    inequity: {preset: reward, k: 4, from: 2}
backend:
  provider: builtin
`), "s3files.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	read := func(name string) [][]string { return readCSV(t, filepath.Join(dir, "results", name)) }
	summary, err := os.ReadFile(filepath.Join(dir, "results", netstudy.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	edges := read("network_edges.csv")
	if strings.Join(edges[0], ",") != "replicate,source,target" || edges[1][0] != "" || !strings.Contains(string(summary), fmt.Sprintf("edges=%d,", len(edges)-1)) {
		t.Errorf("%d edges, the summary says %q", len(edges)-1, strings.SplitN(string(summary), "\n", 2)[0])
	}
	med := read("network_mediation.csv")
	if len(med) != 2 || strings.Join(med[0], ",") != strings.Join(netstudy.MediationSchema.Header(), ",") {
		t.Fatalf("%s: %v", "network_mediation.csv", med)
	}
	row := map[string]string{}
	for i, h := range med[0] {
		row[h] = med[1][i]
	}
	if row["backend"] != "builtin" || row["condition"] != "reward_inequity" || row["control"] != "control" || row["from_round"] != "2" || row["to_round"] != "4" || row["error"] != "" {
		t.Errorf("mediation row %v", row)
	}
	num := func(c string) float64 {
		v, err := strconv.ParseFloat(row[c], 64)
		if err != nil {
			t.Fatalf("%s = %q", c, row[c])
		}
		return v
	}
	// The summary prints the same estimates to 3 decimals.
	for _, w := range []string{
		fmt.Sprintf("a (exposure->unfairness) %.3f (SE %.3f)", num("a"), num("se_a")),
		fmt.Sprintf("indirect a*b %.3f, 95%% bootstrap CI [%.3f, %.3f]\n  (clustered by agent, %s clusters, %s resamples)", num("indirect"), num("boot_low"), num("boot_high"), row["clusters"], row["boot_reps"]),
	} {
		if !strings.Contains(string(summary), w) {
			t.Errorf("summary lacks %q:\n%s", w, summary)
		}
	}
	if !(num("mc_low") < num("indirect") && num("indirect") < num("mc_high")) {
		t.Errorf("Monte Carlo CI [%v, %v] does not hold the estimate %v", num("mc_low"), num("mc_high"), num("indirect"))
	}
	// The contagion file: per group and treated round, shares in [0, 1] and p-values in (0, 1]
	// (the summary's numbers are checked by TestNetworkOneNumberPerLabel).
	cont := read("network_contagion.csv")
	if strings.Join(cont[0], ",") != strings.Join(netstudy.ContagionSchema.Header(), ",") || len(cont) < 2 {
		t.Fatalf("network_contagion.csv: header %v, %d rows", cont[0], len(cont)-1)
	}
	for _, rec := range cont[1:] {
		for k, col := range []int{4, 5, 6} {
			if rec[col] == "" && (k > 0) {
				continue // no placebo with one replicate; no p-value for all
			}
			v, err := strconv.ParseFloat(rec[col], 64)
			if err != nil || v < 0 || v > 1 || k == 2 && v == 0 {
				t.Errorf("network_contagion.csv row %v: column %d must be in [0, 1]", rec, col)
			}
		}
	}
	html, err := os.ReadFile(filepath.Join(dir, report.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Willingness by exposure group", "Perceived unfairness by exposure group", "Contagion curve",
		"Network coloured by final state (reward_inequity, replicate 1)", "The network (40 agents, " + strconv.Itoa(len(edges)-1) + " edges drawn)",
		"Mediation: exposure, perceived unfairness, willingness (reward_inequity)", "Monte Carlo CI [", ">placebo<", "Effect on willingness against the control twin", "Affected share (placebo) and permutation p-value"} {
		if !strings.Contains(string(html), w) {
			t.Errorf("report lacks %q", w)
		}
	}
}

// With graph.per_replicate every replicate has its own graph: network_edges.csv has each
// replicate's edges, the summary gives the graphs' mean statistics and says so, and the
// drawing names the replicate it shows.
func TestNetworkPerReplicateGraphOutputs(t *testing.T) {
	exp, err := experiment.Parse([]byte(`name: s3perrep
study: network
seed: 5
replicates: 3
population: {source: sample, n: 40}
network:
  graph: {type: watts_strogatz, k: 4, p: 0.3, per_replicate: true}
  rounds: 3
  scenario: volunteering
  activation: {fraction: 0.5}
conditions:
  - {name: control, policy: economic}
  - name: reward_inequity
    policy: economic
    inequity: {preset: reward, k: 4, from: 2}
backend:
  provider: builtin
`), "s3perrep.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	edges := readCSV(t, filepath.Join(dir, "results", "network_edges.csv"))
	if strings.Join(edges[0], ",") != "replicate,source,target" {
		t.Fatalf("header %v", edges[0])
	}
	sets := map[string]map[string]bool{}
	for _, e := range edges[1:] {
		if sets[e[0]] == nil {
			sets[e[0]] = map[string]bool{}
		}
		sets[e[0]][e[1]+"-"+e[2]] = true
	}
	if len(sets) != 3 || sets["1"] == nil || sets["3"] == nil {
		t.Fatalf("edges of replicates %v, want 1, 2, 3", len(sets))
	}
	same := true
	for k := range sets["1"] {
		if !sets["2"][k] {
			same = false
		}
	}
	if same && len(sets["1"]) == len(sets["2"]) {
		t.Error("replicates 1 and 2 have the same graph")
	}
	// Watts-Strogatz rewiring keeps the edge count: the mean is n k / 2.
	summary, err := os.ReadFile(filepath.Join(dir, "results", netstudy.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	mean := float64(len(edges)-1) / 3
	for _, w := range []string{"a new graph per replicate", fmt.Sprintf("means over the graphs of 3 replicates: edges %.1f,", mean)} {
		if !strings.Contains(string(summary), w) {
			t.Errorf("summary lacks %q:\n%s", w, strings.SplitN(string(summary), "\n", 2)[0])
		}
	}
	html, err := os.ReadFile(filepath.Join(dir, report.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Network coloured by final state (reward_inequity, replicate 1)", "drawn is replicate 1&#39;s", "a new graph per replicate"} {
		if !strings.Contains(string(html), w) {
			t.Errorf("report lacks %q", w)
		}
	}
}

// With every agent a victim (target: all) nobody is at distance 1: the mediation row says so
// in its error column, the rest of the analysis is written, and the run reports.
func TestNetworkNoDistanceOne(t *testing.T) {
	exp, err := experiment.Parse([]byte(`name: all
study: network
seed: 5
replicates: 2
population: {source: sample, n: 12}
network:
  graph: {type: watts_strogatz, k: 4, p: 0.2}
  rounds: 3
  scenario: volunteering
conditions:
  - {name: control, policy: economic}
  - name: everyone
    policy: economic
    inequity: {target: all, from: 2, text: "You were passed over for the stipend."}
backend: {provider: builtin}
`), "all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	med := readCSV(t, filepath.Join(dir, "results", "network_mediation.csv"))
	col := columns(t, med[0], "condition", "n", "error")
	if len(med) != 2 || med[1][col["condition"]] != "everyone" || med[1][col["n"]] != "" || med[1][col["error"]] != "no distance-1 agents" {
		t.Errorf("network_mediation.csv: %v", med)
	}
	if eff := readCSV(t, filepath.Join(dir, "results", "network_effects.csv")); len(eff) < 2 {
		t.Errorf("network_effects.csv: %v", eff)
	}
	// Nor is there another placement of the victims: no permutation p-value (it would be 1
	// whatever the effect).
	cont := readCSV(t, filepath.Join(dir, "results", "network_contagion.csv"))
	cc := columns(t, cont[0], "exposure_group", "p_value")
	for _, r := range cont[1:] {
		if r[cc["p_value"]] != "" {
			t.Errorf("network_contagion.csv: %s has p_value %s", r[cc["exposure_group"]], r[cc["p_value"]])
		}
	}
	if len(cont) < 3 {
		t.Errorf("network_contagion.csv: %v", cont)
	}
	doc := render(t, dir)
	for _, w := range []string{"no distance-1 agents", "not run: every agent is a victim"} {
		if !strings.Contains(doc, w) {
			t.Errorf("the report does not say %q", w)
		}
	}
}
