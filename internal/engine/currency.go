package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prosim/prosim/internal/plural"
)

// CurrencyNote is a note for a population whose currency is not yuan that the run shows it
// built-in policy frames with an amount (a fine of 1000, a stipend of 100) or built-in
// scenarios naming a sum in {{.currency}} ("a few hundred"): their amounts are sized for yuan
// (docs/population.md "Currency"). It is documented behaviour, so a note, not an error; ""
// when there is nothing to say. The scenarios are those the study read from the library. A
// built-in scenario naming dollars (the TPP game's) is named too, for any currency but USD.
func (r *Runner) CurrencyNote() string {
	cur := r.exp.Population.Currency
	if cur == "" || strings.EqualFold(cur, "yuan") || r.scen == nil {
		return ""
	}
	var frames, scens, dollars []string
	for _, c := range r.cells {
		f := c.Frame
		if entry := fmt.Sprintf("%s (amount %g)", f.ID, f.Amount); f.Source == "builtin" && f.Amount != 0 && !slices.Contains(frames, entry) {
			frames = append(frames, entry)
		}
	}
	for _, id := range r.scen.Used() {
		sc, _ := r.scen.Get(id)
		if sc.Source == "builtin" && sc.UsesCurrency() {
			scens = append(scens, id)
		}
		if sc.Source == "builtin" && sc.UsesDollars() && !strings.EqualFold(cur, "USD") {
			dollars = append(dollars, id)
		}
	}
	// The TPP game's amounts are in dollars whatever the currency, as in the human study it is
	// compared with (game_tpp.yaml): said after the yuan-sized ones.
	var also string
	if len(dollars) > 0 {
		verb := "names its"
		if len(dollars) > 1 {
			verb = "name their"
		}
		also = fmt.Sprintf("%s %s %s amounts in dollars (\"$30\") whatever the population's currency, as the human study it is compared with did",
			plural.Noun(len(dollars), "built-in scenario"), strings.Join(dollars, ", "), verb)
	}
	var what, fix []string
	if len(frames) > 0 {
		what = append(what, plural.Noun(len(frames), "built-in policy frame")+" "+strings.Join(frames, ", "))
		fix = append(fix, "frames of your own with an amount for "+cur+" (policy_files)")
	}
	if len(scens) > 0 {
		what = append(what, plural.Noun(len(scens), "built-in scenario")+" "+strings.Join(scens, ", ")+" (a sum named in its text)")
		fix = append(fix, "scenarios of your own (scenario_files)")
	}
	switch {
	case len(what) == 0 && also == "":
		return ""
	case len(what) == 0:
		return fmt.Sprintf("the population's currency is %s, but the %s (docs/population.md, \"Currency\")", cur, also)
	}
	note := fmt.Sprintf("the population's currency is %s, but the amounts of %s are sized for yuan and are shown as they are: for amounts of the right size, use %s",
		cur, strings.Join(what, " and "), strings.Join(fix, " and "))
	if also != "" {
		note += "; the " + also
	}
	return note + ` (docs/population.md, "Currency")`
}
