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
// when there is nothing to say. The scenarios are those the study read from the library.
func (r *Runner) CurrencyNote() string {
	cur := r.exp.Population.Currency
	if cur == "" || strings.EqualFold(cur, "yuan") || r.scen == nil {
		return ""
	}
	var frames, scens []string
	for _, c := range r.cells {
		f := c.Frame
		if entry := fmt.Sprintf("%s (amount %g)", f.ID, f.Amount); f.Source == "builtin" && f.Amount != 0 && !slices.Contains(frames, entry) {
			frames = append(frames, entry)
		}
	}
	for _, id := range r.scen.Used() {
		if sc, _ := r.scen.Get(id); sc.Source == "builtin" && sc.UsesCurrency() {
			scens = append(scens, id)
		}
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
	if len(what) == 0 {
		return ""
	}
	return fmt.Sprintf("the population's currency is %s, but the amounts of %s are sized for yuan and are shown as they are: for amounts of the right size, use %s (docs/population.md, \"Currency\")",
		cur, strings.Join(what, " and "), strings.Join(fix, " and "))
}
