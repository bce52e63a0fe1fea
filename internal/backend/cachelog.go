package backend

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"math"
	"math/bits"
	"os"
	"slices"
	"sync"
	"sync/atomic"
)

// LogStore is a CacheStore for one process's private cache (a run's own under --no-cache,
// internal/engine/runcache.go). Almost every key a run looks up was never stored, and
// almost every reply it stores is never asked for again, so both must cost next to nothing:
//
//   - the replies are appended to a log file, one write(2) per batch (SQLiteStore's table of
//     random keys dirties a random page per insert, written again to the WAL and at
//     checkpoint: 58 µs of CPU a reply against 0.6 to append it, 100,000 replies);
//   - in-memory Bloom filters of the stored keys (about 1.5 to 3 bytes a key) answer a key
//     never stored without reading a file;
//   - a key the filters may hold is found through a hash index on disk (its own file, built
//     again from the log at every open; its slots written logUnwritten at a time, the latest
//     looked up in memory) and checked whole against the record.
//
// The index and filters grow by levels, each twice the size of the one before, so none is
// ever rebuilt: the n-th key stored goes to the level being filled, and a look-up checks each
// level's filter. The log is the truth: a record is written before it is indexed, and the log
// is cut off at a torn or damaged record (its length or CRC wrong: a write cut by a crash of
// the machine) at the next open, with a warning. Like the replies queued in a Cache, what the kernel had not written when the
// machine stopped is lost; a process that dies loses nothing written. One process at a time.
type LogStore struct {
	log, idx *os.File
	idxPath  string

	wmu  sync.Mutex // one Put at a time
	end  int64      // the log's size (under wmu)
	buf  []byte     // Put's records (under wmu)
	seen map[Key]struct{}

	mu     sync.RWMutex // index slots: written under mu, probed under its read lock
	levels atomic.Pointer[[]*logLevel]
	// The slots given but not yet written (under mu), and their keys' records: written
	// together, logUnwritten at a time, each page of the index once.
	unwritten []idxSlot
	recent    map[Key]int64
	idxSize   int64
	n         atomic.Int64

	reads atomic.Int64 // file reads by look-ups (for tests: a miss reads none)
}

// logLevel is one level of the index and filters: keys [first, first+cap) in storing order.
type logLevel struct {
	base  int64  // its first slot in the index file
	slots uint64 // 2 x cap: linear probing at load <= 1/2
	cap   int64
	n     int64    // keys in it (under LogStore.mu)
	used  []uint64 // its slots that hold a key (under LogStore.mu)
	bloom []uint64
	m     uint64 // bits
}

const (
	logHeader   = 8 + 32 // payload length, CRC-32C of key and payload, key
	slotSize    = 16     // key prefix, record offset + 1 (0: empty)
	bloomBits   = 12     // bits a key: false positives about 0.3% a level
	bloomProbes = 8
	probeWindow = 16 // slots read at once
)

// logLevel0 is the first level's capacity; later levels double it.
var logLevel0 int64 = 4096

// logUnwritten is how many index slots wait in memory (about 60 bytes each) to be written at
// once: a page of the index that gets two or more is read and written once (two system
// calls), not written once a slot. It pays while a level has fewer than logUnwritten/2 pages
// (levels up to 262,144 keys); in larger ones a page mostly gets one slot, written alone.
var logUnwritten = 4096

// idxSlot is an index slot to write: its place in the file (in slots), prefix and offset + 1.
type idxSlot struct{ at, prefix, off uint64 }

const idxPage = 4096

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// OpenLogStore opens (creating if needed) the log at path, its index at idxPath (made again
// from the log) and fills the filters from the log.
func OpenLogStore(path, idxPath string) (*LogStore, error) {
	log, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("reply cache: %w", err)
	}
	idx, err := os.OpenFile(idxPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		log.Close()
		return nil, fmt.Errorf("reply cache: %w", err)
	}
	s := &LogStore{log: log, idx: idx, idxPath: idxPath, seen: map[Key]struct{}{}, recent: map[Key]int64{}}
	s.levels.Store(&[]*logLevel{})
	if err := s.load(path); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// load indexes the log's records, and cuts the log off at a torn or damaged one.
