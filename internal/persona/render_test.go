package persona

import (
	"regexp"
	"strings"
	"testing"
)

func TestLevelBands(t *testing.T) {
	cases := []struct {
		score, mean, sd float64
		want            string
	}{
		{1.9, 3, .5, VeryLow},
		{2.0, 3, .5, VeryLow}, // exactly -2 SD
		{2.01, 3, .5, Low},
		{2.5, 3, .5, Low}, // exactly -1 SD
		{2.51, 3, .5, Moderate},
		{3.0, 3, .5, Moderate},
		{3.49, 3, .5, Moderate},
		{3.5, 3, .5, High}, // exactly +1 SD
		{3.99, 3, .5, High},
		{4.0, 3, .5, VeryHigh},     // exactly +2 SD
		{4.16, 3.69, .47, High},    // agreeableness +1 SD despite rounding
		{2.75, 3.69, .47, VeryLow}, // agreeableness exactly -2 SD
		{2.76, 3.69, .47, Low},
		{4.3, 2.96, .67, VeryHigh}, // neuroticism +2 SD
		{2.29, 2.96, .67, Low},     // neuroticism exactly -1 SD
		{2.30, 2.96, .67, Moderate},
	}
	for _, c := range cases {
		if got := Level(c.score, c.mean, c.sd); got != c.want {
			t.Errorf("Level(%v, %v, %v) = %q, want %q", c.score, c.mean, c.sd, got, c.want)
		}
	}
}

func TestRenderAgent1(t *testing.T) {
	ps, err := Builtin("prosim104")
	if err != nil {
		t.Fatal(err)
	}
	text := Render(ps[0], RenderOptions{})
	for _, want := range []string{
		"You are a 33-year-old married woman.",
		"You have a college or university education.",
		"You are currently unemployed.",
		"about 4,185 yuan a month (50,220 a year)",
		"second-highest fifth",
		"Your moral identity, how central being a moral person is to who you are, is very high.", // 4.08: +2.16 SD
		"Your social responsibility, how much you feel obliged to contribute to your community and society, is high.",
		"Your empathic concern, how strongly you feel for people who are suffering or in need, is moderate.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("persona text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "4.08") || strings.Contains(text, "average") {
		t.Errorf("scores or averages shown without being asked:\n%s", text)
	}
	scores := Render(ps[0], RenderOptions{ShowScores: true})
	if !strings.Contains(scores, "very high (you score 4.08 on a 1-5 scale)") || strings.Contains(scores, "average") {
		t.Errorf("ShowScores text wrong:\n%s", scores)
	}
	both := Render(ps[0], RenderOptions{ShowScores: true, ShowAverage: true})
	if !strings.Contains(both, "moderate (you score 3.45 on a 1-5 scale; the average is 3.69)") {
		t.Errorf("ShowScores+ShowAverage text wrong:\n%s", both)
	}
	avg := Render(ps[0], RenderOptions{ShowAverage: true})
	if !strings.Contains(avg, "(the average is 2.96 on a 1-5 scale)") {
		t.Errorf("ShowAverage text wrong:\n%s", avg)
	}
}

// TestRenderNoCodes renders every imported and many sampled personas and
// checks the text is plain English: no codes, no underscores, all nine traits.
func TestRenderNoCodes(t *testing.T) {
	orig, _ := Builtin("prosim104")
	sampled, _ := Sample(2000, 5, SampleOptions{})
	code := regexp.MustCompile(`[a-z][A-Z]|_|%!`)
	for _, p := range append(orig, sampled...) {
		text := Render(p, RenderOptions{ShowScores: true, ShowAverage: true})
		if m := code.FindString(text); m != "" {
			t.Fatalf("persona %d text has code-like %q:\n%s", p.ID, m, text)
		}
		if n := strings.Count(text, " (you score "); n != 9 {
			t.Fatalf("persona %d: %d trait sentences, want 9:\n%s", p.ID, n, text)
		}
	}
}

func TestRenderWording(t *testing.T) {
	p := Persona{ID: 1, Gender: Male, Age: 18, Marital: Single, IncomeQuintile: 1, AnnualIncome: 9215,
		Currency: "yuan", Education: EduSeniorHigh, Occupation: Student}
	text := Render(p, RenderOptions{})
	for _, want := range []string{"You are an 18-year-old single man.", "You are a student.",
		"about 768 yuan a month (9,215 a year)", "lowest fifth"} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q:\n%s", want, text)
		}
	}
	p.Age, p.Occupation = 45, "engineer"
	if text := Render(p, RenderOptions{}); !strings.Contains(text, "You work as an engineer.") {
		t.Errorf("article wrong:\n%s", text)
	}
	if got := thousands(1234567.4); got != "1,234,567" {
		t.Errorf("thousands = %q", got)
	}
}

func TestRenderThirdPerson(t *testing.T) {
	p := Persona{ID: 1, Age: 34, Gender: Female, Marital: "married", Education: EduCollege, Occupation: "engineer",
		AnnualIncome: 120000, IncomeQuintile: 4, Currency: "yuan"}
	got := Render(p, RenderOptions{ThirdPerson: true, ShowScores: true})
	for _, want := range []string{"She is a 34-year-old married woman.", "She has a college or university education.",
		"She works as an engineer.", "Her income is about 10,000 yuan a month", "puts her in the second-highest fifth",
		"(she scores "} {
		if !strings.Contains(got, want) {
			t.Errorf("third person lacks %q:\n%s", want, got)
		}
	}
	// Only the opening sentence speaks to the reader; the description is about the person.
	body := strings.TrimPrefix(got, "The person you are to answer as is described here. ")
	if body == got || strings.Contains(body, "You") || strings.Contains(body, "your") || strings.Contains(body, "you") {
		t.Errorf("third person still addresses the reader:\n%s", got)
	}
	p.Gender, p.Occupation = Male, Retired
	got = Render(p, RenderOptions{ThirdPerson: true})
	if !strings.Contains(got, "He is retired.") || !strings.Contains(got, "His income") {
		t.Errorf("male third person:\n%s", got)
	}
}
