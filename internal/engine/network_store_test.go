package engine

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
	netstudy "github.com/prosim/prosim/internal/study/network"
)

// runNetStore runs the network test study on the behavioural model with network.store set.
func runNetStore(t *testing.T, storeMode string) string {
	t.Helper()
	return runNetWith(t, "store: "+storeMode)
}

// runNetWith runs the network test study on the behavioural model with one more line of the
// network section, and returns the run directory.
func runNetWith(t *testing.T, networkLine string) string {
	t.Helper()
	src := strings.Replace(netExp, "CONC", "4", 1)
	src = strings.Replace(src, "  history: 2\n", "  history: 2\n  "+networkLine+"\n", 1)
	exp, err := experiment.Parse([]byte(src+"backend: {provider: builtin}\n"), "s3.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: out, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	return out
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// The summary mode keeps aggregates only, but they must be the full mode's numbers: the same
// world, seeds and decisions, folded differently.
func TestNetworkSummaryStoreEqualsFullStore(t *testing.T) {
	full, sum := runNetStore(t, "full"), runNetStore(t, "summary")

	if _, err := os.Stat(filepath.Join(sum, "results", "rounds.csv")); err == nil {
		t.Error("summary mode wrote per-agent rounds.csv")
	}
	// Aggregate the full run's rounds.csv by run, round and exposure group.
	rows := readCSV(t, filepath.Join(full, "results", "rounds.csv"))
	type key struct{ run, round, group string }
	type cell struct {
		agents, valid, aff int
		w                  float64
	}
	want := map[key]*cell{}
	valid := 0
	for i, h := range rows[0] {
		if h == "valid" {
			valid = i
		}
	}
	for _, r := range rows[1:] {
		if r[1] != "reward" {
			continue
		}
		d, _ := strconv.Atoi(r[7])
		group := []string{"victims", "distance_1", "distance_2", "distance_3plus"}[min(d, 3)]
		if r[8] != group { // exposure_group: the other tables' spelling
			t.Fatalf("rounds.csv exposure_group %q at distance %d, want %q", r[8], d, group)
		}
		for _, g := range []string{group, "all"} {
			k := key{r[0], r[4], g}
			c := want[k]
			if c == nil {
				c = &cell{}
				want[k] = c
			}
			c.agents++
			if r[9] == "1" {
				c.aff++
			}
			if r[valid] == "1" {
				c.valid++
				w, _ := strconv.ParseFloat(r[5], 64)
				c.w += w
			}
		}
	}
	got := readCSV(t, filepath.Join(sum, "results", "rounds_summary.csv"))
	if strings.Join(got[0], ",") != strings.Join(netstudy.RoundsSummarySchema.Header(), ",") {
		t.Fatalf("header %v", got[0])
	}
	if len(got)-1 != len(want) {
		t.Fatalf("%d summary rows, want %d", len(got)-1, len(want))
	}
	for _, r := range got[1:] {
		c := want[key{r[0], r[4], r[5]}]
		if c == nil {
			t.Fatalf("unexpected row %v", r)
		}
		agents, _ := strconv.Atoi(r[6])
		valid, _ := strconv.Atoi(r[7])
		mw, _ := strconv.ParseFloat(r[8], 64)
		aff, _ := strconv.ParseFloat(r[10], 64)
		if agents != c.agents || valid != c.valid || abs(mw-c.w/float64(c.valid)) > 1e-4 || abs(aff-float64(c.aff)/float64(c.agents)) > 1e-4 {
			t.Errorf("row %v: want agents %d valid %d mean %.4f affected %.4f", r, c.agents, c.valid, c.w/float64(c.valid), float64(c.aff)/float64(c.agents))
		}
	}
	// The report draws the aggregates, saying they carry no CIs.
	html, err := os.ReadFile(filepath.Join(sum, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Willingness by exposure group", "Contagion curve", "No CIs.", "This run used network.store: summary", "960 decisions made in memory"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html of a summary run lacks %q", want)
		}
	}
	// The printed summary is the same but for the mediation, which needs per-agent rows.
	strip := func(dir string) string {
		b, err := os.ReadFile(filepath.Join(dir, "results", netstudy.SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		return s[strings.Index(s, "Network ("):strings.Index(s, "Mediation")]
	}
	if a, b := strip(full), strip(sum); a != b {
		t.Errorf("summaries differ:\nfull:\n%s\nsummary:\n%s", a, b)
	}
	// A summary run written before exposure_group was so named (group) reads back the same.
	for _, name := range []string{"network_effects", "network_contagion"} {
		path := filepath.Join(sum, "results", name+".csv")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(string(b), ",exposure_group,", ",group,", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	an, err := Analyze(sum)
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	var again strings.Builder
	if err := an.Analysis.Summary(&again); err != nil {
		t.Fatalf("a run with the column group: %v", err)
	}
	// The effects and contagion tables are read back, not recomputed.
	read := regexp.MustCompile(`\(\d+ victim placements\)`).ReplaceAllString(strip(sum), "(read back from results/network_contagion.csv)")
	if !strings.Contains(again.String(), read) {
		t.Errorf("a run with the column group reads back otherwise:\n%s\nwant\n%s", again.String(), read)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// The placebo applies the contagion rule to the control's ratings with the inequity run's
// exposures. Under the threshold rule the ratings do not matter, so the placebo must equal the
// contagion curve exactly; under the original rule it must be printed beside the curve.
// The contagion label (against the control twin) does not depend on the contagion rule,
// which only sets the world's exposure state: with spread from the victims, the original
// and threshold rules give the same decisions, so the same network_contagion.csv.
func TestNetworkLabelIgnoresRule(t *testing.T) {
	var files []string
	for _, rule := range []string{"{rule: threshold, threshold: 1}", "{rule: original}"} {
		out := runNetWith(t, "contagion: "+rule)
		b, err := os.ReadFile(filepath.Join(out, "results", "network_contagion.csv"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, string(b))
	}
	if files[0] != files[1] || !strings.Contains(files[0], "victims") {
		t.Errorf("network_contagion.csv differs by contagion rule:\n%s\n%s", files[0], files[1])
	}
}

// Ctrl-C during the analysis says what it leaves: a recorded run has every decision saved and
// resume only writes the results; a summary run keeps none, and resume runs it again (it said
// "every decision is saved" for both: QA5 repro-1).
func TestAnalysisStageSaysWhatAnInterruptionLeaves(t *testing.T) {
	for _, mode := range []string{"full", "summary"} {
		src := strings.Replace(netExp, "CONC", "4", 1)
		src = strings.Replace(src, "  history: 2\n", "  history: 2\n  store: "+mode+"\n", 1)
		exp, err := experiment.Parse([]byte(src+"backend: {provider: builtin}\n"), "s3.yaml")
		if err != nil {
			t.Fatal(err)
		}
		r, err := Prepare(exp, Options{Offline: true})
		if err != nil {
			t.Fatal(err)
		}
		r.setDir("runs/x")
		note := r.analysisStage().Note
		r.Close()
		saved := strings.Contains(note, "every decision is saved")
		if saved != (mode == "full") || !strings.Contains(note, "prosim resume runs/x") {
			t.Errorf("store: %s: the analysis is interrupted with %q", mode, note)
		}
	}
}
