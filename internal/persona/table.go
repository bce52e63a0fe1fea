package persona

import (
	"fmt"

	"github.com/prosim/prosim/internal/table"
)

// columnDocs are the one-line docs of the non-trait columns, for declared result tables.
var columnDocs = map[string]string{
	"id":              "agent id (positive, unique in the population)",
	"source_id":       "the person's id in your own data: the text id of an imported population file (the agent's id is then its position in the file, 1..n) or the file's source_id column; empty otherwise",
	"gender":          "male or female",
	"age":             "age in years",
	"age_bracket":     "census age bracket, e.g. 30-34, 95+",
	"marital":         "single, married, divorced or widowed",
	"income_quintile": "income quintile, 1 (lowest) to 5 (highest)",
	"annual_income":   "annual income in currency units",
	"currency":        "currency of annual_income",
	"education":       "none, primary, junior_high, senior_high or college",
	"occupation":      "occupation, a plain word or phrase",
}

// TableColumns declares the columns of WriteCSV (Columns, in its order and with its names) as
// typed internal/table columns, so a result table of personas (RUN_DIR/results/agents.csv)
// has the very columns of `prosim personas --csv`, with the same text in every cell.
func TableColumns() []table.Column {
	out := make([]table.Column, len(columns))
	for i, c := range columns {
		t := table.String
		switch c.kind {
		case kindInt:
			t = table.Int
		case kindFloat:
			t = table.Float
		}
		doc := columnDocs[c.name]
		if c.trait {
			for _, s := range traitSpecs {
				if s.Key == c.name {
					doc = fmt.Sprintf("%s, trait score 1-5 (higher: more)", s.Name)
				}
			}
		}
		out[i] = table.Column{Name: c.name, Type: t, Doc: doc}
	}
	return out
}

// Values are p's values in the order of TableColumns, typed for internal/table.
func Values(p *Persona) []any {
	out := make([]any, len(columns))
	for i, c := range columns {
		switch c.kind {
		case kindInt:
			out[i] = *c.i(p)
		case kindFloat:
			out[i] = *c.f(p)
		default:
			out[i] = *c.s(p)
		}
	}
	return out
}
