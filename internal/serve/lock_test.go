package serve

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// A slow disk stalls only the request that reads it: dirOf and rescan look at run folders
// without the server's lock held, so the list of runs is served meanwhile.
func TestFolderChecksOutsideTheLock(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "r1")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.yaml", "prosim.db"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(context.Background(), Options{Roots: []string{root}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	var entered, release chan struct{}
	lstat = func(p string) (fs.FileInfo, error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		return os.Lstat(p)
	}
	defer func() { lstat = os.Lstat }()
	for _, c := range []struct {
		name string
		slow func()
	}{{"dirOf", func() { s.dirOf(context.Background(), "r1") }}, {"rescan", s.rescan}} {
		entered, release = make(chan struct{}, 1), make(chan struct{})
		done := make(chan struct{})
		go func() { c.slow(); close(done) }()
		<-entered
		listed := make(chan []string, 1)
		go func() { listed <- s.runsSorted() }()
		select {
		case ids := <-listed:
			if !slices.Equal(ids, []string{"r1"}) {
				t.Errorf("%s: runs %v, want [r1]", c.name, ids)
			}
		case <-time.After(2 * time.Second):
			t.Errorf("%s: the list of runs waited for a folder's files to be read", c.name)
		}
		close(release)
		<-done
	}
}
