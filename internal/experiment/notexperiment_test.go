package experiment

import (
	"strings"
	"testing"
)

// A population file given where an experiment is expected says so in one line; it was
// "expected a mapping ..., got a string" quoting the whole file (QA14 F4: 1 MB of output).
// A .json experiment (an object) is read as an experiment.
func TestPopulationFileGivenAsExperiment(t *testing.T) {
	csv := "id,gender,age\n" + strings.Repeat("1,male,30\n", 100000)
	for _, c := range []struct{ name, src string }{
		{"people.csv", csv},
		{"dir/people.TSV", strings.ReplaceAll(csv, ",", "\t")},
		{"people.json", `[{"id": 1, "gender": "male"}]`},
		{"people.jsonl", "{\"id\": 1}\n{\"id\": 2}\n"},
		{"people.csv", `"id","gender"` + "\n" + `"1","male"` + "\n"}, // not YAML at all
	} {
		_, err := Parse([]byte(c.src), c.name)
		base := c.name[strings.LastIndexByte(c.name, '/')+1:]
		want := c.name + ": this is not an experiment file (a YAML mapping of fields is expected); a population file goes in an experiment's population: {source: file, file: " + base + "}"
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %.300v\nwant %s", c.name, err, want)
		}
	}
	_, err := Parse([]byte(`{"name": "a", "study": "vignettes", "replicatse": 1}`), "exp.json")
	if err == nil || !strings.Contains(err.Error(), "replicatse") {
		t.Errorf("a JSON experiment: %v", err)
	}
}
