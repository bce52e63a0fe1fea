package behavioral

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/scenario"
)

// gameConsts are the global constants of the game models. The fitted values are in fitted
// (calibration.go); the calibration helper varies a copy.
type gameConsts struct {
	// Fehr-Schmidt and altruism, shared by dictator, ultimatum and trust.
	Beta0, BetaS   float64 // advantageous inequity aversion beta = Beta0 + BetaS*pro (>= 0)
	Omega0, OmegaS float64 // pure altruism omega = Omega0 * exp(OmegaS*alt)
	AlphaD         float64 // disadvantageous inequity aversion of a giver (dictator, proposer, returner)
	TauD           float64 // logit temperature over shares of the pie
	// Ultimatum responder.
	Alpha0, AlphaS float64 // alpha = Alpha0 * exp(AlphaS*ia)
	TauR           float64 // logit temperature of accept/reject
	// Proposer's belief that an offer s is accepted: logistic((s - AccMid)/AccSlope).
	AccMid, AccSlope float64
	// Trust.
	Eta0  float64 // betrayal/risk aversion of the sender (quadratic in the share sent)
	Rho0  float64 // believed share returned
	Gamma float64 // reciprocity: extra weight on the sender's payoff per share of endowment sent
	// Third-party punishment (binary, Study 2).
	Iota0, IotaS float64 // inequity aversion for others: iota = Iota0*exp(IotaS*ia)
	Rho          float64 // concavity: g(e) = (e / (1/6))^Rho for the inequity share e
	CostW        float64 // weight of cost, per unit of y/judge*10, times cost sensitivity
	B0           float64 // intercept of the punish utility
	Lapse0       float64 // punishment regardless of inequity (fair offers): Lapse0*exp(-Lapse1*y)
	Lapse1       float64
	// Graded TPP.
	CostG float64 // fixed cost of punishing at all in the graded game
	Phi0  float64 // share of the dictator's advantage a punisher removes
	// Cost sensitivity in lab games: lambda = exp(KGame * cs).
	KGame float64
}

var fitted = gameConsts{
	Beta0: 0.3180, BetaS: 0.1337, Omega0: 0.3168, OmegaS: 1.199, AlphaD: 0.4020, TauD: 0.0450,
	Alpha0: 0.1740, AlphaS: 0.9225, TauR: 0.1090, AccMid: 0.06402, AccSlope: 0.03470,
	Eta0: 0.7971, Rho0: 0.365, Gamma: 0.4849,
	Iota0: 6.523, IotaS: 0.8110, Rho: 0.9188, CostW: 0.8117, B0: -2.395, Lapse0: 0.1054, Lapse1: 0.06543,
	CostG: 5.776, Phi0: 0.4660, KGame: 0.25,
}

func decideGame(p *params, sit *backend.Situation, s *scenario.Schema, r *rand.Rand, o *out) error {
	c := &fitted
	switch sit.Scenario {
	case "tpp":
		return gameTPP(c, p, sit, s, r, o)
	case "tpp_graded":
		return gameTPPGraded(c, p, sit, r, o)
	case "dictator":
		return gameDictator(c, p, sit, r, o)
	case "ultimatum_proposer":
		return gameProposer(c, p, sit, r, o)
	case "ultimatum_responder":
		return gameResponder(c, p, sit, s, r, o)
	case "ultimatum_mao":
		return gameMAO(c, p, sit, r, o)
	case "public_goods":
		return gamePublicGoods(c, p, sit, r, o)
	case "public_goods_punish":
		return gamePGPunish(c, p, sit, r, o)
	case "trust_sender":
		return gameTrustSender(c, p, sit, r, o)
	case "trust_returner":
		return gameTrustReturner(c, p, sit, r, o)
	}
	return fmt.Errorf("%w: game %q (modelled games: %v)", ErrUnsupported, sit.Scenario, Games())
}

