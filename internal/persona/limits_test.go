package persona

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJSONLLongLineNamesLine(t *testing.T) {
	defer func(n int) { MaxLineBytes = n }(MaxLineBytes)
	MaxLineBytes = 100
	in := "\n\n{\"id\": 1, \"note\": \"" + strings.Repeat("x", 200) + "\"}\n"
	_, err := ReadJSONL(strings.NewReader(in), "p.jsonl")
	if err == nil || !strings.Contains(err.Error(), "p.jsonl:3: line is longer than the limit of 100 bytes") {
		t.Fatalf("got %v", err)
	}
}

func TestLoadFileLimit(t *testing.T) {
	defer func(n int64) { MaxFileBytes = n }(MaxFileBytes)
	MaxFileBytes = 1 << 20
	p := filepath.Join(t.TempDir(), "p.jsonl")
	os.WriteFile(p, []byte(strings.Repeat(" ", 2<<20)), 0o644)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "larger than the limit of 1 MB") {
		t.Fatalf("got %v", err)
	}
}
