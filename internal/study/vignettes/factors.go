package vignettes

import (
	"fmt"
	"maps"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/yamlx"
)

// design: Study 1 varies the wording of its scenarios, the direction of the rating scale,
// the persona's rendering and the system line (experiment factors:). Temperature is sent
// with every request of its cells, and prompt (separate | joint) puts one scenario or all
// of them in a call, as prompt.mode: joint does.
var design = study.Design{Factors: []string{"wording", "scale", "persona", "system", "temperature", "prompt"}, JointPrompts: true,
	CheckScenario: builtinProblem}

// RawSuffix names the field that keeps a rating as given on the scale shown (scale factor):
// "willingness_raw" beside "willingness", which is always on the canonical scale.
const RawSuffix = "_raw"

// checkFactors checks the levels that depend on the scenarios: every wording must exist for
// every scenario asked, and a reversible scale needs labelled Likert fields. Each level is
// reported once, at the first scenario without it.
func (s *vignettes) checkFactors(l *yamlx.List) {
	f := s.env.Exp.Factors
	if !f.Given() {
		return
	}
	for i, w := range f.Wording {
		for _, sc := range s.scs {
			if _, ok := sc.Worded(w); !ok {
				l.Add(s.env.Errorf(fmt.Sprintf("factors.wording[%d]", i), "scenario %s has no wording %q (it has %v; add variants: to its YAML)", sc.ID, w, sc.Wordings()))
				break
			}
		}
	}
	if len(f.Scale) > 0 {
	scales:
		for _, sc := range s.scs {
			for _, fl := range sc.Response.Fields {
				if fl.Kind != scenario.Likert || fl.LowLabel == "" || fl.HighLabel == "" {
					l.Add(s.env.Errorf("factors.scale", "scenario %s: field %s must be a Likert rating with low_label and high_label to be shown reversed", sc.ID, fl.Name))
					break scales
				}
			}
		}
	}
}

// Reversed is sc's response schema with every rating scale shown the other way round: the
// low label at the top of the scale (1 = extremely willing).
func Reversed(sc scenario.Schema) scenario.Schema {
	out := sc
	out.Fields = make([]scenario.Field, len(sc.Fields))
	for i, f := range sc.Fields {
		f.LowLabel, f.HighLabel = f.HighLabel, f.LowLabel
		out.Fields[i] = f
	}
	return out
}

// Recode returns a reply's values on the canonical scale, with each rating as given kept
// under NAME_raw: reversed, a rating v on [min, max] is min + max - v.
func Recode(rep backend.Reply, fields []scenario.Field, reversed bool) backend.Reply {
	if !rep.Valid() {
		return rep
	}
	v := maps.Clone(rep.Values)
	for _, f := range fields {
		raw, ok := rep.Values[f.Name]
		if !ok {
			continue
		}
		v[f.Name+RawSuffix] = raw
		if reversed {
			v[f.Name] = f.Min + f.Max - raw
		}
	}
	rep.Values = v
	return rep
}

// Fields: with the scale factor, decisions.csv lists each rating twice: on the canonical
// scale, and as given (NAME_raw).
func (s *vignettes) Fields(id string) ([]scenario.Field, bool) {
	if len(s.env.Exp.Factors.Scale) == 0 {
		return nil, false
	}
	sc, ok := s.env.Scenarios.Get(id)
	if !ok {
		return nil, false
	}
	var out []scenario.Field
	for _, f := range sc.Response.Fields {
		raw := f
		raw.Name += RawSuffix
		raw.Description = "as given on the scale shown (reversed on the descending level)"
		out = append(out, f, raw)
	}
	return out, true
}
