package persona

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// A population file that is not UTF-8 text is refused in one line before a parser sees it
// (a spreadsheet's "Unicode text" was 38 problems of columns named "\xff\xfei\x00d\x00"), and
// a byte that is not UTF-8 later in the file is a problem at its line.
func TestLoadRefusesWhatIsNotUTF8(t *testing.T) {
	ps, err := Sample(600, 3, SampleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var csv, jsonl bytes.Buffer
	if err := WriteCSV(&csv, ps); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSONL(&jsonl, ps); err != nil {
		t.Fatal(err)
	}
	utf16le := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(csv.String())) {
		utf16le = append(utf16le, byte(u), byte(u>>8))
	}
	// Latin-1 on line 500, well past the first block: "café" with é as one byte.
	latin1 := func(b []byte) []byte {
		lines := bytes.SplitAfter(bytes.Clone(b), []byte("\n"))
		lines[499] = bytes.Replace(lines[499], []byte(`"id":500`), []byte("\"id\":500,\"occupation\":\"caf\xe9\""), 1)
		if !bytes.Contains(lines[499], []byte("\xe9")) { // CSV: the occupation cell
			lines[499] = append([]byte("500,caf\xe9"), lines[499][bytes.IndexByte(lines[499], ','):]...)
		}
		return bytes.Join(lines, nil)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"p16.csv", utf16le, "p16.csv: not UTF-8 text (looks like UTF-16: save it as UTF-8)"},
		{"png.jsonl", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), "png.jsonl: not UTF-8 text (binary data at byte 1)"},
		{"zip.json", []byte("PK\x03\x04\x14\x00"), "zip.json: not UTF-8 text (binary data at byte 3)"},
		{"lat.csv", latin1(csv.Bytes()), "lat.csv:500:8: not UTF-8 text (byte 0xE9: save the file as UTF-8)"},
		{"lat.jsonl", latin1(jsonl.Bytes()), "lat.jsonl:500:"},
	} {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, c.want)) || strings.Contains(err.Error(), "problems") {
			t.Errorf("%s: %v, want %s alone", c.name, err, c.want)
		}
	}
}

// JSON nested past the bound is said to be so, where it is (it was "not a JSON object" for a
// JSONL row, encoding/json's "exceeded max depth" for a .json file).
func TestJSONNestedTooDeep(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	want := "nested more than 64 deep: not read"
	_, err := ReadJSONL(strings.NewReader("\n"+`{"id":1,"x":`+deep+"}\n"), "p.jsonl")
	if err == nil || !strings.Contains(err.Error(), "p.jsonl:2:328: arrays and objects "+want) {
		t.Errorf("JSONL: %v", err)
	}
	_, err = ReadJSON(strings.NewReader("\n "+strings.Repeat("[", 200000)+strings.Repeat("]", 200000)), "p.json")
	if err == nil || !strings.Contains(err.Error(), "p.json:2:66: arrays and objects "+want) {
		t.Errorf("JSON: %v", err)
	}
	// A string's brackets are not nesting.
	if got := deepAt([]byte(`{"a":"` + strings.Repeat(`[\"`, 100) + `"}`)); got != -1 {
		t.Errorf("deepAt of a string of brackets: %d", got)
	}
}
