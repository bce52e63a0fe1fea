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

func decideVignette(p *params, sit *situation.Situation, s *schema.Schema, seed uint64, o *out) error {
	v, err := prepareVignette(sit, s)
	if err != nil {
		return err
	}
	a := v.agent(p)
	var vals [2]float64
	var src rand.PCG
	src.Seed(seed, streamID)
	v.rate(&a, &sit.Social, &src, vals[:v.nf])
	for i := range v.nf {
		o.set(s.Fields[i].Name, schema.Likert, vals[i])
	}
	return nil
}

// vigSit is a vignette situation ready to be rated: everything a decision needs but the
// agent, its social state and the seed. Decide prepares it for each decision; the typed path
// (Prepare) once for a whole population.
type vigSit struct {
	base, cost, money, vis, need float64
	pol                          situation.PolicyExposure
	reversed                     bool
	fields                       [2]vigField // the schema's fields, in order
	nf                           int
}

// vigField is a rating field and its scale.
type vigField struct {
	unfair   bool // the unfairness rating (else willingness)
	min, max float64
	scale    float64 // points of the field's scale per point of 1-7
	lo, hi   int
	unit     bool // scale == 1: the agent's spread constants apply as they are
}

// vigAgent is what a vignette decision needs of one agent in one situation, apart from its
// social state and seed: the persona's terms, computed once by the typed path and for each
// decision by Decide. Both then run rate, so they give the same values bit for bit.
type vigAgent struct {
	tFair         float64 // latent willingness from the agent's own situation (before unfairness and influence)
	sigma, inv, c float64 // rating spread on 1-7, 1/(2 sigma^2) and exp(-2 inv) (ratingProbs' constants)
	ub            float64 // baseline perceived unfairness
	eIA           float64 // exp(uIA ia): an unfairness shock's weight
	ut0           float64 // the unfairness target without a shock
	wU            float64 // willingness lost per point of excess unfairness: wUnfair exp(.2 ia)
	infl          float64 // social-influence weight
	mFair         float64 // expected rating at tFair (the reference of social influence)
	m0, corr0     float64 // expected unfairness rating at ut0, and memory's expected correction there
}

func prepareVignette(sit *situation.Situation, s *schema.Schema) (vigSit, error) {
	v := vigSit{pol: sit.Policy, reversed: sit.ScaleReversed}
	for i := range s.Fields {
		f := &s.Fields[i]
		if f.Name != "willingness" && f.Name != "unfairness" {
			return v, fmt.Errorf("%w: vignette %q: field %q (the model rates willingness and unfairness only)", ErrUnsupported, sit.Scenario, f.Name)
		}
		if f.Kind != schema.Likert {
			return v, fmt.Errorf("%w: vignette %q: field %q must be likert, not %s", ErrUnsupported, sit.Scenario, f.Name, f.Kind)
		}
		if i >= len(v.fields) {
			return v, fmt.Errorf("%w: vignette %q: %d fields (the model rates willingness and unfairness, once each)", ErrUnsupported, sit.Scenario, len(s.Fields))
		}
		scale := (f.Max - f.Min) / 6
		v.fields[i] = vigField{unfair: f.Name == "unfairness", min: f.Min, max: f.Max, scale: scale,
			lo: int(f.Min), hi: int(f.Max), unit: scale == 1}
	}
	v.nf = len(s.Fields)
	var err error
	if v.base, err = param(sit, "base"); err != nil {
		return v, err
	}
	v.cost = paramOr(sit, "cost", 0.5)
	v.money = paramOr(sit, "money", 0)
	v.vis = paramOr(sit, "visibility", 0.5)
	v.need = paramOr(sit, "need", 0.5)
	if err := checkChannel(v.pol.Channel); err != nil {
		return v, fmt.Errorf("vignette %q: %w", sit.Scenario, err)
	}
	return v, nil
}

// agent computes the agent's terms in the situation.
func (v *vigSit) agent(p *params) vigAgent {
	t := v.base + vAlt*p.alt*(0.5+v.need) + vNorm*p.norm + vExtra*p.zE*v.vis - vMoney*v.cost*v.money*p.cs
	d, sev, _ := policyEffect(p, &v.pol, v.vis, v.need) // the channel is checked
	t += d
	var a vigAgent
	a.tFair = t
	a.sigma = vSigma * p.noise
	a.inv = 1 / (2 * a.sigma * a.sigma)
	a.c = math.Exp(-2 * a.inv)
	a.ub = uBase0 + uReact*p.react
	if v.pol.Channel == "enforce" {
		a.ub += uEnforce * sev * v.pol.Strength
	}
	a.eIA = math.Exp(uIA * p.ia)
	shock := 0.0
	a.ut0 = a.ub + shock*a.eIA
	a.wU = wUnfair * math.Exp(0.2*p.ia)
	a.infl = influenceWeight(p)
	var probs [7]float64
	a.mFair = ratingProbsC(a.tFair, a.inv, a.c, 1, 7, probs[:])
	a.m0 = ratingProbsC(a.ut0, a.inv, a.c, 1, 7, probs[:])
	for k := 0; k < 7; k++ {
		a.corr0 += probs[k] * memory(float64(k+1)-a.m0)
	}
	return a
}

