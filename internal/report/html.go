package report

import (
	"fmt"
	"math"
)

// ReportFile is the report's name in a run directory.
const ReportFile = "report.html"

const css = `body{font-family:Georgia,"Times New Roman",serif;max-width:1040px;margin:2em auto;padding:0 1em;color:#111;line-height:1.45}
h1,h2,h3{font-family:Helvetica,Arial,sans-serif}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-family:Helvetica,Arial,sans-serif;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f2f2f2}
figure{margin:1.2em 0}figcaption{font-size:13px;color:#333;max-width:720px}svg.chart{max-width:100%;height:auto;display:block}a.svg-dl{font:12px Helvetica,Arial,sans-serif;color:#0072B2}
.note{font-size:13px;color:#555}.warn{color:#8a1c00;font-weight:bold}nav ul{columns:2}code{font-size:90%}`

// ValidityRow is the valid and invalid decision counts of one backend x condition.
type ValidityRow struct {
	Backend, Condition string
	Valid, Invalid     int
}

// Rate is the valid share as printed ("97.5%"), "-" without decisions.
func (v ValidityRow) Rate() string {
	if n := v.Valid + v.Invalid; n > 0 {
		return fmt.Sprintf("%.1f%%", 100*float64(v.Valid)/float64(n))
	}
	return "-"
}

// ValidityRows counts valid and invalid decisions per backend x condition, in design order.
func ValidityRows(r *Run) []ValidityRow {
	cnt := r.tally().validity
	var out []ValidityRow
	for _, b := range backendsOf(r) {
		for _, c := range r.Exp.Conditions {
			if v := cnt[[2]string{b, c.Name}]; v != nil {
				out = append(out, *v)
			} else {
				out = append(out, ValidityRow{Backend: b, Condition: c.Name})
			}
		}
	}
	return out
}

// Usage is the provider use of one backend in a run (every invocation), from the recorded
// decisions.
type Usage struct {
	Backend                   string
	Decisions, Calls, Cached  int
	FailedCalls               int // of Calls
	UnusableCalls             int // of Calls: answered with HTTP 200 but unusable, in CostUSD
	NoUsageCalls              int // of Calls: usable replies that said no token usage, in CostUSD at their worst case
	InputTokens, OutputTokens int
	CostUSD                   float64  // NaN when a price is unknown for decisions that made calls
	KnownCostUSD              float64  // the sum of the costs that are known (CostUSD when none is unknown)
	Unpriced                  []string // the models, named by replies that made calls, with no price
	MeanLatencyMS             float64
}

// UsageOf sums calls, tokens, cost and latency per backend, with the calls no recorded
// decision holds (r.Unrecorded).
func UsageOf(r *Run) []Usage {
	t := r.tally()
	m, lat := t.usage, t.latency
	var out []Usage
	for _, b := range backendsOf(r) {
		var x Usage
		if u := m[b]; u != nil {
			x = *u
			x.MeanLatencyMS = lat[b] / float64(u.Decisions)
		} else {
			x.Backend = b
		}
		found := m[b] != nil
		for _, un := range r.Unrecorded {
			if un.Backend != b {
				continue
			}
			found = true
			x.Calls, x.FailedCalls, x.UnusableCalls = x.Calls+un.Calls, x.FailedCalls+un.FailedCalls, x.UnusableCalls+un.UnusableCalls
			x.NoUsageCalls += un.NoUsageCalls
			x.InputTokens, x.OutputTokens = x.InputTokens+un.InputTokens, x.OutputTokens+un.OutputTokens
			if math.IsNaN(un.CostUSD) {
				x.CostUSD = math.NaN()
			} else {
				x.CostUSD += un.CostUSD
				x.KnownCostUSD += un.CostUSD
			}
		}
		if found {
			out = append(out, x)
		}
	}
	return out
}
