package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Parse reads an agent's reply into field values and validates them against s. It accepts only
// an answer it can justify, and says why it rejects any other reply (the reason is recorded
// with the decision and shown to the model when it is asked again):
//
//   - A JSON object, bare, in ``` fences or surrounded by prose, is read first. Keys match field
//     names case-insensitively; nested objects are flattened with dots ({"a": {"b": 1}} is
//     field "a.b"); keys that are not fields are ignored (models like to add a "reason"); for a
//     single-field schema one answer-like key ("rating", "answer", "score"...) also names the
//     field. Numbers may be JSON numbers or numeric strings; a choice field takes the option
//     string (case-insensitive) and yields the option's 0-based index.
//   - For a single-field schema, plain replies are also read when a number is tied to the
//     question: the whole reply is the number ("6", "6/7", "**6**", "six", "Probably five."), or
//     a label or phrase gives it ("Rating: 6", "I would choose 5", "I'd say 6 out of 7.",
//     "willingness: 6", "my final answer is **6**"). Other numbers are never answers: "x 5 y"
//     and random text with one digit in range are invalid. For a choice field, a reply that
//     reads as text and names exactly one option.
//   - A refusal ("I can't help with that", or "As an AI, ..." with no answer) is an error
//     starting "refusal:"; two different candidate answers for one field, or a range, are an
//     error saying ambiguous; text full of symbols prose never uses is rejected as noise.
//
// The error text is the invalid-reason recorded with the decision, so it is short and specific.
func Parse(s Schema, raw string) (map[string]float64, error) {
	text := strings.TrimSpace(raw)
	if text == "" {
		return nil, errors.New("empty reply")
	}
	if len(s.Fields) == 0 {
		return nil, errors.New("schema has no fields")
	}
	if isHardRefusal(text) {
		return nil, refusal(text)
	}
	if vals, ok, err := parseFlat(s, text); ok {
		if err == nil {
			err = s.Validate(vals)
		}
		if err != nil {
			return nil, err
		}
		return vals, nil
	}
	return parseText(s, text)
}

// parseText is Parse past the refusal check, for any reply.
func parseText(s Schema, text string) (map[string]float64, error) {
	vals, found, err := parseJSON(s, text)
	if err != nil {
		return nil, err
	}
	if !found && len(jsonObjects(fenceRE.ReplaceAllString(text, ""))) > 0 {
		names := make([]string, len(s.Fields))
		for i, f := range s.Fields {
			names[i] = strconv.Quote(f.Name)
		}
		return nil, fmt.Errorf("JSON object without the expected key (%s)", strings.Join(names, ", "))
	}
	if !found {
		if len(s.Fields) != 1 {
			if isSoftRefusal(text) {
				return nil, refusal(text)
			}
			return nil, errors.New("no JSON object found")
		}
		f := s.Fields[0]
		v, err := parsePlain(f, text)
		if err != nil {
			if errors.Is(err, errNothing) && isSoftRefusal(text) {
				return nil, refusal(text)
			}
			return nil, err
		}
		vals = map[string]float64{f.Name: v}
	}
	if err := s.Validate(vals); err != nil {
		return nil, err
	}
	return vals, nil
}

// Instructions is the answer-format instruction appended to a prompt.
func (s Schema) Instructions() string {
	var b strings.Builder
	b.WriteString("Reply with only a JSON object: {")
	for i, f := range s.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %s", f.Name, placeholder(f))
	}
	b.WriteString("}")
	var notes []string
	for _, f := range s.Fields {
		if n := fieldNote(f, len(s.Fields) > 1); n != "" {
			notes = append(notes, n)
		}
	}
	if len(notes) > 0 {
		b.WriteString(", where ")
		b.WriteString(strings.Join(notes, "; "))
	}
	b.WriteString(". Do not add any other text.")
	return b.String()
}

// RepairMessage is what an agent is told when its reply could not be used and it is asked again.
func RepairMessage(reason string, s Schema) string {
	return "Your reply could not be used (" + strings.TrimSuffix(reason, ".") + "). " + s.Instructions()
}

