package persona

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/prosim/prosim/internal/yamlx"
)

//go:embed data/prosim104_agents.json
var prosim104JSON []byte

// BuiltinData is the file of the built-in population name (a run's manifest hashes it).
func BuiltinData(name string) ([]byte, bool) {
	if name == "prosim104" {
		return prosim104JSON, true
	}
	return nil, false
}

// BuiltinNames lists the populations Builtin knows.
func BuiltinNames() []string { return []string{"prosim104"} }

// Builtin returns a built-in population. "prosim104" is the original study's
// 104 agents, converted as described in the package documentation, so results
// can be compared agent for agent.
func Builtin(name string) ([]Persona, error) {
	switch name {
	case "prosim104":
		return ReadJSON(bytes.NewReader(prosim104JSON), "prosim104_agents.json")
	}
	return nil, fmt.Errorf("persona: unknown built-in population %q (have %s)", name, strings.Join(BuiltinNames(), ", "))
}

// Keys of the original study's agent records.
const (
	oID         = "id"
	oGender     = "Gender"
	oAge        = "Age"
	oAgeBracket = "AgeBracket"
	oMarital    = "MaritalStatus"
	oIncome     = "MonthlyIncome"
	oEducation  = "EducationLevel"
	oOccupation = "Occupation"
)

// originalTraits maps the original trait keys onto ours.
var originalTraits = map[string]string{
	"Empathic_Concern":          "empathic_concern",
	"Moral_Identity":            "moral_identity",
	"Social_Responsibility":     "social_responsibility",
	"Altruistic_Tendency":       "altruistic_tendency",
	"BigFive_Agreeableness":     "agreeableness",
	"BigFive_Conscientiousness": "conscientiousness",
	"BigFive_Neuroticism":       "neuroticism",
	"BigFive_Openness":          "openness",
	"BigFive_Extraversion":      "extraversion",
}

var originalEducation = map[string]string{
	"No Formal Education": EduNone,
	"Primary":             EduPrimary,
	"JuniorHigh":          EduJuniorHigh,
	"SeniorHigh":          EduSeniorHigh,
	"CollegePlus":         EduCollege,
}

// originalOccupations maps the original's occupation codes to plain words.
// Codes not listed are split at capital letters and lower-cased
// ("BusDriver" -> "bus driver").
var originalOccupations = map[string]string{
	"CivilServant":   "civil servant",
	"PrimaryTeacher": "primary school teacher",
	"SelfEmp":        "self-employed",
	"MigrantWorker":  "migrant worker",
	"HouseAgent":     "real estate agent",
	"WaterEng":       "water engineer",
	"Worker":         "factory worker",
}

// isOriginal reports whether a JSON object looks like an original agent record.
func isOriginal(raw json.RawMessage) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return false
	}
	_, a := obj[oMarital]
	_, b := obj[oEducation]
	return a || b
}

type originalRecord struct {
	p      Persona
	income float64
	line   int
}

func readOriginal(elems []element, name string) ([]Persona, error) {
	recs := make([]originalRecord, 0, len(elems))
	for _, e := range elems {
		r, fe := decodeOriginal(e.raw)
		if fe != nil {
			fe.File, fe.Line = name, e.line
			return nil, fe
		}
		r.line = e.line
		recs = append(recs, r)
	}
	// The original stored each agent's quintile only as its income figure.
	var distinct []float64
	for _, r := range recs {
		if !slices.Contains(distinct, r.income) {
			distinct = append(distinct, r.income)
		}
	}
	slices.Sort(distinct)
	table := distinct
	if len(distinct) != 5 {
		table = ChinaQuintileIncome2023[:]
	}
	ps := make([]Persona, len(recs))
	rows := make([]row, len(recs))
	for i, r := range recs {
		q := slices.Index(table, r.income)
		if q < 0 {
			return nil, &FieldError{File: name, Line: r.line, Field: oIncome,
				Msg: fmt.Sprintf("cannot derive an income quintile from %v: the file has %d distinct incomes, not 5, and %v is not one of the 2023 quintile figures %v", r.income, len(distinct), r.income, ChinaQuintileIncome2023)}
		}
		r.p.IncomeQuintile = q + 1
		if errs := normalize(&r.p, false); len(errs) > 0 {
			fe := errs[0]
			fe.File, fe.Line, fe.Field = name, r.line, originalKey(fe.Field)
			return nil, fe
		}
		ps[i], rows[i].line = r.p, r.line
		rows[i].setID(strconv.Itoa(r.p.ID))
	}
	ps, err := finish(&problems{name: name}, ps, rows)
	if fe, ok := err.(*FieldError); ok {
		fe.Field = originalKey(fe.Field)
	}
	return ps, err
}