func (s *LogStore) load(path string) error {
	fi, err := s.log.Stat()
	if err != nil {
		return fmt.Errorf("reply cache %s: %w", path, err)
	}
	size := fi.Size()
	r := bufio.NewReaderSize(io.NewSectionReader(s.log, 0, size), 1<<20)
	var (
		off  int64
		head [logHeader]byte
		body []byte
	)
	for off < size {
		_, err := io.ReadFull(r, head[:])
		var k Key
		ok := err == nil
		if ok {
			k = Key(head[8:])
			n := int64(binary.LittleEndian.Uint32(head[0:]))
			ok = off+logHeader+n <= size
			if ok {
				if int64(cap(body)) < n {
					body = make([]byte, n)
				}
				body = body[:n]
				_, err = io.ReadFull(r, body)
				ok = err == nil && crc(k, body) == binary.LittleEndian.Uint32(head[4:])
			}
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			return fmt.Errorf("reply cache %s: %w", path, err)
		}
		if !ok {
			slog.Warn("reply cache: the log is cut off at a torn or damaged record (a write cut by a crash); the replies from there on will be asked again",
				"file", path, "offset", off, "bytes", size-off)
			if err := s.log.Truncate(off); err != nil {
				return fmt.Errorf("reply cache %s: %w", path, err)
			}
			break
		}
		s.mu.Lock()
		err = s.index(k, off)
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("reply cache %s: %w", path, err)
		}
		off += int64(logHeader + len(body))
	}
	s.end = off
	return nil
}

func crc(k Key, body []byte) uint32 {
	return crc32.Update(crc32.Checksum(k[:], castagnoli), castagnoli, body)
}

// index adds the record of k at off to the level being filled (under mu), and k to its filter.
func (s *LogStore) index(k Key, off int64) error {
	lv := *s.levels.Load()
	if len(lv) == 0 || lv[len(lv)-1].n == lv[len(lv)-1].cap {
		c, base := logLevel0, int64(0)
		if len(lv) > 0 {
			last := lv[len(lv)-1]
			c, base = 2*last.cap, last.base+int64(last.slots)
		}
		l := &logLevel{base: base, slots: uint64(2 * c), cap: c, m: uint64(bloomBits * c)}
		l.bloom = make([]uint64, (l.m+63)/64)
		l.used = make([]uint64, (l.slots+63)/64)
		// The level's slots read as zeros (empty) until written; the file is whole pages.
		if size := ((base+int64(l.slots))*slotSize + idxPage - 1) / idxPage * idxPage; size > s.idxSize {
			if err := s.idx.Truncate(size); err != nil {
				return err
			}
			s.idxSize = size
		}
		lv = append(append(make([]*logLevel, 0, len(lv)+1), lv...), l)
		s.levels.Store(&lv)
	}
	l := lv[len(lv)-1]
	prefix := binary.LittleEndian.Uint64(k[:8])
	pos := home(prefix, l.slots)
	for l.isUsed(pos) { // load <= 1/2: there is a free slot
		pos = (pos + 1) % l.slots
	}
	s.unwritten = append(s.unwritten, idxSlot{uint64(l.base) + pos, prefix, uint64(off) + 1})
	s.recent[k] = off
	l.used[pos/64] |= 1 << (pos % 64)
	l.n++
	s.n.Add(1)
	l.add(&k)
	if len(s.unwritten) >= logUnwritten {
		return s.writeIndex()
	}
	return nil
}

// writeIndex writes the slots given since the last write (under mu): a page with one alone,
// else the page read, patched and written.
func (s *LogStore) writeIndex() error {
	u := s.unwritten
	slices.SortFunc(u, func(a, b idxSlot) int { return cmp.Compare(a.at, b.at) })
	page := make([]byte, idxPage)
	for len(u) > 0 {
		first := u[0].at * slotSize / idxPage
		n := 1
		for n < len(u) && u[n].at*slotSize/idxPage == first {
			n++
		}
		if n == 1 {
			var slot [slotSize]byte
			binary.LittleEndian.PutUint64(slot[:], u[0].prefix)
			binary.LittleEndian.PutUint64(slot[8:], u[0].off)
			if _, err := s.idx.WriteAt(slot[:], int64(u[0].at*slotSize)); err != nil {
				return err
			}
		} else {
			at := int64(first * idxPage) // the file is whole pages

			if _, err := s.idx.ReadAt(page, at); err != nil {
				return err
			}
			for _, e := range u[:n] {
				i := e.at*slotSize - uint64(at)
				binary.LittleEndian.PutUint64(page[i:], e.prefix)
				binary.LittleEndian.PutUint64(page[i+8:], e.off)
			}
			if _, err := s.idx.WriteAt(page, at); err != nil {
				return err
			}
		}
		u = u[n:]
	}
	s.unwritten = s.unwritten[:0]
	clear(s.recent)
	return nil
}

