package engine

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/manifest"
)

// inputRoles names the files of a run directory by what its resolved config reads them as.
func inputRoles(dir string) manifest.Roles {
	exp, err := experiment.Load(filepath.Join(dir, configFile))
	if err != nil {
		return nil // the files are still hashed, as "input"
	}
	roles := manifest.Roles{}
	add := func(p, role string) {
		if p == "" {
			return
		}
		if rel, err := filepath.Rel(dir, p); err == nil {
			roles[filepath.ToSlash(rel)] = role
		}
	}
	for _, f := range exp.ScenarioFiles {
		add(f, "scenarios")
	}
	for _, f := range exp.PolicyFiles {
		add(f, "policies")
	}
	if exp.Population.Source == "file" {
		add(exp.Population.File, "population")
	}
	if in, ok := exp.Block.(experiment.Inputs); ok {
		for _, p := range in.Inputs() {
			add(*p, exp.Study+" input")
		}
	}
	return roles
}

// writeManifest writes the run's manifest.json: the hashes of its inputs as they are now, the
// running build, and the model versions seen so far. resumed appends this build to the
// builds that resumed the run; stop says why a stopped run stopped.
func (r *Runner) writeManifest(status string, stop *manifest.Stop, resumed bool) error {
	files, err := manifest.Hash(r.dir, inputRoles(r.dir))
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	builtins, err := manifest.Builtins()
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	m := &manifest.Manifest{Format: manifest.Format, Experiment: r.exp.Name, Study: r.exp.Study, Status: status, Stop: stop,
		Prosim: manifest.Current(), Files: files,
		Builtin: []manifest.Input{builtins["builtin:scenarios"], builtins["builtin:policies"]}}
	if r.exp.Population.Source == "prosim104" {
		m.Builtin = append(m.Builtin, builtins["builtin:population/prosim104"])
	}
	// A study's block may read built-in data too (Study 3's prosim104 graph).
	if bi, ok := r.exp.Block.(interface{ BuiltinInputs() []string }); ok {
		for _, name := range bi.BuiltinInputs() {
			in, known := builtins[name]
			if !known {
				return fmt.Errorf("manifest: study %s reads built-in data %q that prosim does not know", r.exp.Study, name)
			}
			m.Builtin = append(m.Builtin, in)
		}
	}
	if old, err := manifest.Read(r.dir); err == nil {
		m.Resumed = old.Resumed
	}
	if resumed {
		m.Resumed = append(m.Resumed, m.Prosim)
	}
	if spent, ok := r.spent(); ok {
		m.SpentUSD = &spent
	}
	versions := r.versionsSeen()
	for _, b := range r.backends {
		m.Backends = append(m.Backends, manifest.Backend{Label: b.label, Provider: b.cfg.Provider, Model: b.cfg.Model,
			ModelVersions: versions[b.label]})
	}
	return manifest.Write(r.dir, m)
}

// versionsSeen are the model versions of every decision of the run by backend label, sorted:
// those recorded before this invocation (a resume) and those asked in it (all studies).
func (r *Runner) versionsSeen() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	set := map[string]map[string]bool{}
	add := func(label, v string) {
		if v == "" {
			return
		}
		if set[label] == nil {
			set[label] = map[string]bool{}
		}
		set[label][v] = true
	}
	for _, b := range r.backends {
		for v := range b.versions {
			add(b.label, v)
		}
	}
	for label, vs := range r.recordedVersions {
		for v := range vs {
			add(label, v)
		}
	}
	out := map[string][]string{}
	for label, vs := range set {
		for v := range vs {
			out[label] = append(out[label], v)
		}
		slices.Sort(out[label])
	}
	return out
}

// checkInputs warns, on resume, of every input that changed since the manifest was written:
// the run's decisions then come from two sets of inputs.
func (r *Runner) checkInputs() {
	m, err := manifest.Read(r.dir)
	if err != nil {
		return // a run of an earlier prosim: the manifest is written now
	}
	changes, err := manifest.Verify(r.dir, m)
	if err != nil || r.opt.Notices == nil {
		return
	}
	for _, c := range changes {
		fmt.Fprintf(r.opt.Notices, "prosim: warning: resuming with an input that differs from the run's manifest: %s\n", c)
	}
}
