package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/manifest"
)

// Golden tests: every number a user reads after `prosim run` on an example (the printed summary,
// the files under results/, the resolved config.yaml, the text of report.html and the stable
// fields of manifest.json) is compared with the files under testdata/golden/. Rewrite them with
//
//	go test ./cmd/prosim -run Golden -update
//
// and say in the commit message why the numbers changed.
var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

const (
	goldenDir = "testdata/golden"
	// Files under results/ at least this large are pinned by line count, header and SHA-256
	// (<file>.sha256) instead of a byte-for-byte copy, so the repository stays small.
	goldenMaxCopy = 256 << 10
)

// goldenSubstitutes runs a smaller config in place of an example too slow for a test.
// testdata/golden/study3-summary.yaml is examples/study3-million.yaml with population n: 3000
// and inequity k: 10; network.store: summary stays on, so the summary-store path is covered.
var goldenSubstitutes = map[string]struct{ file, from, to string }{
	// examples/sensitivity.yaml with 12 agents instead of 104 (37,440 decisions).
	"sensitivity": {
		file: "sensitivity-small.yaml",
		from: "population: {source: sample, n: 104}",
		to:   "population: {source: sample, n: 12}",
	},
	"study3-million": {
		file: "study3-summary.yaml",
		from: "population: {source: sample, n: 1000000}\n|inequity: {preset: reward, k: 1000, from: 2}",
		to:   "population: {source: sample, n: 3000}\n|inequity: {preset: reward, k: 10, from: 2}",
	},
}

func TestGolden(t *testing.T) {
	examples, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, ex := range examples {
		name := strings.TrimSuffix(filepath.Base(ex), ".yaml")
		file := ex
		if sub, ok := goldenSubstitutes[name]; ok {
			file = filepath.Join(goldenDir, sub.file)
			checkSubstitute(t, ex, file, sub.from, sub.to)
			name = strings.TrimSuffix(sub.file, ".yaml")
		}
		t.Run(name, func(t *testing.T) {
			// Each run has its own directory and seed; the examples share no state.
			t.Parallel()
			goldenRun(t, file, filepath.Join(goldenDir, name))
		})
	}
}

// checkSubstitute fails when the example changed and its test copy did not follow (comment
// lines aside).
func checkSubstitute(t *testing.T, example, testCopy, from, to string) {
	t.Helper()
	src, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	want := string(src)
	for i, f := range strings.Split(from, "|") {
		if !strings.Contains(want, f) {
			t.Fatalf("%s no longer contains %q: update %s and goldenSubstitutes", example, f, testCopy)
		}
		want = strings.Replace(want, f, strings.Split(to, "|")[i], 1)
	}
	got, err := os.ReadFile(testCopy)
	if err != nil {
		t.Fatal(err)
	}
	if dropComments(string(got)) != dropComments(want) {
		t.Fatalf("%s is not %s with %q replaced by %q (comments aside): update it", testCopy, example, from, to)
	}
}

