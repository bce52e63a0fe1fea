package games

import (
	"reflect"
	"testing"

	"github.com/prosim/prosim/internal/game"
)

// A round's record reads back bit for bit; a cut one does not read.
func TestRoundRecord(t *testing.T) {
	rd := &game.PGRound{Round: 3, Agents: []game.PGAgentRound{
		{Agent: 7, Group: 1, Valid: true, Contribution: 12.5, Share: 8.000000000000002, Stage1: 15.500000000000002, PointsGiven: 2, PointsReceived: 4, Cost: 2, Damage: 12, Payoff: 1.5000000000000018},
		{Agent: 9, Group: 0, Reason: "missing reply", Stage1: 20, Payoff: 20},
	}, Punishments: []game.PGPunishment{{From: 7, To: 9, Points: 2, Valid: true}, {From: 9, To: 7, Reason: "not a number: \"x\""}}}
	b := encodeRound(nil, rd, []uint32{1, 0})
	got, vs, err := decodeRound(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, rd) || !reflect.DeepEqual(vs, []uint32{1, 0}) {
		t.Errorf("read back as %+v %v, want %+v [1 0]", got, vs, *rd)
	}
	if _, _, err := decodeRound(b[:40]); err == nil {
		t.Error("a cut record read back without an error")
	}
}

// A one-shot game's moves (keep) read back as they were, model versions included; a cut or
// padded record is an error.
func TestMovesRecord(t *testing.T) {
	g := &gamesStudy{}
	first := map[int]move{3: {asked: true, valid: true, value: 0.1 + 0.2, version: "m-2024"}, 1: {asked: true, reason: "no answer: \"x\""}}
	second := map[int]move{4: {asked: true, valid: true, value: 7, version: "m-2025"}}
	b := g.encodeMoves(nil, first, second, map[int]move{})
	got, err := g.decodeMoves(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := []map[int]move{first, second, {}}; !reflect.DeepEqual(got, want) {
		t.Errorf("read back as %+v, want %+v", got, want)
	}
	if _, err := g.decodeMoves(b[:len(b)-1]); err == nil {
		t.Error("a cut record read back without an error")
	}
	if _, err := g.decodeMoves(append(b, 0)); err == nil {
		t.Error("a padded record read back without an error")
	}
}
