// Package serve is `prosim serve`: a local web app over run folders. It lists the runs, shows
// a run live while `prosim run` writes it (server-sent events), its results (the report's own
// sections, rendered by the code that writes report.html), a comparison of runs, and a browser
// of every decision with the request it was asked with. Its only writes are the two actions:
// stop a run (a stop request the running process honours, see engine.RequestStop) and resume
// it (engine.Resume, in this process).
//
// Safety: run databases are opened read-only (never blocking the run writing them); runs are
// addressed by an id from the served list, never by a path; every page goes through
// html/template and the script sets text only (textContent); assets are embedded, nothing is
// fetched from the network. On loopback a Host check stops DNS rebinding; on any other address
// every request needs the token printed at start. Actions need a POST with a custom header,
// which a cross-site form cannot send.
package serve

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/store"
)

//go:embed assets
var assets embed.FS

// Options configure a Server.
type Options struct {
	// Roots are the served folders: each is a run folder or a folder of run folders.
	Roots []string
	// Token, when set, is required by every request (cookie, ?token= or Authorization: Bearer).
	Token string
	// Loopback says the server listens on loopback only: requests must then name a loopback
	// host (Host header), which stops DNS rebinding.
	Loopback bool
	// Log receives one line per action and per resume's outcome; nil for none.
	Log io.Writer
	// Interval is how often a live page is updated (default 1s).
	Interval time.Duration
	// LiveLimit is the most recorded decisions a run may have for its live estimates to be
	// computed and its decisions' requests rebuilt (both replay the record in memory); 0
	// means DefaultLiveLimit, < 0 no limit.
	LiveLimit int
}

// DefaultLiveLimit bounds the runs whose live estimates are computed: about the record a
// report of such a run holds in memory anyway, a few hundred MB.
const DefaultLiveLimit = 500_000

// Server serves the run folders of Options.Roots.
type Server struct {
	opt   Options
	ctx   context.Context // resumes started here run until it is cancelled
	pages map[string]*template.Template

	mu        sync.Mutex
	ids       map[string]string // id -> run directory
	byDir     map[string]string // run directory -> id
	inspect   map[string]*engine.Inspection
	history   map[string][]sample   // progress samples for the decision rate
	tallies   map[string]*tally     // each run's SQL tally as last read
	estimated map[string]*estimated // each run's live estimates as last computed
	rowsRead  atomic.Int64          // rows read from run databases (RowsRead)
	resumes   map[string]bool       // resumes running in this process
	running   sync.WaitGroup        // those resumes' goroutines (Wait)
	lastErr   map[string]string     // how the last resume started here ended
	// resultsCache is each run's results page as last rendered (resultsPage).
	resultsCache map[string]cachedPage
	pageSeq      uint64 // cacheResults' clock
	mux          *http.ServeMux
	rescanAt     time.Time
	scanMu       sync.Mutex // one rescan on a miss at a time (dirOf)
}

type sample struct {
	at     time.Time
	done   int
	holder int // the process holding the run's lock
}

// New makes a server; ctx bounds the resumes it starts.
func New(ctx context.Context, opt Options) (*Server, error) {
	if len(opt.Roots) == 0 {
		return nil, errors.New("serve: no folder to serve")
	}
	for i, r := range opt.Roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return nil, err
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("serve: %s is not a folder", r)
		}
		opt.Roots[i] = abs
	}
	if opt.LiveLimit == 0 {
		opt.LiveLimit = DefaultLiveLimit
	}
	if opt.Interval <= 0 {
		opt.Interval = time.Second
	}
	s := &Server{opt: opt, ctx: ctx, ids: map[string]string{}, byDir: map[string]string{},
		inspect: map[string]*engine.Inspection{}, tallies: map[string]*tally{}, estimated: map[string]*estimated{}, history: map[string][]sample{}, resumes: map[string]bool{},
		lastErr: map[string]string{}, resultsCache: map[string]cachedPage{}, pages: map[string]*template.Template{}}
	for _, p := range []string{"runs", "live", "decisions", "decision", "error"} {
		t, err := template.New("layout.tmpl").Funcs(funcs).ParseFS(assets, "assets/layout.tmpl", "assets/"+p+".tmpl")
		if err != nil {
			return nil, err
		}
		s.pages[p] = t
	}
	static, _ := fs.Sub(assets, "assets/static")
	m := http.NewServeMux()
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /{$}", s.takes(s.runsPage))
	m.HandleFunc("GET /compare", s.takes(s.comparePage, "id"))
	m.HandleFunc("GET /runs/{id}", s.takes(s.withRun(s.livePage)))
	m.HandleFunc("GET /runs/{id}/events", s.takes(s.withRun(s.events)))
	m.HandleFunc("GET /runs/{id}/snapshot", s.takes(s.withRun(s.snapshotJSON)))
	m.HandleFunc("GET /runs/{id}/results", s.takes(s.withRun(s.resultsPage)))
	m.HandleFunc("GET /runs/{id}/decisions", s.takes(s.withRun(s.decisionsPage), "condition", "scenario", "agent", "valid", "backend", "page"))
	m.HandleFunc("GET /runs/{id}/decision", s.takes(s.withRun(s.decisionPage), "run", "agent", "round", "trial", "scenario"))
	m.HandleFunc("POST /runs/{id}/stop", s.takes(s.withRun(s.stop)))
	m.HandleFunc("POST /runs/{id}/resume", s.takes(s.withRun(s.resume)))
	s.mux = m
	s.rescan()
	return s, nil
}

