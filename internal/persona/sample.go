package persona

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
)

// SampleOptions configures Sample.
type SampleOptions struct {
	// Currency labels incomes; "" means "yuan".
	Currency string
	// QuintileIncome is the annual income of each quintile, lowest first.
	// The zero value means ChinaQuintileIncome2023, which is only allowed when
	// the currency is yuan (the figures are in yuan).
	QuintileIncome [5]float64
	// Stream selects the PCG stream, so independent populations can share a
	// seed; 0 is a valid stream.
	Stream uint64
}

// sampleStreamSalt keeps persona draws apart from other packages that may use
// the same seed and stream numbers.
const sampleStreamSalt = 0x70657273_6f6e61 // "persona"

// Sample draws n personas with IDs 1..n. The same seed and options always give
// the same population. See the package documentation for the distributions.
func Sample(n int, seed uint64, opt SampleOptions) ([]Persona, error) {
	if n < 1 {
		return nil, fmt.Errorf("persona: sample size must be at least 1, got %d", n)
	}
	currency := opt.Currency
	if currency == "" {
		currency = "yuan"
	}
	incomes := opt.QuintileIncome
	if incomes == ([5]float64{}) {
		if currency != "yuan" {
			return nil, fmt.Errorf("persona: currency %q needs QuintileIncome (the built-in quintile incomes are in yuan)", currency)
		}
		incomes = ChinaQuintileIncome2023
	}
	for q, v := range incomes {
		if !(v >= 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("persona: QuintileIncome[%d] = %v is not a non-negative number", q, v)
		}
		if q > 0 && v < incomes[q-1] {
			return nil, fmt.Errorf("persona: QuintileIncome must rise from lowest to highest quintile; [%d] = %v < [%d] = %v", q, v, q-1, incomes[q-1])
		}
	}
	t := jointTables()
	r := rand.New(rand.NewPCG(seed, opt.Stream^sampleStreamSalt))
	out := make([]Persona, n)
	for i := range out {
		p := &out[i]
		p.ID = i + 1
		p.Gender = Genders[draw(r, genderWeights)]
		b := draw(r, t.ageWeights)
		br := ageBrackets[b]
		p.AgeBracket = br.Name
		p.Age = br.Lo + r.IntN(br.Hi-br.Lo+1)
		p.Marital = MaritalStatuses[draw(r, t.marital[b])]
		e := draw(r, t.education[b])
		p.Education = EducationLevels[e]
		q := draw(r, t.quintile[e])
		p.IncomeQuintile = q + 1
		p.AnnualIncome = incomes[q]
		p.Currency = currency
		p.Occupation = drawOccupation(r, p.Age, e)
		for _, s := range traitSpecs {
			*s.get(&p.Traits) = drawTrait(r, s.Mean, s.SD)
		}
	}
	return out, nil
}

// drawOccupation applies the occupation rules: 18-20 with at least junior high
// are students (at school or college), over 60 retired, everyone else is
// unemployed (5.2%) or in a job whose education and age requirements they meet.
func drawOccupation(r *rand.Rand, age, edu int) string {
	switch {
	case age > 60:
		return Retired
	case age <= 20 && edu >= 2:
		return Student
	}
	if r.Float64() < unemployedShare {
		return Unemployed
	}
	// The k-th eligible job, counted twice rather than collected: no allocation per persona
	// (a million-agent population spent most of its sampling time growing that slice).
	n := 0
	for _, j := range jobs {
		if edu >= j.MinEdu && age >= j.MinAge {
			n++
		}
	}
	k := r.IntN(n)
	for _, j := range jobs {
		if edu >= j.MinEdu && age >= j.MinAge {
			if k == 0 {
				return j.Name
			}
			k--
		}
	}
	panic("unreachable")
}

// drawTrait is Normal(mean, sd) clipped to [1, 5] and rounded to 0.01 like
// the original study's scores.
func drawTrait(r *rand.Rand, mean, sd float64) float64 {
	v := mean + sd*r.NormFloat64()
	v = math.Min(5, math.Max(1, v))
	return math.Round(v*100) / 100
}

// draw returns an index with probability proportional to w.
func draw(r *rand.Rand, w []float64) int {
	var total float64
	for _, x := range w {
		total += x
	}
	u := r.Float64() * total
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	// Rounding can leave u just above the last weight: return the last
	// index with positive weight.
	for i := len(w) - 1; i >= 0; i-- {
		if w[i] > 0 {
			return i
		}
	}
	panic("persona: draw from all-zero weights")
}

type tables struct {
	ageWeights []float64   // per bracket, sums to 1
	marital    [][]float64 // P(marital | bracket)
	education  [][]float64 // P(education | bracket)
	quintile   [][]float64 // P(quintile | education)
}

var (
	tablesOnce sync.Once
	tablesVal  tables
)

func jointTables() *tables {
	tablesOnce.Do(func() {
		age := make([]float64, len(ageBrackets))
		var tot float64
		for _, b := range ageBrackets {
			tot += b.Weight
		}
		for i, b := range ageBrackets {
			age[i] = b.Weight / tot
		}
		tablesVal.ageWeights = age
		tablesVal.marital = conditional(rake(maritalSeed, age, maritalWeights))
		tablesVal.education = conditional(rake(educationSeed, age, educationWeights))
		seed := make([][]float64, len(EducationLevels))
		for e := range seed {
			seed[e] = make([]float64, 5)
			for q := range 5 {
				seed[e][q] = math.Exp(incomeEducationTilt * float64((e-2)*(q-2)))
			}
		}
		tablesVal.quintile = conditional(rake(seed, educationWeights, []float64{.2, .2, .2, .2, .2}))
	})
	return &tablesVal
}

// rake runs iterative proportional fitting: it scales the seed table until its
// row sums equal rows (summing to 1) and its column sums are proportional to cols.
// Zero cells stay zero, so structural impossibilities survive.
func rake(seed [][]float64, rows, cols []float64) [][]float64 {
	// The stated marital shares sum to 1.001: rescale targets to sum to 1.
	cols = conditional([][]float64{cols})[0]
	t := make([][]float64, len(seed))
	for i := range seed {
		t[i] = append([]float64(nil), seed[i]...)
	}
	for range 10000 {
		for i := range t {
			var s float64
			for _, x := range t[i] {
				s += x
			}
			for j := range t[i] {
				t[i][j] *= rows[i] / s
			}
		}
		var worst float64
		for j := range cols {
			var s float64
			for i := range t {
				s += t[i][j]
			}
			worst = math.Max(worst, math.Abs(s-cols[j]))
			for i := range t {
				t[i][j] *= cols[j] / s
			}
		}
		if worst < 1e-13 {
			break
		}
	}
	return t
}

// conditional turns a joint table into row-conditional distributions.
func conditional(t [][]float64) [][]float64 {
	out := make([][]float64, len(t))
	for i, row := range t {
		var s float64
		for _, x := range row {
			s += x
		}
		out[i] = make([]float64, len(row))
		for j, x := range row {
			out[i][j] = x / s
		}
	}
	return out
}
