package behavioral

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/schema"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/situation"
)

const (
	// Provider is the Reply.Provider of every reply.
	Provider = "builtin"
	// Version is the Reply.Model and Reply.ModelVersion of every reply; bumped whenever a parameter or formula changes.
	Version = "behavioral-v3"
	// streamID is the second PCG word: every draw of a decision comes from
	// rand.New(rand.NewPCG(req.Seed, streamID)).
	streamID = 0x70726f73696d0001
)

// Model is the behavioural model. It has no state: one Model may serve any number of
// goroutines, and the same Request always gives the same Reply.
type Model struct{}

// New returns the behavioural model.
func New() *Model { return &Model{} }

var _ backend.Backend = (*Model)(nil)

// ErrUnsupported is wrapped by every error about a situation or field the model does not model.
var ErrUnsupported = errors.New("behavioral model: not modelled")

// Games lists the game ids (Situation.Scenario of a "game") the model plays.
func Games() []string {
	return []string{"tpp", "tpp_graded", "dictator", "ultimatum_proposer", "ultimatum_responder",
		"ultimatum_mao", "public_goods", "public_goods_punish", "trust_sender", "trust_returner"}
}

// out holds the values a decision produced, by field name, in a fixed order.
type out struct {
	n     int
	names [6]string
	kinds [6]schema.Kind
	vals  [6]float64
}

func (o *out) set(name string, k schema.Kind, v float64) {
	o.names[o.n] = name
	o.kinds[o.n] = k
	o.vals[o.n] = v
	o.n++
}

func (o *out) get(name string) (float64, schema.Kind, bool) {
	for i := 0; i < o.n; i++ {
		if o.names[i] == name {
			return o.vals[i], o.kinds[i], true
		}
	}
	return 0, "", false
}

// Decide makes one decision. It reads req.Structured (a *situation.Situation: the persona and
// the situation), req.Schema and req.Seed only.
//
// A request without a structured description, or without a persona in it, is an error wrapping
// ErrUnsupported (the model does not read text); a Structured of any other type is an invalid
// reply saying so.
func (m *Model) Decide(ctx context.Context, req backend.Request) (backend.Reply, error) {
	if err := ctx.Err(); err != nil {
		return backend.Reply{}, err
	}
	var sit *situation.Situation
	switch s := req.Structured.(type) {
	case *situation.Situation:
		sit = s
	case situation.Situation:
		sit = &s
	case nil:
	default:
		return backend.Reply{Provider: Provider, Model: Version, ModelVersion: Version, Invalid: fmt.Sprintf(
			"behavioural model: the request's structured description is a %T, not a *situation.Situation", req.Structured)}, nil
	}
	if sit == nil || sit.Persona == nil {
		return backend.Reply{}, fmt.Errorf("%w: the request has no structured persona (the behavioural model does not read text)", ErrUnsupported)
	}
	if sit.Kind == "joint" {
		return m.decideJoint(ctx, req, sit)
	}
	p := personaParams(sit.Persona)
	var o out
	var err error
	switch sit.Kind {
	case "vignette":
		err = decideVignette(&p, sit, &req.Schema, req.Seed, &o)
	case "game":
		err = decideGame(&p, sit, &req.Schema, rand.New(rand.NewPCG(req.Seed, streamID)), &o)
	default:
		err = fmt.Errorf("%w: situation kind %q of scenario %q (want vignette or game)", ErrUnsupported, sit.Kind, sit.Scenario)
	}
	if err != nil {
		return backend.Reply{}, err
	}
	return encode(&req.Schema, &o, sit.Scenario)
}

// encode fits the produced values to the schema and renders Raw as compact JSON in the
// schema's field order (choice fields as their option text, as an LLM's structured reply).
func encode(s *schema.Schema, o *out, id string) (backend.Reply, error) {
	vals := make(map[string]float64, len(s.Fields))
	buf := make([]byte, 0, 64)
	buf = append(buf, '{')
	for i := range s.Fields {
		f := &s.Fields[i]
		v, k, ok := o.get(f.Name)
		if !ok {
			return backend.Reply{}, fmt.Errorf("%w: scenario %q has no field %q in the behavioural model", ErrUnsupported, id, f.Name)
		}
		if k != f.Kind {
			return backend.Reply{}, fmt.Errorf("%w: scenario %q: field %q must be %s, not %s", ErrUnsupported, id, f.Name, k, f.Kind)
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, f.Name)
		buf = append(buf, ':')
		switch f.Kind {
		case schema.Likert:
			v = clamp(math.Round(v), f.Min, f.Max)
			buf = strconv.AppendFloat(buf, v, 'f', -1, 64)
		case schema.Amount:
			v = snap(v, f)
			buf = strconv.AppendFloat(buf, v, 'f', -1, 64)
		case schema.Choice:
			// v is already an option index (resolved by name in the decider).
			buf = appendString(buf, f.Options[int(v)])
		default:
			return backend.Reply{}, fmt.Errorf("%w: field %q has kind %q", ErrUnsupported, f.Name, f.Kind)
		}
		vals[f.Name] = v
	}
	buf = append(buf, '}')
	return backend.Reply{Raw: string(buf), Values: vals, Provider: Provider, Model: Version, ModelVersion: Version}, nil
}

