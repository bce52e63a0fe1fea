// Package engine runs experiments: it expands the design (backends x conditions x
// replicates, each with derived seeds), puts each study's decisions to the backends with
// bounded concurrency, journals every decision in the run store, and resumes a stopped run
// without asking any decision twice.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/manifest"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/provider"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/runlock"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
	_ "github.com/prosim/prosim/internal/study/all" // every built-in study
	"github.com/prosim/prosim/internal/yamlx"
)

// Options control one invocation of Run or Resume.
type Options struct {
	// Out is the run directory; empty means runs/<experiment>-<timestamp>.
	Out string
	// Progress receives the progress bar or lines; nil for silence.
	Progress io.Writer
	// NoCache disables the LLM response cache; CachePath overrides the experiment's ("nats":
	// the broker's shared cache, opened with SharedCache).
	NoCache   bool
	CachePath string
	// CacheFlag says NoCache and CachePath were given on the command line of a resume: they
	// override the cache choice the run recorded (else the recorded one is used).
	CacheFlag bool
	// RetryInvalid (resume) asks again the decisions recorded invalid after an error.
	RetryInvalid bool
	// Notices receives notices that are not progress (shown even when quiet); nil for none.
	Notices io.Writer
	// Now is the clock for the default run directory name (tests fix it).
	Now func() time.Time
	// Recorded says the experiment is a run directory's resolved config (resume, report): its
	// population.currency is the one the run used, kept as it is.
	Recorded bool
	// TextsOnDemand renders an agent's persona text when a prompt needs it, not every one up
	// front: a replay reads its recorded tasks back from their keys (study.Batch.Keys), and
	// an inspection builds no prompt. Rendering 100,000 texts was 1.3 s of CPU of each of the
	// two Prepares of prosim serve's first results page of such a run.
	TextsOnDemand bool
	// Offline builds no provider clients (estimates need requests, not connections, and no key).
	Offline bool
	// MaxCost caps the run's provider spend in USD over all its invocations (--max-cost);
	// 0 means the experiment's budget, or on resume the cap the run was given.
	MaxCost float64
	// Batch sends each step of the study as one provider batch (--batch).
	Batch bool
	// Backends, when set, builds a backend instead of the provider registry (tests).
	Backends func(b experiment.Backend) (backend.Backend, error)
	// Remote, when set, decides on other machines (prosim run --nats): it replaces each
	// backend's provider clients, or the behavioural model, and this process keeps the rest of
	// the chain (cache, repairs, cost meter, schema check).
	Remote func(b experiment.Backend) (backend.Backend, error)
	// Unasked, when set with Remote, is given the function that counts a reply of the
	// workers that answers no ask (cluster.Coordinator.OnUnasked: a task two workers decided).
	Unasked func(count func(label string, r backend.Reply))
	// SharedCache, when set, opens the broker's cache store, for the cache choice "nats"
	// (cache: nats or --cache nats); without it that choice is an error.
	SharedCache func() (backend.CacheStore, error)
	// BrokerRun is the run's name on its broker, recorded in prosim.db when it records none
	// yet: a resume reads it back (BrokerRun), wherever the folder has moved.
	BrokerRun string
}

// Result is what a finished run reports.
type Result struct {
	Dir       string
	Decisions int // decisions recorded in the run directory
	Asked     int // decisions asked of a backend in this invocation
	// InMemory is true when the decisions were aggregated, not recorded (network.store:
	// summary); Decisions then counts those made.
	InMemory bool
	// Batch is true when the run sends its steps as provider batch jobs (--batch).
	Batch bool
	// Usage is each backend's calls, tokens and cost in this invocation; RunUsage the same
	// over the whole run, every invocation's recorded decisions (prosim.db), in the same
	// order. RunUsage is nil when nothing is recorded (network.store: summary): every
	// invocation of such a run asks anew, so Usage is the run's.
	Usage, RunUsage []BackendUsage
	// OwnCache is true when the replies served without a call came from the run's own cache
	// (--no-cache, cache: off: RUN_DIR/cache.log): copies of the run's identical requests
	// (runcache.go), not replies of earlier runs.
	OwnCache bool
	// Summary writes the run's summary (validity and the study's results).
	Summary func(w io.Writer) error
}

// BackendUsage is one backend's calls, tokens and cost (in one invocation, or in the run).
type BackendUsage struct {
	Label string
	// Calls are the provider calls made, FailedCalls those of them that failed (HTTP 5xx,
	// 429, timeouts; see backend.Reply.FailedCalls), UnusableCalls those answered with HTTP
	// 200 but unusable, which may have been billed and are in CostUSD at their worst case
	// (see backend.Reply.UnusableCalls).
	Calls, FailedCalls, UnusableCalls int
	// NoUsageCalls are the calls whose usable reply said no token usage, in CostUSD at their
	// worst case (backend.Reply.NoUsageCalls).
	NoUsageCalls int
	// CacheHits are the replies served without a call: per request in an invocation's
	// usage, per decision in the run's (a joint prompt's reply serves several).
	CacheHits    int
	InputTokens  int
	OutputTokens int
	CostUSD      float64
	CostKnown    bool
	// Model is the configured model; Unpriced the models replies named that have no price
	// (a gateway may answer with another model than the one asked), which make the cost unknown.
	Model    string
	Unpriced []string
}

