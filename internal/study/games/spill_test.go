package games

import (
	"os"
	"reflect"
	"testing"

	"github.com/prosim/prosim/internal/game"
)

// A round's record reads back bit for bit, and the spill file is gone once closed.
func TestSpillRoundTrip(t *testing.T) {
	rd := &game.PGRound{Round: 3, Agents: []game.PGAgentRound{
		{Agent: 7, Group: 1, Valid: true, Contribution: 12.5, Share: 8.000000000000002, Stage1: 15.500000000000002, PointsGiven: 2, PointsReceived: 4, Cost: 2, Damage: 12, Payoff: 1.5000000000000018},
		{Agent: 9, Group: 0, Reason: "missing reply", Stage1: 20, Payoff: 20},
	}, Punishments: []game.PGPunishment{{From: 7, To: 9, Points: 2, Valid: true}, {From: 9, To: 7, Reason: "not a number: \"x\""}}}
	var s spill
	var spans []span
	for _, v := range [][]uint32{{1, 0}, {0, 2}} {
		sp, err := s.write(encodeRound(nil, rd, v))
		if err != nil {
			t.Fatal(err)
		}
		spans = append(spans, sp)
	}
	name := s.f.Name()
	for i, want := range [][]uint32{{1, 0}, {0, 2}} {
		b, err := s.read(spans[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		got, vs, err := decodeRound(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got, rd) || !reflect.DeepEqual(vs, want) {
			t.Errorf("record %d read back as %+v %v, want %+v %v", i, got, vs, *rd, want)
		}
	}
	if _, _, err := decodeRound(encodeRound(nil, rd, []uint32{1, 0})[:40]); err == nil {
		t.Error("a cut record read back without an error")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Errorf("spill file %s after Close: %v", name, err)
	}
	if _, err := s.read(spans[0], nil); err == nil {
		t.Error("a read after Close did not fail")
	}
}
