package persona

// Traits are the nine trait scores on a 1-5 scale.
type Traits struct {
	EmpathicConcern      float64 `json:"empathic_concern"`
	MoralIdentity        float64 `json:"moral_identity"`
	SocialResponsibility float64 `json:"social_responsibility"`
	AltruisticTendency   float64 `json:"altruistic_tendency"`
	Agreeableness        float64 `json:"agreeableness"`
	Conscientiousness    float64 `json:"conscientiousness"`
	Neuroticism          float64 `json:"neuroticism"`
	Openness             float64 `json:"openness"`
	Extraversion         float64 `json:"extraversion"`
}

// Persona is one simulated person. IDs are 1-based and unique within a population.
type Persona struct {
	ID             int     `json:"id"`
	SourceID       string  `json:"source_id,omitempty"` // the text id of an imported file (e.g. "p01"), whose ID is then its position; else empty
	Gender         string  `json:"gender"`              // "male" or "female"
	Age            int     `json:"age"`                 // years
	AgeBracket     string  `json:"age_bracket"`         // e.g. "30-34", "95+"
	Marital        string  `json:"marital"`             // single, married, divorced, widowed
	IncomeQuintile int     `json:"income_quintile"`     // 1 (lowest) .. 5 (highest)
	AnnualIncome   float64 `json:"annual_income"`       // in Currency units per year
	Currency       string  `json:"currency"`            // e.g. "yuan"
	Education      string  `json:"education"`           // none, primary, junior_high, senior_high, college
	Occupation     string  `json:"occupation"`          // a plain word or phrase, e.g. "nurse", "retired"
	Traits         Traits  `json:"traits"`
}
