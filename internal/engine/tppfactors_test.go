package engine

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestTPPTrialsHaveFactorColumns (QA16 F7): with factors:, tpp_trials.csv has decisions.csv's
// factor columns, with the same names in the same order, last, and every trial's levels are
// its decision's (one run_id, one set of levels in both tables).
func TestTPPTrialsHaveFactorColumns(t *testing.T) {
	for _, variant := range []string{"binary", "graded"} {
		t.Run(variant, func(t *testing.T) {
			src := strings.Replace(strings.Replace(tppExp, "{provider: openai, model: fake}", "{provider: builtin}", 1), "variant: binary", "variant: "+variant, 1) +
				"factors:\n  wording: [original, p1]\n  persona: [levels, third_person]\n"
			dir := filepath.Join(t.TempDir(), "run")
			if _, err := Run(context.Background(), load(t, src, 4), Options{Out: dir, NoCache: true}); err != nil {
				t.Fatal(err)
			}
			levels := func(name string) (map[string][]string, []string) {
				rows := readCSV(t, filepath.Join(dir, "results", name))
				head := rows[0]
				if len(head) < 2 {
					t.Fatalf("%s header %q", name, head)
				}
				by := map[string][]string{}
				for _, r := range rows[1:] {
					lv := r[len(r)-2:]
					if old, ok := by[r[0]]; ok && !slices.Equal(old, lv) {
						t.Fatalf("%s: run %s has levels %q and %q", name, r[0], old, lv)
					}
					by[r[0]] = slices.Clone(lv)
				}
				return by, head[len(head)-2:]
			}
			trials, trialCols := levels("tpp_trials.csv")
			decisions, decisionCols := levels("decisions.csv")
			if !slices.Equal(trialCols, []string{"wording", "persona"}) || !slices.Equal(decisionCols, trialCols) {
				t.Fatalf("factor columns: tpp_trials %q, decisions %q", trialCols, decisionCols)
			}
			if len(trials) != 4 {
				t.Errorf("%d runs in tpp_trials.csv, want 4 (2 x 2 levels)", len(trials))
			}
			for run, lv := range trials {
				if !slices.Equal(decisions[run], lv) || !strings.Contains(run, "."+lv[0]+"."+lv[1]+".") {
					t.Errorf("run %s: tpp_trials levels %q, decisions.csv %q", run, lv, decisions[run])
				}
			}
		})
	}
}
