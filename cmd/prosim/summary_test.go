package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/prosim/prosim/internal/engine"
)

// Under --no-cache the replies served without a call are copies of the run's identical
// requests or a call's n samples (its own cache, RUN_DIR/cache.db): the summary says so, not
// "from the cache" (QA: a --no-cache run's summary said its replies came from the cache).
func TestSummaryNamesTheRunsOwnCache(t *testing.T) {
	u := engine.BackendUsage{Label: "openai:m", Calls: 1350, CacheHits: 1050, InputTokens: 10, OutputTokens: 5, CostKnown: true}
	run := u
	run.Calls += 10
	for _, c := range []struct {
		own        bool
		want, not  string
		whole, now string
	}{
		{true, "1050 shared without a call (this run's identical requests, a call's n samples)", "cache hits", "decisions without a call (identical requests and n samples shared within the run, or replies an earlier invocation took from a cache)", "  of which this invocation: 1350 provider calls, 1050 shared without a call (this run's identical requests, a call's n samples)"},
		{false, "1050 cache hits", "identical requests", "1050 decisions from the cache", "  of which this invocation: 1350 provider calls, 1050 cache hits"},
	} {
		for _, resumed := range []bool{false, true} {
			res := &engine.Result{Dir: "runs/a", Decisions: 2400, Asked: 2400, OwnCache: c.own, Usage: []engine.BackendUsage{u},
				Summary: func(io.Writer) error { return nil }}
			if resumed {
				res.RunUsage = []engine.BackendUsage{run}
			}
			var out bytes.Buffer
			cmd := &cobra.Command{}
			cmd.SetOut(&out)
			if err := finish(cmd, res, 0); err != nil {
				t.Fatal(err)
			}
			s := out.String()
			want := []string{c.want}
			if resumed {
				want = []string{c.whole, c.now}
			}
			for _, w := range want {
				if !strings.Contains(s, w) {
					t.Errorf("own cache %v, resumed %v: summary\n%s\nwant %q", c.own, resumed, s, w)
				}
			}
			if strings.Contains(s, c.not) {
				t.Errorf("own cache %v, resumed %v: summary\n%s\nsays %q", c.own, resumed, s, c.not)
			}
		}
	}
}
