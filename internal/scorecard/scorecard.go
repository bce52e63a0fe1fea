// Package scorecard measures how human-like a backend's answers are: distances between its
// answer distribution and a published human one (Jensen-Shannon, Wasserstein), RMSE of a
// curve against the human curve, and individual-level shares, each with a bootstrap CI over
// agents. The human references are data files in references/ with their sources (README.md
// there), which also says which of them the behavioural model was fitted to.
package scorecard

import (
	"embed"
	"encoding/csv"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/table"
)

//go:embed references/*.csv
var refFS embed.FS

// Schema declares results/scorecard.csv.
var Schema = table.Schema{Name: "scorecard", Doc: "human-likeness scorecard: each backend's distance from the human reference, per measure (written by studies with a human reference: the games' dictator game in its standard framing, a custom one (games[i].scenarios) is not scored; Study 2's binary third-party punishment)", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "model_version", Type: table.String, Doc: "the model versions that answered the scored decisions, as the run recorded them (model_version of decisions.csv; several are sorted and joined by \"; \"); builtin-baseline: the behavioural model's version; empty when the provider reported none"},
	{Name: "measure", Type: table.String, Doc: "what value is: dictator_js_distance, dictator_wasserstein, dictator_give_nothing, dictator_give_half (games); tpp_rmse_by_x, tpp_rmse_by_y, tpp_never_punish, tpp_always_punish (Study 2; see the report's scorecard section)"},
	{Name: "estimand", Type: table.String, Doc: "what value estimates: a distance of the pooled decisions' distribution (or RMSE of the pooled rates' curve) from the human one; a share of decisions (the games' dictator shares: the very estimate and interval of games_stats.csv's row, control condition); a share of agents"},
	{Name: "value", Type: table.Float, Doc: "the backend's value, from the control condition's valid decisions; a distance's is bias-corrected, the interval's own point at the resamples' median (a sample's distance overstates its population's: at 40 agents a JS distance of 0.078 by 0.11 on average): 0 when the sample is no farther from the human reference than resampling alone makes it"},
	{Name: "ci_low", Type: table.Float, Doc: "95% confidence interval (ci_method), lower bound"},
	{Name: "ci_high", Type: table.Float, Doc: "upper bound"},
	{Name: "ci_method", Type: table.String, Doc: "how the interval is computed: a distance's, \"" + BootMethod + "\" (each agent with all its decisions): sqrt(max(0, 2d² - q)) for d the sample's distance and q the 97.5% and 2.5% quantiles of the resamples' squared distances (Davison & Hinkley 1997, eq. 5.6). In simulations of 40 to 400 agents (go run ./bench/scorecardci) it covered the JS distance in 90-100% of samples, the Wasserstein distance in 77-100% (it has kinks where the distributions cross; the RMSEs were not simulated); the percentile interval, the scorecard's before, and Efron's BC interval covered a distance of 0 in none; a share of decisions', games_stats.csv's ci_method; a share of agents', Wilson over agents (one answer each); empty without an interval"},
	{Name: "human", Type: table.Float, Doc: "the human figure (empty for distances: a distance from the human reference is 0 for humans)"},
	{Name: "reference", Type: table.String, Doc: "the human reference's source"},
	{Name: "human_fitted", Type: table.Bool, Doc: "1 when the behavioural model (builtin) was calibrated to this human figure: its value is then in-sample, not a validation"},
}}

// Row is one scorecard measure of one backend.
type Row struct {
	Backend, ModelVersion, Measure, Estimand string
	Value, Lo, Hi                            float64
	Method                                   string // how Lo and Hi are computed; "" without them
	Human                                    float64
	Reference                                string
	Fitted                                   bool
}

// Values are the row's cells in Schema order.
func (r Row) Values() []any {
	return []any{r.Backend, r.ModelVersion, r.Measure, r.Estimand, r.Value, r.Lo, r.Hi, r.Method, r.Human, r.Reference, r.Fitted}
}

// Estimands of the scorecard's own measures. A distance's value is BootstrapDistance's,
// bias-corrected: the plug-in distance of the sample overstates the population's.
const (
	EstDistance    = "distance of the pooled decisions from the human distribution; value bias-corrected (the basic bootstrap's median)"
	EstCurveRMSE   = "RMSE of the pooled rates from the human curve; value bias-corrected (the basic bootstrap's median)"
	EstAgentShares = "share of agents"
)

// BootMethod is the ci_method of BootstrapDistance's intervals.
const BootMethod = "basic bootstrap of the squared distance over agents (1000 resamples)"

// WilsonAgents is the ci_method of a share of agents, each one answer.
const WilsonAgents = "Wilson over agents"

// Versions is the model_version cell of the distinct versions in set ("" ignored): sorted,
// joined by "; ".
func Versions(set map[string]bool) string {
	vs := slices.Sorted(maps.Keys(set))
	vs = slices.DeleteFunc(vs, func(v string) bool { return v == "" })
	return strings.Join(vs, "; ")
}

