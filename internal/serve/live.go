package serve

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/manifest"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/runlock"
	"github.com/prosim/prosim/internal/store"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/usd"
)

// Snapshot is what a run's live view shows, formatted for display (the page's script copies
// these strings into the page as text).
type Snapshot struct {
	ID, Name, Study string
	Backends        []string
	// Status is starting, running, stopping, stopped (resumable), resuming or complete;
	// unreadable when the folder's database cannot be read; gone when the folder was moved or
	// removed while served.
	Status string
	// HasResults says the results page has the run's results: the one rule for its links.
	HasResults bool
	Done       int
	Expected   int
	// AtMost says Expected is an upper bound (engine.Inspection.AtMost): a complete run may
	// have made fewer decisions.
	AtMost    bool
	Percent   string
	Rate      string // decisions per second over the last rateWindow
	ETA       string
	Calls     int
	Cached    int
	Tokens    string
	Cost      string
	Projected string
	Valid     int
	Invalid   int
	ValidRate string
	// Reasons are the most common invalid reasons: [count, reason].
	Reasons [][2]string
	// Estimates are the study's provisional main estimates (study.Live), EstimateHead their
	// columns.
	Estimates     [][]string
	EstimateHead  []string
	EstimateTitle string
	EstimateNote  string
	// Error is how the last resume started by this server ended, or why the run cannot be read.
	Error string
	// CanStop and CanResume say which action applies now.
	CanStop, CanResume bool
}

// rateWindow is the span over which decisions/s is measured.
const rateWindow = 30 * time.Second

// tally is a run's record summed in SQL (store.Tallies, InvalidReasons): what the runs list
// and the live view show, read without loading a decision. It is read again only when the
// database, its WAL or the run's manifest changed (size or time).
type tally struct {
	key     string
	status  string
	runs    []store.Run
	tallies []store.Tally
	reasons []store.ReasonCount
	// unrecorded are the calls of asks that ended with no decision recorded (a call cut off by
	// Ctrl-C after it was sent, a cluster task's second reply): paid, so in the calls and cost.
	unrecorded []store.Unrecorded
	// capStop is the note of a stop at the spend cap, from the run's manifest (engine.CapStopOf).
	capStop string
}

func (s *Server) tally(dir string) (*tally, error) {
	db := filepath.Join(dir, "prosim.db")
	mf := filepath.Join(dir, manifest.File)
	key := statKey(db) + "|" + statKey(db+"-wal") + "|" + statKey(mf)
	s.mu.Lock()
	c, ok := s.tallies[dir]
	s.mu.Unlock()
	if ok && c.key == key {
		return c, nil
	}
	st, err := s.open(dir)
	if err != nil {
		return nil, err
	}
	defer s.close(st)
	t := &tally{key: key}
	if t.status, err = st.Meta("status"); err != nil {
		return nil, err
	}
	if t.runs, err = st.Runs(); err != nil {
		return nil, err
	}
	if t.tallies, err = st.Tallies(); err != nil {
		return nil, err
	}
	if t.reasons, err = st.InvalidReasons(5); err != nil {
		return nil, err
	}
	if t.unrecorded, err = st.UnrecordedSpend(); err != nil {
		return nil, err
	}
	// No manifest (a run of an earlier prosim, or one still creating its folder) records no stop.
	if m, err := manifest.Read(dir); err == nil {
		t.capStop = engine.CapStopOf(m, dir)
	}
	s.mu.Lock()
	s.tallies[dir] = t
	s.mu.Unlock()
	return t, nil
}

// open opens a run's database read-only: the run writing it is never blocked.
func (s *Server) open(dir string) (*store.Store, error) {
	return store.OpenReadOnly(filepath.Join(dir, "prosim.db"))
}

// close closes a store opened by open, counting the rows it read (RowsRead).
func (s *Server) close(st *store.Store) {
	s.rowsRead.Add(st.RowsRead())
	st.Close()
}

// RowsRead is how many rows of run databases this server has read (tests bound it).
func (s *Server) RowsRead() int64 { return s.rowsRead.Load() }

func statKey(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "-"
	}
	return fmt.Sprintf("%d@%d", fi.Size(), fi.ModTime().UnixNano())
}

