package backend

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"
)

// Cache is a persistent reply cache in one SQLite file. It is safe for concurrent use, and
// several processes (parallel runs) may share one file: the database is in WAL mode with a
// busy timeout, and entries are written with INSERT OR IGNORE, so two writers of one key both
// succeed and the first reply wins (replies for one key are interchangeable samples).
//
// Only valid replies are stored. A hit returns the stored Raw and Values with Cached set and
// Calls, tokens and cost all zero: usage reports what this run spent, and a finished
// experiment re-run costs zero calls. The tokens originally spent are kept in the table
// (input_tokens, output_tokens) for audit.
type Cache struct {
	db *sql.DB

	hits, misses, stores, errs atomic.Int64
	warned                     atomic.Bool
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
	created       INTEGER NOT NULL
) WITHOUT ROWID;`

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
	if _, err := db.Exec(cacheSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("reply cache %s: %w", path, err)
	}
	return &Cache{db: db}, nil
}

// Close closes the database.
func (c *Cache) Close() error { return c.db.Close() }

// Stats returns the counts since the Cache was opened.
func (c *Cache) Stats() CacheStats {
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Stores: c.stores.Load(), Errors: c.errs.Load()}
}

// Len returns the number of stored replies.
func (c *Cache) Len(ctx context.Context) (int, error) {
	var n int
	err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM reply_cache`).Scan(&n)
	return n, err
}

// Get looks up a key. ok is false on a miss.
func (c *Cache) Get(ctx context.Context, k Key) (r Reply, ok bool, err error) {
	var vals string
	err = c.db.QueryRowContext(ctx,
		`SELECT provider, model, raw, vals FROM reply_cache WHERE key = ?`, k[:]).
		Scan(&r.Provider, &r.Model, &r.Raw, &vals)
	if errors.Is(err, sql.ErrNoRows) {
		return Reply{}, false, nil
	}
	if err != nil {
		return Reply{}, false, err
	}
	if err := json.Unmarshal([]byte(vals), &r.Values); err != nil {
		return Reply{}, false, fmt.Errorf("reply cache: entry %s: %w", k, err)
	}
	r.Cached = true
	return r, true, nil
}

// Put stores a valid reply under k; an existing entry is kept. Invalid replies are refused.
func (c *Cache) Put(ctx context.Context, k Key, r Reply) error {
	if !r.Valid() {
		return fmt.Errorf("reply cache: refusing to store an invalid reply")
	}
	vals, err := json.Marshal(r.Values)
	if err != nil {
		return fmt.Errorf("reply cache: %w", err)
	}
	_, err = c.db.ExecContext(ctx,
		`INSERT OR IGNORE INTO reply_cache (key, provider, model, raw, vals, input_tokens, output_tokens, created)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k[:], r.Provider, r.Model, r.Raw, string(vals), r.InputTokens, r.OutputTokens, time.Now().Unix())
	return err
}

// Wrap returns next with the cache in front of it. id names the model for the key (see KeyOf).
//
// Do not put the cache in front of the embedded behavioural model: its replies depend on the
// Seed, which is not part of the key, and it is cheaper than a cache lookup anyway.
func (c *Cache) Wrap(next Backend, id BackendID) Backend {
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		k := KeyOf(id, req)
		start := time.Now()
		r, ok, err := c.Get(ctx, k)
		if err != nil {
			if ctx.Err() != nil {
				return Reply{}, ctx.Err()
			}
			c.fail("read", err)
		}
		if ok {
			c.hits.Add(1)
			r.Latency = time.Since(start)
			return r, nil
		}
		c.misses.Add(1)
		r, err = next.Decide(ctx, req)
		if err != nil || !r.Valid() {
			return r, err
		}
		// Store even if ctx was cancelled meanwhile: the reply was paid for.
		if err := c.Put(context.WithoutCancel(ctx), k, r); err != nil {
			c.fail("write", err)
		} else {
			c.stores.Add(1)
		}
		return r, nil
	})
}

func (c *Cache) fail(op string, err error) {
	c.errs.Add(1)
	if c.warned.CompareAndSwap(false, true) { // once: a broken cache must not flood the log
		slog.Warn("reply cache "+op+" failed; continuing without it for this decision", "err", err)
	}
}
