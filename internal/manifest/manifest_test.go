package manifest

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestBuildString(t *testing.T) {
	b := Build{Version: "v1.2.0", Revision: "abc123", Time: "2026-01-02T03:04:05Z", Modified: true, Go: "go1.26.0"}
	if got, want := b.String(), "v1.2.0 (revision abc123, 2026-01-02T03:04:05Z, modified), go1.26.0"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := (Build{Version: "devel", Go: "go1.26.0"}).String(); got != "devel, go1.26.0" {
		t.Errorf("String() = %q", got)
	}
	c := Current() // a test binary has no module version
	if c.Go != runtime.Version() || c.Version == "" {
		t.Errorf("Current() = %+v", c)
	}
	SetRelease("v9.9.9")
	defer SetRelease("")
	if Current().Version != "v9.9.9" {
		t.Errorf("a release version set at build time is not used")
	}
}

// Hash and Verify on a folder; a manifest written and read back is the same.
func TestHashVerifyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config.yaml", "name: x\n")
	write("inputs/b.yaml", "b")
	write("inputs/sub/a.csv", "a")
	files, err := Hash(dir, Roles{"inputs/b.yaml": "scenarios"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"config.yaml config", "inputs/b.yaml scenarios", "inputs/sub/a.csv input"}
	for i, f := range files {
		if i >= len(want) || f.Path+" "+f.Role != want[i] {
			t.Fatalf("files %+v", files)
		}
	}
	// sha256("b")
	if files[1].SHA256 != "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d" || files[1].Bytes != 1 {
		t.Errorf("hash of inputs/b.yaml: %+v", files[1])
	}
	m := &Manifest{Format: Format, Files: files}
	if err := Write(dir, m); err != nil {
		t.Fatal(err)
	}
	back, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := Verify(dir, back); err != nil || len(ch) != 0 {
		t.Fatalf("unchanged folder: %v, %v", ch, err)
	}
	os.Remove(filepath.Join(dir, "config.yaml"))
	write("inputs/b.yaml", "B")
	ch, err := Verify(dir, back)
	if err != nil || len(ch) != 2 || ch[0].Kind != "missing" || ch[0].Path != "config.yaml" || ch[1].Kind != "changed" || ch[1].Path != "inputs/b.yaml" {
		t.Fatalf("changes %+v, %v", ch, err)
	}
}

// Every JSON field of the manifest is documented in docs/manifest.md.
func TestFieldsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/manifest.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{Manifest{}, Stop{}, Build{}, Input{}, Backend{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if !strings.Contains(string(doc), "| `"+name+"` |") {
				t.Errorf("docs/manifest.md does not document %s.%s (%s)", typ.Name(), typ.Field(i).Name, name)
			}
		}
	}
}
