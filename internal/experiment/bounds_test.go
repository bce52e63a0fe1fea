package experiment

import (
	"strings"
	"testing"
)

func TestReplicatesZeroAndBOM(t *testing.T) {
	if _, err := Parse([]byte(good+"replicates: 0\n"), "exp.yaml"); err == nil || !strings.Contains(err.Error(), "field replicates: 0 is out of range") {
		t.Fatalf("replicates 0: %v", err)
	}
	e, err := Parse([]byte("\ufeff"+good), "exp.yaml")
	if err != nil || e.Replicates != 1 {
		t.Fatalf("BOM: %v", err)
	}
}
