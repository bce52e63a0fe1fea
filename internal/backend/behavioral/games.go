package behavioral

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/prosim/prosim/internal/schema"
	"github.com/prosim/prosim/internal/situation"
)

// gameConsts are the global constants of the game models. The values are in fitted; the
// calibration fit (TestFit in calibration_test.go) varies a copy.
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
	Kappa float64 // repayment: weight kappa = Kappa*exp(.5 pro) on the sender's loss from trusting, max(0, sent - returned)
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
	// Public goods contributions (conditional cooperation).
	CC0, CCS float64 // conditional-cooperation slope cc = logistic(CC0 + CCS*pro)
	First0   float64 // round 1: target b(.4 + .6cc) + First0, belief b = .5 + .1 zA + .1 alt
	FreeRide float64 // later rounds without punishment: t = cc*b - FreeRide*(1-cc)*lambda
	Fear     float64 // with punishment: t = b(cc + Fear(1-cc)) + Push + Hit*points received
	Push     float64
	Hit      float64
	Inertia  float64 // weight of own last contribution
	SigmaPG  float64 // spread of contributions around the target (share of the endowment)
	// Peer punishment: P = logistic(PunA exp(IotaS ia) dev + PunB) for a member dev =
	// (own - target)/E below one's own contribution, PunLapse otherwise.
	PunA, PunB, PunLapse float64
}

var fitted = gameConsts{
	Beta0: 0.3293, BetaS: 0.1192, Omega0: 0.3086, OmegaS: 1.200, AlphaD: 0.3293, TauD: 0.04082,
	Alpha0: 0.2244, AlphaS: 0.8077, TauR: 0.08386, AccMid: 0.06339, AccSlope: 0.03400,
	Eta0: 0.7723, Rho0: 0.365, Gamma: 0.4849, Kappa: 0.8617,
	Iota0: 6.523, IotaS: 0.8110, Rho: 0.9188, CostW: 0.8117, B0: -2.395, Lapse0: 0.1054, Lapse1: 0.06543,
	CostG: 5.641, Phi0: 0.4730, KGame: 0.25,
	CC0: 0.9, CCS: 1, First0: 0.05, FreeRide: 0.2434, Fear: 0.85, Push: 0.08, Hit: 0.04, Inertia: 0.3, SigmaPG: 0.1006,
	PunA: 8, PunB: -3.081, PunLapse: 0.005,
}

