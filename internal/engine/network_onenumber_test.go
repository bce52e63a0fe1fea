package engine

import (
	"context"
	"fmt"
	htmlpkg "html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// On a sparse Erdos-Renyi graph some agents cannot be reached by any victim: they are their own
// group, and every (group, round, condition) number of the printed summary is the number of
// results/network_groups.csv and of the report's table.
func TestNetworkOneNumberPerLabel(t *testing.T) {
	exp, err := experiment.Parse([]byte(`name: s3er
study: network
seed: 3
replicates: 2
population: {source: sample, n: 60}
network:
  graph: {type: erdos_renyi, p: 0.03}
  rounds: 3
  scenario: volunteering
  activation: {fraction: 0.5}
conditions:
  - {name: control, policy: economic}
  - name: reward_inequity
    policy: economic
    inequity: {preset: reward, k: 3, from: 2}
backend: {provider: builtin}
`), "s3er.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := res.Summary(&sb); err != nil {
		t.Fatal(err)
	}
	summary := sb.String()
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary, "unreachable") || !strings.Contains(summary, "mean over agent x replicate pairs") {
		t.Fatalf("the summary has no unreachable group or no estimand:\n%s", summary)
	}
	// Summary lines: "group pairs r1 r2 r3 diff" then "control - - -".
	lines := strings.Split(summary, "\n")
	field := map[string]int{"willingness": 8, "unfairness": 9}
	recs := readCSV(t, filepath.Join(dir, "results", "network_groups.csv"))
	names := map[string]string{"victims": "victims", "distance_1": "distance_1", "distance_2": "distance_2", "distance_3plus": "distance_3plus", "unreachable": "unreachable"} // as the CSVs spell them
	checked := 0
	for _, f := range []string{"willingness", "unfairness"} {
		start := -1
		for i, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), "mean "+f) {
				start = i
			}
		}
		for _, rec := range recs[1:] {
			name, ok := names[rec[3]]
			if !ok {
				continue
			}
			round, _ := strconv.Atoi(rec[4])
			var sline, cline []string
			for i := start + 1; i < len(lines) && i < start+20; i++ {
				if strings.HasPrefix(strings.TrimSpace(lines[i]), name+" ") {
					sline = strings.Fields(strings.TrimPrefix(strings.TrimSpace(lines[i]), name))
					cline = strings.Fields(lines[i+1])
					break
				}
			}
			if sline == nil {
				t.Fatalf("summary has no %s line for %s", f, name)
			}
			for k, col := range []int{field[f], field[f] + 5} { // the run, its control (after share_affected, share_rule_state, control_valid_decisions)
				v, err := strconv.ParseFloat(rec[col], 64)
				want := "-"
				if err == nil {
					want = fmt.Sprintf("%.2f", v)
				}
				got := sline[round] // [agent x replicate pairs, r1, r2, r3, diff]
				cond := "reward_inequity"
				if k == 1 {
					got, cond = cline[round], "control" // ["control", r1, r2, r3]
				}
				if got != want {
					t.Errorf("%s %s round %d %s: summary %s, network_groups.csv %s", f, name, round, cond, got, want)
				}
				// The report's table row of this group and condition carries the same text.
				row := "<td>" + strings.ReplaceAll(name, "+", "&#43;") + "</td><td>" + cond + "</td>"
				i := strings.Index(string(html), row)
				if f == "unfairness" {
					i = strings.LastIndex(string(html), row)
				}
				if i < 0 {
					t.Fatalf("report has no row %s", row)
				}
				cells := strings.Split(string(html[i:i+strings.Index(string(html[i:]), "</tr>")]), "</td><td>")
				if cells[2+round] != want {
					t.Errorf("%s %s round %d %s: report %s, network_groups.csv %s", f, name, round, cond, cells[2+round], want)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("nothing checked")
	}
	checkTwinNumbers(t, summary, string(html), dir)
}

// checkTwinNumbers: every effect of network_effects.csv and every share of
// network_contagion.csv is the number the summary prints and the report's table shows.
func checkTwinNumbers(t *testing.T, summary, page, dir string) {
	t.Helper()
	cols := regexp.MustCompile(`\s{2,}`)
	// block returns the rows of the summary table whose header starts with head, split into cells.
	block := func(head string) (hdr []string, rows map[string][]string) {
		lines := strings.Split(summary, "\n")
		rows = map[string][]string{}
		for i, l := range lines {
			if !strings.HasPrefix(l, head) {
				continue
			}
			hdr = cols.Split(strings.TrimSpace(l), -1)
			for _, m := range lines[i+1:] {
				f := cols.Split(strings.TrimSpace(m), -1)
				if len(f) < 2 || strings.HasPrefix(m, "effect on") || strings.HasPrefix(m, "Affected") || strings.HasPrefix(m, "Mediation") {
					break
				}
				rows[f[0]] = f
			}
			break
		}
		return
	}
	// table returns the report table with the caption, rows by first cell.
	table := func(caption string) map[string][]string {
		i := strings.Index(page, "<caption>"+caption)
		if i < 0 {
			t.Fatalf("report has no table %q", caption)
		}
		end := i + strings.Index(page[i:], "</table>")
		rows := map[string][]string{}
		for _, tr := range strings.Split(page[i:end], "<tr>")[2:] {
			tr, _, _ = strings.Cut(tr, "</tr>")
			tr = strings.TrimSuffix(strings.TrimPrefix(tr, "<td>"), "</td>")
			cells := strings.Split(tr, "</td><td>")
			for k := range cells {
				cells[k] = htmlpkg.UnescapeString(cells[k])
			}
			rows[cells[0]] = cells
		}
		return rows
	}
	// The report glosses the split of distance 2 after its key.
	names := map[string]string{"victims": "victims", "distance_1": "distance_1", "distance_2": "distance_2", "distance_3plus": "distance_3plus", "unreachable": "unreachable", "all": "all",
		"distance_2_changed": "distance_2_changed: distance 2, a distance-1 neighbour affected the round before", "distance_2_unchanged": "distance_2_unchanged: distance 2, none affected the round before"}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("bad number %q", s)
		}
		return v
	}
	checked := 0
	for _, outcome := range []string{"willingness", "unfairness"} {
		hdr, rows := block("effect on " + outcome)
		rep := table("Effect on " + outcome + " against the twin")
		for _, rec := range readCSV(t, filepath.Join(dir, "results", "network_effects.csv"))[1:] {
			if rec[4] != outcome {
				continue
			}
			want := fmt.Sprintf("%+.2f [%+.2f, %+.2f]", num(rec[5]), num(rec[6]), num(rec[7]))
			col := slices.Index(hdr, "r"+rec[3])
			if col < 0 {
				continue // a round the summary does not show
			}
			name, short := names[rec[2]], rec[2] // the summary names every group by its key
			if got := rows[short]; len(got) <= col || got[col] != want {
				t.Errorf("effect on %s, %s, round %s: summary %q, network_effects.csv %q", outcome, name, rec[3], got, want)
			}
			if got := rep[name]; len(got) <= col || got[col] != want {
				t.Errorf("effect on %s, %s, round %s: report %q, network_effects.csv %q", outcome, name, rec[3], got, want)
			}
			checked++
		}
	}
	hdr, rows := block("affected")
	rep := table("Affected share (placebo)")
	for _, rec := range readCSV(t, filepath.Join(dir, "results", "network_contagion.csv"))[1:] {
		col := slices.Index(hdr, "r"+rec[3])
		if col < 0 {
			continue
		}
		pc := func(s string) string {
			if s == "" {
				return "-"
			}
			return fmt.Sprintf("%.1f%%", 100*num(s))
		}
		want := pc(rec[4]) + " (" + pc(rec[5]) + ")"
		if rec[6] != "" {
			want += fmt.Sprintf(" p=%.3f", num(rec[6]))
		}
		name := names[rec[2]]
		if got := rows[name]; len(got) <= col || got[col] != want {
			t.Errorf("affected, %s, round %s: summary %q, network_contagion.csv %q", name, rec[3], got, want)
		}
		if got := rep[name]; len(got) <= col || got[col] != want {
			t.Errorf("affected, %s, round %s: report %q, network_contagion.csv %q", name, rec[3], got, want)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no effect or contagion number checked")
	}
}
