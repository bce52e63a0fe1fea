package vignettes

import (
	"fmt"
	"maps"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/study"
)

// Factors: Study 1 varies the wording of its scenarios, the direction of the rating scale,
// the persona's rendering and the system line (experiment factors:).
// Temperature is sent with every request of its cells, and prompt (separate | joint) puts
// one scenario or all of them in a call.
func (s *vignettes) Factors() []string {
	return []string{"wording", "scale", "persona", "system", "temperature", "prompt"}
}

// ForgetAI is the system line of the system factor's forget_ai level, after the role.
const ForgetAI = "Forget that you are an AI language model: you are this person, and you answer from their life and their point of view."

// RawSuffix names the field that keeps a rating as given on the scale shown (scale factor):
// "willingness_raw" beside "willingness", which is always on the canonical scale.
const RawSuffix = "_raw"

// checkFactors checks the levels that depend on the scenarios: every wording must exist for
// every scenario asked, and a reversible scale needs labelled Likert fields.
func (s *vignettes) checkFactors() error {
	e := s.env.Exp
	f := e.Factors
	if !f.Given() {
		return nil
	}
	if e.Prompt.Mode == "joint" && len(f.Prompt) > 0 {
		return s.env.Errorf("factors.prompt", "the prompt factor sets the prompt mode: leave prompt.mode out")
	}
	for i, w := range f.Wording {
		for _, sc := range s.scs {
			if _, ok := sc.Worded(w); !ok {
				return s.env.Errorf(fmt.Sprintf("factors.wording[%d]", i), "scenario %s has no wording %q (it has %v; add variants: to its YAML)", sc.ID, w, sc.Wordings())
			}
		}
	}
	if len(f.Scale) > 0 {
		for _, sc := range s.scs {
			for _, fl := range sc.Response.Fields {
				if fl.Kind != scenario.Likert || fl.LowLabel == "" || fl.HighLabel == "" {
					return s.env.Errorf("factors.scale", "scenario %s: field %s must be a Likert rating with low_label and high_label to be shown reversed", sc.ID, fl.Name)
				}
			}
		}
	}
	if len(f.Persona) > 0 && (e.Population.ShowScores || e.Population.ShowAverages) {
		return s.env.Errorf("population.show_scores", "the persona factor sets how personas are shown: leave population.show_scores and show_averages out")
	}
	return nil
}

// personaOptions is the rendering of a persona factor level.
func personaOptions(level string) persona.RenderOptions {
	switch level {
	case "scores":
		return persona.RenderOptions{ShowScores: true}
	case "averages":
		return persona.RenderOptions{ShowScores: true, ShowAverage: true}
	case "third_person":
		return persona.RenderOptions{ThirdPerson: true}
	}
	return persona.RenderOptions{} // "levels": trait levels in words, second person
}

// system is agent ai's system text in cell c: the run's persona text unless the persona
// factor renders it otherwise, the role, and the forget_ai line on that level.
func (s *vignettes) system(c *study.Cell, ai int) string {
	text := ""
	if lv := c.Level("persona"); lv != "" {
		text = persona.Render(s.env.Agents[ai], personaOptions(lv)) + "\n\n" + study.RoleText
	} else {
		text = s.env.System(ai)
	}
	if c.Level("system") == "forget_ai" {
		text += " " + ForgetAI
	}
	return text
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
