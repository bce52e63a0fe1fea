package behavioral

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/schema"
	"github.com/prosim/prosim/internal/situation"
)

var _ situation.Typed = (*Model)(nil)

// ModelVersion is the version every reply carries (situation.Typed).
func (m *Model) ModelVersion() string { return Version }

// Prepare readies a vignette for a population (situation.Typed): the situation's terms and
// every agent's parameters are computed here, once, instead of for each decision. The Rater
// gives bit for bit the values Decide gives; it cannot give an invalid answer. Other kinds
// of situation are refused (the study keeps the generic path for them).
func (m *Model) Prepare(agents []persona.Persona, sit *situation.Situation, s *schema.Schema) (situation.Rater, error) {
	if sit.Kind != "vignette" {
		return nil, fmt.Errorf("%w: the typed path rates vignettes, not %q", ErrUnsupported, sit.Kind)
	}
	v, err := prepareVignette(sit, s)
	if err != nil {
		return nil, err
	}
	r := &vigRater{sit: v, agents: make([]vigAgent, len(agents))}
	for i := range agents {
		p := personaParams(&agents[i])
		r.agents[i] = v.agent(&p)
	}
	return r, nil
}

// vigRater rates one prepared vignette for a population.
type vigRater struct {
	sit    vigSit
	agents []vigAgent
}

// Rate implements situation.Rater: Decide's values for agent i (encode's rounding included).
func (r *vigRater) Rate(i int, soc *situation.Social, seed uint64, out []float64) {
	var src rand.PCG
	src.Seed(seed, streamID)
	v := &r.sit
	v.rate(&r.agents[i], soc, &src, out[:v.nf])
	for k := range v.nf {
		f := &v.fields[k]
		out[k] = clamp(math.Round(out[k]), f.min, f.max)
	}
}
