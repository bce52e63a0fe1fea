package engine

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/provider"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/usd"
	"github.com/prosim/prosim/internal/yamlx"
)

// Store meta keys of the budget: the cap given with --max-cost (a resume without --max-cost
// keeps it) and the spend settled so far over every invocation of the run, calls whose
// decision was not recorded included.
const (
	maxCostKey = "option.max_cost"
	spentKey   = "spent_usd"
)

// BudgetStop is the error of a run that stopped at its spend cap: nothing is lost, and
// `prosim resume DIR --max-cost HIGHER` continues it. NextUSD is the worst case of the call
// the cap refused (0 when unknown); Spent the spend once the calls in flight settled.
// Reserved is what calls in flight held when it was refused and SpentThen the spend then:
// a refused call waits for the calls in flight to settle, so Reserved is 0 but where the
// retry of an unusable reply was refused (it holds its rate-limit slot and cannot wait).
type BudgetStop struct {
	Dir                              string
	CapUSD, Spent, Reserved, NextUSD float64
	SpentThen                        float64
	Decisions                        int
	// Usage is each backend's use by the invocation that stopped (its summary line); Batch
	// and OwnCache say how to word it, as Result's do.
	Usage           []BackendUsage
	Batch, OwnCache bool
}

func (e *BudgetStop) Error() string {
	head := CapReached(e.CapUSD, e.Spent, e.NextUSD) + ": no further call was started (none was in flight) and every reply is saved"
	if e.Reserved > 0 {
		// The numbers of the moment of the refusal, which add up past the cap (QA12 #8: "$0.0021
		// spent; the next call could cost up to $0.0003" did not reach the cap of $0.003: the
		// spend was the one after the calls in flight had settled, below what they held).
		sum, cap := usd.Apart(e.SpentThen+e.Reserved+e.NextUSD, e.CapUSD)
		head = fmt.Sprintf("spend cap of $%s reached: the next call could cost up to $%s, and with the $%s spent and the $%s held by the calls in flight (their worst case) that makes $%s, more than the cap of $%s; no further call was started, and the calls in flight finished and are saved ($%s spent in all)",
			usd.Exact(e.CapUSD), usd.String(e.NextUSD), usd.String(e.SpentThen), usd.String(e.Reserved), sum, cap, usd.String(e.Spent))
	}
	return fmt.Sprintf("%s\nrun stopped with %s saved in %s; %s",
		head, plural.Count(e.Decisions, "decision"), e.Dir, higherCap(e.Dir, e.CapUSD, e.Spent, e.NextUSD))
}

// higherCap says how to continue the run in dir stopped at capUSD with spent spent and a next
// call of up to next (see SuggestCap).
func higherCap(dir string, capUSD, spent, next float64) string {
	return fmt.Sprintf("continue it with a higher cap: prosim resume %s --max-cost %s", dir, SuggestCap(capUSD, spent, next))
}

// CapReached says that a spend cap stopped a run: the cap as given, the spend and the worst
// case of the call it refused, each with the digits it needs (QA9: a cap of $0.001 was
// printed "$0.00", a spend of $0.00004 "$0.0000").
func CapReached(capUSD, spent, next float64) string {
	s := fmt.Sprintf("spend cap of $%s reached ($%s spent", usd.Exact(capUSD), usd.String(spent))
	if next > 0 {
		if left := max(0, capUSD-spent); next > left {
			n, l := usd.Apart(next, left)
			s += fmt.Sprintf("; the next call could cost up to $%s, more than the $%s the cap leaves", n, l)
		} else {
			s += fmt.Sprintf("; the next call could cost up to $%s", usd.String(next))
		}
	}
	return s + ")"
}

// SuggestCap is the cap a run stopped at capUSD is told to continue with: twice the cap, or,
// when one call's worst case needs more (a cap below a single call's reservation), the spend
// plus that call's worst case, rounded up to two significant digits, so that the suggestion
// admits at least the next call (QA9: each suggestion doubled a $0.001 cap while one call
// reserved $0.011, sending the user round four times with no decision made).
func SuggestCap(capUSD, spent, next float64) string {
	c := max(2*capUSD, spent+next)
	if !(c > 0) || math.IsInf(c, 0) {
		return usd.Exact(c)
	}
	decimals := max(0, 1-int(math.Floor(math.Log10(c)))) // two significant digits
	e := math.Pow(10, float64(decimals))
	c, _ = strconv.ParseFloat(strconv.FormatFloat(math.Ceil(c*e-1e-9)/e, 'f', decimals, 64), 64)
	return usd.Exact(c)
}

// Is makes errors.Is(err, backend.ErrBudget) true.
func (e *BudgetStop) Is(target error) bool { return target == backend.ErrBudget }

