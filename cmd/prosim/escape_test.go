package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// User text (scenario text, persona fields, the experiment's description) is escaped in the
// report: a script in a custom scenario never reaches report.html raw.
func TestReportEscapesUserText(t *testing.T) {
	src := t.TempDir()
	const evil = `<script>alert(1)</script>`
	files := map[string]string{
		"scen.yaml": `id: blood
kind: vignette
title: "Blood ` + evil + `"
text: "A blood drive ` + evil + ` is at your workplace today."
question: How likely are you to donate blood?
response:
  fields:
    - {name: willingness, kind: likert, min: 1, max: 7, low_label: no, high_label: yes}
model: {base: 4.0, cost: 0.4, money: 0, visibility: 0.5, need: 0.8}
`,
		"people.csv": `id,gender,age,age_bracket,marital,income_quintile,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion
1,male,50,50-54,married,4,50220,yuan,junior_high,"` + evil + `",3.23,2.99,2.75,2.78,3.89,2.22,2.51,3.84,2.75
2,female,67,65-69,married,1,9215,yuan,primary,retired,3.44,2.81,3.67,2.82,4.36,2.89,2.8,3.51,3.14
`,
		"exp.yaml": `name: escape
description: "Does it escape? ` + evil + `"
study: vignettes
seed: 3
population: {source: file, file: people.csv}
scenario_files: [scen.yaml]
scenarios: [blood]
conditions: [{name: none, policy: none}, {name: moral, policy: moral}]
cache: "off"
`,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "run")
	if out, err := prosim(t, "run", filepath.Join(src, "exp.yaml"), "--out", dir, "-q"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(string(html)), "<script") {
		t.Error("report.html contains a raw <script> from user text")
	}
	if !strings.Contains(string(html), "Does it escape? &lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the description is not shown, escaped")
	}
	// A comparison lists its run directories as code, not escaped markup; one run compared
	// with itself is numbered, not named by path twice.
	cmp := filepath.Join(t.TempDir(), "cmp.html")
	if out, err := prosim(t, "report", dir, dir, "--out", cmp); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	b, _ := os.ReadFile(cmp)
	if want := "<code>run</code>, <code>run (2)</code>"; !strings.Contains(string(b), want) || strings.Contains(string(b), "&lt;/code&gt;") {
		t.Errorf("comparison report does not list the run directories as %q", want)
	}
}