func positive(sit *backend.Situation, names ...string) error {
	for _, n := range names {
		v, err := param(sit, n)
		if err != nil {
			return err
		}
		if v <= 0 {
			return fmt.Errorf("%w: game %q: parameter %q must be > 0 (got %g)", ErrUnsupported, sit.Scenario, n, v)
		}
	}
	return nil
}

// ---- shared pieces -------------------------------------------------------------------------

func (c *gameConsts) lambda(p *params) float64 { return math.Exp(c.KGame * p.cs) }
func (c *gameConsts) beta(p *params) float64   { return math.Max(0, c.Beta0+c.BetaS*p.pro) }
func (c *gameConsts) omega(p *params) float64  { return c.Omega0 * math.Exp(c.OmegaS*p.alt) }
func (c *gameConsts) alpha(p *params) float64  { return c.Alpha0 * math.Exp(c.AlphaS*p.ia) }
func (c *gameConsts) iota(p *params) float64   { return c.Iota0 * math.Exp(c.IotaS*p.ia) }

const nGrid = 11 // shares 0, .1, ..., 1

// softmax turns utilities into choice probabilities at temperature tau (in place).
func softmax(u []float64, tau float64) {
	mx := math.Inf(-1)
	for _, v := range u {
		mx = math.Max(mx, v)
	}
	var sum float64
	for i, v := range u {
		u[i] = math.Exp((v - mx) / tau)
		sum += u[i]
	}
	for i := range u {
		u[i] /= sum
	}
}

// shareAmount turns grid index j into an amount of total E; interior (non-focal) shares are
// spread uniformly within their decile so that large endowments are not lumpy.
func shareAmount(r *rand.Rand, j int, E float64) float64 {
	s := float64(j) / (nGrid - 1)
	if j != 0 && j != 5 && j != nGrid-1 {
		s += (r.Float64() - 0.5) * 0.098
	}
	return math.Round(s * E)
}

// fsGiver is a giver's utility (in shares of the pie) of keeping 1-s and giving s.
func (c *gameConsts) fsGiver(p *params, s float64) float64 {
	return c.lambda(p)*(1-s) + c.omega(p)*s - c.beta(p)*math.Max(0, 1-2*s) - c.AlphaD*math.Max(0, 2*s-1)
}

// ---- dictator ------------------------------------------------------------------------------

func (c *gameConsts) dictatorProbs(p *params, pr *[nGrid]float64) {
	for j := range pr {
		pr[j] = c.fsGiver(p, float64(j)/(nGrid-1))
	}
	softmax(pr[:], c.TauD)
}

func gameDictator(c *gameConsts, p *params, sit *backend.Situation, r *rand.Rand, o *out) error {
	if err := positive(sit, "endowment"); err != nil {
		return err
	}
	E := sit.Params["endowment"]
	var pr [nGrid]float64
	c.dictatorProbs(p, &pr)
	o.set("give", scenario.Amount, shareAmount(r, drawIndex(r, pr[:]), E))
	return nil
}

// ---- ultimatum -----------------------------------------------------------------------------

func (c *gameConsts) proposerProbs(p *params, pr *[nGrid]float64) {
	for j := range pr {
		s := float64(j) / (nGrid - 1)
		pr[j] = logistic((s-c.AccMid)/c.AccSlope) * c.fsGiver(p, s)
	}
	softmax(pr[:], c.TauD)
}

func gameProposer(c *gameConsts, p *params, sit *backend.Situation, r *rand.Rand, o *out) error {
	if err := positive(sit, "endowment"); err != nil {
		return err
	}
	var pr [nGrid]float64
	c.proposerProbs(p, &pr)
	o.set("offer", scenario.Amount, shareAmount(r, drawIndex(r, pr[:]), sit.Params["endowment"]))
	return nil
}

// accUtility is a responder's utility of accepting share s (rejecting gives 0).
func (c *gameConsts) accUtility(p *params, s float64) float64 {
	return c.lambda(p)*s - c.alpha(p)*math.Max(0, 1-2*s)
}

