// Command scorecardci measures how often the scorecard's 95% intervals of a distance from the
// human dictator distribution cover the population's distance, by simulation: populations of
// known gift distributions P (each agent gives 3 gifts; a replicate repeats the agent's first
// gift with probability 1/2, else draws afresh, so an agent's gifts are correlated as an LLM's
// or the behavioural model's are), samples of n agents, each resampled as the scorecard does
// (scorecard.Resample, 1000 resamples). It compares, on the same resamples, the percentile
// interval (the scorecard's before), Efron's (1981) bias-corrected (BC) percentile interval,
// and the scorecard's: the basic bootstrap of the squared distance (analysis.DistanceCI).
// It prints, per distance, population, n and method, the coverage, the mean width, and the
// mean absolute error of the value (the plug-in distance, or the basic bootstrap's median).
//
//	go run ./bench/scorecardci [-sims 400] [-n 40,120,400]
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/scorecard"
)

func main() {
	sims := flag.Int("sims", 400, "samples per population and n")
	ns := flag.String("n", "40,120,400", "agents per sample, comma-separated")
	flag.Parse()
	ref, err := scorecard.HumanDictator()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	h := ref.Proportion
	mix := func(w float64) []float64 { // share w of the gifts at half the pie
		p := slices.Clone(h)
		for i := range p {
			p[i] *= 1 - w
		}
		p[5] += w
		return p
	}
	shift := func(k int) []float64 { // every gift k deciles higher, at most the whole pie
		p := make([]float64, len(h))
		for i, v := range h {
			p[min(i+k, len(h)-1)] += v
		}
		return p
	}
	pops := []struct {
		name string
		p    []float64
	}{{"human", h}, {"10% at half", mix(0.1)}, {"40% at half", mix(0.4)}, {"1 decile up", shift(1)}, {"2 deciles up", shift(2)}}
	measures := []struct {
		name string
		f    func(p []float64) float64
	}{
		{"js_distance", func(p []float64) float64 { v, _ := scorecard.JSDistance(p, h); return v }},
		{"wasserstein", func(p []float64) float64 { v, _ := scorecard.Wasserstein(p, h, ref.Share); return v }},
	}
	fmt.Println("measure       population    truth   n    method      coverage  width   |value-truth|")
	for _, m := range measures {
		for _, pop := range pops {
			truth := m.f(pop.p)
			for _, f := range strings.Split(*ns, ",") {
				n, err := strconv.Atoi(f)
				if err != nil || n < 2 {
					fmt.Fprintf(os.Stderr, "-n: %q is not a number of agents (2 or more)\n", f)
					os.Exit(2)
				}
				rng := rand.New(rand.NewPCG(uint64(n), 1))
				var cover, width, absErr [3]float64
				for sim := range *sims {
					agents := sample(rng, pop.p, n)
					stat := func(idx []int) float64 {
						d := make([]float64, len(h))
						for _, i := range idx {
							for _, g := range agents[i] {
								d[g]++
							}
						}
						return m.f(d)
					}
					est, draws := scorecard.Resample(n, uint64(sim), stat)
					v, lo, hi := analysis.DistanceCI(est, draws, 0.95)
					plo, phi := analysis.PercentileCI(draws, 0.95)
					blo, bhi := bc(est, draws)
					for k, iv := range [][3]float64{{est, plo, phi}, {est, blo, bhi}, {v, lo, hi}} {
						if iv[1] <= truth && truth <= iv[2] {
							cover[k]++
						}
						width[k] += iv[2] - iv[1]
						absErr[k] += math.Abs(iv[0] - truth)
					}
				}
				for k, name := range []string{"percentile", "BC", "basic sq"} {
					s := float64(*sims)
					fmt.Printf("%-13s %-13s %.3f  %-4d %-11s %5.1f%%   %.3f   %.3f\n", m.name, pop.name, truth, n, name, 100*cover[k]/s, width[k]/s, absErr[k]/s)
				}
			}
		}
	}
}

// sample draws n agents of 3 gifts (deciles) from p: a replicate repeats the first gift with
// probability 1/2.
func sample(rng *rand.Rand, p []float64, n int) [][3]int {
	draw := func() int {
		u := rng.Float64()
		for k, v := range p {
			if u -= v; u < 0 {
				return k
			}
		}
		return len(p) - 1
	}
	out := make([][3]int, n)
	for i := range out {
		out[i][0] = draw()
		for r := 1; r < 3; r++ {
			out[i][r] = out[i][0]
			if rng.Float64() < 0.5 {
				out[i][r] = draw()
			}
		}
	}
	return out
}

// bc is Efron's (1981) bias-corrected percentile interval at 95%: z0 = Phi^-1(share of draws
// below est, ties half), quantiles at Phi(2 z0 -+ 1.96).
func bc(est float64, draws []float64) (lo, hi float64) {
	var below float64
	var s []float64
	for _, d := range draws {
		if math.IsNaN(d) {
			continue
		}
		s = append(s, d)
		switch {
		case d < est:
			below++
		case d == est:
			below += 0.5
		}
	}
	z := distuv.UnitNormal
	z0 := z.Quantile(below / float64(len(s)))
	zc := z.Quantile(0.975)
	slices.Sort(s)
	return quantile7(s, z.CDF(2*z0-zc)), quantile7(s, z.CDF(2*z0+zc))
}

// quantile7 is R's type-7 quantile of sorted s.
func quantile7(s []float64, p float64) float64 {
	h := float64(len(s)-1) * p
	i := int(math.Floor(h))
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[i] + (h-float64(i))*(s[i+1]-s[i])
}
