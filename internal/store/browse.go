package store

import (
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"
)

// Reading a large run a page at a time: prosim serve shows runs of millions of decisions, so
// its pages read aggregates (SQL GROUP BY) and pages of rows (the primary key's order within
// one design cell, LIMIT/OFFSET), never the whole record. RowsRead counts the rows these
// methods (and Decisions) return, so that a test can bound what a page reads.

// RowsRead is how many result rows this store's read methods have returned so far.
func (s *Store) RowsRead() int64 { return s.rowsRead.Load() }

// Writes is how many transactions of decisions this store has committed so far (tests check
// which commits shared one).
func (s *Store) Writes() int64 { return s.writes.Load() }

// Tally sums the recorded decisions of one design cell (run id).
type Tally struct {
	RunID                      string
	Decisions, Valid           int
	Calls, FailedCalls, Cached int
	// UnusableCalls are those of Calls answered with HTTP 200 but unusable (see Reply).
	UnusableCalls int
	// NoUsageCalls are those of Calls whose usable reply said no token usage, in CostUSD at
	// their worst case (see Reply).
	NoUsageCalls              int
	InputTokens, OutputTokens int
	// CostUSD sums the known costs; UnknownCost counts decisions that made calls at no known
	// price (their cost is unknown, so the sum is too when it is not 0).
	CostUSD     float64
	UnknownCost int
}

