package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/usd"
)

// page renders a page template into a buffer first, so a template error never sends half a page.
func (s *Server) page(w http.ResponseWriter, name, title string, data any) {
	var b bytes.Buffer
	err := s.pages[name].Execute(&b, struct {
		Title string
		Data  any
	}{title, data})
	if err != nil {
		http.Error(w, "page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	b.WriteTo(w)
}

func (s *Server) fail(w http.ResponseWriter, code int, err error) {
	w.WriteHeader(code)
	s.page(w, "error", http.StatusText(code), err.Error())
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request) {
	s.rescan()
	var snaps []*Snapshot
	for _, id := range s.runsSorted() {
		dir, _ := s.dirOf(r.Context(), id)
		snaps = append(snaps, s.snapshot(id, dir, false))
	}
	// Folders are named, never shown by path: the page may be served to others.
	s.page(w, "runs", "prosim runs", struct {
		Roots []string
		Runs  []*Snapshot
	}{engine.FolderNames(s.opt.Roots), snaps})
}

func (s *Server) livePage(w http.ResponseWriter, r *http.Request, id, dir string) {
	snap := s.snapshot(id, dir, true)
	s.page(w, "live", snap.Name+" ("+id+")", struct {
		Snap   *Snapshot
		Folder string
	}{snap, engine.FolderNames([]string{dir})[0]})
}

func (s *Server) snapshotJSON(w http.ResponseWriter, r *http.Request, id, dir string) {
	snap := s.snapshot(id, dir, true)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(snap)
}

// events streams a run's snapshot as server-sent events, one each interval (slower when a
// snapshot takes long to compute, so a large run is not read back to back).
func (s *Server) events(w http.ResponseWriter, r *http.Request, id, dir string) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	for {
		start := time.Now()
		snap := s.snapshot(id, dir, true)
		js, err := json.Marshal(snap)
		if err != nil {
			return
		}
		if _, err := fmt.Fprintf(w, "event: snapshot\ndata: %s\n\n", js); err != nil {
			return
		}
		fl.Flush()
		if snap.Status == "gone" { // said once; the page's reconnection then finds no run
			return
		}
		wait := max(s.opt.Interval, 4*time.Since(start))
		if snap.Status == "complete" {
			wait = max(wait, 5*time.Second)
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// resultsPage is the run's report, rendered by the code that writes report.html.
func (s *Server) resultsPage(w http.ResponseWriter, r *http.Request, id, dir string) {
	snap := s.snapshot(id, dir, false)
	switch {
	case snap.Status == "gone":
		s.fail(w, http.StatusNotFound, fmt.Errorf("no run %q is served here: %s", id, snap.Error))
		return
	case snap.Status == "unreadable":
		s.fail(w, http.StatusInternalServerError, fmt.Errorf("run %s cannot be read, so it has no results to show: %s", id, snap.Error))
		return
	case !snap.HasResults:
		s.fail(w, http.StatusConflict, fmt.Errorf("run %s is %s: its results are computed once it is complete (the live page shows provisional estimates)", id, snap.Status))
		return
	}
	stamp := runStamp(dir)
	s.mu.Lock()
	c, ok := s.resultsCache[id]
	s.mu.Unlock()
	if ok && c.dir == dir && c.stamp == stamp {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(c.page)
		return
	}
	// The run's own report.html when it is provably the page (engine.CurrentReport: checking
	// it reads the run's files once, a replay reads the store twice and replays the study).
	// Else rendered without s.mu held: an 800,000-decision run's page took 75 s (QA14 F8), and
	// the run page and the event stream of a resume must not wait for it.
	page, ok := currentReport(dir)
	if !ok {
		var b bytes.Buffer
		if err := renderReport(&b, []string{id}, []string{dir}); err != nil {
			s.fail(w, http.StatusInternalServerError, err)
			return
		}
		page = b.Bytes()
	}
	if runStamp(dir) == stamp { // unchanged while it was rendered
		s.mu.Lock()
		s.cacheResults(id, cachedPage{dir: dir, stamp: stamp, page: page})
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page)
}

// cachedPage is a run's rendered results page, valid while the run's files have stamp.
type cachedPage struct {
	dir, stamp string
	page       []byte
	seq        uint64 // when it was cached: the oldest goes first
}

// maxCachedPages bounds the results pages kept in memory (a large run's page is megabytes; a
// served root may hold hundreds of runs).
const maxCachedPages = 16

// cacheResults keeps c as id's results page, dropping the oldest page beyond maxCachedPages.
// The caller holds s.mu.
func (s *Server) cacheResults(id string, c cachedPage) {
	s.pageSeq++
	c.seq = s.pageSeq
	s.resultsCache[id] = c
	for len(s.resultsCache) > maxCachedPages {
		oldest := ""
		for k, p := range s.resultsCache {
			if oldest == "" || p.seq < s.resultsCache[oldest].seq {
				oldest = k
			}
		}
		delete(s.resultsCache, oldest)
	}
}

// renderReport renders the report of runs (a variable: the tests count the renderings).
var renderReport = engine.RenderReportAs

// currentReport is a run's report.html when it is the page renderReport would render (a
// variable: the tests turn it off).
var currentReport = engine.CurrentReport

// runStamp is the size and modification time of the files a run's results are computed from:
// its database (and write-ahead log: a resume's decisions), manifest and config. A change to
// any of them (a resume, its completion) makes the cached page stale.
func runStamp(dir string) string {
	var b strings.Builder
	for _, f := range []string{"prosim.db", "prosim.db-wal", "manifest.json", "config.yaml"} {
		// An empty write-ahead log is none: a reader's open makes one and its close removes it.
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil && (fi.Size() > 0 || f != "prosim.db-wal") {
			fmt.Fprintf(&b, "%s:%d:%d;", f, fi.Size(), fi.ModTime().UnixNano())
		} else {
			fmt.Fprintf(&b, "%s:-;", f)
		}
	}
	return b.String()
}

// comparePage is one comparison report of the runs chosen on the runs page.
func (s *Server) comparePage(w http.ResponseWriter, r *http.Request) {
	var dirs, ids []string
	for _, id := range r.URL.Query()["id"] {
		if slices.Contains(ids, id) {
			s.fail(w, http.StatusBadRequest, fmt.Errorf("run %s is chosen twice: choose two different runs (or more) to compare", id))
			return
		}
		dir, ok := s.dirOf(r.Context(), id)
		if !ok {
			s.fail(w, http.StatusNotFound, fmt.Errorf("no run %q is served here", id))
			return
		}
		if snap := s.snapshot(id, dir, false); !snap.HasResults {
			s.fail(w, http.StatusConflict, fmt.Errorf("run %s is %s: only complete runs can be compared", id, snap.Status))
			return
		}
		dirs, ids = append(dirs, dir), append(ids, id)
	}
	if len(dirs) < 2 {
		s.fail(w, http.StatusBadRequest, fmt.Errorf("choose at least two complete runs to compare"))
		return
	}
	s.report(w, ids, dirs)
}

// report renders the report of runs dirs, named by their served ids where they must be
// told apart (never by a path).
func (s *Server) report(w http.ResponseWriter, ids, dirs []string) {
	var b bytes.Buffer
	if err := renderReport(&b, ids, dirs); err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	b.WriteTo(w)
}

// filter is the decision browser's query.
type filter struct {
	Condition, Scenario, Agent, Valid, Backend string
	Page                                       int // from 0; the query's page is Page+1, as shown
}

func (f filter) query(page int) string {
	v := url.Values{}
	for k, x := range map[string]string{"condition": f.Condition, "scenario": f.Scenario, "agent": f.Agent, "valid": f.Valid, "backend": f.Backend} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if page > 0 {
		v.Set("page", strconv.Itoa(page+1))
	}
	return v.Encode()
}

const perPage = 50

type decisionRow struct {
	Link                                        string
	RunID, Backend, Condition, Scenario, Values string
	Agent, Round, Trial                         int
	Valid, Cached                               bool
	Invalid, Tokens, Latency, Cost              string
}

func (s *Server) decisionsPage(w http.ResponseWriter, r *http.Request, id, dir string) {
	q := r.URL.Query()
	f := filter{Condition: q.Get("condition"), Scenario: q.Get("scenario"), Agent: q.Get("agent"), Valid: q.Get("valid"), Backend: q.Get("backend")}
	if err := oneOf("valid", f.Valid, []string{"yes", "no"}); err != nil { // ?valid=0 showed all (QA11)
		s.fail(w, http.StatusBadRequest, err)
		return
	}
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			s.fail(w, http.StatusBadRequest, fmt.Errorf("page %q: want a page number, 1 or more", p))
			return
		}
		f.Page = n - 1
	}
	agent := -1
	if f.Agent != "" {
		a, err := strconv.Atoi(f.Agent)
		if err != nil {
			s.fail(w, http.StatusBadRequest, fmt.Errorf("agent %q: want an agent id (a whole number)", f.Agent))
			return
		}
		agent = a
	}
	snap := s.snapshot(id, dir, false)
	if snap.Status == "starting" {
		s.fail(w, http.StatusServiceUnavailable, fmt.Errorf("run %s is starting: its database is being created; try again in a moment", id))
		return
	}
	in, err := s.inspection(dir)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	rows, total, scens, err := s.decisionRows(id, dir, f, agent)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	var conds, backends []string
	for _, c := range in.Exp.Conditions {
		conds = append(conds, c.Name)
	}
	backends = snap.Backends
	// A value the run has not (a misspelt condition) selects nothing: say so, with the values.
	if err := errors.Join(oneOf("condition", f.Condition, conds), oneOf("scenario", f.Scenario, scens), oneOf("backend", f.Backend, backends)); err != nil {
		s.fail(w, http.StatusBadRequest, err)
		return
	}
	pages := (total + perPage - 1) / perPage
	if f.Page > 0 && f.Page >= pages {
		err := fmt.Errorf("page %d is past the last page, %d", f.Page+1, pages)
		if pages == 0 {
			err = fmt.Errorf("page %d: no decision matches", f.Page+1)
		}
		s.fail(w, http.StatusBadRequest, err)
		return
	}
	var prev, next string
	if f.Page > 0 {
		prev = "?" + f.query(f.Page-1)
	}
	if f.Page+1 < pages {
		next = "?" + f.query(f.Page+1)
	}
	s.page(w, "decisions", "Decisions of "+id, struct {
		ID, Name                        string
		F                               filter
		Conditions, Scenarios, Backends []string
		Rows                            []decisionRow
		Total, From, To, PageNo, Pages  int
		Prev, Next                      string
	}{id, snap.Name, f, conds, scens, backends, rows, total, f.Page*perPage + 1, f.Page*perPage + len(rows), f.Page + 1, pages, prev, next})
}

// decisionRows reads one page of the decisions f selects, in design order, and how many it
// selects: a count per design cell (SQL), then the rows of the cells the page spans
// (LIMIT/OFFSET in primary key order), so a page reads at most perPage decisions whatever
// the run's size.
func (s *Server) decisionRows(id, dir string, f filter, agent int) (rows []decisionRow, total int, scens []string, err error) {
	st, err := s.open(dir)
	if err != nil {
		return nil, 0, nil, err
	}
	defer s.close(st)
	runs, err := st.Runs()
	if err != nil {
		return nil, 0, nil, err
	}
	sf := store.Filter{Scenario: f.Scenario, Agent: agent, Valid: f.Valid}
	if f.Condition != "" || f.Backend != "" {
		sf.RunIDs = []string{}
		for _, x := range runs {
			if (f.Condition == "" || x.Condition == f.Condition) && (f.Backend == "" || x.Backend == f.Backend) {
				sf.RunIDs = append(sf.RunIDs, x.ID)
			}
		}
	}
	counts, err := st.CountByRun(sf)
	if err != nil {
		return nil, 0, nil, err
	}
	skip := f.Page * perPage
	for _, x := range runs { // design order
		n := counts[x.ID]
		total += n
		if skip >= n {
			skip -= n
			continue
		}
		if len(rows) == perPage {
			continue
		}
		ds, err := st.DecisionsOf(x.ID, sf, skip, perPage-len(rows))
		if err != nil {
			return nil, 0, nil, err
		}
		skip = 0
		for _, d := range ds {
			rows = append(rows, decisionRow{Link: decisionLink(id, d.Key), RunID: d.RunID, Backend: x.Backend, Condition: x.Condition,
				Scenario: d.Scenario, Values: values(d.Reply.Values), Agent: d.AgentID, Round: d.Round, Trial: d.Trial,
				Valid: d.Reply.Valid(), Cached: d.Reply.Cached, Invalid: d.Reply.Invalid,
				Tokens: fmt.Sprintf("%d + %d", d.Reply.InputTokens, d.Reply.OutputTokens), Latency: latency(d.Reply.Latency), Cost: costOf(d.Reply)})
		}
	}
	scens, err = st.Scenarios()
	return rows, total, scens, err
}

func decisionLink(id string, k store.Key) string {
	v := url.Values{}
	v.Set("run", k.RunID)
	v.Set("agent", strconv.Itoa(k.AgentID))
	v.Set("round", strconv.Itoa(k.Round))
	v.Set("trial", strconv.Itoa(k.Trial))
	v.Set("scenario", k.Scenario)
	return "/runs/" + url.PathEscape(id) + "/decision?" + v.Encode()
}

func values(v map[string]float64) string {
	if v == nil {
		return ""
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%g", k, v[k]))
	}
	return strings.Join(parts, ", ")
}

func latency(d time.Duration) string {
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

func costOf(r store.Reply) string {
	switch {
	case r.CostUSD != r.CostUSD && r.Calls > 0:
		return "unknown"
	case r.CostUSD != r.CostUSD || r.Calls == 0:
		return "-"
	}
	return "$" + usd.String(r.CostUSD)
}

func (s *Server) decisionPage(w http.ResponseWriter, r *http.Request, id, dir string) {
	q := r.URL.Query()
	var k store.Key
	var err error
	k.RunID, k.Scenario = q.Get("run"), q.Get("scenario")
	for _, p := range []struct {
		name string
		to   *int
	}{{"agent", &k.AgentID}, {"round", &k.Round}, {"trial", &k.Trial}} {
		if *p.to, err = strconv.Atoi(q.Get(p.name)); err != nil {
			s.fail(w, http.StatusBadRequest, fmt.Errorf("%s %q: want a whole number", p.name, q.Get(p.name)))
			return
		}
	}
	st, err := s.open(dir)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	var run store.Run
	x, found, err := st.Decision(k)
	repairs, perr := st.Repairs(k)
	runs, rerr := st.Runs()
	agent, agentFound, aerr := st.Agent(k.AgentID)
	s.close(st)
	err = errors.Join(err, perr, rerr, aerr)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	if !found && !slices.ContainsFunc(runs, func(x store.Run) bool { return x.ID == k.RunID }) {
		ids := make([]string, len(runs))
		for i, x := range runs {
			ids[i] = x.ID
		}
		s.fail(w, http.StatusBadRequest, fmt.Errorf("run %q: want one of the run's cells, %s", k.RunID, strings.Join(ids, ", ")))
		return
	}
	if !found {
		s.fail(w, http.StatusNotFound, fmt.Errorf("run %s records no decision for agent %d, %s, round %d, trial %d, cell %s", id, k.AgentID, k.Scenario, k.Round, k.Trial, k.RunID))
		return
	}
	d := &x
	for _, x := range runs {
		if x.ID == k.RunID {
			run = x
		}
	}
	persona := "(this run did not record its agents' persona text)"
	if agentFound {
		persona = agent.Text
	}
	data := struct {
		ID, Persona, System, Prompt, RequestError, Values, Params, Cost, Latency string
		D                                                                        *store.Decision
		Run                                                                      store.Run
		Repairs                                                                  []store.Attempt
	}{Repairs: repairs, ID: id, Persona: persona, D: d, Run: run, Values: values(d.Reply.Values), Params: values(d.Params),
		Cost: costOf(d.Reply), Latency: latency(d.Reply.Latency)}
	// Rebuilding the request replays the run's record in memory, as the live estimates do:
	// above the same limit it is not attempted.
	if n := s.snapshot(id, dir, false).Done; s.opt.LiveLimit > 0 && n > s.opt.LiveLimit {
		data.RequestError = fmt.Sprintf("the run records %d decisions, and rebuilding a request replays them all in memory (this server does it for runs of up to %d: prosim serve's LiveLimit)", n, s.opt.LiveLimit)
	} else if req, err := engine.RequestOf(dir, k); err != nil {
		data.RequestError = err.Error()
	} else {
		data.System, data.Prompt = req.System, req.Prompt
	}
	s.page(w, "decision", fmt.Sprintf("Decision: agent %d, %s (%s)", k.AgentID, k.Scenario, k.RunID), data)
}
