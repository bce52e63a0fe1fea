package persona

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// FieldError reports a bad value in a population file or a Persona. File and
// Line are empty/zero when unknown; Field is the column (CSV) or key (JSON).
type FieldError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "field %s: ", e.Field)
	}
	b.WriteString(e.Msg)
	return b.String()
}

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
		if err := normalize(&p); err != nil {
			return fmt.Errorf("persona %d (index %d): %w", ps[i].ID, i, err)
		}
		if j, dup := seen[p.ID]; dup {
			return fmt.Errorf("persona index %d: %w", i, fieldErr("id", "duplicate id %d (also at index %d)", p.ID, j))
		}
		seen[p.ID] = i
	}
	return nil
}

// normalize checks p and lower-cases gender, marital status and education.
// An empty age bracket is filled from the age; a non-empty one must match it.
func normalize(p *Persona) *FieldError {
	if p.ID < 1 {
		return fieldErr("id", "%d is not a positive id", p.ID)
	}
	p.Gender = strings.ToLower(strings.TrimSpace(p.Gender))
	if !slices.Contains(Genders, p.Gender) {
		return fieldErr("gender", "unknown gender %q (want male or female)", p.Gender)
	}
	if p.Age < 18 || p.Age > 120 {
		return fieldErr("age", "%d is outside 18..120", p.Age)
	}
	want, _ := BracketOf(p.Age)
	p.AgeBracket = strings.TrimSpace(p.AgeBracket)
	switch p.AgeBracket {
	case "":
		p.AgeBracket = want
	case want:
	default:
		if !slices.Contains(AgeBrackets(), p.AgeBracket) {
			return fieldErr("age_bracket", "unknown age bracket %q (want one of %s)", p.AgeBracket, strings.Join(AgeBrackets(), ", "))
		}
		return fieldErr("age_bracket", "%q does not contain age %d (want %q)", p.AgeBracket, p.Age, want)
	}
	p.Marital = strings.ToLower(strings.TrimSpace(p.Marital))
	if !slices.Contains(MaritalStatuses, p.Marital) {
		return fieldErr("marital", "unknown marital status %q (want %s)", p.Marital, strings.Join(MaritalStatuses, ", "))
	}
	if p.IncomeQuintile < 1 || p.IncomeQuintile > 5 {
		return fieldErr("income_quintile", "%d is outside 1..5", p.IncomeQuintile)
	}
	if !(p.AnnualIncome >= 0) || math.IsInf(p.AnnualIncome, 0) {
		return fieldErr("annual_income", "%v is not a non-negative amount", p.AnnualIncome)
	}
	p.Currency = strings.TrimSpace(p.Currency)
	if p.Currency == "" {
		return fieldErr("currency", "is empty")
	}
	p.Education = strings.ToLower(strings.TrimSpace(p.Education))
	if !slices.Contains(EducationLevels, p.Education) {
		return fieldErr("education", "unknown education level %q (want %s)", p.Education, strings.Join(EducationLevels, ", "))
	}
	p.Occupation = strings.TrimSpace(p.Occupation)
	if p.Occupation == "" {
		return fieldErr("occupation", "is empty")
	}
	for _, s := range traitSpecs {
		v := *s.get(&p.Traits)
		if !(v >= 1 && v <= 5) {
			return fieldErr(s.Key, "trait score %v is outside 1..5", v)
		}
	}
	return nil
}
