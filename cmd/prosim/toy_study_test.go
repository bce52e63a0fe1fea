package main

// A study added from this test file alone: registered by name, it runs through run, resume,
// report and export without any other package knowing of it.

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/behavioral"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/situation"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/yamlx"
)

// toy asks every agent the first scenario on two days; on day 2 the prompt recalls the
// agent's own answer of day 1.
type toy struct {
	env   *study.Env
	days  int
	day   int
	asked []store.Key
}

// toyConfig is the study's own block, `toy:` in the experiment file.
type toyConfig struct {
	Days int `yaml:"days"`
}

func (c *toyConfig) Check(_ *experiment.Experiment, doc *yamlx.Doc) error {
	if c.Days == 0 {
		c.Days = 2
	}
	if c.Days < 1 || c.Days > 5 {
		return doc.Errorf("toy.days", "%d is out of range 1..5", c.Days)
	}
	return nil
}

func init() {
	experiment.RegisterBlock("toy", func() experiment.Block { return &toyConfig{} })
	study.Register("toy", func(env *study.Env) (study.Study, error) {
		if len(env.Exp.Scenarios) != 1 {
			return nil, env.Errorf("scenarios", "study toy takes exactly one scenario")
		}
		return &toy{env: env, days: env.Exp.Block.(*toyConfig).Days}, nil
	})
}

func (s *toy) Describe() string { return fmt.Sprintf("study toy: %d decisions", s.Expected()) }
func (s *toy) Expected() int    { return s.days * len(s.env.Cells) * len(s.env.Agents) }

func (s *toy) Next() (*study.Batch, error) {
	if s.day == s.days {
		return nil, nil
	}
	s.day++
	sc, _ := s.env.Scenarios.Get(s.env.Exp.Scenarios[0])
	var b study.Batch
	for _, c := range s.env.Cells {
		for i, a := range s.env.Agents {
			prompt := sc.Text
			if s.day > 1 {
				prev, _ := s.env.Reply(store.Key{RunID: c.ID, AgentID: a.ID, Round: s.day - 1, Scenario: sc.ID})
				prompt = fmt.Sprintf("Yesterday you answered %v.\n\n%s", prev.Values["willingness"], prompt)
			}
			k := store.Key{RunID: c.ID, AgentID: a.ID, Round: s.day, Scenario: sc.ID}
			s.asked = append(s.asked, k)
			b.Tasks = append(b.Tasks, study.Task{Keys: []store.Key{k}, Params: []map[string]float64{nil}, Cell: c,
				Req: backend.Request{AgentID: a.ID, System: s.env.System(i), Prompt: prompt, Schema: sc.Response,
					Structured: &situation.Situation{Persona: &s.env.Agents[i], Scenario: sc.ID, Kind: sc.Kind, Params: study.SituationParams(sc, nil), Policy: study.Exposure(c.Frame)},
					Sampling:   c.Sampling, Replicate: c.Replicate, Seed: seed.Decision(*s.env.Exp.Seed, c.Replicate, a.ID, s.day, 0, sc.ID)}})
		}
	}
	return &b, nil
}

var toySection = template.Must(template.New("toy").Funcs(report.Funcs).Parse(
	`<p>Mean willingness over agent-days: {{range .}}day {{.Day}} {{f2 .Mean}} (n = {{.N}}); {{end}}</p>`))

type toyDay struct {
	Day  int
	Mean float64
	N    int
}

func (s *toy) Analyze() (*study.Analysis, error) {
	days := []toyDay{{Day: 1}, {Day: 2}}
	for _, k := range s.asked {
		if r, ok := s.env.Reply(k); ok && r.Valid() {
			d := &days[k.Round-1]
			d.Mean += (r.Values["willingness"] - d.Mean) / float64(d.N+1)
			d.N++
		}
	}
	schema := table.Schema{Name: "toy_days", Doc: "mean willingness by day", Columns: []table.Column{
		{Name: "day", Type: table.Int}, {Name: "mean_over_agent_days", Type: table.Float}, {Name: "n", Type: table.Int}}}
	return &study.Analysis{
		Tables: []*table.Table{{Schema: schema, Rows: func(emit func([]any) error) error {
			for _, d := range days {
				if err := emit([]any{d.Day, d.Mean, d.N}); err != nil {
					return err
				}
			}
			return nil
		}}},
		Summary: func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "toy: day 1 %.3f, day 2 %.3f\n", days[0].Mean, days[1].Mean)
			return err
		},
		Sections: []report.Section{{ID: "toy", Title: "Toy study", Render: func(fig *report.Figures) (template.HTML, error) {
			return report.Exec(toySection, days, fig)
		}}},
	}, nil
}

