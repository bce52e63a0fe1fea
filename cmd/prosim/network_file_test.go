package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A network study over a population read from a file: the graph takes the file's size when
// network.graph.n is left out (it was taken as 0 nodes, and every such run failed).
func TestNetworkOverFilePopulation(t *testing.T) {
	src := t.TempDir()
	people := "id,gender,age,age_bracket,marital,income_quintile,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion\n"
	for i := 1; i <= 6; i++ {
		people += strings.Replace("I,female,54,50-54,widowed,2,20442,yuan,senior_high,nurse,2.99,2.94,3.08,2.71,3.88,2.82,3.44,3.65,2.95\n", "I", string(rune('0'+i)), 1)
	}
	exp := `name: filenet
study: network
seed: 4
population: {source: file, file: people.csv}
network:
  graph: {type: watts_strogatz, k: 2, p: 0}
  rounds: 3
  scenario: volunteering
conditions:
  - {name: control, policy: economic}
  - name: unfair
    policy: economic
    inequity: {preset: reward, k: 1, from: 2}
`
	for name, data := range map[string]string{"people.csv": people, "exp.yaml": exp} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := prosim(t, "run", filepath.Join(src, "exp.yaml"), "--out", filepath.Join(t.TempDir(), "run"), "-q")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "N=6") {
		t.Errorf("the graph should have the population's 6 nodes:\n%s", out)
	}
}
