package backend

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"
)

// Cache is a persistent reply cache in one SQLite file. It is safe for concurrent use, and
// several processes (parallel runs) may share one file: the database is in WAL mode with a
// busy timeout, and entries are written with INSERT OR IGNORE, so two writers of one key both
// succeed and the first reply wins (replies for one key are interchangeable samples).
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
// tokens originally spent are kept in the table (input_tokens, output_tokens) for audit.
//
// Writes are taken off the caller's path: Put queues the entry, which Get sees at once, and
// one writer goroutine commits whatever is queued in a single transaction, so concurrent
// decisions neither wait for a commit nor contend for SQLite's write lock. Flush waits for
// the queue to be written; Close flushes. An entry queued when the process dies is lost
// (the decision itself is journaled by the run store, not here).
type Cache struct {
	db       *sql.DB
	get, put *sql.Stmt

	mu      sync.Mutex
	cond    *sync.Cond // signalled when a batch is written or the writer stops
	pending map[Key]Reply
	queue   []cacheEntry
	queued  uint64 // entries ever queued
	written uint64 // entries ever written (or failed)
	closing bool
	wake    chan struct{}
	stopped chan struct{}

	hits, misses, stores, errs atomic.Int64
	warned                     atomic.Bool
}

type cacheEntry struct {
	key Key
	r   Reply
}

// CacheStats counts cache traffic since the Cache was opened.
type CacheStats struct {
	Hits, Misses, Stores int64
	// Errors counts failed reads and writes; a failed read is treated as a miss and a failed
	// write loses only the cache entry, never the decision.
	Errors int64
}

const cacheSchema = `
CREATE TABLE IF NOT EXISTS reply_cache (
	key           BLOB PRIMARY KEY,
	provider      TEXT NOT NULL,
	model         TEXT NOT NULL,
	raw           TEXT NOT NULL,
	vals          TEXT NOT NULL,
	input_tokens  INTEGER NOT NULL,
	output_tokens INTEGER NOT NULL,
	created       INTEGER NOT NULL,
	model_version TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;`

// migrateCache adds to a cache file written before model versions were recorded the
// model_version column (its entries get "": the version that produced them is unknown).
func migrateCache(db *sql.DB) error {
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM pragma_table_info('reply_cache') WHERE name = 'model_version'`).Scan(&n); err != nil || n > 0 {
		return err
	}
	if _, err := db.Exec(`ALTER TABLE reply_cache ADD COLUMN model_version TEXT NOT NULL DEFAULT ''`); err != nil {
		// Another process sharing the file may have added it meanwhile.
		if db.QueryRow(`SELECT COUNT(*) FROM pragma_table_info('reply_cache') WHERE name = 'model_version'`).Scan(&n); n == 0 {
			return err
		}
	}
	return nil
}

// cacheConns bounds the pooled SQLite connections. database/sql keeps only two idle
// connections by default and would open (and configure) a new one for most concurrent reads.
const cacheConns = 8

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
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("reply cache: %w", err)
		}
	}
	// Pragmas go in the DSN so that every pooled connection gets them.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(30000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("reply cache %s: %w", path, err)
	}
	db.SetMaxOpenConns(cacheConns)
	db.SetMaxIdleConns(cacheConns)
	if _, err = db.Exec(cacheSchema); err == nil {
		err = migrateCache(db)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("reply cache %s: %w", path, err)
	}
	c := &Cache{db: db, pending: map[Key]Reply{}, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	// Prepared once: parsing the SQL of every lookup and store costs more than running it.
	if c.get, err = db.Prepare(`SELECT provider, model, model_version, raw, vals FROM reply_cache WHERE key = ?`); err == nil {
		c.put, err = db.Prepare(`INSERT OR IGNORE INTO reply_cache
			(key, provider, model, raw, vals, input_tokens, output_tokens, created, model_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("reply cache %s: %w", path, err)
	}
	go c.writer()
	return c, nil
}

// Close writes what is queued and closes the database.
func (c *Cache) Close() error {
	c.mu.Lock()
	already := c.closing
	c.closing = true
	c.mu.Unlock()
	if !already {
		c.signal()
	}
	<-c.stopped
	return c.db.Close()
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

// writer commits queued entries, everything queued at once in one transaction, until Close.
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
		err := c.write(batch)
		if err != nil {
			c.errs.Add(int64(len(batch)))
			c.warn("write", err)
		} else {
			c.stores.Add(int64(len(batch)))
		}
		c.mu.Lock()
		for _, e := range batch {
			delete(c.pending, e.key) // now in the database, or lost
		}
		c.written += uint64(len(batch))
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

func (c *Cache) write(batch []cacheEntry) error {
	tx, err := c.db.Begin()
	if err != nil {
		return err
	}
	st := tx.Stmt(c.put)
	now := time.Now().Unix()
	for _, e := range batch {
		vals := "null"
		if e.r.Values != nil {
			b, err := json.Marshal(e.r.Values)
			if err != nil {
				tx.Rollback()
				return err
			}
			vals = string(b)
		}
		if _, err := st.Exec(e.key[:], e.r.Provider, e.r.Model, e.r.Raw, vals, e.r.InputTokens, e.r.OutputTokens, now, e.r.ModelVersion); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// Stats returns the counts since the Cache was opened.
func (c *Cache) Stats() CacheStats {
	c.Flush()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Stores: c.stores.Load(), Errors: c.errs.Load()}
}

// Len returns the number of stored replies.
func (c *Cache) Len(ctx context.Context) (int, error) {
	c.Flush()
	var n int
	err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM reply_cache`).Scan(&n)
	return n, err
}

// Get looks up a key, in what is queued for writing and then in the database. ok is false
// on a miss.
func (c *Cache) Get(ctx context.Context, k Key) (r Reply, ok bool, err error) {
	c.mu.Lock()
	p, queued := c.pending[k]
	c.mu.Unlock()
	if queued {
		return hit(p), true, nil
	}
	var vals string
	err = c.get.QueryRowContext(ctx, k[:]).Scan(&r.Provider, &r.Model, &r.ModelVersion, &r.Raw, &vals)
	if errors.Is(err, sql.ErrNoRows) {
		return Reply{}, false, nil
	}
	if err != nil {
		return Reply{}, false, err
	}
	if vals != "null" {
		if err := json.Unmarshal([]byte(vals), &r.Values); err != nil {
			return Reply{}, false, fmt.Errorf("reply cache: entry %s: %w", k, err)
		}
	}
	r.Cached = true
	return r, true, nil
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
	c.queue = append(c.queue, cacheEntry{k, r})
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
