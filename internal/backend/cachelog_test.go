package backend

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func logKey(i int) Key { return sha256.Sum256(fmt.Appendf(nil, "key %d", i)) }

func logReply(i int) Reply {
	r := Reply{Provider: "openai", Model: "m", ModelVersion: fmt.Sprintf("m-v%d", i%3), Raw: fmt.Sprintf(`{"willingness": %d}`, i%7+1),
		Values: map[string]float64{"willingness": float64(i%7 + 1), "x": -0.5}, InputTokens: 400 + i, OutputTokens: 7}
	switch i % 5 {
	case 1:
		r.Values = nil // a reply the client did not parse
	case 2:
		r.Values = map[string]float64{}
	case 3:
		r.Raw = string(make([]byte, 700+i%300)) // longer than a look-up's first read
	}
	return r
}

// what a look-up returns of r: tokens are kept for audit only.
func looked(r Reply) Reply { r.InputTokens, r.OutputTokens = 0, 0; return r }

func openLog(t *testing.T, dir string) *LogStore {
	t.Helper()
	s, err := OpenLogStore(filepath.Join(dir, "cache.log"), filepath.Join(dir, "cache.idx"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A LogStore returns what was stored, whatever its level, before and after it is opened
// again; the first reply stored under a key wins; a key never stored reads no file (its
// filters answer) but for their false positives; after a reopen, the filters, built from the
// log, know every key it holds.
func TestLogStoreRoundTripAndGate(t *testing.T) {
	defer func(v int64, u int) { logLevel0, logUnwritten = v, u }(logLevel0, logUnwritten)
	logLevel0, logUnwritten = 64, 64 // several levels; index slots written 64 at a time, 8 left unwritten
	dir := t.TempDir()
	ctx := context.Background()
	s := openLog(t, dir)
	const n = 5000
	for i := 0; i < n; i += 7 {
		var batch []CacheEntry
		for j := i; j < min(i+7, n); j++ {
			batch = append(batch, CacheEntry{logKey(j), logReply(j)})
		}
		batch = append(batch, CacheEntry{logKey(i), logReply(i + 1)}) // a twin in the batch: the first wins
		if err := s.Put(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, []CacheEntry{{logKey(3), logReply(4)}}); err != nil { // stored: kept
		t.Fatal(err)
	}
	check := func(s *LogStore, when string) {
		t.Helper()
		if got, _ := s.Len(ctx); got != n {
			t.Fatalf("%s: Len %d, want %d", when, got, n)
		}
		for i := range n {
			r, ok, err := s.Get(ctx, logKey(i))
			if err != nil || !ok || !reflect.DeepEqual(r, looked(logReply(i))) {
				t.Fatalf("%s: key %d: %+v %v %v, want %+v", when, i, r, ok, err, looked(logReply(i)))
			}
		}
		s.reads.Store(0)
		for i := n; i < 3*n; i++ {
			if _, ok, err := s.Get(ctx, logKey(i)); ok || err != nil {
				t.Fatalf("%s: key %d never stored: %v %v", when, i, ok, err)
			}
		}
		// 12 bits a key and 8 probes: about 0.3% false positives a level, 7 levels here
		// (2.1%); each reads the index once. Without the filters every miss would read it.
		if r := s.reads.Load(); r > 2*n/25 {
			t.Errorf("%s: %d misses read the files %d times", when, 2*n, r)
		}
	}
	check(s, "written")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cache.idx")); !os.IsNotExist(err) {
		t.Errorf("the index is left after Close: %v", err)
	}
	s = openLog(t, dir)
	defer s.Close()
	check(s, "opened again")
}

// A record cut short at the end of the log (a machine that crashed during a write) is cut off
// at the next open; the records before it are kept and new ones follow them.
func TestLogStoreTornTail(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := openLog(t, dir)
	for i := range 3 {
		if err := s.Put(ctx, []CacheEntry{{logKey(i), logReply(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	path := filepath.Join(dir, "cache.log")
	fi, _ := os.Stat(path)
	if err := os.Truncate(path, fi.Size()-5); err != nil {
		t.Fatal(err)
	}
	s = openLog(t, dir)
	if n, _ := s.Len(ctx); n != 2 {
		t.Fatalf("Len %d after the torn record, want 2", n)
	}
	if _, ok, _ := s.Get(ctx, logKey(2)); ok {
		t.Fatal("the torn record is read")
	}
	if err := s.Put(ctx, []CacheEntry{{logKey(2), logReply(5)}, {logKey(9), logReply(9)}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openLog(t, dir)
	defer s.Close()
	for _, i := range []int{0, 1, 9} {
		if r, ok, err := s.Get(ctx, logKey(i)); !ok || err != nil || !reflect.DeepEqual(r, looked(logReply(i))) {
			t.Errorf("key %d: %+v %v %v", i, r, ok, err)
		}
	}
	if r, ok, _ := s.Get(ctx, logKey(2)); !ok || !reflect.DeepEqual(r, looked(logReply(5))) {
		t.Errorf("key 2 stored again: %+v %v", r, ok)
	}
}

// Look-ups run while a Cache's writer stores (go test -race): a reply is seen once Put
// has returned it, never a torn or wrong one.
func TestLogStoreConcurrentLookups(t *testing.T) {
	defer func(v int64, u int) { logLevel0, logUnwritten = v, u }(logLevel0, logUnwritten)
	logLevel0, logUnwritten = 16, 7
	ctx := context.Background()
	c := NewCache(openLog(t, t.TempDir()))
	defer c.Close()
	const n, readers = 2000, 4
	done := make(chan error, readers)
	start := time.Now()
	for g := range readers {
		go func() {
			for i := g; i < n; i += readers {
				for {
					r, ok, err := c.Get(ctx, logKey(i))
					if err != nil {
						done <- err
						return
					}
					if !ok && time.Since(start) > 20*time.Second {
						done <- fmt.Errorf("key %d never seen", i)
						return
					}
					if ok {
						if !reflect.DeepEqual(r.Values, logReply(i).Values) || r.Raw != logReply(i).Raw {
							done <- fmt.Errorf("key %d: %+v", i, r)
							return
						}
						break
					}
				}
			}
			done <- nil
		}()
	}
	for i := range n {
		if err := c.Put(ctx, logKey(i), logReply(i)); err != nil {
			t.Fatal(err)
		}
	}
	for range readers {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := c.Len(ctx); got != n {
		t.Fatalf("Len %d", got)
	}
}
