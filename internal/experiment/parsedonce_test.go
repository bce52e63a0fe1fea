package experiment

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prosim/prosim/internal/yamlx"
)

// An experiment file is parsed once from LoadChecking (validate, run, estimate) to the
// engine's locator: the study's block, the rest of the file, the checks' locations and the
// fraction check come of one parse (it was five: the block's split, the decode, its fraction
// check, the checks' locator, and the engine's, which read the file again). The locator is
// handed over once. Load parses once too, and keeps no parse: its locator reads the file.
func TestFileParsedOnce(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "p.yaml")
	src := "name: p\ndescription: version 1.5\nstudy: probe\nseed: 1\npopulation: {source: sample, n: 2}\nprobe:\n  file: in.txt\n"
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		load    func(string) (*Experiment, error)
		locator int // parses of the file by the first locator
	}{{"LoadChecking", LoadChecking, 0}, {"Load", Load, 1}} {
		before := yamlx.Parses(f)
		e, err := c.load(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := yamlx.Parses(f) - before; n != 1 {
			t.Errorf("%s parsed the file %d times", c.name, n)
		}
		doc := Locator(e)
		if n := yamlx.Parses(f) - before; n != 1+c.locator {
			t.Errorf("%s and its locator parsed the file %d times, want %d", c.name, n, 1+c.locator)
		}
		if err := doc.Errorf("probe.file", "x"); err.Error() != f+":7:9: field probe.file: x" {
			t.Errorf("%s's locator says %q", c.name, err)
		}
		before = yamlx.Parses(f)
		if again := Locator(e); again == doc || again == nil || yamlx.Parses(f)-before != 1 {
			t.Errorf("%s's second locator: %p (the first %p), want the file parsed again", c.name, again, doc)
		}
	}
	// Bytes given by the caller may not be the file's: the locator reads the file.
	e, err := Parse([]byte(src), f)
	if err != nil {
		t.Fatal(err)
	}
	before := yamlx.Parses(f)
	if Locator(e) == nil || yamlx.Parses(f)-before != 1 {
		t.Errorf("the locator of Parse's experiment did not read the file")
	}
}