func placeholder(f Field) string {
	// "-4-4" reads as a subtraction (QA15 F10): a range with a negative end is written out.
	rng := num(f.Min) + "-" + num(f.Max)
	if f.Min < 0 || f.Max < 0 {
		rng = "from " + num(f.Min) + " to " + num(f.Max)
	}
	switch f.Kind {
	case Likert:
		return "<integer " + rng + ">"
	case Amount:
		switch {
		case f.Step == 1:
			return "<integer " + rng + ">"
		case f.Step > 0:
			return fmt.Sprintf("<number %s in steps of %s>", rng, num(f.Step))
		}
		return "<number " + rng + ">"
	case Choice:
		q := make([]string, len(f.Options))
		for i, o := range f.Options {
			q[i] = strconv.Quote(o)
		}
		return "<one of " + strings.Join(q, ", ") + ">"
	}
	return "<value>"
}

func fieldNote(f Field, named bool) string {
	var parts []string
	if f.Description != "" {
		parts = append(parts, f.Description)
	}
	if f.LowLabel != "" && f.HighLabel != "" {
		parts = append(parts, fmt.Sprintf("%s means %q and %s means %q", num(f.Min), f.LowLabel, num(f.Max), f.HighLabel))
	}
	if len(parts) == 0 {
		return ""
	}
	note := strings.Join(parts, "; ")
	if named || f.Description != "" {
		note = f.Name + " is " + note
	}
	return note
}

// num prints a number without trailing zeros or exponent: 100, 0.5, 1000000.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// errNothing marks "no answer found" so a soft refusal can be recognised as the reason.
var errNothing = errors.New("no JSON object or number found")

func refusal(text string) error {
	first := text
	if i := strings.IndexAny(first, ".!\n"); i > 0 {
		first = first[:i]
	}
	return fmt.Errorf("refusal: %q", clip(first, 60))
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}

// Hard refusals mean the model declined; a number elsewhere in such a reply is not an answer.
var hardRefusalRE = regexp.MustCompile(`(?i)\b(?:i\s*(?:can(?:'|’)?t|cannot|can not|won(?:'|’)?t|will not|am not able to|am unable to|'m unable to|'m not able to)\s+(?:help|assist|answer|provide|comply|do that|fulfil|fulfill|participate|role-?play|rate|give)|i must decline|i(?:'|’)?m sorry,? but i (?:can|won))`)

// Soft refusals are disclaimers that models often follow with an answer anyway; they make a
// refusal only when no answer is found.
var softRefusalRE = regexp.MustCompile(`(?i)\b(?:as an ai|as a language model|as an artificial|i (?:do not|don(?:'|’)?t) have (?:personal|feelings|preferences|opinions|the ability)|i(?:'|’)?m (?:just )?an ai|i am (?:just )?an ai)`)

func isHardRefusal(s string) bool { return hardRefusalRE.MatchString(s) }
func isSoftRefusal(s string) bool { return softRefusalRE.MatchString(s) }

// ---- JSON ----

