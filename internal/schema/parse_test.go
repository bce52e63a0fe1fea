package schema

import (
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

var (
	likert = Schema{Fields: []Field{{Name: "willingness", Kind: Likert, Min: 1, Max: 7,
		LowLabel: "not at all willing", HighLabel: "extremely willing"}}}
	choice = Schema{Fields: []Field{{Name: "decision", Kind: Choice, Options: []string{"accept", "punish"}}}}
	amount = Schema{Fields: []Field{{Name: "give", Kind: Amount, Min: 0, Max: 30, Step: 1}}}
	multi  = Schema{Fields: []Field{
		{Name: "decision", Kind: Choice, Options: []string{"accept", "punish"}},
		{Name: "valence", Kind: Likert, Min: 1, Max: 9},
		{Name: "arousal", Kind: Likert, Min: 1, Max: 9},
	}}
)

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		s      Schema
		raw    string
		want   map[string]float64
		errHas string // non-empty: an error containing this is expected
	}{
		// JSON
		{"bare json", likert, `{"willingness": 6}`, map[string]float64{"willingness": 6}, ""},
		{"json fenced", likert, "```json\n{\"willingness\": 5}\n```", map[string]float64{"willingness": 5}, ""},
		{"json in prose", likert, "Sure! Here is my answer: {\"willingness\": 3} Thanks for asking.", map[string]float64{"willingness": 3}, ""},
		{"json key case", likert, `{"Willingness": 4}`, map[string]float64{"willingness": 4}, ""},
		{"json numeric string", likert, `{"willingness": "6"}`, map[string]float64{"willingness": 6}, ""},
		{"json string with scale", likert, `{"willingness": "6/7"}`, map[string]float64{"willingness": 6}, ""},
		{"json float whole", likert, `{"willingness": 6.0}`, map[string]float64{"willingness": 6}, ""},
		{"json extra reason ignored", likert, `{"willingness": 2, "reason": "I am busy on weekends"}`, map[string]float64{"willingness": 2}, ""},
		{"json other key single field", likert, `{"rating": 5}`, map[string]float64{"willingness": 5}, ""},
		{"json out of range", likert, `{"willingness": 9}`, nil, `field "willingness": 9 is outside 1..7`},
		{"json fractional likert", likert, `{"willingness": 5.5}`, nil, "not a whole number"},
		{"json bool", likert, `{"willingness": true}`, nil, "got true"},
		{"json null", likert, `{"willingness": null}`, nil, "got null"},
		{"json echo template then answer", likert, "Format: {\"willingness\": <integer 1-7>}\n{\"willingness\": 6}", map[string]float64{"willingness": 6}, ""},
		{"json two objects disagree", likert, `{"willingness": 6} or maybe {"willingness": 2}`, nil, "ambiguous"},
		{"json two objects agree", likert, `{"willingness": 6} ... final: {"willingness": 6}`, map[string]float64{"willingness": 6}, ""},
		{"json choice", choice, `{"decision": "Punish"}`, map[string]float64{"decision": 1}, ""},
		{"json choice sentence", choice, `{"decision": "I accept"}`, map[string]float64{"decision": 0}, ""},
		{"json choice bad", choice, `{"decision": "maybe"}`, nil, `"maybe" is not one of accept, punish`},
		{"json choice number", choice, `{"decision": 1}`, nil, "not one of"},
		{"json multi", multi, "```\n{\"decision\": \"accept\", \"valence\": 3, \"arousal\": 7}\n```", map[string]float64{"decision": 0, "valence": 3, "arousal": 7}, ""},
		{"json multi missing", multi, `{"decision": "accept", "valence": 3}`, nil, `missing field "arousal"`},
		{"json nested flattened", Schema{Fields: []Field{{Name: "a.willingness", Kind: Likert, Min: 1, Max: 7}, {Name: "b.willingness", Kind: Likert, Min: 1, Max: 7}}},
			`{"a": {"willingness": 2}, "b": {"willingness": 7}}`, map[string]float64{"a.willingness": 2, "b.willingness": 7}, ""},
		{"multi plain text", multi, "I would accept, and I feel calm.", nil, "no JSON object found"},
		{"amount json", amount, `{"give": 15}`, map[string]float64{"give": 15}, ""},
		{"amount json string money", amount, `{"give": "$10"}`, map[string]float64{"give": 10}, ""},
		{"amount step", amount, `{"give": 10.5}`, nil, "not a multiple of 1"},

		// plain numbers
		{"digit", likert, "6", map[string]float64{"willingness": 6}, ""},
		{"digit dot", likert, "6.", map[string]float64{"willingness": 6}, ""},
		{"slash", likert, "6/7", map[string]float64{"willingness": 6}, ""},
		{"bold", likert, "**6**", map[string]float64{"willingness": 6}, ""},
		{"out of", likert, "I'd say 6 out of 7.", map[string]float64{"willingness": 6}, ""},
		{"word", likert, "six", map[string]float64{"willingness": 6}, ""},
		{"word sentence", likert, "Probably five.", map[string]float64{"willingness": 5}, ""},
		{"rating label", likert, "Rating: 6", map[string]float64{"willingness": 6}, ""},
		{"scale mention", likert, "On a scale of 1 to 7, I would rate my willingness as 3.", map[string]float64{"willingness": 3}, ""},
		{"scale dash", likert, "(1-7) 4", map[string]float64{"willingness": 4}, ""},
		{"labels restated", likert, "Rating: 2 (1 = not at all willing, 7 = extremely willing)", map[string]float64{"willingness": 2}, ""},
		{"label answer alone", likert, "7 = extremely willing", map[string]float64{"willingness": 7}, ""},
		{"scenario price out of range", likert, "Even with the 1000 yuan fine, my willingness is 2.", map[string]float64{"willingness": 2}, ""},
		{"bold beats reasoning", likert, "I thought about 4 at first, but my final answer is **6**.", map[string]float64{"willingness": 6}, ""},
		{"repeated same", likert, "6. Yes, 6.", map[string]float64{"willingness": 6}, ""},
		{"markdown heading", likert, "### Answer: 5", map[string]float64{"willingness": 5}, ""},
		{"between", likert, "Somewhere between 5 and 6.", nil, "ambiguous"},
		{"range dash", likert, "I'd say 5-6", nil, "ambiguous"},
		{"range alone", likert, "5-6", nil, "ambiguous: a range"},
		{"two numbers", likert, "Either 3 or 4.", nil, "none given as the answer"},
		{"hedged second answer", likert, "I would say 5, maybe 6.", nil, "ambiguous"},
		{"or another answer", likert, "My rating is 5 or 6.", nil, "ambiguous"},
		{"hedge on the same answer", likert, "My answer is probably 5.", map[string]float64{"willingness": 5}, ""},
		{"out of range plain", likert, "9", nil, `field "willingness": 9 is outside 1..7`},
		{"zero", likert, "0", nil, "outside 1..7"},
		{"no number", likert, "I would definitely help out.", nil, "no JSON object or number found"},
		{"empty", likert, "   ", nil, "empty reply"},
		{"amount thousands", Schema{Fields: []Field{{Name: "donation", Kind: Amount, Min: 0, Max: 5000}}}, "I would donate 1,000 yuan.", map[string]float64{"donation": 1000}, ""},
		{"amount decimal", Schema{Fields: []Field{{Name: "x", Kind: Amount, Min: 0, Max: 1}}}, "0.25", map[string]float64{"x": 0.25}, ""},

		// choice plain
		{"choice word", choice, "I punish.", map[string]float64{"decision": 1}, ""},
		{"choice case", choice, "ACCEPT", map[string]float64{"decision": 0}, ""},
		{"choice inflected", choice, "I am punishing Player 1 for that split.", map[string]float64{"decision": 1}, ""},
		{"choice negated", choice, "I would not punish.", map[string]float64{"decision": 0}, ""},
		{"choice both", choice, "I could accept or punish.", nil, "ambiguous: names accept and punish"},
		{"choice none", choice, "Hmm, hard to say.", nil, "no option named"},
		{"choice not substring", choice, "That is unacceptable!", nil, "no option named"},

		// refusals
		{"refusal hard", likert, "I can't help with that.", nil, "refusal:"},
		{"refusal hard with number", likert, "I'm sorry, but I cannot provide a rating from 1 to 7.", nil, "refusal:"},
		{"refusal soft", likert, "As an AI, I don't have personal preferences or the ability to volunteer.", nil, "refusal:"},
		{"soft disclaimer then answer", likert, "As an AI, I don't have personal feelings, but as this person I'd rate it 5.", map[string]float64{"willingness": 5}, ""},
		{"refusal json wins", likert, "As an AI language model... {\"willingness\": 4}", map[string]float64{"willingness": 4}, ""},
		{"refusal multi", multi, "As an AI, I don't have emotions.", nil, "refusal:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.s, tc.raw)
			if tc.errHas != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %v, want error containing %q", tc.raw, got, tc.errHas)
				}
				if !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("Parse(%q) error %q, want it to contain %q", tc.raw, err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.raw, err)
			}
			if !sameValues(got, tc.want) {
				t.Fatalf("Parse(%q) = %v, want %v", tc.raw, got, tc.want)
			}
		})
	}
}

