package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/experiment"
)

// {{.currency}} is the population file's currency: taken from the file when its personas
// share one, refused when population.currency says another, and required to be given when the
// file mixes currencies. Sampled and prosim104 populations keep yuan (another currency is
// refused by the experiment's check, internal/experiment).
func TestFileCurrency(t *testing.T) {
	dir := t.TempDir()
	const head = "id,gender,age,marital,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion\n"
	row := func(id, cur string) string {
		return id + ",female,33,married,52000," + cur + ",college,nurse,3,3,3,3,3,3,3,3,3\n"
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("eur.csv", head+row("a", "EUR")+row("b", "EUR"))
	write("mixed.csv", head+row("a", "EUR")+row("b", "USD"))
	write("pad.csv", head+row("a", " EUR ")+row("b", "EUR"))
	for _, c := range []struct {
		population, want, err string
	}{
		{"{source: file, file: eur.csv}", "EUR", ""},
		{"{source: file, file: eur.csv, currency: eur}", "eur", ""},
		{"{source: file, file: eur.csv, currency: yuan}", "", "x.yaml:4:53: field population.currency: yuan, but every persona in"},
		{"{source: file, file: mixed.csv}", "", "x.yaml:4:34: field population.file: " + filepath.Join(dir, "mixed.csv") + " mixes currencies, EUR (first persona id a), USD (first persona id b)"},
		{"{source: file, file: mixed.csv, currency: EUR}", "EUR", ""},
		{"{source: sample, n: 3}", "yuan", ""},
		{"{source: prosim104}", "yuan", ""},
		// population.currency is kept trimmed, as a file's is (it was kept as written: " EUR "
		// was refused beside a file in EUR, and " yuan" for a sample).
		{`{source: file, file: eur.csv, currency: " EUR "}`, "EUR", ""},
		{`{source: file, file: pad.csv, currency: "EUR "}`, "EUR", ""},
		{"{source: file, file: pad.csv}", "EUR", ""},
		{`{source: file, file: mixed.csv, currency: " USD"}`, "USD", ""},
		{`{source: sample, n: 3, currency: " yuan "}`, "yuan", ""},
	} {
		p := write("x.yaml", "name: x\nstudy: vignettes\nseed: 1\npopulation: "+c.population+
			"\nscenarios: [donating]\nconditions: [{name: none, policy: none}]\nbackends: [{provider: builtin}]\n")
		exp, err := experiment.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Prepare(exp, Options{Offline: true})
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.population, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.population, err)
			continue
		}
		r.close()
		if exp.Population.Currency != c.want {
			t.Errorf("%s: currency %q, want %q", c.population, exp.Population.Currency, c.want)
		}
	}
}

// With a population in another currency, validate and run note the built-in frames with an
// amount and the built-in scenarios naming a sum that the design shows (QA7 repro-6): their
// amounts are sized for yuan. Frames without an amount, scenarios naming no sum and the
// user's own files are not named; nor is anything in yuan.
func TestCurrencyNote(t *testing.T) {
	dir := t.TempDir()
	const head = "id,gender,age,marital,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion\n"
	var people strings.Builder
	people.WriteString(head)
	for i := range 6 {
		fmt.Fprintf(&people, "%d,female,33,married,%d,USD,college,nurse,3,3,3,3,3,3,3,3,3\n", i+1, 20000+1000*i)
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("usd.csv", people.String())
	write("eur.csv", strings.ReplaceAll(people.String(), ",USD,", ",EUR,"))
	write("mine.yaml", "id: mine\nchannel: economic\namount: 20\ndefault: You get {{.amount}} {{.currency}}.\n")
	const usd = "{source: file, file: usd.csv}"
	const eur = "{source: file, file: eur.csv}"
	for _, c := range []struct {
		name, population, rest string
		want                   []string // in the note, in order; none: no note
		not                    []string
	}{
		{"vignettes", usd, "study: vignettes\nscenarios: [volunteering, donating]\nconditions: [{name: a, policy: enforce}, {name: b, policy: economic}, {name: c, policy: moral}]\n",
			[]string{"currency is USD", "built-in policy frames enforce (amount 1000), economic (amount 100)", "built-in scenario donating", "policy_files", "scenario_files"},
			[]string{"moral", "volunteering"}},
		{"own frame", usd, "study: vignettes\nscenarios: [volunteering]\npolicy_files: [mine.yaml]\nconditions: [{name: a, policy: mine}, {name: b, policy: moral}]\n", nil, nil},
		{"yuan", "{source: sample, n: 6}", "study: vignettes\nscenarios: [donating]\nconditions: [{name: a, policy: enforce}]\n", nil, nil},
		// Study 3 names its scenario in its block, not in scenarios:.
		{"network", usd, "study: network\nnetwork: {graph: {type: erdos_renyi, p: 0.5}, rounds: 1, scenario: donating}\nconditions: [{name: a, policy: moral}]\n",
			[]string{"built-in scenario donating", "scenario_files"}, []string{"policy frame", "policy_files"}},
		// The TPP game's amounts are dollars whatever the currency (qa11: "$30" to EUR personas,
		// unnoted): named for any currency but USD and yuan (whose prompts keep their note-less
		// output).
		{"tpp", eur, "study: tpp\nconditions: [{name: a, policy: none}]\n",
			[]string{"currency is EUR, but the built-in scenario tpp names its amounts in dollars (\"$30\")", "Currency"}, []string{"yuan", "scenario_files"}},
		{"tpp with a frame", eur, "study: tpp\nconditions: [{name: a, policy: enforce}]\n",
			[]string{"built-in policy frame enforce (amount 1000)", "policy_files", "; the built-in scenario tpp names its amounts in dollars"}, nil},
		{"tpp usd", usd, "study: tpp\nconditions: [{name: a, policy: none}]\n", nil, nil},
		{"tpp yuan", "{source: sample, n: 6}", "study: tpp\nconditions: [{name: a, policy: none}]\n", nil, nil},
	} {
		p := write("x.yaml", "name: x\nseed: 1\npopulation: "+c.population+"\n"+c.rest+"backends: [{provider: builtin}]\n")
		exp, err := experiment.Load(p)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		r, err := Prepare(exp, Options{Offline: true})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		note := r.CurrencyNote()
		r.close()
		if len(c.want) == 0 && note != "" {
			t.Errorf("%s: note %q, want none", c.name, note)
		}
		rest := note
		for _, w := range c.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s: note %q, want %q (in this order)", c.name, note, w)
				break
			}
			rest = rest[i+len(w):]
		}
		for _, w := range c.not {
			if strings.Contains(note, w) {
				t.Errorf("%s: note %q names %q", c.name, note, w)
			}
		}
	}
}