// parseFlat reads the reply nearly every model sends when asked for JSON: the whole (trimmed)
// text one object of numbers under plain keys, {"willingness": 5}. ok is false for anything
// else (then parseText reads it); when ok, it gives what parseJSON gives for that text, without
// its general machinery (every brace-balanced span decoded into maps of any, the maps
// flattened and matched): that machinery was most of the CPU a reply's check took.
//
// The road is narrow on purpose: keys of printable ASCII with no escape, brace or backquote
// (so that the text is one span for jsonObjects and no fence is cut out), values that are JSON
// numbers (json.Number, as the decoder with UseNumber gives them), JSON white space, no key
// given twice and no two keys naming one field (parseJSON keeps either then, as map order
// falls), and at least one field named.
func parseFlat(s Schema, text string) (vals map[string]float64, ok bool, err error) {
	if len(text) < 2 || text[0] != '{' || text[len(text)-1] != '}' {
		return nil, false, nil
	}
	type member struct{ key, num string }
	var ms [8]member
	members := ms[:0]
	i := 1
	ws := func() {
		for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r') {
			i++
		}
	}
	for {
		ws()
		if i >= len(text) || text[i] != '"' {
			return nil, false, nil
		}
		i++
		start := i
		for i < len(text) && text[i] != '"' {
			if c := text[i]; c < 0x20 || c >= 0x7f || c == '\\' || c == '{' || c == '}' || c == '`' {
				return nil, false, nil
			}
			i++
		}
		if i >= len(text) {
			return nil, false, nil
		}
		key := text[start:i]
		i++
		ws()
		if i >= len(text) || text[i] != ':' {
			return nil, false, nil
		}
		i++
		ws()
		start = i
		if !jsonNumber(text, &i) {
			return nil, false, nil
		}
		members = append(members, member{key, text[start:i]})
		ws()
		if i < len(text) && text[i] == ',' {
			i++
			continue
		}
		if i != len(text)-1 { // the closing brace must end the text
			return nil, false, nil
		}
		break
	}
	// Match keys to fields as matchKeys and the answer-key rule do.
	var raws [8]json.Number
	var raw []json.Number
	if len(s.Fields) <= len(raws) {
		raw = raws[:len(s.Fields)]
	} else {
		raw = make([]json.Number, len(s.Fields))
	}
	matched := 0
	for j, m := range members {
		for _, o := range members[:j] {
			if o.key == m.key {
				return nil, false, nil
			}
		}
		nk := strings.ToLower(strings.TrimSpace(m.key))
		for f := range s.Fields {
			if strings.ToLower(s.Fields[f].Name) == nk {
				if raw[f] != "" {
					return nil, false, nil
				}
				raw[f] = json.Number(m.num)
				matched++
			}
		}
	}
	if matched == 0 && len(s.Fields) == 1 && len(members) == 1 && answerKey(members[0].key) {
		raw[0] = json.Number(members[0].num)
		matched = 1
	}
	if matched == 0 {
		return nil, false, nil
	}
	vals = make(map[string]float64, matched)
	for f, field := range s.Fields {
		if raw[f] == "" {
			continue
		}
		v, err := jsonValue(field, raw[f])
		if err != nil {
			return nil, true, fmt.Errorf("field %q: %v", field.Name, err)
		}
		vals[field.Name] = v
	}
	return vals, true, nil
}

// jsonNumber advances *i past a JSON number at text[*i:], reporting whether there is one.
func jsonNumber(text string, i *int) bool {
	j := *i
	digits := func() int {
		n := 0
		for j < len(text) && '0' <= text[j] && text[j] <= '9' {
			j++
			n++
		}
		return n
	}
	if j < len(text) && text[j] == '-' {
		j++
	}
	if j < len(text) && text[j] == '0' {
		j++
	} else if digits() == 0 {
		return false
	}
	if j < len(text) && text[j] == '.' {
		j++
		if digits() == 0 {
			return false
		}
	}
	if j < len(text) && (text[j] == 'e' || text[j] == 'E') {
		j++
		if j < len(text) && (text[j] == '+' || text[j] == '-') {
			j++
		}
		if digits() == 0 {
			return false
		}
	}
	*i = j
	return true
}

var fenceRE = regexp.MustCompile("```[A-Za-z]*")

// parseJSON finds JSON objects in text. found is false when no object mentions a field.
func parseJSON(s Schema, text string) (map[string]float64, bool, error) {
	objs := jsonObjects(fenceRE.ReplaceAllString(text, ""))
	var got []map[string]any
	for _, o := range objs {
		flat := map[string]any{}
		flatten("", o, flat)
		m := matchKeys(s, flat)
		if len(m) == 0 && len(s.Fields) == 1 && len(flat) == 1 {
			// A single-field answer under an answer-like key ({"rating": 6}) still means that
			// field; under any other key ({"x": 6}) it is not an answer.
			for k, v := range flat {
				if answerKey(k) {
					m = map[string]any{s.Fields[0].Name: v}
				}
			}
		}
		if len(m) > 0 {
			got = append(got, m)
		}
	}
	if len(got) == 0 {
		return nil, false, nil
	}
	var out map[string]float64
	for _, m := range got {
		vals := map[string]float64{}
		for _, f := range s.Fields {
			raw, ok := m[f.Name]
			if !ok {
				continue
			}
			v, err := jsonValue(f, raw)
			if err != nil {
				return nil, true, fmt.Errorf("field %q: %v", f.Name, err)
			}
			vals[f.Name] = v
		}
		if out != nil && !sameValues(out, vals) {
			return nil, true, errors.New("ambiguous: several JSON objects with different answers")
		}
		out = vals
	}
	return out, true, nil
}

