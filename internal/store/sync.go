package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Durability. The database runs with synchronous=NORMAL in WAL mode: a write returns once its
// WAL frames are in the kernel's hands, so a process that dies (kill -9, a crash, an OOM kill,
// Ctrl-C) loses none of what was written; only a power loss or a kernel crash can lose what
// the disk has not got yet. That last step is the walSyncer's: a write of decisions wakes it
// and it fsyncs the WAL, at most once every syncEvery, one fsync for every write since its
// last; so a power loss can reach only the writes of the last syncEvery and the fsync under
// way (about 10 to 20 milliseconds), and no worker waits for the disk. synchronous=FULL made
// each group commit wait for its own fsync, and each worker for its last commit: at zero
// latency the cores idled between bursts and paid the wake-ups, and the kernel an fsync
// every 20 decisions (docs/performance.md). The store's other writes (runs, agents,
// metadata, batch jobs, unrecorded spend) are rare and some are money: they are fsynced
// before they return (syncNow).
type walSyncer struct {
	path  string        // the WAL's: the database's path + "-wal"
	kick  chan struct{} // capacity 1: a write since the last fsync began
	stop  chan struct{} // closed by Close
	ended chan struct{} // closed when the loop has returned
	once  sync.Once

	mu        sync.Mutex // guards f and dirSynced; held during an fsync
	f         *os.File
	dirSynced bool
	// err is the first failed fsync; every later write fails with it. Atomic: a write checks
	// it without waiting for an fsync in progress.
	err atomic.Pointer[error]

	syncs atomic.Int64 // fsyncs done (tests)
}

// fsyncFile is (*os.File).Sync; a test makes it fail.
var fsyncFile = (*os.File).Sync

// syncEvery is the shortest time between two fsyncs of the WAL, and so about the window of
// writes a power loss can reach.
var syncEvery = 10 * time.Millisecond

func newWALSyncer(dbPath string) *walSyncer {
	w := &walSyncer{path: dbPath + "-wal", kick: make(chan struct{}, 1), stop: make(chan struct{}), ended: make(chan struct{})}
	go w.loop()
	return w
}

// wrote wakes the loop after a write; it never blocks.
func (w *walSyncer) wrote() {
	if w == nil {
		return
	}
	select {
	case w.kick <- struct{}{}:
	default: // a wake-up is pending: its fsync will cover this write, which began before it
	}
}

func (w *walSyncer) loop() {
	defer close(w.ended)
	var last time.Time
	for {
		select {
		case <-w.kick:
			// At most one fsync every syncEvery: a fsync costs the kernel about as much CPU
			// whether it carries one write or fifty.
			if wait := syncEvery - time.Since(last); wait > 0 {
				select {
				case <-time.After(wait):
				case <-w.stop:
				}
			}
			last = time.Now()
			w.sync()
		case <-w.stop:
			select {
			case <-w.kick:
				w.sync()
			default:
			}
			return
		}
	}
}

// syncNow fsyncs the WAL before it returns (a rare write that must be on the disk).
func (w *walSyncer) syncNow() error { return w.sync() }

// sync fsyncs the WAL file the database writes now. SQLite keeps one WAL file while a
// connection is open, but a connection database/sql replaced may have removed it and made
// another: the file open here is checked against the path's each time. The first time a WAL
// file is synced its folder is too, so the file's name survives a power loss with its frames.
func (w *walSyncer) sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.failed(); err != nil {
		return err
	}
	if err := w.open(); err != nil || w.f == nil {
		return w.fail(err)
	}
	w.syncs.Add(1)
	return w.fail(fsyncFile(w.f))
}

// open makes w.f the WAL file at w.path (nil when there is none: nothing was written in WAL
// mode, or the last connection checkpointed and removed it). The caller holds mu.
func (w *walSyncer) open() error {
	cur, err := os.Stat(w.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	if w.f != nil {
		if fi, err := w.f.Stat(); err == nil && os.SameFile(fi, cur) {
			return nil
		}
		w.f.Close()
		w.f, w.dirSynced = nil, false
	}
	f, err := os.Open(w.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	w.f = f
	if !w.dirSynced {
		if d, err := os.Open(filepath.Dir(w.path)); err == nil {
			// Not every system can fsync a folder (some refuse it, as Windows does):
			// the WAL's frames are synced either way.
			d.Sync()
			d.Close()
		}
		w.dirSynced = true
	}
	return nil
}

// fail keeps the first fsync error (the caller holds mu): a failed fsync may have dropped the
// kernel's copy of the frames it did not write, so nothing later can be called durable.
func (w *walSyncer) fail(err error) error {
	if err != nil {
		err = fmt.Errorf("%s: fsync: %w (what was written since the last fsync may not be on the disk)", w.path, err)
		w.err.CompareAndSwap(nil, &err)
	}
	return w.failed()
}

// failed is the error of a failed fsync, nil while every one has succeeded (or w is nil: a
// store opened read-only writes nothing).
func (w *walSyncer) failed() error {
	if w == nil {
		return nil
	}
	if p := w.err.Load(); p != nil {
		return *p
	}
	return nil
}

// close ends the loop after a last fsync of what it was woken for, and closes the file.
func (w *walSyncer) close() error {
	if w == nil {
		return nil
	}
	w.once.Do(func() { close(w.stop) })
	<-w.ended
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	return w.failed()
}

// synced is what a rare write returns: its own error, else that of an fsync of the WAL
// made before returning (none for a store opened read-only).
func (s *Store) synced(err error) error {
	if err != nil || s.wal == nil {
		return err
	}
	return s.wal.syncNow()
}
