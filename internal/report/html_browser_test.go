package report

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
// Study 3 run in headless Chromium, offline, and checks that the browser loads it without a
// single console message (the report has no scripts, so any message is the renderer
// complaining, e.g. about an SVG attribute it cannot parse), builds every chart into the DOM,
// and that every chart is labelled: axis titles with units, and a legend.
func TestReportOpensInHeadlessChromium(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("Chromium is not installed (apt-get install chromium, or set PROSIM_CHROMIUM): skipping the browser test of the HTML report")
	}
	out := filepath.Join(t.TempDir(), "cmp.html")
	// Study 3 now renders through engine.RenderReport (internal/study/network).
	if err := WriteHTMLFile(out, study2Fixture(t)); err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(out)
	// A generous bound so a wedged browser fails the test instead of hanging CI.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+t.TempDir(),
		"--enable-logging=stderr", "--v=0", "--dump-dom", "file://"+out)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium failed: %v\n%s", err, tail(stderr.String()))
	}
	dom := stdout.String()
	log := stderr.String()
	// Page console messages are logged as "...:INFO:CONSOLE(line)] "message", source: ...".
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, ":CONSOLE") || strings.Contains(l, "Uncaught") || strings.Contains(l, "ERR_FILE_NOT_FOUND") || strings.Contains(l, "Failed to load resource") {
			t.Errorf("browser console: %s", l)
		}
	}
	if want, got := strings.Count(string(src), "<svg"), strings.Count(dom, "<svg"); want == 0 || got != want {
		t.Errorf("DOM has %d charts, the file %d", got, want)
	}
	for _, w := range []string{"Study 1: willingness by scenario and policy", "Punishment falls with cost", "Humans (n = 1,017)", "Figure 1.",
		"Study 3: policy-induced inequity on a network", "Willingness by exposure group", "Perceived unfairness by exposure group",
		"Contagion curve", "Network coloured by final state", "Mediation: exposure, perceived unfairness, willingness"} {
		if !strings.Contains(dom, w) {
			t.Errorf("rendered DOM lacks %q", w)
		}
	}
	checkChartLabels(t, dom)
}

var (
	svgRe     = regexp.MustCompile(`(?s)<svg[^>]*class="chart".*?</svg>`)
	titleRe   = regexp.MustCompile(`<title>([^<]*)</title>`)
	xLabelRe  = regexp.MustCompile(`<text class="x-label"[^>]*>([^<]*)</text>`)
	yLabelRe  = regexp.MustCompile(`<text class="y-label"[^>]*>([^<]*)</text>`)
	unitRe    = regexp.MustCompile(`\(.*\S.*\)`)
	legendRe  = regexp.MustCompile(`class="legend"`)
	captionRe = regexp.MustCompile(`(?s)<figure>\s*<svg.*?</svg>\s*<figcaption><b>Figure \d+\.</b>`)
)

// categorical axes need no unit.
var categoricalAxes = map[string]bool{"Scenario": true}

// checkChartLabels checks every chart of the rendered DOM: a title, a numbered caption, axis
// titles with units (in parentheses) on charts with axes, and a legend on every chart but the
// mediation diagram (a path diagram, labelled on its arrows).
func checkChartLabels(t *testing.T, dom string) {
	t.Helper()
	charts := svgRe.FindAllString(dom, -1)
	if len(charts) == 0 {
		t.Fatal("no charts in the DOM")
	}
	if n := len(captionRe.FindAllString(dom, -1)); n != len(charts) {
		t.Errorf("%d of %d charts are in a figure with a numbered caption", n, len(charts))
	}
	kinds := map[string]int{}
	for _, c := range charts {
		title := ""
		if m := titleRe.FindStringSubmatch(c); m != nil {
			title = m[1]
		}
		if strings.TrimSpace(title) == "" {
			t.Errorf("a chart has no title: %.200s", c)
			continue
		}
		x, y := xLabelRe.FindStringSubmatch(c), yLabelRe.FindStringSubmatch(c)
		switch {
		case strings.HasPrefix(title, "Mediation"):
			kinds["mediation"]++
			for _, w := range []string{"a = ", "b = ", "indirect a", "CI ["} {
				if !strings.Contains(c, w) {
					t.Errorf("%s: no %q", title, w)
				}
			}
			continue
		case strings.HasPrefix(title, "Network"):
			kinds["network"]++
		case x == nil || y == nil:
			t.Errorf("%s: no axis titles", title)
			continue
		default:
			kinds["axes"]++
			for _, l := range []string{x[1], y[1]} {
				if !categoricalAxes[l] && !unitRe.MatchString(l) {
					t.Errorf("%s: axis title %q has no unit", title, l)
				}
			}
		}
		if !legendRe.MatchString(c) {
			t.Errorf("%s: no legend", title)
		}
	}
	if kinds["mediation"] == 0 || kinds["network"] == 0 || kinds["axes"] < 7 {
		t.Errorf("charts checked: %v", kinds)
	}
}

func tail(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}
