package persona

import "fmt"

// Level names used in Persona fields.
const (
	Male   = "male"
	Female = "female"

	Single   = "single"
	Married  = "married"
	Divorced = "divorced"
	Widowed  = "widowed"

	EduNone       = "none"
	EduPrimary    = "primary"
	EduJuniorHigh = "junior_high"
	EduSeniorHigh = "senior_high"
	EduCollege    = "college"

	Student    = "student"
	Retired    = "retired"
	Unemployed = "unemployed"
)

// Genders, MaritalStatuses and EducationLevels list the accepted values, in
// table order (education from least to most).
var (
	Genders         = []string{Male, Female}
	MaritalStatuses = []string{Single, Married, Divorced, Widowed}
	EducationLevels = []string{EduNone, EduPrimary, EduJuniorHigh, EduSeniorHigh, EduCollege}
)

// Target marginals from the original study (studies.md).
var (
	genderWeights    = []float64{0.511, 0.489}
	maritalWeights   = []float64{0.199, 0.712, 0.027, 0.063}
	educationWeights = []float64{0.04, 0.25, 0.36, 0.16, 0.19}
)

// ageBracket is one census age group; ages are drawn uniformly in [Lo, Hi].
type ageBracket struct {
	Name   string
	Lo, Hi int
	Weight float64 // people in millions, China 2020 census (approximate)
}

// ageBrackets: China's 2020 census counts by five-year group (millions,
// rounded). 18-19 is two fifths of the 15-19 group; 95+ is drawn as 95-99.
var ageBrackets = []ageBracket{
	{"18-19", 18, 19, 29.1},
	{"20-24", 20, 24, 74.9},
	{"25-29", 25, 29, 91.8},
	{"30-34", 30, 34, 124.1},
	{"35-39", 35, 39, 99.0},
	{"40-44", 40, 44, 93.0},
	{"45-49", 45, 49, 114.2},
	{"50-54", 50, 54, 121.2},
	{"55-59", 55, 59, 101.4},
	{"60-64", 60, 64, 73.4},
	{"65-69", 65, 69, 74.0},
	{"70-74", 70, 74, 49.6},
	{"75-79", 75, 79, 31.2},
	{"80-84", 80, 84, 20.4},
	{"85-89", 85, 89, 10.6},
	{"90-94", 90, 94, 3.3},
	{"95+", 95, 99, 0.9},
}

// AgeBrackets returns the 17 bracket names in order, "18-19" .. "95+".
func AgeBrackets() []string {
	out := make([]string, len(ageBrackets))
	for i, b := range ageBrackets {
		out[i] = b.Name
	}
	return out
}

// BracketOf returns the age bracket containing age (18 or older).
func BracketOf(age int) (string, error) {
	if age < 18 {
		return "", fmt.Errorf("age %d is under 18, the youngest bracket", age)
	}
	for _, b := range ageBrackets {
		if age <= b.Hi {
			return b.Name, nil
		}
	}
	return "95+", nil
}

// maritalSeed is a census-like age profile of marital status (single,
// married, divorced, widowed) per bracket. Zeros are structural: nobody under
// 25 is widowed and nobody under 20 is divorced. The seed is raked (IPF) so the
// population marginals equal maritalWeights; the zeros stay zero.
var maritalSeed = [][]float64{
	{0.99, 0.01, 0, 0},         // 18-19: legal marriage age in China is 20/22
	{0.80, 0.19, 0.01, 0},      // 20-24
	{0.45, 0.52, 0.025, 0.005}, // 25-29
	{0.18, 0.78, 0.035, 0.005}, // 30-34
	{0.08, 0.86, 0.05, 0.01},   // 35-39
	{0.05, 0.88, 0.055, 0.015}, // 40-44
	{0.04, 0.88, 0.055, 0.025}, // 45-49
	{0.03, 0.88, 0.05, 0.04},   // 50-54
	{0.025, 0.87, 0.045, 0.06}, // 55-59
	{0.02, 0.85, 0.04, 0.09},   // 60-64
	{0.02, 0.80, 0.03, 0.15},   // 65-69
	{0.02, 0.72, 0.02, 0.24},   // 70-74
	{0.02, 0.62, 0.02, 0.34},   // 75-79
	{0.02, 0.48, 0.01, 0.49},   // 80-84
	{0.02, 0.35, 0.01, 0.62},   // 85-89
	{0.02, 0.22, 0.01, 0.75},   // 90-94
	{0.02, 0.15, 0.01, 0.82},   // 95+
}

