package report

// Study 3 (network) for the report, read from the files the engine writes in RUN_DIR/results:
//
//   - rounds.csv (one row per agent, round and run): the trajectories by exposure group, the
//     contagion curve and each agent's final state;
//   - network_edges.csv: the graph, drawn coloured by final state;
//   - network_mediation.csv: the engine's mediation estimates (not recomputed here, so the
//     report and network_summary.txt always agree).
//
// A run directory written before the last two files existed gets the trajectories and the
// contagion curve, and a note saying how to add the rest (`prosim resume RUN_DIR` rewrites the
// results from the recorded decisions without asking anything again).

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/prosim/prosim/internal/analysis"
)

// Files of a Study 3 run's results directory (the engine's names; the engine cannot be
// imported here, it imports this package).
const (
	roundsFile    = "rounds.csv"
	edgesFile     = "network_edges.csv"
	mediationFile = "network_mediation.csv"
)

// MaxNetworkNodes is the most agents the network drawing shows; a larger network is drawn as
// a seeded sample: the victims and the agents nearest to them.
var MaxNetworkNodes = 300

// controlDodge shifts the control series right of their rounds so the whiskers do not overlap.
const controlDodge = 0.12

// Exposure groups, as in network_summary.txt; the last one also holds agents no victim can
// reach (on a disconnected graph).
var exposureGroups = []string{"victims", "distance 1", "distance 2", "distance 3+"}

// Colours of the final states in the network drawing.
const (
	stateVictim     = "victim (treated unfairly)"
	stateAffected   = "affected"
	stateUnaffected = "not affected"
)

var stateColors = map[string]string{stateVictim: "#D55E00", stateAffected: "#CC79A7", stateUnaffected: "#9fb7c9"}

// roundRow is one row of rounds.csv. w and u are 0 when missing (invalid decision); dist is
// -1 when empty (a control run, or an agent no victim can reach).
type roundRow struct {
	w, u              int8
	dist              int32
	affected, treated bool
	valid, present    bool
}

// roundsData is rounds.csv indexed by run: rows[run][(round-1)*len(agents)+agentIndex].
type roundsData struct {
	agents []int       // agent ids, ascending
	index  map[int]int // agent id -> index
	rounds int
	runs   []string // run ids in file order
	cond   map[string]string
	rep    map[string]int
	rows   map[string][]roundRow
	dists  map[string][]int32 // cache of dist
}

func (d *roundsData) at(run string, round, agent int) roundRow {
	return d.rows[run][(round-1)*len(d.agents)+agent]
}

// dist is an agent's exposure distance in a run (the same on all its rows), -1 when none.
func (d *roundsData) dist(run string, agent int) int32 {
	ds, ok := d.dists[run]
	if !ok {
		ds = make([]int32, len(d.agents))
		for a := range ds {
			ds[a] = -1
			for t := 1; t <= d.rounds; t++ {
				if x := d.at(run, t, a); x.present {
					ds[a] = x.dist
					break
				}
			}
		}
		d.dists[run] = ds
	}
	return ds[agent]
}