// Runner holds everything a run needs once the experiment has been checked.
type Runner struct {
	exp      *experiment.Experiment
	opt      Options
	scen     *scenario.Library
	frames   *policy.Library
	agents   []persona.Persona
	texts    []string
	backends []*backendEntry
	// legacyIDs are the run ids older builds gave cells (by Ord) where they differ from
	// today's: see adoptLegacyIDs.
	legacyIDs map[int]string
	dir       string
	st        *store.Store
	lock      *runlock.Lock // held by run and resume until close
	lockedAt  time.Time     // when the lock was taken: an older stop request is stale (watchStop)
	dirInfo   os.FileInfo   // the run folder as setDir found it: folderMoved
	// done holds the keys of the decisions a resumed (or replayed) run found recorded, as
	// 64-bit hashes: no reply is kept in memory. A study that reads replies while it runs gets
	// those of recorded tasks read back from the store (recordedReplies, Env.Reply), one step
	// at a time; a streamed study's analysis reads them once, at the end (study.Streamed).
	done *keySet
	// stepReplies are the recorded replies of the batch being decided, read in bulk before
	// its workers start (readRecorded); nil when none was read.
	stepReplies map[store.Key]backend.Reply
	// held are every recorded reply of a replay of at most maxHeld decisions, kept by its
	// first pass over the store (loadRecorded): its steps take them from memory instead of
	// reading the store a second time (readRecorded).
	held *heldReplies
	// placeheld are the placeholder replies of a play that asks no backend and records
	// nothing (estimates, prompt checks, RequestOf on a live run), for Env.Reply.
	placeheld map[store.Key]backend.Reply
	// recordedVersions and recordedCost are what a resume found in the store: the model
	// versions by backend (for the manifest) and the decisions' summed cost (for the spend);
	// costUnknown that one of those decisions' calls had no known price.
	recordedVersions map[string]map[string]bool
	recordedCost     float64
	costUnknown      bool
	// reportWritten is set once the completed run's report.html is written (sealReport).
	reportWritten bool
	// unpriced names the models of the recorded decisions whose cost is unknown.
	unpriced map[string]bool
	// priorSpent is what earlier invocations of the run spent (loadSpent).
	priorSpent float64
	// unrecorded is what this invocation's calls that no recorded decision holds spent, by
	// backend label (noteUnrecorded, countUnasked), guarded by mu; priorUnrecorded what earlier
	// invocations' did (the store's unrecorded table, read by loadSpent).
	unrecorded      map[string]*store.Unrecorded
	priorUnrecorded []store.Unrecorded
	// spentSaved (guarded by mu) says saveSpent has written the unrecorded spend: a later call
	// of countUnasked writes its reply's at once (saveLate). saveMu serializes those writes
	// with saveSpent's and with closing the store (storeClosed).
	spentSaved  bool
	saveMu      sync.Mutex
	storeClosed bool
	// tally counts the recorded decisions as a replay loads them (for the report).
	tally   *report.Tally
	prog    *progress
	asked   int
	mu      sync.Mutex
	closers []io.Closer
	cache   *backend.Cache
	budget  *backend.Budget     // nil: no spend cap
	group   *backend.BatchGroup // batch mode: gathers each step's calls into batch jobs
	// estimating answers every task with a placeholder (Estimate).
	estimating bool
	// cachedReplies, set while estimating with a reply cache, gives a played task the replies
	// the run would get from the cache (ok false: a placeholder stands in), so that the
	// requests built on them are the run's own.
	cachedReplies func(t *study.Task) (replies []backend.Reply, ok bool)
	// stages shows the set-up stages and records the current one (CurrentStage).
	stages *stager
	// deps re-asks the later steps that observed a decision asked again (resume --retry-invalid).
	deps *dependents
	// reask is how many recorded decisions deps will ask again, said before asking.
	reask reaskBound
	// watch sees the LLM backends' calls in flight and back-offs, for the progress output.
	watch *backend.Watch
	// replaying analyses a finished run: a decision missing from the store is an error.
	replaying bool
	// doc locates errors in the experiment file (nil for a hand-built experiment).
	doc *yamlx.Doc
	// env and study are set for studies of the registry (internal/study).
	env   *study.Env
	study study.Study
	cells []*study.Cell
}

type backendEntry struct {
	cfg   experiment.Backend
	label string
	be    backend.Backend
	// clients are the provider clients Prepare made (none for the behavioural model, offline
	// or on remote workers).
	clients []backend.Backend
	usage   *BackendUsage
	// meter counts every provider call of LLM backends, including those of decisions that
	// failed with an error; usage counts only recorded decisions.
	meter *backend.Usage
	// versions are the model versions of the replies of this invocation (for the manifest).
	versions map[string]bool
	// reached is set once a call of this invocation reached the provider (a reply, or an
	// error status): until then a failure to connect stops the run (recordsError).
	reached atomic.Bool
	// refused counts the asks in a row, since its server last answered, whose every call was
	// refused (backend.Refused): at refusalLimit the run stops (step.go).
	refused atomic.Int64
	// answered is set once an ask of this invocation was answered (not from the cache);
	// rejected counts the asks in a row that failed with HTTP 400, no answer between: at
	// refusalLimit the run stops, the server refusing every request (rejectsAll).
	answered atomic.Bool
	rejected atomic.Int64
}

const (
	configFile = "config.yaml"
	dbFile     = "prosim.db"
	statusKey  = "status"
)

// libraries are the scenario and policy libraries of the run: those experiment.Load read
// (the files are read once), else the built-ins with the experiment's files added.
func (r *Runner) libraries(exp *experiment.Experiment) error {
	var ok bool
	if r.scen, r.frames, ok = exp.Libraries(); ok {
		return nil
	}
	var err error
	if r.scen, err = scenario.Builtin(); err != nil {
		return fmt.Errorf("built-in scenario library: %w", err)
	}
	for _, f := range exp.ScenarioFiles {
		if err := r.scen.LoadFile(f); err != nil {
			return err
		}
	}
	if r.frames, err = policy.Builtin(); err != nil {
		return fmt.Errorf("built-in policy library: %w", err)
	}
	for _, f := range exp.PolicyFiles {
		if err := r.frames.LoadFile(f, policy.Scenarios{IDs: r.scen.IDs()}); err != nil {
			return err
		}
	}
	return nil
}

