package experiment

import (
	"fmt"
	"os"
	"slices"

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
	l := yamlx.NewList(e.File)
	l.Add(expErr)
	var files []error
	readable := func(p string) bool { _, err := os.Stat(p); return err == nil } // else reported already

	// loadAll adds each file to a library; false when one could not be added.
	loadAll := func(paths []string, load func(string) error) bool {
		ok := true
		for _, f := range paths {
			if !readable(f) {
				ok = false
			} else if err := load(f); err != nil {
				files = append(files, err)
				ok = false
			}
		}
		return ok
	}
	scen, err := scenario.Builtin()
	if err != nil {
		return fmt.Errorf("built-in scenario library: %w", err)
	}
	scenOK := loadAll(e.ScenarioFiles, scen.LoadFile)
	pol, err := policy.Builtin()
	if err != nil {
		return fmt.Errorf("built-in policy library: %w", err)
	}
	polOK := loadAll(e.PolicyFiles, pol.LoadFile)
	// An id missing from a library that a bad file left incomplete is not reported.
	var known []string
	for i, id := range e.Scenarios {
		if _, ok := scen.Get(id); ok {
			known = append(known, id)
		} else if scenOK {
			// Whether a study takes this kind of scenario is the study's own check.
			l.Add(doc.Errorf(fmt.Sprintf("scenarios[%d]", i), "unknown scenario %q (see `prosim scenarios`, or add it with scenario_files)", id))
		}
	}
	for i, c := range e.Conditions {
		if c.Policy == "" {
			continue
		}
		f, ok := pol.Get(c.Policy)
		if !ok {
			if polOK {
				l.Add(doc.Errorf(fmt.Sprintf("conditions[%d].policy", i), "unknown policy %q (see `prosim scenarios`, or add it with policy_files)", c.Policy))
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
	problems := l.Len() > 0 || len(files) > 0
	p := e.Population
	popFile := p.Source == "file" && p.File != "" && readable(p.File)
	c, checker := e.Block.(InputsChecker)
	checker = checker && e.blockOK
	// The run reads the population file before the block's inputs: with both, the inputs are
	// read here, so that a bad population file does not hide them.
	var inputsErr error
	if checker && (problems || popFile) {
		inputsErr = c.CheckInputs()
	}
	if !problems && inputsErr == nil {
		e.libs = &libraries{scenFiles: slices.Clone(e.ScenarioFiles), polFiles: slices.Clone(e.PolicyFiles), scen: scen, pol: pol}
		return nil
	}
	if popFile {
		if people, err := persona.Load(p.File); err != nil {
			files = append(files, err)
		} else if err := e.FileCurrency(doc, people); err != nil {
			l.Add(err)
		}
	}
	files = append(files, inputsErr)
	return yamlx.Join(append([]error{l.Err()}, files...)...)
}

// libraries are the scenario and policy libraries as Load read them: the built-ins with
// these files added.
type libraries struct {
	scenFiles, polFiles []string
	scen                *scenario.Library
	pol                 *policy.Library
}

// Libraries are the scenario and policy libraries Load read and checked the experiment
// against (the built-ins with ScenarioFiles and PolicyFiles added), so the run need not read
// the files again; false when Load did not read them (a hand-built experiment) or the file
// lists changed since.
func (e *Experiment) Libraries() (*scenario.Library, *policy.Library, bool) {
	l := e.libs
	if l == nil || !slices.Equal(l.scenFiles, e.ScenarioFiles) || !slices.Equal(l.polFiles, e.PolicyFiles) {
		return nil, nil, false
	}
	return l.scen, l.pol, true
}