// readRounds reads rounds.csv (the columns are found by name).
func readRounds(path string) (*roundsData, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, need := range []string{"run_id", "condition", "replicate", "agent_id", "round", "willingness", "unfairness", "exposure_distance", "affected", "treated", "valid"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s: no column %s", path, need)
		}
	}
	type raw struct {
		run          string
		agent, round int
		row          roundRow
	}
	var all []raw
	d := &roundsData{index: map[int]int{}, cond: map[string]string{}, rep: map[string]int{}, rows: map[string][]roundRow{}, dists: map[string][]int32{}}
	line := 1
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		bad := func(c string) error { return fmt.Errorf("%s line %d: bad %s %q", path, line, c, rec[col[c]]) }
		num := func(c string) (int, error) {
			s := rec[col[c]]
			if s == "" {
				return 0, nil
			}
			v, err := strconv.Atoi(s)
			if err != nil {
				return 0, bad(c)
			}
			return v, nil
		}
		var x raw
		x.run = rec[col["run_id"]]
		if _, ok := d.cond[x.run]; !ok {
			d.runs = append(d.runs, x.run)
			d.cond[x.run] = rec[col["condition"]]
			if d.rep[x.run], err = num("replicate"); err != nil {
				return nil, err
			}
		}
		if x.agent, err = strconv.Atoi(rec[col["agent_id"]]); err != nil {
			return nil, bad("agent_id")
		}
		if x.round, err = strconv.Atoi(rec[col["round"]]); err != nil || x.round < 1 {
			return nil, bad("round")
		}
		var w, u int
		if w, err = num("willingness"); err != nil {
			return nil, err
		}
		if u, err = num("unfairness"); err != nil {
			return nil, err
		}
		x.row = roundRow{w: int8(w), u: int8(u), dist: -1, present: true,
			affected: rec[col["affected"]] == "1", treated: rec[col["treated"]] == "1", valid: rec[col["valid"]] == "1"}
		if s := rec[col["exposure_distance"]]; s != "" {
			v, err := strconv.Atoi(s)
			if err != nil {
				return nil, bad("exposure_distance")
			}
			x.row.dist = int32(v)
		}
		if x.row.valid && (w == 0 || u == 0) {
			x.row.valid = false
		}
		if _, ok := d.index[x.agent]; !ok {
			d.index[x.agent] = -1
			d.agents = append(d.agents, x.agent)
		}
		d.rounds = max(d.rounds, x.round)
		all = append(all, x)
	}
	sort.Ints(d.agents)
	for i, a := range d.agents {
		d.index[a] = i
	}
	n := len(d.agents)
	for _, run := range d.runs {
		d.rows[run] = make([]roundRow, d.rounds*n)
	}
	for _, x := range all {
		d.rows[x.run][(x.round-1)*n+d.index[x.agent]] = x.row
	}
	return d, nil
}

// comparison is one inequity condition of one backend against its control, replicate by
// replicate (the control run of the same backend, replicate and policy), as the engine pairs
// them.
type comparison struct {
	backend, cond, control string
	from                   int
	pairs                  [][2]string // (inequity run, control run)
}

func (c *comparison) label(multiBackend bool) string {
	if multiBackend {
		return c.backend + " " + c.cond
	}
	return c.cond
}

// comparisons pairs every inequity run with its control run.
func comparisons(r *Run, d *roundsData) []*comparison {
	from := map[string]int{}
	for _, c := range r.Exp.Conditions {
		if c.Inequity != nil {
			from[c.Name] = c.Inequity.From
		}
	}
	runOf := runIndex(r)
	var out []*comparison
	byKey := map[string]*comparison{}
	for _, id := range d.runs {
		run, ok := runOf[id]
		f, inequity := from[d.cond[id]]
		if !ok || !inequity {
			continue
		}
		for _, cid := range d.runs {
			c, ok := runOf[cid]
			if _, cin := from[d.cond[cid]]; !ok || cin || c.Backend != run.Backend || c.Replicate != run.Replicate || c.Policy != run.Policy {
				continue
			}
			key := run.Backend + "\x00" + run.Condition
			cmp := byKey[key]
			if cmp == nil {
				cmp = &comparison{backend: run.Backend, cond: run.Condition, control: c.Condition, from: f}
				byKey[key] = cmp
				out = append(out, cmp)
			}
			cmp.pairs = append(cmp.pairs, [2]string{id, cid})
			break
		}
	}
	return out
}

func groupOfDist(dist int32) int {
	if dist < 0 || dist >= 3 {
		return 3
	}
	return int(dist)
}

