package games

import (
	"encoding/binary"
	"errors"
	"maps"
	"math"
	"slices"

	"github.com/prosim/prosim/internal/game"
)

// The public goods rounds played are kept out of memory (gamesStudy.spill): games.csv,
// punishments.csv and the statistics read every round's moves and payoffs after the last
// step, and holding them took about 200 bytes a decision. Each machine writes a round's record
// when the round ends (pgM.absorb) and remembers its span.

// Close removes the spill file: the study's results have been written (the runner closes a
// study that is an io.Closer with the run).
func (g *gamesStudy) Close() error { return g.spill.Close() }

// recWriter appends a record's fields; recReader reads them back in the same order, and
// says at the end whether the record read whole.
type recWriter struct{ b []byte }

func (w *recWriter) int(v int)     { w.b = binary.AppendVarint(w.b, int64(v)) }
func (w *recWriter) uint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *recWriter) f64(v float64) { w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(v)) }
func (w *recWriter) str(s string)  { w.uint(uint64(len(s))); w.b = append(w.b, s...) }
func (w *recWriter) flag(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

type recReader struct {
	b   []byte
	bad bool
}

func (r *recReader) int() int {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *recReader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) f64() float64 {
	if len(r.b) < 8 {
		r.bad = true
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *recReader) flag() bool {
	if len(r.b) < 1 {
		r.bad = true
		return false
	}
	v := r.b[0] == 1
	r.b = r.b[1:]
	return v
}

func (r *recReader) str() string {
	n := r.uint()
	if r.bad || uint64(len(r.b)) < n {
		r.bad = true
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// count reads a number of items, each at least one byte long (a bad record cannot ask for
// more than it holds).
func (r *recReader) count() int {
	n := r.uint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return 0
	}
	return int(n)
}

// whole reports whether the record read whole, with nothing left over.
func (r *recReader) whole() bool { return !r.bad && len(r.b) == 0 }

// encodeRound appends a round's record: the game's record of it, bit for bit, and the model
// version (gamesStudy.intern's number) of each agent's contribution, in the order of
// rd.Agents.
func encodeRound(b []byte, rd *game.PGRound, versions []uint32) []byte {
	w := recWriter{b}
	w.int(rd.Round)
	w.uint(uint64(len(rd.Agents)))
	for i, a := range rd.Agents {
		w.int(a.Agent)
		w.int(a.Group)
		w.flag(a.Valid)
		w.str(a.Reason)
		for _, v := range [...]float64{a.Contribution, a.Share, a.Stage1, a.PointsGiven, a.PointsReceived, a.Cost, a.Damage, a.Payoff} {
			w.f64(v)
		}
		w.uint(uint64(versions[i]))
	}
	w.uint(uint64(len(rd.Punishments)))
	for _, p := range rd.Punishments {
		w.int(p.From)
		w.int(p.To)
		w.f64(p.Points)
		w.flag(p.Valid)
		w.str(p.Reason)
	}
	return w.b
}

// decodeRound reads a record encodeRound wrote.
func decodeRound(b []byte) (rd game.PGRound, versions []uint32, err error) {
	bad := errors.New("public goods rounds: a record does not read back")
	r := recReader{b: b}
	rd.Round = r.int()
	na := r.count()
	rd.Agents = make([]game.PGAgentRound, na)
	versions = make([]uint32, na)
	for i := range rd.Agents {
		a := &rd.Agents[i]
		a.Agent, a.Group, a.Valid, a.Reason = r.int(), r.int(), r.flag(), r.str()
		a.Contribution, a.Share, a.Stage1 = r.f64(), r.f64(), r.f64()
		a.PointsGiven, a.PointsReceived, a.Cost, a.Damage, a.Payoff = r.f64(), r.f64(), r.f64(), r.f64(), r.f64()
		versions[i] = uint32(r.uint())
	}
	if np := r.count(); np > 0 {
		rd.Punishments = make([]game.PGPunishment, np)
	}
	for i := range rd.Punishments {
		p := &rd.Punishments[i]
		p.From, p.To, p.Points, p.Valid, p.Reason = r.int(), r.int(), r.f64(), r.flag(), r.str()
	}
	if !r.whole() {
		return rd, nil, bad
	}
	return rd, versions, nil
}

// encodeMoves appends the record of a one-shot game's moves (a finished machine's: the
// dictators', or a pair game's first and second movers'), each map by agent id in id order,
// model versions by gamesStudy.intern's number.
func (g *gamesStudy) encodeMoves(b []byte, ms ...map[int]move) []byte {
	w := recWriter{b}
	w.uint(uint64(len(ms)))
	for _, m := range ms {
		w.uint(uint64(len(m)))
		for _, id := range slices.Sorted(maps.Keys(m)) {
			mv := m[id]
			w.int(id)
			w.flag(mv.asked)
			w.flag(mv.valid)
			w.f64(mv.value)
			w.str(mv.reason)
			w.uint(uint64(g.intern(mv.version)))
		}
	}
	return w.b
}

// decodeMoves reads a record encodeMoves wrote.
func (g *gamesStudy) decodeMoves(b []byte) ([]map[int]move, error) {
	r := recReader{b: b}
	out := make([]map[int]move, r.count())
	for i := range out {
		n := r.count()
		out[i] = make(map[int]move, n)
		for range n {
			id := r.int()
			mv := move{asked: r.flag(), valid: r.flag(), value: r.f64(), reason: r.str()}
			if v := r.uint(); v < uint64(len(g.strs)) {
				mv.version = g.strs[v]
			} else {
				r.bad = true
			}
			out[i][id] = mv
		}
	}
	if !r.whole() {
		return nil, errors.New("game moves: a record does not read back")
	}
	return out, nil
}
