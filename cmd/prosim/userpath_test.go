package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// userPathFiles are a researcher's own experiment: a custom vignette, two custom policies and
// a 20-person CSV with text ids and without the computed columns (age_bracket,
// income_quintile), written as a user would (any case, an education synonym).
func userPathFiles() map[string]string {
	var people strings.Builder
	people.WriteString("id,gender,age,marital,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion\n")
	edus := []string{"primary", "junior_high", "senior_high", "college", "Postgraduate"}
	for i := 1; i <= 20; i++ {
		gender := []string{"female", "Male"}[i%2]
		age := 20 + 3*i
		income := 6000 + 5000*i
		trait := func(k int) string { return strconv.FormatFloat(1.5+float64((i*k)%30)/10, 'f', -1, 64) }
		fmt.Fprintf(&people, "p%02d,%s,%d,married,%d,yuan,%s,teacher,%s,%s,%s,%s,%s,%s,%s,%s,%s\n",
			i, gender, age, income, edus[i%5], trait(1), trait(2), trait(3), trait(5), trait(7), trait(11), trait(13), trait(17), trait(19))
	}
	return map[string]string{
		"blood.yaml": `id: blood_drive
title: Giving blood
kind: vignette
text: >-
  Your workplace is holding a blood drive this afternoon. Giving blood takes about
  {{.minutes}} minutes, and you may feel tired for the rest of the day.
question: How willing would you be to give blood this afternoon?
params: {minutes: 45}
response:
  fields:
    - {name: willingness, kind: likert, min: 1, max: 7, low_label: not at all willing, high_label: extremely willing}
model: {base: 4.0, cost: 0.4, money: 0, visibility: 0.5, need: 0.8}
`,
		"policies.yaml": `- id: paid_leave
  channel: economic
  amount: 200
  default: Your employer now gives donors the afternoon off and a {{.amount}} {{.currency}} meal allowance.
- id: pledge
  channel: moral
  default: Your team has pledged that giving blood is what decent colleagues do.
`,
		"people.csv": people.String(),
		"exp.yaml": `name: mine
study: vignettes
seed: 7
replicates: 2
population: {source: file, file: people.csv}
scenario_files: [blood.yaml]
policy_files: [policies.yaml]
scenarios: [blood_drive]
conditions:
  - {name: control, policy: none}
  - {name: leave, policy: paid_leave}
  - {name: pledge, policy: pledge}
cache: "off"
`,
	}
}