// isUsed reports whether slot pos holds a key (under LogStore.mu): with this bitmap (2 bits a
// key) storing a key reads no file, and a look-up reads only slots that hold keys.
func (l *logLevel) isUsed(pos uint64) bool { return l.used[pos/64]&(1<<(pos%64)) != 0 }

// home is a prefix's first slot of slots.
func home(prefix, slots uint64) uint64 {
	hi, _ := bits.Mul64(prefix, slots)
	return hi
}

// bloomPos are k's filter positions in m bits: the key is a SHA-256, so its bytes (not those
// of the index's prefix) are the hashes.
func bloomPos(k *Key, i, m uint64) uint64 {
	h1, h2 := binary.LittleEndian.Uint64(k[8:]), binary.LittleEndian.Uint64(k[16:])|1
	hi, _ := bits.Mul64(h1+i*h2, m)
	return hi
}

func (l *logLevel) add(k *Key) {
	for i := range uint64(bloomProbes) {
		p := bloomPos(k, i, l.m)
		atomic.OrUint64(&l.bloom[p/64], 1<<(p%64))
	}
}

func (l *logLevel) mayHave(k *Key) bool {
	for i := range uint64(bloomProbes) {
		p := bloomPos(k, i, l.m)
		if atomic.LoadUint64(&l.bloom[p/64])&(1<<(p%64)) == 0 {
			return false
		}
	}
	return true
}

// Get implements CacheStore.
func (s *LogStore) Get(ctx context.Context, k Key) (Reply, bool, error) {
	if err := ctx.Err(); err != nil {
		return Reply{}, false, err
	}
	body, ok, err := s.find(k)
	if err != nil || !ok {
		return Reply{}, false, err
	}
	r, err := decodeReply(body)
	if err != nil {
		return Reply{}, false, fmt.Errorf("reply cache: entry %s: %w", k, err)
	}
	return r, true, nil
}

