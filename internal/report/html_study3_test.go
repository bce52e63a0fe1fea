package report

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/store"
)

const study3Config = `name: s3fix
study: network
seed: 21
replicates: 2
population: {source: sample, n: 6}
network:
  graph: {type: watts_strogatz, k: 2, p: 0}
  rounds: 3
  scenario: volunteering
conditions:
  - {name: control, policy: economic}
  - name: reward_inequity
    policy: economic
    inequity: {preset: reward, k: 1, from: 2}
backends:
  - provider: builtin
`

// study3Mediation is a network_mediation.csv as the engine writes it.
const study3Mediation = `backend,condition,control,from_round,to_round,n,clusters,a,se_a,b,se_b,c,c_prime,indirect,boot_low,boot_high,boot_reps,mc_low,mc_high,sobel_z,sobel_p,level,error
builtin,reward_inequity,control,2,3,12,3,0.75,0.25,-0.5,0.125,-0.6,-0.225,-0.375,-0.71,-0.12,2000,-0.69,-0.11,-2.4,0.016,0.95,
`

// study3Fixture is a Study 3 run of 6 agents on the path 1-2-3-4-5-6, 3 rounds, 2 replicates,
// a control and an inequity condition (victim agent 1 in replicate 1, agent 2 in replicate 2,
// from round 2), laid out as the engine leaves it: config.yaml, prosim.db and results/ with
// rounds.csv, network_edges.csv and network_mediation.csv.
//
// Every rating is willingness 5, unfairness 2, except: the victims (both runs of their
// replicate) rate willingness 7 in round 1; in the inequity runs the victims then rate
// willingness 3, 2 (replicate 1) and 5, 4 (replicate 2) and unfairness 5, 6 and 4, 5; in
// round 3, agent 5 of replicate 1 rates willingness 3 and agent 6 of replicate 2 rates 1 (both
// distance 3+); agent 3's round-3 decision of replicate 1 (distance 2) is invalid. Affected in
// round 3 of the inequity runs: agent 2 (replicate 1), agents 1 and 3 (replicate 2).
func study3Fixture(t *testing.T) string {
	t.Helper()
	victim := map[int]int{1: 1, 2: 2}
	dist := func(rep, a int) int { return max(a-victim[rep], victim[rep]-a) }
	type cell struct{ w, u int }
	var runs []store.Run
	var ds []store.Decision
	rows := []string{"run_id,condition,replicate,agent_id,round,willingness,unfairness,exposure_distance,affected,treated,valid,invalid_reason"}
	ord := 0
	for _, cond := range []string{"control", "reward_inequity"} {
		for rep := 1; rep <= 2; rep++ {
			id := fmt.Sprintf("%s.r%d", cond, rep)
			runs = append(runs, store.Run{ID: id, Ord: ord, Backend: "builtin", Condition: cond, Policy: "economic", Replicate: rep, Seed: uint64(100 + ord)})
			ord++
			ineq := cond == "reward_inequity"
			for round := 1; round <= 3; round++ {
				for a := 1; a <= 6; a++ {
					c := cell{5, 2}
					isVictim := a == victim[rep]
					switch {
					case isVictim && round == 1:
						c.w = 7
					case isVictim && ineq && rep == 1:
						c = [2]cell{{3, 5}, {2, 6}}[round-2]
					case isVictim && ineq && rep == 2:
						c = [2]cell{{5, 4}, {4, 5}}[round-2]
					case ineq && round == 3 && rep == 1 && a == 5:
						c.w = 3
					case ineq && round == 3 && rep == 2 && a == 6:
						c.w = 1
					}
					invalid := ineq && rep == 1 && a == 3 && round == 3
					affected := ineq && round == 3 && (rep == 1 && a == 2 || rep == 2 && (a == 1 || a == 3))
					treated := ineq && isVictim && round >= 2
					vals := map[string]float64{"willingness": float64(c.w), "unfairness": float64(c.u)}
					reason := ""
					if invalid {
						reason = "field willingness: 9 is outside 1..7"
					}
					ds = append(ds, store.Decision{Key: store.Key{RunID: id, AgentID: a, Round: round, Scenario: "volunteering"},
						Params: map[string]float64{"treated": b01f(treated)}, Reply: reply(vals, reason)})
					w, u, d := fmt.Sprint(c.w), fmt.Sprint(c.u), ""
					if invalid {
						w, u = "", ""
					}
					if ineq {
						d = fmt.Sprint(dist(rep, a))
					}
					rows = append(rows, fmt.Sprintf("%s,%s,%d,%d,%d,%s,%s,%s,%d,%d,%d,%s", id, cond, rep, a, round, w, u, d,
						int(b01f(affected)), int(b01f(treated)), int(1-b01f(invalid)), reason))
				}
			}
		}
	}
	dir := fixtureRun(t, study3Config, runs, ds)
	res := filepath.Join(dir, "results")
	os.MkdirAll(res, 0o755)
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(res, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("rounds.csv", strings.Join(rows, "\n")+"\n")
	write("network_edges.csv", "source,target\n1,2\n2,3\n3,4\n4,5\n5,6\n")
	write("network_mediation.csv", study3Mediation)
	return dir
}

func b01f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) < 1e-4
}