// Prepare checks everything that can be checked before a run directory is made: scenario and
// policy libraries, the population, the study and its design, the budget and the backends.
// Errors carry the experiment file's line where they concern one of its fields. Every
// independent problem is reported at once, with those Load found (experiment.LoadChecking
// keeps them in exp), sorted by line; a check that reads a field found wrong waits.
func Prepare(exp *experiment.Experiment, opt Options) (*Runner, error) {
	r := &Runner{exp: exp, opt: opt}
	r.doc = experiment.Locator(exp)
	doc := r.doc
	l := yamlx.NewList(exp.File)
	own, files := exp.Problems()
	l.Add(own)
	newStudy, registered := study.Lookup(exp.Study)
	if !registered && exp.Sound("study") {
		l.Add(doc.Errorf("study", "unknown study %q (want one of %s)", exp.Study, strings.Join(study.Names(), ", ")))
	}
	if registered {
		l.Add(checkDesign(exp, doc, study.DesignOf(exp.Study)))
	}
	l.Add(checkFactorTemperatures(exp, doc))
	for _, b := range exp.Backends {
		r.backends = append(r.backends, &backendEntry{cfg: b, label: b.LabelOrDefault(), meter: &backend.Usage{},
			usage: &BackendUsage{Label: b.LabelOrDefault(), Model: b.Model, CostKnown: true}})
	}
	l.Add(r.prepareBudget())
	if opt.Unasked != nil && opt.Remote != nil && !opt.Offline {
		opt.Unasked(r.countUnasked)
	}
	l.Add(r.checkBatch())
	l.Add(r.checkSharedCache())
	// The provider clients are made here, no call made, so that a missing API key is told
	// with the other problems. None is made while the file's backends have problems: then
	// only the keys are looked for, of the backends whose fields naming them are sound.
	if exp.Sound("backend", "backends") {
		for i, be := range r.backends {
			var err error
			if be.clients, err = r.clients(be.cfg); err != nil {
				l.Add(r.BackendErrorf(i, "", "%v", err))
			}
		}
	} else {
		for i := range r.backends {
			if err := r.missingKey(i); err != nil {
				l.Add(r.BackendErrorf(i, "", "%v", err))
			}
		}
	}
	r.stages = &stager{w: opt.Progress}
	defer r.stages.end()
	// The study is made from the fields it reads: it waits until they are sound (a network's
	// size needs a valid population). Problems of others (the factors' levels, the backends,
	// the budget) do not stop it: its checks are reported with theirs.
	if registered && exp.Sound("study", "replicates", "population", "scenarios", "scenario_files", "policy_files", "conditions", exp.Study) {
		l.Add(r.prepareStudy(newStudy))
	} else if registered {
		l.Add(checkScenarios(exp, doc, study.DesignOf(exp.Study)))
	}
	if err := yamlx.Join(append([]error{l.Err()}, files...)...); err != nil {
		r.close() // the study's files, if it was made
		return nil, err
	}
	if r.recorded() && opt.Recorded && !opt.TextsOnDemand { // a new run renders them in create; validate and estimate on demand
		r.stages.begin(Stage{Name: "writing persona texts", Abandon: true})
		r.renderTexts()
	}
	// Clients are built once the study is known: the chain serves replicates of a study
	// that asks the same prompts with one n-sample call.
	for i, be := range r.backends {
		var closer io.Closer
		var err error
		if be.be, closer, err = r.buildBackend(be.cfg, fmt.Sprintf("backends[%d]", i), be.clients, be.meter); err != nil {
			r.close()
			if be.cfg.Spec != "" {
				return nil, fmt.Errorf("--backend %s: %w", be.cfg.Spec, err)
			}
			return nil, fmt.Errorf("backends[%d] (%s): %w", i, be.label, err)
		}
		if closer != nil {
			r.closers = append(r.closers, closer)
		}
	}
	return r, nil
}

// prepareStudy reads the population, expands the design into cells and makes the study,
// which checks its own fields (every scenario's kind, the levels of the factors that depend
// on them).
func (r *Runner) prepareStudy(newStudy study.Factory) error {
	exp, doc := r.exp, r.doc
	if err := r.libraries(exp); err != nil {
		return err
	}
	// Load checked these (checkInputs); a hand-built experiment is checked here.
	l := yamlx.NewList(exp.File)
	for i, id := range exp.Scenarios {
		// Whether a study takes this kind of scenario is the study's own check (its New).
		if _, ok := r.scen.Get(id); !ok {
			l.Add(doc.Errorf(fmt.Sprintf("scenarios[%d]", i), "%s", r.scen.Unknown(id, "see `prosim scenarios`, or add it with scenario_files")))
		}
	}
	frames := make([]policy.Frame, len(exp.Conditions))
	for i, c := range exp.Conditions {
		f, ok := r.frames.Get(c.Policy)
		if !ok {
			l.Add(doc.Errorf(fmt.Sprintf("conditions[%d].policy", i), "%s", r.frames.Unknown(c.Policy, "see `prosim scenarios`, or add it with policy_files")))
			continue
		}
		frames[i] = f
		// A frame must have text for every scenario it is shown with; find out now, not mid-run.
		for _, id := range exp.Scenarios {
			if _, err := f.Text(id, exp.Population.Currency); err != nil {
				l.Add(doc.Errorf(fmt.Sprintf("conditions[%d].policy", i), "policy %q with scenario %q: %v", c.Policy, id, err))
			}
		}
	}
	if err := l.Err(); err != nil {
		return err
	}
	r.stages.begin(Stage{Name: "building the population", Abandon: true})
	if err := r.loadPopulation(); err != nil {
		return err
	}
	// Load checked the file's currency when it read the file for its problems.
	if own, files := exp.Problems(); !r.opt.Recorded && own == nil && len(files) == 0 {
		if err := exp.FileCurrency(doc, r.agents); err != nil {
			return err
		}
	}
	ord := 0
	combos := levelCombos(exp.Factors.List())
	for _, be := range r.backends {
		for ci, c := range exp.Conditions {
			for _, lv := range combos {
				for rep := 1; rep <= exp.Replicates; rep++ {
					id, legacy := c.Name, c.Name
					seedParts := []any{"run", be.label, c.Name, rep}
					sampling := be.sampling()
					for _, l := range lv {
						id += "." + experiment.LevelID(l.Factor, l.Level)
						legacy += "." + l.Level
						seedParts = append(seedParts, l.Factor+"="+l.Level)
						if l.Factor == "temperature" {
							// The level is sent in place of the backend's temperature.
							t, err := strconv.ParseFloat(l.Level, 64)
							if err != nil {
								return fmt.Errorf("temperature level %q: %w", l.Level, err)
							}
							sampling.Temperature = &t
						}
					}
					id += fmt.Sprintf(".r%d", rep)
					legacy += fmt.Sprintf(".r%d", rep)
					if len(r.backends) > 1 {
						id = safeID(be.label) + "." + id
						legacy = safeID(be.label) + "." + legacy
					}
					if legacy != id {
						if r.legacyIDs == nil {
							r.legacyIDs = map[int]string{}
						}
						r.legacyIDs[ord] = legacy
					}
					run := store.Run{ID: id, Ord: ord, Backend: be.label, Condition: c.Name, Policy: c.Policy, Replicate: rep,
						Seed: seed.Derive(*exp.Seed, seedParts...)}
					r.cells = append(r.cells, &study.Cell{Run: run, Frame: frames[ci], Sampling: sampling, Cond: &exp.Conditions[ci], Levels: lv})
					ord++
				}
			}
		}
	}
	r.env = &study.Env{Exp: exp, Doc: doc, Scenarios: r.scen, Policies: r.frames, Agents: r.agents, Cells: r.cells,
		PersonaText: r.personaText, Reply: r.reply}
	for _, b := range r.backends {
		r.env.Backends = append(r.env.Backends, b.label)
	}
	r.stages.begin(Stage{Name: fmt.Sprintf("setting up %s for %s (graph, conditions)", exp.Study, plural.Count(len(r.agents), "agent")), Abandon: true})
	var err error
	if r.study, err = newStudy(r.env); err != nil {
		return err
	}
	if c, ok := r.study.(io.Closer); ok { // a study's own files (the games' rounds)
		r.closers = append(r.closers, c)
	}
	return nil
}

