package engine

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/behavioral"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/schema"
	"github.com/prosim/prosim/internal/situation"
)

// countingModel is the behavioural model, counting the decisions asked through Decide and
// through the typed path (situation.Typed) when typed is set.
type countingModel struct {
	m              *behavioral.Model
	decided, rated atomic.Int64
}

func (c *countingModel) Decide(ctx context.Context, req backend.Request) (backend.Reply, error) {
	c.decided.Add(1)
	return c.m.Decide(ctx, req)
}

type typedCounting struct{ *countingModel }

func (c typedCounting) ModelVersion() string { return c.m.ModelVersion() }

func (c typedCounting) Prepare(agents []persona.Persona, sit *situation.Situation, s *schema.Schema) (situation.Rater, error) {
	r, err := c.m.Prepare(agents, sit, s)
	return countingRater{r, &c.rated}, err
}

type countingRater struct {
	r situation.Rater
	n *atomic.Int64
}

func (c countingRater) Rate(i int, soc *situation.Social, seed uint64, out []float64) {
	c.n.Add(1)
	c.r.Rate(i, soc, seed, out)
}

// TestTypedPath: a summary-store Study 3 run decides every decision on the typed path when
// its backend is typed, and its results are byte for byte those of the generic path (the
// same backend without the typed interface); the full store never uses it.
func TestTypedPath(t *testing.T) {
	run := func(storeMode string, typed bool) (string, *countingModel) {
		src := strings.Replace(netExp, "CONC", "3", 1)
		src = strings.Replace(src, "  history: 2\n", "  history: 2\n  store: "+storeMode+"\n", 1)
		exp, err := experiment.Parse([]byte(src+"backend: {provider: builtin}\n"), "s3.yaml")
		if err != nil {
			t.Fatal(err)
		}
		cm := &countingModel{m: behavioral.New()}
		var be backend.Backend = cm
		if typed {
			be = typedCounting{cm}
		}
		out := filepath.Join(t.TempDir(), "run")
		res, err := Run(context.Background(), exp, Options{Out: out, NoCache: true,
			Backends: func(experiment.Backend) (backend.Backend, error) { return be, nil }})
		if err != nil {
			t.Fatal(err)
		}
		if res.Decisions != 960 {
			t.Fatalf("%s store: %d decisions, want %d", storeMode, res.Decisions, 960)
		}
		return out, cm
	}
	typedDir, tc := run("summary", true)
	genericDir, gc := run("summary", false)
	if tc.rated.Load() != 960 || tc.decided.Load() != 0 {
		t.Errorf("typed summary run: %d rated, %d decided; want 960 rated", tc.rated.Load(), tc.decided.Load())
	}
	if gc.rated.Load() != 0 || gc.decided.Load() != 960 {
		t.Errorf("generic summary run: %d rated, %d decided; want 960 decided", gc.rated.Load(), gc.decided.Load())
	}
	files, err := filepath.Glob(filepath.Join(genericDir, "results", "*.csv"))
	if err != nil || len(files) < 2 {
		t.Fatalf("results: %v %v", files, err)
	}
	for _, f := range files {
		f = filepath.Base(f)
		a, errA := os.ReadFile(filepath.Join(typedDir, "results", f))
		b, errB := os.ReadFile(filepath.Join(genericDir, "results", f))
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v / %v", f, errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("results/%s differs between the typed and the generic path", f)
		}
	}
	_, fc := run("full", true)
	if fc.rated.Load() != 0 || fc.decided.Load() != 960 {
		t.Errorf("full store: %d rated, %d decided; want every decision through Decide", fc.rated.Load(), fc.decided.Load())
	}
}
