package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/manifest"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/writing"
)

// writeTables writes tables as results/NAME.csv in the run directory.
func (r *Runner) writeTables(ts ...*table.Table) error {
	dir := filepath.Join(r.dir, "results")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, t := range ts {
		w, err := table.CreateCSV(filepath.Join(dir, t.Name+".csv"), t.Schema)
		if err != nil {
			return err
		}
		if err := table.Write(w, t); err != nil {
			return fmt.Errorf("%s.csv: %w", t.Name, err)
		}
	}
	return nil
}

// writeFiles writes an analysis's other result files.
func (r *Runner) writeFiles(a *study.Analysis) error {
	for _, f := range a.Files {
		if err := writing.File(filepath.Join(r.dir, "results", f.Name), f.Write); err != nil {
			return err
		}
	}
	return nil
}

// tables are every table of a run: the decisions and the agents of a recorded study, then the
// study's own.
func (r *Runner) tables(a *study.Analysis) []*table.Table {
	var out []*table.Table
	if r.recorded() {
		out = append(out, r.decisionsTable(nil), r.agentsTable())
		for _, dt := range r.decisionTables() {
			out = append(out, r.storeTable(dt))
		}
	}
	return append(out, a.Tables...)
}

// decisionTables are the study's tables made decision by decision, when it streams them.
func (r *Runner) decisionTables() []study.DecisionTable {
	if dt, ok := r.study.(study.DecisionTables); ok && r.isStreamed() {
		return dt.DecisionTables()
	}
	return nil
}

// storeTable is dt read in a pass of its own over the store (an export of a finished run;
// a run writes it in its finishing pass, beside decisions.csv).
func (r *Runner) storeTable(dt study.DecisionTable) *table.Table {
	return &table.Table{Schema: dt.Schema, Rows: func(emit func([]any) error) error {
		return r.st.Decisions(func(d store.Decision) error { return dt.Rows(d, emit) })
	}}
}