var answerKeyRE = regexp.MustCompile(`(?i)^(?:answer|rating|rate|score|choice|decision|response|value|result|final(?:[ _]?answer)?|willingness|likelihood|amount)$`)

// answerKey reports whether a JSON key names an answer whatever the field is called.
func answerKey(k string) bool {
	k = strings.TrimSpace(k)
	if i := strings.LastIndex(k, "."); i >= 0 {
		k = k[i+1:]
	}
	return answerKeyRE.MatchString(k)
}

// jsonObjects decodes every outermost balanced {...} span of text that is a JSON object. Spans
// are found in one pass so that long or hostile replies cost linear time; a span that is not
// JSON (an echoed format such as {"x": <integer>}) is skipped, and objects inside it are tried.
func jsonObjects(text string) []map[string]any {
	type span struct{ start, end int }
	var spans []span
	var stack []int
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '{':
			stack = append(stack, i)
		case '}':
			if len(stack) > 0 {
				spans = append(spans, span{stack[len(stack)-1], i + 1})
				stack = stack[:len(stack)-1]
			}
		}
	}
	// Outer spans first; a span inside an object already decoded is part of it.
	sort.Slice(spans, func(a, b int) bool { return spans[a].start < spans[b].start })
	var out []map[string]any
	covered := -1
	for _, sp := range spans {
		if sp.start < covered {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(text[sp.start:sp.end]))
		dec.UseNumber()
		var o map[string]any
		if err := dec.Decode(&o); err == nil && o != nil && !dec.More() {
			out = append(out, o)
			covered = sp.end
		}
	}
	return out
}

func flatten(prefix string, o map[string]any, out map[string]any) {
	for k, v := range o {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok {
			flatten(key, sub, out)
			continue
		}
		out[key] = v
	}
}

// matchKeys maps reply keys to schema field names, ignoring case and surrounding space.
func matchKeys(s Schema, flat map[string]any) map[string]any {
	m := map[string]any{}
	for k, v := range flat {
		nk := strings.ToLower(strings.TrimSpace(k))
		for _, f := range s.Fields {
			if strings.ToLower(f.Name) == nk {
				m[f.Name] = v
			}
		}
	}
	return m
}

func jsonValue(f Field, raw any) (float64, error) {
	switch v := raw.(type) {
	case json.Number:
		if f.Kind == Choice {
			return choiceIndex(f, v.String())
		}
		x, err := v.Float64()
		if err != nil {
			return 0, fmt.Errorf("%s is not a number", v)
		}
		return x, nil
	case string:
		if f.Kind == Choice {
			return choiceIndex(f, v)
		}
		return parsePlain(f, v)
	case bool:
		return 0, fmt.Errorf("got %t, want %s", v, placeholder(f))
	case nil:
		return 0, fmt.Errorf("got null, want %s", placeholder(f))
	}
	return 0, fmt.Errorf("got a list, want %s", placeholder(f))
}

// choiceIndex matches a JSON string to an option: exactly, ignoring case, or as the only
// option the string names.
func choiceIndex(f Field, s string) (float64, error) {
	t := strings.ToLower(strings.Trim(strings.TrimSpace(s), `."'*`))
	for i, o := range f.Options {
		if strings.ToLower(o) == t {
			return float64(i), nil
		}
	}
	if i, err := namedOption(f, s); err == nil {
		return float64(i), nil
	}
	return 0, fmt.Errorf("%q is not one of %s", clip(s, 40), strings.Join(f.Options, ", "))
}

