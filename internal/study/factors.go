package study

import (
	"fmt"
	"sync"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/plural"
)

// ForgetAI is the system line of the system factor's forget_ai level, after the role.
const ForgetAI = "Forget that you are an AI language model: you are this person, and you answer from their life and their point of view."

// PersonaOptions is the rendering of a persona factor level.
func PersonaOptions(level string) persona.RenderOptions {
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

// cacheLimit bounds the populations whose persona renderings Systems keeps: above it (a
// Study 3 run of a million agents) each text is rendered when asked, not held.
const cacheLimit = 50_000

// Systems gives agents' system texts under the persona and system factors, the same way in
// every study: the run's persona text unless the cell's persona level renders it otherwise,
// the role, and the forget_ai line on that level. It is safe for concurrent use.
type Systems struct {
	env   *Env
	mu    sync.Mutex
	cache map[string][]string // persona level -> agent index -> text
}

// NewSystems makes the system texts of env's agents.
func NewSystems(env *Env) *Systems { return &Systems{env: env} }

// Text is agent ai's system text in cell c.
func (s *Systems) Text(c *Cell, ai int) string {
	text := ""
	if lv := c.Level("persona"); lv != "" {
		text = s.persona(lv, ai) + "\n\n" + RoleText
	} else {
		text = s.env.System(ai)
	}
	if c.Level("system") == "forget_ai" {
		text += " " + ForgetAI
	}
	return text
}

func (s *Systems) persona(level string, ai int) string {
	if len(s.env.Agents) > cacheLimit {
		return persona.Render(s.env.Agents[ai], PersonaOptions(level))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil {
		s.cache = map[string][]string{}
	}
	if s.cache[level] == nil {
		s.cache[level] = make([]string, len(s.env.Agents))
	}
	if s.cache[level][ai] == "" {
		s.cache[level][ai] = persona.Render(s.env.Agents[ai], PersonaOptions(level))
	}
	return s.cache[level][ai]
}

// FactorsDescribed names each crossed factor's levels as terms of a design product
// (" x 3 wording levels x 2 scale levels"), so a study's Describe line multiplies out to the
// decisions it states; "" without factors.
func FactorsDescribed(e *experiment.Experiment) string {
	out := ""
	for _, f := range e.Factors.List() {
		out += fmt.Sprintf(" x %d %s %s", len(f.Levels), f.Name, plural.Noun(len(f.Levels), "level"))
	}
	return out
}