// trajectory is the mean of one field by round over agents, each agent's rows in the group
// (one per replicate it is in the group) averaged first, with a 95% t CI over agents.
func trajectory(d *roundsData, cmp *comparison, group int, control bool, field func(roundRow) int8) (x, y, lo, hi []float64, agents int) {
	type sum struct {
		s float64
		n int
	}
	members := map[int]bool{}
	for t := 1; t <= d.rounds; t++ {
		per := map[int]*sum{}
		for _, p := range cmp.pairs {
			run := p[0]
			if control {
				run = p[1]
			}
			for a := range d.agents {
				if groupOfDist(d.dist(p[0], a)) != group {
					continue
				}
				members[a] = true
				row := d.at(run, t, a)
				if !row.present || !row.valid {
					continue
				}
				s := per[a]
				if s == nil {
					s = &sum{}
					per[a] = s
				}
				s.s += float64(field(row))
				s.n++
			}
		}
		var means []float64
		for a := range d.agents {
			if s := per[a]; s != nil {
				means = append(means, s.s/float64(s.n))
			}
		}
		m, l, h := math.NaN(), math.NaN(), math.NaN()
		if len(means) > 0 {
			m = mean(means)
			l, h = analysis.MeanCI(means, 0.95)
		}
		x, y, lo, hi = append(x, float64(t)), append(y, m), append(lo, l), append(hi, h)
	}
	return x, y, lo, hi, len(members)
}

// Study3Comparison is the trajectories of one inequity condition (of one backend) against its
// control.
type Study3Comparison struct {
	Label                   string
	Willingness, Unfairness []Series
}

// roundTicks are the integer rounds of the series (nil, automatic ticks, beyond 15 rounds).
func roundTicks(ss []Series) []float64 {
	hi := 0.0
	for _, s := range ss {
		for _, x := range s.X {
			hi = math.Max(hi, math.Floor(x))
		}
	}
	if hi < 1 || hi > 15 {
		return nil
	}
	var t []float64
	for r := 1.0; r <= hi; r++ {
		t = append(t, r)
	}
	return t
}