func checkSeries(t *testing.T, ss []Series, name string, y, lo, hi []float64) {
	t.Helper()
	i := slices.IndexFunc(ss, func(s Series) bool { return s.Name == name })
	if i < 0 {
		var names []string
		for _, s := range ss {
			names = append(names, s.Name)
		}
		t.Fatalf("no series %q in %v", name, names)
	}
	s := ss[i]
	for k := range y {
		if !near(s.Y[k], y[k]) || lo != nil && (!near(s.Lo[k], lo[k]) || !near(s.Hi[k], hi[k])) {
			t.Errorf("%s round %d: %.4f [%.4f, %.4f], want %.4f %v %v", name, k+1, s.Y[k], s.Lo[k], s.Hi[k], y[k], lo, hi)
		}
	}
}

func TestLoadStudy3ComputesGroupsContagionNetworkAndMediation(t *testing.T) {
	r, err := Load(study3Fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	d, err := loadStudy3(r)
	if err != nil || d == nil {
		t.Fatalf("loadStudy3: %v, %v", d, err)
	}
	nan := math.NaN()
	// t(0.975, 1) = 12.7062; over agents 5, 4 (agent 5: replicates 3 and 5) and 3 (agent 6: 5
	// and 1): t(0.975, 2) * 1/sqrt(3) = 2.48414.
	const t1, t2 = 12.706205, 2.484138
	checkSeries(t, d.Willingness, "victims: reward_inequity", []float64{7, 4, 3}, []float64{7, 4 - t1, 3 - t1}, []float64{7, 4 + t1, 3 + t1})
	checkSeries(t, d.Willingness, "victims: control", []float64{7, 5, 5}, []float64{7, 5, 5}, []float64{7, 5, 5})
	checkSeries(t, d.Unfairness, "victims: reward_inequity", []float64{2, 4.5, 5.5}, nil, nil)
	checkSeries(t, d.Willingness, "distance 3+: reward_inequity", []float64{5, 5, 4}, []float64{5, 5, 4 - t2}, []float64{5, 5, 4 + t2})
	// Distance 2: agent 3 (replicate 1) and agent 4 (replicate 2); agent 3's round 3 is invalid.
	checkSeries(t, d.Willingness, "distance 2: reward_inequity", []float64{5, 5, 5}, []float64{5, 5, nan}, []float64{5, 5, nan})
	checkSeries(t, d.Willingness, "distance 1: control", []float64{5, 5, 5}, nil, nil)
	if s := d.Willingness[1]; !s.Dashed || s.X[0] <= 1 || s.X[0] > 1.2 {
		t.Errorf("the control series is drawn dashed just right of its round: %+v", s)
	}
	if len(d.Willingness) != 8 || len(d.Comparisons) != 0 {
		t.Errorf("%d willingness series, %d extra comparisons; want 8 and 0", len(d.Willingness), len(d.Comparisons))
	}
	checkSeries(t, d.Contagion, "reward_inequity", []float64{0, 0, 0.25}, nil, nil)
	checkSeries(t, d.Contagion, "control", []float64{0, 0, 0}, nil, nil)

	n := d.Network
	if n == nil || n.N != 6 || len(n.Edges) != 5 {
		t.Fatalf("network %+v", n)
	}
	if want := []string{stateVictim, stateAffected, stateUnaffected, stateUnaffected, stateUnaffected, stateUnaffected}; !slices.Equal(n.State, want) {
		t.Errorf("final states %v, want %v", n.State, want)
	}
	if !slices.Equal(n.IDs, []int{1, 2, 3, 4, 5, 6}) {
		t.Errorf("ids %v", n.IDs)
	}
	m := d.Mediation
	if m == nil || m.A != 0.75 || m.SEB != 0.125 || m.Indirect != -0.375 || m.Lo != -0.71 || m.Hi != -0.12 || m.N != 12 || m.Cluster != 3 {
		t.Fatalf("mediation %+v", m)
	}
	if !strings.Contains(m.CILabel, "Monte Carlo CI [-0.69, -0.11]") || !strings.Contains(m.CILabel, "2000 resamples") {
		t.Errorf("CI label %q", m.CILabel)
	}
	notes := strings.Join(d.Notes, "\n")
	for _, w := range []string{"victims 2, distance 1 3, distance 2 2, distance 3+ 3 agents", "rounds 2-3", "Monte Carlo CI [-0.690, -0.110]"} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes lack %q:\n%s", w, notes)
		}
	}
}

