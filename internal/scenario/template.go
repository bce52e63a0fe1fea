package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"text/template"
	"text/template/parse"
)

// Number is a parameter value as templates see it: it prints without trailing zeros or an
// exponent (100, 0.5, 1000000), and works with the template functions add, sub, mul and div.
type Number float64

func (n Number) String() string { return strconv.FormatFloat(float64(n), 'f', -1, 64) }

// Funcs are the functions available in scenario and policy templates, so that a text can say
// "you keep {{sub .endowment .x}}" without a parameter of its own.
var Funcs = template.FuncMap{
	"add": func(a, b any) (Number, error) { return arith(a, b, func(x, y float64) float64 { return x + y }) },
	"sub": func(a, b any) (Number, error) { return arith(a, b, func(x, y float64) float64 { return x - y }) },
	"mul": func(a, b any) (Number, error) { return arith(a, b, func(x, y float64) float64 { return x * y }) },
	"div": func(a, b any) (Number, error) {
		if y, err := toFloat(b); err == nil && y == 0 {
			return 0, fmt.Errorf("division by zero")
		}
		return arith(a, b, func(x, y float64) float64 { return x / y })
	},
}

func arith(a, b any, op func(x, y float64) float64) (Number, error) {
	x, err := toFloat(a)
	if err != nil {
		return 0, err
	}
	y, err := toFloat(b)
	if err != nil {
		return 0, err
	}
	return Number(op(x, y)), nil
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case Number:
		return float64(x), nil
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	}
	return 0, fmt.Errorf("%v is not a number", v)
}

// Template parses a scenario or policy text. A reference to a key that is not in the data is an
// error when executed, never an empty string.
//
// A parsed text is kept and shared (Execute is safe for concurrent use, and no caller changes a
// template it is given): studies render every prompt from a few texts, and parsing them again
// for each was 18% of the CPU of a games resume. Texts come from the experiment's scenario and
// policy files, so there are few; past maxParsed, texts are parsed anew rather than kept.
func Template(name, text string) (*template.Template, error) {
	k := parsedKey{name, text}
	if t, ok := parsed.Load(k); ok {
		return t.(*template.Template), nil
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(Funcs).Parse(text)
	if err == nil && nParsed.Add(1) <= maxParsed {
		parsed.Store(k, t)
	}
	return t, err
}

type parsedKey struct{ name, text string }

// maxParsed bounds the texts Template keeps.
const maxParsed = 4096

var (
	parsed  sync.Map // parsedKey -> *template.Template
	nParsed atomic.Int64
)

// Data is the template data for params and a currency: params as Numbers, plus "currency".
func Data(params map[string]float64, currency string) map[string]any {
	d := make(map[string]any, len(params)+1)
	for k, v := range params {
		d[k] = Number(v)
	}
	d["currency"] = currency
	return d
}

// Refs are the parameters a parsed template refers to ({{.x}}, {{sub .endowment .x}},
// {{$.x}}), sorted, each once. Inside {{with}} and {{range}} the dot is another value: only
// {{$.x}} there is a parameter.
func Refs(t *template.Template) []string {
	seen := map[string]bool{}
	if t.Tree != nil {
		refs(t.Tree.Root, true, seen)
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// refs adds the parameters node refers to; root says the dot is the template's data.
func refs(node parse.Node, root bool, seen map[string]bool) {
	switch n := node.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			refs(c, root, seen)
		}
	case *parse.ActionNode:
		refs(n.Pipe, root, seen)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			refs(c, root, seen)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			refs(a, root, seen)
		}
	case *parse.FieldNode:
		if root && len(n.Ident) > 0 {
			seen[n.Ident[0]] = true
		}
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			seen[n.Ident[1]] = true
		}
	case *parse.ChainNode:
		refs(n.Node, root, seen)
	case *parse.IfNode:
		refs(n.Pipe, root, seen)
		refs(n.List, root, seen)
		refs(n.ElseList, root, seen)
	case *parse.WithNode:
		refs(n.Pipe, root, seen)
		refs(n.List, false, seen)
		refs(n.ElseList, root, seen)
	case *parse.RangeNode:
		refs(n.Pipe, root, seen)
		refs(n.List, false, seen)
		refs(n.ElseList, root, seen)
	case *parse.TemplateNode:
		refs(n.Pipe, root, seen)
	}
}
