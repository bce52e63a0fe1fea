package vignettes

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/prosim/prosim/internal/scenario"
)

// measure is one number Study 1 averages per scenario: a likert or amount field's value, or
// for a choice field the 0/1 indicator of choosing one option (its mean is a share). Every
// field of a scenario's response is analysed, not only one named willingness.
type measure struct {
	// Field is the field column of the tables: the field's name, or NAME=OPTION for an option.
	Field  string
	name   string // the response field
	option int    // the option's index for a choice; -1 otherwise
	lo, hi float64
	low    string // likert labels, for the report's text
	high   string
}

// measures are the numbers Study 1 reads of a response, in the order of its fields.
func measures(s scenario.Schema) []measure {
	var out []measure
	for _, f := range s.Fields {
		if f.Kind == scenario.Choice {
			for i, o := range f.Options {
				out = append(out, measure{Field: f.Name + "=" + o, name: f.Name, option: i, lo: 0, hi: 1})
			}
			continue
		}
		out = append(out, measure{Field: f.Name, name: f.Name, option: -1, lo: f.Min, hi: f.Max, low: f.LowLabel, high: f.HighLabel})
	}
	return out
}

// value is the measure in a reply's values; false when the field is missing.
func (m measure) value(v map[string]float64) (float64, bool) {
	x, ok := v[m.name]
	if !ok || m.option < 0 {
		return x, ok
	}
	if x == float64(m.option) {
		return 1, true
	}
	return 0, true
}

func (m measure) share() bool { return m.option >= 0 }

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// scale is the measure's range as the tables title it: "1-7".
func (m measure) scale() string { return num(m.lo) + "-" + num(m.hi) }

// What names the estimate and its range: "Mean willingness (1-7)", "Share choosing
// answer=no (0-1)". Tables and figures of measures with the same What share one scale.
func (m measure) What() string {
	if m.share() {
		return "Share choosing " + m.Field + " (0-1)"
	}
	return fmt.Sprintf("Mean %s (%s)", m.Field, m.scale())
}

// of names the measure inside a sentence: "mean willingness (1-7)", "share choosing
// answer=no (0-1)"; the captions of its figures say which measure they show.
func (m measure) of() string {
	w := m.What()
	return strings.ToLower(w[:1]) + w[1:]
}

// noun heads a chart: "Willingness", "Share choosing answer=no".
func (m measure) noun() string {
	if m.share() {
		return "Share choosing " + m.Field
	}
	return strings.ToUpper(m.Field[:1]) + m.Field[1:]
}

// axis labels a chart's value axis.
func (m measure) axis() string {
	if m.share() {
		return "Share choosing " + m.Field + " (0-1)"
	}
	return fmt.Sprintf("Mean %s (%s scale)", m.Field, m.scale())
}

// diffAxis labels a forest plot of contrasts of the measure.
func (m measure) diffAxis() string {
	if m.share() {
		return "Difference in the share choosing " + m.Field + " (condition minus reference)"
	}
	return fmt.Sprintf("Difference in mean %s (condition minus reference, %s scale points)", m.Field, m.scale())
}

// describe is how the report's text introduces the measure.
func (m measure) describe() string {
	if m.share() {
		return m.name + ", a choice: each option's share (the mean of 1 when the agent chose it, else 0)"
	}
	s := fmt.Sprintf("%s on a %s scale", m.Field, m.scale())
	if m.low != "" && m.high != "" {
		s += fmt.Sprintf(" (%s = %s, %s = %s)", num(m.lo), m.low, num(m.hi), m.high)
	}
	return s
}

// item is one scenario's measure: a row of the tables.
type item struct {
	Scenario string
	m        measure
}

// group is the items that share one What, shown in one table and chart.
type group struct {
	m     measure // the first item's: its What, scale and labels
	items []item
}

// groups gathers items by What, in order of first appearance.
func groups(items []item) []group {
	var out []group
	at := map[string]int{}
	for _, it := range items {
		i, ok := at[it.m.What()]
		if !ok {
			i = len(out)
			at[it.m.What()] = i
			out = append(out, group{m: it.m})
		}
		out[i].items = append(out[i].items, it)
	}
	return out
}
