package experiment

import (
	"os"
	"testing"
)

// BenchmarkLoad: what reading the libraries an experiment names (and checking its scenarios
// and policies against them) adds to loading it. The run builds on what Load read
// (Experiment.Libraries).
func BenchmarkLoad(b *testing.B) {
	data, err := os.ReadFile("../../examples/study1.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("file-only", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := parse(data, "study1.yaml"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("with-libraries", func(b *testing.B) {
		for b.Loop() {
			if _, err := Parse(data, "study1.yaml"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