// originalKey names a prosim field by its key in the original file.
func originalKey(field string) string {
	switch field {
	case "id":
		return oID
	case "gender":
		return oGender
	case "age":
		return oAge
	case "age_bracket":
		return oAgeBracket
	case "marital":
		return oMarital
	case "income_quintile", "annual_income":
		return oIncome
	case "education":
		return oEducation
	case "occupation":
		return oOccupation
	}
	for k, v := range originalTraits {
		if v == field {
			return k
		}
	}
	return field
}

func decodeOriginal(raw json.RawMessage) (originalRecord, *FieldError) {
	var r originalRecord
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return r, &FieldError{Msg: "not a JSON object: " + shorten(raw)}
	}
	str := func(key string) (string, *FieldError) {
		v, ok := obj[key]
		if !ok {
			return "", fieldErr(key, "missing")
		}
		var s string
		if isNull(bytes.TrimSpace(v)) || json.Unmarshal(v, &s) != nil {
			return "", fieldErr(key, "%s is not a string", shorten(v))
		}
		return strings.TrimSpace(s), nil
	}
	// num accepts a JSON number or a string holding one (the original stores
	// incomes as strings).
	num := func(key string) (float64, *FieldError) {
		v, ok := obj[key]
		if !ok {
			return 0, fieldErr(key, "missing")
		}
		if isNull(bytes.TrimSpace(v)) {
			return 0, fieldErr(key, "null: want a number")
		}
		var x float64
		if json.Unmarshal(v, &x) == nil {
			return x, nil
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			if x, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && !math.IsNaN(x) && !math.IsInf(x, 0) {
				return x, nil
			}
		}
		return 0, fieldErr(key, "%s is not a number", shorten(v))
	}
	whole := func(key string) (int, *FieldError) {
		x, fe := num(key)
		if fe == nil && x != math.Trunc(x) {
			fe = fieldErr(key, "%v is not a whole number", x)
		}
		return int(x), fe
	}
	for k := range obj {
		switch k {
		case oID, oGender, oAge, oAgeBracket, oMarital, oIncome, oEducation, oOccupation:
		default:
			if _, ok := originalTraits[k]; !ok {
				return r, fieldErr(fieldName(k), "unknown field in an original-study agent record")
			}
		}
	}
	p := &r.p
	var fe *FieldError
	if p.ID, fe = whole(oID); fe != nil {
		return r, fe
	}
	if p.Gender, fe = str(oGender); fe != nil {
		return r, fe
	}
	if p.Age, fe = whole(oAge); fe != nil {
		return r, fe
	}
	if p.AgeBracket, fe = str(oAgeBracket); fe != nil {
		return r, fe
	}
	if p.Marital, fe = str(oMarital); fe != nil {
		return r, fe
	}
	// The original's "MonthlyIncome" figures are annual quintile means.
	if r.income, fe = num(oIncome); fe != nil {
		return r, fe
	}
	p.AnnualIncome, p.Currency = r.income, "yuan"
	edu, fe := str(oEducation)
	if fe != nil {
		return r, fe
	}
	var ok bool
	if p.Education, ok = originalEducation[edu]; !ok {
		return r, fieldErr(oEducation, "unknown education level %q (want No Formal Education, Primary, JuniorHigh, SeniorHigh or CollegePlus)", yamlx.Clip(edu))
	}
	occ, fe := str(oOccupation)
	if fe != nil {
		return r, fe
	}
	p.Occupation = occupationWords(occ)
	for _, s := range traitSpecs { // fixed order, so the first error is stable
		x, fe := num(originalKey(s.Key))
		if fe != nil {
			return r, fe
		}
		*s.get(&p.Traits) = x
	}
	return r, nil
}

// occupationWords turns an occupation code into plain lower-case words.
func occupationWords(code string) string {
	if w, ok := originalOccupations[code]; ok {
		return w
	}
	var b strings.Builder
	rs := []rune(code)
	for i, c := range rs {
		if i > 0 && unicode.IsUpper(c) && (unicode.IsLower(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1])) {
			b.WriteRune(' ')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