// status is a run's state: complete (recorded so), running (a live process holds its lock),
// stopping (a stop was requested), else stopped, which prosim resume continues.
func (s *Server) status(dir, recorded string) string {
	if recorded == "complete" {
		return "complete"
	}
	if _, alive := runlock.Holder(dir); alive {
		if engine.StopRequested(dir) {
			return "stopping"
		}
		return "running"
	}
	return "stopped"
}

// snapshot computes a run's live view from its SQL tally; with estimates, also the study's
// provisional estimates (see estimates).
func (s *Server) snapshot(id, dir string, estimates bool) *Snapshot {
	snap := &Snapshot{ID: id, Status: "unreadable", Percent: "-", Rate: "-", ETA: "-", Cost: "-", Projected: "-", ValidRate: "-", Tokens: "-"}
	if !isRun(dir) {
		snap.Status, snap.Error = "gone", "its folder was moved or removed: it is no longer served (the runs list shows the runs there are now)"
		return snap
	}
	in, err := s.inspection(dir)
	if err != nil {
		snap.Error = err.Error()
		return snap
	}
	snap.Name, snap.Study, snap.Expected, snap.AtMost = in.Exp.Name, in.Exp.Study, in.Expected, in.AtMost
	for _, b := range in.Exp.Backends {
		snap.Backends = append(snap.Backends, b.LabelOrDefault())
	}
	t, err := s.tally(dir)
	if err != nil {
		if _, alive := runlock.Holder(dir); alive {
			snap.Status = "starting" // the run is creating its database
			return snap
		}
		snap.Error = err.Error()
		return snap
	}
	snap.Status = s.status(dir, t.status)
	s.mu.Lock()
	if s.resumes[dir] && snap.Status == "stopped" { // started here, not yet holding the lock
		snap.Status = "resuming"
	}
	snap.Error = s.lastErr[dir]
	s.mu.Unlock()
	if snap.Status == "stopped" && snap.Error == "" {
		if t.capStop != "" { // stopped at the cap by any process
			snap.Error = shownError(t.capStop, dir) + capHint
		}
	}
	snap.CanStop = snap.Status == "running"
	snap.CanResume = snap.Status == "stopped"
	snap.HasResults = snap.Status == "complete"
	backendOf := map[string]string{}
	for _, r := range t.runs {
		backendOf[r.ID] = r.Backend
	}
	var in_, out, unknown int
	cost, llm := 0.0, false
	for _, x := range t.tallies {
		snap.Done += x.Decisions
		snap.Valid += x.Valid
		snap.Calls += x.Calls
		snap.Cached += x.Cached
		in_ += x.InputTokens
		out += x.OutputTokens
		cost += x.CostUSD
		unknown += x.UnknownCost
		llm = llm || backendOf[x.RunID] != "builtin"
	}
	for _, u := range t.unrecorded {
		snap.Calls += u.Calls
		in_ += u.InputTokens
		out += u.OutputTokens
		if math.IsNaN(u.CostUSD) {
			unknown++
		} else {
			cost += u.CostUSD
		}
	}
	snap.Invalid = snap.Done - snap.Valid
	switch {
	case snap.Status == "complete" && snap.AtMost:
		snap.Percent = "complete" // of an upper bound, a share would read as unfinished (QA15 F7)
	case snap.Expected > 0:
		snap.Percent = fmt.Sprintf("%.1f%%", 100*float64(snap.Done)/float64(snap.Expected))
	}
	rate := s.rate(dir, snap.Done, snap.Status)
	if rate > 0 {
		snap.Rate = fmt.Sprintf("%.1f/s", rate)
		if snap.Status == "running" && snap.Expected > snap.Done {
			snap.ETA = (time.Duration(float64(snap.Expected-snap.Done)/rate) * time.Second).Round(time.Second).String()
		}
	} else if snap.Status == "running" {
		snap.Rate = "measuring"
	}
	snap.ValidRate = report.ValidityRow{Valid: snap.Valid, Invalid: snap.Invalid}.Rate()
	for _, r := range t.reasons {
		snap.Reasons = append(snap.Reasons, [2]string{fmt.Sprint(r.N), r.Reason})
	}
	snap.Tokens = fmt.Sprintf("%d in + %d out", in_, out)
	switch {
	case snap.Done == 0:
	case !llm:
		snap.Cost, snap.Projected = "none (behavioural model, no provider)", "none"
	case unknown > 0:
		snap.Cost, snap.Projected = "unknown (no price for this model)", "unknown"
	default:
		snap.Cost = "$" + usd.String(cost)
		switch {
		case snap.Status == "complete":
			snap.Projected = snap.Cost
		case snap.Expected > 0:
			// Cost so far per decision times every decision the run asks (at most).
			snap.Projected = "$" + usd.String(cost/float64(snap.Done)*float64(snap.Expected))
			if snap.AtMost {
				snap.Projected = "at most " + snap.Projected
			}
		}
	}
	if !in.Recorded {
		snap.EstimateNote = "This run aggregates its decisions in memory (network.store: summary): nothing is recorded per decision to show live; its results appear when it completes."
		return snap
	}
	if estimates {
		s.estimates(dir, t.key, snap)
	}
	return snap
}

