package engine

import (
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
