// Package study defines what a study is to prosim, and keeps the registry of them.
//
// A study (vignettes, tpp, games, network, or a new one) lives in its own folder under
// internal/study and implements Study. It registers a Factory under its name in an init
// function; internal/study/all imports every built-in study, and the runner (internal/engine)
// knows studies only through this package:
//
//	func init() { study.Register("toy", New) }
//
// The runner expands the design (backends x conditions x replicates, with seeds), builds the
// backends, records decisions in the run store and resumes; a study drives its own rounds as a
// state machine the runner steps: Next returns the decisions of the next synchronous step, the
// runner makes them (skipping those already recorded), and calls Next again, until Next
// returns nil. The study then computes its Analysis once: typed tables (written as CSV and
// Parquet), the text summary and the report sections, all from the same numbers. `prosim
// report` and `prosim export` on an old run replay the study over its recorded decisions (no
// backend is asked) and read the same Analysis, so every output of a run shows one number per
// label. The runner keeps no reply in memory: a study keeps what it needs of them (Absorb,
// Observe), so a run's memory is bounded by its population and steps, not its decisions.
package study

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/situation"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/yamlx"
)

// ModelVersionColumn is the model_version column of every table with one row per decision
// (decisions.csv and a study's own: tpp_trials.csv, games.csv, rounds.csv).
var ModelVersionColumn = table.Column{Name: "model_version", Type: table.String,
	Doc: "model snapshot the provider said answered (OpenAI: model and system_fingerprint; Anthropic: model; Gemini: modelVersion; builtin: the behavioural model's version); a cached reply keeps the version that produced it; empty when none was reported"}

// FactorColumns are the columns a table with one row per decision adds for the experiment's
// crossed factors (factors:): one per factor, named after it, in the order of
// Experiment.Factors.List, which is the order of a cell's Levels.
func FactorColumns(e *experiment.Experiment) []table.Column {
	var out []table.Column
	for _, f := range e.Factors.List() {
		out = append(out, table.Column{Name: f.Name, Type: table.String,
			Doc: "the cell's level of the " + f.Name + " factor (experiment factors:)"})
	}
	return out
}

// WithFactorColumns is schema s with e's FactorColumns last: how decisions.csv and the study
// tables with one row per decision or move (tpp_trials, rounds, games) carry the levels.
func WithFactorColumns(s table.Schema, e *experiment.Experiment) table.Schema {
	s.Columns = append(slices.Clone(s.Columns), FactorColumns(e)...)
	return s
}

// FactorColumnsDoc ends the Doc of a table that adds FactorColumns: which factors (a study's
// Design.Factors) may give it a column.
func FactorColumnsDoc(factors []string) string {
	return "; an experiment with factors: adds one column per factor crossed (of " + strings.Join(factors, ", ") + ") holding the cell's level, as decisions.csv does"
}

// FactorLevels are a cell's levels as the values of its FactorColumns, in the same order.
func FactorLevels(c *Cell) []any {
	out := make([]any, len(c.Levels))
	for i, l := range c.Levels {
		out[i] = l.Level
	}
	return out
}

// NotAsked is a count of decisions a Contingent study did not need: N decisions of one role
// (Who, a noun: "trust returner") not asked, and why.
type NotAsked struct {
	N        int
	Who, Why string
}

// Study is one run of a study: its state machine and its analysis.
type Study interface {
	// Describe says in one line what the run will do.
	Describe() string
	// Expected is how many decisions the run asks at most (for progress and estimates).
	Expected() int
	// Next returns the decisions of the next synchronous step, or nil when the study is done.
	// The runner makes every decision of a batch before it calls Next again; the study reads
	// the replies of the step through the batch's Absorb (or Env.Reply).
	Next() (*Batch, error)
	// Analyze computes the study's results once, after the last step.
	Analyze() (*Analysis, error)
}

// Factory makes a study for a checked experiment. Config errors should point at the
// experiment file's line through env.Doc.
type Factory func(env *Env) (Study, error)