// estimated is a run's live estimates as last computed.
type estimated struct {
	key  string
	at   time.Time
	took time.Duration
	est  *study.Estimates
	err  error
}

// estimates fills the snapshot's estimates: the study's own (engine.LiveEstimates), computed
// again when the database changed, at most every max(estimateEvery, 4 x the last
// computation's time), since they replay the run's record.
func (s *Server) estimates(dir, key string, snap *Snapshot) {
	s.mu.Lock()
	e, ok := s.estimated[dir]
	s.mu.Unlock()
	if !ok || e.key != key && time.Since(e.at) >= max(estimateEvery, 4*e.took) {
		start := time.Now()
		est, err := engine.LiveEstimates(dir, max(s.opt.LiveLimit, 0))
		e = &estimated{key: key, at: start, took: time.Since(start), est: est, err: err}
		s.mu.Lock()
		s.estimated[dir] = e
		s.mu.Unlock()
	}
	switch {
	case errors.Is(e.err, engine.ErrNoLive):
		snap.EstimateNote = "This study shows no live estimates; its results are on the results page once the run is complete."
	case errors.Is(e.err, engine.ErrTooLarge):
		snap.EstimateNote = "Live estimates are not computed for this run: " + e.err.Error() + " (they replay the whole record); its results are on the results page once the run is complete."
	case e.err != nil:
		snap.EstimateNote = "Live estimates could not be computed: " + e.err.Error()
	default:
		snap.EstimateTitle, snap.EstimateNote, snap.EstimateHead, snap.Estimates = e.est.Title, e.est.Note, e.est.Head, e.est.Rows
	}
}

// estimateEvery is the shortest interval between two computations of a run's estimates.
const estimateEvery = time.Second

// rate is decisions per second over the last rateWindow of the run's current session, from
// the counts this server has seen; 0 until two samples a second apart exist, and when the run
// is not running.
func (s *Server) rate(dir string, done int, status string) float64 {
	holder, _ := runlock.Holder(dir)
	return s.rateAt(dir, done, status, holder, time.Now())
}

// rateAt is rate at now, holder being the process that holds the run's lock. Time the run
// was stopped does not count (QA12 #15: after a Resume the page showed 1.1 to 2.3/s for a true
// 3.4/s, the window reaching back into the pause): the samples start again when the run is
// seen not running, is resumed from this page (resume clears them), or is held by another
// process (resumed from a terminal while no one looked).
func (s *Server) rateAt(dir string, done int, status string, holder int, now time.Time) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.history[dir]
	if status != "running" && status != "stopping" {
		delete(s.history, dir)
		return 0
	}
	if len(h) > 0 && (h[len(h)-1].done > done || h[len(h)-1].holder != holder) { // another session
		h = nil
	}
	if len(h) == 0 || now.Sub(h[len(h)-1].at) >= 200*time.Millisecond {
		h = append(h, sample{now, done, holder})
	}
	for len(h) > 2 && now.Sub(h[1].at) > rateWindow {
		h = h[1:]
	}
	s.history[dir] = h
	first := h[0]
	if dt := now.Sub(first.at).Seconds(); dt >= 1 {
		return float64(done-first.done) / dt
	}
	return 0
}