func TestStudy3ReportInComparisonWithOtherStudies(t *testing.T) {
	s3 := study3Fixture(t)
	// Study 2's section is drawn from its analysis by the engine (internal/engine's
	// TestStudy2ReportComparesWithHumans); here the Study 2 run brings its design and validity.
	doc := render(t, study2Fixture(t), s3)
	wellFormed(t, doc)
	mustContain(t, doc, "Design: s2fix (run)", "<h2 id=\"study3\">Study 3: policy-induced inequity on a network</h2>",
		"<h3>s3fix (run)</h3>", "Willingness by exposure group: s3fix (run)", "Perceived unfairness by exposure group: s3fix (run)",
		"Contagion curve: s3fix (run)", "Network coloured by final state (reward_inequity, replicate 1)",
		"<title>agent 1: victim (treated unfairly)</title>", ">victim (treated unfairly) (1)</text>", ">affected (1)</text>",
		"Mediation: exposure, perceived unfairness, willingness (reward_inequity)", "a = 0.75 (SE 0.25)", "indirect a&#183;b = -0.38, CI [-0.71, -0.12]",
		">Round (day)</text>", ">Mean willingness (1-7 scale)</text>", ">Agents affected (% of population)</text>", ">victims: control</text>")
	if strings.Contains(doc, "NaN") {
		t.Error("the report has a NaN")
	}
}

func TestStudy3SeveralInequityConditionsAndOldRunDirectories(t *testing.T) {
	dir := study3Fixture(t)
	// A second inequity condition: the same rows under another name.
	res := filepath.Join(dir, "results")
	b, _ := os.ReadFile(filepath.Join(res, "rounds.csv"))
	var extra []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		if strings.HasPrefix(l, "reward_inequity.") {
			extra = append(extra, strings.ReplaceAll(l, "reward_inequity", "other_inequity"))
		}
	}
	os.WriteFile(filepath.Join(res, "rounds.csv"), []byte(string(b)+strings.Join(extra, "\n")+"\n"), 0o644)
	cfg, _ := os.ReadFile(filepath.Join(dir, "config.yaml"))
	cfg = append(cfg, []byte("  - name: other_inequity\n    policy: economic\n    inequity: {preset: reward, k: 1, from: 2}\n")...)
	cfg = []byte(strings.Replace(string(cfg), "backends:\n  - provider: builtin\n", "", 1) + "backends:\n  - provider: builtin\n")
	os.WriteFile(filepath.Join(dir, "config.yaml"), cfg, 0o644)
	st, err := store.Open(filepath.Join(dir, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	r0, _ := st.Runs()
	for rep := 1; rep <= 2; rep++ {
		r0 = append(r0, store.Run{ID: fmt.Sprintf("other_inequity.r%d", rep), Ord: len(r0), Backend: "builtin", Condition: "other_inequity", Policy: "economic", Replicate: rep})
	}
	if err := st.PutRuns(r0); err != nil {
		t.Fatal(err)
	}
	st.Close()
	// Written before network_edges.csv and network_mediation.csv existed.
	os.Remove(filepath.Join(res, "network_edges.csv"))
	os.Remove(filepath.Join(res, "network_mediation.csv"))

	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := loadStudy3(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Comparisons) != 2 || d.Comparisons[1].Label != "other_inequity vs control" || len(d.Willingness) != 0 {
		t.Fatalf("comparisons %+v", d.Comparisons)
	}
	checkSeries(t, d.Comparisons[1].Willingness, "victims: other_inequity", []float64{7, 4, 3}, nil, nil)
	checkSeries(t, d.Contagion, "other_inequity", []float64{0, 0, 0.25}, nil, nil)
	if d.Network != nil || d.Mediation != nil {
		t.Error("drew a network or mediation without their files")
	}
	doc := render(t, dir)
	wellFormed(t, doc)
	mustContain(t, doc, "Willingness by exposure group: other_inequity vs control", "no results/network_edges.csv", "no results/network_mediation.csv", "prosim resume")
}

func TestNetworkSampleAroundVictims(t *testing.T) {
	defer func(n int) { MaxNetworkNodes = n }(MaxNetworkNodes)
	MaxNetworkNodes = 3
	r, err := Load(study3Fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	d, err := loadStudy3(r)
	if err != nil {
		t.Fatal(err)
	}
	n := d.Network
	if n.N != 3 || !slices.Equal(n.IDs, []int{1, 2, 3}) || !slices.Equal(n.Edges, [][2]int{{0, 1}, {1, 2}}) {
		t.Errorf("sample: %d nodes %v, edges %v", n.N, n.IDs, n.Edges)
	}
	if !strings.Contains(strings.Join(d.Notes, " "), "The network has 6 agents: drawn are 3 of them") {
		t.Errorf("notes: %v", d.Notes)
	}
	// Seeded: the same sample every time, and a different seed may change only the ties.
	for range 3 {
		if got := sampleAround(50, ringEdges(50), []int{0}, 5, 9); !slices.Equal(got, sampleAround(50, ringEdges(50), []int{0}, 5, 9)) {
			t.Fatal("the sample is not deterministic")
		}
	}
	if got := sampleAround(50, ringEdges(50), []int{0}, 5, 9); !slices.Equal(got, []int{0, 1, 2, 48, 49}) {
		t.Errorf("ring sample %v", got)
	}
}

func ringEdges(n int) [][2]int {
	var e [][2]int
	for i := range n {
		e = append(e, [2]int{i, (i + 1) % n})
	}
	return e
}
