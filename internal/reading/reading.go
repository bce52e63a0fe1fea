// Package reading records which input file the process is reading, so that a Ctrl-C handler
// can stop a read that does not end on its own (a named pipe, a device, a file on a hung
// network mount): reading writes nothing, so exiting there loses nothing.
package reading

import "sync"

var (
	mu    sync.Mutex
	files = map[int]string{}
	next  int
)

// Begin records that path is being read, until the returned function is called.
func Begin(path string) (end func()) {
	mu.Lock()
	defer mu.Unlock()
	id := next
	next++
	files[id] = path
	return func() {
		mu.Lock()
		delete(files, id)
		mu.Unlock()
	}
}

// Now is a file being read, or "" when none is.
func Now() string {
	mu.Lock()
	defer mu.Unlock()
	for _, f := range files {
		return f
	}
	return ""
}
