package experiment

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/yamlx"
)

// checkInputs reads the scenario and policy files the experiment names and checks its
// scenario ids and conditions' policies against the libraries, so that their problems are
// reported with the experiment's own (expErr): the experiment's list first, then each file's
// in turn. The population file and the study block's inputs (an edge list) can be large and
// the run reads them anyway: they are read here only when there are problems to report
// beside theirs (the inputs also when there is a population file, which the run reads
// first; the block keeps what it read for the run). The run builds on the libraries read here
// (Libraries): every file is read once.
func (e *Experiment) checkInputs(doc *yamlx.Doc, expErr error) error {
	own, files, err := e.inputsProblems(doc, expErr)
	if err != nil {
		return err
	}
	if own == nil && len(files) == 0 {
		return nil
	}
	e.problems, e.fileProblems = own, files
	return yamlx.Join(append([]error{own}, files...)...)
}

// inputsProblems is checkInputs: the experiment file's problems, and each other file's; err
// when a built-in library cannot be read.
func (e *Experiment) inputsProblems(doc *yamlx.Doc, expErr error) (own error, files []error, err error) {
	l := yamlx.NewList(e.File)
	l.Add(expErr)
	readable := func(p string) bool { _, err := os.Stat(p); return err == nil } // else reported already

	// loadAll adds each file to a library; false when one could not be added. pending reads
	// whether an id missing from the library is one a file that could not be added defines.
	loadAll := func(paths []string, load func(string) error) (ok bool, pending func(id string) bool, bad []string) {
		ok = true
		for _, f := range paths {
			if !readable(f) { // reported already; its ids cannot be read either
				ok = false
				bad = append(bad, f)
			} else if err := load(f); err != nil {
				files = append(files, err)
				ok = false
				bad = append(bad, f)
			}
		}
		defined := definedIn(bad)
		return ok, func(id string) bool { return !ok && defined(id) }, bad
	}
	scen, err := scenario.Builtin()
	if err != nil {
		return nil, nil, fmt.Errorf("built-in scenario library: %w", err)
	}
	// A scenario file's sound entries are checked with its problems (LoadFileSound).
	scenOK, scenPending, scenBad := loadAll(e.ScenarioFiles, scen.LoadFileSound)
	pol, err := policy.Builtin()
	if err != nil {
		return nil, nil, fmt.Errorf("built-in policy library: %w", err)
	}
	polOK, polPending, _ := loadAll(e.PolicyFiles, func(f string) error {
		return pol.LoadFile(f, policy.Scenarios{IDs: scen.IDs(), Maybe: scenPending})
	})
	var known []string
	// The ids the scenario files with problems define, read at the first unknown id.
	var badIDs []string
	badRead := false
	for i, id := range e.Scenarios {
		if l.Enough() {
			break
		}
		if !e.decodedEntry("scenarios", i) {
			continue
		}
		if _, ok := scen.Get(id); ok {
			if !slices.Contains(known, id) { // a scenario listed twice is reported already
				known = append(known, id)
			}
		} else if !scenPending(id) {
			// Whether a study takes this kind of scenario is the study's own check.
			msg := scen.Unknown(id, "see `prosim scenarios`, or add it with scenario_files")
			if !strings.Contains(msg, "(did you mean") {
				// A close id may be an entry of a file with problems, not in the library.
				if !badRead {
					badIDs, badRead = fileIDs(scenBad), true
				}
				if dym := yamlx.DidYouMean(id, badIDs); dym != "" {
					msg = fmt.Sprintf("unknown scenario %q%s", yamlx.Clip(id), dym)
				}
			}
			l.Add(doc.Errorf(fmt.Sprintf("scenarios[%d]", i), "%s", msg))
		}
	}
	for i, c := range e.Conditions {
		if c.Policy == "" {
			continue
		}
		f, ok := pol.Get(c.Policy)
		if !ok {
			if !polPending(c.Policy) {
				l.Add(doc.Errorf(fmt.Sprintf("conditions[%d].policy", i), "%s", pol.Unknown(c.Policy, "see `prosim scenarios`, or add it with policy_files")))
			}
			continue
		}
		// A frame must have text for every scenario it is shown with.
		for _, id := range known {
			if _, err := f.Text(id, e.Population.Currency); err != nil {
				l.Add(doc.Errorf(fmt.Sprintf("conditions[%d].policy", i), "policy %q with scenario %q: %v", c.Policy, id, err))
			}
		}
	}
	// A template that fails when rendered is a problem of its scenario, not of the study's
	// checks of it (the builtin backend's model: block): those still run.
	files = mergeFiles(append(files, e.renderProblems(scen, known)...))
	problems := l.Len() > 0 || len(files) > 0
	p := e.Population
	popFile := p.Source == "file" && p.File != "" && readable(p.File)
	// The population is read here only when there are problems to report (the run reads it):
	// a bad population file's, or the inputs' that are checked against it.
	var people []persona.Persona
	var peopleErr error
	read := false
	population := func() []persona.Persona {
		if read {
			return people
		}
		read = true
		switch {
		case popFile:
			people, peopleErr = persona.Load(p.File)
		case p.Source != "file" && e.popOK:
			people, peopleErr = p.Read()
		}
		return people
	}
	c, checker := e.Block.(InputsChecker)
	checker = checker && e.blockOK
	// The run reads the population file before the block's inputs: with both, the inputs are
	// read here, so that a bad population file does not hide them.
	var inputsErr error
	if checker && (problems || popFile) {
		inputsErr = c.CheckInputs(population)
	}
	// For the run, or for the engine's checks beside the problems found; with a file's
	// problems, for the checks of the sound scenarios only (CheckedScenarios).
	e.libs = &libraries{scenFiles: slices.Clone(e.ScenarioFiles), polFiles: slices.Clone(e.PolicyFiles), scen: scen, pol: pol, whole: scenOK && polOK}
	if !problems && inputsErr == nil {
		return nil, nil, nil
	}
	if !scenOK {
		e.breaks("scenario_files")
	}
	if !polOK {
		e.breaks("policy_files")
	}
	if inputsErr != nil {
		e.breaks(e.Study)
	}
	if popFile {
		if population(); peopleErr != nil {
			e.breaks("population")
			files = append(files, peopleErr)
		} else {
			l.Add(e.FileCurrency(doc, people))
			if pc, ok := e.Block.(PopulationChecker); ok {
				l.Add(pc.CheckPopulation(doc, people))
			}
		}
	}
	if inputsErr != nil {
		files = append(files, inputsErr)
	}
	return l.Err(), files, nil
}

