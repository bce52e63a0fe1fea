package experiment

import (
	"fmt"
	"strings"

	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/yamlx"
)

// FileCurrency sets the currency {{.currency}} names in scenario and policy texts for a
// population read from a file: the file's, when every persona shares one; population.currency
// when given, which must then agree with a file of one currency (else agents earning EUR
// would be offered "100 yuan"). A file of several currencies needs population.currency.
// A run directory's config (recorded) keeps the currency the run used: not called for it.
// Sampled and prosim104 populations are in yuan (Population.check). Called by the run, which
// reads the file, and by Load when it reads the file to report its problems with others.
func (e *Experiment) FileCurrency(doc *yamlx.Doc, agents []persona.Persona) error {
	p := &e.Population
	if p.Source != "file" || doc == nil || len(agents) == 0 {
		return nil
	}
	var given string
	found, err := doc.DecodeAt("population.currency", &given)
	if err != nil {
		return err
	}
	given = persona.TrimCurrency(given) // as Population.check keeps it
	// Each currency of the file, in order of first use, with its first persona (the file's id).
	var curs []string
	first := map[string]string{}
	for _, a := range agents {
		k := strings.ToLower(a.Currency)
		if _, ok := first[k]; !ok {
			first[k] = a.SourceID
			if a.SourceID == "" {
				first[k] = fmt.Sprint(a.ID)
			}
			curs = append(curs, a.Currency)
		}
	}
	switch {
	case found && persona.CurrencyMissing(given):
		// refused by Population.check
	case found && len(curs) == 1 && !strings.EqualFold(given, curs[0]):
		return doc.Errorf("population.currency", "%s, but every persona in %s has currency %s: texts would name amounts in %s to agents earning %s (leave population.currency out to use the file's)",
			given, p.File, curs[0], given, curs[0])
	case !found && len(curs) > 1:
		var each []string
		for _, c := range curs {
			each = append(each, fmt.Sprintf("%s (first persona id %s)", c, first[strings.ToLower(c)]))
		}
		return doc.Errorf("population.file", "%s mixes currencies, %s: set population.currency to the one scenario and policy texts name ({{.currency}})",
			p.File, strings.Join(each, ", "))
	case !found:
		p.Currency = curs[0]
	}
	return nil
}
