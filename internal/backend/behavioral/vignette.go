package behavioral

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/prosim/prosim/internal/schema"
	"github.com/prosim/prosim/internal/situation"
)

// Vignette constants (see the package documentation for their meaning and derivation).
const (
	vAlt    = 0.45 // altruism weight, times (0.5 + need)
	vNorm   = 0.30 // norm-compliance weight
	vExtra  = 0.20 // extraversion weight, times visibility
	vMoney  = 0.50 // money-cost weight, times cost * money * cs
	vSigma  = 1.05 // rating spread on the 1-7 scale (times the persona's noise multiplier)
	confRef = 0.25 // reference conformity (population mean of params.conf)

	polMoral0, polMoral1    = 0.30, 0.25 // moral: (m0 + m1 zMI) * (0.6 + 0.4 need)
	polSocial0, polSocial1  = 0.15, 0.45 // social: (s0 + s1 visibility) * conf/confRef
	polEnf0, polEnf1        = 0.25, 0.80 // enforce compliance: (e0 + e1 sev) * (1 + 0.3 norm)
	polReact                = 0.35       // enforce reactance: r * exp(0.7 reactance)
	polPrice, polCrowd      = 0.80, 0.30 // economic: price p*u; crowding-out c*max(0,alt)*(0.5+visibility)
	sevScale, stipendScale  = 0.25, 0.10 // amount/monthly-income half-saturation of fine and stipend
	sevDefault, stipDefault = 0.50, 0.30 // severity/utility when the frame names no amount

	// Study 3 dynamics
	uBase0    = 2.0  // baseline perceived unfairness (1-7)
	uReact    = 0.30 // reactance raises baseline unfairness
	uEnforce  = 0.60 // a flat mandate that hurts (sev) raises baseline unfairness
	uTreated  = 3.00 // being treated unfairly (strong)
	uObserved = 1.20 // observed unfair neighbours (weaker), saturating in their count
	uIA       = 0.30 // sensitivity exp(uIA * inequity aversion)
	uRise     = 0.30 // anchoring to last round's unfairness when it was below the target
	uFall     = 0.85 // anchoring when it was above (slow to forgive)
	uDead     = 1.50 // without a shock, a rating this far above the expected one is remembered
	wUnfair   = 0.45 // willingness lost per point of excess perceived unfairness
	wAnchor   = 0.50 // anchoring of willingness to last round's rating
	// wInfluenceMax bounds the social-influence weight below 1, so nobody moves past the
	// neighbours' mean and the pull between neighbours stays a contraction.
	wInfluenceMax = 0.95
)

func decideVignette(p *params, sit *situation.Situation, s *schema.Schema, r *rand.Rand, o *out) error {
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
			m := ratingProbs(ut, sigma, 1, 7, probs[:])
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
		m := ratingProbs(tFair, sigma, 1, 7, probs[:])
		t += influenceWeight(p) * (soc.MeanObserved - m)
	}
	if soc.PrevWillingness > 0 {
		m := ratingProbs(t, sigma, 1, 7, probs[:])
		t += wAnchor * (soc.PrevWillingness - m)
	}

	for i := range s.Fields {
		f := &s.Fields[i]
		lat := t
		if f.Name == "unfairness" {
			lat = u
		}
		scale := (f.Max - f.Min) / 6
		v := drawRating(r, f.Min+(lat-1)*scale, sigma*scale, int(f.Min), int(f.Max))
		if sit.ScaleReversed {
			// The model rates on the canonical scale and reports on the scale shown, as a
			// respondent who reads the labels does (assumed: no reversal errors).
			v = f.Min + f.Max - v
		}
		o.set(f.Name, schema.Likert, v)
	}
	return nil
}

// socialConsts are the fitted constants of Study 3's social-influence channel (package doc,
// "Social influence"); TestFit -fitonly social fits them.
type socialConsts struct {
	// Influence scales the pull toward the neighbours' mean: weight Influence*conf/confRef,
	// at most wInfluenceMax.
	Influence float64
}

var social = socialConsts{Influence: 1.30}

// influenceWeight is the share of the gap to the observed neighbours' mean an agent closes.
func influenceWeight(p *params) float64 {
	return math.Min(wInfluenceMax, social.Influence*p.conf/confRef)
}

func memory(dev float64) float64 {
	if dev > uDead {
		return uFall * dev
	}
	return 0
}

func anchor(dev float64) float64 {
	if dev > 0 {
		return uFall * dev
	}
	return uRise * dev
}

// policyEffect is the shift of the latent willingness (1-7 scale) caused by a policy frame,
// and the fine's severity (0 when there is no fine).
func policyEffect(p *params, pe *situation.PolicyExposure, vis, need float64) (float64, float64, error) {
	s := pe.Strength
	switch pe.Channel {
	case "", "none":
		return 0, 0, nil
	case "moral":
		return s * (polMoral0 + polMoral1*p.zMI) * (0.6 + 0.4*need), 0, nil
	case "social":
		return s * (polSocial0 + polSocial1*vis) * (p.conf / confRef), 0, nil
	case "enforce":
		sev := sevDefault
		if pe.Amount > 0 {
			x := pe.Amount / p.month
			sev = x / (x + sevScale)
		}
		return s * ((polEnf0+polEnf1*sev)*(1+0.3*p.norm) - polReact*math.Exp(0.7*p.react)), sev, nil
	case "economic":
		u := stipDefault
		if pe.Amount > 0 {
			x := pe.Amount / p.month
			u = x / (x + stipendScale)
		}
		return s * (polPrice*u - polCrowd*math.Max(0, p.alt)*(0.5+vis)), 0, nil
	}
	return 0, 0, fmt.Errorf("%w: policy channel %q (want none, moral, social, enforce or economic)", ErrUnsupported, pe.Channel)
}
