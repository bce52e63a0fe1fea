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
)

// Parse reads an agent's reply into field values and validates them against s. It is tolerant
// of how models write, and strict about what they mean:
//
//   - A JSON object, bare, in ``` fences or surrounded by prose, is read first. Keys match field
//     names case-insensitively; nested objects are flattened with dots ({"a": {"b": 1}} is
//     field "a.b"); keys that are not fields are ignored (models like to add a "reason"); numbers
//     may be JSON numbers or numeric strings; a choice field takes the option string
//     (case-insensitive) and yields the option's 0-based index.
//   - For a single-field schema, plain replies are also read: "6", "6/7", "**6**", "Rating: 6",
//     "I'd say 6 out of 7.", "six"; for a choice field, a reply naming exactly one option.
//   - A refusal ("I can't help with that", or "As an AI, ..." with no answer) is an error
//     starting "refusal:"; two different candidate answers for one field are an error saying
//     ambiguous.
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
	vals, found, err := parseJSON(s, text)
	if err != nil {
		return nil, err
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
	switch f.Kind {
	case Likert:
		return fmt.Sprintf("<integer %s-%s>", num(f.Min), num(f.Max))
	case Amount:
		switch {
		case f.Step == 1:
			return fmt.Sprintf("<integer %s-%s>", num(f.Min), num(f.Max))
		case f.Step > 0:
			return fmt.Sprintf("<number %s-%s in steps of %s>", num(f.Min), num(f.Max), num(f.Step))
		}
		return fmt.Sprintf("<number %s-%s>", num(f.Min), num(f.Max))
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
			// A single-field answer under another key ({"rating": 6}) still means that field.
			for _, v := range flat {
				m = map[string]any{s.Fields[0].Name: v}
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

func parsePlain(f Field, text string) (float64, error) {
	if f.Kind == Choice {
		i, err := namedOption(f, text)
		return float64(i), err
	}
	return plainNumber(f, text)
}

var (
	// Markdown emphasis and code marks carry no meaning here.
	markRE = regexp.MustCompile("[*_`#]+")
	// "1 = not at all" restates the scale's labels.
	labelRE = regexp.MustCompile(`\b(\d+(?:\.\d+)?)\s*=\s*["'(]?[A-Za-z]`)
	// Numbers, with thousands separators; a sign only where it cannot be a dash between numbers.
	numberRE = regexp.MustCompile(`(?:^|[^\w.,/-])(-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?)`)
	// "6/7", "6 out of 7", "6 of 7".
	fractionRE = regexp.MustCompile(`(?i)(\d+(?:\.\d+)?)\s*(?:/|out of|of)\s*(\d+(?:\.\d+)?)`)
	// A range "5-6", "5 to 6", "between 5 and 6" — two candidates.
	rangeRE = regexp.MustCompile(`(?i)(?:from\s+|between\s+)?(\d+(?:\.\d+)?)\s*(?:-|–|—|to|through|and)\s*(\d+(?:\.\d+)?)`)
	// An answer marked by a label: "Rating: 6", "my answer is 6", "Willingness = 6".
	labelledRE = regexp.MustCompile(`(?i)\b(?:answer|rating|rate(?: it| this)?(?: as| at)?|score|choice|response|willingness|likelihood|likely|amount|final)\s*(?:is|would be|of|:|=|-)?\s*(?:a|an)?\s*(-?\d+(?:\.\d+)?)`)
	wordNumRE  = regexp.MustCompile(`(?i)\b(zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b`)
)

var wordNums = map[string]float64{"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
	"seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}

// plainNumber finds the one number a reply gives for f. Mentions of the scale itself ("on a
// scale of 1 to 7", "6/7", "7 = extremely") are not candidates; a labelled answer ("Rating: 6",
// "**6**") wins over other numbers; among the rest, numbers inside the field's range win over
// numbers outside it (a price quoted from the scenario); two different winners are ambiguous.
func plainNumber(f Field, text string) (float64, error) {
	v, err := plainNumberLabels(f, text, true)
	if errors.Is(err, errNothing) {
		// "7 = extremely willing" alone is an answer, not a restated label.
		return plainNumberLabels(f, text, false)
	}
	return v, err
}

func plainNumberLabels(f Field, text string, dropLabels bool) (float64, error) {
	bold := boldNumbers(text)
	t := markRE.ReplaceAllString(text, " ")
	if dropLabels {
		t = labelRE.ReplaceAllStringFunc(t, func(m string) string {
			sm := labelRE.FindStringSubmatch(m)
			if v, _ := strconv.ParseFloat(sm[1], 64); v == f.Min || v == f.Max {
				return " " + m[len(m)-1:]
			}
			return m
		})
	}
	var all, labelled []float64

	// Fractions over the scale maximum are one candidate: the numerator.
	t = fractionRE.ReplaceAllStringFunc(t, func(m string) string {
		sm := fractionRE.FindStringSubmatch(m)
		a, _ := strconv.ParseFloat(sm[1], 64)
		b, _ := strconv.ParseFloat(sm[2], 64)
		if b == f.Max {
			all = append(all, a)
			return " "
		}
		return m
	})
	// Ranges: the scale itself is dropped; any other range gives both ends as candidates.
	t = rangeRE.ReplaceAllStringFunc(t, func(m string) string {
		sm := rangeRE.FindStringSubmatch(m)
		a, _ := strconv.ParseFloat(sm[1], 64)
		b, _ := strconv.ParseFloat(sm[2], 64)
		if a == f.Min && b == f.Max {
			return " "
		}
		all = append(all, a, b)
		return " "
	})
	for _, sm := range labelledRE.FindAllStringSubmatch(t, -1) {
		if v, err := strconv.ParseFloat(sm[1], 64); err == nil {
			labelled = append(labelled, v)
		}
	}
	for _, sm := range numberRE.FindAllStringSubmatch(t, -1) {
		v, err := strconv.ParseFloat(strings.ReplaceAll(sm[1], ",", ""), 64)
		if err == nil {
			all = append(all, v)
		}
	}
	if len(all) == 0 {
		// Number words only when there are no digits: "one" is too common a word otherwise.
		for _, w := range wordNumRE.FindAllString(t, -1) {
			all = append(all, wordNums[strings.ToLower(w)])
		}
	}
	for _, tier := range [][]float64{bold, labelled, all} {
		if len(tier) == 0 {
			continue
		}
		return pick(f, tier)
	}
	return 0, errNothing
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
	s := make([]string, len(d))
	for i, v := range d {
		s[i] = num(v)
	}
	if len(s) > 4 {
		s = append(s[:4], "...")
	}
	return 0, fmt.Errorf("ambiguous: several numbers (%s)", strings.Join(s, ", "))
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
