package experiment

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// InputsDir is the folder of a run directory that holds copies of the experiment's input files.
const InputsDir = "inputs"

// Bundle makes a run directory self-contained, so it can be moved and still be resumed and
// reported. It copies every file the experiment reads — scenario_files, policy_files,
// population.file (source: file) and the files a study's block names (Inputs: Study 3's
// network.graph.file, type: edgelist) — into
// RUN_DIR/inputs/, keeping base names (a later file with a base name already used gets a
// numeric prefix: 2-scen.yaml), and returns the resolved config (as Resolved) with those
// paths relative to the run directory (inputs/scen.yaml), which is how Load reads them back
// from RUN_DIR/config.yaml. The cache path is not copied (it is the user's shared cache): it
// is recorded absolute.
//
// e itself is not changed: the current process keeps reading its inputs where they were
// found (they are the same bytes), and only the config written to the run directory points
// at the copies.
func (e *Experiment) Bundle(runDir string) ([]byte, error) {
	c := *e
	c.ScenarioFiles = slices.Clone(e.ScenarioFiles)
	c.PolicyFiles = slices.Clone(e.PolicyFiles)
	var err error
	if c.Block, err = e.cloneBlock(); err != nil {
		return nil, err
	}
	b := bundler{dir: runDir, byName: map[string]string{}, bySource: map[string]string{}}
	for i, f := range c.ScenarioFiles {
		if c.ScenarioFiles[i], err = b.copy(f); err != nil {
			return nil, err
		}
	}
	for i, f := range c.PolicyFiles {
		if c.PolicyFiles[i], err = b.copy(f); err != nil {
			return nil, err
		}
	}
	if c.Population.Source == "file" && c.Population.File != "" {
		if c.Population.File, err = b.copy(c.Population.File); err != nil {
			return nil, err
		}
	}
	if in, ok := c.Block.(Inputs); ok {
		for _, p := range in.Inputs() {
			if *p == "" {
				continue
			}
			if *p, err = b.copy(*p); err != nil {
				return nil, err
			}
		}
	}
	if c.Cache != "" && c.Cache != "off" && c.Cache != CacheNATS {
		if c.Cache, err = filepath.Abs(c.Cache); err != nil {
			return nil, fmt.Errorf("cache %s: %w", e.Cache, err)
		}
	}
	c.Execution.NATS = StripCredentials(c.Execution.NATS) // credentials never go to the run directory
	return c.Resolved()
}

type bundler struct {
	dir      string
	byName   map[string]string // inputs/ file name -> absolute source path
	bySource map[string]string // absolute source path -> path recorded (inputs/NAME)
}

// copy copies src into dir/inputs and returns the path to record, relative to dir. The same
// source file listed twice is copied once.
func (b *bundler) copy(src string) (string, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	if rel, ok := b.bySource[abs]; ok {
		return rel, nil
	}
	base := filepath.Base(abs)
	name := base
	for k := 2; b.byName[name] != ""; k++ {
		name = fmt.Sprintf("%d-%s", k, base)
	}
	if err := os.MkdirAll(filepath.Join(b.dir, InputsDir), 0o755); err != nil {
		return "", err
	}
	if err := copyFile(abs, filepath.Join(b.dir, InputsDir, name)); err != nil {
		return "", fmt.Errorf("copying input %s into the run directory: %w", src, err)
	}
	rel := filepath.Join(InputsDir, name)
	b.byName[name] = abs
	b.bySource[abs] = rel
	return rel, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
