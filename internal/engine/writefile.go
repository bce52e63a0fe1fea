package engine

import (
	"io"
	"os"

	"github.com/prosim/prosim/internal/writing"
)

// writeFile writes path through a temporary file renamed into place, so a crash never leaves
// a half-written result looking complete.
func writeFile(path string, fill func(io.Writer) error) error {
	tmp := path + ".tmp"
	defer writing.Begin(tmp)()
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