// loadStudy3 is the default Study3Loader: nil when the run has no results/rounds.csv.
func loadStudy3(r *Run) (*Study3Data, error) {
	res := filepath.Join(r.Dir, "results")
	path := filepath.Join(res, roundsFile)
	if _, err := os.Stat(path); err != nil {
		return loadStudy3Summary(r)
	}
	d, err := readRounds(path)
	if err != nil {
		return nil, err
	}
	if len(d.runs) == 0 {
		return nil, nil
	}
	out := &Study3Data{}
	runOf := runIndex(r)
	multiBackend := len(backendsOf(r)) > 1
	cmps := comparisons(r, d)

	// Trajectories by exposure group: the inequity run solid, the same agents in the control
	// run dashed, one colour per group; one pair of charts per comparison.
	var sizes []string
	for _, cmp := range cmps {
		var gs []string
		var c Study3Comparison
		if len(cmps) > 1 {
			c.Label = cmp.label(multiBackend) + " vs " + cmp.control
		}
		for g, gname := range exposureGroups {
			if g == 3 && slices.ContainsFunc(cmp.pairs, func(p [2]string) bool {
				return slices.ContainsFunc(d.agents, func(a int) bool { return d.dist(p[0], d.index[a]) < 0 })
			}) {
				gname = "distance 3+ or unreachable"
			}
			col := Palette[g%len(Palette)]
			for _, f := range []struct {
				dst *[]Series
				get func(roundRow) int8
			}{{&c.Willingness, func(x roundRow) int8 { return x.w }}, {&c.Unfairness, func(x roundRow) int8 { return x.u }}} {
				x, y, lo, hi, n := trajectory(d, cmp, g, false, f.get)
				if n == 0 {
					continue
				}
				*f.dst = append(*f.dst, Series{Name: gname + ": " + cmp.cond, X: x, Y: y, Lo: lo, Hi: hi, Color: col, Marker: "circle"})
				x, y, lo, hi, _ = trajectory(d, cmp, g, true, f.get)
				for i := range x {
					x[i] += controlDodge
				}
				*f.dst = append(*f.dst, Series{Name: gname + ": " + cmp.control, X: x, Y: y, Lo: lo, Hi: hi, Color: col, Dashed: true, Marker: "open"})
				if f.dst == &c.Willingness {
					gs = append(gs, fmt.Sprintf("%s %d", gname, n))
				}
			}
		}
		if len(cmps) == 1 {
			out.Willingness, out.Unfairness = c.Willingness, c.Unfairness
		} else {
			out.Comparisons = append(out.Comparisons, c)
		}
		sizes = append(sizes, fmt.Sprintf("%s vs %s (%d replicate%s, unfair treatment from round %d): %s agents",
			cmp.label(multiBackend), cmp.control, len(cmp.pairs), plural(len(cmp.pairs)), cmp.from, strings.Join(gs, ", ")))
	}
	if len(cmps) > 0 {
		out.Notes = append(out.Notes, "Trajectories: solid lines are the inequity condition, dashed lines with open markers the same agents (grouped by their distance from the victims in the inequity run) in the control run of the same replicate, drawn slightly to the right of their round. Each point is the mean over agents of each agent's mean over the replicates in which it is in the group; whiskers are 95% t CIs over agents. Invalid decisions are left out. Group sizes: "+strings.Join(sizes, "; ")+".")
	} else {
		out.Notes = append(out.Notes, "No inequity condition with a control run of the same backend, replicate and policy: no exposure groups to compare.")
	}

	// Contagion curve: share of all agents affected by round, each condition (and backend),
	// pooled over replicates.
	type ckey struct{ backend, cond string }
	var order []ckey
	affected := map[ckey][]float64{}
	total := map[ckey][]float64{}
	for _, id := range d.runs {
		k := ckey{runOf[id].Backend, d.cond[id]}
		if _, ok := affected[k]; !ok {
			order = append(order, k)
			affected[k], total[k] = make([]float64, d.rounds), make([]float64, d.rounds)
		}
		for t := 1; t <= d.rounds; t++ {
			for a := range d.agents {
				if x := d.at(id, t, a); x.present {
					total[k][t-1]++
					if x.affected {
						affected[k][t-1]++
					}
				}
			}
		}
	}
	for i, k := range order {
		s := Series{Name: k.cond, Color: Palette[i%len(Palette)], Marker: markers[i%len(markers)]}
		if multiBackend {
			s.Name = k.backend + " " + k.cond
		}
		if !slices.ContainsFunc(cmps, func(c *comparison) bool { return c.cond == k.cond }) {
			s.Dashed, s.Marker = true, "open"
		}
		for t := range d.rounds {
			s.X = append(s.X, float64(t+1))
			v := math.NaN()
			if total[k][t] > 0 {
				v = affected[k][t] / total[k][t]
			}
			s.Y = append(s.Y, v)
		}
		out.Contagion = append(out.Contagion, s)
	}
	if err := addPlacebo(out, res, multiBackend); err != nil {
		return nil, err
	}

	// The network, coloured by the final state of the first replicate of the first inequity
	// condition (or of the first run).
	net, note := networkDrawing(r, d, cmps)
	out.Network = net
	if note != "" {
		out.Notes = append(out.Notes, note)
	}

	med, notes := mediationDiagram(filepath.Join(res, mediationFile), multiBackend)
	out.Mediation = med
	out.Notes = append(out.Notes, notes...)
	return out, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// networkDrawing draws the graph of results/network_edges.csv, or a sample of at most
// MaxNetworkNodes agents around the victims.
func networkDrawing(r *Run, d *roundsData, cmps []*comparison) (*NetworkChart, string) {
	path := filepath.Join(r.Dir, "results", edgesFile)
	edges, err := readEdges(path, d.index)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Sprintf("This run directory has no results/%s (written by newer versions of prosim), so the network is not drawn; `prosim resume %s` rewrites the results from the recorded decisions, asking nothing again.", edgesFile, r.Dir)
		}
		return nil, fmt.Sprintf("The network is not drawn: %v.", err)
	}
	run := d.runs[0]
	what := "run " + run
	if len(cmps) > 0 {
		run = cmps[0].pairs[0][0]
		what = fmt.Sprintf("%s, replicate %d", cmps[0].cond, d.rep[run])
	}
	n := len(d.agents)
	state := make([]string, n)
	var victims []int
	for a := range n {
		x := d.at(run, d.rounds, a)
		switch {
		case x.dist == 0:
			state[a] = stateVictim
			victims = append(victims, a)
		case x.affected:
			state[a] = stateAffected
		default:
			state[a] = stateUnaffected
		}
	}
	nodes := make([]int, n)
	for i := range nodes {
		nodes[i] = i
	}
	sample := ""
	if n > MaxNetworkNodes {
		var seed uint64
		if r.Exp.Seed != nil {
			seed = *r.Exp.Seed
		}
		nodes = sampleAround(n, edges, victims, MaxNetworkNodes, seed)
		sample = fmt.Sprintf(" The network has %d agents: drawn are %d of them, the victims and the agents nearest to them (breadth-first, ties in a seeded random order), with the edges among them.", n, len(nodes))
	}
	pos := map[int]int{}
	for i, a := range nodes {
		pos[a] = i
	}
	c := &NetworkChart{N: len(nodes), States: []string{stateVictim, stateAffected, stateUnaffected}, Colors: stateColors,
		Title: "Network coloured by final state (" + what + ")"}
	for _, a := range nodes {
		c.State = append(c.State, state[a])
		c.IDs = append(c.IDs, d.agents[a])
	}
	for _, e := range edges {
		i, ok1 := pos[e[0]]
		j, ok2 := pos[e[1]]
		if ok1 && ok2 {
			c.Edges = append(c.Edges, [2]int{i, j})
		}
	}
	return c, fmt.Sprintf("Network: the state of each agent after round %d in %s: a victim of the unfair treatment, affected (the contagion rule's state), or not affected.%s", d.rounds, what, sample)
}

