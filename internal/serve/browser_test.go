package serve

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/store"
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

// artifacts is the folder for the test's screenshots: $PROSIM_ARTIFACTS/serve-browser (CI
// keeps it), else a temporary folder; its path is logged either way.
func artifacts(t *testing.T) string {
	dir := t.TempDir()
	if a := os.Getenv("PROSIM_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "serve-browser")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// TestServeInChromium drives the dashboard in real Chromium while a Study 1 runs on a slow
// loopback LLM: the live page's progress and valid rate change as decisions are made, a
// decision opens with its persona, request and raw reply, the Stop button stops the run
// (resumable), and the Resume button takes it to completion.
func TestServeInChromium(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("Chromium is not installed (apt-get install chromium, or set PROSIM_CHROMIUM): skipping the browser test of prosim serve")
	}
	shots := artifacts(t)
	t0 := time.Now()
	t.Cleanup(func() { t.Logf("done in %s", time.Since(t0).Round(time.Millisecond)) })
	// Chromium takes from 2 to 15 s to start on a loaded machine; the test proper has 45 s.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	llm := newSlowLLM(t, 100*time.Millisecond)
	const agents = 50
	exp := llmExperiment(t, llm.URL, agents, 2)
	const expected = agents * 2 * 2
	srvCtx, stopSrv := context.WithCancel(ctx)
	defer stopSrv()
	root := t.TempDir()
	dir := filepath.Join(root, "live")
	s, err := New(srvCtx, Options{Roots: []string{root}, Loopback: true, Interval: 250 * time.Millisecond, Log: t.Output()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()

	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, browserOptions(t, bin)...)
	defer cancelAlloc()
	bctx, cancelB := chromedp.NewContext(alloc)
	defer cancelB()
	if err := chromedp.Do(bctx); err != nil { // starts the browser and opens the tab
		t.Fatal(err)
	}
	started := time.Now()
	deadline := started.Add(45 * time.Second)
	t.Logf("browser started in %s", started.Sub(t0).Round(time.Millisecond))
	runErr := make(chan error, 1)
	go func() {
		_, err := engine.Run(ctx, exp, engine.Options{Out: dir, NoCache: true})
		runErr <- err
	}()
	for !isRun(dir) {
		select {
		case err := <-runErr:
			t.Fatalf("the run ended before it began: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	var mu sync.Mutex
	var jsErrs []string
	err = chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			jsErrs = append(jsErrs, e.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if e.Type == "error" {
				jsErrs = append(jsErrs, fmt.Sprint(e.Args))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(s)
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
		if p := os.Getenv("PROSIM_SERVE_SCREENSHOT"); p != "" && name == "1-live.png" {
			if err := os.WriteFile(p, png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitStatus := func(want string) {
		t.Helper()
		for st := ""; st != want; time.Sleep(100 * time.Millisecond) {
			if time.Until(deadline) < 3*time.Second {
				t.Fatalf("status %q, waited for %q (error %q, action %q)", st, want, text("#error"), text("#action-msg"))
			}
			st = text("#status")
		}
	}

	live := ts.URL + "/runs/live"
	do(chromedp.Navigate(live), chromedp.WaitVisible(chromedp.ID("done")))
	// Progress and valid rate change on the page as the run goes on (pushed by the server).
	dones, rates := map[string]bool{}, map[string]bool{}
	for len(dones) < 3 || len(rates) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the page did not update: decisions seen %v, valid rates %v", dones, rates)
		}
		dones[text("#done")] = true
		rates[text("#valid-rate")] = true
		time.Sleep(150 * time.Millisecond)
	}
	if text("#status") != "running" || text("#calls") == "0" || !strings.HasPrefix(text("#cost"), "$") {
		t.Fatalf("live page: status %q, calls %q, cost %q", text("#status"), text("#calls"), text("#cost"))
	}
	if n := strings.Count(text("#estimates tbody"), "none") + strings.Count(text("#estimates tbody"), "moral"); n == 0 {
		t.Fatalf("no provisional means on the live page: %q", text("#live p.note:last-child"))
	}
	t.Logf("live page updated %s after the run started", time.Since(started).Round(time.Millisecond))
	shot("1-live.png")

	// Open an invalid decision from the browser: persona, request and raw reply are shown.
	do(chromedp.Navigate(live+"/decisions?valid=no"), chromedp.WaitVisible(chromedp.ID("decisions")))
	shot("2-decisions.png")
	do(chromedp.Click(chromedp.CSS("a.open")), chromedp.WaitVisible(chromedp.ID("raw")))
	if raw, prompt, persona := text("#raw"), text("#prompt"), text("#persona"); raw != "I would rather not say <b>anything</b>." ||
		!strings.Contains(prompt, "willingness") || !strings.HasPrefix(persona, "You are") {
		t.Fatalf("decision page: raw %q, prompt %.80q, persona %.80q", raw, prompt, persona)
	}
	// Every invalid decision of this server was re-asked once (max_repairs 1): its first
	// turn is shown before the recorded reply.
	if first := text("#turn-0 .turn-raw"); first != "I would rather not say <b>anything</b>." || text("#turn-0 .turn-repair") == "" {
		t.Fatalf("decision page: first turn %q, repair message %q", first, text("#turn-0 .turn-repair"))
	}
	shot("3-decision.png")

	// Stop the run from the page: it stops, resumable, with decisions missing.
	do(chromedp.Navigate(live), chromedp.WaitVisible(chromedp.ID("stop")), chromedp.Click(chromedp.ID("stop")))
	select {
	case err := <-runErr:
		if err == nil || !strings.Contains(err.Error(), "interrupted") {
			t.Fatalf("the stopped run returned %v", err)
		}
	case <-time.After(time.Until(deadline)):
		t.Fatal("the run did not stop")
	}
	waitStatus("stopped")
	stoppedAt := count(t, dir)
	if stoppedAt >= expected {
		t.Fatalf("the run finished (%d decisions) before it was stopped: slow the loopback LLM down", stoppedAt)
	}
	shot("4-stopped.png")

	// Resume it from the page: it completes without asking again what it has (the LLM is
	// now quick: the test has seen the page move already).
	llm.delay.Store(int64(5 * time.Millisecond))
	asked := llm.n.Load()
	do(chromedp.WaitVisible(chromedp.ID("resume")), chromedp.Click(chromedp.ID("resume")))
	waitStatus("complete")
	if got := count(t, dir); got != expected {
		t.Fatalf("%d decisions after resume, want %d", got, expected)
	}
	if st, _ := engine.Status(dir); st != "complete" {
		t.Fatalf("status %q after resume", st)
	}
	if again := llm.n.Load() - asked; again < int64(expected-stoppedAt) || again > int64(2*(expected-stoppedAt)) {
		t.Fatalf("resume asked %d requests for %d missing decisions", again, expected-stoppedAt)
	}
	if text("#percent") != "100.0%" {
		t.Fatalf("percent %q after completion", text("#percent"))
	}
	t.Logf("stopped, resumed and complete %s after the run started", time.Since(started).Round(time.Millisecond))
	shot("5-complete.png")
	do(chromedp.Navigate(live+"/results"), chromedp.WaitVisible(chromedp.ID("validity")))
	shot("6-results.png")
	mu.Lock()
	defer mu.Unlock()
	if len(jsErrs) > 0 {
		t.Fatalf("browser errors: %v", jsErrs)
	}
}

func count(t *testing.T, dir string) int {
	t.Helper()
	st, err := store.OpenReadOnly(filepath.Join(dir, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.CountDecisions()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The comparison page in Chromium: two complete runs checked on the runs page and compared.
func TestCompareInChromium(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("Chromium is not installed (apt-get install chromium, or set PROSIM_CHROMIUM): skipping the browser test of the comparison page")
	}
	shots := artifacts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	root := t.TempDir()
	builtinRun(t, root, "first")
	builtinRun(t, root, "second")
	s, err := New(ctx, Options{Roots: []string{root}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, browserOptions(t, bin)...)
	defer cancelAlloc()
	bctx, cancelB := chromedp.NewContext(alloc)
	defer cancelB()
	err = chromedp.Do(bctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.ID("runs")),
		chromedp.Click(chromedp.CSS(`input[value="first"]`)), chromedp.Click(chromedp.CSS(`input[value="second"]`)),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("validity")))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(loc, "/compare?id=first&id=second") || !strings.Contains(body, "first") || !strings.Contains(body, "second") {
		t.Fatalf("comparison page at %s:\n%.2000s", loc, body)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shots, "7-compare.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// browserOptions start a headless chromium whose profile and temporary files (its singleton
// socket directory, left behind when it is killed) are in the test's own directories.
func browserOptions(t *testing.T, bin string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1200, 1000),
		chromedp.UserDataDir(t.TempDir()), chromedp.Env("TMPDIR="+t.TempDir()))
}
