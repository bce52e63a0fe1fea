package persona

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// A JSON array is located in one forward pass: reading it costs a small multiple of decoding
// it with encoding/json, also on one long line (counting lines from byte 0 for every element
// made 20,000 personas on one line take 36 s of CPU, 0.6 s in one pass).
func TestReadJSONLinearTime(t *testing.T) {
	if testing.Short() {
		t.Skip("times a 3 MB file")
	}
	ps, err := Sample(8000, 1, SampleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	fastest := func(f func()) time.Duration {
		best := time.Duration(math.MaxInt64)
		for range 3 {
			start := time.Now()
			f()
			best = min(best, time.Since(start))
		}
		return best
	}
	decode := fastest(func() {
		var out []Persona
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatal(err)
		}
	})
	read := fastest(func() {
		if _, err := ReadJSON(bytes.NewReader(data), "p.json"); err != nil {
			t.Fatal(err)
		}
	})
	if read > 20*decode {
		t.Errorf("ReadJSON took %v, %.0f times json.Unmarshal's %v (want at most 20)", read, float64(read)/float64(decode), decode)
	}
}