func decideGame(p *params, sit *situation.Situation, s *schema.Schema, r *rand.Rand, o *out) error {
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

func positive(sit *situation.Situation, names ...string) error {
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

func gameDictator(c *gameConsts, p *params, sit *situation.Situation, r *rand.Rand, o *out) error {
	if err := positive(sit, "endowment"); err != nil {
		return err
	}
	E := sit.Params["endowment"]
	var pr [nGrid]float64
	c.dictatorProbs(p, &pr)
	o.set("give", schema.Amount, shareAmount(r, drawIndex(r, pr[:]), E))
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

func gameProposer(c *gameConsts, p *params, sit *situation.Situation, r *rand.Rand, o *out) error {
	if err := positive(sit, "endowment"); err != nil {
		return err
	}
	var pr [nGrid]float64
	c.proposerProbs(p, &pr)
	o.set("offer", schema.Amount, shareAmount(r, drawIndex(r, pr[:]), sit.Params["endowment"]))
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

func gameResponder(c *gameConsts, p *params, sit *situation.Situation, s *schema.Schema, r *rand.Rand, o *out) error {
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
	o.set("choice", schema.Choice, float64(v))
	return nil
}

func gameMAO(c *gameConsts, p *params, sit *situation.Situation, r *rand.Rand, o *out) error {
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
	o.set("min_accept", schema.Amount, mao)
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

func gameTrustSender(c *gameConsts, p *params, sit *situation.Situation, r *rand.Rand, o *out) error {
	if err := positive(sit, "endowment", "multiplier"); err != nil {
		return err
	}
	var pr [nGrid]float64
	c.senderProbs(p, sit.Params["multiplier"], &pr)
	o.set("send", schema.Amount, shareAmount(r, drawIndex(r, pr[:]), sit.Params["endowment"]))
	return nil
}

// returnerProbs: shares r of the amount received R = sent*m; utilities per unit of R.
func (c *gameConsts) returnerProbs(p *params, E, m, sent float64, pr *[nGrid]float64) {
	R := sent * m
	lam, om, be := c.lambda(p), c.omega(p)+c.Gamma*sent/E, c.beta(p)
	ka := c.Kappa * math.Exp(0.5*p.pro)
	for j := range pr {
		rs := float64(j) / (nGrid - 1)
		own := R * (1 - rs)
		oth := E - sent + rs*R
		pr[j] = (lam*own + om*oth - be*math.Max(0, own-oth) - c.AlphaD*math.Max(0, oth-own) - ka*math.Max(0, sent-rs*R)) / R
	}
	softmax(pr[:], c.TauD)
}

func gameTrustReturner(c *gameConsts, p *params, sit *situation.Situation, r *rand.Rand, o *out) error {
	if err := positive(sit, "endowment", "multiplier"); err != nil {
		return err
	}
	sent, err := param(sit, "sent")
	if err != nil {
		return err
	}
	if sent <= 0 {
		o.set("return", schema.Amount, 0)
		return nil
	}
	E, m := sit.Params["endowment"], sit.Params["multiplier"]
	var pr [nGrid]float64
	c.returnerProbs(p, E, m, sent, &pr)
	o.set("return", schema.Amount, shareAmount(r, drawIndex(r, pr[:]), sent*m))
	return nil
}

// ---- public goods --------------------------------------------------------------------------

// pgTarget is the share of the endowment a member aims to contribute (before noise).
func (c *gameConsts) pgTarget(p *params, E float64, pun bool, othersPrev, ownPrev, hit float64) float64 {
	cc := logistic(c.CC0 + c.CCS*p.pro)
	if othersPrev < 0 {
		b := clamp(0.5+0.1*p.zA+0.1*p.alt, 0, 1)
		t := b*(0.4+0.6*cc) + c.First0
		if pun {
			t += c.Push
		}
		return t
	}
	b := clamp(othersPrev/E, 0, 1)
	var t float64
	if pun {
		t = b*(cc+(1-cc)*c.Fear) + c.Push + c.Hit*hit
	} else {
		t = cc*b - c.FreeRide*(1-cc)*c.lambda(p)
	}
	if ownPrev >= 0 {
		t = c.Inertia*clamp(ownPrev/E, 0, 1) + (1-c.Inertia)*t
	}
	return t
}

// pgProbs are the probabilities of contributing shares 0, .1, ..., 1 around target t.
func (c *gameConsts) pgProbs(t float64, pr *[nGrid]float64) {
	for j := range pr {
		d := float64(j)/(nGrid-1) - t
		pr[j] = -d * d / (2 * c.SigmaPG * c.SigmaPG)
	}
	softmax(pr[:], 1)
}

func gamePublicGoods(c *gameConsts, p *params, sit *situation.Situation, r *rand.Rand, o *out) error {
	if err := positive(sit, "endowment", "multiplier", "group_size"); err != nil {
		return err
	}
	E := sit.Params["endowment"]
	t := c.pgTarget(p, E, paramOr(sit, "punishment", 0) > 0, paramOr(sit, "others_prev", -1),
		paramOr(sit, "own_prev", -1), paramOr(sit, "punished_prev", 0))
	var pr [nGrid]float64
	c.pgProbs(t, &pr)
	o.set("contribute", schema.Amount, shareAmount(r, drawIndex(r, pr[:]), E))
	return nil
}

// pgPunishProb is the probability that a member who contributed own punishes one who
// contributed target (endowment E).
func (c *gameConsts) pgPunishProb(p *params, E, own, target float64) float64 {
	dev := (own - target) / E
	if dev <= 0 {
		return c.PunLapse
	}
	return logistic(c.PunA*math.Exp(c.IotaS*p.ia)*dev + c.PunB)
}

func gamePGPunish(c *gameConsts, p *params, sit *situation.Situation, r *rand.Rand, o *out) error {
	if err := positive(sit, "endowment"); err != nil {
		return err
	}
	own, err := param(sit, "own")
	if err != nil {
		return err
	}
	target, err := param(sit, "target")
	if err != nil {
		return err
	}
	E := sit.Params["endowment"]
	ratio := paramOr(sit, "ratio", 3)
	o.set("points", schema.Amount, c.pgPunishPoints(p, E, own, target, ratio, r))
	return nil
}

// pgPunishPoints draws the points a member who contributed own assigns to one who contributed
// target: 0 or, for a punisher, about 1 + 12 dev exp(.3 ia) 3/ratio (lognormal .4), 1-10.
func (c *gameConsts) pgPunishPoints(p *params, E, own, target, ratio float64, r *rand.Rand) float64 {
	if r.Float64() >= c.pgPunishProb(p, E, own, target) {
		return 0
	}
	mu := 1 + 12*math.Max((own-target)/E, 0)*math.Exp(0.3*p.ia)*3/ratio
	return clamp(math.Round(mu*math.Exp(0.4*r.NormFloat64())), 1, 10)
}