// Options are optional behaviours a study may declare by implementing these interfaces.
type (
	// SharedReplicates is implemented by studies whose replicates ask the very same prompts,
	// so that providers that can return n samples serve several replicates with one call.
	SharedReplicates interface{ SharedReplicates() bool }
	// Estimator is implemented by studies whose later steps depend on earlier replies: the
	// estimate answers each step with Placeholder instead of asking a backend, and says how
	// in EstimateNote.
	Estimator interface {
		Placeholder(t *Task) backend.Reply
		EstimateNote() string
	}
	// Contingent is implemented by studies that ask some decisions only when earlier replies
	// call for them (a trust returner only when something was sent): Expected is then an
	// upper bound. NotAsked counts the decisions of Expected that the steps made so far found
	// not needed, by who and why; with the decisions made they add up to Expected once the
	// study is done.
	Contingent interface{ NotAsked() []NotAsked }
	// RoundSteps is implemented by studies each of whose steps asks the decisions of one
	// round, rounds in increasing order (Study 3): resume --retry-invalid then says before
	// asking exactly how many recorded decisions it asks again because they observed one asked
	// again (those of the cell's later rounds), not an upper bound.
	RoundSteps interface{ RoundSteps() bool }
	// Counted is implemented by studies whose design fixes how many decisions each cell
	// asks, whatever the replies: `prosim estimate` then counts a behavioural-model run
	// without building a request. CellDecisions must equal what playing the cell asks.
	Counted interface {
		CellDecisions(c *Cell) int
	}
	// Fields is implemented by studies that ask a scenario with a response schema of their
	// own (Study 3 adds an unfairness rating): results/decisions.csv lists these fields for
	// the scenario instead of the scenario's own.
	Fields interface {
		Fields(scenario string) ([]scenario.Field, bool)
	}
	// AgentColumns is implemented by studies that add columns of their own to
	// results/agents.csv (Study 3: each agent's degree in its graph). The columns are declared
	// once, with RegisterAgentColumns (docs/results.md lists them); AgentValues gives agent i's
	// values (i indexes Env.Agents) in that order. A study that declares agent columns must
	// implement it.
	AgentColumns interface{ AgentValues(i int) []any }
	// Live is implemented by studies that can show their main estimates while a run goes on
	// (prosim serve's live view). The runner steps the study over the decisions recorded so
	// far, as a report replays a run, and stops at the first step not recorded in full;
	// LiveEstimates then computes the estimates from what the study has seen, with the
	// functions its Analyze uses (not a second implementation). Decisions of the unfinished
	// step are readable through Env.Reply (ok false for those not recorded yet). A Streamed
	// study is not stepped: it is handed every recorded decision (Observe), as in a replay.
	Live interface {
		LiveEstimates() (*Estimates, error)
	}
	// Unrecorded is implemented by studies whose decisions are aggregated in memory, not
	// journaled (Study 3's summary store). Such a run cannot be resumed decision by decision:
	// it is played again from the start.
	Unrecorded interface{ Unrecorded() bool }
	// Streamed is implemented by recorded studies whose analysis reads the recorded decisions
	// only through Observe: after the last step the runner hands every recorded decision to
	// Observe, in store order (run design order, agent id, round, trial, scenario), in the one
	// pass over the store that also writes decisions.csv and counts validity. Analyze reads
	// what Observe gathered. Expected must be exact: the pass checks the count. A replayed run
	// (report, export, live estimates) calls Observe without calling Next. While it runs, such
	// a study reads replies through Absorb only (Study 2 with history), never Env.Reply.
	Streamed interface {
		Observe(d store.Decision) error
	}
	// DecisionTables is implemented by Streamed studies with result tables of one row (or a
	// few) per recorded decision, made from the decision and the design alone (Study 2's
	// tpp_trials.csv): the runner writes them in the one pass over the store, beside
	// decisions.csv, so the study keeps no per-decision rows for them. They are not in
	// Analysis.Tables: the runner lists them after decisions.csv and agents.csv, before the
	// analysis's own tables, and an export of an old run reads them in a pass of its own.
	DecisionTables interface {
		DecisionTables() []DecisionTable
	}
	// TypedBackends is implemented by studies that can decide on typed backends
	// (situation.Typed: the behavioural model) without requests or replies (Batch.Typed).
	// The runner calls UseTyped once, before the first step, and only for a run that journals
	// nothing (Unrecorded); of gives a cell's backend as a situation.Typed, or nil when it is
	// not one in this process (an LLM, or the behavioural model on remote workers).
	TypedBackends interface {
		UseTyped(of func(c *Cell) situation.Typed)
	}
)

