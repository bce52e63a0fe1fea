// Package manifest writes and checks RUN_DIR/manifest.json: what a run was made from (the
// SHA-256 of its resolved config and of every input file copied to RUN_DIR/inputs), by which
// prosim and Go, and which model versions answered. A run can be pre-registered by the hash
// of its manifest, and `prosim verify` recomputes the hashes to say what changed since.
//
// The manifest holds no time and no absolute path, so two runs of one config by one binary
// write the same file, and never a key: backends are named by label, provider and model.
package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/policy"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/usd"
	"github.com/prosim/prosim/internal/writing"
)

// File is the name of the manifest in a run directory.
const File = "manifest.json"

// Format is the manifest layout version.
const Format = 1

// Manifest is the content of manifest.json.
type Manifest struct {
	Format     int    `json:"format"`
	Experiment string `json:"experiment"`
	Study      string `json:"study"`
	// Status is "running" while the run runs, "stopped" when it failed or was interrupted
	// (resume it), "complete" when it finished.
	Status string `json:"status"`
	// Stop says why a stopped run stopped; absent unless Status is "stopped".
	Stop *Stop `json:"stop,omitempty"`
	// SpentUSD is the run's provider spend over every invocation so far, in USD, with or
	// without a cap; 0 too, for a run with an LLM backend. Absent when every backend is the
	// behavioural model or a call's price is unknown.
	SpentUSD *float64 `json:"spent_usd,omitempty"`
	// Prosim is the build that last wrote the manifest (the run, or its last resume).
	Prosim Build `json:"prosim"`
	// Resumed lists the builds that resumed the run, in order (empty when never resumed).
	Resumed []Build `json:"resumed,omitempty"`
	// Files are the run's inputs: config.yaml and every file under inputs/, by path.
	Files []Input `json:"files"`
	// Builtin are the data built into prosim that the run read (the scenario and policy
	// libraries, a built-in population), hashed as this binary has them: a "devel" build may
	// carry different ones under the same version.
	Builtin []Input `json:"builtin"`
	// Backends are the experiment's backends, in design order.
	Backends []Backend `json:"backends"`
}

// Stop reasons.
const (
	StopSpendCap    = "spend_cap"   // the next call's worst case would have passed the spend cap
	StopInterrupted = "interrupted" // Ctrl-C, or a stop request (prosim serve's Stop)
	StopError       = "error"       // a failure the run could not record (the command printed it)
)

// Stop is why a run stopped: a spend cap's stop with its amounts in USD, so that report,
// verify and serve can say to continue with a higher cap.
type Stop struct {
	Reason string `json:"reason"`
	// CapUSD is the cap, SpentUSD the settled spend over every invocation (0 too) and
	// NextCallUSD the worst case of the call the cap refused (spend_cap only).
	CapUSD      float64  `json:"cap_usd,omitempty"`
	SpentUSD    *float64 `json:"spent_usd,omitempty"`
	NextCallUSD float64  `json:"next_call_usd,omitempty"`
}

// Build identifies a prosim binary.
type Build struct {
	// Version is the module version ("v1.2.0", a pseudo-version), or "devel" when the build
	// has none (go run, go test, a build outside version control).
	Version string `json:"version"`
	// Revision, Time and Modified come from the version control stamp of the build: the
	// commit, its time, and whether the work tree had uncommitted changes. Empty when unknown.
	Revision string `json:"vcs_revision,omitempty"`
	Time     string `json:"vcs_time,omitempty"`
	Modified bool   `json:"vcs_modified,omitempty"`
	// Go is the Go release that compiled it (runtime.Version).
	Go string `json:"go"`
}