// appendString appends s as a JSON string, quoting plainly when nothing needs escaping.
func appendString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return strconv.AppendQuote(buf, s)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

func clamp(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// snap clamps v to the field's range and rounds it to the field's step.
func snap(v float64, f *schema.Field) float64 {
	v = clamp(v, f.Min, f.Max)
	if f.Step > 0 {
		k := math.Round((v - f.Min) / f.Step)
		v = f.Min + k*f.Step
		if v > f.Max+1e-9 {
			v -= f.Step
		}
		// remove float residue so Validate's multiple check and JSON stay clean
		v = math.Round(v*1e9) / 1e9
	}
	return v
}

// choiceIndex finds the option named want in a choice field of the schema, if the schema asks
// for the field at all (ok=false, nil error when it does not).
func choiceIndex(s *schema.Schema, field, want string) (idx int, asked bool, err error) {
	f, ok := s.Field(field)
	if !ok {
		return 0, false, nil
	}
	if f.Kind != schema.Choice {
		return 0, true, fmt.Errorf("%w: field %q must be a choice, not %s", ErrUnsupported, field, f.Kind)
	}
	for i, o := range f.Options {
		if o == want {
			return i, true, nil
		}
	}
	return 0, true, fmt.Errorf("%w: choice field %q has no option %q (options %v)", ErrUnsupported, field, want, f.Options)
}

// param reads a required numeric parameter.
func param(sit *situation.Situation, name string) (float64, error) {
	v, ok := sit.Params[name]
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%w: %s %q needs parameter %q", ErrUnsupported, sit.Kind, sit.Scenario, name)
	}
	return v, nil
}

// paramOr reads an optional numeric parameter.
func paramOr(sit *situation.Situation, name string, def float64) float64 {
	if v, ok := sit.Params[name]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
		return v
	}
	return def
}

// ratingProbs fills p[0..n-1] with the probabilities of ratings lo..lo+n-1 for a latent target
// t and spread sigma: P(k) proportional to exp(-(k-t)^2 / (2 sigma^2)). It returns the mean.
func ratingProbs(t, sigma float64, lo, n int, p []float64) float64 {
	inv := 1 / (2 * sigma * sigma)
	return ratingProbsC(t, inv, math.Exp(-2*inv), lo, n, p)
}

// ratingProbsC is ratingProbs given inv = 1/(2 sigma^2) and c = exp(-2 inv), which depend on
// the spread only (an agent's constants on the typed path).
func ratingProbsC(t, inv, c float64, lo, n int, p []float64) float64 {
	// Gaussian weights relative to the nearest category k0, by recurrence: successive ratios
	// of exp(-(k-t)^2 inv) change by the constant factor exp(-2 inv), so three exps suffice.
	k0 := int(clamp(math.Round(t), float64(lo), float64(lo+n-1))) - lo
	d0 := float64(k0+lo) - t
	p[k0] = 1
	sum, mean := 1.0, float64(k0+lo)
	w, r := 1.0, math.Exp(-(2*d0+1)*inv)
	for i := k0 + 1; i < n; i++ {
		w *= r
		r *= c
		p[i] = w
		sum += w
		mean += w * float64(i+lo)
	}
	w, r = 1.0, math.Exp((2*d0-1)*inv)
	for i := k0 - 1; i >= 0; i-- {
		w *= r
		r *= c
		p[i] = w
		sum += w
		mean += w * float64(i+lo)
	}
	inv = 1 / sum
	for i := 0; i < n; i++ {
		p[i] *= inv
	}
	return mean * inv
}

// ratingMean is ratingProbsC's return value alone (the same arithmetic, nothing stored).
func ratingMean(t, inv, c float64, lo, n int) float64 {
	k0 := int(clamp(math.Round(t), float64(lo), float64(lo+n-1))) - lo
	d0 := float64(k0+lo) - t
	sum, mean := 1.0, float64(k0+lo)
	w, r := 1.0, math.Exp(-(2*d0+1)*inv)
	for i := k0 + 1; i < n; i++ {
		w *= r
		r *= c
		sum += w
		mean += w * float64(i+lo)
	}
	w, r = 1.0, math.Exp((2*d0-1)*inv)
	for i := k0 - 1; i >= 0; i-- {
		w *= r
		r *= c
		sum += w
		mean += w * float64(i+lo)
	}
	return mean * (1 / sum)
}