// takes serves h only if the request's query parameters are among params: a misspelt one
// (?vaild=no) or one this page does not read (?valid=no on a results page) is a 400 naming
// it, not a page that silently shows everything. token is ServeHTTP's.
func (s *Server) takes(h http.HandlerFunc, params ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k := range r.URL.Query() {
			if k != "token" && !slices.Contains(params, k) {
				takes := "no query parameter"
				if len(params) > 0 {
					takes = "only " + strings.Join(params, ", ")
				}
				s.fail(w, http.StatusBadRequest, fmt.Errorf("unknown query parameter %q: this page takes %s", k, takes))
				return
			}
		}
		h(w, r)
	}
}

// oneOf checks the value of query parameter name against the values it may take; empty is
// the forms' "all".
func oneOf(name, v string, allowed []string) error {
	if v == "" || slices.Contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("%s %q: want one of %s (or empty, for all)", name, v, strings.Join(allowed, ", "))
}

// ServeHTTP checks the host, the token and the action header, then serves.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Frame-Options", "DENY")
	// Everything the pages use is served here: no inline script, nothing from elsewhere.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	if s.opt.Loopback && !loopbackHost(r.Host) {
		http.Error(w, "prosim serve answers requests to a loopback host only (127.0.0.1, localhost, [::1])", http.StatusForbidden)
		return
	}
	if s.opt.Token != "" && !s.authorised(w, r) {
		return
	}
	if r.Method == http.MethodPost {
		// A cross-site page can POST a form but not set a header without a preflight this
		// server never grants.
		if r.Header.Get("X-Prosim-Action") != "1" {
			http.Error(w, "actions are sent by the page's buttons (X-Prosim-Action header missing)", http.StatusForbidden)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r.Host) {
			http.Error(w, "cross-origin action refused", http.StatusForbidden)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

const tokenCookie = "prosim_token"

// authorised accepts the token as a cookie, an Authorization: Bearer header, or ?token= (which
// sets the cookie and redirects to the same address without it, so it leaves the address bar).
func (s *Server) authorised(w http.ResponseWriter, r *http.Request) bool {
	eq := func(v string) bool { return v != "" && subtle.ConstantTimeCompare([]byte(v), []byte(s.opt.Token)) == 1 }
	if c, err := r.Cookie(tokenCookie); err == nil && eq(c.Value) {
		return true
	}
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") && eq(strings.TrimPrefix(h, "Bearer ")) {
		return true
	}
	if q := r.URL.Query(); eq(q.Get("token")) && r.Method == http.MethodGet {
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: s.opt.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		q.Del("token")
		u := *r.URL
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return false
	}
	http.Error(w, "this prosim serve needs its token: open the address it printed at start (…/?token=…)", http.StatusUnauthorized)
	return false
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sameOrigin(origin, host string) bool {
	o := strings.TrimPrefix(strings.TrimPrefix(origin, "http://"), "https://")
	return strings.EqualFold(o, host)
}

// IsLoopback reports whether addr (host:port) listens on loopback only.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false // ":8787" listens on every interface
	}
	return loopbackHost(host)
}

// rescan finds the run folders of the roots. Ids are the folders' names, made unique; a
// folder keeps its id while it is a run folder. One moved or removed leaves the list. The
// folders are read without s.mu held (a slow disk does not stall every request); two rescans
// at once each apply what they found.
func (s *Server) rescan() {
	s.mu.Lock()
	s.rescanAt = time.Now()
	known := slices.Collect(maps.Keys(s.byDir))
	s.mu.Unlock()
	var gone []string
	for _, d := range known {
		if !isRun(d) {
			gone = append(gone, d)
		}
	}
	var dirs []string
	for _, root := range s.opt.Roots {
		if isRun(root) {
			dirs = append(dirs, root)
			continue
		}
		entries, err := os.ReadDir(root)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if d := filepath.Join(root, e.Name()); e.IsDir() && isRun(d) {
				dirs = append(dirs, d)
			}
		}
	}
	defer tidy(gone) // a folder moved away keeps its files; one whose config went may still hold them
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range gone {
		s.forget(d)
	}
	for _, d := range dirs {
		if _, ok := s.byDir[d]; ok {
			continue
		}
		base := safeID(filepath.Base(d))
		id := base
		for n := 2; s.ids[id] != ""; n++ {
			id = fmt.Sprintf("%s-%d", base, n)
		}
		s.ids[id], s.byDir[d] = d, id
	}
}

