package behavioral

import (
	"math"

	"github.com/prosim/prosim/internal/persona"
)

// Reference means and standard deviations of the trait scales (the population generator's
// distributions; see docs/studies.md). A trait of 0 means "not given" and counts as the mean.
const (
	refProsocialMean, refProsocialSD = 3.0, 0.5
	refAMean, refASD                 = 3.69, 0.47
	refCMean, refCSD                 = 3.29, 0.59
	refNMean, refNSD                 = 2.96, 0.67
	refOMean, refOSD                 = 3.57, 0.59
	refEMean, refESD                 = 3.19, 0.66
)

// incomeByQuintile is the annual per-capita disposable income by quintile (China, NBS 2023,
// yuan): the fall-back when a persona has no AnnualIncome, and the scale for cost sensitivity.
var incomeByQuintile = [6]float64{0, 9215, 20442, 32195, 50220, 95055}

// params are one persona's behavioural parameters. Composites are standardised so that in the
// reference population each has mean 0 and standard deviation 1 (z-scores combined as
// sum(w*z)/sqrt(sum(w^2))).
type params struct {
	zEC, zMI, zSR, zAT, zA, zC, zN, zO, zE float64

	alt   float64 // altruism: EC, AT, A (1,1,1)
	ia    float64 // inequity aversion: MI .8, EC .6
	pro   float64 // general prosociality: EC, MI, SR, AT, A (equal weights)
	norm  float64 // norm compliance: C, SR (1,1)
	react float64 // reactance: -A, N (1,1)
	conf  float64 // conformity weight in (0, .5): .5*logistic(.8 zA - .6 zO); mean about .25
	cs    float64 // cost sensitivity (log income gap): ln(median quintile income / quintile income)
	month float64 // monthly income in the population's currency
	noise float64 // noise multiplier: exp(.15 zN)
}

func z(v, mean, sd float64) float64 {
	if v == 0 {
		return 0
	}
	return (v - mean) / sd
}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func personaParams(p *persona.Persona) params {
	t := p.Traits
	var q params
	q.zEC = z(t.EmpathicConcern, refProsocialMean, refProsocialSD)
	q.zMI = z(t.MoralIdentity, refProsocialMean, refProsocialSD)
	q.zSR = z(t.SocialResponsibility, refProsocialMean, refProsocialSD)
	q.zAT = z(t.AltruisticTendency, refProsocialMean, refProsocialSD)
	q.zA = z(t.Agreeableness, refAMean, refASD)
	q.zC = z(t.Conscientiousness, refCMean, refCSD)
	q.zN = z(t.Neuroticism, refNMean, refNSD)
	q.zO = z(t.Openness, refOMean, refOSD)
	q.zE = z(t.Extraversion, refEMean, refESD)

	const inv3, inv2, inv5 = 0.5773502691896258, 0.7071067811865476, 0.4472135954999579
	q.alt = (q.zEC + q.zAT + q.zA) * inv3
	q.ia = 0.8*q.zMI + 0.6*q.zEC
	q.pro = (q.zEC + q.zMI + q.zSR + q.zAT + q.zA) * inv5
	q.norm = (q.zC + q.zSR) * inv2
	q.react = (q.zN - q.zA) * inv2
	q.conf = 0.5 * logistic(0.8*q.zA-0.6*q.zO)

	qu := p.IncomeQuintile
	if qu < 1 || qu > 5 {
		qu = 3
	}
	q.cs = math.Log(incomeByQuintile[3] / incomeByQuintile[qu])
	if p.AnnualIncome > 0 {
		q.month = p.AnnualIncome / 12
	} else {
		q.month = incomeByQuintile[qu] / 12
	}
	q.noise = math.Exp(0.15 * q.zN)
	return q
}