func dropComments(s string) string {
	var b strings.Builder
	for l := range strings.Lines(s) {
		if !strings.HasPrefix(l, "#") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// The run's duration in the last lines of the summary: "(9360 asked now, 691ms)." and
// "(network.store: summary; 1.2s).".
var durationRE = regexp.MustCompile(`(asked now, |network\.store: summary; )[0-9][0-9.hmsµun]*\)`)

func goldenRun(t *testing.T, file, golden string) {
	dir := filepath.Join(t.TempDir(), "run")
	out, err := prosim(t, "run", file, "--out", dir, "-q")
	if err != nil {
		t.Fatalf("prosim run %s: %v\n%s", file, err, out)
	}
	normalise := func(s string) string { return strings.ReplaceAll(s, dir, "RUN_DIR") }
	stdout := durationRE.ReplaceAllString(normalise(out), "${1}DURATION)")
	goldenText(t, filepath.Join(golden, "stdout.txt"), stdout)

	cfg, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	goldenText(t, filepath.Join(golden, "config.yaml"), string(cfg))

	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	// Not normalised: the page names its folder ("run"), never its path (a run folder moves).
	goldenText(t, filepath.Join(golden, "report.txt"), htmlText(string(page)))

	goldenText(t, filepath.Join(golden, "manifest.txt"), manifestText(t, dir))

	goldenResults(t, filepath.Join(dir, "results"), filepath.Join(golden, "results"))

	// The same summary on an 80-column terminal: tables split by columns, no number cut.
	checkFits(t, filepath.Base(golden), summaryAt80(t, dir))
}

// manifestText is the stable part of a run's manifest.json: everything but the build that
// wrote it (version, VCS stamp, Go release), which differs between machines and commits.
func manifestText(t *testing.T, dir string) string {
	t.Helper()
	m, err := manifest.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "format %d\nexperiment %s\nstudy %s\nstatus %s\n", m.Format, m.Experiment, m.Study, m.Status)
	for _, f := range append(m.Files, m.Builtin...) {
		fmt.Fprintf(&b, "file %s (%s) %d bytes sha256 %s\n", f.Path, f.Role, f.Bytes, f.SHA256)
	}
	for _, be := range m.Backends {
		fmt.Fprintf(&b, "backend %s provider %s model %q versions %s\n", be.Label, be.Provider, be.Model, strings.Join(be.ModelVersions, ", "))
	}
	return b.String()
}

// goldenResults compares every file under results/ and finds golden files no longer written.
func goldenResults(t *testing.T, results, golden string) {
	seen := map[string]bool{}
	err := filepath.WalkDir(results, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(results, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if len(data) < goldenMaxCopy {
			seen[rel] = true
			goldenText(t, filepath.Join(golden, rel), string(data))
		} else {
			seen[rel+".sha256"] = true
			// A changed hash says which file changed, not where: compare the run's file
			// with the same file from a build before the change.
			goldenText(t, filepath.Join(golden, rel+".sha256"), fingerprint(data))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = filepath.WalkDir(golden, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(golden, p)
		if !seen[rel] {
			if *update {
				os.Remove(p)
			} else {
				t.Errorf("%s: the run no longer writes results/%s", p, strings.TrimSuffix(rel, ".sha256"))
			}
		}
		return nil
	})
}

// fingerprint pins a large file: its lines, its header and its SHA-256.
func fingerprint(data []byte) string {
	header, _, _ := bytes.Cut(data, []byte("\n"))
	sum := sha256.Sum256(data)
	return fmt.Sprintf("bytes: %d\nlines: %d\nheader: %s\nsha256: %s\n",
		len(data), bytes.Count(data, []byte("\n")), header, hex.EncodeToString(sum[:]))
}

// goldenText compares got with the golden file, or rewrites it with -update.
func goldenText(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v (run go test ./cmd/prosim -run Golden -update to write it)", err)
		return
	}
	if string(want) != got {
		t.Errorf("%s changed:\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff shows where the golden text and the new one differ: the common lines at the start
// and at the end are skipped and the differing block in between is listed from each side, with
// line numbers, at most 8 lines a side.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	pre := 0
	for pre < len(w) && pre < len(g) && w[pre] == g[pre] {
		pre++
	}
	suf := 0
	for suf < len(w)-pre && suf < len(g)-pre && w[len(w)-1-suf] == g[len(g)-1-suf] {
		suf++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  golden %d lines, now %d lines; first difference at line %d\n", len(w), len(g), pre+1)
	side := func(label string, lines []string) {
		block := lines[pre : len(lines)-suf]
		if len(block) == 0 {
			fmt.Fprintf(&b, "  %s: nothing at line %d\n", label, pre+1)
		}
		for i, l := range block {
			if i == 8 {
				fmt.Fprintf(&b, "  %s  ...   %d more lines\n", label, len(block)-i)
				break
			}
			if len(l) > 300 {
				l = l[:300] + "..."
			}
			fmt.Fprintf(&b, "  %s %5d: %s\n", label, pre+1+i, l)
		}
	}
	side("golden", w)
	side("now   ", g)
	return b.String()
}

// htmlText is the readable text of an HTML page: every text node, entities decoded and
// whitespace collapsed, one per line; the content of <style> and <script> is dropped. SVG
// <text> and <title> (tooltips) are text nodes too, so axis labels and chart titles are kept.
// Each <svg> adds a line counting its marks ("[svg: 248 circle, 373 line, ...]"), which pins
// how many points, bars and lines every chart draws without pinning their coordinates.
// A tag stripper, not a parser: it is enough for the report prosim writes.
func htmlText(page string) string {
	var lines []string
	var svg map[string]int // element counts of the <svg> open, nil outside one
	svgAt := 0             // index in lines of the <svg>'s summary line
	text := func(s string) {
		if s = strings.Join(strings.Fields(html.UnescapeString(s)), " "); s != "" {
			lines = append(lines, s)
		}
	}
	for len(page) > 0 {
		lt := strings.IndexByte(page, '<')
		if lt < 0 {
			text(page)
			break
		}
		text(page[:lt])
		page = page[lt:]
		if strings.HasPrefix(page, "<!--") {
			end := strings.Index(page, "-->")
			if end < 0 {
				break
			}
			page = page[end+3:]
			continue
		}
		end := tagEnd(page)
		tag := page[1:end]
		page = page[end+1:]
		closing := strings.HasPrefix(tag, "/")
		name := strings.ToLower(strings.TrimLeft(tag, "/"))
		if i := strings.IndexAny(name, " \t\r\n/"); i >= 0 {
			name = name[:i]
		}
		switch {
		case !closing && (name == "style" || name == "script"):
			if i := strings.Index(strings.ToLower(page), "</"+name); i >= 0 {
				page = page[i:]
			} else {
				page = ""
			}
		case name == "svg" && !closing:
			svg, svgAt = map[string]int{}, len(lines)
			lines = append(lines, "")
		case name == "svg" && closing && svg != nil:
			lines[svgAt] = svgLine(svg)
			svg = nil
		case svg != nil && !closing && name != "":
			svg[name]++
		}
	}
	if svg != nil {
		lines[svgAt] = svgLine(svg)
	}
	return strings.Join(lines, "\n") + "\n"
}

// tagEnd is the index of the '>' closing the tag that page starts with, quotes respected.
func tagEnd(page string) int {
	var quote byte
	for i := 1; i < len(page); i++ {
		switch c := page[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i
		}
	}
	return len(page) - 1
}

func svgLine(counts map[string]int) string {
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%d %s", counts[n], n)
	}
	return "[svg: " + strings.Join(parts, ", ") + "]"
}

// The normalisation and the text extraction themselves.
func TestGoldenHelpers(t *testing.T) {
	for _, d := range []string{"691ms", "12.353s", "1m2.5s", "1h0m0s", "850µs"} {
		s := "9360 decisions in RUN_DIR (9360 asked now, " + d + ").\n"
		if got := durationRE.ReplaceAllString(s, "${1}DURATION)"); got != "9360 decisions in RUN_DIR (9360 asked now, DURATION).\n" {
			t.Errorf("%s: %q", d, got)
		}
	}
	page := `<!DOCTYPE html><html><head><title>r</title><style>p{color:red}</style></head><body>
<!-- note --><h1 class="a>b">Mean  &amp; CI</h1><p>x &lt; 5<br/>y</p>
<svg viewBox="0 0 9 9"><title>chart</title><circle r="1"/><circle r="2"/><text x="1">4.5</text></svg>
</body></html>`
	want := "r\nMean & CI\nx < 5\ny\n[svg: 2 circle, 1 text, 1 title]\nchart\n4.5\n"
	if got := htmlText(page); got != want {
		t.Errorf("htmlText:\n%s\nwant\n%s", got, want)
	}
}
