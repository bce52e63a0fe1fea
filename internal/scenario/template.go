package scenario

import (
	"fmt"
	"strconv"
	"text/template"
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
func Template(name, text string) (*template.Template, error) {
	return template.New(name).Option("missingkey=error").Funcs(Funcs).Parse(text)
}

// Data is the template data for params and a currency: params as Numbers, plus "currency".
func Data(params map[string]float64, currency string) map[string]any {
	d := make(map[string]any, len(params)+1)
	for k, v := range params {
		d[k] = Number(v)
	}
	d["currency"] = currency
	return d
}
