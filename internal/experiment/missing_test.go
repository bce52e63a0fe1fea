package experiment

import "testing"

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
