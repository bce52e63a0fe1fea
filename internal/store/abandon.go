package store

import (
	"context"
	"sync"
	"time"
)

// opened are the stores of this process not yet closed, for CloseOpen.
var opened struct {
	sync.Mutex
	m map[*Store]struct{}
}

// track records s as open and gives it the context its long reads run under, which
// CloseOpen cancels.
func track(s *Store) *Store {
	s.reads, s.cancel = context.WithCancel(context.Background())
	opened.Lock()
	defer opened.Unlock()
	if opened.m == nil {
		opened.m = map[*Store]struct{}{}
	}
	opened.m[s] = struct{}{}
	return s
}

func untrack(s *Store) {
	opened.Lock()
	delete(opened.m, s)
	opened.Unlock()
	s.cancel()
}

// CloseOpen closes the databases of every open store, for a process about to exit in the
// middle of a command (an abandoned report, export or analysis runs no deferred Close):
// SQLite removes a database's -wal and -shm files with its last connection, so the run folder
// is left without them. A read in progress is interrupted and its connection closed when it
// lets go of it; CloseOpen waits for that at most wait. Pending decisions are not flushed:
// what is not committed is lost at an exit anyway.
func CloseOpen(wait time.Duration) {
	opened.Lock()
	var ss []*Store
	for s := range opened.m {
		ss = append(ss, s)
	}
	opened.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, s := range ss {
			s.cancel()
			// The driver-level insert statements hold the connection (and so the WAL) open
			// past db.Close: finalize them first, as Close does.
			s.cmu.Lock()
			s.closeDirect()
			s.cmu.Unlock()
			s.db.Close()
		}
		for _, s := range ss {
			for s.db.Stats().OpenConnections > 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(wait):
	}
}
