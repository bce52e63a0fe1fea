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

// encodeRows appends the records of rows, as encodeRound does a world's.
func encodeRows(b []byte, rows []row) []byte {
	for _, x := range rows {
		b = appendRow(b, x)
	}
	return b
}

// A round's observation counts read back as the world held them, with spread_from affected and
// without: the exposures count the affected neighbours either way, affected only with it.
func TestObsRecord(t *testing.T) {
	for _, spread := range []bool{true, false} {
		c := &nbCounts{rated: []uint8{0, 2, hubDegree}, treated: []uint8{0, 1, 0}, other: []uint8{0, 1, 0}, sum: make([]int16, 3),
			hubs: map[int32]*hubCounts{2: {rated: 300, treated: 69995, other: 5}}, spread: spread}
		w := &world{n: 3, cnt: c}
		b := w.encodeObs(nil)
		got, err := decodeObs(b, 3, spread)
		want := []obsCounts{{}, {rated: 2, treated: 1, exposures: 2}, {rated: 300, treated: 69995, exposures: 70000}}
		if spread {
			want[1].affected, want[2].affected = 1, 5
		}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("spread %v: read back as %+v, %v; want %+v", spread, got, err, want)
		}
		if _, err := decodeObs(b[:len(b)-1], 3, spread); err == nil {
			t.Errorf("spread %v: a cut record read back without an error", spread)
		}
	}
}