// rejectProb is the probability that share s is rejected.
func (c *gameConsts) rejectProb(p *params, s float64) float64 {
	return logistic(-c.accUtility(p, s) / c.TauR)
}

func gameResponder(c *gameConsts, p *params, sit *backend.Situation, s *scenario.Schema, r *rand.Rand, o *out) error {
	if err := positive(sit, "endowment"); err != nil {
		return err
	}
	offer, err := param(sit, "offer")
	if err != nil {
		return err
	}
	acc, _, err := choiceIndex(s, "choice", "accept")
	if err != nil {
		return err
	}
	rej, _, err := choiceIndex(s, "choice", "reject")
	if err != nil {
		return err
	}
	v := acc
	if r.Float64() < c.rejectProb(p, offer/sit.Params["endowment"]) {
		v = rej
	}
	o.set("choice", scenario.Choice, float64(v))
	return nil
}

func gameMAO(c *gameConsts, p *params, sit *backend.Situation, r *rand.Rand, o *out) error {
	if err := positive(sit, "endowment"); err != nil {
		return err
	}
	E := sit.Params["endowment"]
	// one logistic draw of the reject/accept noise; the smallest amount accepted with it
	u := r.Float64()
	eps := c.TauR * math.Log(u/(1-u))
	n := int(math.Round(E))
	mao := E
	for a := 0; a <= n; a++ {
		if c.accUtility(p, float64(a)/E)+eps >= 0 {
			mao = float64(a)
			break
		}
	}
	o.set("min_accept", scenario.Amount, mao)
	return nil
}

// ---- trust ---------------------------------------------------------------------------------

func (c *gameConsts) senderProbs(p *params, m float64, pr *[nGrid]float64) {
	rho := clamp(c.Rho0+0.1*p.zA, 0, 1)
	om := c.omega(p)
	lam := c.lambda(p)
	for j := range pr {
		s := float64(j) / (nGrid - 1)
		pr[j] = lam*(1-s+m*rho*s) + om*m*s*(1-rho) - c.Eta0*s*s
	}
	softmax(pr[:], c.TauD)
}

func gameTrustSender(c *gameConsts, p *params, sit *backend.Situation, r *rand.Rand, o *out) error {
	if err := positive(sit, "endowment", "multiplier"); err != nil {
		return err
	}
	var pr [nGrid]float64
	c.senderProbs(p, sit.Params["multiplier"], &pr)
	o.set("send", scenario.Amount, shareAmount(r, drawIndex(r, pr[:]), sit.Params["endowment"]))
	return nil
}

// returnerProbs: shares r of the amount received R = sent*m; utilities per unit of R.
func (c *gameConsts) returnerProbs(p *params, E, m, sent float64, pr *[nGrid]float64) {
	R := sent * m
	lam, om, be := c.lambda(p), c.omega(p)+c.Gamma*sent/E, c.beta(p)
	for j := range pr {
		rs := float64(j) / (nGrid - 1)
		own := R * (1 - rs)
		oth := E - sent + rs*R
		pr[j] = (lam*own + om*oth - be*math.Max(0, own-oth) - c.AlphaD*math.Max(0, oth-own)) / R
	}
	softmax(pr[:], c.TauD)
}

func gameTrustReturner(c *gameConsts, p *params, sit *backend.Situation, r *rand.Rand, o *out) error {
	if err := positive(sit, "endowment", "multiplier"); err != nil {
		return err
	}
	sent, err := param(sit, "sent")
	if err != nil {
		return err
	}
	if sent <= 0 {
		o.set("return", scenario.Amount, 0)
		return nil
	}
	E, m := sit.Params["endowment"], sit.Params["multiplier"]
	var pr [nGrid]float64
	c.returnerProbs(p, E, m, sent, &pr)
	o.set("return", scenario.Amount, shareAmount(r, drawIndex(r, pr[:]), sent*m))
	return nil
}