// budgetCap is the run's cap: --max-cost, else the experiment's budget.usd; 0 for none.
func (r *Runner) budgetCap() float64 {
	if r.opt.MaxCost > 0 {
		return r.opt.MaxCost
	}
	return r.exp.BudgetUSD()
}

// prepareBudget makes the run's budget when it has a cap, after checking that every LLM
// backend has a price (a budget cannot reserve an unknown cost).
func (r *Runner) prepareBudget() error {
	if r.opt.MaxCost < 0 || math.IsNaN(r.opt.MaxCost) || math.IsInf(r.opt.MaxCost, 0) {
		return fmt.Errorf("--max-cost %v: want a positive amount of US dollars", r.opt.MaxCost)
	}
	cap := r.budgetCap()
	if cap <= 0 {
		return nil
	}
	prices := r.callPrices()
	l := yamlx.NewList(r.exp.File)
	for i, b := range r.backends {
		// A backend whose provider or model is wrong has no price to look for (that problem
		// is reported), whatever else of it is wrong.
		if _, known := provider.Lookup(b.cfg.Provider); !b.paid() || !known || b.cfg.Model == "" {
			continue
		}
		if _, ok := prices.Lookup(canonicalProvider(b.cfg.Provider), b.cfg.Model); !ok {
			l.Add(r.BackendErrorf(i, "model",
				"no price is known for %s model %q, and a budget needs one: add it to the experiment, e.g. prices: {%q: {input: 0.15, output: 0.60}} (USD per million tokens; 0 for a free local model)",
				b.cfg.Provider, b.cfg.Model, b.cfg.Model))
		}
	}
	r.budget = backend.NewBudget(cap, 0)
	return l.Err()
}

// callPrices are the prices calls are billed at: the price table, halved in batch mode
// (every provider bills batch jobs at half its list price).
func (r *Runner) callPrices() backend.Prices {
	p := r.prices()
	if r.batchMode() {
		return p.Scaled(batchDiscount)
	}
	return p
}

// batchDiscount is the batch price as a fraction of the list price (OpenAI, Anthropic, Gemini).
const batchDiscount = 0.5

// batchMode reports whether the run sends its steps as provider batches.
func (r *Runner) batchMode() bool { return r.exp.Execution.Mode == "batch" || r.opt.Batch }

// loadSpent reads what earlier invocations of a resumed run spent: the recorded spend, or
// the sum of the recorded decisions' costs and of the unrecorded table's if that is more (a
// crash can lose the last spend record, never a committed decision; a run of an earlier
// prosim recorded its spend only under a cap). The budget, if any, starts from it.
func (r *Runner) loadSpent() error {
	v, err := r.st.Meta(spentKey)
	if err != nil {
		return err
	}
	spent := 0.0
	if v != "" {
		if spent, err = strconv.ParseFloat(v, 64); err != nil {
			return fmt.Errorf("run store: %s is %q: %w", spentKey, v, err)
		}
	}
	if r.priorUnrecorded, err = r.st.UnrecordedSpend(); err != nil {
		return err
	}
	recorded := r.recordedCost
	for _, u := range r.priorUnrecorded {
		if math.IsNaN(u.CostUSD) {
			r.costUnknown = true
		} else {
			recorded += u.CostUSD
		}
	}
	r.priorSpent = max(spent, recorded)
	if r.budget != nil {
		if v == "" && r.costUnknown {
			return r.unknownSpend()
		}
		r.budget.AddSpent(r.priorSpent)
	}
	return nil
}

// unknownSpend refuses a spend cap on a resumed run whose earlier invocations, made without
// one, spent an unknown amount: calls of a model with no price, whose cost was recorded as
// unknown (with a cap, each was counted in the recorded spend at the configured model's price).
// The cap cannot count them, as it cannot reserve for a configured model with no price (which
// prepareBudget refuses), and counting them at nothing would let the run pass it.
func (r *Runner) unknownSpend() error {
	var models []string
	for m := range r.unpriced {
		models = append(models, strconv.Quote(cmp.Or(m, "(none named)")))
	}
	for _, u := range r.priorUnrecorded {
		if math.IsNaN(u.CostUSD) {
			models = append(models, "backend "+u.Backend+"'s calls without a decision")
		}
	}
	slices.Sort(models)
	return fmt.Errorf("a spend cap needs the run's spend, and earlier invocations of this run, made without a cap, made calls whose cost is unknown (no price for %s): resume it without a cap, or start a new run with one",
		strings.Join(slices.Compact(models), ", "))
}

// spent is the run's provider spend over every invocation, calls whose decision was not
// recorded included; ok is false when the run has no LLM backend or a call's price is
// unknown (then there is no amount to give).
func (r *Runner) spent() (usd float64, ok bool) {
	if r.budget != nil {
		return r.budget.Spent(), true // settled with each call (a budget needs every price)
	}
	llm := false
	usd = r.priorSpent
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.backends {
		if !b.paid() {
			continue
		}
		llm = true
		if !b.usage.CostKnown {
			return 0, false
		}
		usd += b.usage.CostUSD
	}
	for _, u := range r.unrecorded {
		if math.IsNaN(u.CostUSD) {
			return 0, false
		}
		usd += u.CostUSD
	}
	return usd, llm && !r.costUnknown
}

