package experiment

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/prosim/prosim/internal/yamlx"
)

// Factors are prompt-design factors crossed with the conditions: every combination of their
// levels is its own cell of the design (backend x condition x levels x replicate), and a
// factor's level is a column of results/decisions.csv. Which factors a study can vary is its
// own declaration (study.Design, given by study.RegisterDesign); the engine rejects the others
// at their line.
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
	// Temperature lists sampling temperatures (0..2), each sent with every request of its
	// cells in place of the backend's own. The behavioural model reads no temperature.
	Temperature []float64 `yaml:"temperature,omitempty"`
	// Prompt lists prompt modes: "separate" (one scenario per call) or "joint" (every
	// scenario in one prompt, Study 1), in place of prompt.mode.
	Prompt []string `yaml:"prompt,omitempty"`
	// OptionOrder lists the order a choice's options are shown in: "original" (the
	// scenario's order), "reversed", or "shuffled" (an order drawn per decision from its
	// seed). The games vary it; the choice is recoded to the scenario's option.
	OptionOrder []string `yaml:"option_order,omitempty"`
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
	"prompt":  {"separate", "joint"},
	// option_order: the order a choice's options are shown in.
	"option_order": {"original", "reversed", "shuffled"},
}

var levelRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// List is the factors given, in a fixed order (wording, scale, persona, system, temperature,
// prompt, option_order): the order of their columns and of the design. A temperature level
// is the number as written shortest ("0.7").
func (f Factors) List() []Factor {
	var out []Factor
	for _, x := range f.all() {
		if len(x.Levels) > 0 {
			out = append(out, x)
		}
	}
	return out
}

// all is every factor, given or not, in List's order.
func (f Factors) all() []Factor {
	temps := make([]string, len(f.Temperature))
	for i, t := range f.Temperature {
		temps[i] = TemperatureLevel(t)
	}
	return []Factor{{"wording", f.Wording}, {"scale", f.Scale}, {"persona", f.Persona}, {"system", f.System},
		{"temperature", temps}, {"prompt", f.Prompt}, {"option_order", f.OptionOrder}}
}

// FactorNames are the factors an experiment may cross, in List's order: for the docs of the
// tables whose columns they are.
func FactorNames() string {
	var names []string
	for _, x := range (Factors{}).all() {
		names = append(names, x.Name)
	}
	return strings.Join(names, ", ")
}

// RunIDDoc says how a run id is formed (as the engine forms it), for the tables' docs.
const RunIDDoc = "cell of the design: [backend.]condition[.LEVEL...].rREPLICATE, one LEVEL per factor crossed (a temperature written t0p7); the backend's label only when several backends run"

// Given reports whether any factor is crossed.
func (f Factors) Given() bool { return len(f.List()) > 0 }

// TemperatureLevel is the temperature factor's level of t: the shortest decimal of it.
func TemperatureLevel(t float64) string { return strconv.FormatFloat(t, 'g', -1, 64) }

// LevelID is a factor level as written in run and condition ids: the level itself, except
// a temperature, whose "." would read as an id separator ("none.0.7.r1"): "t" then the
// number with "p" for the point (0.7 -> "t0p7", 1 -> "t1"). Results and seeds keep the level.
func LevelID(factor, level string) string {
	if factor != "temperature" {
		return level
	}
	return "t" + strings.ReplaceAll(level, ".", "p")
}

func (f *Factors) check(doc *yamlx.Doc) error {
	l := yamlx.NewList(doc.Name())
	for i, t := range f.Temperature {
		if t < 0 || t > 2 || t != t {
			l.Add(doc.Errorf(fmt.Sprintf("factors.temperature[%d]", i), "%g is out of range 0..2", t))
		}
	}
	for _, x := range f.List() {
		p := "factors." + x.Name
		if len(x.Levels) < 2 {
			l.Add(doc.Errorf(p, "a factor needs at least two levels to compare (got %d)", len(x.Levels)))
		}
		for i, lv := range x.Levels {
			at := fmt.Sprintf("%s[%d]", p, i)
			if x.Name != "temperature" && !levelRE.MatchString(lv) {
				l.Add(doc.Errorf(at, "%q: a level is lower case letters, digits, '-' or '_', starting with a letter", lv))
			} else if want, ok := FactorLevels[x.Name]; ok && !slices.Contains(want, lv) {
				l.Add(doc.Errorf(at, "unknown %s level %q (want %s)", x.Name, lv, quoteList(want)))
			}
			if j := slices.Index(x.Levels[:i], lv); j >= 0 {
				l.Add(doc.Errorf(at, "level %q is listed twice (also %s[%d])", lv, p, j))
			}
		}
	}
	return l.Err()
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
