package serve

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/runlock"
	"github.com/prosim/prosim/internal/store"
)

// Snapshot is what a run's live view shows, formatted for display (the page's script copies
// these strings into the page as text).
type Snapshot struct {
	ID, Name, Study string
	Backends        []string
	// Status is starting, running, stopping, stopped (resumable), resuming or complete;
	// unreadable when the folder's database cannot be read.
	Status    string
	Done      int
	Expected  int
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
	// Estimates are provisional main estimates: [backend, condition, agents, mean, 95% CI].
	Estimates     [][5]string
	EstimateHead  [5]string
	EstimateTitle string
	EstimateNote  string
	// Error is how the last resume started by this server ended, or why the run cannot be read.
	Error string
	// CanStop and CanResume say which action applies now.
	CanStop, CanResume bool
}

// rateWindow is the span over which decisions/s is measured.
const rateWindow = 30 * time.Second

// load reads a run's record through a read-only store: the run writing it is never blocked.
// A record is read again only when the database or its WAL changed (size or time), so the
// runs page and the pages of a finished run do not read every decision on every request.
func (s *Server) load(dir string, exp *experiment.Experiment) (*report.Run, string, error) {
	db := filepath.Join(dir, "prosim.db")
	key := statKey(db) + "|" + statKey(db+"-wal")
	s.mu.Lock()
	c, ok := s.records[dir]
	s.mu.Unlock()
	if ok && c.key == key {
		return c.run, c.status, nil
	}
	st, err := store.OpenReadOnly(db)
	if err != nil {
		return nil, "", err
	}
	defer st.Close()
	status, err := st.Meta("status")
	if err != nil {
		return nil, "", err
	}
	run := &report.Run{Dir: dir, Exp: exp}
	if run.Runs, err = st.Runs(); err != nil {
		return nil, "", err
	}
	err = st.Decisions(func(d store.Decision) error {
		run.Decisions = append(run.Decisions, d)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	s.records[dir] = record{key, run, status}
	s.mu.Unlock()
	return run, status, nil
}

// record is a run's record as last read, with the file state it was read at.
type record struct {
	key    string
	run    *report.Run
	status string
}

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

// snapshot computes a run's live view. Validity, reasons and usage are the report's own
// functions over the decisions recorded so far.
func (s *Server) snapshot(id, dir string) (*Snapshot, *report.Run) {
	snap := &Snapshot{ID: id, Status: "unreadable", Percent: "-", Rate: "-", ETA: "-", Cost: "-", Projected: "-", ValidRate: "-", Tokens: "-"}
	in, err := s.inspection(dir)
	if err != nil {
		snap.Error = err.Error()
		return snap, nil
	}
	snap.Name, snap.Study, snap.Expected = in.Exp.Name, in.Exp.Study, in.Expected
	for _, b := range in.Exp.Backends {
		snap.Backends = append(snap.Backends, b.LabelOrDefault())
	}
	run, recorded, err := s.load(dir, in.Exp)
	if err != nil {
		if _, alive := runlock.Holder(dir); alive {
			snap.Status = "starting" // the run is creating its database
			return snap, nil
		}
		snap.Error = err.Error()
		return snap, nil
	}
	snap.Status = s.status(dir, recorded)
	s.mu.Lock()
	if s.resumes[dir] && snap.Status == "stopped" { // started here, not yet holding the lock
		snap.Status = "resuming"
	}
	s.mu.Unlock()
	snap.CanStop = snap.Status == "running"
	snap.CanResume = snap.Status == "stopped"
	s.mu.Lock()
	snap.Error = s.lastErr[dir]
	s.mu.Unlock()
	if !in.Recorded {
		snap.EstimateNote = "This run aggregates its decisions in memory (network.store: summary): nothing is recorded per decision to show live; its results appear when it completes."
	}
	snap.Done = len(run.Decisions)
	if snap.Expected > 0 {
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
	for _, v := range report.ValidityRows(run) {
		snap.Valid += v.Valid
		snap.Invalid += v.Invalid
	}
	snap.ValidRate = report.ValidityRow{Valid: snap.Valid, Invalid: snap.Invalid}.Rate()
	for _, r := range report.TopReasons(run, 5) {
		snap.Reasons = append(snap.Reasons, [2]string{fmt.Sprint(r.N), r.Reason})
	}
	var in_, out, llm int
	cost, known := 0.0, true
	for _, u := range report.UsageOf(run) {
		snap.Calls += u.Calls
		snap.Cached += u.Cached
		in_ += u.InputTokens
		out += u.OutputTokens
		if u.Backend != "builtin" {
			llm++
		}
		if math.IsNaN(u.CostUSD) {
			known = false
		} else {
			cost += u.CostUSD
		}
	}
	snap.Tokens = fmt.Sprintf("%d in + %d out", in_, out)
	switch {
	case snap.Done == 0:
	case llm == 0:
		snap.Cost, snap.Projected = "none (behavioural model, no provider)", "none"
	case !known:
		snap.Cost, snap.Projected = "unknown (no price for this model)", "unknown"
	default:
		snap.Cost = fmt.Sprintf("$%.4f", cost)
		if snap.Expected > 0 {
			// Cost so far per decision times every decision the run asks.
			snap.Projected = fmt.Sprintf("$%.4f", cost/float64(snap.Done)*float64(snap.Expected))
		}
	}
	if in.Exp.Study == "vignettes" {
		snap.EstimateTitle = "Mean willingness (1-7) by condition, so far"
		snap.EstimateNote = "Provisional: for each backend x condition, the mean of agent means over every scenario and replicate recorded so far, " +
			"with a 95% t interval over agents. The report gives the final means by scenario x condition once the run is complete."
		snap.Estimates = vignetteMeans(run)
	} else if in.Exp.Study == "tpp" && in.Recorded {
		snap.EstimateTitle = "Punishment rate by inequity, so far"
		snap.EstimateHead = [5]string{"backend", "inequity 15 - x ($)", "valid trials", "punishment rate", "95% CI (Wilson)"}
		snap.EstimateNote = "Provisional: for each backend and inequity (dollars below an equal split), the share of valid binary trials recorded so far in which the agent punished, " +
			"every condition and cost pooled, with a Wilson 95% interval that treats trials as independent. The results page gives the full analysis once the run is complete."
		snap.Estimates = tppRates(run)
	} else if snap.EstimateNote == "" {
		snap.EstimateNote = "Live estimates are shown for Study 1 (vignettes) and Study 2 (tpp); this study's results are on the results page once the run is complete."
	}
	if snap.Estimates != nil && snap.EstimateHead[0] == "" {
		snap.EstimateHead = [5]string{"backend", "condition", "agents", "mean", "95% CI"}
	}
	return snap, run
}

// vignetteMeans: per backend x condition, the mean of agent means of the willingness ratings
// recorded so far, with a 95% t interval over agents.
func vignetteMeans(run *report.Run) [][5]string {
	type cell struct{ backend, condition string }
	runOf := map[string]store.Run{}
	for _, r := range run.Runs {
		runOf[r.ID] = r
	}
	sums := map[cell]map[int][2]float64{} // agent -> sum, n
	for _, d := range run.Decisions {
		v, ok := d.Reply.Values["willingness"]
		if !d.Reply.Valid() || !ok {
			continue
		}
		r := runOf[d.RunID]
		c := cell{r.Backend, r.Condition}
		if sums[c] == nil {
			sums[c] = map[int][2]float64{}
		}
		a := sums[c][d.AgentID]
		sums[c][d.AgentID] = [2]float64{a[0] + v, a[1] + 1}
	}
	var out [][5]string
	var backends []string
	for _, r := range run.Runs {
		if len(backends) == 0 || backends[len(backends)-1] != r.Backend {
			backends = append(backends, r.Backend)
		}
	}
	for _, b := range backends {
		for _, c := range run.Exp.Conditions {
			agents := sums[cell{b, c.Name}]
			if len(agents) == 0 {
				out = append(out, [5]string{b, c.Name, "0", "-", "-"})
				continue
			}
			means := make([]float64, 0, len(agents))
			for _, a := range agents {
				means = append(means, a[0]/a[1])
			}
			mean := analysis.Describe(means).Mean
			ci := "-"
			if len(means) > 1 {
				lo, hi := analysis.MeanCI(means, 0.95)
				ci = fmt.Sprintf("[%s, %s]", report.F2(lo), report.F2(hi))
			}
			out = append(out, [5]string{b, c.Name, fmt.Sprint(len(means)), report.F2(mean), ci})
		}
	}
	return out
}

// rate is decisions per second over the last rateWindow, from the counts this server has
// seen; 0 until two samples a second apart exist, and when the run is not running.
func (s *Server) rate(dir string, done int, status string) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	h := s.history[dir]
	if len(h) > 0 && h[len(h)-1].done > done { // the run started again in this folder
		h = nil
	}
	if len(h) == 0 || now.Sub(h[len(h)-1].at) >= 200*time.Millisecond {
		h = append(h, sample{now, done})
	}
	for len(h) > 2 && now.Sub(h[1].at) > rateWindow {
		h = h[1:]
	}
	s.history[dir] = h
	if status != "running" && status != "stopping" {
		return 0
	}
	first := h[0]
	if dt := now.Sub(first.at).Seconds(); dt >= 1 {
		return float64(done-first.done) / dt
	}
	return 0
}

// tppRates: per backend x inequity (15 - x), the share of valid binary trials recorded so
// far in which the agent punished (choice 1), with a Wilson 95% interval.
func tppRates(run *report.Run) [][5]string {
	runOf := map[string]store.Run{}
	var backends []string
	for _, r := range run.Runs {
		runOf[r.ID] = r
		if len(backends) == 0 || backends[len(backends)-1] != r.Backend {
			backends = append(backends, r.Backend)
		}
	}
	type cell struct {
		backend  string
		inequity int
	}
	n, k := map[cell]int{}, map[cell]int{}
	levels := map[int]bool{}
	for _, d := range run.Decisions {
		x, okX := d.Params["x"]
		c, okC := d.Reply.Values["choice"]
		if !d.Reply.Valid() || !okX || !okC {
			continue
		}
		key := cell{runOf[d.RunID].Backend, int(math.Round(15 - x))}
		levels[key.inequity] = true
		n[key]++
		if c == 1 {
			k[key]++
		}
	}
	var ineq []int
	for l := range levels {
		ineq = append(ineq, l)
	}
	sort.Ints(ineq)
	var out [][5]string
	for _, b := range backends {
		for _, l := range ineq {
			c := cell{b, l}
			if n[c] == 0 {
				continue
			}
			lo, hi := analysis.ProportionCI(k[c], n[c], 0.95)
			out = append(out, [5]string{b, fmt.Sprint(l), fmt.Sprint(n[c]), report.F2(float64(k[c]) / float64(n[c])),
				fmt.Sprintf("[%s, %s]", report.F2(lo), report.F2(hi))})
		}
	}
	return out
}