// find returns the payload of k's record, reading no file unless a level's filter may hold k.
func (s *LogStore) find(k Key) ([]byte, bool, error) {
	lv := *s.levels.Load()
	if !slices.ContainsFunc(lv, func(l *logLevel) bool { return l.mayHave(&k) }) {
		return nil, false, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if off, ok := s.recent[k]; ok {
		return s.record(off, k)
	}
	for _, l := range lv {
		if !l.mayHave(&k) {
			continue
		}
		body, ok, err := s.probe(l, k)
		if err != nil || ok {
			return body, ok, err
		}
	}
	return nil, false, nil
}

// probe looks k up in level l's index and checks the records it points to whole; the caller
// holds mu's read lock, and k is not among the slots unwritten.
func (s *LogStore) probe(l *logLevel, k Key) ([]byte, bool, error) {
	prefix := binary.LittleEndian.Uint64(k[:8])
	var win [probeWindow * slotSize]byte
	for pos, seen := home(prefix, l.slots), uint64(0); seen < l.slots; {
		w := uint64(0) // the slots in use from pos, up to a window
		for w < probeWindow && pos+w < l.slots && l.isUsed(pos+w) {
			w++
		}
		if w == 0 {
			return nil, false, nil
		}
		b := win[:w*slotSize]
		_, err := s.idx.ReadAt(b, (l.base+int64(pos))*slotSize)
		s.reads.Add(1)
		if err != nil {
			return nil, false, err
		}
		for i := range w {
			off := binary.LittleEndian.Uint64(b[i*slotSize+8:])
			if off == 0 || binary.LittleEndian.Uint64(b[i*slotSize:]) != prefix {
				continue // unwritten (not k's: k is not in recent), or another key's
			}
			body, ok, err := s.record(int64(off-1), k)
			if err != nil || ok {
				return body, ok, err
			}
		}
		seen += w
		pos = (pos + w) % l.slots
	}
	return nil, false, nil
}

// record reads the record at off: its payload if it is k's.
func (s *LogStore) record(off int64, k Key) ([]byte, bool, error) {
	b := make([]byte, 512)
	n, err := s.log.ReadAt(b, off)
	s.reads.Add(1)
	if n < logHeader {
		if err == nil || err == io.EOF {
			err = fmt.Errorf("record at %d cut short", off)
		}
		return nil, false, err
	}
	if Key(b[8:logHeader]) != k {
		return nil, false, nil
	}
	size := logHeader + int(binary.LittleEndian.Uint32(b))
	if size > n {
		b = append(b[:n], make([]byte, size-n)...)
		if _, err := s.log.ReadAt(b[n:], off+int64(n)); err != nil {
			return nil, false, err
		}
		s.reads.Add(1)
	}
	body := b[logHeader:size]
	if crc(k, body) != binary.LittleEndian.Uint32(b[4:]) {
		return nil, false, fmt.Errorf("record at %d: checksum mismatch", off)
	}
	return body, true, nil
}

// Put implements CacheStore: the batch's new keys in one write, then indexed. A key already
// stored keeps its reply.
func (s *LogStore) Put(ctx context.Context, batch []CacheEntry) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	clear(s.seen)
	buf := s.buf[:0]
	type at struct {
		k   Key
		off int64
	}
	var added []at
	for _, e := range batch {
		if _, dup := s.seen[e.Key]; dup {
			continue
		}
		if _, ok, err := s.find(e.Key); err != nil {
			return err
		} else if ok {
			continue
		}
		s.seen[e.Key] = struct{}{}
		start := len(buf)
		buf = append(buf, make([]byte, logHeader)...)
		buf = appendReply(buf, e.Reply)
		body := buf[start+logHeader:]
		binary.LittleEndian.PutUint32(buf[start:], uint32(len(body)))
		binary.LittleEndian.PutUint32(buf[start+4:], crc(e.Key, body))
		copy(buf[start+8:], e.Key[:])
		added = append(added, at{e.Key, s.end + int64(start)})
	}
	s.buf = buf
	if len(added) == 0 {
		return nil
	}
	if _, err := s.log.WriteAt(buf, s.end); err != nil {
		return err
	}
	s.end += int64(len(buf))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range added {
		if err := s.index(a.k, a.off); err != nil {
			return err
		}
	}
	return nil
}

// appendReply encodes what a look-up returns (and the tokens, kept for audit): the strings
// length-prefixed, the values as their count + 1 (0: none) and name, IEEE 754 bits pairs.
func appendReply(b []byte, r Reply) []byte {
	for _, s := range []string{r.Provider, r.Model, r.ModelVersion, r.Raw} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(r.InputTokens))
	b = binary.AppendUvarint(b, uint64(r.OutputTokens))
	if r.Values == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Values))+1)
	for name, v := range r.Values {
		b = binary.AppendUvarint(b, uint64(len(name)))
		b = append(b, name...)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

func decodeReply(b []byte) (Reply, error) {
	bad := errors.New("malformed record")
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			b = nil
			return math.MaxUint64
		}
		b = b[n:]
		return v
	}
	str := func() (string, bool) {
		n := uv()
		if n > uint64(len(b)) {
			return "", false
		}
		s := string(b[:n])
		b = b[n:]
		return s, true
	}
	var r Reply
	for _, p := range []*string{&r.Provider, &r.Model, &r.ModelVersion, &r.Raw} {
		var ok bool
		if *p, ok = str(); !ok {
			return Reply{}, bad
		}
	}
	uv() // input and output tokens: kept for audit, not returned
	uv()
	n := uv()
	if n == math.MaxUint64 {
		return Reply{}, bad
	}
	if n > 0 {
		r.Values = make(map[string]float64, n-1)
		for range n - 1 {
			name, ok := str()
			if !ok || len(b) < 8 {
				return Reply{}, bad
			}
			r.Values[name] = math.Float64frombits(binary.LittleEndian.Uint64(b))
			b = b[8:]
		}
	}
	if len(b) != 0 {
		return Reply{}, bad
	}
	return r, nil
}

// Len implements CacheStore.
func (s *LogStore) Len(context.Context) (int, error) { return int(s.n.Load()), nil }

// Close implements CacheStore: the index, made again at every open, is removed.
func (s *LogStore) Close() error {
	err := s.log.Close()
	s.idx.Close()
	if rerr := os.Remove(s.idxPath); err == nil && !errors.Is(rerr, os.ErrNotExist) {
		err = rerr
	}
	return err
}