// Design is what a study can vary, declared with RegisterDesign: the runner checks an
// experiment's factors: and prompt.mode against it with the file's other problems, whether
// or not the study can be made. A study that declares none varies no factor and puts one
// scenario in a prompt.
type Design struct {
	// Factors names the prompt-design factors (the experiment's factors:) the study applies
	// to its prompts; the runner rejects any other at its line. The study checks the levels
	// that depend on its scenarios (wording variants) in its New.
	Factors []string
	// JointPrompts says the study can put all its scenarios in one prompt (prompt.mode: joint).
	JointPrompts bool
	// CheckScenario, if set, is what the experiment's backends cannot do with scenario sc of
	// its scenarios list ("" for nothing): the builtin backend's needs. The study's New checks
	// it; the runner checks it with the file's other problems when the study cannot be made
	// for them (an unknown policy, another scenario's problems), on the scenarios that are
	// sound.
	CheckScenario func(sc scenario.Scenario, backends []experiment.Backend) string
}

var (
	regMu      sync.RWMutex
	registry   = map[string]Factory{}
	designs    = map[string]Design{}
	declared   = map[string][]table.Schema{}
	agentsCols = map[string][]table.Column{}
)

// RegisterAgentColumns declares the columns study name adds to results/agents.csv, after the
// persona's; its runs give their values by implementing AgentColumns.
func RegisterAgentColumns(name string, cols ...table.Column) {
	regMu.Lock()
	defer regMu.Unlock()
	agentsCols[name] = append(agentsCols[name], cols...)
	for _, c := range cols {
		persona.RegisterAgentsColumn(c.Name) // so agents.csv reads back as a population
	}
}

// AgentColumnsOf are the columns study name adds to results/agents.csv (none for most).
func AgentColumnsOf(name string) []table.Column {
	regMu.RLock()
	defer regMu.RUnlock()
	return slices.Clone(agentsCols[name])
}

// Register makes a study known by name, with the schemas of the tables its analysis writes
// (for docs/results.md). It panics on a duplicate name, as http.Handle does.
func Register(name string, f Factory, tables ...table.Schema) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("study: Register called twice for " + name)
	}
	registry[name] = f
	declared[name] = tables
}

// RegisterDesign declares what study name can vary (see Design).
func RegisterDesign(name string, d Design) {
	regMu.Lock()
	defer regMu.Unlock()
	designs[name] = d
}

// DesignOf is what study name declared it can vary.
func DesignOf(name string) Design {
	regMu.RLock()
	defer regMu.RUnlock()
	return designs[name]
}

// Schemas are the tables a registered study declared.
func Schemas(name string) []table.Schema {
	regMu.RLock()
	defer regMu.RUnlock()
	return declared[name]
}

// Lookup returns the study registered under name.
func Lookup(name string) (Factory, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	f, ok := registry[name]
	return f, ok
}

// Names lists the registered studies in order.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var out []string
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Cell is one cell of the design: a backend, a condition and a replicate.
type Cell struct {
	store.Run
	Frame    policy.Frame
	Sampling backend.Sampling
	// Condition is the experiment's condition of this cell.
	Cond *experiment.Condition
	// Levels are the cell's levels of the experiment's factors, in the order of
	// experiment.Factors.List (none when no factor is crossed).
	Levels []Level
}

// Level is a cell's level of one design factor.
type Level struct{ Factor, Level string }

// Level returns the cell's level of factor, or "" when the factor is not crossed.
func (c *Cell) Level(factor string) string {
	for _, l := range c.Levels {
		if l.Factor == factor {
			return l.Level
		}
	}
	return ""
}

