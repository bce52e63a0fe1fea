package experiment

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Names that land in a results CSV's key columns are refused when R's read.csv or pandas'
// read_csv would read them as a missing value (QA9 repro-10: conditions NA and None merged
// into missing values in pandas).
func TestNamesReadAsMissingAreRefused(t *testing.T) {
	src := "name: vigna\nstudy: vignettes\nseed: 7\npopulation: {source: sample, n: 6}\nscenarios: [helping]\n" +
		"conditions:\n  - {name: NA, policy: none}\n  - {name: None, policy: moral}\n" +
		"backends:\n  - {provider: builtin}\n  - {provider: openai, model: gpt-4o-mini, label: NaN}\n"
	_, err := Parse([]byte(src), "vigna.yaml")
	const why = "R's read.csv and pandas' read_csv read it as a missing value in the results CSVs: choose another name"
	wantLines(t, err,
		`vigna.yaml: 3 problems:`,
		`  vigna.yaml:7:12: field conditions[0].name: "NA": `+why,
		`  vigna.yaml:8:12: field conditions[1].name: "None": `+why,
		`  vigna.yaml:11:51: field backends[1].label: "NaN": `+why,
	)
}

// population.currency that reads as missing is refused at its line (qa11): "NA" would be
// shown in texts ("a stipend of 100 NA"), and an empty one replaced by yuan without a word.
// A file's own currency does not add its disagreement with it.
func TestCurrencyReadAsMissingIsRefused(t *testing.T) {
	const why = ` reads as a missing value (as R's read.csv and pandas' read_csv read it): name the currency texts show ({{.currency}}), e.g. EUR, or leave population.currency out`
	for _, c := range []struct{ population, want string }{
		{`{source: sample, n: 6, currency: NA}`, `"NA"`},
		{`{source: prosim104, currency: ""}`, `""`},
		{`{source: file, file: people.csv, currency: None}`, `"None"`},
		{`{source: sample, n: 6, currency: " NA "}`, `" NA "`}, // trimmed, as a population file's is
		{`{source: file, file: people.csv, currency: "  "}`, `"  "`},
	} {
		src := "name: vigna\nstudy: vignettes\nseed: 7\npopulation: " + c.population + "\nscenarios: [helping]\nbackends: [{provider: builtin}]\n"
		dir := t.TempDir()
		people := filepath.Join(dir, "people.csv")
		if err := os.WriteFile(people, []byte("id,gender,age,marital,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion\n1,female,33,married,20000,EUR,college,nurse,3,3,3,3,3,3,3,3,3\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Parse([]byte(src), filepath.Join(dir, "vigna.yaml"))
		if err == nil || strings.Contains(err.Error(), "problems:") || !strings.Contains(err.Error(), "vigna.yaml:4:") || !strings.HasSuffix(err.Error(), "field population.currency: "+c.want+why) {
			t.Errorf("%s: got %v", c.population, err)
		}
	}
}
