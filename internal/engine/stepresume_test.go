package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/scenario"
)

// promptLLM answers every field of a request's schema from a hash of its prompt: a later
// step whose prompt is built from other replies (history, an offer, last round's ratings)
// gets another answer, so a resume that rebuilt a prompt from anything but the recorded
// replies would change the results. The n-th call fails with fail(n) when fail is set and
// that is not nil; answered counts the calls answered.
func promptLLM(answered *atomic.Int64, fail func(n int64) error) func(experiment.Backend) (backend.Backend, error) {
	var calls atomic.Int64
	return func(experiment.Backend) (backend.Backend, error) {
		return backend.Validate(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			if n := calls.Add(1); fail != nil {
				if err := fail(n); err != nil {
					return backend.Reply{}, err
				}
			}
			defer answered.Add(1)
			h := fnv.New64a()
			h.Write([]byte(req.System + "\x00" + req.Prompt))
			x := h.Sum64()
			var parts []string
			for _, f := range req.Schema.Fields {
				var v string
				if f.Kind == scenario.Choice {
					v = fmt.Sprintf("%q", f.Options[x%uint64(len(f.Options))])
				} else {
					span := uint64(f.Max-f.Min) + 1
					v = fmt.Sprint(f.Min + float64(x%span))
				}
				x = x/7 + 13
				parts = append(parts, fmt.Sprintf("%q: %s", f.Name, v))
			}
			return backend.Reply{Raw: "{" + strings.Join(parts, ", ") + "}", Provider: "fake", Model: "fake-1", Calls: 1}, nil
		}), 0), nil
	}
}

// resultFiles reads every file of a run's results folder.
func resultFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(dir, "results"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(dir, "results", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// Studies whose later steps read earlier replies keep no journal: a resumed run rebuilds
// their state from the replies read back from the store (Absorb), asks only what is missing,
// and writes the very results of an uninterrupted run; a report replays them the same way.
func TestSteppedStudiesResumeFromTheStore(t *testing.T) {
	const head = "seed: 5\nbackends:\n  - {provider: openai, model: fake}\nconditions:\n"
	for _, c := range []struct{ name, src string }{
		{"tpp history", "name: th\nstudy: tpp\nreplicates: 2\npopulation: {source: sample, n: 4}\ntpp: {variant: binary, history: true}\n" + head +
			"  - {name: none, policy: none}\n"},
		{"tpp graded history", "name: tg\nstudy: tpp\nreplicates: 1\npopulation: {source: sample, n: 4}\ntpp: {variant: graded, history: true}\n" + head +
			"  - {name: none, policy: none}\n"},
		{"games", "name: g\nstudy: games\nreplicates: 1\npopulation: {source: sample, n: 8}\n" + head + "  - {name: none, policy: none}\n" +
			"games:\n  - {game: ultimatum, endowment: 100}\n  - {game: trust, endowment: 10, multiplier: 3}\n" +
			"  - {game: public_goods, endowment: 20, multiplier: 1.6, group_size: 4, rounds: 3, punishment: on}\n"},
		{"network", "name: n\nstudy: network\nreplicates: 2\npopulation: {source: sample, n: 12}\n" +
			"network: {graph: {type: watts_strogatz, k: 4, p: 0.2}, rounds: 4, scenario: volunteering, history: 2}\n" + head +
			"  - {name: control, policy: economic}\n  - {name: reward_inequity, policy: economic, inequity: {preset: reward, k: 3, from: 2}}\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var calls atomic.Int64
			want := filepath.Join(t.TempDir(), "want")
			if _, err := Run(context.Background(), load(t, c.src, 3), Options{Out: want, NoCache: true, Backends: promptLLM(&calls, nil)}); err != nil {
				t.Fatal(err)
			}
			total := calls.Load()
			calls.Store(0)
			dir := filepath.Join(t.TempDir(), "run")
			exp := load(t, c.src, 3)
			exp.OnError = "stop"
			down := func(n int64) error {
				if n > total/2 {
					return errors.New("provider down")
				}
				return nil
			}
			if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true, Backends: promptLLM(&calls, down)}); err == nil {
				t.Fatal("the failing run completed")
			}
			var again atomic.Int64
			if _, err := Resume(context.Background(), dir, Options{NoCache: true, Backends: promptLLM(&again, nil)}); err != nil {
				t.Fatal(err)
			}
			if first := calls.Load(); first < total/2 || first+again.Load() != total {
				t.Errorf("first run %d + resume %d decisions asked, want %d in all", first, again.Load(), total)
			}
			got, wantFiles := resultFiles(t, dir), resultFiles(t, want)
			for name, w := range wantFiles {
				if got[name] != w {
					t.Errorf("results/%s of the resumed run differs from the uninterrupted run's", name)
				}
			}
			a, err := Analyze(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			var fromReport, fromRun strings.Builder
			if err := a.Summary(&fromReport); err != nil {
				t.Fatal(err)
			}
			b, err := Analyze(want)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if err := b.Summary(&fromRun); err != nil {
				t.Fatal(err)
			}
			if fromReport.String() != fromRun.String() || fromReport.Len() == 0 {
				t.Errorf("replayed summaries differ:\n%s\nvs\n%s", fromReport.String(), fromRun.String())
			}
		})
	}
}

