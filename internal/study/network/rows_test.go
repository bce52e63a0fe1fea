package network

import (
	"slices"
	"testing"
)

// A round's rows read back from their record as they were.
func TestRowsRecord(t *testing.T) {
	rows := []row{
		{w: 7, u: 1, affected: true, labelled: true, valid: true, version: 3},
		{w: -1, u: 0, rule: true, treated: true, reason: 70000},
		{},
	}
	got, err := decodeRows(encodeRows(nil, rows))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, rows) {
		t.Errorf("read back as %+v, want %+v", got, rows)
	}
	if _, err := decodeRows(encodeRows(nil, rows)[:rowSize+3]); err == nil {
		t.Error("a cut record read back without an error")
	}
}