// saveSpent records the run's spend for a later resume and manifest.json, and the calls of
// this invocation's asks whose decision was not recorded (the unrecorded table). It is called
// once, when the invocation ends.
func (r *Runner) saveSpent() error {
	if r.st == nil {
		return nil
	}
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	r.mu.Lock()
	var us []store.Unrecorded
	for _, u := range r.unrecorded {
		us = append(us, *u)
	}
	r.spentSaved = true // from now on countUnasked writes its replies itself
	r.mu.Unlock()
	if err := r.st.AddUnrecorded(us); err != nil {
		return err
	}
	return r.saveSpentUSD()
}

// saveSpentUSD records the run's spend (spent), when it is known; the caller holds saveMu.
func (r *Runner) saveSpentUSD() error {
	spent, ok := r.spent()
	if !ok {
		return nil
	}
	return r.st.SetMeta(spentKey, strconv.FormatFloat(spent, 'g', -1, 64))
}

// saveLate writes u, the spend of a reply of the workers that came after saveSpent (a task's
// second reply arriving while the results are written), to the unrecorded table and the
// run's spend, so that the summary and a resumed cap see it; not once the store is closed.
func (r *Runner) saveLate(u store.Unrecorded) {
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	if r.storeClosed || r.st == nil {
		if r.opt.Notices != nil {
			fmt.Fprintf(r.opt.Notices, "prosim: a reply of backend %s's workers (%s) came after the run was saved: it is not counted in the run\n", u.Backend, plural.Count(u.Calls, "call"))
		}
		return
	}
	err := r.st.AddUnrecorded([]store.Unrecorded{u})
	if err == nil {
		err = r.saveSpentUSD()
	}
	if err != nil && r.opt.Notices != nil {
		fmt.Fprintf(r.opt.Notices, "prosim: the calls of a late reply of backend %s (%s) could not be saved: %v\n", u.Backend, plural.Count(u.Calls, "call"), err)
	}
}

// noteUnrecorded counts the calls of an ask of be, which failed with err and whose decision
// is not recorded (an interrupt, a stop), as this invocation's unrecorded spend: a call cut off
// by Ctrl-C after its request was sent may have been billed (Retry counts it unusable at its
// worst case). Not in batch mode, whose jobs are journaled and collected on resume.
func (r *Runner) noteUnrecorded(be *backendEntry, err error, reply backend.Reply) {
	if reply.Calls == 0 || r.group != nil {
		return
	}
	if _, ok := errors.AsType[*backend.BatchJobError](err); ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addUnrecorded(be.label, reply)
}

// addUnrecorded adds reply's calls, tokens and cost to the unrecorded spend of the backend
// labelled label; the caller holds mu.
func (r *Runner) addUnrecorded(label string, reply backend.Reply) {
	if r.unrecorded == nil {
		r.unrecorded = map[string]*store.Unrecorded{}
	}
	u := r.unrecorded[label]
	if u == nil {
		u = &store.Unrecorded{Backend: label}
		r.unrecorded[label] = u
	}
	addCalls(u, reply)
}

// addCalls adds reply's calls, tokens and cost to u.
func addCalls(u *store.Unrecorded, reply backend.Reply) {
	u.Calls += reply.Calls
	u.FailedCalls += reply.FailedCalls
	u.UnusableCalls += reply.UnusableCalls
	u.NoUsageCalls += reply.NoUsageCalls
	u.InputTokens += reply.InputTokens
	u.OutputTokens += reply.OutputTokens
	u.CostUSD += reply.CostUSD // NaN (unknown) stays NaN
}

// countUnasked counts rep, a reply of the workers of the backend labelled label that answers
// no ask (a cluster task decided twice: the decision has the first reply), as unrecorded
// spend: in this invocation's meter, the spend cap's account and the unrecorded table. It is
// priced as the Meter prices a reply; the cap counts a model with no price at the configured
// model's (backend.CapCost), as it counts any call of one, never at nothing. It may come from
// any goroutine.
func (r *Runner) countUnasked(label string, rep backend.Reply) {
	i := slices.IndexFunc(r.backends, func(b *backendEntry) bool { return b.label == label })
	if rep.Calls == 0 || i < 0 {
		return
	}
	prices := r.callPrices()
	rep = backend.Priced(prices, rep)
	r.backends[i].meter.AddCalls(rep)
	if r.budget != nil {
		cfg := r.backends[i].cfg
		r.budget.AddSpent(backend.CapCost(prices, rep, canonicalProvider(cfg.Provider), cfg.Model))
	}
	r.mu.Lock()
	r.addUnrecorded(label, rep)
	late := r.spentSaved
	r.mu.Unlock()
	if late {
		u := store.Unrecorded{Backend: label}
		addCalls(&u, rep)
		r.saveLate(u)
	}
}