// unfairObservedShock[k] is the unfairness shock of k observed unfair neighbours.
var unfairObservedShock = func() (s [64]float64) {
	for k := 1; k < len(s); k++ {
		s[k] = uObserved * (1 - math.Exp(-float64(k)/1.5))
	}
	return s
}()

// rate draws agent a's ratings (one per field, in order) given its social state.
func (v *vigSit) rate(a *vigAgent, soc *situation.Social, src *rand.PCG, out []float64) {
	// Study 3: perceived unfairness and its effect on willingness.
	var probs [7]float64
	u := a.ub
	shock := 0.0
	if soc.TreatedUnfairly {
		shock += uTreated
	}
	if k := soc.UnfairObserved; k > 0 {
		if k < len(unfairObservedShock) {
			shock += unfairObservedShock[k]
		} else {
			shock += uObserved * (1 - math.Exp(-float64(k)/1.5))
		}
	}
	if shock > 0 || soc.PrevUnfairness > 0 {
		ut := a.ut0
		if shock > 0 {
			ut = a.ub + shock*a.eIA
		}
		u = ut
		if soc.PrevUnfairness > 0 {
			// Memory of last round's rating, minus its expectation under the current target so
			// that an unchanged situation does not drift. Under a shock: asymmetric anchoring
			// (quick to anger, slow to forgive). Without one: only a rating clearly above the
			// baseline (by more than uDead) is remembered, decaying by uFall a round.
			if shock == 0 {
				u = ut + memory(soc.PrevUnfairness-a.m0) - a.corr0
			} else {
				m := ratingProbsC(ut, a.inv, a.c, 1, 7, probs[:])
				var corr float64
				for k := 0; k < 7; k++ {
					corr += probs[k] * anchor(float64(k+1)-m)
				}
				u = ut + anchor(soc.PrevUnfairness-m) - corr
			}
		}
	}
	t := a.tFair
	t -= a.wU * (u - a.ub)
	if soc.Observed > 0 && soc.MeanObserved > 0 {
		// Social influence: toward the observed neighbours' mean willingness, weighted by
		// conformity, from the rating the agent's situation would give without unfairness
		// (so an agent's own grievance is not talked away by content neighbours).
		t += a.infl * (soc.MeanObserved - a.mFair)
	}
	if soc.PrevWillingness > 0 {
		m := ratingMean(t, a.inv, a.c, 1, 7)
		t += wAnchor * (soc.PrevWillingness - m)
	}

	for i := range v.nf {
		f := &v.fields[i]
		lat := t
		if f.unfair {
			lat = u
		}
		var x float64
		if f.unit {
			x = drawRatingC(src, f.min+(lat-1)*f.scale, a.sigma, a.inv, a.c, f.lo, f.hi)
		} else {
			sigma := a.sigma * f.scale
			inv := 1 / (2 * sigma * sigma)
			x = drawRatingC(src, f.min+(lat-1)*f.scale, sigma, inv, math.Exp(-2*inv), f.lo, f.hi)
		}
		if v.reversed {
			// The model rates on the canonical scale and reports on the scale shown, as a
			// respondent who reads the labels does (assumed: no reversal errors).
			x = f.min + f.max - x
		}
		out[i] = x
	}
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
	return 0, 0, checkChannel(pe.Channel)
}

// checkChannel says whether the model knows a policy channel.
func checkChannel(ch string) error {
	switch ch {
	case "", "none", "moral", "social", "enforce", "economic":
		return nil
	}
	return fmt.Errorf("%w: policy channel %q (want none, moral, social, enforce or economic)", ErrUnsupported, ch)
}

// CheckVignette says whether the model can rate vignette id with parameters params (its
// model: block and params) and response s, before any decision is asked: the fields it rates
// (willingness and unfairness, likert, on any range) and its required parameter base.
func CheckVignette(id string, params map[string]float64, s schema.Schema) error {
	_, err := prepareVignette(&situation.Situation{Scenario: id, Kind: "vignette", Params: params}, &s)
	return err
}
