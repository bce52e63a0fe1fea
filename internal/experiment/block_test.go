package experiment

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/yamlx"
)

// probe is a block with an input file, for the tests of this package (which knows no study).
type probe struct {
	File string `yaml:"file"`
}

func (p *probe) Check(e *Experiment, doc *yamlx.Doc) error {
	if !e.Given() {
		return doc.Errorf("probe", "required for study: probe")
	}
	return e.InputFile(doc, "probe.file", &p.File)
}

func (p *probe) Inputs() []*string { return []*string{&p.File} }

func init() { RegisterBlock("probe", func() Block { return &probe{} }) }

func TestBlocks(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "name: p\nstudy: probe\nseed: 1\npopulation: {source: sample, n: 2}\nprobe:\n  file: in.txt\n"
	e, err := Parse([]byte(src), filepath.Join(dir, "p.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if f := e.Block.(*probe).File; f != filepath.Join(dir, "in.txt") {
		t.Errorf("file resolved to %q", f)
	}
	run := t.TempDir()
	cfg, err := e.Bundle(run)
	if err != nil {
		t.Fatal(err)
	}
	if e.Block.(*probe).File != filepath.Join(dir, "in.txt") || !strings.HasSuffix(string(cfg), "probe:\n  file: inputs/in.txt\n") {
		t.Errorf("bundle: %s\n%s", e.Block.(*probe).File, cfg)
	}
	if _, err := os.Stat(filepath.Join(run, InputsDir, "in.txt")); err != nil {
		t.Error(err)
	}
	for src, want := range map[string]string{
		"name: p\nstudy: probe\nseed: 1\npopulation: {source: sample, n: 2}\n":                                                                      "p.yaml: field probe: required",
		"name: p\nstudy: probe\nseed: 1\npopulation: {source: sample, n: 2}\nprobe: {file: nope}\n":                                                 "p.yaml:5:15: field probe.file: cannot read",
		"name: p\nstudy: vignettes\nseed: 1\npopulation: {source: sample, n: 2}\nscenarios: [x]\nprobe: {file: a}\n":                                "p.yaml:6:1: field probe: only for study: probe",
		"name: p\nstudy: vignettes\nseed: 1\npopulation: {source: sample, n: 2}\nscenarios: [x]\nconditions: [{policy: moral, inequity: {k: 1}}]\n": "field conditions[0].inequity: not used by study: vignettes",
	} {
		if _, err := Parse([]byte(src), "p.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q for\n%s", err, want, src)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a block named as a common field was registered")
		}
	}()
	RegisterBlock("population", func() Block { return &probe{} })
}