// JSDistance is the Jensen-Shannon distance between two distributions over the same bins:
// the square root of the JS divergence with base-2 logarithms, so it lies in [0, 1]. Each
// is normalised to sum 1 first.
func JSDistance(p, q []float64) (float64, error) {
	p, q, err := norm2(p, q)
	if err != nil {
		return math.NaN(), err
	}
	kl := func(a, m []float64) float64 {
		var s float64
		for i := range a {
			if a[i] > 0 {
				s += a[i] * math.Log2(a[i]/m[i])
			}
		}
		return s
	}
	m := make([]float64, len(p))
	for i := range p {
		m[i] = (p[i] + q[i]) / 2
	}
	d := (kl(p, m) + kl(q, m)) / 2
	return math.Sqrt(math.Max(d, 0)), nil
}

// Wasserstein is the first Wasserstein (earth mover's) distance between two distributions on
// the ordered points pos: the integral of |F_p - F_q|, Σ_k |P_k - Q_k| (pos[k+1] - pos[k]), in
// the units of pos.
func Wasserstein(p, q, pos []float64) (float64, error) {
	p, q, err := norm2(p, q)
	if err != nil {
		return math.NaN(), err
	}
	if len(pos) != len(p) {
		return math.NaN(), fmt.Errorf("scorecard: %d positions for %d bins", len(pos), len(p))
	}
	var w, fp, fq float64
	for k := 0; k+1 < len(p); k++ {
		fp += p[k]
		fq += q[k]
		w += math.Abs(fp-fq) * (pos[k+1] - pos[k])
	}
	return w, nil
}

func norm2(p, q []float64) ([]float64, []float64, error) {
	if len(p) != len(q) || len(p) == 0 {
		return nil, nil, fmt.Errorf("scorecard: distributions of %d and %d bins", len(p), len(q))
	}
	n := func(x []float64) ([]float64, error) {
		var s float64
		for _, v := range x {
			if v < 0 || math.IsNaN(v) {
				return nil, fmt.Errorf("scorecard: negative or NaN mass %v", v)
			}
			s += v
		}
		if s == 0 {
			return nil, fmt.Errorf("scorecard: empty distribution")
		}
		out := make([]float64, len(x))
		for i, v := range x {
			out[i] = v / s
		}
		return out, nil
	}
	a, err := n(p)
	if err != nil {
		return nil, nil, err
	}
	b, err := n(q)
	return a, b, err
}

// Reps is the number of resamples of BootstrapDistance (BootMethod says it).
const Reps = 1000

// BootstrapDistance is the bias-corrected value and 95% interval (analysis.DistanceCI) of
// the plug-in distance stat of n units (agents), from Resample's draws. NaNs below 2 units.
func BootstrapDistance(n int, seed uint64, stat func(units []int) float64) (value, lo, hi float64) {
	if n < 2 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	est, draws := Resample(n, seed, stat)
	return analysis.DistanceCI(est, draws, 0.95)
}

// Resample is stat of the n units (agents) and of Reps resamples of them drawn with
// replacement; stat gets the unit indices and returns NaN when undefined.
func Resample(n int, seed uint64, stat func(units []int) float64) (est float64, draws []float64) {
	rng := rand.New(rand.NewPCG(seed, 0x73636f7265))
	draws = make([]float64, Reps)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	est = stat(idx)
	for b := range draws {
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		draws[b] = stat(idx)
	}
	return est, draws
}

// Dictator is the human dictator reference: proportions of gifts by decile of the pie.
type Dictator struct {
	Share, Proportion []float64
	Source            string
	Fitted            bool
}

// HumanDictator reads references/dictator_engel2011.csv.
func HumanDictator() (Dictator, error) {
	f, err := refFS.Open("references/dictator_engel2011.csv")
	if err != nil {
		return Dictator{}, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return Dictator{}, fmt.Errorf("dictator reference: %w", err)
	}
	d := Dictator{Source: "Engel 2011, meta-study of 616 dictator treatments", Fitted: true}
	for i, r := range recs[1:] {
		s, err1 := strconv.ParseFloat(r[0], 64)
		p, err2 := strconv.ParseFloat(r[1], 64)
		if err1 != nil || err2 != nil {
			return Dictator{}, fmt.Errorf("dictator reference line %d: not numbers: %v", i+2, r)
		}
		d.Share, d.Proportion = append(d.Share, s), append(d.Proportion, p)
	}
	return d, nil
}

// Baseline labels the behavioural model's scores computed alongside a run that does not
// include it (`builtin` among the backends): the same agents, schedule, seeds and control
// condition, decided by the embedded model during the analysis. It is not an LLM.
const Baseline = "builtin-baseline"
