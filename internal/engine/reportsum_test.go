package engine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/report"
)

// A completed run's report.html is the page a replay of it renders, for every study: its
// ReportSumFile makes it current (CurrentReport) until one of the files it sums changes.
func TestCompletedRunsReportIsCurrent(t *testing.T) {
	for name, src := range map[string]string{
		"vignettes": "study: vignettes\nseed: 5\nreplicates: 1\npopulation: {source: sample, n: 8}\nscenarios: [volunteering, donating]\n" +
			"conditions:\n  - {name: none, policy: none}\n  - {name: moral, policy: moral}\n",
		"tpp": "study: tpp\nseed: 5\nreplicates: 1\npopulation: {source: sample, n: 12}\ntpp: {variant: graded, history: true}\n" +
			"conditions:\n  - {name: none, policy: none}\n",
		"games": "study: games\nseed: 5\nreplicates: 1\npopulation: {source: sample, n: 16}\n" +
			"games:\n  - {game: dictator, endowment: 100}\n  - {game: public_goods, endowment: 20, multiplier: 1.6, group_size: 4, rounds: 3, punishment: both}\n" +
			"conditions:\n  - {name: none, policy: none}\n",
		"network": "study: network\nseed: 5\nreplicates: 2\npopulation: {source: sample, n: 60}\n" +
			"network: {graph: {type: watts_strogatz, k: 4, p: 0.2}, rounds: 3, scenario: volunteering, store: full}\n" +
			"conditions:\n  - {name: control, policy: economic}\n  - {name: reward_inequity, policy: economic, inequity: {preset: reward, k: 5, from: 2}}\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name+".yaml")
			if err := os.WriteFile(path, []byte("name: "+name+"\n"+src+"backends:\n  - {provider: builtin}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			e, err := experiment.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "run")
			if _, err := Run(context.Background(), e, Options{Out: dir, NoCache: true}); err != nil {
				t.Fatal(err)
			}
			page, ok := CurrentReport(dir)
			if !ok {
				t.Fatal("the completed run's report is not current")
			}
			var replay bytes.Buffer
			if err := RenderReportAs(&replay, []string{"run"}, []string{dir}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(page, replay.Bytes()) {
				t.Fatalf("report.html (%d bytes) is not the replay's page (%d bytes)", len(page), replay.Len())
			}
			// Any file summed changed, added or removed: the report is no longer taken as current.
			cfg := filepath.Join(dir, configFile)
			b, _ := os.ReadFile(cfg)
			if err := os.WriteFile(cfg, append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, ok := CurrentReport(dir); ok {
				t.Fatal("current after its config.yaml changed")
			}
			os.WriteFile(cfg, b, 0o644)
			if _, ok := CurrentReport(dir); !ok {
				t.Fatal("not current once its config.yaml is restored")
			}
			if err := os.WriteFile(filepath.Join(dir, "results", "notes.txt"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, ok := CurrentReport(dir); ok {
				t.Fatal("current with a file added")
			}
			os.Remove(filepath.Join(dir, "results", "notes.txt"))
			rep := filepath.Join(dir, report.ReportFile)
			b, _ = os.ReadFile(rep)
			b[len(b)-2] ^= 1 // same size, another byte
			os.WriteFile(rep, b, 0o644)
			if _, ok := CurrentReport(dir); ok {
				t.Fatal("current with its report edited")
			}
		})
	}
}

// A run interrupted, then resumed to its end, records its report as current too: the page
// the resume rendered, from the decisions it read back and those it asked, is the replay's.
func TestResumedRunsReportIsCurrent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int64
	hook := func(experiment.Backend) (backend.Backend, error) {
		return backend.Func(func(_ context.Context, req backend.Request) (backend.Reply, error) {
			if n.Add(1) == 10 {
				cancel()
			}
			w := float64(1 + n.Load()%7)
			return backend.Reply{Raw: fmt.Sprintf(`{"willingness": %g}`, w), Values: map[string]float64{"willingness": w}}, nil
		}), nil
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(ctx, load(t, study1, 1), Options{Out: dir, Backends: hook}); err == nil {
		t.Fatal("the run was not interrupted")
	}
	if _, err := os.Stat(filepath.Join(dir, ReportSumFile)); err == nil {
		t.Fatalf("an interrupted run wrote %s", ReportSumFile)
	}
	if _, err := Resume(context.Background(), dir, Options{Backends: hook}); err != nil {
		t.Fatal(err)
	}
	page, ok := CurrentReport(dir)
	if !ok {
		t.Fatal("the resumed run's report is not current")
	}
	var replay bytes.Buffer
	if err := RenderReportAs(&replay, []string{"run"}, []string{dir}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(page, replay.Bytes()) {
		t.Fatalf("report.html (%d bytes) is not the replay's page (%d bytes)", len(page), replay.Len())
	}
}

// A replay of a run of at most maxHeld decisions reads its decisions once: the first pass
// keeps the replies its steps absorb (Runner.held), which a larger one reads again a step at
// a time.
func TestReplayReadsTheRecordOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "net.yaml")
	src := "name: net\nstudy: network\nseed: 5\nreplicates: 1\npopulation: {source: sample, n: 50}\n" +
		"network: {graph: {type: watts_strogatz, k: 4, p: 0.2}, rounds: 3, scenario: volunteering, store: full}\n" +
		"conditions:\n  - {name: control, policy: economic}\nbackends:\n  - {provider: builtin}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), e, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	a, err := Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if n, read := int64(a.run.Tally.Decisions), a.runner.st.RowsRead(); n != 150 || read != n || a.runner.st.Lookups() != 0 {
		t.Fatalf("%d rows and %d decisions one by one read for a replay of %d decisions, want each once", read, a.runner.st.Lookups(), n)
	}
}