// A server that stops answering mid-run (every call refused) stops a stepped study with no
// decision recorded invalid, and resume writes the very results of an uninterrupted run; a
// server refusing for fewer asks than the limit costs the run nothing.
func TestSteppedStudiesResumeAfterServerGone(t *testing.T) {
	const head = "seed: 5\nbackends:\n  - {provider: openai, model: fake}\nconditions:\n"
	refused := &backend.StatusError{Provider: "openai", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	for _, c := range []struct{ name, src string }{
		{"tpp history", "name: th\nstudy: tpp\nreplicates: 2\npopulation: {source: sample, n: 4}\ntpp: {variant: binary, history: true}\n" + head +
			"  - {name: none, policy: none}\n"},
		{"games", "name: g\nstudy: games\nreplicates: 1\npopulation: {source: sample, n: 8}\n" + head + "  - {name: none, policy: none}\n" +
			"games:\n  - {game: ultimatum, endowment: 100}\n  - {game: trust, endowment: 10, multiplier: 3}\n" +
			"  - {game: public_goods, endowment: 20, multiplier: 1.6, group_size: 4, rounds: 3, punishment: on}\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var calls atomic.Int64
			want := filepath.Join(t.TempDir(), "want")
			if _, err := Run(context.Background(), load(t, c.src, 3), Options{Out: want, NoCache: true, Backends: promptLLM(&calls, nil)}); err != nil {
				t.Fatal(err)
			}
			total := calls.Load()
			same := func(dir string) {
				t.Helper()
				got, wantFiles := resultFiles(t, dir), resultFiles(t, want)
				for name, w := range wantFiles {
					if got[name] != w {
						t.Errorf("results/%s differs from the uninterrupted run's", name)
					}
				}
				for _, r := range invalidReasons(t, dir) {
					if strings.HasPrefix(r, errorReason) {
						t.Fatalf("a decision recorded invalid: %q", r)
					}
				}
			}

			// Gone for good after half the calls: stopped, then resumed.
			var first, again atomic.Int64
			gone := func(n int64) error {
				if n > total/2 {
					return refused
				}
				return nil
			}
			dir := filepath.Join(t.TempDir(), "run")
			if _, err := Run(context.Background(), load(t, c.src, 3), Options{Out: dir, NoCache: true, Backends: promptLLM(&first, gone)}); err == nil || !errors.Is(err, errServerGone) {
				t.Fatalf("err %v, want the run stopped: the server stopped answering", err)
			}
			if first.Load() != total/2 {
				t.Fatalf("%d calls answered before the stop, want %d", first.Load(), total/2)
			}
			if _, err := Resume(context.Background(), dir, Options{NoCache: true, Backends: promptLLM(&again, nil)}); err != nil {
				t.Fatal(err)
			}
			if first.Load()+again.Load() != total {
				t.Errorf("first run %d + resume %d decisions asked, want %d in all", first.Load(), again.Load(), total)
			}
			same(dir)

			// Refusing 7 calls (one short of the limit at concurrency 3) and back: the refused
			// decisions are asked again and the run completes.
			var answered atomic.Int64
			blip := func(n int64) error {
				if n > total/2 && n <= total/2+7 {
					return refused
				}
				return nil
			}
			dir = filepath.Join(t.TempDir(), "blip")
			if _, err := Run(context.Background(), load(t, c.src, 3), Options{Out: dir, NoCache: true, Backends: promptLLM(&answered, blip)}); err != nil {
				t.Fatal(err)
			}
			if answered.Load() != total {
				t.Errorf("%d calls answered, want %d", answered.Load(), total)
			}
			same(dir)
		})
	}
}