// setDir sets the run directory, for the runner and its study.
func (r *Runner) setDir(dir string) {
	r.dir = dir
	r.env.Dir = dir
	r.dirInfo, _ = os.Stat(dir)
}

// folderMoved is an error when the run folder is no longer at r.dir (moved or removed while
// the run went on): its results would be written to a new folder at the old path, beside no
// config.yaml (QA16 F6). Its decisions are in its prosim.db, wherever it is now.
func (r *Runner) folderMoved() error {
	if r.dirInfo == nil {
		return nil
	}
	if fi, err := os.Stat(r.dir); err == nil && os.SameFile(fi, r.dirInfo) {
		return nil
	}
	return fmt.Errorf("the run folder %s was moved or removed while the run went on: its decisions are recorded in its prosim.db; finish it where it is now with prosim resume NEW_PATH (no call is made again for a recorded decision)", r.dir)
}

// reply reads a recorded decision (study.Env.Reply): a placeholder's when one stands in for
// it, else the store's row. A store error reads as not recorded, and fails the run where it
// matters: the pass that writes the results reads every row again.
func (r *Runner) reply(k store.Key) (backend.Reply, bool) {
	r.mu.Lock()
	rep, ok := r.placeheld[k]
	r.mu.Unlock()
	if ok || r.st == nil {
		return rep, ok
	}
	d, ok, err := r.st.Decision(k)
	if err != nil || !ok {
		return backend.Reply{}, false
	}
	return replyOf(d.Reply), true
}

var unsafeRE = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func safeID(s string) string { return strings.Trim(unsafeRE.ReplaceAllString(s, "_"), "_") }

func (r *Runner) loadPopulation() error {
	var err error
	r.agents, err = Population(r.exp)
	return err
}

// Population is the population of a checked experiment, as a run of it has it (see
// experiment.Population.Read).
func Population(exp *experiment.Experiment) ([]persona.Persona, error) {
	return exp.Population.Read()
}

// renderTexts renders every persona up front, for a run (or replay) of a study that records
// its agents; an unrecorded study (a million agents aggregated in memory), validate and
// estimate render them on demand (a million texts are a gigabyte).
func (r *Runner) renderTexts() {
	p := r.exp.Population
	r.texts = make([]string, len(r.agents))
	for i, a := range r.agents {
		r.texts[i] = persona.Render(a, persona.RenderOptions{ShowScores: p.ShowScores, ShowAverage: p.ShowAverages})
	}
}

// DefaultDir is runs/<experiment>-<timestamp>.
func DefaultDir(exp *experiment.Experiment, now time.Time) string {
	return filepath.Join("runs", exp.Name+"-"+now.Format("20060102-150405"))
}

// Run starts a new run of exp.
func Run(ctx context.Context, exp *experiment.Experiment, opt Options) (*Result, error) {
	r, err := Prepare(exp, opt)
	if err != nil {
		return nil, err
	}
	defer r.close()
	if n := r.CurrencyNote(); n != "" && opt.Notices != nil {
		fmt.Fprintf(opt.Notices, "prosim: note: %s\n", n)
	}
	dir := opt.Out
	if dir == "" {
		now := time.Now
		if opt.Now != nil {
			now = opt.Now
		}
		dir = DefaultDir(exp, now())
	}
	r.stages.begin(Stage{Name: "creating the run directory " + dir})
	err = r.create(ctx, dir)
	r.endCreation(err)
	if err != nil {
		return nil, err
	}
	return r.executeSealed(ctx)
}

// Resume continues the run in dir from its recorded decisions. The experiment is read from
// the run directory's resolved config, so the design and seeds are the ones the run began with.
func Resume(ctx context.Context, dir string, opt Options) (*Result, error) {
	exp, err := RunConfig(dir)
	if err != nil {
		return nil, err
	}
	lockedAt := time.Now()
	lock, err := runlock.Acquire(dir)
	if err != nil {
		return nil, err
	}
	st, err := store.OpenExisting(filepath.Join(dir, dbFile))
	if errors.Is(err, store.ErrNotCreated) {
		if _, merr := os.Stat(filepath.Join(dir, manifest.File)); errors.Is(merr, os.ErrNotExist) {
			return finishCreation(ctx, dir, exp, lock, lockedAt, opt)
		}
		// A manifest is written once the design is recorded: the database was lost since.
		lock.Release()
		return nil, fmt.Errorf("cannot resume %s: %w", dir, notCreatedHint(dir, err))
	}
	if err != nil {
		lock.Release()
		return nil, fmt.Errorf("cannot resume %s: %w", dir, err)
	}
	err = reuseOptions(st, &opt)
	givenMaxCost := opt.MaxCost > 0
	if err == nil {
		err = recordBrokerRun(st, opt)
	}
	if err == nil {
		err = reuseMaxCost(st, &opt)
	}
	if err == nil {
		err = reuseBatch(st, &opt)
	}
	if err != nil {
		st.Close()
		lock.Release()
		return nil, err
	}
	opt.Recorded = true
	r, err := Prepare(exp, opt)
	if err != nil {
		st.Close()
		lock.Release()
		return nil, err
	}
	defer r.close()
	r.setDir(dir)
	r.st, r.lock, r.lockedAt = st, lock, lockedAt
	if err := r.loadRecorded(); err != nil {
		return nil, err
	}
	if err := r.loadSpent(); err != nil {
		return nil, err
	}
	if err := r.keepMaxCost(givenMaxCost); err != nil {
		return nil, err
	}
	r.checkInputs()
	if err := r.writeManifest("running", nil, true); err != nil {
		return nil, err
	}
	res, err := r.executeSealed(ctx)
	r.deps.note(r.opt.Notices)
	return res, err
}

