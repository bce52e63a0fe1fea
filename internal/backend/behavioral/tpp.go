package behavioral

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/prosim/prosim/internal/schema"
	"github.com/prosim/prosim/internal/situation"
)

// humanValence is the human pre-choice valence (-100..100) by inequity d = 15 - x in the $30
// game (game.HumanTPP.ValenceByX); d = 0 (fair) is an extrapolation (+8), not a measured figure.
//
// PROVENANCE: an INPUT, not a result. The model's valence before choosing is this human curve
// (scaled by the agent's inequity sensitivity), inserted as its latent: it does not follow from
// the agent's own payoff comparison, and it is drawn before, and independently of, the agent's
// punishment decision. Any agreement of the builtin's valence with the human valence is
// therefore by construction, and valence cannot mediate the builtin's punishment.
var humanValence = [6]float64{8, 3.5, -2.5, -4.8, -6.8, -8.6}

// inequity returns the inequity share e = (pie/2 - x)/pie (>= 0) and its felt size
// g = (6e)^Rho, so that g = 1 at the largest inequity of Study 2 (x = 10 of 30).
func (c *gameConsts) inequity(x, pie float64) (e, g float64) {
	e = (pie/2 - x) / pie
	if e <= 0 {
		return 0, 0
	}
	return e, math.Pow(6*e, c.Rho)
}

// tppProb is the probability that a third party punishes in the binary game.
func (c *gameConsts) tppProb(p *params, x, y, pie, judge float64) float64 {
	_, g := c.inequity(x, pie)
	yr := y / judge * 10
	lapse := c.Lapse0 * math.Exp(-c.Lapse1*yr)
	v := c.iota(p)*g - c.CostW*c.lambda(p)*yr + c.B0
	return lapse + (1-lapse)*logistic(v)
}

func gameTPP(c *gameConsts, p *params, sit *situation.Situation, s *schema.Schema, r *rand.Rand, o *out) error {
	x, err := param(sit, "x")
	if err != nil {
		return err
	}
	y, err := param(sit, "y")
	if err != nil {
		return err
	}
	pie := paramOr(sit, "pie", 30)
	judge := paramOr(sit, "judge", 10)
	if pie <= 0 || judge <= 0 {
		return fmt.Errorf("%w: game tpp: pie and judge must be > 0 (got %g, %g)", ErrUnsupported, pie, judge)
	}
	iAcc, asked, err := choiceIndex(s, "choice", "accept")
	if err != nil {
		return err
	}
	iPun := 1
	if asked {
		if iPun, _, err = choiceIndex(s, "choice", "punish"); err != nil {
			return err
		}
	}
	e, g := c.inequity(x, pie)
	sens := math.Exp(0.4 * p.ia)
	// valence: the human curve by inequity (in units of 1/30 of the pie), scaled by sensitivity
	d := math.Min(e*30, 5)
	i := int(d)
	vh := humanValence[5]
	if i < 5 {
		vh = humanValence[i] + (d-float64(i))*(humanValence[i+1]-humanValence[i])
	}
	vb := (humanValence[0] + (vh-humanValence[0])*sens) / 25
	ab := 3 + 2*g*sens
	o.set("valence_before", schema.Likert, drawRating(r, vb, 1.0*p.noise, -4, 4))
	o.set("arousal_before", schema.Likert, drawRating(r, ab, 1.3*p.noise, 1, 9))
	pun := r.Float64() < c.tppProb(p, x, y, pie, judge)
	yr := y / judge * 10
	va, aa := vb-0.4*g*sens, ab-0.3
	ch := iAcc
	if pun {
		ch = iPun
		va, aa = vb+0.5*g*sens-0.04*yr, ab+0.2
	}
	o.set("choice", schema.Choice, float64(ch))
	o.set("valence_after", schema.Likert, drawRating(r, va, 1.0*p.noise, -4, 4))
	o.set("arousal_after", schema.Likert, drawRating(r, aa, 1.3*p.noise, 1, 9))
	return nil
}

// gradedProb is the probability of punishing at all in the graded game (transfer t of pie).
func (c *gameConsts) gradedProb(p *params, t, pie float64) float64 {
	_, g := c.inequity(t, pie)
	lapse := c.Lapse0 * math.Exp(-c.Lapse1*10)
	return lapse + (1-lapse)*logistic(c.iota(p)*g-c.CostG*c.lambda(p)+c.B0)
}

// gradedMean is the mean number of points a punisher assigns (before noise and rounding).
func (c *gameConsts) gradedMean(p *params, t, pie, ratio float64) float64 {
	adv := pie - 2*t
	if adv <= 0 {
		return 2
	}
	return c.Phi0 * math.Exp(0.3*p.ia) / c.lambda(p) * adv / ratio
}

func gameTPPGraded(c *gameConsts, p *params, sit *situation.Situation, r *rand.Rand, o *out) error {
	t, err := param(sit, "transfer")
	if err != nil {
		return err
	}
	endow := paramOr(sit, "endowment", 50)
	ratio := paramOr(sit, "ratio", 3)
	pie := paramOr(sit, "pie", 100)
	if endow <= 0 || ratio <= 0 || pie <= 0 {
		return fmt.Errorf("%w: game tpp_graded: endowment, ratio and pie must be > 0 (got %g, %g, %g)", ErrUnsupported, endow, ratio, pie)
	}
	pts := 0.0
	if r.Float64() < c.gradedProb(p, t, pie) {
		mu := c.gradedMean(p, t, pie, ratio)
		pts = clamp(math.Round(mu*math.Exp(0.35*r.NormFloat64()-0.06)), 1, endow)
	}
	o.set("points", schema.Amount, pts)
	return nil
}