// readEdges reads an edge list of agent ids (source, target) into agent indices.
func readEdges(path string, index map[int]int) ([][2]int, error) {
	recs, err := readCSVFile(path)
	if err != nil {
		return nil, err
	}
	var out [][2]int
	for i, rec := range recs {
		if i == 0 || len(rec) < 2 {
			continue // header
		}
		var e [2]int
		for k := range 2 {
			id, err := strconv.Atoi(rec[k])
			if err != nil {
				return nil, fmt.Errorf("%s line %d: bad agent id %q", path, i+1, rec[k])
			}
			ix, ok := index[id]
			if !ok {
				return nil, fmt.Errorf("%s line %d: agent %d is not in rounds.csv", path, i+1, id)
			}
			e[k] = ix
		}
		out = append(out, e)
	}
	return out, nil
}

// sampleAround returns at most k of n nodes: a breadth-first search from the victims (from a
// seeded random node when there are none), each layer in a seeded random order; the search
// restarts from a random unvisited node when a component is exhausted.
func sampleAround(n int, edges [][2]int, victims []int, k int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0x5eed5a3b1e))
	adj := make([][]int, n)
	for _, e := range edges {
		adj[e[0]] = append(adj[e[0]], e[1])
		adj[e[1]] = append(adj[e[1]], e[0])
	}
	seen := make([]bool, n)
	var out []int
	layer := slices.Clone(victims)
	if len(layer) == 0 {
		layer = []int{rng.IntN(n)}
	}
	for _, v := range layer {
		seen[v] = true
	}
	for len(out) < k {
		if len(layer) == 0 {
			var rest []int
			for v := range n {
				if !seen[v] {
					rest = append(rest, v)
				}
			}
			if len(rest) == 0 {
				break
			}
			v := rest[rng.IntN(len(rest))]
			seen[v] = true
			layer = []int{v}
		}
		rng.Shuffle(len(layer), func(i, j int) { layer[i], layer[j] = layer[j], layer[i] })
		var next []int
		for _, v := range layer {
			if len(out) == k {
				break
			}
			out = append(out, v)
			for _, w := range adj[v] {
				if !seen[w] {
					seen[w] = true
					next = append(next, w)
				}
			}
		}
		slices.Sort(next) // the shuffle alone decides the order: independent of edge order
		layer = next
	}
	slices.Sort(out)
	return out
}

