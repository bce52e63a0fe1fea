package backend

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"
)

// SQLiteStore is a CacheStore in one SQLite file. Several processes may share the file: the
// database is in WAL mode with a busy timeout, and entries are written with INSERT OR IGNORE.
type SQLiteStore struct {
	db       *sql.DB
	get, put *sql.Stmt
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

// OpenSQLiteStore opens (creating if needed) the cache database at path, and its directory.
func OpenSQLiteStore(path string) (*SQLiteStore, error) {
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
	err = retryBusy(func() error {
		if _, err := db.Exec(cacheSchema); err != nil {
			return err
		}
		return migrateCache(db)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("reply cache %s: %w", path, err)
	}
	s := &SQLiteStore{db: db}
	// Prepared once: parsing the SQL of every lookup and store costs more than running it.
	if s.get, err = db.Prepare(`SELECT provider, model, model_version, raw, vals FROM reply_cache WHERE key = ?`); err == nil {
		s.put, err = db.Prepare(`INSERT OR IGNORE INTO reply_cache
			(key, provider, model, raw, vals, input_tokens, output_tokens, created, model_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("reply cache %s: %w", path, err)
	}
	return s, nil
}

// retryBusy runs create, again while SQLite reports the database busy, for up to 10 s: when
// several processes open a new cache at once, switching it to WAL takes a lock for which
// SQLite does not wait (busy_timeout does not apply), so one of them gets SQLITE_BUSY.
func retryBusy(create func() error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := create()
		if err == nil || time.Now().After(deadline) || !isBusy(err) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

// Get implements CacheStore.
func (s *SQLiteStore) Get(ctx context.Context, k Key) (r Reply, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return Reply{}, false, err
	}
	// A point look-up ends in microseconds: it is not given ctx, for which the driver would
	// start a goroutine and a progress handler per query to interrupt it (a third of a cache
	// replay's CPU went to look-ups).
	var vals string
	err = s.get.QueryRow(k[:]).Scan(&r.Provider, &r.Model, &r.ModelVersion, &r.Raw, &vals)
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
	return r, true, nil
}

// Put implements CacheStore: the batch in one transaction.
func (s *SQLiteStore) Put(ctx context.Context, batch []CacheEntry) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	st := tx.Stmt(s.put)
	now := time.Now().Unix()
	for _, e := range batch {
		vals := "null"
		if e.Reply.Values != nil {
			b, err := json.Marshal(e.Reply.Values)
			if err != nil {
				tx.Rollback()
				return err
			}
			vals = string(b)
		}
		r := e.Reply
		if _, err := st.Exec(e.Key[:], r.Provider, r.Model, r.Raw, vals, r.InputTokens, r.OutputTokens, now, r.ModelVersion); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// Len implements CacheStore.
func (s *SQLiteStore) Len(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM reply_cache`).Scan(&n)
	return n, err
}

// Close implements CacheStore.
func (s *SQLiteStore) Close() error { return s.db.Close() }