// finishCreation finishes, then runs, the run in dir whose creation was interrupted (Ctrl-C
// while its agents were written): its config.yaml and inputs are in place, and its database,
// if any, records no runs, so nothing was decided. The config is the design, so the run is
// the one run would have made. Options recorded before the interruption are reused as a
// resume reuses them. Without this the folder was a dead end: resume sent to run, and run,
// refusing the non-empty folder, to resume (QA14 F3).
func finishCreation(ctx context.Context, dir string, exp *experiment.Experiment, lock *runlock.Lock, lockedAt time.Time, opt Options) (*Result, error) {
	if opt.Notices != nil {
		fmt.Fprintf(opt.Notices, "prosim: the creation of the run in %s was interrupted before its first decision; finishing it from its config.yaml\n", dir)
	}
	if path := filepath.Join(dir, dbFile); store.Exists(path) {
		st, err := store.Open(path)
		if err == nil {
			err = reuseOptions(st, &opt)
			if err == nil {
				err = reuseMaxCost(st, &opt)
			}
			if err == nil {
				err = reuseBatch(st, &opt)
			}
			st.Close()
		}
		if err != nil {
			lock.Release()
			return nil, fmt.Errorf("cannot resume %s: %w", dir, err)
		}
	}
	r, err := Prepare(exp, opt)
	if err != nil {
		lock.Release()
		return nil, err
	}
	defer r.close()
	r.setDir(dir)
	r.lock, r.lockedAt = lock, lockedAt
	r.stages.begin(Stage{Name: "creating the run directory " + dir})
	err = r.record(ctx)
	r.endCreation(err)
	if err != nil {
		return nil, err
	}
	return r.executeSealed(ctx)
}

// endCreation ends the stage of the run directory's creation, which err may say was stopped.
func (r *Runner) endCreation(err error) {
	if errors.Is(err, ErrInterrupted) {
		r.stages.stopped()
	} else {
		r.stages.end()
	}
}