// renderProblems renders the prompt of each vignette of known (ids in the library) and of the
// scenario files in each wording the design shows, with its own parameters and the population's currency, as the
// run does (a policy text is rendered by the caller): a template that fails only when
// rendered (a division by zero) is told with the other problems, each file's in turn.
// validate renders every request too (engine.CheckPrompts), but only once there are none;
// a game's templates need its terms, from the study, and wait for it.
func (e *Experiment) renderProblems(scen *scenario.Library, known []string) []error {
	wordings := e.Factors.Wording
	if len(wordings) == 0 {
		wordings = []string{scenario.Original}
	}
	byFile := map[string]*yamlx.List{}
	var order []string
	told := map[string]bool{}
	// A scenario file's vignettes the experiment does not list fail alike: the file's problem
	// (QA14 F5: a misspelt id hid its scenario's division by zero).
	ids := slices.Clone(known)
	if len(e.ScenarioFiles) > 0 {
		for _, sc := range scen.List() {
			if slices.Contains(e.ScenarioFiles, sc.Source) && !slices.Contains(known, sc.ID) {
				ids = append(ids, sc.ID)
			}
		}
	}
	for _, id := range ids {
		sc, _ := scen.Get(id)
		if sc.Kind != "vignette" {
			continue
		}
		for _, w := range wordings {
			ws, ok := sc.Worded(w)
			if !ok {
				continue // the study says which scenario lacks the wording
			}
			_, err := scenario.Compose(ws, sc.Params, e.Population.Currency, "")
			if err == nil || told[err.Error()] { // a question shared by the wordings fails once
				continue
			}
			told[err.Error()] = true
			f := sc.Source
			if byFile[f] == nil {
				byFile[f] = yamlx.NewList(f)
				order = append(order, f)
			}
			byFile[f].Add(err)
		}
	}
	// In the order of scenario_files, as their other problems are.
	slices.SortStableFunc(order, func(a, b string) int {
		return slices.Index(e.ScenarioFiles, a) - slices.Index(e.ScenarioFiles, b)
	})
	out := make([]error, 0, len(order))
	for _, f := range order {
		out = append(out, byFile[f].Err())
	}
	return out
}

// mergeFiles makes the problems of each file one list, sorted by line (a file's render
// problems with its others), in the order the files first come.
func mergeFiles(errs []error) []error {
	var order []string
	lists := map[string]*yamlx.List{}
	var out []error
	for _, err := range errs {
		var es *yamlx.Errors
		var e *yamlx.Error
		f := ""
		switch {
		case errors.As(err, &es) && es == err:
			f = es.File
		case errors.As(err, &e) && e == err:
			f = e.File
		}
		if f == "" {
			out = append(out, err)
			continue
		}
		if lists[f] == nil {
			lists[f] = yamlx.NewList(f)
			order = append(order, f)
		}
		lists[f].Add(err)
	}
	merged := make([]error, 0, len(order)+len(out))
	for _, f := range order {
		merged = append(merged, lists[f].Err())
	}
	return append(merged, out...)
}