// educationSeed is the age profile of highest completed education (none,
// primary, junior high, senior high, college+): older Chinese cohorts had far
// less schooling. Nobody aged 18-19 has completed college. Raked like
// maritalSeed so the marginals equal educationWeights.
var educationSeed = [][]float64{
	{0.002, 0.03, 0.37, 0.60, 0}, // 18-19
	{0.005, 0.04, 0.30, 0.26, 0.40},
	{0.005, 0.05, 0.32, 0.20, 0.42},
	{0.01, 0.08, 0.38, 0.18, 0.35},
	{0.01, 0.12, 0.42, 0.16, 0.29},
	{0.02, 0.18, 0.46, 0.16, 0.18},
	{0.02, 0.20, 0.48, 0.18, 0.12},
	{0.03, 0.28, 0.44, 0.17, 0.08},
	{0.04, 0.32, 0.40, 0.18, 0.06},
	{0.05, 0.40, 0.37, 0.12, 0.06},
	{0.08, 0.48, 0.28, 0.10, 0.06},
	{0.12, 0.52, 0.22, 0.08, 0.06},
	{0.20, 0.50, 0.18, 0.07, 0.05},
	{0.30, 0.45, 0.15, 0.06, 0.04},
	{0.40, 0.40, 0.12, 0.05, 0.03},
	{0.50, 0.35, 0.10, 0.03, 0.02},
	{0.55, 0.32, 0.08, 0.03, 0.02},
}

// incomeEducationTilt sets how strongly income quintile rises with education:
// the seed for (education e, quintile q) is exp(tilt*(e-2)*(q-3)), raked to
// equal quintile weights and the education marginals.
const incomeEducationTilt = 0.2

// ChinaQuintileIncome2023 is the per-capita disposable income (yuan per year)
// of each national quintile, lowest first, from China's 2023 statistical
// communique. The original study used these figures but labelled them monthly.
var ChinaQuintileIncome2023 = [5]float64{9215, 20442, 32195, 50220, 95055}

// unemployedShare is the share of working-age people (21-60) who are unemployed.
const unemployedShare = 0.052

// job is one of the 19 occupations with its entry requirements.
type job struct {
	Name   string
	MinEdu int // index into EducationLevels
	MinAge int
}

// jobs are the 19 occupations of working-age personas, chosen uniformly among
// those whose education and age requirements the persona meets. The original
// study's codes map onto these (see originalOccupations).
var jobs = []job{
	{"factory worker", 1, 18},
	{"migrant worker", 0, 18},
	{"farmer", 0, 18},
	{"construction worker", 0, 18},
	{"waiter", 0, 18},
	{"courier", 1, 18},
	{"trader", 1, 18},
	{"self-employed", 1, 18},
	{"driver", 2, 18},
	{"salesperson", 2, 18},
	{"real estate agent", 2, 18},
	{"nurse", 3, 20},
	{"primary school teacher", 4, 22},
	{"civil servant", 4, 22},
	{"programmer", 4, 22},
	{"engineer", 4, 22},
	{"consultant", 4, 24},
	{"doctor", 4, 25},
	{"professor", 4, 30},
}

// Traits' reference distributions, Normal(Mean, SD) clipped to [1, 5].

// TraitSpec describes one of the nine traits.
type TraitSpec struct {
	Key      string  // json/CSV name, e.g. "empathic_concern"
	Name     string  // plain English, e.g. "empathic concern"
	Meaning  string  // what a high score means, for persona text
	Mean, SD float64 // reference distribution
	get      func(*Traits) *float64
}

var traitSpecs = []TraitSpec{
	{"empathic_concern", "empathic concern", "how strongly you feel for people who are suffering or in need", 3, 0.5,
		func(t *Traits) *float64 { return &t.EmpathicConcern }},
	{"moral_identity", "moral identity", "how central being a moral person is to who you are", 3, 0.5,
		func(t *Traits) *float64 { return &t.MoralIdentity }},
	{"social_responsibility", "social responsibility", "how much you feel obliged to contribute to your community and society", 3, 0.5,
		func(t *Traits) *float64 { return &t.SocialResponsibility }},
	{"altruistic_tendency", "altruistic tendency", "how readily you help others at a cost to yourself", 3, 0.5,
		func(t *Traits) *float64 { return &t.AltruisticTendency }},
	{"agreeableness", "agreeableness", "how warm, trusting and cooperative you are", 3.69, 0.47,
		func(t *Traits) *float64 { return &t.Agreeableness }},
	{"conscientiousness", "conscientiousness", "how organised, dutiful and self-disciplined you are", 3.29, 0.59,
		func(t *Traits) *float64 { return &t.Conscientiousness }},
	{"neuroticism", "neuroticism", "how easily you feel anxious, tense or upset", 2.96, 0.67,
		func(t *Traits) *float64 { return &t.Neuroticism }},
	{"openness", "openness", "how curious you are and how open to new ideas and experiences", 3.57, 0.59,
		func(t *Traits) *float64 { return &t.Openness }},
	{"extraversion", "extraversion", "how outgoing, talkative and energetic you are with others", 3.19, 0.66,
		func(t *Traits) *float64 { return &t.Extraversion }},
}

// TraitSpecs returns the nine traits in a fixed order: the four prosocial
// traits, then agreeableness, conscientiousness, neuroticism, openness,
// extraversion.
func TraitSpecs() []TraitSpec { return append([]TraitSpec(nil), traitSpecs...) }

// Get returns the score of the trait with the given key (see TraitSpecs).
func (t Traits) Get(key string) (float64, bool) {
	for _, s := range traitSpecs {
		if s.Key == key {
			return *s.get(&t), true
		}
	}
	return 0, false
}