// LevelSeed derives a decision's seed from its factor levels, so that one cell of a factor
// design is reproducible on its own; without factors it is s itself (runs made before
// factors existed keep their seeds). The condition stays out of it (common random numbers).
func (c *Cell) LevelSeed(s uint64) uint64 {
	if len(c.Levels) == 0 {
		return s
	}
	parts := make([]any, 0, len(c.Levels)+1)
	parts = append(parts, "factors")
	for _, l := range c.Levels {
		parts = append(parts, l.label())
	}
	return seed.Derive(s, parts...)
}

// SeedLevels names the levels LevelSeed derives from ("option_order=shuffled;wording=p1"),
// "" without factors: the request's Levels, which the cache key holds, since a level that
// changes no text (option_order for a decision without options) still changes the seed.
func (c *Cell) SeedLevels() string {
	if len(c.Levels) == 0 {
		return ""
	}
	parts := make([]string, len(c.Levels))
	for i, l := range c.Levels {
		parts[i] = l.label()
	}
	return strings.Join(parts, ";")
}

func (l Level) label() string { return l.Factor + "=" + l.Level }

// Env is what the runner gives a study: the checked experiment, the libraries, the
// population, the design and the recorded replies.
type Env struct {
	Exp       *experiment.Experiment
	Doc       *yamlx.Doc // locates experiment fields for errors; may be nil
	Scenarios *scenario.Library
	Policies  *policy.Library
	Agents    []persona.Persona
	Cells     []*Cell
	Dir       string // the run directory (set once it is known: run, resume, report, export)
	// Backends are the labels of the experiment's backends, in order.
	Backends []string
	// Replay is true when the study is played over a finished run's record to analyse it
	// (`prosim report`, `prosim export`): every decision is already recorded.
	Replay bool
	// Estimate is true when the study is played to count requests: replies are placeholders.
	Estimate bool

	// PersonaText renders agent i's persona (cached by the runner where it is kept).
	PersonaText func(i int) string
	// Reply returns a recorded decision's reply, read from the run store (a decision of the
	// current step is readable from the next step on). Each call is a database read: built-in
	// studies keep what they need through Absorb or Observe instead. While estimating it
	// returns the placeholder replies of batches without Absorb.
	Reply func(k store.Key) (backend.Reply, bool)
}

// System is the system text of agent i: its persona and the role.
func (e *Env) System(i int) string { return e.PersonaText(i) + "\n\n" + RoleText }

// RoleText follows the persona in every system prompt.
const RoleText = "Answer every question as this person would, in their own situation, honestly and without lecturing."

// Task is one call to a backend; it yields one decision, or several for a joint prompt.
type Task struct {
	Keys   []store.Key
	Params []map[string]float64
	Cell   *Cell
	Req    backend.Request
	// Split turns the reply into one reply per key (joint prompts) and may apply the study's
	// own checks of a reply; nil means Keys has one entry and the reply is taken as it is.
	Split func(backend.Reply) []backend.Reply
}

// Batch is one synchronous step: decisions that do not depend on each other.
type Batch struct {
	// Tasks are the step's decisions, or N tasks built on demand by Build (for steps too
	// large to hold, such as a round of a million agents). Build must be safe for
	// concurrent use.
	Tasks []Task
	N     int
	Build func(i int) (Task, error)
	// Absorb, when set, is given each task's replies as they come (concurrently): asked, or
	// on resume and replay read back from the run store for tasks already recorded. It is how
	// a study keeps what its later steps need (ratings per agent, moves, a session's history)
	// without the runner holding replies. A batch without Absorb has its recorded tasks only
	// counted on resume.
	Absorb func(i int, t *Task, replies []backend.Reply) error
	// Keys, when set, is task i without its request (its Keys, Params and Cell), which is
	// all a task recorded before needs on resume: the runner builds the request only for a
	// task it asks. Composing the prompts of 200,000 recorded decisions was a quarter of a
	// resume that had none to make (QA14).
	Keys func(i int) Task
	// Typed, when set (by a study given typed backends through TypedBackends, for a batch
	// every decision of which has one), makes decisions lo..hi-1 as Build, the backend and
	// Absorb would, with the same values, on the typed backends: no task, request or reply
	// is built. The runner calls it from its workers on disjoint ranges; it must be safe for
	// that. A batch with Typed still has Build and Absorb (for the generic path).
	Typed func(lo, hi int) error
}

