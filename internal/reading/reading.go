// Package reading records which input file the process is reading, so that a Ctrl-C handler
// can stop a read that does not end on its own (a named pipe, a device, a file on a hung
// network mount): reading writes nothing, so exiting there loses nothing.
package reading

import "github.com/prosim/prosim/internal/inflight"

var files inflight.Files

// Begin records that path is being read, until the returned function is called.
func Begin(path string) (end func()) { return files.Begin(path) }

// Now is a file being read, or "" when none is.
func Now() string { return files.Any() }