func (r *Runner) create(ctx context.Context, dir string) error {
	notEmpty := func() error {
		entries, err := os.ReadDir(dir)
		if err == nil && slices.ContainsFunc(entries, func(e os.DirEntry) bool { return !runlock.IsLockFile(e.Name()) }) {
			return fmt.Errorf("run directory %s already exists and is not empty (use `prosim resume %s` to continue it, or choose another --out)", dir, dir)
		}
		return nil
	}
	if err := notEmpty(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := r.lockDir(dir); err != nil {
		return err
	}
	if err := notEmpty(); err != nil { // another run filled it between the check and the lock
		return err
	}
	cfg, err := r.exp.Bundle(dir) // copies the input files to dir/inputs: the run folder can be moved
	if err != nil {
		return err
	}
	header := "# Resolved by prosim: every default and seed filled in. `prosim resume` reads this file.\n"
	if err := os.WriteFile(filepath.Join(dir, configFile), append([]byte(header), cfg...), 0o644); err != nil {
		return err
	}
	r.setDir(dir)
	return r.record(ctx)
}

// record makes the run database in r.dir and records the run's options, its agents and its
// design (the runs, last: a database with runs is a created run), then the manifest. It stops
// when ctx is done, checked between batches of agents, with ErrInterrupted and the folder
// left for a resume to finish (finishCreation).
func (r *Runner) record(ctx context.Context) error {
	var err error
	if r.st, err = store.Open(filepath.Join(r.dir, dbFile)); err != nil {
		return err
	}
	if r.cache != nil && r.ownCache() {
		// A paid reply reaches the run's cache file before its decision reaches the store
		// (store.BeforeWrite): a resume after kill -9 finds it for the twins still to ask.
		r.st.BeforeWrite(r.cache.Flush)
	}
	if err := r.st.SetMeta(statusKey, "running"); err != nil {
		return err
	}
	if err := recordOptions(r.st, r.opt); err != nil {
		return err
	}
	if err := recordBrokerRun(r.st, r.opt); err != nil {
		return err
	}
	if err := recordMaxCost(r.st, r.opt); err != nil {
		return err
	}
	if err := recordBatch(r.st, r.opt); err != nil {
		return err
	}
	interrupted := func() error {
		return fmt.Errorf("%w while creating the run directory, before the first decision; continue with: prosim resume %s", ErrInterrupted, r.dir)
	}
	var agents []store.Agent
	if r.recorded() { // unrecorded runs keep nothing per agent: the seed recreates the population
		p := r.exp.Population
		r.texts = make([]string, len(r.agents))
		agents = make([]store.Agent, len(r.agents))
		for i, a := range r.agents {
			if i%1000 == 0 && ctx.Err() != nil {
				return interrupted()
			}
			r.texts[i] = persona.Render(a, persona.RenderOptions{ShowScores: p.ShowScores, ShowAverage: p.ShowAverages})
			js, _ := json.Marshal(a)
			agents[i] = store.Agent{ID: a.ID, Persona: js, Text: r.texts[i]}
		}
	}
	if err := r.st.PutAgents(ctx, agents); err != nil {
		if ctx.Err() != nil {
			return interrupted()
		}
		return err
	}
	runs := make([]store.Run, len(r.cells))
	for i, ri := range r.cells {
		runs[i] = ri.Run
	}
	if err := r.st.PutRuns(runs); err != nil {
		return err
	}
	return r.writeManifest("running", nil, false)
}

// loadRecorded reads the recorded decisions in one pass and keeps their keys (r.done), the
// model versions and the summed cost. A replay also counts them for the report (r.tally).
func (r *Runner) loadRecorded() error {
	if err := r.adoptLegacyIDs(); err != nil {
		return err
	}
	r.done = newKeySet()
	r.recordedVersions = map[string]map[string]bool{}
	r.recordedCost, r.costUnknown, r.unpriced = 0, false, map[string]bool{}
	backendOf := map[string]string{}
	for _, c := range r.cells {
		backendOf[c.ID] = c.Backend
	}
	read := r.st.DecisionsCounted
	if r.replaying {
		runs, err := r.st.Runs()
		if err != nil {
			return err
		}
		r.tally = report.NewTally(runs)
		if n, err := r.st.CountDecisions(); err != nil {
			return err
		} else if n <= maxHeld {
			r.held = newHeldReplies(n)
			read = r.st.Decisions
		}
	}
	retry, refused := 0, 0
	// Per cell, the first round with a decision asked again and the recorded decisions by
	// round: those of later steps are asked again too (reasked.go), announced before asking.
	firstRetried := map[string]int{}
	byRound := map[string]map[int]int{}
	// Without the rows' params, raw replies and providers, which nothing here reads, unless
	// a replay keeps the replies (held); else a replay reads the replies it absorbs again a
	// step at a time (readRecorded).
	err := read(func(d store.Decision) error {
		// A decision asked again was paid for all the same.
		if c := d.Reply.CostUSD; !math.IsNaN(c) {
			r.recordedCost += c
		} else if d.Reply.Calls > 0 {
			r.costUnknown = true
			r.unpriced[d.Reply.Model] = true
		}
		if r.opt.RetryInvalid && erred(d) {
			retry++ // not taken as recorded: asked again, and its row replaced
			if f, ok := firstRetried[d.RunID]; !ok || d.Round < f {
				firstRetried[d.RunID] = d.Round
			}
			return nil
		}
		if budgetRefused(d) {
			// The cap stopped the run at it: asked again, as the stop said (the run stopped
			// within its step, so no later decision observed it).
			refused++
			return nil
		}
		if r.tally != nil {
			r.tally.Add(d)
		}
		if v := d.Reply.ModelVersion; v != "" {
			b := backendOf[d.RunID]
			if r.recordedVersions[b] == nil {
				r.recordedVersions[b] = map[string]bool{}
			}
			r.recordedVersions[b][v] = true
		}
		if r.opt.RetryInvalid {
			if byRound[d.RunID] == nil {
				byRound[d.RunID] = map[int]int{}
			}
			byRound[d.RunID][d.Round]++
		}
		r.done.add(d.Key)
		if r.held != nil {
			r.held.add(d)
		}
		return nil
	})
	if r.opt.RetryInvalid {
		r.deps = newDependents()
		r.reask = r.dependentBound(firstRetried, byRound)
	}
	if err == nil && r.opt.RetryInvalid && r.opt.Notices != nil {
		msg := fmt.Sprintf("prosim: asking again %s recorded invalid after an error", plural.Count(retry, "decision"))
		switch {
		case r.reask.n > 0 && r.reask.exact:
			msg += fmt.Sprintf(", and the %s of later rounds of the same worlds, which observed them: %d in all", plural.Count(r.reask.n, "recorded decision"), retry+r.reask.n)
		case r.reask.n > 0:
			msg += fmt.Sprintf(", and at most %s of later steps (rounds, second movers) of the same worlds, which may have observed them: at most %d in all", plural.Count(r.reask.n, "recorded decision"), retry+r.reask.n)
		}
		fmt.Fprintln(r.opt.Notices, msg)
	}
	if err == nil && refused > 0 && r.opt.Notices != nil {
		fmt.Fprintf(r.opt.Notices, "prosim: asking again %s whose retry the spend cap refused\n", plural.Count(refused, "decision"))
	}
	return err
}

func (r *Runner) close() {
	r.closeFiles()
	r.lock.Release() // last: the store is closed
	r.lock = nil
}

// closeFiles closes the store and the study's files, once.
func (r *Runner) closeFiles() {
	r.saveMu.Lock()
	r.storeClosed = true // a late reply of the workers is no longer written (countUnasked)
	r.saveMu.Unlock()
	if r.st != nil {
		r.st.Close()
		r.st = nil
	}
	for _, c := range r.closers {
		c.Close()
	}
	r.closers = nil
}

// executeSealed executes the run and, when it completed and wrote its report, closes its
// files and records what the report was rendered from (sealReport), so that prosim serve can
// show the report without replaying the run. The lock is held until the record is written: a
// resume started meanwhile would change the files summed.
func (r *Runner) executeSealed(ctx context.Context) (*Result, error) {
	res, err := r.execute(ctx)
	if err != nil || !r.reportWritten {
		return res, err
	}
	r.closeFiles()
	if err := sealReport(r.dir); err != nil && r.opt.Notices != nil {
		fmt.Fprintf(r.opt.Notices, "prosim: note: %s not written (prosim serve will replay the run to show its results): %v\n", ReportSumFile, err)
	}
	return res, nil
}

// lockDir takes the run directory's lock for the rest of the run (released by close).
func (r *Runner) lockDir(dir string) error {
	r.lockedAt = time.Now()
	l, err := runlock.Acquire(dir)
	if err != nil {
		return err
	}
	r.lock = l
	return nil
}

func (b *backendEntry) sampling() backend.Sampling {
	return backend.Sampling{Temperature: b.cfg.Temperature, TopP: b.cfg.TopP, MaxTokens: b.cfg.MaxTokens}
}

func (r *Runner) account(be *backendEntry, rep backend.Reply, decisions int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked += decisions // one request may carry several decisions (a joint prompt)
	if v := rep.ModelVersion; v != "" {
		if be.versions == nil {
			be.versions = map[string]bool{}
		}
		be.versions[v] = true
	}
	u := be.usage
	u.Calls += rep.Calls
	u.FailedCalls += rep.FailedCalls
	u.UnusableCalls += rep.UnusableCalls
	u.NoUsageCalls += rep.NoUsageCalls
	if rep.Cached {
		u.CacheHits++
	}
	u.InputTokens += rep.InputTokens
	u.OutputTokens += rep.OutputTokens
	if rep.CostUSD != rep.CostUSD { // NaN: the model's price is unknown
		u.CostKnown = false
		if !slices.Contains(u.Unpriced, rep.Model) {
			u.Unpriced = append(u.Unpriced, rep.Model)
			slices.Sort(u.Unpriced) // as the run's usage and the meter's list them
		}
	} else {
		u.CostUSD += rep.CostUSD
	}
}

// markStopped writes the manifest of a run stopped by err (why: stop) and returns err, joined
// with the manifest's failure if any.
func (r *Runner) markStopped(stop *manifest.Stop, err error) error {
	if merr := r.writeManifest("stopped", stop, false); merr != nil {
		return errors.Join(err, merr)
	}
	return err
}

// execute runs the study, then writes the results. A failure leaves the run directory marked
// incomplete, with every decision made so far committed, ready for `prosim resume`.
func (r *Runner) execute(ctx context.Context) (*Result, error) {
	if err := ctx.Err(); err != nil { // interrupted during set-up: nothing was asked
		err = fmt.Errorf("%w before the first decision; continue with: prosim resume %s", ErrInterrupted, r.dir)
		return nil, r.markStopped(&manifest.Stop{Reason: manifest.StopInterrupted}, err)
	}
	ctx, cancel := watchStop(ctx, r.dir, r.lockedAt) // a stop request (prosim serve) interrupts as Ctrl-C does
	defer cancel()
	err := r.runStudy(ctx)
	if r.prog != nil {
		var notAsked []study.NotAsked
		if c, ok := r.study.(study.Contingent); ok {
			notAsked = c.NotAsked()
		}
		r.prog.finish(notAsked)
	}
	if serr := r.saveSpent(); serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		if errors.Is(err, backend.ErrBudget) {
			err = r.budgetStop(err)
			if bs, ok := err.(*BudgetStop); ok {
				bs.Usage, bs.Batch, bs.OwnCache = r.invocationUsage(), r.batchMode(), r.ownCache()
				// The manifest says why (QA9: it said running after a budget stop).
				err = r.markStopped(&manifest.Stop{Reason: manifest.StopSpendCap, CapUSD: bs.CapUSD, SpentUSD: &bs.Spent, NextCallUSD: bs.NextUSD}, err)
			}
			return nil, err
		}
		stop := &manifest.Stop{Reason: manifest.StopError}
		if errors.Is(err, context.Canceled) {
			err = ErrInterrupted
			if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
				err = c // a stop request, or the caller's reason (a --workers run's worker that keeps ending)
			}
		}
		if errors.Is(err, ErrInterrupted) {
			stop.Reason = manifest.StopInterrupted
		}
		n, _ := r.st.CountDecisions()
		err = r.markStopped(stop, err)
		how := "continue it with: prosim resume " + r.dir
		if errors.Is(err, errRejectsAll) { // its asks are recorded invalid: a plain resume would stop again
			how = "if the server was at fault, continue it once it is fixed with: prosim resume " + r.dir + " --retry-invalid"
		}
		return nil, fmt.Errorf("%w\nrun stopped with %s saved in %s; %s", err, plural.Count(n, "decision"), r.dir, how)
	}
	res := &Result{Dir: r.dir, Asked: r.asked, OwnCache: r.ownCache()}
	if err := r.folderMoved(); err != nil {
		return nil, err
	}
	r.stages.begin(r.analysisStage())
	err = r.finishStudy(res)
	r.stages.end()
	if err != nil {
		return nil, err
	}
	if err := r.writeManifest("complete", nil, false); err != nil {
		return nil, err
	}
	res.Decisions = r.tally.Decisions // the results pass read every recorded decision
	res.Batch = r.batchMode()
	if !r.recorded() {
		res.Decisions, res.InMemory = r.asked, true // a summary run asks every decision anew, even on resume
	}
	res.Usage = r.invocationUsage()
	if r.recorded() {
		res.RunUsage = r.runUsage()
	}
	return res, nil
}