func TestInstructions(t *testing.T) {
	got := likert.Instructions()
	want := `Reply with only a JSON object: {"willingness": <integer 1-7>}, where 1 means "not at all willing" and 7 means "extremely willing". Do not add any other text.`
	if got != want {
		t.Errorf("likert instructions:\n got %s\nwant %s", got, want)
	}
	m := multi.Instructions()
	for _, s := range []string{`"decision": <one of "accept", "punish">`, `"valence": <integer 1-9>`, `"arousal": <integer 1-9>`} {
		if !strings.Contains(m, s) {
			t.Errorf("multi instructions %q lack %q", m, s)
		}
	}
	if a := amount.Instructions(); !strings.Contains(a, `"give": <integer 0-30>`) {
		t.Errorf("amount instructions %q", a)
	}
	r := RepairMessage(`field "willingness": 9 is outside 1..7`, likert)
	if !strings.HasPrefix(r, `Your reply could not be used (field "willingness": 9 is outside 1..7). Reply with only`) {
		t.Errorf("repair message %q", r)
	}
}

// A reply written exactly as the instructions ask must parse, for every kind.
func TestInstructionsRoundTrip(t *testing.T) {
	for _, s := range []Schema{likert, choice, amount, multi} {
		if _, err := Parse(s, s.Instructions()); err == nil {
			t.Errorf("the instruction text itself parsed as an answer for %v", s.Fields[0].Name)
		}
	}
}