func sameValues(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// ---- plain text, single field ----

// parsePlain reads a reply that is not JSON. A number counts only when something ties it to
// the question (see plainNumber); an option only when the reply reads as text and names it.
func parsePlain(f Field, text string) (float64, error) {
	if noisy(text) {
		return 0, errors.New("no answer: the reply reads as noise, not text")
	}
	if f.Kind == Choice {
		i, err := namedOption(f, text)
		return float64(i), err
	}
	return plainNumber(f, text)
}

// noisy reports whether text has more of the symbols prose never uses (\ ^ ~ | < > { } @ &,
// control characters) than a reply written in words would: more than one, and over 5% of it.
func noisy(text string) bool {
	odd, n := 0, 0
	for _, r := range text {
		n++
		switch {
		case strings.ContainsRune(`\^~|<>{}@&`, r):
			odd++
		case r < 0x20 && r != '\n' && r != '\r' && r != '\t', r == 0x7f, r == utf8.RuneError:
			odd++
		}
	}
	return odd > 1 && odd*20 > n
}

const numPat = `-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?`

var (
	// Markdown emphasis and code marks carry no meaning here.
	markRE = regexp.MustCompile("[*_`#]+")
	// "1 = not at all" restates the scale's labels.
	labelRE = regexp.MustCompile(`\b(\d+(?:\.\d+)?)\s*=\s*["'(]?[A-Za-z]`)
	// Any number, with thousands separators; a sign only where it cannot be a dash.
	numberRE = regexp.MustCompile(`(?:^|[^\w.,/-])(` + numPat + `)`)
	// "6/7", "6 out of 7", "6 of 7": tied to the question when the denominator is the scale's top.
	fractionRE = regexp.MustCompile(`(?i)(?:^|[\s(:"'])(\d+(?:\.\d+)?)[ \t]*(?:/|out of|of)[ \t]*(\d+(?:\.\d+)?)(?:$|[\s).,!;:"'])`)
	// A range "5-6", "5 to 6", "between 5 and 6": the scale itself, or two candidate answers.
	rangeRE = regexp.MustCompile(`(?i)(?:from\s+|between\s+)?(\d+(?:\.\d+)?)\s*(?:-|–|—|to|through|and)\s*(\d+(?:\.\d+)?)`)
	// A number tied to the question by a label or a phrase: "Rating: 6", "my answer is 6",
	// "willingness = 6", "I would choose 5", "I'd rate it 3", "I'd say 4", "I would donate
	// 1,000 yuan". Up to three words may come between the label and the number ("rate my
	// willingness as 3").
	tiedRE = regexp.MustCompile(`(?i)\b(?:answer|rating|rate|score|choice|choose|chose|pick|select|response|willingness|likelihood|likely|amount|final|give|donate|contribute|offer|send|keep|transfer|say|go with|settle on|value)\b(?:[\s,]+[A-Za-z']+){0,3}?[\s,]*(?:is|are|would be|will be|of|:|=|\s[-–]|as|at|to be|be)?\s*(?:a|an|about|around|roughly|approximately|probably|definitely|maybe|perhaps|solid|strong|firm)?\s*\$?(` + numPat + `)`)
	// Another answer offered beside a tied one: "maybe 6", "or 6", "perhaps even a 6".
	hedgeRE = regexp.MustCompile(`(?i)\b(?:or|maybe|perhaps|possibly|probably)\s+(?:even\s+)?(?:a\s+|an\s+)?\$?(` + numPat + `)`)
	// The scale quoted in a reply: "(1-7)", "on a scale of 1 to 7", "from 1 to 7".
	scaleRE = regexp.MustCompile(`(?i)(?:on\s+a\s+scale\s+(?:of|from)\s+|from\s+)?[(\[]?\s*(\d+)\s*(?:-|–|—|to)\s*(\d+)\s*[)\]]?`)
	// A lone answer: the whole reply is one number, maybe over the scale's top, maybe repeated
	// or with a word of assent ("6", "6.", "(4)", "$10", "6/7", "6. Yes, 6.").
	loneRE = regexp.MustCompile(`(?i)^(?:(?:answer|rating|score|final answer|ok|okay|sure|yes|so)\s*[:,.!-]?\s*)?["'(\[]?\$?(` + numPat + `)(?:\s*(?:/|out of)\s*(\d+(?:\.\d+)?))?["')\]]?[.!]?(?:\s*(?:yes|ok|okay|sure|definitely|so)?[,.!:]?\s*["'(\[]?\$?(` + numPat + `)["')\]]?[.!]?)*$`)
	// A denominator: "/7", "out of 7".
	denomRE = regexp.MustCompile(`(?i)\s*(?:/|out of)\s*(\d+(?:\.\d+)?)`)
	numRE   = regexp.MustCompile(numPat)
	// A scale end with its label: "7 = extremely willing", "1 - not at all willing".
	endLabelRE = regexp.MustCompile(`^(\d+)\s*[=:-]\s*["'(]?([A-Za-z][A-Za-z ,'-]*?)["')]?[.!]?$`)
	// A lone number word, maybe hedged: "six", "Probably five.", "I'd say seven".
	loneWordRE = regexp.MustCompile(`(?i)^(?:(?:probably|maybe|perhaps|definitely|about|around|i'd say|i would say|i'd go with|i choose|i pick|answer:|rating:)\s+)?(zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)[.!]?$`)
)

var wordNums = map[string]float64{"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
	"seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}

// plainNumber finds the number a reply gives for f, accepting only a number it can justify:
//
//   - a lone answer, the whole reply being the number ("6", "**6**", "6/7", "(1-7) 4", "six");
//   - a number in bold ("my final answer is **6**");
//   - a number tied to the question by a label or phrase ("Rating: 6", "I would choose 5", "I'd
//     rate it 3", "my willingness is 2");
//   - a fraction over the scale's top ("6 out of 7").
//
// Mentions of the scale ("on a scale of 1 to 7", "7 = extremely willing") are not answers.
// Other numbers (a price quoted from the scenario, digits in noise) are never answers: a reply
// with numbers but none tied to the question is invalid, so the chain re-asks. Two different
// tied answers, or a range, are ambiguous.
func plainNumber(f Field, text string) (float64, error) {
	if v, ok := loneNumber(f, text); ok {
		return v, nil
	}
	bold := boldNumbers(text)
	t := markRE.ReplaceAllString(text, "")
	// Restated labels of the scale's ends ("1 = not at all willing") are dropped.
	t = labelRE.ReplaceAllStringFunc(t, func(m string) string {
		sm := labelRE.FindStringSubmatch(m)
		if v, _ := strconv.ParseFloat(sm[1], 64); v == f.Min || v == f.Max {
			return " " + m[len(m)-1:]
		}
		return m
	})
	var tied, ranged []float64
	// Fractions over the scale's top are answers: "6 out of 7", standing as words ("x6/7y" is not).
	// A match takes the delimiter after it, which the next fraction needs before it ("6/7 5/7"):
	// replace until none is left.
	for {
		u := fractionRE.ReplaceAllStringFunc(t, func(m string) string {
			sm := fractionRE.FindStringSubmatch(m)
			a, _ := strconv.ParseFloat(sm[1], 64)
			b, _ := strconv.ParseFloat(sm[2], 64)
			if b == f.Max && a <= b && sm[1] != "" {
				tied = append(tied, a)
				return " "
			}
			return m
		})
		if u == t {
			break
		}
		t = u
	}
	// A reply of numbers alone ("6/7 5", "5 6/7"): every number is a candidate answer.
	if len(tied) > 0 && !strings.ContainsFunc(t, unicode.IsLetter) {
		for _, sm := range numberRE.FindAllStringSubmatch(t, -1) {
			if v, err := strconv.ParseFloat(strings.ReplaceAll(sm[1], ",", ""), 64); err == nil {
				tied = append(tied, v)
			}
		}
	}
	// Ranges: the scale itself is dropped; any other range is two candidate answers.
	t = rangeRE.ReplaceAllStringFunc(t, func(m string) string {
		sm := rangeRE.FindStringSubmatch(m)
		a, _ := strconv.ParseFloat(sm[1], 64)
		b, _ := strconv.ParseFloat(sm[2], 64)
		if a == f.Min && b == f.Max {
			return " "
		}
		if a != b {
			ranged = append(ranged, a, b)
		}
		return " "
	})
	for _, loc := range tiedRE.FindAllStringSubmatchIndex(t, -1) {
		if !cleanStart(t, loc[0]) || !cleanEnd(t, loc[3]) {
			continue
		}
		if v, err := strconv.ParseFloat(strings.ReplaceAll(t[loc[2]:loc[3]], ",", ""), 64); err == nil {
			tied = append(tied, v)
		}
	}
	// A hedge after a tied answer offers another ("I would say 5, maybe 6", "5 or 6"): also a
	// candidate, so two different ones are ambiguous, not the first taken.
	if len(tied) > 0 {
		for _, loc := range hedgeRE.FindAllStringSubmatchIndex(t, -1) {
			if !cleanEnd(t, loc[3]) {
				continue
			}
			if v, err := strconv.ParseFloat(strings.ReplaceAll(t[loc[2]:loc[3]], ",", ""), 64); err == nil {
				tied = append(tied, v)
			}
		}
	}
	for _, tier := range [][]float64{bold, tied} {
		if len(tier) > 0 {
			return pick(f, tier)
		}
	}
	if len(ranged) > 0 {
		return 0, fmt.Errorf("ambiguous: a range (%s), not one answer", numberList(ranged))
	}
	var loose []float64
	for _, sm := range numberRE.FindAllStringSubmatch(t, -1) {
		if v, err := strconv.ParseFloat(strings.ReplaceAll(sm[1], ",", ""), 64); err == nil {
			loose = append(loose, v)
		}
	}
	if len(loose) > 0 {
		return 0, fmt.Errorf("no answer: %s, but none given as the answer (no label such as \"rating:\")", numberList(loose))
	}
	return 0, errNothing
}

// cleanStart reports whether a label starting at i in t starts a word of prose: at the start,
// or after a space, a bracket, a quote or sentence punctuation ("xsay 5", "%say 5" do not).
func cleanStart(t string, i int) bool {
	return i == 0 || strings.ContainsRune(" \t\n\r(\"'.,;:!?-", rune(t[i-1]))
}

// cleanEnd reports whether a number ending at i in t ends a word of prose: at the end, or
// followed by a space, or by one closing mark and then a space or the end ("5kk", "5.5.5",
// "3?]" do not).
func cleanEnd(t string, i int) bool {
	if i < len(t) && strings.ContainsRune(".,;:!?)\"'%", rune(t[i])) {
		i++
	}
	return i >= len(t) || unicode.IsSpace(rune(t[i]))
}

// loneNumber reads a reply that is nothing but its answer: one number (maybe repeated, bold,
// bracketed, over the scale's top or after the scale itself), or one number word.
func loneNumber(f Field, text string) (float64, bool) {
	t := strings.TrimSpace(markRE.ReplaceAllString(text, ""))
	// The scale quoted before the answer: "(1-7) 4", "On a scale of 1 to 7: 5".
	t = strings.TrimSpace(scaleRE.ReplaceAllStringFunc(t, func(m string) string {
		sm := scaleRE.FindStringSubmatch(m)
		a, _ := strconv.ParseFloat(sm[1], 64)
		b, _ := strconv.ParseFloat(sm[2], 64)
		if a == f.Min && b == f.Max {
			return " "
		}
		return m
	}))
	t = strings.TrimLeft(t, ":,- ")
	// "7 = extremely willing": an end of the scale given with its label.
	if sm := endLabelRE.FindStringSubmatch(t); sm != nil {
		v, _ := strconv.ParseFloat(sm[1], 64)
		l := strings.ToLower(strings.TrimSpace(sm[2]))
		if (v == f.Min && l == strings.ToLower(f.LowLabel)) || (v == f.Max && l == strings.ToLower(f.HighLabel)) {
			return v, true
		}
	}
	if sm := loneWordRE.FindStringSubmatch(t); sm != nil {
		return wordNums[strings.ToLower(sm[1])], true
	}
	sm := loneRE.FindStringSubmatch(t)
	if sm == nil {
		return 0, false
	}
	if sm[2] != "" {
		if d, _ := strconv.ParseFloat(sm[2], 64); d != f.Max {
			return 0, false
		}
	}
	// Every denominator must be the scale's top, and is dropped: "6/7. Yes, 6/7." is 6, while
	// "6/7 5/7" is two answers.
	badDen := false
	t = denomRE.ReplaceAllStringFunc(t, func(m string) string {
		if d, _ := strconv.ParseFloat(denomRE.FindStringSubmatch(m)[1], 64); d != f.Max {
			badDen = true
		}
		return " "
	})
	if badDen {
		return 0, false
	}
	var vals []float64
	for _, m := range numRE.FindAllString(t, -1) {
		v, _ := strconv.ParseFloat(strings.ReplaceAll(m, ",", ""), 64)
		vals = append(vals, v)
	}
	if d := distinct(vals); len(d) == 1 {
		return d[0], true
	}
	return 0, false
}

func numberList(v []float64) string {
	d := distinct(v)
	s := make([]string, len(d))
	for i, x := range d {
		s[i] = num(x)
	}
	if len(s) > 4 {
		s = append(s[:4], "...")
	}
	if len(s) == 1 {
		return "the number " + s[0]
	}
	return "numbers (" + strings.Join(s, ", ") + ")"
}

var boldRE = regexp.MustCompile(`\*\*\s*(-?\d+(?:\.\d+)?)\s*(?:/\s*\d+)?\s*\*\*`)

func boldNumbers(text string) []float64 {
	var out []float64
	for _, sm := range boldRE.FindAllStringSubmatch(text, -1) {
		if v, err := strconv.ParseFloat(sm[1], 64); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// pick chooses among candidates: in-range ones first, then all; one distinct value or ambiguous.
func pick(f Field, cands []float64) (float64, error) {
	var in []float64
	for _, v := range cands {
		if v >= f.Min && v <= f.Max {
			in = append(in, v)
		}
	}
	if len(in) > 0 {
		cands = in
	}
	d := distinct(cands)
	if len(d) == 1 {
		return d[0], nil
	}
	return 0, fmt.Errorf("ambiguous: several %s", strings.TrimPrefix(numberList(cands), "several "))
}

func distinct(v []float64) []float64 {
	seen := map[float64]bool{}
	var out []float64
	for _, x := range v {
		if math.IsNaN(x) || seen[x] {
			continue
		}
		seen[x] = true
		out = append(out, x)
	}
	sort.Float64s(out)
	return out
}

var negRE = regexp.MustCompile(`(?i)(?:\bnot|n't|\bnever|\bno|\bwithout|\brather than|\binstead of)\s+(?:\w+\s+){0,2}$`)

// namedOption finds the one option a reply names, as a whole word (with a plain inflection:
// "punish", "punishes", "punished", "punishing"). A negated mention ("I would not punish")
// of one of two options names the other.
func namedOption(f Field, text string) (int, error) {
	t := markRE.ReplaceAllString(text, " ")
	named := map[int]bool{}
	negated := map[int]bool{}
	for i, o := range f.Options {
		words := strings.Fields(regexp.QuoteMeta(strings.ToLower(o)))
		if len(words) == 0 {
			continue
		}
		re, err := regexp.Compile(`(?i)(?:^|[^\w])(` + strings.Join(words, `\s+`) + `(?:s|es|ed|d|ing)?)(?:$|[^\w])`)
		if err != nil {
			continue
		}
		for _, loc := range re.FindAllStringSubmatchIndex(t, -1) {
			// Only the few words before a mention can negate it.
			if negRE.MatchString(t[max(0, loc[2]-30):loc[2]]) {
				negated[i] = true
			} else {
				named[i] = true
			}
		}
	}
	if len(named) == 0 && len(negated) == 1 && len(f.Options) == 2 {
		for i := range negated {
			return 1 - i, nil
		}
	}
	switch len(named) {
	case 1:
		for i := range named {
			return i, nil
		}
	case 0:
		return 0, fmt.Errorf("no option named (want one of %s)", strings.Join(f.Options, ", "))
	}
	var names []string
	for i, o := range f.Options {
		if named[i] {
			names = append(names, o)
		}
	}
	return 0, fmt.Errorf("ambiguous: names %s", strings.Join(names, " and "))
}
