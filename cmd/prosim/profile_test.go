package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --cpuprofile and --memprofile write pprof files (gzipped protocol buffers) of a run and of
// a resume; a path that cannot be created fails before the run starts.
func TestProfileFlags(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "run")
	cpu, mem := filepath.Join(tmp, "cpu.pprof"), filepath.Join(tmp, "mem.pprof")
	if _, err := prosim(t, "run", "../../examples/study1.yaml", "--out", dir, "-q", "--cpuprofile", cpu, "--memprofile", mem); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{cpu, mem} {
		checkProfile(t, f)
	}
	cpu2 := filepath.Join(tmp, "cpu2.pprof")
	if _, err := prosim(t, "resume", dir, "-q", "--cpuprofile", cpu2); err != nil {
		t.Fatal(err)
	}
	checkProfile(t, cpu2)

	_, err := prosim(t, "run", "../../examples/study1.yaml", "--out", filepath.Join(tmp, "run2"), "-q", "--memprofile", filepath.Join(tmp, "no", "such", "dir", "mem.pprof"))
	if err == nil || !strings.Contains(err.Error(), "--memprofile") {
		t.Fatalf("want a --memprofile error, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(tmp, "run2")); err == nil {
		t.Error("the run started although its profile could not be written")
	}
}

func checkProfile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not a pprof file: %v", path, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil || len(raw) == 0 {
		t.Fatalf("%s: %d bytes of profile, %v", path, len(raw), err)
	}
}
