package persona

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// RenderOptions controls persona text.
type RenderOptions struct {
	ShowScores  bool // add each trait's score on the 1-5 scale
	ShowAverage bool // add the reference population's average for each trait
	// ThirdPerson writes about the person ("She is ...") instead of to them ("You are ...").
	ThirdPerson bool
}

// Level words, from lowest to highest.
const (
	VeryLow  = "very low"
	Low      = "low"
	Moderate = "moderate"
	High     = "high"
	VeryHigh = "very high"
)

// Level places score in z-bands of Normal(mean, sd): at or below -2 SD very
// low, at or below -1 SD low, below +1 SD moderate, below +2 SD high, else very
// high. A tolerance keeps scores exactly on a band edge (e.g. 3.5 for mean 3,
// sd 0.5) from flipping with floating-point rounding.
func Level(score, mean, sd float64) string {
	const eps = 1e-9
	z := (score - mean) / sd
	switch {
	case z <= -2+eps:
		return VeryLow
	case z <= -1+eps:
		return Low
	case z < 1-eps:
		return Moderate
	case z < 2-eps:
		return High
	}
	return VeryHigh
}

// Level is Level(score, s.Mean, s.SD).
func (s TraitSpec) Level(score float64) string { return Level(score, s.Mean, s.SD) }

// Render writes p as persona text: a paragraph of demographics and income, then one
// sentence per trait with its level word. It is in the second person ("You are ...") unless
// opt.ThirdPerson.
func Render(p Persona, opt RenderOptions) string {
	v := second
	if opt.ThirdPerson {
		v = third(p.Gender)
	}
	var b strings.Builder
	woman := "man"
	if p.Gender == Female {
		woman = "woman"
	}
	if opt.ThirdPerson {
		b.WriteString("The person you are to answer as is described here. ")
	}
	fmt.Fprintf(&b, "%s %s %s %d-year-old %s %s. ", v.Subj, v.Be, ageArticle(p.Age), p.Age, p.Marital, woman)
	b.WriteString(v.fix(educationSentence(p.Education)))
	b.WriteString(" ")
	b.WriteString(v.fix(occupationSentence(p.Occupation)))
	fmt.Fprintf(&b, " %s income is about %s %s a month (%s a year), which puts %s in the %s of the population by income.\n\n",
		v.Poss, thousands(p.AnnualIncome/12), p.Currency, thousands(p.AnnualIncome), v.Obj, quintileWords(p.IncomeQuintile))
	b.WriteString("Compared with most people:\n")
	for _, s := range traitSpecs {
		x := *s.get(&p.Traits)
		fmt.Fprintf(&b, "%s %s, %s, is %s", v.Poss, s.Name, v.meaning(s.Meaning), s.Level(x))
		switch {
		case opt.ShowScores && opt.ShowAverage:
			fmt.Fprintf(&b, " (%s %s %.2f on a 1-5 scale; the average is %.2f)", v.subj(), v.Score, x, s.Mean)
		case opt.ShowScores:
			fmt.Fprintf(&b, " (%s %s %.2f on a 1-5 scale)", v.subj(), v.Score, x)
		case opt.ShowAverage:
			fmt.Fprintf(&b, " (the average is %.2f on a 1-5 scale)", s.Mean)
		}
		b.WriteString(".\n")
	}
	return b.String()
}

// voice is the grammatical person persona text is written in.
type voice struct{ Subj, Obj, Poss, Be, Have, Score string }

var second = voice{Subj: "You", Obj: "you", Poss: "Your", Be: "are", Have: "have", Score: "score"}

func third(gender string) voice {
	if gender == Female {
		return voice{Subj: "She", Obj: "her", Poss: "Her", Be: "is", Have: "has", Score: "scores"}
	}
	return voice{Subj: "He", Obj: "him", Poss: "His", Be: "is", Have: "has", Score: "scores"}
}

func (v voice) subj() string { return strings.ToLower(v.Subj) }

// meaning rewrites a trait's second-person meaning (traitSpecs) in v.
func (v voice) meaning(m string) string {
	if v == second {
		return m
	}
	self := "himself"
	if v.Obj == "her" {
		self = "herself"
	}
	s, poss := v.subj(), strings.ToLower(v.Poss)
	return strings.NewReplacer("who you are", "who "+s+" is", "you are", s+" is", "you feel", s+" feels",
		"you help", s+" helps", "yourself", self, "your ", poss+" ").Replace(m)
}

// fix rewrites a second-person sentence of educationSentence or occupationSentence in v.
func (v voice) fix(s string) string {
	if v == second {
		return s
	}
	for _, r := range [][2]string{{"You are ", v.Subj + " " + v.Be + " "}, {"You have ", v.Subj + " " + v.Have + " "},
		{"You work ", v.Subj + " works "}, {"You ", v.Subj + " "}, {"Your ", v.Poss + " "}} {
		if strings.HasPrefix(s, r[0]) {
			return r[1] + s[len(r[0]):]
		}
	}
	return s
}

func ageArticle(age int) string {
	s := strconv.Itoa(age)
	if s[0] == '8' || age == 11 || age == 18 {
		return "an"
	}
	return "a"
}

func educationSentence(e string) string {
	switch e {
	case EduNone:
		return "You had no formal schooling."
	case EduPrimary:
		return "You finished primary school."
	case EduJuniorHigh:
		return "You finished junior high school."
	case EduSeniorHigh:
		return "You finished senior high school."
	case EduCollege:
		return "You have a college or university education."
	}
	return fmt.Sprintf("Your education: %s.", e)
}

func occupationSentence(o string) string {
	switch o {
	case Student:
		return "You are a student."
	case Retired:
		return "You are retired."
	case Unemployed:
		return "You are currently unemployed."
	case "self-employed":
		return "You are self-employed."
	}
	article := "a"
	if o != "" && strings.ContainsRune("aeiouAEIOU", rune(o[0])) {
		article = "an"
	}
	return fmt.Sprintf("You work as %s %s.", article, o)
}

func quintileWords(q int) string {
	switch q {
	case 1:
		return "lowest fifth"
	case 2:
		return "second-lowest fifth"
	case 3:
		return "middle fifth"
	case 4:
		return "second-highest fifth"
	case 5:
		return "highest fifth"
	}
	return fmt.Sprintf("quintile %d", q)
}

// thousands formats a rounded amount with comma separators: 50220 -> "50,220".
func thousands(x float64) string {
	s := strconv.FormatFloat(math.Round(x), 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
