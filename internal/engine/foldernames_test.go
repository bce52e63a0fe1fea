package engine

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A page names run folders, never by their path (a page moves with its runs): by name, or by
// the shortest ending of the path that tells folders of the same name apart.
func TestFolderNames(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ dirs, want []string }{
		{[]string{"/home/ann/runs/study1-20260101"}, []string{"study1-20260101"}},
		{[]string{"runs/a/", "."}, []string{"a", filepath.Base(wd)}},
		{[]string{"/home/ann/a/run", "/home/ann/b/run", "/home/ann/c"}, []string{"a/run", "b/run", "c"}},
		{[]string{"/x/p/a/run", "/y/q/a/run"}, []string{"p/a/run", "q/a/run"}},
		{[]string{"/home/ann/run", "/home/ann/run/"}, []string{"run", "run (2)"}},
	} {
		if got := FolderNames(c.dirs); !slices.Equal(got, c.want) {
			t.Errorf("FolderNames(%q) = %q, want %q", c.dirs, got, c.want)
		}
	}
}

// Two runs of one experiment in folders of the same name (a/run and b/run): the comparison
// tells them apart in its title and headings, and names no path (QA5: it listed both by
// absolute path and headed both designs "Design: s1fix (run)").
func TestCompareReportOfSameNamedFolders(t *testing.T) {
	src := study1Fixture(t)
	parent := t.TempDir()
	var dirs []string
	for _, d := range []string{"a", "b"} {
		dir := filepath.Join(parent, d, "run")
		if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	doc := render(t, dirs...)
	wellFormed(t, doc)
	mustContain(t, doc, "<title>prosim comparison: a/run vs b/run</title>",
		"Run directories: <code>a/run</code>, <code>b/run</code>.",
		">Design: s1fix (a/run)</h2>", ">Design: s1fix (b/run)</h2>",
		"<h3>s1fix (a/run)</h3>", "<h3>s1fix (b/run)</h3>",
		"policy [a/run]</h2>", "policy [b/run]</h2>")
	if strings.Contains(doc, parent) {
		t.Errorf("the comparison names its runs by path (%s)", parent)
	}
}