// Close removes the -wal and -shm files the server's read-only reads left in the run folders
// it showed (store.Tidy), so that it leaves them as it found them; a folder whose run is
// writing keeps its own. Call it once the server and its resumes have stopped (Wait).
func (s *Server) Close() {
	s.mu.Lock()
	dirs := slices.Collect(maps.Keys(s.byDir))
	s.mu.Unlock()
	tidy(dirs)
}

// tidy removes what read-only reads left in the run folders dirs (store.Tidy).
func tidy(dirs []string) {
	for _, d := range dirs {
		store.Tidy(filepath.Join(d, "prosim.db")) // best effort: a folder read-only to us keeps them
	}
}

// forget drops a run folder that is gone, with what was read of it (s.mu held).
func (s *Server) forget(dir string) {
	delete(s.ids, s.byDir[dir])
	delete(s.byDir, dir)
	delete(s.inspect, dir)
	delete(s.tallies, dir)
	delete(s.estimated, dir)
	delete(s.history, dir)
}

// isRun: a run folder has its resolved config and its database (regular files: a symlink
// named so is not followed out of the served folders).
func isRun(dir string) bool {
	for _, f := range []string{"config.yaml", "prosim.db"} {
		fi, err := lstat(filepath.Join(dir, f))
		if err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// lstat is os.Lstat; a test makes it slow.
var lstat = os.Lstat

func safeID(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			b.WriteRune(r)
		} else {
			b.WriteRune('_')
		}
	}
	id := strings.Trim(b.String(), ".")
	if id == "" {
		id = "run"
	}
	return id
}

// runsSorted are the served runs' ids in name order (a default run folder's name ends in its
// start time, so runs of one experiment are listed oldest first).
func (s *Server) runsSorted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.ids))
	for id := range s.ids {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// dirOf is the run folder of an id from the served list; unknown ids (any path) are not found,
// nor is a listed run whose folder was moved or removed since (it is dropped from the list).
// An id not yet listed (a run begun since the last scan) is looked for again after a rescan;
// rescans on a miss happen at most once a second (a miss waits for the next one, or for ctx),
// so a stream of made-up ids cannot make the server read its roots without pause.
func (s *Server) dirOf(ctx context.Context, id string) (string, bool) {
	s.mu.Lock()
	d, ok := s.ids[id]
	wait := time.Second - time.Since(s.rescanAt)
	s.mu.Unlock()
	if ok && isRun(d) {
		return d, true
	}
	if ok {
		s.mu.Lock()
		if s.ids[id] == d {
			s.forget(d)
		}
		s.mu.Unlock()
	}
	if wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return "", false
		}
	}
	s.scanMu.Lock()
	s.mu.Lock()
	stale := time.Since(s.rescanAt) >= time.Second
	s.mu.Unlock()
	if stale {
		s.rescan()
	}
	s.scanMu.Unlock()
	s.mu.Lock()
	d, ok = s.ids[id]
	s.mu.Unlock()
	return d, ok
}

type runHandler func(w http.ResponseWriter, r *http.Request, id, dir string)

func (s *Server) withRun(h runHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		dir, ok := s.dirOf(r.Context(), id)
		if !ok {
			s.fail(w, http.StatusNotFound, fmt.Errorf("no run %q is served here", id))
			return
		}
		h(w, r, id, dir)
	}
}

// inspection is a run's design, prepared once (it does not change while the run goes on).
func (s *Server) inspection(dir string) (*engine.Inspection, error) {
	s.mu.Lock()
	in := s.inspect[dir]
	s.mu.Unlock()
	if in != nil {
		return in, nil
	}
	in, err := engine.Inspect(dir)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.inspect[dir] = in
	s.mu.Unlock()
	return in, nil
}

func (s *Server) logf(format string, args ...any) {
	if s.opt.Log != nil {
		fmt.Fprintf(s.opt.Log, "prosim serve: "+format+"\n", args...)
	}
}

var funcs = template.FuncMap{
	"describeBackend": report.DescribeBackend,
	"add":             func(a, b int) int { return a + b },
	"count":           plural.Count,
}
