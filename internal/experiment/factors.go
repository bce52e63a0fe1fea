package experiment

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/prosim/prosim/internal/yamlx"
)

// Factors are prompt-design factors crossed with the conditions: every combination of their
// levels is its own cell of the design (backend x condition x levels x replicate), and a
// factor's level is a column of results/decisions.csv. Which factors a study can vary is its
// own check (study.Factored); the engine rejects the others at their line.
type Factors struct {
	// Wording lists scenario wordings: "original" (the scenario's text and question) or the id
	// of one of its variants (built-in vignettes have p1, p2 and p3; scenario YAML adds
	// `variants:`). Every scenario asked must have every wording listed.
	Wording []string `yaml:"wording,omitempty"`
	// Scale lists rating-scale directions: "ascending" (1 = the low label, e.g. not at all
	// willing: the canonical scale) or "descending" (1 = the high label). Replies to a
	// descending scale are recoded to the canonical scale; the raw rating is kept too.
	Scale []string `yaml:"scale,omitempty"`
	// Persona lists persona renderings: "levels" (second person, trait levels in words: the
	// default rendering), "scores" (second person, levels and scores on the 1-5 scale),
	// "averages" (levels, scores and the population's averages) or "third_person" (levels in
	// words, written about the person in the third person).
	Persona []string `yaml:"persona,omitempty"`
	// System lists system lines: "plain" (persona and role) or "forget_ai" (the same, then
	// "Forget that you are an AI ...").
	System []string `yaml:"system,omitempty"`
	// OptionOrder, Temperature and Prompt are declared so that they are a located error
	// ("not implemented yet"), never silently ignored.
	OptionOrder []string  `yaml:"option_order,omitempty"`
	Temperature []float64 `yaml:"temperature,omitempty"`
	Prompt      []string  `yaml:"prompt,omitempty"`
}

// Factor is one crossed factor: its name (the decisions.csv column) and its levels.
type Factor struct {
	Name   string
	Levels []string
}

// FactorLevels are the levels a factor may take ("" for factors whose levels are open, such
// as wording, whose levels are the scenarios' variant ids).
var FactorLevels = map[string][]string{
	"scale":   {"ascending", "descending"},
	"persona": {"levels", "scores", "averages", "third_person"},
	"system":  {"plain", "forget_ai"},
}

var levelRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// List is the factors given, in a fixed order (wording, scale, persona, system): the order
// of their columns and of the design.
func (f Factors) List() []Factor {
	var out []Factor
	for _, x := range []Factor{{"wording", f.Wording}, {"scale", f.Scale}, {"persona", f.Persona}, {"system", f.System}} {
		if len(x.Levels) > 0 {
			out = append(out, x)
		}
	}
	return out
}

// Given reports whether any factor is crossed.
func (f Factors) Given() bool { return len(f.List()) > 0 }

func (f *Factors) check(doc *yamlx.Doc) error {
	notYet := []struct {
		name string
		n    int
		why  string
	}{
		{"option_order", len(f.OptionOrder), "no built-in study asks a choice whose options could be reordered with its recoding yet"},
		{"temperature", len(f.Temperature), "set temperature per backend (backends[i].temperature) and list the backend twice with two labels"},
		{"prompt", len(f.Prompt), "use prompt.mode: joint or separate in two runs"},
	}
	for _, x := range notYet {
		if x.n > 0 {
			return doc.Errorf("factors."+x.name, "the %s factor is not implemented yet (%s)", x.name, x.why)
		}
	}
	for _, x := range f.List() {
		p := "factors." + x.Name
		if len(x.Levels) < 2 {
			return doc.Errorf(p, "a factor needs at least two levels to compare (got %d)", len(x.Levels))
		}
		for i, l := range x.Levels {
			at := fmt.Sprintf("%s[%d]", p, i)
			if !levelRE.MatchString(l) {
				return doc.Errorf(at, "%q: a level is lower case letters, digits, '-' or '_', starting with a letter", l)
			}
			if want, ok := FactorLevels[x.Name]; ok && !slices.Contains(want, l) {
				return doc.Errorf(at, "unknown %s level %q (want %s)", x.Name, l, quoteList(want))
			}
			if j := slices.Index(x.Levels[:i], l); j >= 0 {
				return doc.Errorf(at, "level %q is listed twice (also %s[%d])", l, p, j)
			}
		}
	}
	return nil
}

func quoteList(xs []string) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += ", "
		}
		s += strconv.Quote(x)
	}
	return s
}
