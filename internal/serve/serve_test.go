package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/store"
)

const (
	hostilePersona = `Evil </pre><script>alert("persona")</script>`
	hostileRaw     = `</pre><img src=x onerror=alert("raw")>`
	hostileReason  = `<script>alert("reason")</script>`
)

// fixture serves a folder with one finished Study 1 run, into which an agent with a hostile
// persona and a decision with a hostile reply and invalid reason are written.
func fixture(t *testing.T, opt Options) (*Server, string, store.Key) {
	t.Helper()
	root := t.TempDir()
	dir := builtinRun(t, root, "s1")
	st, err := store.Open(filepath.Join(dir, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	agents, err := st.Agents()
	if err != nil || len(agents) == 0 {
		t.Fatal(agents, err)
	}
	a := agents[0]
	a.Text = hostilePersona
	k := store.Key{RunID: "none.r1", AgentID: a.ID, Scenario: "donating"}
	if err := st.PutAgents(context.Background(), []store.Agent{a}); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(store.Decision{Key: k, Reply: store.Reply{Raw: hostileRaw, Invalid: hostileReason, Provider: "builtin", CostUSD: math.NaN()}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	opt.Roots = []string{root}
	s, err := New(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir, k
}

func get(t *testing.T, h http.Handler, target string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	req.Host = "127.0.0.1:8787"
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// Runs are reached by the ids of the served list only: no path, encoded or not, reaches a
// file or folder outside (or inside) the served folders.
func TestPathTraversalIsImpossible(t *testing.T) {
	s, dir, _ := fixture(t, Options{Loopback: true})
	outside := t.TempDir()
	builtinRun(t, outside, "secret") // a real run folder that is not served
	if w := get(t, s, "/runs/s1"); w.Code != 200 {
		t.Fatalf("the served run: %d", w.Code)
	}
	for _, p := range []string{
		"/runs/../../etc/passwd", "/runs/..%2F..%2Fetc%2Fpasswd", "/runs/%2e%2e/decisions", "/runs/%2e%2e%2f%2e%2e/results",
		"/runs/" + url.PathEscape(filepath.Join(outside, "secret")), "/runs/" + url.PathEscape("../"+filepath.Base(outside)+"/secret") + "/decisions",
		"/runs/secret", "/runs/s1%2F..%2F..%2Fsecret/decisions", "/static/../serve.go", "/static/%2e%2e/serve.go",
		"/static/..%2fserve.go", "/compare?id=s1&id=" + url.QueryEscape(filepath.Join(outside, "secret")),
		"/runs/s1/decision?run=none.r1&agent=0&round=0&trial=0&scenario=" + url.QueryEscape("../../config.yaml"),
		"/runs/" + url.PathEscape(dir) + "/results",
	} {
		w := get(t, s, p)
		body := w.Body.String()
		if w.Code == 200 || strings.Contains(body, "package serve") || strings.Contains(body, "root:") || strings.Contains(body, "name: small") {
			t.Errorf("GET %s: %d\n%.300s", p, w.Code, body)
		}
	}
}

// Persona text, replies and invalid reasons are shown as text on every page.
func TestUserTextIsEscaped(t *testing.T) {
	s, _, k := fixture(t, Options{Loopback: true})
	pages := map[string][]string{
		decisionLink("s1", k):             {hostilePersona, hostileRaw, hostileReason},
		"/runs/s1/decisions?valid=no":     {hostileReason},
		"/runs/s1":                        {hostileReason},
		"/runs/s1/snapshot":               {},
		"/runs/s1/decisions?agent=" + "x": {},
	}
	for p, hostile := range pages {
		w := get(t, s, p)
		body := w.Body.String()
		for _, h := range hostile {
			if w.Code != 200 {
				t.Errorf("%s: %d", p, w.Code)
			}
			if strings.Contains(body, h) {
				t.Errorf("%s shows %q unescaped", p, h)
			}
		}
		for _, bad := range []string{`<script>alert`, `<img src=x`} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains %q", p, bad)
			}
		}
	}
	// Escaped, the text is there: the decision shows the persona, the reply and the reason.
	body := get(t, s, decisionLink("s1", k)).Body.String()
	for _, want := range []string{`Evil &lt;/pre&gt;&lt;script&gt;`, `&lt;/pre&gt;&lt;img src=x onerror=`, `&lt;script&gt;alert(&#34;reason&#34;)`} {
		if !strings.Contains(body, want) {
			t.Errorf("decision page lacks %s", want)
		}
	}
	if b := get(t, s, "/runs/s1/decisions?agent=x"); b.Code != 400 {
		t.Errorf("a bad agent filter: %d", b.Code)
	}
}

// Off loopback every request needs the token; ?token= sets a cookie and leaves the address.
func TestTokenRequiredOffLoopback(t *testing.T) {
	s, _, _ := fixture(t, Options{Token: "t0ken-123"})
	for _, c := range []struct {
		target string
		hdr    []string
		code   int
	}{
		{"/", nil, 401},
		{"/runs/s1", nil, 401},
		{"/static/app.js", nil, 401},
		{"/?token=wrong", nil, 401},
		{"/", []string{"Authorization", "Bearer wrong"}, 401},
		{"/", []string{"Cookie", tokenCookie + "=wrong"}, 401},
		{"/", []string{"Authorization", "Bearer t0ken-123"}, 200},
		{"/runs/s1", []string{"Cookie", tokenCookie + "=t0ken-123"}, 200},
	} {
		if w := get(t, s, c.target, c.hdr...); w.Code != c.code {
			t.Errorf("GET %s %v: %d, want %d", c.target, c.hdr, w.Code, c.code)
		}
	}
	w := get(t, s, "/runs/s1?token=t0ken-123")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/runs/s1" {
		t.Fatalf("?token=: %d to %q", w.Code, w.Header().Get("Location"))
	}
	if c := w.Result().Cookies(); len(c) != 1 || c[0].Value != "t0ken-123" || !c[0].HttpOnly {
		t.Fatalf("cookie %+v", c)
	}
}

// On loopback a request naming another host (DNS rebinding) is refused; actions need the
// page's header and refuse another origin.
func TestHostAndActionChecks(t *testing.T) {
	s, _, _ := fixture(t, Options{Loopback: true})
	req := httptest.NewRequest("GET", "/", nil)
	req.Host = "evil.example:8787"
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Errorf("Host evil.example: %d", w.Code)
	}
	for _, h := range []string{"localhost:8787", "[::1]:8787", "127.0.0.1"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Host = h
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 200 {
			t.Errorf("Host %s: %d", h, w.Code)
		}
	}
	post := func(target string, hdr map[string]string) int {
		req := httptest.NewRequest("POST", target, nil)
		req.Host = "127.0.0.1:8787"
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w.Code
	}
	if c := post("/runs/s1/stop", nil); c != http.StatusForbidden {
		t.Errorf("stop without the header: %d", c)
	}
	if c := post("/runs/s1/stop", map[string]string{"X-Prosim-Action": "1", "Origin": "http://evil.example"}); c != http.StatusForbidden {
		t.Errorf("stop from another origin: %d", c)
	}
	if c := post("/runs/s1/stop", map[string]string{"X-Prosim-Action": "1", "Origin": "http://127.0.0.1:8787"}); c != http.StatusConflict {
		t.Errorf("stop of a complete run: %d", c)
	}
	if c := post("/runs/s1/resume", map[string]string{"X-Prosim-Action": "1"}); c != http.StatusConflict {
		t.Errorf("resume of a complete run: %d", c)
	}
	if c := post("/runs/nope/stop", map[string]string{"X-Prosim-Action": "1"}); c != http.StatusNotFound {
		t.Errorf("stop of an unknown run: %d", c)
	}
}

// The event stream sends the run's snapshot; the runs page lists the run; results and the
// comparison are the report's pages.
func TestPagesAndEvents(t *testing.T) {
	s, dir, _ := fixture(t, Options{Loopback: true})
	ts := httptest.NewServer(s)
	defer ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/runs/s1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	var snap Snapshot
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			if err := json.Unmarshal([]byte(d), &snap); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	st, _ := store.OpenReadOnly(filepath.Join(dir, "prosim.db"))
	n, _ := st.CountDecisions()
	st.Close()
	if snap.Status != "complete" || snap.Done != n || snap.Invalid != 1 || snap.Valid != n-1 || len(snap.Reasons) != 1 || snap.Reasons[0][1] != hostileReason {
		t.Fatalf("snapshot %+v (decisions %d)", snap, n)
	}
	// A complete run's live estimates are its results' numbers (one analysis code): the
	// analysis a report computes of the run as recorded now (the hostile decision included).
	an, err := engine.Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	tb, _ := an.Analysis.Table("vignette_means")
	var recs [][]any
	tb.Rows(func(r []any) error { recs = append(recs, r); return nil })
	if len(snap.Estimates) != len(recs) || len(recs) == 0 {
		t.Fatalf("estimates %v, vignette_means %v", snap.Estimates, recs)
	}
	for i, row := range snap.Estimates {
		c := recs[i] // backend, scenario, condition, field, estimand, mean, ci_low, ci_high, ci_method, agents
		want := []string{c[0].(string), c[1].(string), c[2].(string), fmt.Sprint(c[9]), report.F2(c[5].(float64)),
			"[" + report.F2(c[6].(float64)) + ", " + report.F2(c[7].(float64)) + "]"}
		if !slices.Equal(row, want) {
			t.Fatalf("estimate %d: %v, vignette_means says %v", i, row, want)
		}
	}
	runs := get(t, s, "/").Body.String()
	if !strings.Contains(runs, `href="/runs/s1"`) || !strings.Contains(runs, "complete") || !strings.Contains(runs, "vignettes") {
		t.Fatalf("runs page:\n%s", runs)
	}
	res := get(t, s, "/runs/s1/results")
	if res.Code != 200 || !strings.Contains(res.Body.String(), "Validity and cost") {
		t.Fatalf("results: %d\n%.500s", res.Code, res.Body.String())
	}
	if c := get(t, s, "/compare?id=s1").Code; c != http.StatusBadRequest {
		t.Fatalf("a comparison of one run: %d", c)
	}
	builtinRun(t, filepath.Dir(dir), "s2")
	s.rescan()
	cmp := get(t, s, "/compare?id=s1&id=s2")
	if body := cmp.Body.String(); cmp.Code != 200 || !strings.Contains(body, "prosim comparison: s1 vs s2") || !strings.Contains(body, "Design: small (s2)") {
		t.Fatalf("comparison: %d\n%.600s", cmp.Code, body)
	}
	if c := get(t, s, "/static/app.js"); c.Code != 200 || !strings.Contains(c.Body.String(), "EventSource") {
		t.Fatalf("app.js: %d", c.Code)
	}
}

// Study 2's live view shows the punishment rate by inequity from the trials recorded.
func TestTPPLiveRates(t *testing.T) {
	root := t.TempDir()
	src := `name: tpp
study: tpp
seed: 5
replicates: 1
population: {source: sample, n: 4}
conditions:
  - {name: none, policy: none}
`
	path := filepath.Join(t.TempDir(), "tpp.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "tpp")
	if _, err := engine.Run(context.Background(), e, engine.Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), Options{Roots: []string{root}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	snap := s.snapshot("tpp", dir, true)
	if len(snap.Estimates) == 0 || snap.EstimateHead[1] != "inequity 15 - x ($)" {
		t.Fatalf("estimates %v %v", snap.EstimateHead, snap.Estimates)
	}
	// Recount one cell from the record: inequity 0 (x = 15).
	n, k := 0, 0
	st, err := store.OpenReadOnly(filepath.Join(dir, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Decisions(func(d store.Decision) error {
		if d.Reply.Valid() && d.Params["x"] == 15 {
			n++
			if d.Reply.Values["choice"] == 1 {
				k++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if row := snap.Estimates[0]; row[1] != "0" || row[2] != fmt.Sprint(n) || row[3] != report.F2(float64(k)/float64(n)) {
		t.Fatalf("inequity 0: %v, want %d trials, %d punished", row, n, k)
	}
}

// A re-asked decision shows every turn: the first reply, why it was invalid, the repair
// message sent, then the recorded reply.
func TestDecisionShowsRepairTurns(t *testing.T) {
	llm := newSlowLLM(t, 0)
	root := t.TempDir()
	dir := filepath.Join(root, "llm")
	if _, err := engine.Run(context.Background(), llmExperiment(t, llm.URL, 5, 2), engine.Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), Options{Roots: []string{root}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenReadOnly(filepath.Join(dir, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	var k *store.Key
	st.Decisions(func(d store.Decision) error {
		if !d.Reply.Valid() && k == nil {
			k = &d.Key
		}
		return nil
	})
	st.Close()
	if k == nil {
		t.Fatal("the loopback server's invalid replies left no invalid decision")
	}
	body := get(t, s, decisionLink("llm", *k)).Body.String()
	for _, want := range []string{`id="turn-0"`, "Attempt 1: reply, invalid", "I would rather not say &lt;b&gt;anything&lt;/b&gt;.", "Repair message sent", "Attempt 2: raw reply (recorded)"} {
		if !strings.Contains(body, want) {
			t.Fatalf("decision page lacks %q:\n%s", want, body)
		}
	}
}

// TestRunBegunAfterStartIsFound: a run folder created just after the server listed its roots
// is served at its first request (a miss waits for the next rescan), not a 404 for a second;
// a made-up id is still not found.
func TestRunBegunAfterStartIsFound(t *testing.T) {
	root := t.TempDir()
	s, err := New(context.Background(), Options{Roots: []string{root}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	builtinRun(t, root, "later")
	if rec := get(t, s, "/runs/later"); rec.Code != http.StatusOK {
		t.Fatalf("a run begun after the server started: %d\n%s", rec.Code, rec.Body)
	}
	if rec := get(t, s, "/runs/nosuch"); rec.Code != http.StatusNotFound {
		t.Fatalf("a made-up id: %d", rec.Code)
	}
}

// The decision browser's page is the number it shows, 1 to the last: another is a 400 saying
// so, never negative rows (page=-1 showed "-49--30 shown (page 0 of 1)") nor a silent page 1.
func TestDecisionsPageNumber(t *testing.T) {
	root := t.TempDir()
	builtinRunN(t, root, "s1", 30)
	s, err := New(context.Background(), Options{Roots: []string{root}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	n, pages := 120, 3
	for _, c := range []struct {
		query string
		code  int
		want  string
	}{
		{"", 200, fmt.Sprintf("1-50 shown (page 1 of %d)", pages)},
		{"page=1", 200, fmt.Sprintf("1-50 shown (page 1 of %d)", pages)},
		{"page=2", 200, "51-100 shown (page 2 of 3)"},
		{"page=3", 200, fmt.Sprintf("101-%d shown (page 3 of 3)", n)},
		{"page=-1", 400, `page &#34;-1&#34;: want a page number, 1 or more`},
		{"page=0", 400, `page &#34;0&#34;: want a page number, 1 or more`},
		{"page=abc", 400, `page &#34;abc&#34;: want a page number, 1 or more`},
		{fmt.Sprintf("page=%d", pages+1), 400, fmt.Sprintf("page %d is past the last page, %d", pages+1, pages)},
		{"agent=999999&page=2", 400, "page 2: no decision matches"},
	} {
		w := get(t, s, "/runs/s1/decisions?"+c.query)
		if w.Code != c.code || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("%q: %d, want %d and %q in\n%.2000s", c.query, w.Code, c.code, c.want, w.Body.String())
		}
	}
	// The links name the pages shown: page 1's next is page=2, page 2's previous page 1.
	if body := get(t, s, "/runs/s1/decisions").Body.String(); !strings.Contains(body, `href="?page=2" id="next"`) {
		t.Errorf("page 1's next link:\n%.2000s", body)
	}
	if body := get(t, s, "/runs/s1/decisions?page=2").Body.String(); !strings.Contains(body, `<a href="?">previous</a>`) {
		t.Errorf("page 2's previous link:\n%.2000s", body)
	}
}

// A query parameter's value a page does not know, or a parameter it does not read, is a 400
// naming it and what it takes: ?valid=0 showed every decision, as if no filter were given (QA11).
func TestQueryValuesAreChecked(t *testing.T) {
	root := t.TempDir()
	builtinRunN(t, root, "s1", 3)
	s, err := New(context.Background(), Options{Roots: []string{root}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		target string
		code   int
		want   string
	}{
		{"/runs/s1/decisions?valid=yes&condition=moral&scenario=donating&backend=builtin", 200, "3 decisions match"},
		{"/runs/s1/decisions?valid=&condition=&scenario=&agent=&backend=", 200, "12 decisions"}, // the form's "all"
		{"/runs/s1/decisions?valid=0", 400, `valid &#34;0&#34;: want one of yes, no (or empty, for all)`},
		{"/runs/s1/decisions?condition=morl", 400, `condition &#34;morl&#34;: want one of none, moral (or empty, for all)`},
		{"/runs/s1/decisions?scenario=x", 400, `scenario &#34;x&#34;: want one of `},
		{"/runs/s1/decisions?backend=gpt", 400, `backend &#34;gpt&#34;: want one of builtin (or empty, for all)`},
		{"/runs/s1/decisions?vaild=no", 400, `unknown query parameter &#34;vaild&#34;: this page takes only condition, scenario, agent, valid, backend, page`},
		{"/runs/s1/results?valid=0", 400, `unknown query parameter &#34;valid&#34;: this page takes no query parameter`},
		{"/runs/s1?x=1", 400, `unknown query parameter &#34;x&#34;`},
		{"/?valid=no", 400, `unknown query parameter &#34;valid&#34;`},
		{"/runs/s1/decision?run=none.r9&agent=0&round=0&trial=0&scenario=donating", 400, `run &#34;none.r9&#34;: want one of the run&#39;s cells, `},
	} {
		w := get(t, s, c.target)
		if w.Code != c.code || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("%s: %d, want %d and %q in\n%.3000s", c.target, w.Code, c.code, c.want, w.Body.String())
		}
	}
}

// A run folder moved or removed while served leaves the list, and its pages are 404 like any
// id not served, with no path in them: it stayed listed as "unreadable", its pages 500 with
// "stat /…/prosim.db" and its results 409 "computed once it is complete" (QA5 repro-3).
func TestMovedOrRemovedRunIsNoLongerServed(t *testing.T) {
	root := t.TempDir()
	dir := builtinRun(t, root, "a")
	s, err := New(context.Background(), Options{Roots: []string{root}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	decision := "/decision?agent=1&round=0&run=none.r1&scenario=donating&trial=0"
	if c := get(t, s, "/runs/a"+decision).Code; c != 200 {
		t.Fatalf("a decision of the run: %d", c)
	}
	moved := filepath.Join(root, "b")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	if snap := s.snapshot("a", dir, true); snap.Status != "gone" || snap.HasResults {
		t.Errorf("the moved run's snapshot: %+v", snap)
	}
	gone := func(id string) {
		t.Helper()
		for _, p := range []string{"", "/results", "/decisions", decision, "/snapshot", "/events"} {
			w := get(t, s, "/runs/"+id+p)
			if body := w.Body.String(); w.Code != http.StatusNotFound || strings.Contains(body, root) || strings.Contains(body, "prosim.db") {
				t.Errorf("/runs/%s%s of a run moved away: %d\n%.400s", id, p, w.Code, body)
			}
		}
	}
	gone("a")
	list := get(t, s, "/").Body.String()
	if strings.Contains(list, `href="/runs/a"`) || !strings.Contains(list, `href="/runs/b"`) {
		t.Errorf("the runs list after a -> b:\n%s", list)
	}
	if c := get(t, s, "/runs/b/results").Code; c != 200 {
		t.Errorf("the run in its new folder: results %d", c)
	}
	if err := os.RemoveAll(moved); err != nil {
		t.Fatal(err)
	}
	gone("b")
	if list := get(t, s, "/").Body.String(); strings.Contains(list, `href="/runs/b"`) {
		t.Errorf("the runs list after b is removed:\n%s", list)
	}
}

// The live page links to the results only when there are results, by the rule the runs list
// uses (Snapshot.HasResults): a stopped or running run's link went to a 409 (QA5 repro-8).
func TestResultsLinkOnlyWhenThereAreResults(t *testing.T) {
	root := t.TempDir()
	builtinRun(t, root, "done")
	stopped := builtinRun(t, root, "stopped")
	st, err := store.Open(filepath.Join(stopped, "prosim.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetMeta("status", "running"); err != nil { // as a run stopped midway leaves it
		t.Fatal(err)
	}
	st.Close()
	s, err := New(context.Background(), Options{Roots: []string{root}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	list := get(t, s, "/").Body.String()
	for id, want := range map[string]bool{"done": true, "stopped": false} {
		live := get(t, s, "/runs/"+id).Body.String()
		shown := strings.Contains(live, `<span id="results-link"> · <a href="/runs/`+id+`/results">`)
		hidden := strings.Contains(live, `<span id="results-link" hidden>`)
		listed := strings.Contains(list, `href="/runs/`+id+`/results"`)
		code := get(t, s, "/runs/"+id+"/results").Code
		if shown != want || hidden == want || listed != want || (code == 200) != want {
			t.Errorf("%s: live page shows the results link %v (hidden %v), runs list %v, results page %d; want %v", id, shown, hidden, listed, code, want)
		}
	}
}

// A comparison is of different runs, each named by its served id where names repeat, never by
// a path: /compare?id=x&id=x compared a run with itself, titled by absolute paths.
func TestCompareDifferentRunsNamedByID(t *testing.T) {
	r1, r2 := t.TempDir(), t.TempDir()
	builtinRun(t, r1, "x")
	builtinRun(t, r2, "x") // the same experiment in a folder of the same name: ids x and x-2
	s, err := New(context.Background(), Options{Roots: []string{r1, r2}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	if w := get(t, s, "/compare?id=x&id=x"); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "two different runs") {
		t.Errorf("a run compared with itself: %d\n%.400s", w.Code, w.Body.String())
	}
	w := get(t, s, "/compare?id=x&id=x-2")
	if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, "<title>prosim comparison: x vs x-2</title>") {
		t.Errorf("comparison of x and x-2: %d\n%.600s", w.Code, body)
	}
	// No page shows a folder's path (the served folders may be in a home directory): the
	// runs are named by folder, told apart by their parents' names.
	for _, p := range []string{"/", "/runs/x", "/runs/x/results", "/runs/x-2/decisions", "/compare?id=x&id=x-2"} {
		body := get(t, s, p).Body.String()
		if strings.Contains(body, filepath.Dir(r1)) {
			t.Errorf("%s shows a served folder's path (%s):\n%.800s", p, filepath.Dir(r1), body)
		}
		if p == "/runs/x" && !strings.Contains(body, "Folder <code>x</code>") {
			t.Errorf("%s does not name the run's folder x:\n%.800s", p, body)
		}
	}
	if body := get(t, s, "/compare?id=x&id=x-2").Body.String(); !strings.Contains(body, "<code>"+filepath.Base(r1)+"/x</code>, <code>"+filepath.Base(r2)+"/x</code>") {
		t.Errorf("the comparison does not tell the folders apart by their parents' names:\n%.800s", body)
	}
}

// The -wal and -shm files serve's read-only reads leave in a run folder are removed when the
// folder leaves the list (here its config is removed) and, for the folders still shown, at
// Close (QA10 repro-3).
func TestServeTidiesWhatItsReadsLeft(t *testing.T) {
	root := t.TempDir()
	a, b := builtinRun(t, root, "a"), builtinRun(t, root, "b")
	s, err := New(context.Background(), Options{Roots: []string{root}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	left := func(dir string) bool {
		_, werr := os.Stat(filepath.Join(dir, "prosim.db-wal"))
		_, serr := os.Stat(filepath.Join(dir, "prosim.db-shm"))
		return werr == nil || serr == nil
	}
	for _, id := range []string{"a", "b"} {
		if c := get(t, s, "/runs/"+id+"/snapshot").Code; c != 200 {
			t.Fatalf("/runs/%s/snapshot: %d", id, c)
		}
	}
	if !left(a) || !left(b) {
		t.Fatal("the reads left no -wal/-shm: this test no longer tests their removal")
	}
	if err := os.Remove(filepath.Join(a, "config.yaml")); err != nil {
		t.Fatal(err)
	}
	s.rescan()
	if left(a) {
		t.Error("a folder that left the list keeps -wal/-shm")
	}
	s.Close()
	if left(b) {
		t.Error("a folder shown keeps -wal/-shm after Close")
	}
}
