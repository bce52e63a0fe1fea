// Package report renders what a researcher reads, from numbers a study has already computed:
// the self-contained report.html (one file, inline CSS and SVG, no script, nothing fetched)
// and the validity table printed after a run.
//
// It does no analysis of its own. A study's Analysis (internal/study) gives its sections;
// this package adds the sections every run has (design, validity and cost: Common), numbers
// figures across the page, and writes the page (WritePage). Every page and section goes
// through html/template, so user text (scenario text, persona fields, condition and run
// names) is escaped by context; a section template embeds a chart with {{svg .Chart}}.
//
// The charts (chart.go: line, bar, heat map, network drawing, mediation diagram) are drawn by
// hand as SVG, and each escapes every text it draws. gonum.org/v1/plot was not adopted (yet):
// the report's browser and golden tests pin per-series <title> tooltips, data-name
// attributes and legend entries that its SVG canvas does not write, and the network and
// mediation drawings have no counterpart there.
package report

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/termtable"
)

// Run is a run directory loaded for reporting.
type Run struct {
	Dir  string
	Exp  *experiment.Experiment
	Runs []store.Run
	// Tally counts the decisions (Load fills it in one pass over the store); when it is nil,
	// the sections count Decisions instead.
	Tally     *Tally
	Decisions []store.Decision
	// Unrecorded are the calls no recorded decision holds, by backend (prosim.db's unrecorded
	// table: an ask cut off by an interrupt, a cluster task decided twice), which UsageOf adds.
	Unrecorded []store.Unrecorded
}

// Load reads a run directory: its design, and its decisions counted in one pass (nothing is
// kept per decision).
func Load(dir string) (*Run, error) {
	exp, err := experiment.Load(filepath.Join(dir, "config.yaml"))
	if err != nil {
		return nil, fmt.Errorf("%s is not a prosim run directory: %w", dir, err)
	}
	st, err := store.OpenExisting(filepath.Join(dir, "prosim.db"))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	r := &Run{Dir: dir, Exp: exp}
	if r.Runs, err = st.Runs(); err != nil {
		return nil, err
	}
	if r.Unrecorded, err = st.UnrecordedSpend(); err != nil {
		return nil, err
	}
	r.Tally = NewTally(r.Runs)
	err = st.Decisions(func(d store.Decision) error {
		r.Tally.Add(d)
		return nil
	})
	return r, err
}

// Validity prints valid and invalid decision counts per backend x condition.
func Validity(w io.Writer, r *Run) error {
	fmt.Fprintf(w, "Validity by backend x condition\n")
	rows := [][]string{{"backend", "condition", "valid", "invalid", "valid rate"}}
	for _, v := range ValidityRows(r) {
		rows = append(rows, []string{v.Backend, v.Condition, fmt.Sprint(v.Valid), fmt.Sprint(v.Invalid), v.Rate()})
	}
	if err := termtable.Write(w, 2, rows); err != nil {
		return err
	}
	if top := topReasons(r, 5); len(top) > 0 {
		fmt.Fprintln(w, "Most common invalid reasons:")
		for _, t := range top {
			fmt.Fprintf(w, "  %5d  %s\n", t.N, t.Reason)
		}
	}
	return nil
}

// reasonCount is how many decisions were recorded invalid for one reason.
type reasonCount struct {
	Reason string
	N      int
}

// topReasons are the k most common reasons a reply was recorded invalid, most common first
// (ties in reason order).
func topReasons(r *Run, k int) []reasonCount {
	var top []reasonCount
	for reason, c := range r.tally().reasons {
		top = append(top, reasonCount{reason, c})
	}
	sort.Slice(top, func(i, j int) bool {
		return top[i].N > top[j].N || top[i].N == top[j].N && top[i].Reason < top[j].Reason
	})
	if len(top) > k {
		top = top[:k]
	}
	return top
}

// Backends are the backend labels of the run's runs, in design order.
func (r *Run) Backends() []string { return backendsOf(r) }

func backendsOf(r *Run) []string {
	var out []string
	for _, x := range r.Runs {
		if !slices.Contains(out, x.Backend) {
			out = append(out, x.Backend)
		}
	}
	return out
}

// DescribeBackend names a backend for readers: the builtin model is said not to be an LLM.
func DescribeBackend(label string) string {
	switch {
	case label == "builtin-baseline": // scorecard.Baseline
		return "builtin-baseline (behavioural model computed alongside on the same agents and seeds, not an LLM)"
	case Behavioural(label):
		return label + " (behavioural model, not an LLM)"
	}
	return label
}

// Behavioural reports whether a backend label names the behavioural model: "builtin" or
// "builtin-..." (experiment files keep those labels for it, and only for it).
func Behavioural(label string) bool {
	return label == "builtin" || strings.HasPrefix(label, "builtin-")
}