// allUnrecorded is the unrecorded spend of earlier invocations and of this one.
func (r *Runner) allUnrecorded() []store.Unrecorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.priorUnrecorded)
	for _, u := range r.unrecorded {
		out = append(out, *u)
	}
	return out
}

// recordMaxCost keeps --max-cost for resumes that give none.
func recordMaxCost(st *store.Store, opt Options) error {
	if opt.MaxCost <= 0 {
		return nil
	}
	return st.SetMeta(maxCostKey, strconv.FormatFloat(opt.MaxCost, 'g', -1, 64))
}

// RunCap is the spend cap a resume of the run in dir keeps when given no --max-cost: the
// last --max-cost the run was given, else its config's budget.usd; 0 for none.
func RunCap(dir string) (float64, error) {
	exp, err := RunConfig(dir)
	if err != nil {
		return 0, err
	}
	st, err := store.OpenReadOnly(filepath.Join(dir, dbFile))
	if err != nil {
		return 0, fmt.Errorf("cannot resume %s: %w", dir, err)
	}
	defer st.Close()
	c, err := recordedMaxCost(st)
	if err != nil || c > 0 {
		return c, err
	}
	return exp.BudgetUSD(), nil
}

// recordedMaxCost is the last --max-cost the run in st was given; 0 for none.
func recordedMaxCost(st *store.Store) (float64, error) {
	v, err := st.Meta(maxCostKey)
	if err != nil || v == "" {
		return 0, err
	}
	c, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("run store: %s is %q: %w", maxCostKey, v, err)
	}
	return c, nil
}

// reuseMaxCost applies the run's recorded --max-cost unless the resume gives its own (which
// keepMaxCost records once it is known to be above the spend).
func reuseMaxCost(st *store.Store, opt *Options) error {
	if opt.MaxCost > 0 {
		return nil
	}
	var err error
	opt.MaxCost, err = recordedMaxCost(st)
	return err
}

// keepMaxCost checks a resume's own --max-cost, given, against what the run has spent (after
// loadSpent) and records it for later resumes. A cap at or below the spend is refused: it
// would stop the run before any call with a message saying the spend passed the cap (QA12 #11:
// "cap of $0.001 reached ($0.002 spent)"), and it would become the run's recorded cap.
func (r *Runner) keepMaxCost(given bool) error {
	if !given {
		return nil
	}
	if r.opt.MaxCost <= r.priorSpent {
		return fmt.Errorf("--max-cost %s: this run has already spent $%s; give a cap above that, e.g. --max-cost %s",
			usd.Exact(r.opt.MaxCost), usd.String(r.priorSpent), SuggestCap(r.priorSpent, r.priorSpent, 0))
	}
	return r.st.SetMeta(maxCostKey, strconv.FormatFloat(r.opt.MaxCost, 'g', -1, 64))
}

// budgetStop turns a budget refusal into the run's stop message.
func (r *Runner) budgetStop(err error) error {
	if r.budget == nil || !errors.Is(err, backend.ErrBudget) {
		return err
	}
	n, _ := r.st.CountDecisions()
	next, reserved, then := 0.0, 0.0, 0.0
	if be, ok := errors.AsType[*backend.BudgetError](err); ok {
		next, reserved, then = be.NextUSD, be.ReservedUSD, be.SpentUSD
	}
	return &BudgetStop{Dir: r.dir, CapUSD: r.budget.Cap(), Spent: r.budget.Spent(), Reserved: reserved, SpentThen: then, NextUSD: next, Decisions: n}
}

// BackendErrorf is an error about field of the run's i-th backend, located where the user gave
// it: at --backend SPEC when the flag replaced the file's backends (QA: a price error for a
// --backend model pointed at the replaced line of the file), else at its line in the file.
// Exported for estimate's warnings, which are located the same way.
func (r *Runner) BackendErrorf(i int, field, format string, a ...any) error {
	if spec := r.backends[i].cfg.Spec; spec != "" {
		return fmt.Errorf("--backend %s: "+format, append([]any{spec}, a...)...)
	}
	path := fmt.Sprintf("backends[%d]", i)
	if field != "" {
		path += "." + field
	}
	e := r.doc.Errorf(path, format, a...)
	if e.Line == 0 && i == 0 && len(r.backends) == 1 { // the file's single backend: block
		if b := r.doc.Errorf(strings.Replace(path, "backends[0]", "backend", 1), format, a...); b.Line > 0 {
			return b
		}
	}
	return e
}