// mediationDiagram reads results/network_mediation.csv: the first estimable comparison is
// drawn, the others are given as notes.
func mediationDiagram(path string, multiBackend bool) (*MediationDiagram, []string) {
	recs, err := readCSVFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, []string{fmt.Sprintf("This run directory has no results/%s (written by newer versions of prosim), so the mediation diagram is not drawn: the estimates are in results/network_summary.txt, and `prosim resume %s` rewrites the results from the recorded decisions, asking nothing again.", mediationFile, filepath.Dir(filepath.Dir(path)))}
		}
		return nil, []string{fmt.Sprintf("Mediation: %s is not readable (%v).", path, err)}
	}
	if len(recs) == 0 {
		return nil, []string{fmt.Sprintf("Mediation: %s is empty.", path)}
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	get := func(rec []string, c string) string {
		if i, ok := col[c]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	fl := func(rec []string, c string) float64 {
		v, err := strconv.ParseFloat(get(rec, c), 64)
		if err != nil {
			return math.NaN()
		}
		return v
	}
	in := func(rec []string, c string) int {
		v, _ := strconv.Atoi(get(rec, c))
		return v
	}
	var diagram *MediationDiagram
	var notes []string
	for _, rec := range recs[1:] {
		label := get(rec, "condition")
		if multiBackend {
			label = get(rec, "backend") + " " + label
		}
		sample := fmt.Sprintf("%s vs %s: distance-1 agents (neighbours of the victims) in rounds %s-%s, exposed = 1 in the inequity run and 0 for the same agents in the control run",
			label, get(rec, "control"), get(rec, "from_round"), get(rec, "to_round"))
		if e := get(rec, "error"); e != "" {
			notes = append(notes, fmt.Sprintf("Mediation, %s: not estimable (%s).", sample, e))
			continue
		}
		level := fl(rec, "level")
		if math.IsNaN(level) {
			level = 0.95
		}
		m := MediationDiagram{X: "exposed (1 = inequity)", M: "perceived unfairness", Y: "willingness (1-7)",
			A: fl(rec, "a"), SEA: fl(rec, "se_a"), B: fl(rec, "b"), SEB: fl(rec, "se_b"), C: fl(rec, "c"), CPrime: fl(rec, "c_prime"),
			Indirect: fl(rec, "indirect"), Lo: fl(rec, "boot_low"), Hi: fl(rec, "boot_high"), N: in(rec, "n"), Cluster: in(rec, "clusters")}
		m.CILabel = fmt.Sprintf("%g%% cluster bootstrap CI (%d resamples); Monte Carlo CI [%s, %s]", 100*level, in(rec, "boot_reps"), f2(fl(rec, "mc_low")), f2(fl(rec, "mc_high")))
		text := fmt.Sprintf("Mediation, %s. a (exposed to perceived unfairness, 1-7 points) = %.3f (SE %.3f); b (perceived unfairness to willingness, per point) = %.3f (SE %.3f); indirect a·b = %.3f, %g%% percentile bootstrap CI [%.3f, %.3f] resampling agents (%d resamples), Monte Carlo CI [%.3f, %.3f]; direct c′ = %.3f, total c = %.3f; n = %d observations of %d agents; SEs clustered by agent.",
			sample, m.A, m.SEA, m.B, m.SEB, m.Indirect, 100*level, m.Lo, m.Hi, in(rec, "boot_reps"), fl(rec, "mc_low"), fl(rec, "mc_high"), m.CPrime, m.C, m.N, m.Cluster)
		notes = append(notes, text)
		if diagram == nil {
			m.Title = "Mediation: exposure, perceived unfairness, willingness (" + label + ")"
			diagram = &m
		}
	}
	return diagram, notes
}