func TestToyStudyFromATestFile(t *testing.T) {
	tmp := t.TempDir()
	f := filepath.Join(tmp, "toy.yaml")
	src := "name: toy\nstudy: toy\nseed: 3\nreplicates: 2\npopulation: {source: sample, n: 12}\nscenarios: [helping]\n" +
		"conditions: [{name: none, policy: none}, {name: moral, policy: moral}]\ntoy:\n  days: 2\n"
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	// First attempt: day 2 fails after a few decisions, so the run stops part-way.
	var day2 atomic.Int32
	failing := func(experiment.Backend) (backend.Backend, error) {
		m := behavioral.New()
		return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			if strings.HasPrefix(req.Prompt, "Yesterday") && day2.Add(1) > 5 {
				return backend.Reply{}, errors.New("provider down")
			}
			return m.Decide(ctx, req)
		}), nil
	}
	dir := filepath.Join(tmp, "run")
	exp.OnError = "stop" // a provider that is down stops the run (the default records and goes on)
	if _, err := engine.Run(context.Background(), exp, engine.Options{Out: dir, Backends: failing}); err == nil || !strings.Contains(err.Error(), "prosim resume") {
		t.Fatalf("want a stopped run that says how to resume, got %v", err)
	}
	res, err := engine.Resume(context.Background(), dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const total = 2 * 2 * 2 * 12 // days x conditions x replicates x agents
	if res.Decisions != total || res.Asked >= total/2 || res.Asked == 0 {
		t.Fatalf("resume: %d decisions, %d asked now; want %d in all, only part of day 2 asked", res.Decisions, res.Asked, total)
	}
	if cfg, _ := os.ReadFile(filepath.Join(dir, "config.yaml")); !strings.Contains(string(cfg), "toy:\n  days: 2") {
		t.Errorf("config.yaml does not keep the study's block:\n%s", cfg)
	}
	var sum strings.Builder
	if err := res.Summary(&sum); err != nil || !strings.Contains(sum.String(), "toy: day 1 ") {
		t.Fatalf("summary %q, %v", sum.String(), err)
	}
	out, err := prosim(t, "report", dir)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !strings.Contains(string(html), `<h2 id="toy">Toy study</h2>`) || !strings.Contains(string(html), "day 2 ") {
		t.Fatalf("report (%s) lacks the toy section", out)
	}
	// The report's numbers are the summary's: one analysis.
	var d1, d2 float64
	if _, err := fmt.Sscanf(sum.String()[strings.Index(sum.String(), "toy:"):], "toy: day 1 %f, day 2 %f", &d1, &d2); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), fmt.Sprintf("day 1 %.2f", d1)) || !strings.Contains(string(html), fmt.Sprintf("day 2 %.2f", d2)) {
		t.Errorf("report and summary disagree on day 1: summary %q", sum.String())
	}
	if out, err = prosim(t, "export", dir, "--format", "parquet"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"toy_days.csv", "toy_days.parquet", "decisions.parquet"} {
		if _, err := os.Stat(filepath.Join(dir, "results", f)); err != nil {
			t.Errorf("%s: %v\n%s", f, err, out)
		}
	}
	// Every decision here is valid, so value_label and invalid_reason are empty in every row:
	// declared types keep them text (not a null or numeric type R and pandas would guess).
	pf, err := os.Open(filepath.Join(dir, "results", "decisions.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	st, _ := pf.Stat()
	file, err := parquet.OpenFile(pf, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, f := range file.Schema().Fields() {
		kind := f.Type().Kind().String()
		if lt := f.Type().LogicalType(); lt != nil && lt.UTF8 != nil {
			kind = "string"
		}
		types[f.Name()] = kind
	}
	// The builtin backend spends nothing (0 in every row): cost and latency stay DOUBLE.
	for col, want := range map[string]string{"value_label": "string", "invalid_reason": "string", "replicate": "INT64", "value": "DOUBLE", "valid": "BOOLEAN",
		"calls": "INT64", "failed_calls": "INT64", "input_tokens": "INT64", "output_tokens": "INT64", "cost_usd": "DOUBLE", "latency_ms": "DOUBLE"} {
		if types[col] != want {
			t.Errorf("decisions.parquet: column %s is %s, want %s", col, types[col], want)
		}
	}
}

// The study's block is decoded strictly and checked by the study, with the file's lines.
func TestToyStudyBlockErrorsAreLocated(t *testing.T) {
	for _, c := range []struct{ block, want string }{
		{"toy:\n  days: 9\n", "toy.yaml:8"},
		{"toy:\n  dayz: 2\n", "toy.yaml:8"},
	} {
		f := filepath.Join(t.TempDir(), "toy.yaml")
		src := "name: toy\nstudy: toy\nseed: 3\npopulation: {source: sample, n: 2}\nscenarios: [helping]\n" +
			"conditions: [{name: none, policy: none}]\n" + c.block
		if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := prosim(t, "validate", f); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: want an error at %s, got %v", c.block, c.want, err)
		}
	}
}