// ratingWeights is ratingProbsC without the mean (the same probabilities).
func ratingWeights(t, inv, c float64, lo, n int, p []float64) {
	k0 := int(clamp(math.Round(t), float64(lo), float64(lo+n-1))) - lo
	d0 := float64(k0+lo) - t
	p[k0] = 1
	sum := 1.0
	w, r := 1.0, math.Exp(-(2*d0+1)*inv)
	for i := k0 + 1; i < n; i++ {
		w *= r
		r *= c
		p[i] = w
		sum += w
	}
	w, r = 1.0, math.Exp((2*d0-1)*inv)
	for i := k0 - 1; i >= 0; i-- {
		w *= r
		r *= c
		p[i] = w
		sum += w
	}
	inv = 1 / sum
	for i := 0; i < n; i++ {
		p[i] *= inv
	}
}

// uniform is rand.New(src).Float64().
func uniform(src *rand.PCG) float64 { return float64(src.Uint64()<<11>>11) / (1 << 53) }

// normal is rand.New(src).NormFloat64(), without making src escape to the heap (only the
// rare caller pays an allocation).
func normal(src *rand.PCG) float64 {
	p := new(rand.PCG)
	*p = *src
	x := rand.New(p).NormFloat64()
	*src = *p
	return x
}

// drawRatingC is drawRating on src, given sigma's constants (ratingProbsC).
func drawRatingC(src *rand.PCG, t, sigma, inv, c float64, lo, hi int) float64 {
	n := hi - lo + 1
	if n > 32 || n < 1 {
		return clamp(math.Round(t+sigma*normal(src)), float64(lo), float64(hi))
	}
	var buf [32]float64
	ratingWeights(t, inv, c, lo, n, buf[:n])
	u := uniform(src)
	for i, w := range buf[:n] {
		u -= w
		if u < 0 {
			return float64(lo + i)
		}
	}
	return float64(hi)
}

// drawIndex draws an index from probabilities p (summing to 1).
func drawIndex(r *rand.Rand, p []float64) int {
	u := r.Float64()
	for i, w := range p {
		u -= w
		if u < 0 {
			return i
		}
	}
	return len(p) - 1
}

// drawRating draws a rating lo..hi around latent t (any range up to 32 categories).
func drawRating(r *rand.Rand, t, sigma float64, lo, hi int) float64 {
	n := hi - lo + 1
	if n > 32 || n < 1 {
		return clamp(math.Round(t+sigma*r.NormFloat64()), float64(lo), float64(hi))
	}
	var buf [32]float64
	ratingProbs(t, sigma, lo, n, buf[:n])
	return float64(lo + drawIndex(r, buf[:n]))
}

// decideJoint answers a joint prompt as the model answers each of its scenarios alone, with
// a seed derived from the prompt's and the scenario's id: it reads no text, so the joint
// prompt's order and layout change nothing but the draws.
func (m *Model) decideJoint(ctx context.Context, req backend.Request, sit *situation.Situation) (backend.Reply, error) {
	vals := map[string]float64{}
	buf := []byte{'{'}
	for i := range sit.Parts {
		part := sit.Parts[i] // a copy: the request is not ours to change
		if part.Persona == nil {
			part.Persona = sit.Persona
		}
		prefix := part.Scenario + "."
		sub := req
		sub.Structured = &part
		sub.Seed = seed.Derive(req.Seed, "joint part", part.Scenario)
		sub.Schema = schema.Schema{}
		for _, f := range req.Schema.Fields {
			if name, ok := strings.CutPrefix(f.Name, prefix); ok {
				f.Name = name
				sub.Schema.Fields = append(sub.Schema.Fields, f)
			}
		}
		rep, err := m.Decide(ctx, sub)
		if err != nil {
			return backend.Reply{}, err
		}
		for _, f := range sub.Schema.Fields {
			if len(buf) > 1 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, prefix+f.Name)
			buf = append(buf, ':')
			v := rep.Values[f.Name]
			if f.Kind == schema.Choice {
				buf = appendString(buf, f.Options[int(v)])
			} else {
				buf = strconv.AppendFloat(buf, v, 'f', -1, 64)
			}
			vals[prefix+f.Name] = v
		}
	}
	buf = append(buf, '}')
	if len(vals) != len(req.Schema.Fields) {
		return backend.Reply{}, fmt.Errorf("%w: the joint prompt's parts answer %d of its %d fields", ErrUnsupported, len(vals), len(req.Schema.Fields))
	}
	return backend.Reply{Raw: string(buf), Values: vals, Provider: Provider, Model: Version, ModelVersion: Version}, nil
}
