package persona

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/prosim/prosim/internal/yamlx"
)

// FieldError reports a bad value in a population file or a Persona: a located error as every
// input file's (yamlx.Error). File and Line are empty/zero when unknown; Col is the 1-based byte
// column of the cell (CSV) or key (JSON); Field is the column (CSV) or key (JSON).
type FieldError = yamlx.Error

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks a population built in code: every persona's fields (as
// described in the package documentation) and unique positive IDs.
func Validate(ps []Persona) error {
	if len(ps) == 0 {
		return fmt.Errorf("persona: empty population")
	}
	seen := make(map[int]int, len(ps))
	for i := range ps {
		p := ps[i]
		if p.ID < 1 {
			return fmt.Errorf("persona index %d: %w", i, fieldErr("id", "%d is not a positive id", p.ID))
		}
		if errs := normalize(&p, false); len(errs) > 0 {
			return fmt.Errorf("persona %d (index %d): %w", ps[i].ID, i, errs[0])
		}
		if j, dup := seen[p.ID]; dup {
			return fmt.Errorf("persona index %d: %w", i, fieldErr("id", "duplicate id %d (also at index %d)", p.ID, j))
		}
		seen[p.ID] = i
	}
	return nil
}

// normalize checks p and lower-cases gender, marital status and education (also mapping
// the education synonyms of educationSynonyms). An empty age bracket is filled from the age; a
// non-empty one must match it. deriveQuintile skips the income quintile check: the caller
// fills it in from the income afterwards (deriveQuintiles). It returns every problem found,
// in column order.
func normalize(p *Persona, deriveQuintile bool) []*FieldError {
	var errs []*FieldError
	bad := func(field, format string, args ...any) { errs = append(errs, fieldErr(field, format, args...)) }
	p.Gender = strings.ToLower(strings.TrimSpace(p.Gender))
	if !slices.Contains(Genders, p.Gender) {
		bad("gender", "unknown gender %q (want male or female)", yamlx.Clip(p.Gender))
	}
	p.AgeBracket = strings.TrimSpace(p.AgeBracket)
	if p.Age < 18 || p.Age > 120 {
		bad("age", "%d is outside 18..120", p.Age)
	} else {
		want, _ := BracketOf(p.Age)
		switch p.AgeBracket {
		case "":
			p.AgeBracket = want
		case want:
		default:
			if !slices.Contains(AgeBrackets(), p.AgeBracket) {
				bad("age_bracket", "unknown age bracket %q (want one of %s, or leave it out to have it computed from age)", yamlx.Clip(p.AgeBracket), strings.Join(AgeBrackets(), ", "))
			} else {
				bad("age_bracket", "%q does not contain age %d (want %q, or leave it out to have it computed from age)", p.AgeBracket, p.Age, want)
			}
		}
	}
	p.Marital = strings.ToLower(strings.TrimSpace(p.Marital))
	if !slices.Contains(MaritalStatuses, p.Marital) {
		bad("marital", "unknown marital status %q (want %s)", yamlx.Clip(p.Marital), strings.Join(MaritalStatuses, ", "))
	}
	if !deriveQuintile && (p.IncomeQuintile < 1 || p.IncomeQuintile > 5) {
		bad("income_quintile", "%d is outside 1..5", p.IncomeQuintile)
	}
	if !(p.AnnualIncome >= 0) || math.IsInf(p.AnnualIncome, 0) {
		bad("annual_income", "%v is not a non-negative amount", p.AnnualIncome)
	}
	p.Currency = TrimCurrency(p.Currency)
	if p.Currency == "" {
		bad("currency", "is empty")
	}
	edu := strings.ToLower(strings.Join(strings.FieldsFunc(p.Education, func(r rune) bool { return r == ' ' || r == '-' || r == '_' }), "_"))
	if e, ok := educationSynonyms[edu]; ok {
		edu = e
	}
	p.Education = edu
	if !slices.Contains(EducationLevels, p.Education) {
		bad("education", "unknown education level %q (want %s; synonyms such as postgraduate, bachelor, high_school are listed in docs/population.md)", yamlx.Clip(p.Education), strings.Join(EducationLevels, ", "))
	}
	p.Occupation = strings.TrimSpace(p.Occupation)
	if p.Occupation == "" {
		bad("occupation", "is empty")
	}
	for _, s := range traitSpecs {
		v := *s.get(&p.Traits)
		if !(v >= 1 && v <= 5) {
			bad(s.Key, "trait score %v is outside 1..5", v)
		}
	}
	return errs
}

// educationSynonyms maps common names of a highest completed education onto the five levels
// (after lower-casing and joining words with _). College means college or more, so every
// degree maps to it.
var educationSynonyms = map[string]string{
	"no_formal_education": EduNone, "no_schooling": EduNone,
	"elementary": EduPrimary, "elementary_school": EduPrimary, "primary_school": EduPrimary,
	"junior_high_school": EduJuniorHigh, "middle_school": EduJuniorHigh, "lower_secondary": EduJuniorHigh,
	"senior_high_school": EduSeniorHigh, "high_school": EduSeniorHigh, "upper_secondary": EduSeniorHigh, "secondary": EduSeniorHigh,
	"college_plus": EduCollege, "collegeplus": EduCollege, "university": EduCollege, "bachelor": EduCollege, "bachelors": EduCollege,
	"graduate": EduCollege, "postgraduate": EduCollege, "master": EduCollege, "masters": EduCollege,
	"phd": EduCollege, "doctorate": EduCollege,
}
