package store

import (
	"database/sql"
	"fmt"
	"os"
)

// OpenReadOnly opens a run database for reading only, while a run may be writing it: the
// connection is opened with mode=ro, takes no write lock and runs no DDL, so in WAL mode it
// reads the last committed state without ever blocking the writer (prosim serve polls live
// runs through it). Writing through the returned Store fails.
func OpenReadOnly(path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	var tables int
	if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name IN ('meta','runs','agents','decisions')`).Scan(&tables); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: not a readable run database: %w", path, err)
	}
	if tables != 4 {
		db.Close()
		return nil, fmt.Errorf("%s is not a prosim run database (it lacks prosim's tables)", path)
	}
	var has [3]bool
	for i, col := range []string{"failed_calls", "unusable_calls", "no_usage_calls"} {
		ok, err := hasColumn(db, "decisions", col)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		has[i] = ok
	}
	return track(&Store{db: db, batch: 500, noFailedCalls: !has[0], noUnusableCalls: !has[1], noNoUsageCalls: !has[2]}), nil
}

// Agent returns one stored agent; ok is false when the run did not record it.
func (s *Store) Agent(id int) (a Agent, ok bool, err error) {
	var p string
	err = s.db.QueryRow(`SELECT agent_id, persona, text FROM agents WHERE agent_id=?`, id).Scan(&a.ID, &p, &a.Text)
	if err == sql.ErrNoRows {
		return Agent{}, false, nil
	}
	if err != nil {
		return Agent{}, false, err
	}
	a.Persona = []byte(p)
	return a, true, nil
}

// Tidy removes the empty -wal file and the -shm file that read-only connections leave beside
// the database at path (a mode=ro connection creates them and cannot remove them at close;
// the last read-write connection does): it opens the database read-write, reads its schema
// and closes it. While another connection is open (a run writing it, another reader) SQLite
// keeps them, as it must. A -wal holding commits (a run killed before it closed) is left to
// the run's next open; a missing database is not created. For prosim serve, whose read-only
// reads would otherwise leave every run folder it showed with them.
func Tidy(path string) error {
	wal, werr := os.Stat(path + "-wal")
	_, serr := os.Stat(path + "-shm")
	if (werr == nil && wal.Size() > 0) || (werr != nil && serr != nil) {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=rw")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	var n int
	err = db.QueryRow(`SELECT COUNT(*) FROM sqlite_master`).Scan(&n)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
