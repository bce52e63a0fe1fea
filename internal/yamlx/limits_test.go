package yamlx

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml/lexer"
)

func TestLimitsBeforeParsing(t *testing.T) {
	cases := map[string]struct{ data, want string }{
		"flow":   {"a: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n", "1:67: lists and mappings nested more than 64 deep"},
		"block":  {"a:\n" + strings.Repeat("- ", 100000) + "x\n", "2:129: lists and mappings nested more than 64 deep"},
		"laughs": {laughs(), "aliases (*name) here and before expand to more than 100000 values"},
		"wide":   {"a: &x [" + strings.Repeat("1, ", 2000) + "1]\nb: [" + strings.Repeat("*x, ", 100) + "*x]\n", "2:"},
	}
	for name, c := range cases {
		// The limits must act before a parser builds the nesting (which took 15 GB on a 200 KB
		// file): bound what refusing it allocates. Memory, not time: this must hold on a busy machine.
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var v any
		err := Decode([]byte(c.data), "f.yaml", &v)
		if err == nil || !strings.Contains(err.Error(), "f.yaml:"+c.want) && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
		if _, err := Parse([]byte(c.data), "f.yaml"); err == nil {
			t.Errorf("%s: Parse accepted it", name)
		}
		runtime.ReadMemStats(&after)
		if a := after.TotalAlloc - before.TotalAlloc; a > 256<<20 {
			t.Errorf("%s: refusing it allocated %d MB", name, a>>20)
		}
	}
	var v map[string]any
	if err := Decode([]byte("a: [[1, {b: [2]}]]\nc:\n  - - d: 1\n"), "ok.yaml", &v); err != nil {
		t.Errorf("ordinary nesting refused: %v", err)
	}
}

func TestReadFileLimitAndBOM(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.yaml")
	if err := os.WriteFile(p, []byte("\ufeffname: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var v struct{ Name string }
	if err := DecodeFile(p, &v); err != nil || v.Name != "x" {
		t.Fatalf("BOM: %v, %+v", err, v)
	}
	if err := Decode([]byte("\ufeffname: y\n"), "b.yaml", &v); err != nil || v.Name != "y" {
		t.Fatalf("BOM in Decode: %v", err)
	}
	defer func(n int64) { MaxFileBytes = n }(MaxFileBytes)
	MaxFileBytes = 8
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), "larger than the limit of 8 bytes") {
		t.Fatalf("limit: %v", err)
	}
	MaxFileBytes = 1 << 20
	start := time.Now()
	// A device that never ends is refused in its first block (zero bytes), not read to the limit.
	if _, err := ReadFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not UTF-8 text (binary data at byte 1)") || time.Since(start) > 2*time.Second {
		t.Fatalf("/dev/zero: %v", err)
	}
}

// Limits are powers of two and are said so: 16 MiB, not "16 MB" (10^6 bytes each).
func TestSizeWord(t *testing.T) {
	for n, want := range map[int64]string{16 << 20: "16 MiB", 256 << 20: "256 MiB", 1 << 30: "1 GiB", 3 << 29: "1536 MiB", 1000: "1000 bytes", 1<<20 + 1: "1048577 bytes"} {
		if got := SizeWord(n); got != want {
			t.Errorf("SizeWord(%d) = %q, want %q", n, got, want)
		}
	}
}

// Several documents in one file are an error at the second one's ---, for every file prosim
// reads (the first alone was decoded, the rest dropped); a leading --- or a comment is fine.
func TestSeveralDocuments(t *testing.T) {
	if err := CheckLimits([]byte("---\n# c\nname: a\n"), "one.yaml"); err != nil {
		t.Fatalf("one document: %v", err)
	}
	err := CheckLimits([]byte("name: a\nstudy: b\n---\nname: c\n---\nname: d\n"), "e.yaml")
	if err == nil || !strings.Contains(err.Error(), "e.yaml:3") || !strings.Contains(err.Error(), "3 YAML documents") {
		t.Fatalf("want an error at e.yaml:3 about 3 documents, got %v", err)
	}
	var v map[string]any
	if err := Decode([]byte("name: a\n---\nname: c\n"), "d.yaml", &v); err == nil || !strings.Contains(err.Error(), "d.yaml:2") {
		t.Fatalf("Decode: want an error at d.yaml:2, got %v", err)
	}
}

// laughs is the "billion laughs" file: ten levels of ten aliases to the level below, 10^9
// values in under 1 KB.
func laughs() string {
	var b strings.Builder
	b.WriteString("l0: &l0 [lol]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [%s*l%d]\n", i, i, strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 9), i-1)
	}
	return b.String()
}