// TestUserPath plays issue 16's user: their own experiment, run from its own folder; the run
// folder moved elsewhere still reports and resumes (a resume of deleted decisions gives the
// same decisions.csv); contrasts.csv equals a hand computation from decisions.csv; agents.csv
// has the file's text ids as source_id with computed columns and joins decisions.csv on
// agent_id.
func TestUserPath(t *testing.T) {
	src := t.TempDir()
	files := userPathFiles()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(src)
	if out, err := prosim(t, "run", "exp.yaml", "--out", "run1", "-q"); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	moved := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Rename(filepath.Join(src, "run1"), moved); err != nil {
		t.Fatal(err)
	}
	for name := range files {
		os.Remove(filepath.Join(src, name))
	}
	res := func(name string) string { return filepath.Join(moved, "results", name) }
	decisions := readCSVFile(t, res("decisions.csv"))
	before, err := os.ReadFile(res("decisions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(decisions)-1 != 20*3*2 {
		t.Fatalf("decisions.csv has %d rows, want 20 agents x 3 conditions x 2 replicates", len(decisions)-1)
	}

	// Resume after losing a third of the decisions: they are asked again, with the same answers.
	db, err := sql.Open("sqlite", filepath.Join(moved, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := db.Exec(`DELETE FROM decisions WHERE agent_id % 3 = 0`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		t.Fatal("deleted no decisions")
	}
	db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	db.Close()
	if out, err := prosim(t, "resume", moved, "-q"); err != nil {
		t.Fatalf("resume of the moved run: %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(res("decisions.csv")); string(after) != string(before) {
		t.Error("decisions.csv after the resume differs from the run's")
	}
	os.Remove(filepath.Join(moved, "report.html"))
	if out, err := prosim(t, "report", moved); err != nil {
		t.Fatalf("report of the moved run: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(moved, "report.html")); err != nil {
		t.Error(err)
	}
	// Figures for a paper: each as SVG and PDF; a comparison of the run with itself draws each
	// shared figure once, both runs' series in it.
	figs := filepath.Join(t.TempDir(), "figs")
	if out, err := prosim(t, "report", moved, "--figures", figs); err != nil || !strings.Contains(out, "figure(s) (SVG and PDF)") {
		t.Fatalf("report --figures: %v\n%s", err, out)
	}
	for _, name := range []string{"figure-01.svg", "figure-01.pdf", "figure-02.pdf"} {
		b, err := os.ReadFile(filepath.Join(figs, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".pdf") && (!bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.Contains(b, []byte("/Count 1"))) {
			t.Errorf("%s is not a one-page PDF", name)
		}
	}
	twin := filepath.Join(t.TempDir(), "twin")
	if err := os.CopyFS(twin, os.DirFS(moved)); err != nil {
		t.Fatal(err)
	}
	cmp := filepath.Join(t.TempDir(), "cmp.html")
	if out, err := prosim(t, "report", moved, twin, "--out", cmp); err != nil {
		t.Fatalf("comparison report: %v\n%s", err, out)
	}
	page, _ := os.ReadFile(cmp)
	if !strings.Contains(string(page), "Figures compared across runs") || !strings.Contains(string(page), "drawn with the other runs' in Figure 1") ||
		!strings.Contains(string(page), "elsewhere: ") || !strings.Contains(string(page), "twin: ") {
		t.Error("the comparison report does not overlay the runs' figures named by run")
	}

	// agents.csv: the file's people, text ids kept, computed columns filled, joined on agent_id.
	agents := checkJoin(t, moved, 20)
	col := func(table [][]string, name string) int {
		i := slices.Index(table[0], name)
		if i < 0 {
			t.Fatalf("no column %s in %v", name, table[0])
		}
		return i
	}
	for i, row := range agents[1:] {
		want := []string{strconv.Itoa(i + 1), fmt.Sprintf("p%02d", i+1)}
		if got := []string{row[0], row[col(agents, "source_id")]}; !slices.Equal(got, want) {
			t.Errorf("agents.csv row %d: agent_id, source_id = %v, want %v", i+1, got, want)
		}
	}
	// p01: 23 years old, 11000 yuan (nearest 2023 quintile mean: 9215, the lowest);
	// p05: 35, 31000 yuan (32195: the middle); p20: 80, 106000 (95055: the highest), postgraduate.
	for _, c := range []struct {
		row                    int
		bracket, quintile, edu string
	}{{1, "20-24", "1", "junior_high"}, {5, "35-39", "3", "primary"}, {20, "80-84", "5", "primary"}, {4, "30-34", "2", "college"}, {9, "45-49", "4", "college"}} {
		row := agents[c.row]
		got := [3]string{row[col(agents, "age_bracket")], row[col(agents, "income_quintile")], row[col(agents, "education")]}
		if want := [3]string{c.bracket, c.quintile, c.edu}; got != want {
			t.Errorf("agents.csv p%02d: age_bracket, income_quintile, education = %v, want %v", c.row, got, want)
		}
	}

	// contrasts.csv against a hand computation from decisions.csv: per agent the mean of its
	// replicates in each condition, the difference from control, then a paired t over agents.
	ratings := map[string]map[string][]float64{} // condition -> agent -> values
	cond, agent, val, valid := col(decisions, "condition"), col(decisions, "agent_id"), col(decisions, "value"), col(decisions, "valid")
	for _, row := range decisions[1:] {
		if row[valid] != "1" {
			continue
		}
		v, err := strconv.ParseFloat(row[val], 64)
		if err != nil {
			t.Fatal(err)
		}
		if ratings[row[cond]] == nil {
			ratings[row[cond]] = map[string][]float64{}
		}
		ratings[row[cond]][row[agent]] = append(ratings[row[cond]][row[agent]], v)
	}
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	contrasts := readCSVFile(t, res("contrasts.csv"))
	if len(contrasts) != 3 {
		t.Fatalf("contrasts.csv: %d rows, want leave and pledge against control", len(contrasts)-1)
	}
	ps := map[string]float64{}
	for _, row := range contrasts[1:] {
		c := row[col(contrasts, "condition")]
		if row[col(contrasts, "against")] != "control" || row[col(contrasts, "scenario")] != "blood_drive" {
			t.Errorf("contrast row %v", row)
		}
		var d []float64
		for a, xs := range ratings[c] {
			if ys, ok := ratings["control"][a]; ok {
				d = append(d, mean(xs)-mean(ys))
			}
		}
		n := float64(len(d))
		m := mean(d)
		ss := 0.0
		for _, x := range d {
			ss += (x - m) * (x - m)
		}
		sd := math.Sqrt(ss / (n - 1))
		se := sd / math.Sqrt(n)
		q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975)
		tdist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}
		pv := 2 * tdist.CDF(-math.Abs(m/se))
		ps[c] = pv
		want := map[string]float64{"mean_diff": m, "sd_diff": sd, "d_z": m / sd, "t": m / se, "df": n - 1, "p": pv}
		if len(d) != 20 || m == 0 {
			t.Fatalf("%s: %d paired agents, mean difference %v: the hand computation is degenerate", c, len(d), m)
		}
		for name, w := range want {
			got, err := strconv.ParseFloat(row[col(contrasts, name)], 64)
			if err != nil || math.Abs(got-w) > 1e-9*math.Max(1, math.Abs(w)) {
				t.Errorf("%s minus control: %s = %s, hand computation %v", c, name, row[col(contrasts, name)], w)
			}
		}
		// The CI is a seeded bootstrap over the agents' differences: within them, around the
		// mean, and for 20 agents about as wide as the t interval m ± q·se.
		lo, _ := strconv.ParseFloat(row[col(contrasts, "ci_low")], 64)
		hi, _ := strconv.ParseFloat(row[col(contrasts, "ci_high")], 64)
		if !(slices.Min(d) <= lo && lo <= m && m <= hi && hi <= slices.Max(d)) || math.Abs((hi-lo)/(2*q*se)-1) > 0.25 {
			t.Errorf("%s minus control: CI [%v, %v], want within the differences [%v, %v] around %v and about t's width %v",
				c, lo, hi, slices.Min(d), slices.Max(d), m, 2*q*se)
		}
	}
	// Holm over the two contrasts: the smaller p times 2, the larger times 1 (at least the first).
	lo, hi := min(ps["leave"], ps["pledge"]), max(ps["leave"], ps["pledge"])
	holm := map[float64]float64{lo: math.Min(1, 2*lo), hi: math.Min(1, math.Max(2*lo, hi))}
	for _, row := range contrasts[1:] {
		c := row[col(contrasts, "condition")]
		got, _ := strconv.ParseFloat(row[col(contrasts, "p_holm")], 64)
		if w := holm[ps[c]]; math.Abs(got-w) > 1e-9 {
			t.Errorf("%s: p_holm %s, hand computation %v", c, row[col(contrasts, "p_holm")], w)
		}
	}
}
