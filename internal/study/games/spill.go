package games

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/prosim/prosim/internal/game"
)

// The public goods rounds played are kept out of memory (gamesStudy.spill): games.csv,
// punishments.csv and the statistics read every round's moves and payoffs after the last
// step, and holding them took about 200 bytes a decision. Each machine writes a round's record
// when the round ends (pgM.absorb) and remembers its span.

// Close removes the spill file: the study's results have been written (the runner closes a
// study that is an io.Closer with the run).
func (g *gamesStudy) Close() error { return g.spill.Close() }

// encodeRound appends a round's record: the game's record of it, bit for bit, and the model
// version (gamesStudy.intern's number) of each agent's contribution, in the order of
// rd.Agents.
func encodeRound(b []byte, rd *game.PGRound, versions []uint32) []byte {
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	f64 := func(v float64) { b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v)) }
	flag := func(v bool) {
		if v {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	b = binary.AppendVarint(b, int64(rd.Round))
	b = binary.AppendUvarint(b, uint64(len(rd.Agents)))
	for i, a := range rd.Agents {
		b = binary.AppendVarint(b, int64(a.Agent))
		b = binary.AppendVarint(b, int64(a.Group))
		flag(a.Valid)
		str(a.Reason)
		for _, v := range [...]float64{a.Contribution, a.Share, a.Stage1, a.PointsGiven, a.PointsReceived, a.Cost, a.Damage, a.Payoff} {
			f64(v)
		}
		b = binary.AppendUvarint(b, uint64(versions[i]))
	}
	b = binary.AppendUvarint(b, uint64(len(rd.Punishments)))
	for _, p := range rd.Punishments {
		b = binary.AppendVarint(b, int64(p.From))
		b = binary.AppendVarint(b, int64(p.To))
		f64(p.Points)
		flag(p.Valid)
		str(p.Reason)
	}
	return b
}

// decodeRound reads a record encodeRound wrote.
func decodeRound(b []byte) (rd game.PGRound, versions []uint32, err error) {
	bad := errors.New("public goods rounds: a record does not read back")
	ok := true
	varint := func() int {
		v, n := binary.Varint(b)
		if n <= 0 {
			ok = false
			return 0
		}
		b = b[n:]
		return int(v)
	}
	uvarint := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			ok = false
			return 0
		}
		b = b[n:]
		return v
	}
	f64 := func() float64 {
		if len(b) < 8 {
			ok = false
			return 0
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(b))
		b = b[8:]
		return v
	}
	flag := func() bool {
		if len(b) < 1 {
			ok = false
			return false
		}
		v := b[0] == 1
		b = b[1:]
		return v
	}
	str := func() string {
		n := uvarint()
		if !ok || uint64(len(b)) < n {
			ok = false
			return ""
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	rd.Round = varint()
	na := uvarint()
	if !ok || na > uint64(len(b)) {
		return rd, nil, bad
	}
	rd.Agents = make([]game.PGAgentRound, na)
	versions = make([]uint32, na)
	for i := range rd.Agents {
		a := &rd.Agents[i]
		a.Agent, a.Group, a.Valid, a.Reason = varint(), varint(), flag(), str()
		a.Contribution, a.Share, a.Stage1 = f64(), f64(), f64()
		a.PointsGiven, a.PointsReceived, a.Cost, a.Damage, a.Payoff = f64(), f64(), f64(), f64(), f64()
		versions[i] = uint32(uvarint())
	}
	np := uvarint()
	if !ok || np > uint64(len(b)) {
		return rd, nil, bad
	}
	if np > 0 {
		rd.Punishments = make([]game.PGPunishment, np)
	}
	for i := range rd.Punishments {
		p := &rd.Punishments[i]
		p.From, p.To, p.Points, p.Valid, p.Reason = varint(), varint(), f64(), flag(), str()
	}
	if !ok || len(b) != 0 {
		return rd, nil, bad
	}
	return rd, versions, nil
}
