package yamlx

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"
)

func utf16LE(s string, bom bool) string {
	var b []byte
	if bom {
		b = []byte{0xFF, 0xFE}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b)
}

func TestTextRefusesWhatIsNotUTF8(t *testing.T) {
	yaml := "name: study1\nstudy: vignettes\n"
	long := strings.Repeat("# a comment line that is plain ASCII text\n", 200) // past the first block
	cases := map[string]struct{ data, want string }{
		"utf16 bom":    {utf16LE(yaml, true), "f.yaml: not UTF-8 text (looks like UTF-16: save it as UTF-8)"},
		"utf16 be bom": {"\xFE\xFF\x00n\x00a", "f.yaml: not UTF-8 text (looks like UTF-16: save it as UTF-8)"},
		"utf16 no bom": {utf16LE(yaml, false), "f.yaml: not UTF-8 text (looks like UTF-16: save it as UTF-8)"},
		"utf32 bom":    {"\xFF\xFE\x00\x00n\x00\x00\x00", "f.yaml: not UTF-8 text (looks like UTF-32: save it as UTF-8)"},
		"png":          {"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", "f.yaml: not UTF-8 text (binary data at byte 1)"},
		"gzip":         {"\x1f\x8b\x08\x00", "f.yaml: not UTF-8 text (binary data at byte 1)"},
		"nul":          {"name: x\x00\x00\n", "f.yaml: not UTF-8 text (binary data at byte 8)"},
		"latin-1":      {"name: s1\ntitle: caf\xe9\n", "f.yaml:2:11: not UTF-8 text (byte 0xE9: save the file as UTF-8)"},
		"latin-1 late": {long + "title: \xe9t\xe9\n", "f.yaml:201:8: not UTF-8 text (byte 0xE9: save the file as UTF-8)"},
		"cut at end":   {"title: \xd8", "f.yaml:1:8: not UTF-8 text (byte 0xD8: save the file as UTF-8)"},
		// A stray control character in text is placed (QA: "binary data at byte 65").
		"escape": {"name: s1\nstudy: vignettes\ntitle: caf\x1b[0m\n", "f.yaml:3:11: not UTF-8 text (control character U+001B: remove it)"},
	}
	for name, c := range cases {
		// One byte at a time too: a character split between reads is whole, a bad byte found.
		for _, r := range []io.Reader{strings.NewReader(c.data), iotest.OneByteReader(strings.NewReader(c.data))} {
			got, err := io.ReadAll(Text(r, "f.yaml"))
			var e *Error
			if !errors.As(err, &e) || err.Error() != c.want {
				t.Errorf("%s: %v, want %s", name, err, c.want)
				continue
			}
			// The bytes before a bad one are read.
			if i := strings.IndexAny(c.data, "\xd8\xe9"); e.Line > 0 && i >= 0 && string(got) != c.data[:i] {
				t.Errorf("%s: read %q before the error", name, got)
			}
		}
	}
}

func TestTextPassesUTF8(t *testing.T) {
	// Arabic, a right-to-left override and a UTF-8 byte order mark are text; a character
	// may straddle reads (OneByteReader) or the end of the first block.
	data := "\ufeffname: " + strings.Repeat("ب", textBlock) + "\ntitle: \"a\u202eb\"\tx\r\n"
	for _, r := range []io.Reader{strings.NewReader(data), iotest.OneByteReader(strings.NewReader(data)), iotest.HalfReader(strings.NewReader(data))} {
		got, err := io.ReadAll(Text(r, "f.yaml"))
		if err != nil || string(got) != data {
			t.Fatalf("%v, read %d of %d bytes", err, len(got), len(data))
		}
	}
	if got, err := io.ReadAll(Text(strings.NewReader(""), "f.yaml")); err != nil || len(got) != 0 {
		t.Errorf("empty: %q, %v", got, err)
	}
}

func TestReadFileRefusesBinary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "img.yaml")
	if err := os.WriteFile(path, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	if want := path + ": not UTF-8 text (binary data at byte 1)"; err == nil || err.Error() != want {
		t.Errorf("%v, want %s", err, want)
	}
}