// Len is the number of tasks in the batch.
func (b *Batch) Len() int {
	if b.Build != nil {
		return b.N
	}
	return len(b.Tasks)
}

// Task returns task i, its request's Levels set from its cell (Cell.SeedLevels): every
// study's decision seeds derive from its cell's levels (LevelSeed), so its cache key does too.
func (b *Batch) Task(i int) (Task, error) {
	var t Task
	if b.Build != nil {
		var err error
		if t, err = b.Build(i); err != nil {
			return t, err
		}
	} else {
		t = b.Tasks[i]
	}
	if t.Cell != nil {
		t.Req.Levels = t.Cell.SeedLevels()
	}
	return t, nil
}

// DecisionTable is a result table whose rows are made decision by decision (DecisionTables).
type DecisionTable struct {
	table.Schema
	// Rows emits recorded decision d's rows, if any; it is called in store order.
	Rows func(d store.Decision, emit func(row []any) error) error
}

// Analysis is a study's results, computed once: every output reads it.
type Analysis struct {
	// Tables are written to RUN_DIR/results as CSV (and Parquet by `prosim export`).
	Tables []*table.Table
	// Files are further result files (name -> content writer), such as a text summary kept
	// in the run directory.
	Files []File
	// Summary writes the text printed at the end of a run.
	Summary func(w io.Writer) error
	// Sections are the study's sections of report.html.
	Sections []report.Section
	// About is what the report's design table says of the study.
	About report.About
}

// File is a result file that is not a table.
type File struct {
	Name  string
	Write func(w io.Writer) error
}

// Table returns the analysis table named name.
func (a *Analysis) Table(name string) (*table.Table, bool) {
	i := slices.IndexFunc(a.Tables, func(t *table.Table) bool { return t.Name == name })
	if i < 0 {
		return nil, false
	}
	return a.Tables[i], true
}

// ScenarioError is the error err of rendering scenario id's prompt: a problem located in the
// scenario's file as it is (its place names the scenario), else named by the scenario.
func ScenarioError(id string, err error) error {
	return yamlx.Prefix("scenario "+id, err)
}

// Errorf is an error located at an experiment field when env.Doc is known.
func (e *Env) Errorf(field, format string, args ...any) error {
	if e.Doc != nil {
		return e.Doc.Errorf(field, format, args...)
	}
	return fmt.Errorf(field+": "+format, args...)
}

// Midpoint is a placeholder reply for estimates: every field at the middle of its range,
// rounded to its step, and the first option of a choice.
func Midpoint(s scenario.Schema) backend.Reply {
	v := map[string]float64{}
	for _, f := range s.Fields {
		switch f.Kind {
		case scenario.Choice:
			v[f.Name] = 0
		default:
			m := (f.Min + f.Max) / 2
			if f.Kind == scenario.Likert || f.Step > 0 {
				m = math.Floor(m)
			}
			v[f.Name] = m
		}
	}
	return backend.Reply{Values: v, Provider: "estimate"}
}

// Exposure is the structured form of a policy frame for the behavioural model.
func Exposure(f policy.Frame) situation.PolicyExposure {
	return situation.PolicyExposure{ID: f.ID, Channel: f.Channel, Strength: f.Strength, Amount: f.Amount}
}

// SituationParams merges a scenario's behavioural-model parameters, its terms and extra.
func SituationParams(sc scenario.Scenario, extra map[string]float64) map[string]float64 {
	p := make(map[string]float64, len(sc.Model)+len(sc.Params)+len(extra))
	maps.Copy(p, sc.Model)
	maps.Copy(p, sc.Params)
	maps.Copy(p, extra)
	return p
}

// Estimates are a study's main estimates so far, as a table of display strings.
type Estimates struct {
	// Title names the estimand ("Mean willingness (1-7) by condition, so far").
	Title string
	// Note says how the numbers are computed and how they differ from the final results.
	Note string
	Head []string
	Rows [][]string
}
