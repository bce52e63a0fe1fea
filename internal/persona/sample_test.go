package persona

import (
	"bytes"
	"math"
	"reflect"
	"regexp"
	"slices"
	"testing"
)

// chi2 returns Pearson's statistic for observed counts against probabilities.
func chi2(t *testing.T, counts map[string]int, levels []string, probs []float64, n int) float64 {
	t.Helper()
	var s, ptot float64
	for _, p := range probs {
		ptot += p
	}
	total := 0
	for i, l := range levels {
		e := probs[i] / ptot * float64(n)
		d := float64(counts[l]) - e
		s += d * d / e
		total += counts[l]
	}
	if total != n {
		t.Fatalf("counts cover %d of %d personas; unexpected levels in %v", total, n, counts)
	}
	return s
}

// Critical values of chi-square at p = 0.001 by degrees of freedom.
var chi2Crit001 = map[int]float64{1: 10.83, 3: 16.27, 4: 18.47, 16: 39.25}

func TestSampleMarginals(t *testing.T) {
	const n = 20000
	ps, err := Sample(n, 42, SampleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	count := func(f func(Persona) string) map[string]int {
		m := map[string]int{}
		for _, p := range ps {
			m[f(p)]++
		}
		return m
	}
	var ageW []float64
	for _, w := range jointTables().ageWeights {
		ageW = append(ageW, w)
	}
	quint := []string{"1", "2", "3", "4", "5"}
	cases := []struct {
		name   string
		f      func(Persona) string
		levels []string
		probs  []float64
	}{
		{"gender", func(p Persona) string { return p.Gender }, Genders, genderWeights},
		{"marital", func(p Persona) string { return p.Marital }, MaritalStatuses, maritalWeights},
		{"education", func(p Persona) string { return p.Education }, EducationLevels, educationWeights},
		{"quintile", func(p Persona) string { return quint[p.IncomeQuintile-1] }, quint, []float64{.2, .2, .2, .2, .2}},
		{"age bracket", func(p Persona) string { return p.AgeBracket }, AgeBrackets(), ageW},
	}
	for _, c := range cases {
		stat := chi2(t, count(c.f), c.levels, c.probs, n)
		if crit := chi2Crit001[len(c.levels)-1]; stat > crit {
			t.Errorf("%s: chi-square %.2f > %.2f (p<.001) against the stated marginals %v; counts %v", c.name, stat, crit, c.probs, count(c.f))
		}
	}

	// Unemployment among working-age personas (21-60).
	var working, unemployed int
	for _, p := range ps {
		if p.Age >= 21 && p.Age <= 60 {
			working++
			if p.Occupation == Unemployed {
				unemployed++
			}
		}
	}
	if share := float64(unemployed) / float64(working); share < 0.045 || share > 0.059 {
		t.Errorf("unemployed share of working age = %.4f, want about %.3f", share, unemployedShare)
	}

	for _, s := range TraitSpecs() {
		var sum, sq float64
		for _, p := range ps {
			v, _ := p.Traits.Get(s.Key)
			sum += v
			sq += v * v
		}
		mean := sum / n
		sd := math.Sqrt(sq/n - mean*mean)
		if abs(mean-s.Mean) > 0.02 || abs(sd-s.SD) > 0.02 {
			t.Errorf("%s: mean %.3f sd %.3f, want about %.2f and %.2f", s.Key, mean, sd, s.Mean, s.SD)
		}
	}
}

// TestRakedTablesKeepMarginals checks the joint tables reproduce the stated
// marginals exactly (before sampling noise).
func TestRakedTablesKeepMarginals(t *testing.T) {
	tb := jointTables()
	check := func(name string, cond [][]float64, rows, want []float64) {
		for j := range want {
			var s float64
			for i := range cond {
				s += rows[i] * cond[i][j]
			}
			var tot float64
			for _, w := range want {
				tot += w
			}
			if abs(s-want[j]/tot) > 1e-9 {
				t.Errorf("%s level %d: marginal %.6f, want %.6f", name, j, s, want[j])
			}
		}
	}
	check("marital", tb.marital, tb.ageWeights, maritalWeights)
	check("education", tb.education, tb.ageWeights, educationWeights)
	check("quintile", tb.quintile, educationWeights, []float64{.2, .2, .2, .2, .2})
}

func TestSampleConstraints(t *testing.T) {
	plain := regexp.MustCompile(`^[a-z][a-z -]*[a-z]$`)
	minEdu := map[string]int{}
	minAge := map[string]int{}
	for _, j := range jobs {
		minEdu[j.Name], minAge[j.Name] = j.MinEdu, j.MinAge
	}
	for _, seed := range []uint64{1, 2, 3} {
		ps, err := Sample(5000, seed, SampleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := Validate(ps); err != nil {
			t.Fatalf("seed %d: sampled population fails validation: %v", seed, err)
		}
		married1819 := 0
		for i, p := range ps {
			if p.ID != i+1 {
				t.Fatalf("persona %d has id %d", i, p.ID)
			}
			edu := slices.Index(EducationLevels, p.Education)
			bad := func(why string) { t.Errorf("seed %d: %s: %+v", seed, why, p) }
			if b, _ := BracketOf(p.Age); b != p.AgeBracket {
				bad("age outside its bracket")
			}
			if p.Marital == Widowed && p.Age < 25 {
				bad("widowed under 25")
			}
			if p.Age < 20 && p.Marital != Single && p.Marital != Married {
				bad("divorced or widowed under 20")
			}
			if p.Age < 20 && p.Marital == Married {
				married1819++
			}
			if p.Age < 20 && p.Education == EduCollege {
				bad("college degree under 20")
			}
			if (p.Occupation == Retired) != (p.Age > 60) {
				bad("retired exactly when over 60")
			}
			if p.Occupation == Student && (p.Age > 20 || edu < 2) {
				bad("student over 20 or without junior high")
			}
			if p.Age <= 20 && edu >= 2 && p.Occupation != Student {
				bad("18-20 with schooling but not a student")
			}
			if m, ok := minEdu[p.Occupation]; ok && (edu < m || p.Age < minAge[p.Occupation]) {
				bad("job's education or age requirement not met")
			}
			switch p.Occupation {
			case "professor", "doctor", "engineer", "civil servant", "programmer":
				if p.Education != EduCollege {
					bad("professional without college")
				}
			}
			if !plain.MatchString(p.Occupation) {
				bad("occupation is not plain words")
			}
			if p.AnnualIncome != ChinaQuintileIncome2023[p.IncomeQuintile-1] || p.Currency != "yuan" {
				bad("income does not match quintile")
			}
		}
		if married1819 > 5000/100 {
			t.Errorf("seed %d: %d married under 20; want few", seed, married1819)
		}
	}
}

func TestSampleDeterministic(t *testing.T) {
	csvOf := func(seed uint64, opt SampleOptions) []byte {
		ps, err := Sample(300, seed, opt)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteCSV(&b, ps); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b := csvOf(7, SampleOptions{}), csvOf(7, SampleOptions{})
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different populations")
	}
	if bytes.Equal(a, csvOf(8, SampleOptions{})) {
		t.Error("different seeds gave the same population")
	}
	if bytes.Equal(a, csvOf(7, SampleOptions{Stream: 1})) {
		t.Error("different streams gave the same population")
	}
	// A prefix of a larger sample is the smaller sample: growing N keeps agents.
	small, _ := Sample(10, 7, SampleOptions{})
	big, _ := Sample(300, 7, SampleOptions{})
	if !reflect.DeepEqual(small, big[:10]) {
		t.Error("Sample(10) is not a prefix of Sample(300) with the same seed")
	}
}

func TestSampleOptions(t *testing.T) {
	if _, err := Sample(0, 1, SampleOptions{}); err == nil {
		t.Error("n=0 accepted")
	}
	if _, err := Sample(5, 1, SampleOptions{Currency: "dollars"}); err == nil {
		t.Error("non-yuan currency without incomes accepted (yuan figures would be mislabelled)")
	}
	inc := [5]float64{10000, 25000, 40000, 60000, 120000}
	ps, err := Sample(50, 1, SampleOptions{Currency: "dollars", QuintileIncome: inc})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Currency != "dollars" || p.AnnualIncome != inc[p.IncomeQuintile-1] {
			t.Fatalf("income options not applied: %+v", p)
		}
	}
	if _, err := Sample(5, 1, SampleOptions{QuintileIncome: [5]float64{5, 4, 3, 2, 1}}); err == nil {
		t.Error("falling quintile incomes accepted")
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func BenchmarkSample10k(b *testing.B) {
	for b.Loop() {
		if _, err := Sample(10000, 1, SampleOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	ps, _ := Builtin("prosim104")
	for b.Loop() {
		_ = Render(ps[0], RenderOptions{ShowScores: true})
	}
}
