package engine

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromium finds a headless-capable Chromium: $PROSIM_CHROMIUM, or chromium, chromium-browser,
// google-chrome on PATH.
func chromium() string {
	if p := os.Getenv("PROSIM_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestReportOpensInHeadlessChromium opens a comparison report of a Study 1, a Study 2 and a
// Study 3 run (every study is drawn from its analysis) in headless Chromium, offline, and
// checks that the browser loads it without a single console message, builds every chart into
// the DOM, and that every chart is labelled: a title, a numbered caption, and a legend, with
// axis titles with units on every chart with axes (all but Study 3's network drawing and
// mediation diagram, which have none).
func TestReportOpensInHeadlessChromium(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("Chromium is not installed (apt-get install chromium, or set PROSIM_CHROMIUM): skipping the browser test of the HTML report")
	}
	out := filepath.Join(t.TempDir(), "cmp.html")
	if err := WriteReport(out, study1Fixture(t), study2Fixture(t), study3Run(t)); err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(out)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+t.TempDir(),
		"--enable-logging=stderr", "--v=0", "--dump-dom", "file://"+out)
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir()) // chromium's singleton socket directory, not /tmp's
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium failed: %v\n%s", err, stderr.String())
	}
	dom := stdout.String()
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") || strings.Contains(l, "Uncaught") || strings.Contains(l, "ERR_FILE_NOT_FOUND") || strings.Contains(l, "Failed to load resource") {
			t.Errorf("browser console: %s", l)
		}
	}
	if want, got := strings.Count(string(src), "<svg"), strings.Count(dom, "<svg"); want == 0 || got != want {
		t.Errorf("DOM has %d charts, the file %d", got, want)
	}
	for _, w := range []string{"Study 1: willingness by scenario and policy", "Punishment falls with cost", "Humans (n = 1,017)", "Figure 1.",
		"Study 3: policy-induced inequity on a network", "Willingness by exposure group", "Contagion curve",
		"Network coloured by final state (reward_inequity, replicate 1)", "Mediation: exposure, perceived unfairness, willingness (reward_inequity)"} {
		if !strings.Contains(dom, w) {
			t.Errorf("rendered DOM lacks %q", w)
		}
	}
	var (
		svgRe     = regexp.MustCompile(`(?s)<svg[^>]*class="chart".*?</svg>`)
		titleRe   = regexp.MustCompile(`<title>([^<]*)</title>`)
		xLabelRe  = regexp.MustCompile(`<text class="x-label"[^>]*>([^<]*)</text>`)
		yLabelRe  = regexp.MustCompile(`<text class="y-label"[^>]*>([^<]*)</text>`)
		unitRe    = regexp.MustCompile(`\(.*\S.*\)`)
		captionRe = regexp.MustCompile(`(?s)<figure>\s*<svg.*?</svg>\s*(?:<a class="svg-dl"[^>]*>[^<]*</a>\s*)?<figcaption><b>Figure \d+\.</b>`)
	)
	charts := svgRe.FindAllString(dom, -1)
	if n := len(captionRe.FindAllString(dom, -1)); n != len(charts) {
		t.Errorf("%d of %d charts are in a figure with a numbered caption", n, len(charts))
	}
	axes, diagrams := 0, 0
	for _, c := range charts {
		title := ""
		if m := titleRe.FindStringSubmatch(c); m != nil {
			title = m[1]
		}
		if strings.HasPrefix(title, "Mediation: ") {
			diagrams++ // boxes and arrows: no axes, no legend
			continue
		}
		if strings.HasPrefix(title, "Network coloured by final state") {
			diagrams++
			if !strings.Contains(c, `class="legend"`) {
				t.Errorf("%s: no legend", title)
			}
			continue
		}
		x, y := xLabelRe.FindStringSubmatch(c), yLabelRe.FindStringSubmatch(c)
		if strings.TrimSpace(title) == "" || x == nil || y == nil {
			t.Errorf("chart %q: no title or axis titles", title)
			continue
		}
		axes++
		for _, l := range []string{x[1], y[1]} {
			if l != "Scenario" && !unitRe.MatchString(l) {
				t.Errorf("%s: axis title %q has no unit", title, l)
			}
		}
		if !strings.Contains(c, `class="legend"`) {
			t.Errorf("%s: no legend", title)
		}
	}
	// Study 1's bars, Study 2's heat map and its two line charts, Study 3's three line charts;
	// Study 3's network drawing and mediation diagram.
	if axes < 7 || diagrams != 2 {
		t.Errorf("%d charts with axes checked (want at least 7), %d diagrams (want 2)", axes, diagrams)
	}
}