// Input is one hashed file of the run.
type Input struct {
	// Path is relative to the run directory, with forward slashes.
	Path string `json:"path"`
	// Role says what the file is: config, scenarios, policies, population, study input, or
	// input (a file of inputs/ the config does not name).
	Role   string `json:"role"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Backend is one backend of the run with the model versions that answered for it.
type Backend struct {
	Label    string `json:"label"`
	Provider string `json:"provider"`
	Model    string `json:"model,omitempty"`
	// ModelVersions are the versions the provider reported for the run's decisions, sorted;
	// "" (not reported) is left out. Filled in when the run ends.
	ModelVersions []string `json:"model_versions"`
}

// ldVersion is a release version set with -ldflags by the CLI (SetRelease).
var ldVersion string

// SetRelease records a version stamped into the binary at release time; it takes precedence
// over the module version.
func SetRelease(v string) { ldVersion = v }

// Current is the running binary's build.
func Current() Build {
	b := Build{Version: "devel", Go: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			b.Version = v
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if ldVersion != "" {
		b.Version = ldVersion
	}
	return b
}

// String is the build in one line, as `prosim --version` prints it.
func (b Build) String() string {
	s := b.Version
	var vcs []string
	if b.Revision != "" {
		vcs = append(vcs, "revision "+b.Revision)
	}
	if b.Time != "" {
		vcs = append(vcs, b.Time)
	}
	if b.Modified {
		vcs = append(vcs, "modified")
	}
	if len(vcs) > 0 {
		s += " (" + strings.Join(vcs, ", ") + ")"
	}
	return s + ", " + b.Go
}

// Roles names input files by what the config uses them for: path relative to the run
// directory -> role. Files of inputs/ it does not name are hashed as "input".
type Roles map[string]string

// Hash hashes config.yaml and every file under inputs/ of dir, in path order.
func Hash(dir string, roles Roles) ([]Input, error) {
	paths, err := list(dir)
	if err != nil {
		return nil, err
	}
	var out []Input
	for _, p := range paths {
		sum, n, err := hashFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			return nil, err
		}
		role := roles[p]
		if role == "" {
			role = "input"
			if p == "config.yaml" {
				role = "config"
			}
		}
		out = append(out, Input{Path: p, Role: role, SHA256: sum, Bytes: n})
	}
	return out, nil
}

// list is config.yaml, then every regular file under inputs/ in path order, relative to dir
// with forward slashes.
func list(dir string) ([]string, error) {
	paths := []string{"config.yaml"}
	in := filepath.Join(dir, "inputs")
	err := filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == in {
				return nil // a run that reads no files
			}
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			paths = append(paths, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(paths[1:])
	return paths, nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Builtins are the hashes of the data built into this binary, by name: builtin:scenarios and
// builtin:policies (every file of the library, in name order), builtin:population/prosim104
// and builtin:graph/prosim104.
func Builtins() (map[string]Input, error) {
	out := map[string]Input{}
	for _, x := range []struct {
		name string
		fsys fs.FS
	}{{"builtin:scenarios", scenario.BuiltinFiles()}, {"builtin:policies", policy.BuiltinFiles()}} {
		in, err := hashFS(x.fsys)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", x.name, err)
		}
		in.Path, in.Role = x.name, strings.TrimPrefix(x.name, "builtin:")
		out[x.name] = in
	}
	for _, x := range []struct {
		name, role string
		data       func(string) ([]byte, bool)
	}{{"population/prosim104", "population", persona.BuiltinData}, {"graph/prosim104", "graph", network.BuiltinData}} {
		if b, ok := x.data("prosim104"); ok {
			sum := sha256.Sum256(b)
			out["builtin:"+x.name] = Input{Path: "builtin:" + x.name, Role: x.role, SHA256: hex.EncodeToString(sum[:]), Bytes: int64(len(b))}
		}
	}
	return out, nil
}

// hashFS hashes every file of fsys: SHA-256 over each file's path, a NUL, and its SHA-256,
// in path order. Bytes is the total size.
func hashFS(fsys fs.FS) (Input, error) {
	var in Input
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h.Write([]byte(p + "\x00"))
		h.Write(sum[:])
		in.Bytes += int64(len(b))
		return nil
	})
	in.SHA256 = hex.EncodeToString(h.Sum(nil))
	return in, err
}

// BuiltinNotes compare the built-in data m records with this binary's: a note per entry that
// differs (a resume or rerun by this binary would read other data than the run did).
func BuiltinNotes(m *Manifest) ([]string, error) {
	now, err := Builtins()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, b := range m.Builtin {
		if c, ok := now[b.Path]; !ok {
			out = append(out, fmt.Sprintf("%s: this prosim has no such built-in data", b.Path))
		} else if c.SHA256 != b.SHA256 {
			out = append(out, fmt.Sprintf("%s: this prosim's differs from the run's (sha256 was %s, this prosim has %s)", b.Path, b.SHA256, c.SHA256))
		}
	}
	return out, nil
}

// Read reads dir's manifest.
func Read(dir string) (*Manifest, error) {
	path := filepath.Join(dir, File)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist: the run was made by a prosim that wrote no manifest, or the file was deleted", path)
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("%s: manifest format %d, this prosim reads %d", path, m.Format, Format)
	}
	return &m, nil
}

// Write writes m to dir atomically: a crash leaves the old manifest or the new one.
func Write(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m.rounded(), "", "  ")
	if err != nil {
		return err
	}
	// Through a temporary, recorded so that a Ctrl-C removes it (writing.File).
	return writing.File(filepath.Join(dir, File), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// rounded is m with its amounts of dollars rounded (usd.Round), as Write records them: a sum
// of float costs is 0.0003, not 0.00030000000000000003 (QA10 repro-6). m is not changed.
func (m *Manifest) rounded() *Manifest {
	round := func(p *float64) *float64 {
		if p == nil {
			return nil
		}
		x := usd.Round(*p)
		return &x
	}
	c := *m
	c.SpentUSD = round(m.SpentUSD)
	if m.Stop != nil {
		st := *m.Stop
		st.CapUSD, st.SpentUSD, st.NextCallUSD = usd.Round(st.CapUSD), round(st.SpentUSD), usd.Round(st.NextCallUSD)
		c.Stop = &st
	}
	return &c
}

// Change is a difference between the manifest and the files of a run directory.
type Change struct {
	Path string
	// Kind is "changed", "missing" (in the manifest, not on disk) or "added" (an input file
	// the manifest does not list).
	Kind     string
	Was, Now string // SHA-256; empty when absent
	Role     string
	WasBytes int64
	NowBytes int64
}

func (c Change) String() string {
	switch c.Kind {
	case "missing":
		return fmt.Sprintf("missing: %s (%s; sha256 %s)", c.Path, c.Role, c.Was)
	case "added":
		return fmt.Sprintf("added: %s (not in the manifest; sha256 %s)", c.Path, c.Now)
	}
	return fmt.Sprintf("changed: %s (%s; sha256 was %s, now %s; %d -> %d bytes)", c.Path, c.Role, c.Was, c.Now, c.WasBytes, c.NowBytes)
}

// Verify recomputes the hashes of dir's inputs and returns how they differ from m, in path
// order; none when nothing changed.
func Verify(dir string, m *Manifest) ([]Change, error) {
	paths, err := list(dir)
	if err != nil {
		return nil, err
	}
	var out []Change
	listed := map[string]bool{}
	for _, f := range m.Files {
		listed[f.Path] = true
		sum, n, err := hashFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, Change{Path: f.Path, Kind: "missing", Was: f.SHA256, Role: f.Role, WasBytes: f.Bytes})
		case err != nil:
			return nil, err
		case sum != f.SHA256:
			out = append(out, Change{Path: f.Path, Kind: "changed", Was: f.SHA256, Now: sum, Role: f.Role, WasBytes: f.Bytes, NowBytes: n})
		}
	}
	for _, p := range paths {
		if listed[p] {
			continue
		}
		sum, n, err := hashFile(filepath.Join(dir, filepath.FromSlash(p)))
		if errors.Is(err, fs.ErrNotExist) {
			continue // config.yaml, when missing, is reported above
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Change{Path: p, Kind: "added", Now: sum, NowBytes: n})
	}
	slices.SortFunc(out, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}
