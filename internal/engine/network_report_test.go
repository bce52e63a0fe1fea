package engine

import (
	"context"
	"fmt"
	"html"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	netstudy "github.com/prosim/prosim/internal/study/network"
)

// study3Run is a small real Study 3 run (full store, the behavioural model): 40 agents, 3
// rounds, 2 replicates, a control and a reward inequity on 3 agents from round 2.
func study3Run(t *testing.T) string {
	t.Helper()
	exp, err := experiment.Parse([]byte(`name: s3report
study: network
seed: 9
replicates: 2
population: {source: sample, n: 40}
network:
  graph: {type: watts_strogatz, k: 4, p: 0.2}
  rounds: 3
  scenario: volunteering
  activation: {fraction: 0.5}
conditions:
  - {name: control, policy: economic}
  - name: reward_inequity
    policy: economic
    inequity: {preset: reward, k: 3, from: 2}
backend: {provider: builtin}
`), "s3report.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	return dir
}

var (
	chartRe  = regexp.MustCompile(`(?s)<svg[^>]*class="chart".*?</svg>`)
	seriesRe = regexp.MustCompile(`<g class="series" data-name="([^"]*)"><polyline points="([^"]*)"`)
)

// chartTitled returns the SVG of the chart with this title.
func chartTitled(t *testing.T, doc, title string) string {
	t.Helper()
	for _, c := range chartRe.FindAllString(doc, -1) {
		if strings.Contains(c, "<title>"+title+"</title>") {
			return c
		}
	}
	t.Fatalf("no chart titled %q", title)
	return ""
}

// panelsOf splits a small-multiples chart into its panels: name -> the panel's SVG.
func panelsOf(svg string) map[string]string {
	out := map[string]string{}
	parts := strings.Split(svg, `<g class="panel" data-name="`)
	for _, p := range parts[1:] {
		name, body, _ := strings.Cut(p, `"`)
		out[html.UnescapeString(name)] = body
	}
	return out
}

// polylines are a chart's series: name -> points (x, y in pixels).
func polylines(svg string) map[string][][2]float64 {
	out := map[string][][2]float64{}
	for _, m := range seriesRe.FindAllStringSubmatch(svg, -1) {
		var pts [][2]float64
		for _, p := range strings.Fields(m[2]) {
			var x, y float64
			fmt.Sscanf(p, "%g,%g", &x, &y)
			pts = append(pts, [2]float64{x, y})
		}
		out[m[1]] = pts
	}
	return out
}

// affine checks that pixels are one increasing or decreasing affine map of values, within
// rounding: what a chart draws is what it was given, on one scale.
func affine(t *testing.T, what string, vals, px []float64) {
	t.Helper()
	i, j := 0, 0
	for k := range vals {
		if vals[k] < vals[i] {
			i = k
		}
		if vals[k] > vals[j] {
			j = k
		}
	}
	if vals[j]-vals[i] < 0.2 {
		t.Fatalf("%s: values %v too close to check the scale", what, vals)
	}
	slope := (px[j] - px[i]) / (vals[j] - vals[i])
	for k := range vals {
		if want := px[i] + slope*(vals[k]-vals[i]); math.Abs(px[k]-want) > 0.6 {
			t.Errorf("%s: value %.4f drawn at %.1f px, the scale puts it at %.1f", what, vals[k], px[k], want)
		}
	}
}

// The Study 3 section draws what the analysis computed: every series of the willingness,
// unfairness and contagion figures is the table's numbers (results/network_groups.csv) on one
// scale, the controls dashed right of their round; axis titles and legends name them; the
// tables show the same means; the mediation diagram shows network_mediation.csv; the network
// drawing colours each agent by its state in rounds.csv, and a large network is drawn as a
// seeded sample around the victims. (The equivalent of the report tests deleted with the old
// report code, against the study's own section.)
func TestStudy3ReportDrawsItsAnalysis(t *testing.T) {
	dir := study3Run(t)
	out := filepath.Join(t.TempDir(), "report.html")
	if err := WriteReport(out, dir); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	doc := string(b)
	wellFormed(t, doc)
	mustContain(t, doc, `<h2 id="study3">Study 3: policy-induced inequity on a network</h2>`,
		">Round (day)</text>", ">Mean willingness (1-7 scale), mean over agent x replicate pairs</text>",
		">Mean perceived unfairness (1-7 scale), mean over agent x replicate pairs</text>", ">Agents affected (% of all)</text>",
		"Network coloured by final state (reward_inequity, replicate 1)", "No CIs.")
	if strings.Contains(doc, "NaN") {
		t.Error("the report has a NaN")
	}

	groups := readCSV(t, filepath.Join(dir, "results", "network_groups.csv"))
	gc := columns(t, groups[0], "exposure_group", "round", "agent_runs", "mean_willingness", "mean_unfairness", "share_affected",
		"control_mean_willingness", "control_mean_unfairness")
	name := map[string]string{"victims": "victims", "distance_1": "distance_1", "distance_2": "distance_2", "distance_3plus": "distance_3plus", "unreachable": "unreachable"} // as the CSVs spell them
	num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	for _, fig := range []struct{ title, mean, ctrl string }{
		{"Willingness by exposure group", "mean_willingness", "control_mean_willingness"},
		{"Perceived unfairness by exposure group", "mean_unfairness", "control_mean_unfairness"},
	} {
		svg := chartTitled(t, doc, fig.title)
		// One panel per exposure group, the inequity run and its control in each, on one
		// y scale: within a panel, values map to pixels by one affine map.
		panels := panelsOf(svg)
		type pt struct{ vals, ys, rounds, xs []float64 }
		per := map[string]*pt{}
		drawn, series := 0, 0
		for _, r := range groups[1:] {
			g, ok := name[r[gc["exposure_group"]]]
			if !ok {
				continue // all: not a panel of these figures
			}
			psvg, ok := panels[g]
			if !ok {
				t.Fatalf("%s: no panel for %s (panels %v)", fig.title, g, slices.Collect(maps.Keys(panels)))
			}
			lines := polylines(psvg)
			if per[g] == nil {
				per[g] = &pt{}
				series += len(lines)
			}
			rd := num(r[gc["round"]])
			for _, side := range []struct{ series, col string }{{"reward_inequity", fig.mean}, {"control", fig.ctrl}} {
				pts, ok := lines[side.series]
				if !ok || len(pts) != 3 {
					t.Fatalf("%s, %s: series %q has %d points (%v)", fig.title, g, side.series, len(pts), ok)
				}
				p := pts[int(rd)-1]
				q := per[g]
				q.vals, q.ys = append(q.vals, num(r[gc[side.col]])), append(q.ys, p[1])
				q.rounds, q.xs = append(q.rounds, rd), append(q.xs, p[0])
				drawn++
			}
			if !strings.Contains(psvg, `stroke-dasharray`) {
				t.Errorf("%s, %s: the control is not dashed", fig.title, g)
			}
		}
		if drawn != 3*series {
			t.Errorf("%s: %d points checked for %d series of 3 rounds", fig.title, drawn, series)
		}
		for g, q := range per {
			if lo, hi := slices.Min(q.vals), slices.Max(q.vals); hi-lo >= 0.2 {
				affine(t, fig.title+", "+g+" (y)", q.vals, q.ys)
			}
			affine(t, fig.title+", "+g+" (x)", q.rounds, q.xs)
		}
		for _, l := range []string{">Condition</text>", ">reward_inequity</text>", ">control</text>"} {
			if !strings.Contains(svg, l) {
				t.Errorf("%s: the legend lacks %s", fig.title, l)
			}
		}
		if strings.Contains(svg, "h8M") {
			t.Errorf("%s: CI whiskers drawn, but the section computes none (its caption says No CIs)", fig.title)
		}
	}
	// The contagion curve beside its placebo: network_contagion.csv's all rows, on an axis
	// fitted to the data (Y0 = 0).
	svg := chartTitled(t, doc, "Contagion curve beside its placebo")
	lines := polylines(svg)
	cont := readCSV(t, filepath.Join(dir, "results", "network_contagion.csv"))
	var vals, ys []float64
	top := 0.0
	for _, r := range cont[1:] {
		if r[2] != "all" {
			continue
		}
		rd := int(num(r[3]))
		k := rd - 2 // the curve starts at the first treated round (2)
		vals = append(vals, num(r[4]), num(r[5]))
		ys = append(ys, lines["reward_inequity"][k][1], lines["placebo"][k][1])
		top = max(top, num(r[4]), num(r[5]))
	}
	if len(vals) != 4 || len(lines["placebo"]) != 2 {
		t.Fatalf("contagion: %d values, series %v", len(vals), lines)
	}
	if top > 0 {
		distinct := false
		for _, v := range vals {
			distinct = distinct || v != vals[0]
		}
		for a := range vals {
			for b := range vals {
				if distinct && vals[a] > vals[b] && !(ys[a] < ys[b]) {
					t.Errorf("contagion curve: share %v drawn at y %.1f, not above share %v at %.1f", vals[a], ys[a], vals[b], ys[b])
				}
			}
		}
	}
	if top < 0.08 && strings.Contains(svg, ">100%<") {
		t.Errorf("contagion shares under 8%% (max %v) drawn on a 0-100%% axis", top)
	}
	for _, w := range []string{">reward_inequity</text>", ">placebo</text>", ">Agents affected (% of all)</text>"} {
		if !strings.Contains(svg, w) {
			t.Errorf("contagion chart lacks %s", w)
		}
	}

	// The tables show the same means as network_groups.csv.
	for _, r := range groups[1:] {
		g, ok := name[r[gc["exposure_group"]]]
		if !ok || r[gc["round"]] != "1" {
			continue
		}
		if !strings.Contains(doc, "<tr><td>"+g+"</td><td>reward_inequity</td><td>"+r[gc["agent_runs"]]+"</td><td>"+fmt.Sprintf("%.2f", num(r[gc["mean_willingness"]]))+"</td>") {
			t.Errorf("the willingness table lacks %s with %s agent x replicate pairs and round-1 mean %s", g, r[gc["agent_runs"]], r[gc["mean_willingness"]])
		}
	}

	// The mediation diagram shows network_mediation.csv.
	med := readCSV(t, filepath.Join(dir, "results", "network_mediation.csv"))
	mc := columns(t, med[0], "a", "se_a", "b", "se_b", "indirect", "boot_low", "boot_high", "error")
	if len(med) != 2 || med[1][mc["error"]] != "" {
		t.Fatalf("network_mediation.csv: %v", med)
	}
	m := med[1]
	f := func(k string) string { return fmt.Sprintf("%.2f", num(m[mc[k]])) }
	mustContain(t, doc, "Mediation: exposure, perceived unfairness, willingness (reward_inequity)",
		"a = "+f("a")+" (SE "+f("se_a")+")", "b = "+f("b")+" (SE "+f("se_b")+")",
		"indirect a&#183;b = "+f("indirect")+", CI ["+f("boot_low")+", "+f("boot_high")+"]")

	// The network drawing: every agent, coloured by its state after the last round of
	// reward_inequity.r1 in rounds.csv.
	rounds := readCSV(t, filepath.Join(dir, "results", "rounds.csv"))
	rc := columns(t, rounds[0], "run_id", "agent_id", "round", "exposure_distance", "affected")
	net := chartTitled(t, doc, "Network coloured by final state (reward_inequity, replicate 1)")
	counts := map[string]int{}
	var victims []string
	for _, r := range rounds[1:] {
		if r[rc["run_id"]] != "reward_inequity.r1" || r[rc["round"]] != "3" {
			continue
		}
		state := "not affected"
		switch {
		case r[rc["exposure_distance"]] == "0":
			state = "victim (treated unfairly)"
			victims = append(victims, r[rc["agent_id"]])
		case r[rc["affected"]] == "1":
			state = "affected"
		}
		counts[state]++
		if w := "<title>agent " + r[rc["agent_id"]] + ": " + state + "</title>"; !strings.Contains(net, w) {
			t.Errorf("the drawing lacks %s", w)
		}
	}
	if n := strings.Count(net, "<title>agent "); n != 40 || counts["victim (treated unfairly)"] != 3 {
		t.Errorf("the drawing has %d agents (want 40), states %v", n, counts)
	}
	for s, k := range counts {
		if w := fmt.Sprintf(">%s (%d)</text>", s, k); !strings.Contains(net, w) {
			t.Errorf("the drawing's legend lacks %s", w)
		}
	}

	// A network larger than MaxNetworkNodes is drawn as a seeded sample around the victims.
	defer func(n int) { netstudy.MaxNetworkNodes = n }(netstudy.MaxNetworkNodes)
	netstudy.MaxNetworkNodes = 10
	var docs [2]string
	for i := range docs {
		out := filepath.Join(t.TempDir(), "report.html")
		if err := WriteReport(out, dir); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(out)
		docs[i] = string(b)
	}
	if docs[0] != docs[1] {
		t.Error("the sampled drawing is not the same in two reports of the run")
	}
	net = chartTitled(t, docs[0], "Network coloured by final state (reward_inequity, replicate 1)")
	if n := strings.Count(net, "<title>agent "); n != 10 {
		t.Errorf("the sampled drawing has %d agents, want 10", n)
	}
	for _, v := range victims {
		if !strings.Contains(net, "<title>agent "+v+": victim (treated unfairly)</title>") {
			t.Errorf("the sample lacks victim %s", v)
		}
	}
	mustContain(t, docs[0], "The network has 40 agents: drawn are 10 of them, the victims and the agents nearest to them")
}