// Tallies sums the recorded decisions per run id (one row per design cell that has any).
func (s *Store) Tallies() ([]Tally, error) {
	rows, err := s.db.Query(s.q(`SELECT run_id, COUNT(*), SUM(valid), SUM(calls), SUM(failed_calls), SUM(unusable_calls), SUM(no_usage_calls), SUM(cached), SUM(input_tokens), SUM(output_tokens),
	  TOTAL(cost_usd), SUM(cost_usd IS NULL AND calls > 0) FROM decisions GROUP BY run_id`))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Tally
	for rows.Next() {
		s.rowsRead.Add(1)
		var t Tally
		if err := rows.Scan(&t.RunID, &t.Decisions, &t.Valid, &t.Calls, &t.FailedCalls, &t.UnusableCalls, &t.NoUsageCalls, &t.Cached, &t.InputTokens, &t.OutputTokens, &t.CostUSD, &t.UnknownCost); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ReasonCount is how many invalid decisions gave one reason.
type ReasonCount struct {
	Reason string
	N      int
}

// InvalidReasons are the k most common reasons decisions were invalid, most common first
// (ties by reason).
func (s *Store) InvalidReasons(k int) ([]ReasonCount, error) {
	rows, err := s.db.Query(`SELECT invalid_reason, COUNT(*) AS n FROM decisions WHERE valid = 0
	  GROUP BY invalid_reason ORDER BY n DESC, invalid_reason LIMIT ?`, k)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReasonCount
	for rows.Next() {
		s.rowsRead.Add(1)
		var r ReasonCount
		if err := rows.Scan(&r.Reason, &r.N); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Filter selects decisions for a page: zero fields select everything.
type Filter struct {
	// RunIDs restricts to these design cells (nil: all; empty non-nil: none).
	RunIDs   []string
	Scenario string
	Agent    int // < 0: any agent
	// Valid is "yes", "no" or "" (either).
	Valid string
}

func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	if f.RunIDs != nil {
		if len(f.RunIDs) == 0 {
			conds = append(conds, "0")
		} else {
			conds = append(conds, "run_id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(f.RunIDs)), ",")+")")
			for _, id := range f.RunIDs {
				args = append(args, id)
			}
		}
	}
	if f.Scenario != "" {
		conds, args = append(conds, "scenario = ?"), append(args, f.Scenario)
	}
	if f.Agent >= 0 {
		conds, args = append(conds, "agent_id = ?"), append(args, f.Agent)
	}
	switch f.Valid {
	case "yes":
		conds = append(conds, "valid = 1")
	case "no":
		conds = append(conds, "valid = 0")
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// CountByRun counts the decisions f selects, per run id.
func (s *Store) CountByRun(f Filter) (map[string]int, error) {
	w, args := f.where()
	rows, err := s.db.Query(`SELECT run_id, COUNT(*) FROM decisions`+w+` GROUP BY run_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		s.rowsRead.Add(1)
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// DecisionsOf returns up to limit decisions of one design cell that f selects, after skipping
// offset of them, in the order of Decisions (agent, round, trial, scenario: the primary key's,
// so no sort is needed).
func (s *Store) DecisionsOf(runID string, f Filter, offset, limit int) ([]Decision, error) {
	f.RunIDs = []string{runID}
	w, args := f.where()
	var out []Decision
	err := s.decisions(func(d Decision) error { out = append(out, d); return nil },
		s.q(selectDecisions)+w+` ORDER BY run_id, agent_id, round, trial, scenario LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	return out, err
}

// Lookups is how many decisions were read one by one (Decision): a resume's count of them
// tells whether its recorded decisions were read in bulk.
func (s *Store) Lookups() int64 { return s.lookups.Load() }

// Decision returns one recorded decision; ok is false when it is not recorded.
func (s *Store) Decision(k Key) (d Decision, ok bool, err error) {
	s.lookups.Add(1)
	s.lookupMu.Lock()
	if s.lookup == nil {
		s.lookup, err = s.db.Prepare(s.q(selectDecisions) + ` WHERE run_id = ? AND agent_id = ? AND round = ? AND trial = ? AND scenario = ?`)
	}
	stmt := s.lookup
	s.lookupMu.Unlock()
	if err != nil {
		return Decision{}, false, err
	}
	rows, err := stmt.Query(k.RunID, k.AgentID, k.Round, k.Trial, k.Scenario)
	if err != nil {
		return Decision{}, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return Decision{}, false, rows.Err()
	}
	s.rowsRead.Add(1)
	d, err = newDecisionScanner().scan(rows)
	return d, err == nil, err
}

// DecisionsAt calls fn for each of keys that is recorded, in keys' order: one query per
// keysPerRead keys, each key an index seek, for a resume reading a step's recorded decisions
// back (one query each took about 25 µs a decision; a range read over the step's agents reads
// the rows of their other rounds and stages too).
func (s *Store) DecisionsAt(keys []Key, fn func(Decision) error) error {
	args := make([]any, 0, 5*min(len(keys), keysPerRead))
	for len(keys) > 0 {
		n := min(len(keys), keysPerRead)
		args = args[:0]
		for _, k := range keys[:n] {
			args = append(args, k.RunID, k.AgentID, k.Round, k.Trial, k.Scenario)
		}
		if n < keysPerRead { // the last few: a statement of their own
			if err := s.decisions(fn, s.atQuery(n), args...); err != nil {
				return err
			}
			break
		}
		s.lookupMu.Lock()
		var err error
		if s.at == nil {
			s.at, err = s.db.Prepare(s.atQuery(n))
		}
		stmt := s.at
		s.lookupMu.Unlock()
		if err != nil {
			return err
		}
		rows, err := stmt.QueryContext(s.reads, args...)
		if err != nil {
			return err
		}
		if err := s.scanRows(rows, fn, false); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// atQuery reads the decisions of n keys (DecisionsAt).
func (s *Store) atQuery(n int) string {
	// CROSS JOIN keeps the keys the outer loop: SQLite seeks each in the primary key.
	return strings.TrimSuffix(s.q(selectDecisions), "FROM decisions d") + `FROM (VALUES (?,?,?,?,?)` +
		strings.Repeat(`,(?,?,?,?,?)`, n-1) + `) v CROSS JOIN decisions d
		  ON d.run_id = v.column1 AND d.agent_id = v.column2 AND d.round = v.column3 AND d.trial = v.column4 AND d.scenario = v.column5`
}

// keysPerRead is how many keys one query of DecisionsAt reads (5 arguments a key, under
// SQLite's 32,766).
const keysPerRead = 1000

// Scenarios are the distinct scenarios recorded, in name order.
func (s *Store) Scenarios() ([]string, error) {
	rows, err := s.db.Query(`SELECT DISTINCT scenario FROM decisions ORDER BY scenario`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		s.rowsRead.Add(1)
		var sc string
		if err := rows.Scan(&sc); err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// decisionScanner reads rows of the decisions columns in Decisions' order into one set of
// destinations, reused row after row (Scan's arguments would each escape to the heap anew).
// Numbers are scanned into an any, which database/sql fills as the driver gave it: into an
// int it converts the driver's int64 through its decimal text (strconv both ways, for nine
// columns a row, was most of the scan).
type decisionScanner struct {
	runID, scenario, params, raw, invalid, provider, model, version string
	vals                                                            sql.NullString
	n                                                               [len(intColumns)]any
	cost, lat                                                       any
	dest                                                            []any
	counted                                                         bool // selectCounted's columns: no params, raw or provider
}

func newDecisionScanner() *decisionScanner {
	c := &decisionScanner{}
	c.dest = []any{&c.runID, &c.n[0], &c.n[1], &c.n[2], &c.scenario, &c.params, &c.vals, &c.raw, &c.n[3], &c.invalid,
		&c.provider, &c.model, &c.version, &c.n[4], &c.n[5], &c.n[6], &c.n[7], &c.n[8], &c.n[9], &c.n[10], &c.cost, &c.lat}
	return c
}

// newCountingScanner reads rows of selectCounted's columns.
func newCountingScanner() *decisionScanner {
	c := &decisionScanner{counted: true}
	c.dest = []any{&c.runID, &c.n[0], &c.n[1], &c.n[2], &c.scenario, &c.vals, &c.n[3], &c.invalid,
		&c.model, &c.version, &c.n[4], &c.n[5], &c.n[6], &c.n[7], &c.n[8], &c.n[9], &c.n[10], &c.cost, &c.lat}
	return c
}

// scan reads the current row.
func (c *decisionScanner) scan(rows *sql.Rows) (Decision, error) {
	if err := rows.Scan(c.dest...); err != nil {
		return Decision{}, err
	}
	d := Decision{Key: Key{RunID: c.runID, Scenario: c.scenario}}
	r := &d.Reply
	r.Raw, r.Invalid, r.Provider, r.Model, r.ModelVersion = c.raw, c.invalid, c.provider, c.model, c.version
	var valid, cached int
	for i, to := range [...]*int{&d.AgentID, &d.Round, &d.Trial, &valid, &cached, &r.Calls, &r.FailedCalls, &r.UnusableCalls, &r.NoUsageCalls, &r.InputTokens, &r.OutputTokens} {
		v, ok := c.n[i].(int64)
		if !ok {
			return d, fmt.Errorf("decision %v: %s is %T %v, not an integer", d.Key, intColumns[i], c.n[i], c.n[i])
		}
		*to = int(v)
	}
	var err error
	if !c.counted { // selectCounted reads no params
		if d.Params, err = decodeFloats(c.params); err != nil {
			return d, fmt.Errorf("decision %v: params: %w", d.Key, err)
		}
	}
	if c.vals.Valid {
		if r.Values, err = decodeFloats(c.vals.String); err != nil {
			return d, fmt.Errorf("decision %v: values: %w", d.Key, err)
		}
	}
	r.Cached = cached == 1
	r.CostUSD = math.NaN()
	if c.cost != nil {
		if r.CostUSD, err = number(c.cost); err != nil {
			return d, fmt.Errorf("decision %v: cost_usd: %w", d.Key, err)
		}
	}
	ms, err := number(c.lat)
	if err != nil {
		return d, fmt.Errorf("decision %v: latency_ms: %w", d.Key, err)
	}
	r.Latency = time.Duration(ms * float64(time.Millisecond))
	return d, nil
}

// intColumns are the integer columns decisionScanner reads, in its order.
var intColumns = [...]string{"agent_id", "round", "trial", "valid", "cached", "calls", "failed_calls", "unusable_calls", "no_usage_calls", "input_tokens", "output_tokens"}

// number is a REAL column's value as scanned into an any.
func number(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	}
	return 0, fmt.Errorf("%T %v is not a number", v, v)
}

// Repairs are the attempts of decision k before its recorded reply, in order (none when it
// was not re-asked, and in runs recorded before prosim kept them).
func (s *Store) Repairs(k Key) ([]Attempt, error) {
	var has int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='repairs'`).Scan(&has); err != nil || has == 0 {
		return nil, err // a database of schema 2 or earlier opened read-only
	}
	rows, err := s.db.Query(`SELECT raw, invalid_reason, repair FROM repairs
	  WHERE run_id = ? AND agent_id = ? AND round = ? AND trial = ? AND scenario = ? ORDER BY attempt`,
		k.RunID, k.AgentID, k.Round, k.Trial, k.Scenario)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		s.rowsRead.Add(1)
		var a Attempt
		if err := rows.Scan(&a.Raw, &a.Invalid, &a.Repair); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