// invocationUsage is each backend's use by this invocation, from its meter.
func (r *Runner) invocationUsage() []BackendUsage {
	var out []BackendUsage
	for _, b := range r.backends {
		u := *b.usage
		if t := b.meter.Total(); t.Calls > 0 || t.CacheHits > 0 {
			u.Calls, u.FailedCalls, u.UnusableCalls, u.CacheHits = int(t.Calls), int(t.FailedCalls), int(t.UnusableCalls), int(t.CacheHits)
			u.NoUsageCalls = int(t.NoUsageCalls)
			u.InputTokens, u.OutputTokens = int(t.InputTokens), int(t.OutputTokens)
			u.CostUSD, u.CostKnown = t.CostUSD, t.CostKnown
			u.Unpriced = nil
			for _, m := range b.meter.ByModel() {
				if !m.CostKnown {
					u.Unpriced = append(u.Unpriced, m.Model)
				}
			}
		}
		out = append(out, u)
	}
	return out
}

// analysisStage is the stage after the decisions; its note says what an interruption there
// leaves: every decision, or (network.store: summary) none, and then resume runs it again.
func (r *Runner) analysisStage() Stage {
	note := "every decision is saved; write the results with: prosim resume " + r.dir
	if !r.recorded() {
		note = "a network.store: summary run keeps no decisions, so nothing is saved; prosim resume " + r.dir + " runs it again"
	}
	return Stage{Name: "analysing and writing results", Abandon: true, Note: note}
}

// runUsage is the recorded decisions' calls, tokens and cost by backend: the run's totals over
// all its invocations, as the results pass tallied them (finishStudy), with no further read
// of the store.
func (r *Runner) runUsage() []BackendUsage {
	by := map[string]report.Usage{}
	for _, u := range report.UsageOf(&report.Run{Runs: r.tally.Runs(), Tally: r.tally, Unrecorded: r.allUnrecorded()}) {
		by[u.Backend] = u
	}
	out := make([]BackendUsage, len(r.backends))
	for i, b := range r.backends {
		u := by[b.label]
		out[i] = BackendUsage{Label: b.label, Calls: u.Calls, FailedCalls: u.FailedCalls, UnusableCalls: u.UnusableCalls, NoUsageCalls: u.NoUsageCalls, CacheHits: u.Cached,
			InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, CostUSD: u.KnownCostUSD, CostKnown: !math.IsNaN(u.CostUSD),
			Model: b.cfg.Model, Unpriced: slices.Sorted(slices.Values(u.Unpriced))}
	}
	return out
}