// definedIn says whether one of the files (scenario or policy files with problems, not in
// the library) defines id, or may once its problems are fixed: an entry's id written in
// another case or with spaces ("Snow Shovel" for snow_shovel), or written in an id of the
// wrong type (id: [snow_shovel]); any id, when an entry has no id or a file cannot be parsed.
// An id no such file can define is unknown whatever their problems. The files are read
// once, at the first id asked.
func definedIn(paths []string) func(id string) bool {
	var ids map[string]bool
	complete := true
	return func(id string) bool {
		if ids == nil {
			ids = map[string]bool{}
			for _, p := range paths {
				xs, ok := scenario.FileIDs(p)
				complete = complete && ok
				for _, x := range xs {
					ids[x], ids[foldID(x)] = true, true
				}
			}
		}
		return !complete || ids[id]
	}
}

// fileIDs are the ids the files define, as written (scenario.FileIDs), sorted.
func fileIDs(paths []string) []string {
	var ids []string
	for _, p := range paths {
		xs, _ := scenario.FileIDs(p)
		ids = append(ids, xs...)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// foldID is s in lower case with each run of other characters than letters, digits, '-' and
// '_' made one '_'.
func foldID(s string) string {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			gap = false
		} else {
			gap = true
		}
	}
	return b.String()
}

// libraries are the scenario and policy libraries as Load read them: the built-ins with
// these files added.
type libraries struct {
	scenFiles, polFiles []string
	scen                *scenario.Library
	pol                 *policy.Library
	whole               bool // every file was added (else scen lacks entries with problems)
}

// CheckedScenarios is the scenario library Load checked the experiment's scenario ids against,
// with the sound scenarios of files with problems (LoadFileSound): for checks told beside
// those problems, never for a run (nil when Load did not read it).
func (e *Experiment) CheckedScenarios() *scenario.Library {
	if e.libs == nil {
		return nil
	}
	return e.libs.scen
}

// Libraries are the scenario and policy libraries Load read and checked the experiment
// against (the built-ins with ScenarioFiles and PolicyFiles added), so the run need not read
// the files again; false when Load did not read them (a hand-built experiment) or the file
// lists changed since.
func (e *Experiment) Libraries() (*scenario.Library, *policy.Library, bool) {
	l := e.libs
	if l == nil || !l.whole || !slices.Equal(l.scenFiles, e.ScenarioFiles) || !slices.Equal(l.polFiles, e.PolicyFiles) {
		return nil, nil, false
	}
	return l.scen, l.pol, true
}

// Read is the population a run of the checked experiment has: sampled with Seed (which Load
// fills in when the file leaves it out), the prosim104 agents, or read from File (for a run
// directory's config.yaml, its copy under inputs/).
func (p *Population) Read() ([]persona.Persona, error) {
	var agents []persona.Persona
	var err error
	switch p.Source {
	case "sample":
		if p.Seed == nil {
			return nil, fmt.Errorf("population: no seed (the experiment was not checked)")
		}
		agents, err = persona.Sample(p.N, *p.Seed, persona.SampleOptions{Currency: p.Currency})
	case "prosim104":
		agents, err = persona.Builtin("prosim104")
	case "file":
		agents, err = persona.Load(p.File)
	default:
		err = fmt.Errorf("unknown source %q", p.Source)
	}
	if err != nil {
		return nil, yamlx.Prefix("population", err) // the population file's own problems as they are
	}
	if len(agents) == 0 {
		return nil, fmt.Errorf("population: no agents")
	}
	return agents, nil
}

// populationBeside is the problems of an experiment file that could not be checked (doc's
// values of the wrong type, unknown fields: problems, which the rest of the file could not be
// decoded apart from) with its population file's, read when the population block has none
// (QA12 #9: a people.csv's bad rows came a run after the file's "concurrency: many"). Other
// checks wait for the file to decode.
func populationBeside(doc *yamlx.Doc, name string, problems error) error {
	var es *yamlx.Errors
	var e *yamlx.Error
	var fields []string
	switch {
	case doc == nil:
		return problems
	case errors.As(problems, &es) && es == problems && es.More == 0 && !es.Stopped:
		for _, x := range es.Errs {
			fields = append(fields, x.Field)
		}
	case errors.As(problems, &e) && e == problems:
		fields = append(fields, e.Field)
	default:
		return problems
	}
	for _, f := range fields {
		if f == "" || topKey(f) == "population" {
			return problems
		}
	}
	var p Population
	if found, err := doc.DecodeAt("population", &p); !found || err != nil || p.Source != "file" {
		return problems
	}
	l := yamlx.NewList(name)
	l.Add(problems)
	if l.Add(p.check(doc, filepath.Dir(name), nil)) {
		return l.Err()
	}
	if _, err := persona.Load(p.File); err != nil {
		return yamlx.Join(l.Err(), err)
	}
	return l.Err()
}
