package backend

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Cache is a persistent reply cache over a CacheStore: one SQLite file (OpenCache), or a
// JetStream key-value bucket that every machine of a distributed run shares (cache: nats, see
// internal/cluster). It is safe for concurrent use, and several processes (parallel runs) may
// share one store: entries are written so that two writers of one key both succeed and the
// first reply wins (replies for one key are interchangeable samples).
//
// It stores what a provider answered to one exact request: the reply text and, if the client
// parsed them, its values. In the standard chain (see Stack) it sits under Validate, so each
// turn of a repair conversation is its own entry (the key includes the repair turns), and an
// answer that was invalid is stored like any other: a re-run replays the whole conversation,
// invalid decisions included, without a call. A reply a client marked Invalid (truncated,
// blocked) and an empty reply are not stored, so they are asked again.
//
// A hit returns the stored Raw, Values and ModelVersion (the version that produced the entry,
// not the one a fresh call would get) with Cached set and Calls, tokens and cost all zero:
// usage reports what this run spent, and a finished experiment re-run costs zero calls. The
// tokens originally spent are kept in the store for audit.
//
// Writes are taken off the caller's path: Put queues the entry, which Get sees at once, and
// one writer goroutine hands whatever is queued to the store in one batch (one SQLite
// transaction), so concurrent decisions neither wait for a write nor contend for a lock.
// Flush waits for the queue to be written; Close flushes. An entry queued when the process
// dies is lost (the decision itself is journaled by the run store, not here).
type Cache struct {
	store CacheStore

	mu      sync.Mutex
	cond    *sync.Cond // signalled when a batch is written or the writer stops
	pending map[Key]Reply
	queue   []CacheEntry
	queued  uint64 // entries ever queued
	written uint64 // entries ever written (or failed)
	closing bool
	wake    chan struct{}
	stopped chan struct{}

	hits, misses, stores, errs atomic.Int64
	warned                     atomic.Bool
}

// CacheStore keeps a Cache's entries. Get returns the stored reply (Raw, Values, Provider,
// Model, ModelVersion; tokens are not needed) or ok false; Put stores a batch, keeping an
// entry already stored under a key (the first reply wins); Len counts the entries.
type CacheStore interface {
	Get(ctx context.Context, k Key) (r Reply, ok bool, err error)
	Put(ctx context.Context, batch []CacheEntry) error
	Len(ctx context.Context) (int, error)
	Close() error
}

// CacheEntry is one reply to store under its key.
type CacheEntry struct {
	Key   Key
	Reply Reply
}

// CacheStats counts cache traffic since the Cache was opened.
type CacheStats struct {
	Hits, Misses, Stores int64
	// Errors counts failed reads and writes; a failed read is treated as a miss and a failed
	// write loses only the cache entry, never the decision.
	Errors int64
}

// DefaultCachePath is prosim/cache.db in the user's cache directory
// (e.g. ~/.cache/prosim/cache.db on Linux).
func DefaultCachePath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("reply cache: %w", err)
	}
	return filepath.Join(dir, "prosim", "cache.db"), nil
}

// OpenCache opens (creating if needed) the cache database at path, and its directory.
func OpenCache(path string) (*Cache, error) {
	s, err := OpenSQLiteStore(path)
	if err != nil {
		return nil, err
	}
	return NewCache(s), nil
}

// NewCache is a Cache over s; Close closes s.
func NewCache(s CacheStore) *Cache {
	c := &Cache{store: s, pending: map[Key]Reply{}, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go c.writer()
	return c
}

// Close writes what is queued and closes the store.
func (c *Cache) Close() error {
	c.mu.Lock()
	already := c.closing
	c.closing = true
	c.mu.Unlock()
	if !already {
		c.signal()
	}
	<-c.stopped
	return c.store.Close()
}

// Flush waits until every entry queued before the call is written.
func (c *Cache) Flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	target := c.queued
	for c.written < target {
		c.cond.Wait()
	}
}

func (c *Cache) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// writer stores queued entries, everything queued at once in one batch, until Close.
func (c *Cache) writer() {
	defer close(c.stopped)
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.closing {
			c.mu.Unlock()
			<-c.wake
			c.mu.Lock()
		}
		batch := c.queue
		c.queue = nil
		stop := c.closing && len(batch) == 0
		c.mu.Unlock()
		if stop {
			c.cond.L.Lock()
			c.cond.Broadcast()
			c.cond.L.Unlock()
			return
		}
		err := c.store.Put(context.Background(), batch)
		if err != nil {
			c.errs.Add(int64(len(batch)))
			c.warn("write", err)
		} else {
			c.stores.Add(int64(len(batch)))
		}
		c.mu.Lock()
		for _, e := range batch {
			delete(c.pending, e.Key) // now in the store, or lost
		}
		c.written += uint64(len(batch))
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

// Stats returns the counts since the Cache was opened.
func (c *Cache) Stats() CacheStats {
	c.Flush()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Stores: c.stores.Load(), Errors: c.errs.Load()}
}