// Aliases are fine in any number while their expansion stays small: the bound is on what they
// stand for, not on how many there are.
func TestManySmallAliases(t *testing.T) {
	src := "a: &x {k: 1}\nb: [" + strings.Repeat("*x, ", 5000) + "*x]\n"
	var v map[string]any
	if err := Decode([]byte(src), "ok.yaml", &v); err != nil {
		t.Fatalf("5001 aliases to a small anchor refused: %v", err)
	}
	if n := len(v["b"].([]any)); n != 5001 {
		t.Fatalf("%d values, want 5001", n)
	}
}

// A file of more than MaxTokens tokens is refused before it is parsed (a 15 MB list of
// 900,000 entries took 1.4 GB and 12-20 s to parse four times over).
func TestMaxTokens(t *testing.T) {
	defer func(n int) { MaxTokens = n }(MaxTokens)
	MaxTokens = 1000
	data := "a:\n" + strings.Repeat("  - x\n", 600)
	err := CheckLimits([]byte(data), "f.yaml")
	if err == nil || err.Error() != "f.yaml:501:3: more than 1000 YAML tokens (keys, values, and - : , [ ] { } each count): not read; no prosim file comes near" {
		t.Errorf("got %v", err)
	}
	if err := CheckLimits([]byte("a:\n"+strings.Repeat("  - x\n", 400)), "f.yaml"); err != nil {
		t.Errorf("803 tokens: %v", err)
	}
}

// A file over MaxTokens is refused from a scan of its bytes, before the lexer makes its
// tokens (a one-line list of 1.2 million entries took 8.9 s and 620 MB to refuse), and the
// scan's count is never below the lexer's, so that what passes it is bounded.
func TestMaxTokensBeforeLexing(t *testing.T) {
	data := []byte("name: big\nstudy: vignettes\nscenarios: [" + strings.Repeat("a,", 1_200_000) + "a]\n")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := CheckLimits(data, "t.yaml")
	runtime.ReadMemStats(&after)
	if err == nil || !strings.HasPrefix(err.Error(), "t.yaml:3:") || !strings.Contains(err.Error(), "more than 1000000 YAML tokens") {
		t.Fatalf("got %v", err)
	}
	if a := after.TotalAlloc - before.TotalAlloc; a > 1<<20 {
		t.Errorf("refusing it allocated %d KB", a>>10)
	}
	// Exact for plain lists and mappings: the limit's half a million list entries pass.
	for _, src := range []string{"a: [" + strings.Repeat("x1, ", 9) + "x]\n", "a:\n" + strings.Repeat("  - de-003\n", 10), "a: {b: c, d: 1}\n"} {
		if n, _, _ := countTokens([]byte(src), math.MaxInt); n != lexed(src) {
			t.Errorf("%q: counted %d, the lexer makes %d", src, n, lexed(src))
		}
	}
}

// lexed is the number of tokens the YAML lexer makes of src.
func lexed(src string) int { return len(lexer.Tokenize(src)) }

// The byte count is an upper bound of the lexer's for every YAML file of the repository and
// for whatever the fuzzer makes of them.
func FuzzCountTokens(f *testing.F) {
	for _, s := range []string{"x: &a !!str foo\ny: *a\nz: |\n  hi, 'there\n  - x: y\nw: >-\n  a\n  b\n# c\n---\n? k\n: v\n",
		"a: {\"b\":1, 'c': [d]}\n", "a: \"x\"y\n", "- - -1\n--- a\n...\n", "%YAML 1.2\n---\n!t &a [*a, @x, `y]\n", "a: 'it''s' # c, d\n"} {
		f.Add(s)
	}
	filepath.WalkDir("../..", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			if b, err := os.ReadFile(p); err == nil && len(b) < 1<<20 {
				f.Add(string(b))
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, src string) {
		if n, _, _ := countTokens([]byte(src), math.MaxInt); n < lexed(src) {
			t.Errorf("%q: counted %d, the lexer makes %d", src, n, lexed(src))
		}
	})
}

// An unknown field in a file with a long inline list: the message is built from the decoder's
// structured error, never from go-yaml's Error(), which prints the tokens around the error by
// concatenating strings (quadratic: 40,000 ids took 27 s and gigabytes of garbage).
func TestUnknownFieldBesideALongListIsLinear(t *testing.T) {
	ids := make([]string, 20000)
	for i := range ids {
		ids[i] = strconv.Itoa(i + 1)
	}
	data := []byte("ids: [" + strings.Join(ids, ", ") + "]\nnmae: x\n")
	var v struct {
		IDs  []int  `yaml:"ids"`
		Name string `yaml:"name"`
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := Decode(data, "long.yaml", &v)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "long.yaml:2:1: field nmae: unknown field") {
		t.Fatalf("err = %v", err)
	}
	// Linear work allocates a few tens of MB here; the quadratic printing allocated over 1 GB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 200<<20 {
		t.Errorf("decoding a 20,000-id list beside an unknown field allocated %d MB", alloc>>20)
	}
}
