package spill

import (
	"os"
	"testing"
)

// Records read back by their spans, and the file is gone once closed.
func TestFile(t *testing.T) {
	s := File{What: "test records"}
	recs := []string{"first", "", "third record"}
	var spans []Span
	for _, r := range recs {
		sp, err := s.Write([]byte(r))
		if err != nil {
			t.Fatal(err)
		}
		spans = append(spans, sp)
	}
	name := s.Name()
	var buf []byte
	for i := len(recs) - 1; i >= 0; i-- {
		b, err := s.Read(spans[i], buf)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != recs[i] {
			t.Errorf("record %d read back as %q, want %q", i, b, recs[i])
		}
		buf = b
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Errorf("spill file %s after Close: %v", name, err)
	}
	if _, err := s.Read(spans[0], nil); err == nil {
		t.Error("a read after Close did not fail")
	}
}