// Len returns the number of stored replies.
func (c *Cache) Len(ctx context.Context) (int, error) {
	c.Flush()
	return c.store.Len(ctx)
}

// Get looks up a key, in what is queued for writing and then in the store. ok is false on a
// miss.
func (c *Cache) Get(ctx context.Context, k Key) (r Reply, ok bool, err error) {
	c.mu.Lock()
	p, queued := c.pending[k]
	c.mu.Unlock()
	if queued {
		return hit(p), true, nil
	}
	r, ok, err = c.store.Get(ctx, k)
	if err != nil || !ok {
		return Reply{}, false, err
	}
	return hit(r), true, nil
}

// hit is a stored reply as a lookup returns it: what was said, nothing spent.
func hit(p Reply) Reply {
	return Reply{Raw: p.Raw, Values: maps.Clone(p.Values), Provider: p.Provider, Model: p.Model, ModelVersion: p.ModelVersion, Cached: true}
}

// Cacheable reports whether Put stores r: a reply with a text or values that no client
// marked invalid.
func Cacheable(r Reply) bool {
	return r.Invalid == "" && (r.Raw != "" || r.Values != nil)
}

// Put queues r for storing under k and returns at once; Get sees it immediately. An existing
// entry is kept. Replies that are not Cacheable are refused.
func (c *Cache) Put(ctx context.Context, k Key, r Reply) error {
	if !Cacheable(r) {
		return fmt.Errorf("reply cache: refusing to store an invalid or empty reply")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return fmt.Errorf("reply cache: closed")
	}
	if _, dup := c.pending[k]; dup {
		return nil // first reply wins, as in the database
	}
	r.Values = maps.Clone(r.Values)
	r.Samples = nil
	c.pending[k] = r
	c.queue = append(c.queue, CacheEntry{k, r})
	c.queued++
	c.signal()
	return nil
}

// Wrap returns next with the cache in front of it. id names the model for the key (see KeyOf).
//
// Do not put the cache in front of the embedded behavioural model: its replies depend on the
// Seed, which is not part of the key, and it is cheaper than a cache lookup anyway.
func (c *Cache) Wrap(next Backend, id BackendID) Backend { return c.wrap(next, id, nil) }

func (c *Cache) wrap(next Backend, id BackendID, fan *fanOut) Backend {
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		k := KeyOf(id, req)
		start := time.Now()
		if r, ok, err := c.lookup(ctx, k); err != nil || ok {
			c.hits.Add(b2i64(ok))
			r.Latency = time.Since(start)
			return r, err
		}
		if fan != nil && fan.applies(req) {
			return fan.decide(ctx, next, req, k)
		}
		c.misses.Add(1)
		return c.ask(ctx, next, req, k)
	})
}

// ask calls next and stores the reply under k.
func (c *Cache) ask(ctx context.Context, next Backend, req Request, k Key) (Reply, error) {
	r, err := next.Decide(ctx, req)
	r.Samples = nil
	// Store even if ctx was cancelled meanwhile: the reply was paid for.
	if err == nil && Cacheable(r) {
		if err := c.Put(context.WithoutCancel(ctx), k, r); err != nil {
			c.fail("write", err)
		}
	}
	return r, err
}

// lookup is Get where a failed read counts as an error and reads as a miss, unless ctx has
// ended.
func (c *Cache) lookup(ctx context.Context, k Key) (Reply, bool, error) {
	r, ok, err := c.Get(ctx, k)
	if err != nil {
		if ctx.Err() != nil {
			return Reply{}, false, ctx.Err()
		}
		c.fail("read", err)
		return Reply{}, false, nil
	}
	return r, ok, nil
}

func b2i64(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (c *Cache) fail(op string, err error) {
	c.errs.Add(1)
	c.warn(op, err)
}

func (c *Cache) warn(op string, err error) {
	if c.warned.CompareAndSwap(false, true) { // once: a broken cache must not flood the log
		slog.Warn("reply cache "+op+" failed; continuing without it", "err", err)
	}
}
