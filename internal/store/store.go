// Package store keeps a run's record in SQLite (modernc.org/sqlite, pure Go): the runs of the
// design, the agents, and every decision with its raw reply and validity. Decisions are written
// in transactions, so a crash loses nothing that was committed, and a resumed run finds every
// decision it already has.
package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// schemaVersion is the run database's layout. 2 added decisions.model_version, 3 the
// repairs table, 4 decisions.failed_calls, 5 decisions.unusable_calls, 6 the unrecorded
// table and decisions.no_usage_calls, 7 unrecorded.no_usage_calls; Open upgrades a database
// of an earlier version in place (see migrate).
const schemaVersion = "7"

const ddl = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(
  run_id TEXT PRIMARY KEY, ord INTEGER NOT NULL, backend TEXT NOT NULL, condition TEXT NOT NULL,
  policy TEXT NOT NULL, replicate INTEGER NOT NULL, seed TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agents(agent_id INTEGER PRIMARY KEY, persona TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decisions(
  run_id TEXT NOT NULL, agent_id INTEGER NOT NULL, round INTEGER NOT NULL, trial INTEGER NOT NULL,
  scenario TEXT NOT NULL, params TEXT NOT NULL, vals TEXT, raw TEXT NOT NULL, valid INTEGER NOT NULL,
  invalid_reason TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, cached INTEGER NOT NULL,
  calls INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
  cost_usd REAL, latency_ms REAL NOT NULL, model_version TEXT NOT NULL DEFAULT '',
  failed_calls INTEGER NOT NULL DEFAULT 0, unusable_calls INTEGER NOT NULL DEFAULT 0,
  no_usage_calls INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(run_id, agent_id, round, trial, scenario));
CREATE TABLE IF NOT EXISTS repairs(
  run_id TEXT NOT NULL, agent_id INTEGER NOT NULL, round INTEGER NOT NULL, trial INTEGER NOT NULL,
  scenario TEXT NOT NULL, attempt INTEGER NOT NULL, raw TEXT NOT NULL, invalid_reason TEXT NOT NULL,
  repair TEXT NOT NULL, PRIMARY KEY(run_id, agent_id, round, trial, scenario, attempt));
CREATE TABLE IF NOT EXISTS unrecorded(
  backend TEXT PRIMARY KEY, calls INTEGER NOT NULL, failed_calls INTEGER NOT NULL,
  unusable_calls INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
  cost_usd REAL, no_usage_calls INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS batches(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, backend TEXT NOT NULL, batch_id TEXT NOT NULL,
  custom_ids TEXT NOT NULL, submitted TEXT NOT NULL);
`

// Key identifies one decision within a run directory.
type Key struct {
	RunID    string
	AgentID  int
	Round    int // 0 when the study has no rounds
	Trial    int // 0 when the study has no trials
	Scenario string
}

// CompareKeys orders keys as the decisions table's primary key does (run, agent, round,
// trial, scenario).
func CompareKeys(a, b Key) int {
	return cmp.Or(strings.Compare(a.RunID, b.RunID), cmp.Compare(a.AgentID, b.AgentID), cmp.Compare(a.Round, b.Round),
		cmp.Compare(a.Trial, b.Trial), strings.Compare(a.Scenario, b.Scenario))
}

// Decision is a recorded decision.
type Decision struct {
	Key
	// Params are the situation's parameters as asked (game terms such as x and y).
	Params map[string]float64
	Reply  Reply
}

// Reply is what is recorded of a decision's answer (the engine converts a backend's reply to
// it): one row of the decisions table.
type Reply struct {
	// Raw is the reply text exactly as received (the final attempt's when re-asked).
	Raw string
	// Values are the parsed, validated values; nil when Invalid is set.
	Values map[string]float64
	// Invalid is why the reply could not be used; empty when valid.
	Invalid  string
	Provider string
	Model    string
	// ModelVersion is the snapshot the provider said answered ("" when it named none, and in
	// runs recorded before prosim recorded versions).
	ModelVersion string
	InputTokens  int
	OutputTokens int
	// Calls is how many provider calls this reply took (0 when served from the cache);
	// FailedCalls are those of them that failed (HTTP 5xx, 429, timeouts) and carry no tokens;
	// UnusableCalls those answered with HTTP 200 but unusable (a body cut or malformed), which
	// may have been billed: CostUSD includes them (see backend.Reply.UnusableCalls).
	Calls, FailedCalls, UnusableCalls int
	// NoUsageCalls are those whose usable reply said no token usage: CostUSD counts each at
	// its worst case, and the tokens do not (see backend.Reply.NoUsageCalls).
	NoUsageCalls int
	// CostUSD is NaN when unknown (stored as NULL).
	CostUSD float64
	Latency time.Duration
	Cached  bool
	// Repairs are the attempts before Raw when the reply was re-asked (the repairs table).
	Repairs []Attempt
}

// Attempt is an unusable reply that was asked again: what it said, why it was unusable, and
// the repair message sent after it ("" when the same request was sent again).
type Attempt struct {
	Raw, Invalid, Repair string
}

// Valid reports whether the reply carries usable values.
func (r Reply) Valid() bool { return r.Invalid == "" && r.Values != nil }

// Run is one cell of the design: a backend, a condition and a replicate.
type Run struct {
	ID        string
	Ord       int
	Backend   string
	Condition string
	Policy    string
	Replicate int
	Seed      uint64
}

// Store is an open run database. It is safe for concurrent use.
type Store struct {
	db *sql.DB
	// wal fsyncs the database's write-ahead log (sync.go); nil for a store opened read-only.
	wal *walSyncer
	// reads is the context of the long reads (decisions, agents), cancel ends it: CloseOpen
	// interrupts them (track).
	reads  context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // guards pending, spares and gathering
	// beforeWrite, when set, runs before each write of decisions, once they are taken from
	// pending (BeforeWrite).
	beforeWrite func()
	// pending are the decisions queued by Add, Commit and Start and not yet taken by a write;
	// spares are the arrays of the last ones written, emptied, for pending to reuse (a
	// group's slice grown anew from nil was most of what a commit allocated). Two: a group
	// gathers in one while the write before it holds the other, and a single spare, replaced
	// by each write, lost an array whenever no decision arrived during a write.
	pending []Decision
	spares  [2][]Decision
	// gathering is the group Commit and Start calls join until its leader starts writing (nil when
	// none is open).
	gathering *group
	batch     int
	// cmu serialises writes. A write takes everything pending and, when it fails, puts it
	// back before it unlocks, so a write that finds a decision gone from pending knows an
	// earlier one committed it.
	cmu sync.Mutex
	// inserts[n] inserts n decisions; repIns and repDel write repair turns. Prepared on first
	// use and kept (guarded by cmu): parsing a statement of up to 64x19 parameters costs more
	// than running it, and a group commit runs one every write.
	inserts        [rowsPerInsert + 1]*sql.Stmt
	repIns, repDel *sql.Stmt
	// lookup reads one decision by its key (Decision), prepared on first use and kept: a
	// resumed run reads recorded decisions one by one, and preparing took most of each read.
	lookupMu sync.Mutex
	lookup   *sql.Stmt
	lookups  atomic.Int64 // Decision calls (Lookups)
	// at reads keysPerRead keys (DecisionsAt), prepared on first use and kept (guarded by
	// lookupMu): parsing its 5,000 parameters took a third of a replay's step reads.
	at *sql.Stmt
	// args are a write's statement arguments (guarded by cmu), kept from write to write.
	args []any
	// direct[n] inserts n decisions as one statement through the driver (execDirect), on
	// the driver connection directConn; named are its arguments. Guarded by cmu.
	direct     [rowsPerInsert + 1]driver.Stmt
	directConn any
	named      []driver.NamedValue
	// writes counts committed decision transactions (tests check that Commits shared one).
	writes atomic.Int64
	// rowsRead counts the rows read methods returned (RowsRead).
	rowsRead atomic.Int64
	// repairs is set once the repairs table has a row (so replaced decisions clear theirs).
	repairs atomic.Bool
	// noFailedCalls is set when a database opened read-only predates decisions.failed_calls
	// (schema 4), noUnusableCalls when it predates decisions.unusable_calls (schema 5),
	// noNoUsageCalls when it predates decisions.no_usage_calls (schema 6): its queries read 0
	// (see q).
	noFailedCalls, noUnusableCalls, noNoUsageCalls bool
}

// q is query as this store's database can run it: failed_calls, unusable_calls and
// no_usage_calls read 0 where the column does not exist (an earlier prosim's run, opened
// read-only and so not upgraded).
func (s *Store) q(query string) string {
	if s.noNoUsageCalls {
		query = strings.ReplaceAll(query, "no_usage_calls", "0")
	}
	if s.noUnusableCalls {
		query = strings.ReplaceAll(query, "unusable_calls", "0")
	}
	if s.noFailedCalls {
		query = strings.ReplaceAll(query, "failed_calls", "0")
	}
	return query
}

// Open opens (creating if needed) the database at path.
func Open(path string) (*Store, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // one writer; SQLite serialises writes anyway
	if _, err := db.Exec(ddl); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s := track(&Store{db: db, batch: 500, wal: newWALSyncer(path)})
	var any int
	if err := db.QueryRow(`SELECT EXISTS(SELECT 1 FROM repairs)`).Scan(&any); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.repairs.Store(any == 1)
	if v, err := s.Meta("schema_version"); err != nil {
		s.Close()
		return nil, err
	} else if v == "" {
		if err := s.SetMeta("schema_version", schemaVersion); err != nil {
			s.Close()
			return nil, err
		}
	} else if v == "1" || v == "2" || v == "3" || v == "4" || v == "5" || v == "6" {
		if err := s.migrate(v); err != nil {
			s.Close()
			return nil, fmt.Errorf("%s: upgrading a run database of an earlier prosim: %w", path, err)
		}
	} else if v != schemaVersion {
		s.Close()
		return nil, fmt.Errorf("%s: run database schema %s, this prosim reads %s", path, v, schemaVersion)
	}
	return s, nil
}

// hasColumn reports whether table has the named column.
func hasColumn(q interface {
	QueryRow(string, ...any) *sql.Row
}, table, column string) (bool, error) {
	var n int
	err := q.QueryRow(`SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, table, column).Scan(&n)
	return n == 1, err
}

// migrate upgrades a database of schema 1 (written before model versions were recorded), 2
// (before repair turns were), 3 (before failed calls were told apart), 4 (before replies
// unusable after HTTP 200 were), 5 (before the calls of asks not recorded, and replies
// saying no token usage, were) or 6 (before the unrecorded table counted its replies without
// usage) to 7:
// schema 1's decisions get model_version "" (unknown); the repairs and unrecorded tables are
// created empty by the DDL (earlier runs kept only the last attempt, and counted the calls of
// an ask cut off by an interrupt nowhere); earlier decisions get failed_calls 0 (their calls,
// failed ones included, are in calls), unusable_calls 0 (such calls are among their failed
// calls, at no cost) and no_usage_calls 0 (such replies were counted at 0 tokens, at no
// cost), as do a schema 6 database's decisions written before that column was (schema 6 was
// not yet released then); a schema 6 unrecorded table's rows get no_usage_calls 0 (their
// replies without usage were counted at their worst case, without being named). Adding a
// column with a default rewrites no row, so this is instant whatever the run's size.
func (s *Store) migrate(from string) error {
	return s.syncedTx(func(tx *sql.Tx) error {
		if from == "1" {
			if _, err := tx.Exec(`ALTER TABLE decisions ADD COLUMN model_version TEXT NOT NULL DEFAULT ''`); err != nil {
				return err
			}
		}
		if from < "4" { // one digit: compared as numbers
			if _, err := tx.Exec(`ALTER TABLE decisions ADD COLUMN failed_calls INTEGER NOT NULL DEFAULT 0`); err != nil {
				return err
			}
		}
		if from < "5" {
			if _, err := tx.Exec(`ALTER TABLE decisions ADD COLUMN unusable_calls INTEGER NOT NULL DEFAULT 0`); err != nil {
				return err
			}
		}
		// Schema 6 has decisions.no_usage_calls, but for databases written before the column
		// was; an unrecorded table made by the DDL of this prosim (schema 5 or before) has its
		// no_usage_calls.
		for _, table := range []string{"decisions", "unrecorded"} {
			if has, err := hasColumn(tx, table, "no_usage_calls"); err != nil {
				return err
			} else if !has {
				if _, err := tx.Exec(`ALTER TABLE ` + table + ` ADD COLUMN no_usage_calls INTEGER NOT NULL DEFAULT 0`); err != nil {
					return err
				}
			}
		}
		_, err := tx.Exec(`UPDATE meta SET value = ? WHERE key = 'schema_version'`, schemaVersion)
		return err
	})
}

// OpenExisting opens the run database of a run directory that must have one, for resume,
// report and export. It writes nothing (but upgrades the database of an earlier prosim in
// place, see migrate), and fails naming the file when the database is
// missing, empty (0 bytes), not a prosim run database, or from a run whose creation was
// interrupted (no runs recorded): such a folder has nothing to resume or report, and must not
// be mistaken for a run with no decisions.
func OpenExisting(path string) (*Store, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, notCreated(fmt.Sprintf("%s does not exist: the folder has no run database (it was deleted, or the run's creation was stopped before it made one)", path))
	}
	if err != nil {
		return nil, err
	}
	if wal, werr := os.Stat(path + "-wal"); fi.Size() == 0 && (werr != nil || wal.Size() == 0) {
		return nil, fmt.Errorf("%s is empty (0 bytes): no run is recorded in it (start the run again with prosim run)", path)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var tables int
	err = db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name IN ('meta','runs','agents','decisions')`).Scan(&tables)
	db.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable run database: %w", path, err)
	}
	if tables != 4 {
		return nil, fmt.Errorf("%s is not a prosim run database (it lacks prosim's tables)", path)
	}
	s, err := Open(path)
	if err != nil {
		return nil, err
	}
	var runs int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&runs); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if runs == 0 {
		s.Close()
		return nil, notCreated(fmt.Sprintf("%s records no runs: the run's creation was interrupted before its design was written", path))
	}
	return s, nil
}

// ErrNotCreated is in OpenExisting's error for a database that is missing or records no runs:
// the run's creation did not finish. Nothing was decided, so a resume of a folder that has
// its config.yaml and no manifest yet can finish the creation (engine.Resume).
var ErrNotCreated = errors.New("the run's creation did not finish")

type notCreated string

func (e notCreated) Error() string        { return string(e) }
func (e notCreated) Is(target error) bool { return target == ErrNotCreated }

// Close flushes pending decisions and closes the database.
func (s *Store) Close() error {
	ferr := s.Flush()
	s.cmu.Lock()
	for _, st := range append(s.inserts[:], s.repIns, s.repDel) {
		if st != nil {
			st.Close()
		}
	}
	s.inserts, s.repIns, s.repDel = [rowsPerInsert + 1]*sql.Stmt{}, nil, nil
	s.closeDirect()
	s.cmu.Unlock()
	s.lookupMu.Lock()
	for _, st := range []*sql.Stmt{s.lookup, s.at} {
		if st != nil {
			st.Close()
		}
	}
	s.lookup, s.at = nil, nil
	s.lookupMu.Unlock()
	werr := s.wal.close() // the last write's fsync, in case another connection keeps the WAL
	cerr := s.db.Close()
	untrack(s)
	return errors.Join(ferr, werr, cerr)
}

// SetMeta stores a metadata value.
func (s *Store) SetMeta(key, value string) error {
	_, err := s.db.Exec(`INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value`, key, value)
	return s.synced(err)
}

// Meta returns a metadata value, "" when absent.
func (s *Store) Meta(key string) (string, error) {
	var v string
	err := s.db.QueryRow(`SELECT value FROM meta WHERE key=?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// PutRuns records the design's runs (idempotent).
func (s *Store) PutRuns(runs []Run) error {
	return s.syncedTx(func(tx *sql.Tx) error {
		for _, r := range runs {
			if _, err := tx.Exec(`INSERT OR REPLACE INTO runs VALUES(?,?,?,?,?,?,?)`, r.ID, r.Ord, r.Backend, r.Condition, r.Policy, r.Replicate, fmt.Sprint(r.Seed)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Runs returns the runs in design order.
func (s *Store) Runs() ([]Run, error) {
	rows, err := s.db.Query(`SELECT run_id, ord, backend, condition, policy, replicate, seed FROM runs ORDER BY ord`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var seed string
		if err := rows.Scan(&r.ID, &r.Ord, &r.Backend, &r.Condition, &r.Policy, &r.Replicate, &seed); err != nil {
			return nil, err
		}
		fmt.Sscan(seed, &r.Seed)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Agent is a stored agent: its persona as JSON and its rendered text.
type Agent struct {
	ID      int
	Persona json.RawMessage
	Text    string
}

// PutAgents records the population (idempotent). It stops when ctx is done, checked every
// agentsPerCheck rows, and records none then: 300,000 agents took 20 s (QA14 F3).
func (s *Store) PutAgents(ctx context.Context, agents []Agent) error {
	return s.syncedTx(func(tx *sql.Tx) error {
		st, err := tx.Prepare(`INSERT OR REPLACE INTO agents VALUES(?,?,?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i, a := range agents {
			if i%agentsPerCheck == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if _, err := st.Exec(a.ID, string(a.Persona), a.Text); err != nil {
				return err
			}
		}
		return nil
	})
}

// agentsPerCheck is how many agents PutAgents writes between checks of its context: a few
// milliseconds' work.
const agentsPerCheck = 1000

// Agents returns the stored population in id order.
func (s *Store) Agents() ([]Agent, error) {
	rows, err := s.db.QueryContext(s.reads, `SELECT agent_id, persona, text FROM agents ORDER BY agent_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Agent
	for rows.Next() {
		var a Agent
		var p string
		if err := rows.Scan(&a.ID, &p, &a.Text); err != nil {
			return nil, err
		}
		a.Persona = json.RawMessage(p)
		out = append(out, a)
	}
	return out, rows.Err()
}

// BeforeWrite sets f to run before each write of decisions, after they are taken from the
// queue: whatever f waits for was done before any of them is written. The run's own reply
// cache (engine/runcache.go) flushes its queued replies so: a reply is in the cache's file
// before its decision is in the store, so a run killed between the two (kill -9) and resumed
// shares that reply with its twins instead of asking them again. Call it before any write.
func (s *Store) BeforeWrite(f func()) { s.beforeWrite = f }

// Commit records decisions durably before it returns: once it returns, the process's death
// (kill -9, a crash) loses none of them, and a power loss only those of the last few
// milliseconds, which the WAL's fsync has not reached yet (sync.go). Use it for replies that
// were paid for; Add is for decisions that are free to make again.
//
// Concurrent callers share transactions (group commit). The first caller to find no group
// open opens one and leads it: it waits for the write in progress, if any, then closes the
// group and writes everything pending in one transaction. Callers arriving meanwhile join the
// group and wait for its result, which they all share: nil once their rows are committed, or
// the write's error. So N workers cost about one SQLite transaction per write, not N, and none
// waits for a write beyond the one in progress and its own.
func (s *Store) Commit(ds ...Decision) error {
	g, lead := s.join(ds)
	if lead {
		s.lead(g)
	}
	return Pending{g}.Wait()
}

// Start is Commit without the wait: it queues ds for the same group commit and returns at
// once; the returned Pending's Wait gives the commit's result (nil once ds are durable). A
// group Start opens is written by a goroutine of its own, so the caller can go on (send its
// next call) while the write runs. ds are copied: the caller may reuse the slice.
func (s *Store) Start(ds ...Decision) Pending {
	g, lead := s.join(ds)
	if lead {
		go s.lead(g)
	}
	return Pending{g}
}

// join queues ds and joins the open group, or opens one (lead is then true: the caller must
// see that s.lead(g) runs).
func (s *Store) join(ds []Decision) (g *group, lead bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue(ds...)
	if s.gathering != nil {
		return s.gathering, false
	}
	s.gathering = &group{done: make(chan struct{})}
	return s.gathering, true
}

// lead writes group g: it waits for the write in progress, closes the group (later callers
// open the next) and writes everything pending.
func (s *Store) lead(g *group) {
	s.cmu.Lock()
	s.mu.Lock()
	s.gathering = nil
	s.mu.Unlock()
	g.err = s.flushLocked()
	s.cmu.Unlock()
	close(g.done)
}

// group is the Commit and Start calls that share one write.
type group struct {
	done chan struct{} // closed when the write ended; err is set before
	err  error
}

// Pending is a commit under way (Start).
type Pending struct{ g *group }

// Wait returns once the commit has ended: nil when its decisions are durable, else the
// write's error (the decisions are then still queued, for a later write to try again).
func (p Pending) Wait() error {
	<-p.g.done
	return p.g.err
}

// Done reports whether the commit has ended (Wait would not block).
func (p Pending) Done() bool {
	select {
	case <-p.g.done:
		return true
	default:
		return false
	}
}

// queue appends ds to pending, in a spare array when pending has none; the caller holds mu.
func (s *Store) queue(ds ...Decision) {
	if s.pending == nil {
		s.pending = s.spares[0]
		s.spares = [2][]Decision{s.spares[1], nil}
	}
	s.pending = append(s.pending, ds...)
}

// Add queues a decision; it is committed with the next batch. Call Flush to commit now.
func (s *Store) Add(d Decision) error {
	s.mu.Lock()
	s.queue(d)
	full := len(s.pending) >= s.batch
	s.mu.Unlock()
	if full {
		return s.Flush()
	}
	return nil
}

// Flush commits queued decisions in one transaction. When it returns nil, every decision
// queued before the call is committed.
func (s *Store) Flush() error {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.flushLocked()
}

// flushLocked writes everything pending in one transaction; the caller holds cmu. On error
// the decisions go back to pending, so a later write (Close's flush) can try again: a paid
// reply whose Commit failed is not dropped.
func (s *Store) flushLocked() error {
	s.mu.Lock()
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	if err := s.wal.failed(); err != nil {
		// The disk refused an fsync: nothing written now could be called durable.
		s.mu.Lock()
		s.pending = append(pending, s.pending...)
		s.mu.Unlock()
		return err
	}
	if s.beforeWrite != nil {
		s.beforeWrite()
	}
	var err error
	if len(pending) <= rowsPerInsert && !s.repairs.Load() &&
		!slices.ContainsFunc(pending, func(d Decision) bool { return len(d.Reply.Repairs) > 0 }) {
		// One statement needs no BEGIN and COMMIT: SQLite runs it as its own transaction,
		// as atomic and as durable when it returns (in the WAL; the disk's fsync follows, sync.go). A group commit is
		// usually this one statement, and each BEGIN and COMMIT was prepared anew.
		err = s.execDirect(len(pending), s.argsOf(pending))
	} else if err = s.prepare(pending); err == nil {
		err = s.tx(func(tx *sql.Tx) error {
			if err := s.writeRepairs(tx, pending); err != nil {
				return err
			}
			// Rows go rowsPerInsert to a statement: each statement costs database/sql and
			// SQLite a round of locking, binding and resetting, which one row alone pays in full.
			for batch := pending; len(batch) > 0; {
				n := min(len(batch), rowsPerInsert)
				if _, err := tx.Stmt(s.inserts[n]).Exec(s.argsOf(batch[:n])...); err != nil {
					return err
				}
				batch = batch[n:]
			}
			return nil
		})
	}
	clear(s.args[:cap(s.args)])
	if err == nil {
		s.wal.wrote()
		s.writes.Add(1)
		clear(pending) // drop the replies' strings and maps
		s.mu.Lock()
		if s.spares[0] == nil {
			s.spares[0] = pending[:0]
		} else {
			s.spares[1] = pending[:0]
		}
		s.mu.Unlock()
	} else {
		// Put them back so a later Flush can try again; nothing acknowledged is dropped.
		s.mu.Lock()
		s.pending = append(pending, s.pending...)
		s.mu.Unlock()
	}
	return err
}

// execDirect runs the insert of n decisions, args, as one statement on the store's
// connection through its driver: database/sql converts a statement's arguments into a
// []driver.NamedValue made anew every time (20 a decision, 40 bytes each: most of what a
// commit allocated), where this one is kept from write to write. The statements are
// prepared on the driver connection and kept while database/sql keeps that connection (it
// replaces one that broke). The caller holds cmu.
func (s *Store) execDirect(n int, args []any) error {
	ctx := context.Background()
	c, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		if dc != s.directConn { // the first write, or on a new connection: its own statements
			s.direct, s.directConn = [rowsPerInsert + 1]driver.Stmt{}, dc
		}
		st := s.direct[n]
		if st == nil {
			p, ok := dc.(driver.ConnPrepareContext)
			if !ok {
				return fmt.Errorf("the sqlite driver's connection (%T) cannot prepare a statement", dc)
			}
			if st, err = p.PrepareContext(ctx, insertSQL(n)); err != nil {
				return err
			}
			s.direct[n] = st
		}
		ex, ok := st.(driver.StmtExecContext)
		if !ok {
			return fmt.Errorf("the sqlite driver's statement (%T) cannot run", st)
		}
		s.named = s.named[:0]
		for i, a := range args {
			s.named = append(s.named, driver.NamedValue{Ordinal: i + 1, Value: a})
		}
		_, err := ex.ExecContext(ctx, s.named)
		clear(s.named) // drop the strings
		return err
	})
}

// closeDirect finalizes execDirect's statements (the caller holds cmu): SQLite does not close
// a connection with statements left open (nor remove its write-ahead log).
func (s *Store) closeDirect() {
	if s.directConn == nil {
		return
	}
	if c, err := s.db.Conn(context.Background()); err == nil {
		c.Raw(func(dc any) error {
			if dc == s.directConn { // else its connection, and they with it, are gone
				for _, st := range s.direct {
					if st != nil {
						st.Close()
					}
				}
			}
			return nil
		})
		c.Close()
	}
	s.direct, s.directConn = [rowsPerInsert + 1]driver.Stmt{}, nil
}

// prepare prepares the statements a write of batch uses that are not yet prepared. It runs
// before the transaction: the store's one connection is the transaction's while it is open.
func (s *Store) prepare(batch []Decision) error {
	var err error
	for _, n := range []int{min(len(batch), rowsPerInsert), len(batch) % rowsPerInsert} {
		if n > 0 && s.inserts[n] == nil {
			if s.inserts[n], err = s.db.Prepare(insertSQL(n)); err != nil {
				return err
			}
		}
	}
	if s.repIns != nil || !s.repairs.Load() && !slices.ContainsFunc(batch, func(d Decision) bool { return len(d.Reply.Repairs) > 0 }) {
		return nil
	}
	if s.repDel, err = s.db.Prepare(`DELETE FROM repairs WHERE run_id=? AND agent_id=? AND round=? AND trial=? AND scenario=?`); err != nil {
		return err
	}
	s.repIns, err = s.db.Prepare(`INSERT INTO repairs VALUES(?,?,?,?,?,?,?,?,?)`)
	return err
}

// writeRepairs writes the repair turns of a batch's decisions. A decision asked again
// (resume --retry-invalid) must not keep the repairs of the reply it replaces; the delete is
// skipped while no run wrote any.
func (s *Store) writeRepairs(tx *sql.Tx, batch []Decision) error {
	var rep, del *sql.Stmt
	for _, d := range batch {
		if len(d.Reply.Repairs) == 0 && !s.repairs.Load() {
			continue
		}
		if rep == nil {
			rep, del = tx.Stmt(s.repIns), tx.Stmt(s.repDel)
		}
		if _, err := del.Exec(d.RunID, d.AgentID, d.Round, d.Trial, d.Scenario); err != nil {
			return err
		}
		for i, a := range d.Reply.Repairs {
			if _, err := rep.Exec(d.RunID, d.AgentID, d.Round, d.Trial, d.Scenario, i+1, a.Raw, a.Invalid, a.Repair); err != nil {
				return err
			}
		}
		s.repairs.Store(true)
	}
	return nil
}

// rowsPerInsert is how many decisions one INSERT statement writes (22 parameters each: well
// under SQLite's limit of 32,766).
const rowsPerInsert = 64

// decisionColumns is the number of columns of the decisions table.
const decisionColumns = 22

// insertSQL inserts n decisions. A decision recorded again (resume --retry-invalid, or a
// later step re-asked after it) takes the new reply but adds its calls, tokens and cost to
// those already recorded: they were paid for, so the run's calls still add up to the
// provider's count.
func insertSQL(n int) string {
	row := "(?" + strings.Repeat(",?", decisionColumns-1) + ")"
	return "INSERT INTO decisions VALUES" + row + strings.Repeat(","+row, n-1) +
		` ON CONFLICT(run_id, agent_id, round, trial, scenario) DO UPDATE SET params=excluded.params,
		  vals=excluded.vals, raw=excluded.raw, valid=excluded.valid, invalid_reason=excluded.invalid_reason,
		  provider=excluded.provider, model=excluded.model, cached=excluded.cached,
		  calls=calls+excluded.calls, failed_calls=failed_calls+excluded.failed_calls, unusable_calls=unusable_calls+excluded.unusable_calls,
		  no_usage_calls=no_usage_calls+excluded.no_usage_calls, input_tokens=input_tokens+excluded.input_tokens,
		  output_tokens=output_tokens+excluded.output_tokens, cost_usd=cost_usd+excluded.cost_usd,
		  latency_ms=excluded.latency_ms, model_version=excluded.model_version`
}

// argsOf are the columns of batch's decisions, in the store's argument array (the caller
// holds cmu; flushLocked clears it after its write).
func (s *Store) argsOf(batch []Decision) []any {
	s.args = s.args[:0]
	for _, d := range batch {
		s.args = appendDecision(s.args, d)
	}
	return s.args
}

// appendDecision appends d's columns, in the table's order. Integers go as int64, a
// driver.Value that database/sql passes on as is (an int is converted through reflection).
func appendDecision(args []any, d Decision) []any {
	var vals any
	if d.Reply.Values != nil {
		vals = string(encodeFloats(d.Reply.Values))
	}
	var cost any
	if !math.IsNaN(d.Reply.CostUSD) {
		cost = d.Reply.CostUSD
	}
	r := d.Reply
	return append(args, d.RunID, int64(d.AgentID), int64(d.Round), int64(d.Trial), d.Scenario, string(encodeFloats(d.Params)), vals, r.Raw,
		b2i(r.Valid()), r.Invalid, r.Provider, r.Model, b2i(r.Cached), int64(r.Calls), int64(r.InputTokens), int64(r.OutputTokens),
		cost, float64(r.Latency)/float64(time.Millisecond), r.ModelVersion, int64(r.FailedCalls), int64(r.UnusableCalls), int64(r.NoUsageCalls))
}

// Decisions calls fn for every committed decision, ordered by run design order, agent, round,
// trial and scenario.
//
// Each run's decisions are read in turn, in the primary key's order, so SQLite walks the key's
// index rather than sorting the whole table (a quarter of the read's cost at 60,000 decisions).
// Decisions of a run the runs table does not name are not read (as the join did before).
func (s *Store) Decisions(fn func(Decision) error) error {
	return s.allDecisions(fn, false)
}

// DecisionsCounted is Decisions without each decision's params, raw reply and provider, left
// empty: what a count of the record reads (a replay's first pass, for its keys and the report's
// tally), without reading and decoding the rest of each row.
func (s *Store) DecisionsCounted(fn func(Decision) error) error {
	return s.allDecisions(fn, true)
}

func (s *Store) allDecisions(fn func(Decision) error, counted bool) error {
	runs, err := s.Runs()
	if err != nil {
		return err
	}
	sel := selectDecisions
	if counted {
		sel = selectCounted
	}
	for i := 1; i < len(runs); i++ {
		if runs[i].Ord == runs[i-1].Ord { // ties interleave in the order: one sorted read
			return s.scanDecisions(fn, counted, s.q(sel)+` JOIN runs r ON r.run_id = d.run_id
			  ORDER BY r.ord, agent_id, round, trial, scenario`)
		}
	}
	for _, r := range runs {
		if err := s.scanDecisions(fn, counted, s.q(sel)+` WHERE run_id = ? ORDER BY agent_id, round, trial, scenario`, r.ID); err != nil {
			return err
		}
	}
	return nil
}

// selectDecisions reads the decisions table (as d) in decisionScanner's column order; a query
// adds its join, filter and order.
const selectDecisions = `SELECT d.run_id, agent_id, round, trial, scenario, params, vals, raw, valid, invalid_reason,
  provider, model, model_version, cached, calls, failed_calls, unusable_calls, no_usage_calls, input_tokens, output_tokens, cost_usd, latency_ms
  FROM decisions d`

// selectCounted is selectDecisions without params, raw and provider (DecisionsCounted), in
// the order of a counting decisionScanner.
const selectCounted = `SELECT d.run_id, agent_id, round, trial, scenario, vals, valid, invalid_reason,
  model, model_version, cached, calls, failed_calls, unusable_calls, no_usage_calls, input_tokens, output_tokens, cost_usd, latency_ms
  FROM decisions d`

// decisions calls fn for every decision a query gives.
func (s *Store) decisions(fn func(Decision) error, query string, args ...any) error {
	return s.scanDecisions(fn, false, query, args...)
}

// scanDecisions calls fn for every decision a query of selectDecisions' columns gives, or of
// selectCounted's when counted.
func (s *Store) scanDecisions(fn func(Decision) error, counted bool, query string, args ...any) error {
	rows, err := s.db.QueryContext(s.reads, query, args...)
	if err != nil {
		return err
	}
	return s.scanRows(rows, fn, counted)
}

// scanRows calls fn for every decision of rows, and closes them.
func (s *Store) scanRows(rows *sql.Rows, fn func(Decision) error, counted bool) error {
	defer rows.Close()
	c := newDecisionScanner()
	if counted {
		c = newCountingScanner()
	}
	for rows.Next() {
		s.rowsRead.Add(1)
		d, err := c.scan(rows)
		if err != nil {
			return err
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CountDecisions returns how many decisions are committed.
func (s *Store) CountDecisions() (int, error) {
	var n int
	err := s.db.QueryRow(`SELECT COUNT(*) FROM decisions`).Scan(&n)
	return n, err
}

// syncedTx is tx for a rare write, fsynced before it returns (synced).
func (s *Store) syncedTx(fn func(*sql.Tx) error) error { return s.synced(s.tx(fn)) }

func (s *Store) tx(fn func(*sql.Tx) error) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Exists reports whether a run database is at path.
func Exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Batch is a provider batch job submitted in batch mode: its id and the custom ids of its
// requests, so that a resumed run polls it rather than submitting its requests again.
type Batch struct {
	Backend   string
	ID        string
	CustomIDs []string
}

// PutBatch records a submitted batch job (committed at once: it is paid for).
func (s *Store) PutBatch(b Batch) error {
	ids, err := json.Marshal(b.CustomIDs)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(`INSERT INTO batches(backend, batch_id, custom_ids, submitted) VALUES(?, ?, ?, ?)`,
		b.Backend, b.ID, string(ids), time.Now().UTC().Format(time.RFC3339))
	return s.synced(err)
}

// Batches returns the recorded batch jobs in the order they were submitted.
func (s *Store) Batches() ([]Batch, error) {
	rows, err := s.db.Query(`SELECT backend, batch_id, custom_ids FROM batches ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Batch
	for rows.Next() {
		var b Batch
		var ids string
		if err := rows.Scan(&b.Backend, &b.ID, &ids); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(ids), &b.CustomIDs); err != nil {
			return nil, fmt.Errorf("batches: job %s: %w", b.ID, err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// Unrecorded is what the calls of one backend (its label) that no recorded decision holds
// spent: an ask cut off by an interrupt (Ctrl-C) after its request was sent, one whose error
// stopped the run, a cluster task decided twice (its second reply). The provider may have
// billed them, so they are kept beside the decisions (the unrecorded table) and count in the
// run's calls and spend.
type Unrecorded struct {
	Backend                           string
	Calls, FailedCalls, UnusableCalls int
	// NoUsageCalls are those of its calls whose reply said no token usage (counted at their
	// worst case, as a decision's are).
	NoUsageCalls              int
	InputTokens, OutputTokens int
	// CostUSD is NaN when unknown (stored as NULL, and a later known cost added to it stays
	// unknown).
	CostUSD float64
}

// AddUnrecorded adds us to what the unrecorded table holds for their backends.
func (s *Store) AddUnrecorded(us []Unrecorded) error {
	if len(us) == 0 {
		return nil
	}
	return s.syncedTx(func(tx *sql.Tx) error {
		for _, u := range us {
			var cost any
			if !math.IsNaN(u.CostUSD) {
				cost = u.CostUSD
			}
			if _, err := tx.Exec(`INSERT INTO unrecorded(backend, calls, failed_calls, unusable_calls, input_tokens, output_tokens, cost_usd, no_usage_calls)
			  VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(backend) DO UPDATE SET
			  calls=calls+excluded.calls, failed_calls=failed_calls+excluded.failed_calls,
			  unusable_calls=unusable_calls+excluded.unusable_calls, input_tokens=input_tokens+excluded.input_tokens,
			  output_tokens=output_tokens+excluded.output_tokens, cost_usd=cost_usd+excluded.cost_usd,
			  no_usage_calls=no_usage_calls+excluded.no_usage_calls`,
				u.Backend, u.Calls, u.FailedCalls, u.UnusableCalls, u.InputTokens, u.OutputTokens, cost, u.NoUsageCalls); err != nil {
				return err
			}
		}
		return nil
	})
}

// UnrecordedSpend is the unrecorded table by backend; none for a run database of an earlier
// prosim opened read-only (schema 5 or before, which has no such table), and no calls without
// usage for one of schema 6 (which did not name them).
func (s *Store) UnrecordedSpend() ([]Unrecorded, error) {
	var has int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='unrecorded'`).Scan(&has); err != nil || has == 0 {
		return nil, err
	}
	noUsage := "no_usage_calls"
	if ok, err := hasColumn(s.db, "unrecorded", noUsage); err != nil {
		return nil, err
	} else if !ok {
		noUsage = "0"
	}
	rows, err := s.db.Query(`SELECT backend, calls, failed_calls, unusable_calls, ` + noUsage + `, input_tokens, output_tokens, cost_usd FROM unrecorded ORDER BY backend`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Unrecorded
	for rows.Next() {
		var u Unrecorded
		var cost sql.NullFloat64
		if err := rows.Scan(&u.Backend, &u.Calls, &u.FailedCalls, &u.UnusableCalls, &u.NoUsageCalls, &u.InputTokens, &u.OutputTokens, &cost); err != nil {
			return nil, err
		}
		u.CostUSD = math.NaN()
		if cost.Valid {
			u.CostUSD = cost.Float64
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
