package network

import (
	"strings"
	"testing"
)

// A line of many short fields is split in time linear in its length (columns are counted on,
// not from the line's start for each field).
func BenchmarkSplitFieldsLongLine(b *testing.B) {
	line := "1,2" + strings.Repeat(",x", 200000)
	var fields []string
	var cols []int
	for b.Loop() {
		fields, cols, _ = splitFields(fields[:0], cols[:0], line, ',')
	}
	if len(fields) != 200002 || cols[len(cols)-1] != 2*200001+1 {
		b.Fatalf("%d fields, last column %d", len(fields), cols[len(cols)-1])
	}
}
