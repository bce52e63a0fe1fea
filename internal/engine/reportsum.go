package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"

	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/runlock"
	"github.com/prosim/prosim/internal/writing"
)

// ReportSumFile, in a run directory, records what the run's report.html was rendered from
// when the run completed: the SHA-256 of every other file of the folder (its database, config,
// inputs, manifest, results), the folder's name (the page names it) and the running prosim
// program's. The same program renders the same files into the same page, so while all of
// them are unchanged report.html is the page a replay of the run would render
// (CurrentReport), and prosim serve need not replay a large run (seconds) to show it.
const ReportSumFile = "report.sum"

// reportSum is ReportSumFile's content.
type reportSum struct {
	Format int                `json:"format"`
	Prosim string             `json:"prosim"` // the program's SHA-256 (programSum)
	Folder string             `json:"folder"` // FolderNames' name of the run directory
	Report fileSum            `json:"report"`
	Files  map[string]fileSum `json:"files"` // every other file, by its slash path in the folder
}

type fileSum struct {
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// notSummed are the files of a run directory a report is not rendered from: the report,
// its record, and the run lock's file (empty; present whether or not a process holds it).
// prosim.db-shm is SQLite's index of the write-ahead log, which a reader's open rewrites: the
// log itself is summed, unless empty (a reader's open makes one and its close removes it).
var notSummed = map[string]bool{report.ReportFile: true, ReportSumFile: true, runlock.Name: true, dbFile + "-shm": true}

// folderFiles lists the files of run directory dir a report is rendered from, with their
// sizes. Anything but a regular file or a directory (a symbolic link, whose target may
// change) fails it: the folder's report is then never taken as current.
func folderFiles(dir string) (map[string]int64, error) {
	out := map[string]int64{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return nil
		case notSummed[rel]:
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file", path)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if rel == dbFile+"-wal" && fi.Size() == 0 {
			return nil
		}
		out[rel] = fi.Size()
		return nil
	})
	return out, err
}

// sumFile is the size and SHA-256 of the file at path.
func sumFile(path string) (fileSum, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileSum{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return fileSum{Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, err
}

// programSum is the SHA-256 of the running program: on Linux /proc/self/exe, the file it was
// started from even if another has replaced it at its path since.
var programSum = sync.OnceValues(func() (string, error) {
	path := "/proc/self/exe"
	if _, err := os.Stat(path); err != nil {
		if path, err = os.Executable(); err != nil {
			return "", err
		}
	}
	s, err := sumFile(path)
	return s.SHA256, err
})

// sealReport records in ReportSumFile what dir's report.html, just rendered by this run, was
// rendered from. The run's store and files are closed: nothing of it changes after. A failure
// leaves no record (the report is then replayed), as the record is only a shortcut.
func sealReport(dir string) error {
	os.Remove(filepath.Join(dir, ReportSumFile)) // a record of an earlier completion
	prog, err := programSum()
	if err != nil {
		return err
	}
	rep, err := sumFile(filepath.Join(dir, report.ReportFile))
	if err != nil {
		return err
	}
	sizes, err := folderFiles(dir)
	if err != nil {
		return err
	}
	s := reportSum{Format: 1, Prosim: prog, Folder: FolderNames([]string{dir})[0], Report: rep, Files: map[string]fileSum{}}
	for rel := range sizes {
		if s.Files[rel], err = sumFile(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return err
		}
	}
	js, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writing.File(filepath.Join(dir, ReportSumFile), func(w io.Writer) error { _, err := w.Write(append(js, '\n')); return err })
}

// CurrentReport returns run directory dir's report.html when it is provably the page a replay
// of the run would render now (RenderReportAs, the run labelled by its folder's name): its
// ReportSumFile was written by this same program, for a folder of the same name, and every
// file it sums, the report included, has the same bytes, with no file added or removed. ok is
// false otherwise (no record: a run of an earlier prosim, or one that did not complete; a
// resumed, edited or renamed folder; another prosim), and the run must be replayed.
func CurrentReport(dir string) (page []byte, ok bool) {
	js, err := os.ReadFile(filepath.Join(dir, ReportSumFile))
	if err != nil {
		return nil, false
	}
	var s reportSum
	if err := json.Unmarshal(js, &s); err != nil || s.Format != 1 {
		return nil, false
	}
	if prog, err := programSum(); err != nil || prog != s.Prosim || s.Folder != FolderNames([]string{dir})[0] {
		return nil, false
	}
	// Sizes first: a file added, removed or grown is told without reading any.
	sizes, err := folderFiles(dir)
	if err != nil || !maps.EqualFunc(sizes, s.Files, func(n int64, f fileSum) bool { return n == f.Bytes }) {
		return nil, false
	}
	// The page served is the bytes summed, read once.
	page, err = os.ReadFile(filepath.Join(dir, report.ReportFile))
	if err != nil || !s.Report.is(page) {
		return nil, false
	}
	for rel, want := range s.Files {
		got, err := sumFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil || got != want {
			return nil, false
		}
	}
	return page, true
}

// is reports whether b has f's size and SHA-256.
func (f fileSum) is(b []byte) bool {
	h := sha256.Sum256(b)
	return int64(len(b)) == f.Bytes && hex.EncodeToString(h[:]) == f.SHA256
}
