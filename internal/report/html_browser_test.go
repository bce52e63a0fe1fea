package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
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

// TestReportOpensInHeadlessChromium opens a comparison report of a Study 1 and a Study 2 run
// in headless Chromium, offline, and checks the browser loads it without errors and builds
// every chart into the DOM.
func TestReportOpensInHeadlessChromium(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("Chromium is not installed (apt-get install chromium, or set PROSIM_CHROMIUM): skipping the browser test of the HTML report")
	}
	out := filepath.Join(t.TempDir(), "cmp.html")
	if err := WriteHTMLFile(out, study1Fixture(t), study2Fixture(t)); err != nil {
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
	for _, bad := range []string{"Uncaught", "ERR_FILE_NOT_FOUND", "Failed to load resource"} {
		if strings.Contains(stderr.String(), bad) {
			t.Errorf("browser log has %q:\n%s", bad, tail(stderr.String()))
		}
	}
	if want, got := strings.Count(string(src), "<svg"), strings.Count(dom, "<svg"); want == 0 || got != want {
		t.Errorf("DOM has %d charts, the file %d", got, want)
	}
	for _, w := range []string{"Study 1: willingness by scenario and policy", "Punishment falls with cost", "Humans (n = 1,017)", "Figure 1."} {
		if !strings.Contains(dom, w) {
			t.Errorf("rendered DOM lacks %q", w)
		}
	}
}

func tail(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}