// FuzzParse checks that Parse never panics, that what it accepts validates, that an accepted
// plain-text reply carries something that ties it to the question (a JSON object, a label or
// phrase, a fraction, bold, an option's name, or nothing but the number itself), and that the
// random printable noise and token soup seeded by the input are never accepted.
// Run: go test ./internal/schema -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"willingness": 6}`, "6/7", "**6**", "between 5 and 6", "six", "I punish.",
		"```json\n{\"decision\": \"accept\", \"valence\": 3}\n```", "{{{{", `{"a":{"b":{"c":1}}}`, "1,000,000.5", "-3", "I can't",
		"tiB`X$5}\\F5kk@?m,ST!rm,j:\"}a)CT}", "7\\FohNgjC,SN9<s>oBads", "Rating: 5", "I would choose 5", "x 5 y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, s := range append([]Schema{likert, choice, amount, multi}, noiseSchemas...) {
			v, err := Parse(s, raw)
			if err == nil {
				if verr := s.Validate(v); verr != nil {
					t.Fatalf("Parse(%q) returned invalid values %v: %v", raw, v, verr)
				}
				if !justified(s, raw) {
					t.Fatalf("Parse(%q) accepted %v with nothing tying it to the question", raw, v)
				}
			} else if err.Error() == "" {
				t.Fatalf("empty error for %q", raw)
			}
		}
		h := fnv.New64a()
		h.Write([]byte(raw))
		r := rand.New(rand.NewPCG(h.Sum64(), 17))
		for _, noise := range []string{randomPrintable(r), tokenSoup(r) + tokenSoup(r)} {
			if nonSpace(noise) < 8 {
				continue
			}
			for _, s := range noiseSchemas {
				if v, err := Parse(s, noise); err == nil {
					t.Fatalf("random noise %q accepted as %v", noise, v)
				}
			}
		}
	})
}

var (
	tieWordRE = regexp.MustCompile(`(?i)answer|rat(e|ing)|score|choice|cho(o)?se|pick|select|response|willingness|likel|amount|final|give|donate|contribute|offer|send|keep|transfer|say|go with|settle|value|\*\*|/|out of|=|:`)
	fillerRE  = regexp.MustCompile(`(?i)^(answer|rating|score|final|ok|okay|sure|yes|so|probably|maybe|perhaps|definitely|about|around|i|d|would|go|with|choose|pick|out|of|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d+)$`)
)

// justified is the fuzz oracle, written apart from the parser: a reply may be accepted only if
// it has a JSON object, a tie word or mark, an option's name, or no words but fillers.
func justified(s Schema, raw string) bool {
	if strings.Contains(raw, "{") || tieWordRE.MatchString(raw) {
		return true
	}
	for _, f := range s.Fields {
		for _, o := range f.Options {
			if strings.Contains(strings.ToLower(raw), strings.ToLower(o)) {
				return true
			}
		}
	}
	for _, w := range regexp.MustCompile(`[\pL\pN]+`).FindAllString(raw, -1) {
		if !fillerRE.MatchString(w) {
			return false
		}
	}
	return true
}

// A range with a negative end is written out: "<integer -4-4>" read as a subtraction (QA15
// F10); a range of non-negative ends keeps its short form.
func TestPlaceholderNegativeRange(t *testing.T) {
	for _, c := range []struct {
		f    Field
		want string
	}{
		{Field{Name: "v", Kind: Likert, Min: -4, Max: 4}, "<integer from -4 to 4>"},
		{Field{Name: "v", Kind: Amount, Min: -2.5, Max: 2.5, Step: 0.5}, "<number from -2.5 to 2.5 in steps of 0.5>"},
		{Field{Name: "v", Kind: Amount, Min: -10, Max: -1}, "<number from -10 to -1>"},
		{Field{Name: "v", Kind: Likert, Min: 1, Max: 7}, "<integer 1-7>"},
	} {
		if got := placeholder(c.f); got != c.want {
			t.Errorf("%+v: %q, want %q", c.f, got, c.want)
		}
	}
}
