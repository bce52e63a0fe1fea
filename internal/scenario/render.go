package scenario

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/prosim/prosim/internal/yamlx"
)

// params merges the scenario's default parameters with the given ones (which win).
func (sc Scenario) params(over map[string]float64) map[string]float64 {
	p := make(map[string]float64, len(sc.Params)+len(over))
	for k, v := range sc.Params {
		p[k] = v
	}
	for k, v := range over {
		p[k] = v
	}
	return p
}

func (sc Scenario) exec(field, text string, params map[string]float64, currency string) (string, error) {
	t, err := Template(sc.ID, text)
	if err == nil {
		var b strings.Builder
		if err = t.Execute(&b, Data(sc.params(params), currency)); err == nil {
			return strings.TrimSpace(b.String()), nil
		}
	}
	return "", sc.renderError(field, err)
}

// renderError places a template's failure at its line in the scenario's file (the field a
// variant's, when the scenario is worded by one), or names the scenario when it has no file.
// Load has checked the templates' parameters; this is the backstop for what only rendering
// finds (a game's terms, a division by zero).
func (sc Scenario) renderError(field string, err error) error {
	msg := TemplateMsg(err)
	// text/template names the template, which is the scenario id; the location says it.
	msg = strings.Replace(msg, fmt.Sprintf("executing %q ", sc.ID), "", 1)
	path := field
	if sc.wording > 0 && (field == "text" || sc.Variants[sc.wording-1].Question != "") {
		path = fmt.Sprintf("variants[%d].%s", sc.wording-1, field)
	}
	if sc.at != nil {
		if p, ok := sc.at.pos[path]; ok {
			return &yamlx.Error{File: sc.Source, Line: p[0], Col: p[1], Field: sc.at.prefix + path, Msg: msg}
		}
	}
	return fmt.Errorf("scenario %s (%s): %s: %s", sc.ID, orUnknown(sc.Source), path, msg)
}

// FieldError is an error about the key (max, min, ...) of the scenario's response field
// number i, at its line in the scenario's file (at the field's when the key is not written),
// or naming the scenario when it has no file.
func (sc Scenario) FieldError(i int, key, msg string) error {
	path := fmt.Sprintf("response.fields[%d].%s", i, key)
	if sc.at != nil {
		for _, k := range []string{path, fmt.Sprintf("response.fields[%d]", i)} {
			if p, ok := sc.at.pos[k]; ok {
				return &yamlx.Error{File: sc.Source, Line: p[0], Col: p[1], Field: sc.at.prefix + path, Msg: msg}
			}
		}
	}
	return fmt.Errorf("scenario %s (%s): %s: %s", sc.ID, orUnknown(sc.Source), path, msg)
}

// Render renders the scenario's Text. Its data are the scenario's Params overridden by params
// (keys as given: {{.x}}), printed without trailing zeros, plus {{.currency}}. A reference to a
// parameter that is not given is an error.
func (sc Scenario) Render(params map[string]float64, currency string) (string, error) {
	return sc.exec("text", sc.Text, params, currency)
}

// RenderQuestion renders the scenario's Question with the same data as Render.
func (sc Scenario) RenderQuestion(params map[string]float64, currency string) (string, error) {
	return sc.exec("question", sc.Question, params, currency)
}

// RenderCost renders the scenario's Cost, a template like Text, with the same data.
func (sc Scenario) RenderCost(params map[string]float64, currency string) (string, error) {
	return sc.exec("cost", sc.Cost, params, currency)
}

// Compose is the whole prompt for one decision: the situation, then the policy text (if any)
// as its own paragraph, then the question, then the answer-format instructions.
func Compose(sc Scenario, params map[string]float64, currency string, policyText string) (string, error) {
	text, err := sc.Render(params, currency)
	if err != nil {
		return "", err
	}
	q, err := sc.RenderQuestion(params, currency)
	if err != nil {
		return "", err
	}
	parts := []string{text}
	if p := strings.TrimSpace(policyText); p != "" {
		parts = append(parts, p)
	}
	parts = append(parts, q, sc.Response.Instructions())
	return strings.Join(parts, "\n\n"), nil
}

// ComposeJoint puts several scenarios in one prompt, in an order shuffled by seed (order
// effects are a known bias of the fixed-order joint prompt), each numbered and tagged with its
// id. policyTexts[i] is the policy text shown with scs[i] (nil for none). Each scenario uses its
// default Params. The combined schema names its fields "<scenario id>.<field>", in the order
// shown; order[k] is the index in scs of the k-th scenario shown. SplitJoint undoes the naming.
func ComposeJoint(scs []Scenario, policyTexts []string, currency string, seed uint64) (string, Schema, []int, error) {
	if len(scs) == 0 {
		return "", Schema{}, nil, fmt.Errorf("joint prompt: no scenarios")
	}
	if policyTexts != nil && len(policyTexts) != len(scs) {
		return "", Schema{}, nil, fmt.Errorf("joint prompt: %d policy texts for %d scenarios", len(policyTexts), len(scs))
	}
	seen := map[string]bool{}
	for _, sc := range scs {
		if seen[sc.ID] {
			return "", Schema{}, nil, fmt.Errorf("joint prompt: scenario %s appears twice", sc.ID)
		}
		seen[sc.ID] = true
	}
	// The second PCG word is fixed so that one seed gives one order, distinct from other streams.
	order := rand.New(rand.NewPCG(seed, 0x6a6f696e74)).Perm(len(scs))
	var b strings.Builder
	var schema Schema
	fmt.Fprintf(&b, "You will read %d situations. Answer each one separately.", len(scs))
	for k, i := range order {
		sc := scs[i]
		text, err := sc.Render(nil, currency)
		if err != nil {
			return "", Schema{}, nil, err
		}
		q, err := sc.RenderQuestion(nil, currency)
		if err != nil {
			return "", Schema{}, nil, err
		}
		fmt.Fprintf(&b, "\n\nSituation %d (%s):\n%s", k+1, sc.ID, text)
		if policyTexts != nil {
			if p := strings.TrimSpace(policyTexts[i]); p != "" {
				b.WriteString("\n\n" + p)
			}
		}
		b.WriteString("\n\n" + q)
		for _, f := range sc.Response.Fields {
			f.Name = sc.ID + "." + f.Name
			schema.Fields = append(schema.Fields, f)
		}
	}
	b.WriteString("\n\n" + schema.Instructions())
	return b.String(), schema, order, nil
}

// SplitJoint splits values of a joint schema back per scenario: "donating.willingness" becomes
// ["donating"]["willingness"]. Ids have no dots, so the first dot separates; a name without a
// dot goes under "".
func SplitJoint(values map[string]float64) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for k, v := range values {
		id, field, ok := strings.Cut(k, ".")
		if !ok {
			id, field = "", k
		}
		if out[id] == nil {
			out[id] = map[string]float64{}
		}
		out[id][field] = v
	}
	return out
}
