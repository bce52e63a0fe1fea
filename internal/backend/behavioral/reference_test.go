package behavioral

// The vignette model as it was before the typed fast path (behavioral-v3), kept verbatim so
// that tests can check, bit for bit, that Decide and the prepared Rater still give its values.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/schema"
	"github.com/prosim/prosim/internal/situation"
)

// refDecide is Decide for a vignette as it was: per-decision parameters, rand.Rand, encode.
func refDecide(_ context.Context, req backend.Request) (backend.Reply, error) {
	sit := req.Structured.(*situation.Situation)
	p := personaParams(sit.Persona)
	r := rand.New(rand.NewPCG(req.Seed, streamID))
	var o out
	if err := refDecideVignette(&p, sit, &req.Schema, r, &o); err != nil {
		return backend.Reply{}, err
	}
	return encode(&req.Schema, &o, sit.Scenario)
}

func refDecideVignette(p *params, sit *situation.Situation, s *schema.Schema, r *rand.Rand, o *out) error {
	for i := range s.Fields {
		f := &s.Fields[i]
		if f.Name != "willingness" && f.Name != "unfairness" {
			return fmt.Errorf("%w: vignette %q: field %q (the model rates willingness and unfairness only)", ErrUnsupported, sit.Scenario, f.Name)
		}
		if f.Kind != schema.Likert {
			return fmt.Errorf("%w: vignette %q: field %q must be likert, not %s", ErrUnsupported, sit.Scenario, f.Name, f.Kind)
		}
	}
	base, err := param(sit, "base")
	if err != nil {
		return err
	}
	cost := paramOr(sit, "cost", 0.5)
	money := paramOr(sit, "money", 0)
	vis := paramOr(sit, "visibility", 0.5)
	need := paramOr(sit, "need", 0.5)

	t := base + vAlt*p.alt*(0.5+need) + vNorm*p.norm + vExtra*p.zE*vis - vMoney*cost*money*p.cs
	d, sev, err := policyEffect(p, &sit.Policy, vis, need)
	if err != nil {
		return fmt.Errorf("vignette %q: %w", sit.Scenario, err)
	}
	t += d
	sigma := vSigma * p.noise

	// Study 3: perceived unfairness and its effect on willingness.
	soc := &sit.Social
	var probs [7]float64
	ub := uBase0 + uReact*p.react
	if sit.Policy.Channel == "enforce" {
		ub += uEnforce * sev * sit.Policy.Strength
	}
	u := ub
	shock := 0.0
	if soc.TreatedUnfairly {
		shock += uTreated
	}
	if soc.UnfairObserved > 0 {
		shock += uObserved * (1 - math.Exp(-float64(soc.UnfairObserved)/1.5))
	}
	if shock > 0 || soc.PrevUnfairness > 0 {
		ut := ub + shock*math.Exp(uIA*p.ia)
		u = ut
		if soc.PrevUnfairness > 0 {
			// Memory of last round's rating, minus its expectation under the current target so
			// that an unchanged situation does not drift. Under a shock: asymmetric anchoring
			// (quick to anger, slow to forgive). Without one: only a rating clearly above the
			// baseline (by more than uDead) is remembered, decaying by uFall a round.
			m := refRatingProbs(ut, sigma, 1, 7, probs[:])
			a := anchor
			if shock == 0 {
				a = memory
			}
			var corr float64
			for k := 0; k < 7; k++ {
				corr += probs[k] * a(float64(k+1)-m)
			}
			u = ut + a(soc.PrevUnfairness-m) - corr
		}
	}
	tFair := t // the expectation the agent's own situation gives, before unfairness
	t -= wUnfair * math.Exp(0.2*p.ia) * (u - ub)
	if soc.Observed > 0 && soc.MeanObserved > 0 {
		// Social influence: toward the observed neighbours' mean willingness, weighted by
		// conformity, from the rating the agent's situation would give without unfairness
		// (so an agent's own grievance is not talked away by content neighbours).
		m := refRatingProbs(tFair, sigma, 1, 7, probs[:])
		t += influenceWeight(p) * (soc.MeanObserved - m)
	}
	if soc.PrevWillingness > 0 {
		m := refRatingProbs(t, sigma, 1, 7, probs[:])
		t += wAnchor * (soc.PrevWillingness - m)
	}

	for i := range s.Fields {
		f := &s.Fields[i]
		lat := t
		if f.Name == "unfairness" {
			lat = u
		}
		scale := (f.Max - f.Min) / 6
		v := refDrawRating(r, f.Min+(lat-1)*scale, sigma*scale, int(f.Min), int(f.Max))
		if sit.ScaleReversed {
			// The model rates on the canonical scale and reports on the scale shown, as a
			// respondent who reads the labels does (assumed: no reversal errors).
			v = f.Min + f.Max - v
		}
		o.set(f.Name, schema.Likert, v)
	}
	return nil
}

func refRatingProbs(t, sigma float64, lo, n int, p []float64) float64 {
	inv := 1 / (2 * sigma * sigma)
	// Gaussian weights relative to the nearest category k0, by recurrence: successive ratios
	// of exp(-(k-t)^2 inv) change by the constant factor exp(-2 inv), so three exps suffice.
	k0 := int(clamp(math.Round(t), float64(lo), float64(lo+n-1))) - lo
	d0 := float64(k0+lo) - t
	c := math.Exp(-2 * inv)
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

func refDrawIndex(r *rand.Rand, p []float64) int {
	u := r.Float64()
	for i, w := range p {
		u -= w
		if u < 0 {
			return i
		}
	}
	return len(p) - 1
}

func refDrawRating(r *rand.Rand, t, sigma float64, lo, hi int) float64 {
	n := hi - lo + 1
	if n > 32 || n < 1 {
		return clamp(math.Round(t+sigma*r.NormFloat64()), float64(lo), float64(hi))
	}
	var buf [32]float64
	refRatingProbs(t, sigma, lo, n, buf[:n])
	return float64(lo + refDrawIndex(r, buf[:n]))
}