// teeTables opens the study's decision tables in results/ and returns a function that writes
// one decision's rows to each, and one that closes them all (the files appear on success
// only; on error every unfinished file is removed).
func (r *Runner) teeTables() (each func(store.Decision) error, finish func(ok bool) error, err error) {
	dts := r.decisionTables()
	ws := make([]table.Writer, 0, len(dts))
	finish = func(ok bool) error {
		var first error
		for _, w := range ws {
			if !ok {
				w.Abort()
				continue
			}
			if err := w.Close(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	dir := filepath.Join(r.dir, "results")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	for _, dt := range dts {
		w, err := table.CreateCSV(filepath.Join(dir, dt.Name+".csv"), dt.Schema)
		if err != nil {
			finish(false)
			return nil, nil, err
		}
		ws = append(ws, w)
	}
	each = func(d store.Decision) error {
		for i, dt := range dts {
			if err := dt.Rows(d, ws[i].Write); err != nil {
				return fmt.Errorf("%s.csv: %w", dt.Name, err)
			}
		}
		return nil
	}
	return each, finish, nil
}

// AgentsSchema declares results/agents.csv with the columns a study adds (AgentsSchemaOf).
var AgentsSchema = agentsSchema()

func agentsSchema(extra ...table.Column) table.Schema {
	cols := persona.TableColumns()
	cols[0].Name, cols[0].Doc = "agent_id", "agent id: the key of decisions.csv and the study's tables"
	return table.Schema{Name: "agents", Doc: "every agent of the population, one row per agent: the columns of " +
		"`prosim personas --csv` (its id named agent_id), then the study's own columns, if any. Join it to " +
		"decisions.csv on agent_id. Written by recorded runs only: a run with network.store: summary keeps " +
		"nothing per agent; `prosim personas --run RUN_DIR --csv FILE` reproduces its population from the " +
		"resolved config (population.seed).",
		Columns: append(cols, extra...)}
}

// AgentsSchemaOf is results/agents.csv of study name: the persona's columns, then the study's
// (study.RegisterAgentColumns).
func AgentsSchemaOf(name string) table.Schema { return agentsSchema(study.AgentColumnsOf(name)...) }

func (r *Runner) agentsTable() *table.Table {
	s := AgentsSchemaOf(r.exp.Study)
	extra := len(s.Columns) - len(AgentsSchema.Columns)
	return &table.Table{Schema: s, Rows: func(emit func([]any) error) error {
		ac, ok := r.study.(study.AgentColumns)
		if extra > 0 && !ok {
			return fmt.Errorf("study %s declares %d agent column(s) but does not implement study.AgentColumns", r.exp.Study, extra)
		}
		for i := range r.agents {
			row := persona.Values(&r.agents[i])
			if extra > 0 {
				row = append(row, ac.AgentValues(i)...)
			}
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	}}
}

// DecisionsSchema declares results/decisions.csv: tidy long format, one row per decision
// field.
var DecisionsSchema = table.Schema{Name: "decisions", Doc: "every decision, one row per response field; an experiment with factors: adds one column per factor crossed (of " + experiment.FactorNames() + ") holding the cell's level", Columns: []table.Column{
	{Name: "run_id", Type: table.String, Doc: experiment.RunIDDoc},
	{Name: "backend", Type: table.String, Doc: "backend label (builtin is the behavioural model, not an LLM)"},
	{Name: "model", Type: table.String, Doc: "model that answered, as the provider named it"},
	study.ModelVersionColumn,
	{Name: "condition", Type: table.String, Doc: "condition name"},
	{Name: "policy", Type: table.String, Doc: "policy frame shown"},
	{Name: "replicate", Type: table.Int, Doc: "replicate, from 1"},
	{Name: "agent_id", Type: table.Int, Doc: "agent id of the population"},
	{Name: "round", Type: table.Int, Doc: "round (0 when the study has none)"},
	{Name: "trial", Type: table.Int, Doc: "trial (0 when the study has none)"},
	{Name: "scenario", Type: table.String, Doc: "scenario id"},
	{Name: "field", Type: table.String, Doc: "response field"},
	{Name: "value", Type: table.Float, Doc: "the value given; empty when the decision is invalid"},
	{Name: "value_label", Type: table.String, Doc: "the option chosen, for choice fields"},
	{Name: "valid", Type: table.Bool, Doc: "1 when the reply fitted the schema"},
	{Name: "invalid_reason", Type: table.String, Doc: "why the reply was recorded invalid"},
	{Name: "cached", Type: table.Bool, Doc: "1 when no provider call was made for this reply: it came from the response cache, or it is the reply of the same agent's identical request of the same run asked once (also without a cache)"},
	// What the decision spent, as prosim.db records it: per decision, so a decision with
	// several fields repeats it on each of its rows.
	{Name: "calls", Type: table.Int, Doc: "provider calls made for the decision: re-asks and failed attempts included, 0 from the cache or the behavioural model (the decision's own, repeated on each of its field rows: sum over one row per decision; a joint prompt's call counts on its first scenario)"},
	{Name: "failed_calls", Type: table.Int, Doc: "those of calls that failed (HTTP error statuses such as 400, 429 or 5xx, timeouts before the request was sent; in batch mode, a job's line that came back without a reply: an error for it, or its job expired, failed or was cancelled first): they reached the provider, which does not usually bill them, and carry no tokens or cost"},
	{Name: "unusable_calls", Type: table.Int, Doc: "those of calls that came back with HTTP 200 but could not be used (a body cut or malformed, not the provider's reply format, too large), or that timed out after their request was sent: the provider may have billed them, so cost_usd counts each at its usage if the body said one, else at the call's worst case (as the spend cap reserves it); not in input_tokens or output_tokens"},
	{Name: "no_usage_calls", Type: table.Int, Doc: "those of calls whose usable reply said no token usage (some gateways and older local servers leave it out): cost_usd counts each at the call's worst case (as the spend cap reserves it), so a decision of 0 tokens can have a cost; not in input_tokens or output_tokens"},
	{Name: "input_tokens", Type: table.Int, Doc: "input tokens the provider counted for the decision's calls (like calls, per decision); a reply that said no token usage adds none"},
	{Name: "output_tokens", Type: table.Int, Doc: "output tokens the provider counted for the decision's calls (like calls, per decision)"},
	{Name: "cost_usd", Type: table.Float, Doc: "cost in USD of the decision's calls at the experiment's prices, unusable_calls included (like calls, per decision), and a call whose reply said no token usage (some gateways and older local servers leave it out) at its worst case, as the spend cap reserves it; empty when the model's price is unknown"},
	{Name: "latency_ms", Type: table.Float, Doc: "milliseconds the reply took (its calls' summed latency; a cache lookup's for a cached reply; 0 for the behavioural model and for a decision recorded after an error); measured wall time, so it differs between two runs of the same config and seed"},
}}

// DecisionsSchemaOf is results/decisions.csv of an experiment: DecisionsSchema, then one
// column per crossed factor (experiment factors:), named after it, holding the cell's level.
func DecisionsSchemaOf(exp *experiment.Experiment) table.Schema {
	return study.WithFactorColumns(DecisionsSchema, exp)
}

// decisionsTable is results/decisions.csv, read from the store as it is written; each, when
// set, is handed every decision first (the one pass that also feeds the report and a
// streamed study's analysis).
func (r *Runner) decisionsTable(each func(store.Decision) error) *table.Table {
	return &table.Table{Schema: DecisionsSchemaOf(r.exp), Rows: func(emit func([]any) error) error {
		// A cell's columns are boxed once, and one row is filled again for every field of
		// every decision (the writers copy it out): a row made anew per decision allocated
		// the slice and a box for each of its strings, most of the results pass's garbage.
		type cellRow struct {
			cell   *study.Cell
			prefix []any // run_id, backend (model and model_version are the reply's), ...
		}
		byID := map[string]*cellRow{}
		for _, c := range r.cells {
			byID[c.ID] = &cellRow{cell: c, prefix: []any{c.ID, c.Run.Backend, c.Run.Condition, c.Run.Policy, c.Run.Replicate}}
		}
		var row []any
		var model, version any = "", ""
		return r.st.Decisions(func(d store.Decision) error {
			cr := byID[d.RunID]
			if cr == nil {
				return fmt.Errorf("decision of unknown run %q", d.RunID)
			}
			if each != nil {
				if err := each(d); err != nil {
					return err
				}
			}
			fields, err := r.fieldsOf(d.Scenario)
			if err != nil {
				return err
			}
			if d.Reply.Model != model.(string) {
				model = d.Reply.Model
			}
			if d.Reply.ModelVersion != version.(string) {
				version = d.Reply.ModelVersion
			}
			p := cr.prefix
			row = append(row[:0], p[0], p[1], model, version, p[2], p[3], p[4],
				d.AgentID, d.Round, d.Trial, d.Scenario, nil, nil, "",
				d.Reply.Valid(), table.OneLine(d.Reply.Invalid), d.Reply.Cached,
				d.Reply.Calls, d.Reply.FailedCalls, d.Reply.UnusableCalls, d.Reply.NoUsageCalls, d.Reply.InputTokens, d.Reply.OutputTokens, d.Reply.CostUSD, latencyMS(d.Reply.Latency))
			for _, l := range cr.cell.Levels {
				row = append(row, l.Level)
			}
			for _, f := range fields {
				var val any
				label := ""
				if d.Reply.Valid() {
					v := d.Reply.Values[f.Name]
					val = v
					if f.Kind == scenario.Choice && int(v) >= 0 && int(v) < len(f.Options) {
						label = f.Options[int(v)]
					}
				}
				row[11], row[12], row[13] = f.Name, val, label
				if err := emit(row); err != nil {
					return err
				}
			}
			return nil
		})
	}}
}

// latencyMS is d in milliseconds to the microsecond (more digits would be noise).
func latencyMS(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// fieldsOf are the response fields asked with a scenario: the study's own schema for it when
// it has one, else the scenario's.
func (r *Runner) fieldsOf(id string) ([]scenario.Field, error) {
	if f, ok := r.study.(study.Fields); ok {
		if fields, ok := f.Fields(id); ok {
			return fields, nil
		}
	}
	sc, ok := r.scen.Get(id)
	if !ok {
		return nil, fmt.Errorf("decision of unknown scenario %q", id)
	}
	return sc.Response.Fields, nil
}

// Analyzed is a finished run directory, replayed over its recorded decisions and analysed.
type Analyzed struct {
	Dir      string
	Exp      *experiment.Experiment
	Analysis *study.Analysis
	runner   *Runner
	run      *report.Run // the run's record as the report reads it, loaded once (loaded)
	label    string      // names the run instead of its folder (RenderReportAs)
}

// loaded reads the run's record for the report's common sections and the validity summary,
// once: both are written after a run, and a store can hold millions of decisions.
func (a *Analyzed) loaded() (*report.Run, error) {
	if a.run == nil {
		run, err := report.Load(a.Dir)
		if err != nil {
			return nil, err
		}
		a.run = run
	}
	return a.run, nil
}

// Close releases the run's store.
func (a *Analyzed) Close() { a.runner.close() }

// Tables are every table of the run (decisions and agents first).
func (a *Analyzed) Tables() []*table.Table { return a.runner.tables(a.Analysis) }

// Analyze opens a finished run directory and computes its study's analysis by replaying the
// study over its recorded decisions: no backend is asked.
func Analyze(dir string) (*Analyzed, error) {
	exp, err := RunConfig(dir)
	if err != nil {
		return nil, err
	}
	if _, reg := study.Lookup(exp.Study); !reg {
		return nil, fmt.Errorf("%s: unknown study %q (known: %s)", dir, exp.Study, strings.Join(study.Names(), ", "))
	}
	st, err := store.OpenExisting(filepath.Join(dir, dbFile))
	if err != nil {
		return nil, notCreatedHint(dir, err)
	}
	// A replay reads its recorded tasks back from their keys (or streams them): no prompt of
	// them is built, so no persona text is rendered up front.
	r, err := Prepare(exp, Options{Offline: true, Recorded: true, TextsOnDemand: true})
	if err != nil {
		st.Close()
		return nil, err
	}
	r.setDir(dir)
	r.env.Replay = true
	r.replaying = true
	r.st = st
	if s, ok := r.streamedStudy(); ok {
		// One pass over the store: the study's analysis and the report's counts.
		runs, err := st.Runs()
		if err == nil {
			r.tally = report.NewTally(runs)
			err = st.Decisions(func(d store.Decision) error {
				r.tally.Add(d)
				return s.Observe(d)
			})
		}
		if err == nil {
			err = r.checkComplete()
		}
		if err != nil {
			r.close()
			return nil, fmt.Errorf("%s: %w", dir, withCapStop(err, dir))
		}
	} else {
		if err := r.loadRecorded(); err != nil {
			r.close()
			return nil, err
		}
		err := r.runStudy(context.Background())
		r.held = nil // the study has absorbed them
		if err != nil {
			r.close()
			return nil, fmt.Errorf("%s: %w", dir, withCapStop(err, dir))
		}
	}
	an, err := r.study.Analyze()
	if err != nil {
		r.close()
		return nil, err
	}
	a := &Analyzed{Dir: dir, Exp: exp, Analysis: an, runner: r}
	if r.tally != nil {
		a.run = &report.Run{Dir: dir, Exp: exp, Runs: r.tally.Runs(), Tally: r.tally}
		if a.run.Unrecorded, err = st.UnrecordedSpend(); err != nil {
			r.close()
			return nil, err
		}
	}
	return a, nil
}

// errIncomplete begins the error of a report or analysis of a run that is not complete.
var errIncomplete = errors.New("the run is incomplete")

// withCapStop adds to the error of an incomplete run, when it stopped at its spend cap, how to
// continue it with a higher one (QA9: report said only "continue it with prosim resume",
// which stops again at the same cap).
func withCapStop(err error, dir string) error {
	if !errors.Is(err, errIncomplete) {
		return err // the manifest is read only for an incomplete run
	}
	m, rerr := manifest.Read(dir)
	if rerr != nil {
		return err // a run of an earlier prosim, or no manifest yet: no stop is recorded
	}
	if note := CapStopOf(m, dir); note != "" {
		return fmt.Errorf("%w\n%s", err, note)
	}
	return err
}

// checkComplete fails when a streamed study's pass read fewer decisions than the study asks.
func (r *Runner) checkComplete() error {
	if n, want := r.tally.Decisions, r.study.Expected(); n != want {
		return fmt.Errorf("%w: %d of its %s are recorded (continue it with prosim resume)", errIncomplete, n, plural.Count(want, "decision"))
	}
	return nil
}

// CheckRunFolder says plainly when dir is no run directory: it does not exist, is a file, or
// lacks the config.yaml every run directory has (so a command does not fail later on some
// other file of it, with a misleading reason).
func CheckRunFolder(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist: no such run directory", dir)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s is a file, not a run directory", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, configFile)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s is not a prosim run directory: it has no %s, which prosim run writes in every run directory", dir, configFile)
	}
	return nil
}

// RunConfig reads the resolved config of run directory dir (CheckRunFolder first).
func RunConfig(dir string) (*experiment.Experiment, error) {
	if err := CheckRunFolder(dir); err != nil {
		return nil, err
	}
	exp, err := experiment.Load(filepath.Join(dir, configFile))
	if err != nil {
		return nil, fmt.Errorf("%s is not a prosim run directory: %w", dir, err)
	}
	return exp, nil
}

// CheckRunDir fails when dir is no run directory (CheckRunFolder) or, naming the file, when
// its run database is missing, empty or from an interrupted creation (store.OpenExisting):
// there is nothing to report or export.
func CheckRunDir(dir string) error {
	if err := CheckRunFolder(dir); err != nil {
		return err
	}
	st, err := store.OpenExisting(filepath.Join(dir, dbFile))
	if err != nil {
		return notCreatedHint(dir, err)
	}
	return st.Close()
}

// notCreatedHint says what to do with a run directory whose database is missing or records no
// runs (store.ErrNotCreated): without a manifest its creation was interrupted, and a resume
// finishes it; with one the database was lost since.
func notCreatedHint(dir string, err error) error {
	if !errors.Is(err, store.ErrNotCreated) {
		return err
	}
	if _, merr := os.Stat(filepath.Join(dir, manifest.File)); errors.Is(merr, os.ErrNotExist) {
		return fmt.Errorf("%w (nothing was decided: prosim resume %s finishes the creation and runs it)", err, dir)
	}
	return fmt.Errorf("%w, yet its %s says the run was created: the database was deleted or replaced "+
		"(remove the folder and start the run again with prosim run, or give run another --out)", err, manifest.File)
}

// WriteReport writes the HTML report of one or several run directories to out.
func WriteReport(out string, dirs ...string) error {
	// The runs are analysed before the page is opened, so that a folder that is not a run
	// is reported as such, not as the page that could not be created in it.
	as, err := analyzeAll(dirs)
	defer closeAll(as)
	if err != nil {
		return err
	}
	return writing.File(out, func(w io.Writer) error { _, err := renderAnalyzed(w, as); return err })
}

// RenderReportAs renders the report of run directories: the design and validity of each, then
// each study's own sections from its analysis. labels[i] names dirs[i] where runs must be told
// apart (runNames), instead of its folder: prosim serve's ids, never a path.
func RenderReportAs(w io.Writer, labels, dirs []string) error {
	as, err := analyzeAll(dirs)
	defer closeAll(as)
	if err != nil {
		return err
	}
	for i, a := range as {
		a.label = labels[i]
	}
	_, err = renderAnalyzed(w, as)
	return err
}

// analyzeAll analyses each run directory of a report, in order; the caller closes those
// analysed (closeAll) whatever the error.
func analyzeAll(dirs []string) ([]*Analyzed, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("report: no run directory given")
	}
	var as []*Analyzed
	for _, d := range dirs {
		a, err := Analyze(d)
		if err != nil {
			return as, err
		}
		as = append(as, a)
	}
	return as, nil
}

func closeAll(as []*Analyzed) {
	for _, a := range as {
		a.Close()
	}
}

// WriteFigures writes the report of run directories to page (none when page is "") and every
// figure of it as an SVG and a PDF file in out (created if needed), named by its number in the
// report (figure-01.svg, figure-01.pdf, ...), from one analysis of the runs. It returns the
// figure files written.
func WriteFigures(page, out string, dirs ...string) ([]string, error) {
	as, err := analyzeAll(dirs)
	defer closeAll(as)
	if err != nil {
		return nil, err
	}
	var figs []report.Figure
	render := func(w io.Writer) (err error) {
		figs, err = renderAnalyzed(w, as)
		return err
	}
	if page == "" {
		err = render(io.Discard)
	} else {
		err = writing.File(page, render)
	}
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, f := range figs {
		// Whole or not at all, as the page: `prosim report` may be abandoned at Ctrl-C.
		p := filepath.Join(out, f.File())
		if err := writing.File(p, func(w io.Writer) error { _, err := io.WriteString(w, f.SVG); return err }); err != nil {
			return nil, err
		}
		pdf, err := f.PDF()
		if err != nil {
			return nil, err
		}
		q := filepath.Join(out, f.PDFFile())
		if err := writing.File(q, func(w io.Writer) error { _, err := w.Write(pdf); return err }); err != nil {
			return nil, err
		}
		files = append(files, p, q)
	}
	return files, nil
}

// FolderNames name the run folders of a page: each by its name, or where names repeat
// (a/run and b/run) by the shortest ending of its path that tells it from the others', never
// by the path given, which may be a home directory's: a page moves with its runs. The same
// folder given twice is numbered: run, run (2).
func FolderNames(dirs []string) []string {
	sep := string(filepath.Separator)
	parts := make([][]string, len(dirs))
	for i, d := range dirs {
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		parts[i] = strings.Split(filepath.Clean(d), sep)
	}
	sameTail := func(p, q []string, k int) bool {
		return k <= len(q) && slices.Equal(p[len(p)-k:], q[len(q)-k:])
	}
	names := make([]string, len(dirs))
	for i, p := range parts {
		k, twice := 1, 0
		for j, q := range parts {
			if slices.Equal(p, q) {
				if j < i {
					twice++
				}
				continue
			}
			for k < len(p) && sameTail(p, q, k) {
				k++
			}
		}
		names[i] = strings.Join(p[len(p)-k:], sep)
		if twice > 0 {
			names[i] += fmt.Sprintf(" (%d)", twice+1)
		}
	}
	return names
}

// runNames name the runs of a page: by experiment name, or where names repeat (two runs of
// one experiment) by label or else by folder (FolderNames), never "study1 vs study1".
func runNames(as []*Analyzed, folders []string) []string {
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = a.Exp.Name
		for _, b := range as {
			if b != a && b.Exp.Name == a.Exp.Name {
				names[i] = cmp.Or(a.label, folders[i])
			}
		}
	}
	return names
}

func reportTitle(names []string) string {
	if len(names) == 1 {
		return "prosim report: " + names[0]
	}
	return "prosim comparison: " + strings.Join(names, " vs ")
}

func renderAnalyzed(w io.Writer, as []*Analyzed) ([]report.Figure, error) {
	var dirs []string
	for _, a := range as {
		dirs = append(dirs, a.Dir)
	}
	folders := FolderNames(dirs)
	names := runNames(as, folders)
	var runs []report.RunInput
	var backends []string
	for i, a := range as {
		run, err := a.loaded()
		if err != nil {
			return nil, err
		}
		runs = append(runs, report.RunInput{Run: run, About: a.Analysis.About, Folder: folders[i]})
		backends = append(backends, run.Backends()...)
	}
	sections := report.Common(runs)
	if len(as) == 1 {
		sections = append(sections, as[0].Analysis.Sections...)
		return report.WritePageFigures(w, reportTitle(names), folders, backends, sections)
	}
	// Several runs: the figures they share overlaid, then each run's own sections.
	var rs []report.RunSections
	for i, a := range as {
		rs = append(rs, report.RunSections{Name: names[i], Sections: a.Analysis.Sections})
	}
	sections = append(sections, report.Compare(rs)...)
	return report.WritePageFigures(w, reportTitle(names), folders, backends, sections)
}

// Summary writes the text printed at the end of a run: validity, then the study's summary.
func (a *Analyzed) Summary(w io.Writer) error {
	if a.runner.recorded() {
		run, err := a.loaded()
		if err != nil {
			return err
		}
		if err := report.Validity(w, run); err != nil {
			return err
		}
		if err := report.Versions(w, run); err != nil {
			return err
		}
	}
	if a.Analysis.Summary == nil {
		return nil
	}
	return a.Analysis.Summary(w)
}

// finishStudy analyses a registered study once its last step is made, and writes every
// output from one pass over the store and one analysis: results/, report.html, and the
// summary the CLI prints. The pass writes decisions.csv, counts validity and cost for the
// report and the summary, and hands a streamed study its replies.
func (r *Runner) finishStudy(res *Result) error {
	runs, err := r.st.Runs()
	if err != nil {
		return err
	}
	r.tally = report.NewTally(runs)
	if r.recorded() {
		each := func(d store.Decision) error { r.tally.Add(d); return nil }
		s, streamed := r.streamedStudy()
		// The study's decision tables are written in the same pass (teeTables).
		rows, finish, err := r.teeTables()
		if err != nil {
			return fmt.Errorf("writing results in %s: %w", r.dir, err)
		}
		if streamed {
			each = func(d store.Decision) error {
				r.tally.Add(d)
				if err := s.Observe(d); err != nil {
					return err
				}
				return rows(d)
			}
		}
		err = r.writeTables(r.decisionsTable(each))
		if ferr := finish(err == nil); err == nil {
			err = ferr
		}
		if err != nil {
			return fmt.Errorf("writing results in %s: %w", r.dir, err)
		}
		if streamed {
			if err := r.checkComplete(); err != nil {
				return err
			}
		}
	}
	an, err := r.study.Analyze()
	if err != nil {
		return err
	}
	var ts []*table.Table
	if r.recorded() {
		ts = append(ts, r.agentsTable())
	}
	if err := r.writeTables(append(ts, an.Tables...)...); err != nil {
		return fmt.Errorf("writing results in %s: %w", r.dir, err)
	}
	if err := r.writeFiles(an); err != nil {
		return fmt.Errorf("writing results in %s: %w", r.dir, err)
	}
	if err := r.st.SetMeta(statusKey, "complete"); err != nil {
		return err
	}
	// The report reads the run's resolved config, as `prosim report` does.
	recorded, err := experiment.Load(filepath.Join(r.dir, configFile))
	if err != nil {
		return err
	}
	a := &Analyzed{Dir: r.dir, Exp: r.exp, Analysis: an, runner: r,
		run: &report.Run{Dir: r.dir, Exp: recorded, Runs: runs, Tally: r.tally, Unrecorded: r.allUnrecorded()}}
	// The HTML report is a convenience: a failure to write it does not fail the run.
	err = writing.File(filepath.Join(r.dir, report.ReportFile), func(w io.Writer) error {
		_, err := renderAnalyzed(w, []*Analyzed{a})
		return err
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "prosim: the run is complete but %s was not written: %v (try: prosim report %s)\n", report.ReportFile, err, r.dir)
	}
	r.reportWritten = err == nil
	res.Summary = a.Summary
	return nil
}