// adoptLegacyIDs gives a cell the run id an older build recorded for it when the store has
// that id and not the current one: runs made before temperature levels were written "t0p7"
// in ids ("none.0.7.r1") still resume, report and export.
func (r *Runner) adoptLegacyIDs() error {
	if len(r.legacyIDs) == 0 {
		return nil
	}
	runs, err := r.st.Runs()
	if err != nil {
		return err
	}
	have := make(map[string]bool, len(runs))
	for _, x := range runs {
		have[x.ID] = true
	}
	for _, c := range r.cells {
		if old, ok := r.legacyIDs[c.Ord]; ok && !have[c.ID] && have[old] {
			c.ID = old
		}
	}
	return nil
}

// Status reads a run directory's status: running (or stopped), complete.
func Status(dir string) (string, error) {
	st, err := store.Open(filepath.Join(dir, dbFile))
	if err != nil {
		return "", err
	}
	defer st.Close()
	return st.Meta(statusKey)
}

// Describe says in one line what the run will do.
func (r *Runner) Describe() string { return r.study.Describe() }

// personaText is agent u's rendered persona: rendered on demand when the population was not
// rendered up front (network.store: summary, where a million texts would cost a gigabyte).
func (r *Runner) personaText(u int) string {
	if r.texts != nil {
		return r.texts[u]
	}
	p := r.exp.Population
	return persona.Render(r.agents[u], persona.RenderOptions{ShowScores: p.ShowScores, ShowAverage: p.ShowAverages})
}

// Close releases what Prepare opened (caches, clients).
func (r *Runner) Close() { r.close() }

// levelCombos are every combination of the factors' levels, the first factor varying
// slowest; one empty combination when no factor is crossed.
func levelCombos(fs []experiment.Factor) [][]study.Level {
	out := [][]study.Level{nil}
	for _, f := range fs {
		var next [][]study.Level
		for _, c := range out {
			for _, l := range f.Levels {
				next = append(next, append(slices.Clone(c), study.Level{Factor: f.Name, Level: l}))
			}
		}
		out = next
	}
	return out
}

// checkFactorTemperatures refuses a temperature level above the range of a backend's provider
// (Anthropic's 0..1), at the level's own index: every request of its cells would be refused
// with HTTP 400. The file's checks have the general range 0..2; the backends may come from
// --backend, so the check is made here, with the backends the run will use.
func checkFactorTemperatures(exp *experiment.Experiment, doc *yamlx.Doc) error {
	l := yamlx.NewList(exp.File)
	for i, t := range exp.Factors.Temperature {
		for _, b := range exp.Backends {
			if info, ok := provider.Lookup(b.Provider); ok && b.Provider != provider.Builtin && t > info.MaxTemperature && t <= 2 {
				l.Add(doc.Errorf(fmt.Sprintf("factors.temperature[%d]", i), "%g is out of range 0..%g of provider %s (backend %s)", t, info.MaxTemperature, b.Provider, b.LabelOrDefault()))
				break
			}
		}
	}
	return l.Err()
}

// checkDesign rejects, at their lines, the factors the experiment's study does not vary,
// the persona factor beside population.show_scores or show_averages (which it replaces), and
// joint prompts for a study that puts one scenario in a prompt (study.Design).
// checkScenarios is the study's own check of each scenario of the scenarios list that Load found
// sound (Design.CheckScenario), for an experiment whose study cannot be made for its other
// problems: the builtin backend's needs are told with them, not after they are fixed.
func checkScenarios(exp *experiment.Experiment, doc *yamlx.Doc, d study.Design) error {
	lib := exp.CheckedScenarios()
	// The backends are read from the key the file gives them in: one the file leaves out is
	// not what a misspelt key elsewhere meant.
	key := "backends"
	if _, ok := doc.Node("backend"); ok {
		key = "backend"
	}
	if d.CheckScenario == nil || lib == nil || !exp.Sound("study", key) {
		return nil
	}
	l := yamlx.NewList(exp.File)
	for i, id := range exp.Scenarios {
		at := fmt.Sprintf("scenarios[%d]", i)
		if l.Enough() {
			break
		}
		sc, ok := lib.Get(id)
		if !ok || !exp.SoundField(at) {
			continue // told already (unknown, listed twice, or in a file's entry with problems)
		}
		if msg := d.CheckScenario(sc, exp.Backends); msg != "" {
			l.Add(doc.Errorf(at, "%s", msg))
		}
	}
	return l.Err()
}

func checkDesign(exp *experiment.Experiment, doc *yamlx.Doc, d study.Design) error {
	l := yamlx.NewList(exp.File)
	for _, f := range exp.Factors.List() {
		switch {
		case slices.Contains(d.Factors, f.Name):
			if p := exp.Population; f.Name == "persona" && (p.ShowScores || p.ShowAverages) {
				at := "population.show_scores"
				if !p.ShowScores {
					at = "population.show_averages"
				}
				l.Add(doc.Errorf(at, "the persona factor sets how personas are shown: leave population.show_scores and show_averages out"))
			}
		case len(d.Factors) == 0:
			l.Add(doc.Errorf("factors."+f.Name, "study %s varies no design factor yet (factors: are for study: vignettes)", exp.Study))
		default:
			l.Add(doc.Errorf("factors."+f.Name, "study %s does not vary the %s factor (it varies %s)", exp.Study, f.Name, strings.Join(d.Factors, ", ")))
		}
	}
	if exp.Prompt.Mode == "joint" && !d.JointPrompts {
		l.Add(doc.Errorf("prompt.mode", "study %s does not put its scenarios in one prompt: joint prompts are for study: vignettes", exp.Study))
	}
	return l.Err()
}
