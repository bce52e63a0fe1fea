package persona

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/prosim/prosim/internal/yamlx"
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
	if err := os.WriteFile(p, []byte(strings.Repeat(" ", 2<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	// A regular file is refused by its size, before it is read.
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "p.jsonl: file is larger than the limit of 1 MiB (2 MiB)") {
		t.Fatalf("got %v", err)
	}
	// A stream (a pipe) is cut at the limit.
	r := &yamlx.Capped{R: strings.NewReader(strings.Repeat(" ", 2<<20)), Left: MaxFileBytes, Limit: MaxFileBytes}
	if _, err := ReadJSONL(r, "p.jsonl"); err == nil || !strings.Contains(err.Error(), "file is larger than the limit of 1 MiB") {
		t.Fatalf("got %v", err)
	}
}

func TestCSVRowLimit(t *testing.T) {
	defer func(n int) { MaxLineBytes = n }(MaxLineBytes)
	MaxLineBytes = 300
	header := "id,gender,age,marital,annual_income,currency,education,occupation," + traitHeader + "\n"
	row := "1,female,33,married,1,yuan,college,\"night\nnurse\",3,3,3,3,3,3,3,3,3\n" // a newline inside quotes
	ps, err := ReadCSV(strings.NewReader(header+row), "p.csv")
	if err != nil || ps[0].Occupation != "night\nnurse" {
		t.Fatalf("got %v, %v", ps, err)
	}
	for _, c := range []struct{ in, want string }{
		{header + row + "2,female,33," + strings.Repeat("x", 400) + "\n", "p.csv:4: row is longer than the limit of 300 bytes"},
		// A quoted field's newlines do not end the row: it is located at its first line.
		{header + row + "2,female,33,\"" + strings.Repeat("x\n", 200) + "\"\n", "p.csv:4: row is longer than the limit of 300 bytes"},
		{"id," + strings.Repeat("y", 400) + "\n", "p.csv:1: row is longer than the limit of 300 bytes"},
	} {
		if _, err := ReadCSV(strings.NewReader(c.in), "p.csv"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

func TestMessagesClipNamesAndValues(t *testing.T) {
	long := strings.Repeat("y", 1000)
	in := "id,gender,age,marital,annual_income,currency,education,occupation," + traitHeader + "," + long + ",\x00\xff\n" +
		"1,female," + long + ",married,1,yuan,college,nurse,3,3,3,3,3,3,3,3,3,1,2\n"
	_, err := ReadCSV(strings.NewReader(in), "p.csv")
	y40 := strings.Repeat("y", 40) + "..."
	for _, w := range []string{
		"field " + y40 + ": unknown column",
		`field "\x00\xff": unknown column`,
		`field age: "` + y40 + `" is not a whole number`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("want %q in:\n%v", w, err)
		}
	}
	if err != nil && len(err.Error()) > 2000 {
		t.Errorf("message of %d bytes", len(err.Error()))
	}
	_, err = ReadJSONL(strings.NewReader(`{"id": 1, "`+long+`": 2, "gender": "`+long+`", "age": ["`+long+`"]}`), "p.jsonl")
	for _, w := range []string{"field " + y40 + ": unknown field", `unknown gender "` + y40 + `"`, `field age: ["` + long[:38] + `... is not a number`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("want %q in:\n%v", w, err)
		}
	}
}

// BenchmarkReadJSON times ReadJSON against json.Unmarshal of the same 8,000 personas and
// reports the ratio (x_unmarshal): locating elements was quadratic (36 s of CPU for 20k
// personas), now one forward pass, about 5x Unmarshal. A speed target, so a benchmark, not a
// timed test.
func BenchmarkReadJSON(b *testing.B) {
	ps, err := Sample(8000, 1, SampleOptions{})
	if err != nil {
		b.Fatal(err)
	}
	data, err := json.Marshal(ps)
	if err != nil {
		b.Fatal(err)
	}
	var decode, read time.Duration
	for b.Loop() {
		start := time.Now()
		var out []Persona
		if err := json.Unmarshal(data, &out); err != nil {
			b.Fatal(err)
		}
		decode += time.Since(start)
		start = time.Now()
		if _, err := ReadJSON(bytes.NewReader(data), "p.json"); err != nil {
			b.Fatal(err)
		}
		read += time.Since(start)
	}
	b.ReportMetric(float64(read)/float64(decode), "x_unmarshal")
}

// Loading a file keeps one copy of each persona and not its line: the text of the file's
// fields is shared, and the slice is sized from the file's size instead of grown by copies.
func TestLoadMemory(t *testing.T) {
	ps, err := Sample(20000, 1, SampleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "p.csv")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(f, ps); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	got, err := Load(p)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	perPersona := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(got))
	t.Logf("%.0f bytes allocated a persona (a Persona is %d)", perPersona, unsafe.Sizeof(Persona{}))
	if perPersona > 1000 {
		t.Errorf("Load allocated %.0f bytes a persona, want at most 1000 (2087 when each row was kept whole and the slices grown by copies)", perPersona)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Currency == got[0].Currency && unsafe.StringData(got[i].Currency) != unsafe.StringData(got[0].Currency) {
			t.Fatalf("personas 1 and %d hold their own copies of currency %q", i+1, got[0].Currency)
		}
	}
}
