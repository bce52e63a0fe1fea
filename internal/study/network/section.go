package network

import (
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/report"
)

// MaxNetworkNodes is the most agents the network drawing shows; a larger network is drawn as
// a seeded sample: the victims and the agents nearest to them.
var MaxNetworkNodes = 300

// Colours of the final states in the network drawing.
const (
	stateVictim     = "victim (treated unfairly)"
	stateAffected   = "affected"
	stateUnaffected = "not affected"
)

var stateColors = map[string]string{stateVictim: "#D55E00", stateAffected: "#CC79A7", stateUnaffected: "#9fb7c9"}

//go:embed section.html.tmpl
var sectionSrc string

var sectionTmpl = template.Must(template.New("study3").Funcs(report.Funcs).Parse(sectionSrc))

// figComparison is what the section shows of one comparison.
type figComparison struct {
	Label, Control          string
	Willingness, Unfairness report.SmallMultiples // one panel per exposure group
	// The twin design (sectiontwin.go).
	Effects, UEffects    report.SmallMultiples
	EffHead              []string
	EffRows, UEffRows    [][]string
	Contagion            report.LineChart
	ByGroup              report.SmallMultiples
	ContHead             []string
	ContRows             [][]string
	EffectNote, ContNote string
	Head                 []string
	Rows                 [][]string // group, condition, agent x replicate pairs, r1..rR, diff
	URows                [][]string
	Sizes                string
	Mediation            *report.MediationDiagram
	MediationText        string
}

type sectionData struct {
	Estimand string
	Summary  bool
	Cmps     []figComparison
	Drawing  *report.NetworkChart
	DrawNote string
	DrawCap  string
	Range    string
	Multi    bool
}

// tableRows are the rows of the summary's table of one field, as the summary prints them.
func tableRows(c *Comparison, unfair bool) [][]string {
	var out [][]string
	for _, g := range c.groups() {
		line := []string{groupKeys[g], c.Label, fmt.Sprint(c.Pairs(g))}
		cline := []string{groupKeys[g], c.Control, ""}
		for t := 1; t <= c.Rounds; t++ {
			line = append(line, f2(c.Mean(g, t, false, unfair)))
			cline = append(cline, f2(c.Mean(g, t, true, unfair)))
		}
		line = append(line, signed(c.Diff(g, unfair)))
		cline = append(cline, "")
		out = append(out, line, cline)
	}
	return out
}

func roundTicks(rounds int) []float64 {
	if rounds < 1 || rounds > 15 {
		return nil
	}
	var t []float64
	for r := 1; r <= rounds; r++ {
		t = append(t, float64(r))
	}
	return t
}

func (r *results) section(fig *report.Figures) (template.HTML, error) {
	s := r.s
	d := sectionData{Estimand: estimand, Summary: s.summary, Drawing: r.Drawing, DrawNote: r.DrawNote,
		Range: fmt.Sprintf("willingness %s, unfairness %s", s.wScale.span(), s.uScale.span()), Multi: len(r.Cmps) > 1}
	if r.Drawing != nil {
		d.DrawCap = fmt.Sprintf("The network (%s, %s drawn), each agent coloured by its state after the last round.", plural.Count(r.Drawing.N, "agent"), plural.Count(len(r.Drawing.Edges), "edge"))
	}
	for _, c := range r.Cmps {
		f := figComparison{Label: c.Label, Control: c.Control}
		sfx := ""
		if len(r.Cmps) > 1 {
			sfx = ": " + c.Label + " vs " + c.Control
		}
		var xs []float64
		for t := 1; t <= c.Rounds; t++ {
			xs = append(xs, float64(t))
		}
		var sizes []string
		for _, unfair := range []bool{false, true} {
			// One panel per exposure group, the inequity run beside its control in each: eight
			// overlaid lines could not be told apart.
			var panels []report.LineChart
			for _, g := range c.groups() {
				var y, cy []float64
				for t := 1; t <= c.Rounds; t++ {
					y, cy = append(y, c.Mean(g, t, false, unfair)), append(cy, c.Mean(g, t, true, unfair))
				}
				panels = append(panels, report.LineChart{Title: groupKeys[g], Series: []report.Series{
					{Name: c.Inequity, X: xs, Y: y, Color: report.Palette[0], Marker: "circle"},
					{Name: c.Control, X: xs, Y: cy, Color: report.Palette[1], Dashed: true, Marker: "open"}}})
				if !unfair {
					sizes = append(sizes, fmt.Sprintf("%s %d", groupKeys[g], c.Pairs(g)))
				}
			}
			sc := s.wScale
			sm := report.SmallMultiples{Title: "Willingness by exposure group" + sfx, XLabel: "Round (day)",
				YLabel: fmt.Sprintf("Mean willingness (%s scale), %s", strings.ReplaceAll(sc.span(), " to ", "-"), estimand), XTicks: roundTicks(c.Rounds),
				LegendTitle: "Condition", Panels: panels}
			if unfair {
				sc = s.uScale
				sm.Title = "Perceived unfairness by exposure group" + sfx
				sm.YLabel = fmt.Sprintf("Mean perceived unfairness (%s scale), %s", strings.ReplaceAll(sc.span(), " to ", "-"), estimand)
			}
			sm.Y0, sm.Y1 = sc.min, sc.max
			if unfair {
				f.Unfairness = sm
			} else {
				f.Willingness = sm
			}
		}
		f.Sizes = strings.Join(sizes, ", ")
		f.Head = []string{"group", "condition", pairsHead}
		for t := 1; t <= c.Rounds; t++ {
			f.Head = append(f.Head, fmt.Sprintf("r%d", t))
		}
		f.Head = append(f.Head, fmt.Sprintf("diff r%d-%d", c.From, c.Rounds))
		f.Rows, f.URows = tableRows(c, false), tableRows(c, true)
		r.twinFigures(c, &f, sfx)
		f.Mediation, f.MediationText = r.mediationFigure(c)
		d.Cmps = append(d.Cmps, f)
	}
	return report.Exec(sectionTmpl, d, fig)
}

func (r *results) mediationFigure(c *Comparison) (*report.MediationDiagram, string) {
	sample := fmt.Sprintf("%s vs %s: distance-1 agents (neighbours of the victims) in rounds %d-%d, exposed = 1 in the inequity run and 0 for the same agents in the control run",
		c.Label, c.Control, c.From, c.Rounds)
	m := c.Mediation
	if m == nil {
		return nil, fmt.Sprintf("Mediation, %s: not estimable (%s).", sample, c.MediationErr)
	}
	ws, us := r.s.wScale, r.s.uScale
	d := &report.MediationDiagram{Title: "Mediation: exposure, perceived unfairness, willingness (" + c.Label + ")",
		X: "exposed (1 = inequity)", M: "perceived unfairness", Y: "willingness (" + strings.ReplaceAll(ws.span(), " to ", "-") + ")",
		A: m.A, SEA: m.SEA, B: m.B, SEB: m.SEB, C: m.C, CPrime: m.CPrime, Indirect: m.Indirect, Lo: m.BootLow, Hi: m.BootHigh, N: m.N, Cluster: m.NClusters}
	d.CILabel = fmt.Sprintf("%g%% cluster bootstrap CI (%d resamples); Monte Carlo CI [%s, %s]", 100*mediationLevel, m.BootReps, report.F2(m.MCLow), report.F2(m.MCHigh))
	text := fmt.Sprintf("Mediation, %s. a (exposed to perceived unfairness, %s points) = %.3f (SE %.3f); b (perceived unfairness to willingness, per point) = %.3f (SE %.3f); indirect a·b = %.3f, %g%% percentile bootstrap CI [%.3f, %.3f] resampling agents (%d resamples), Monte Carlo CI [%.3f, %.3f]; direct c′ = %.3f, total c = %.3f; n = %d observations of %d agents; SEs clustered by agent.",
		sample, strings.ReplaceAll(us.span(), " to ", "-"), m.A, m.SEA, m.B, m.SEB, m.Indirect, 100*mediationLevel, m.BootLow, m.BootHigh, m.BootReps, m.MCLow, m.MCHigh, m.CPrime, m.C, m.N, m.NClusters)
	return d, text
}

// drawing is the network coloured by the final state of the first replicate of the first
// inequity condition (or of the first run), sampled around the victims when large.
func (r *results) drawing() (*report.NetworkChart, string) {
	s := r.s
	if len(s.worlds) == 0 {
		return nil, ""
	}
	wi := 0
	what := fmt.Sprintf("run %s, replicate %d", s.worlds[0].cell.ID, s.worlds[0].rep)
	if len(r.pairs) > 0 {
		wi = r.pairs[0].w
		what = fmt.Sprintf("%s, replicate %d", s.worlds[wi].cell.Condition, s.worlds[wi].rep)
	}
	last, err := s.roundRows(wi, len(s.rows[wi]))
	if err != nil {
		s.spill.Fail(err)
		return nil, ""
	}
	n := len(last)
	// The contagion label against the twin (label.go) when the run has one; else the rule's state.
	how := "the contagion rule's state"
	if len(last) > 0 && last[0].labelled {
		how = "rated at least a noise band below its control twin two days running, label.go"
	}
	state := make([]string, n)
	var victims []int
	for a, x := range last {
		switch {
		case s.worlds[wi].dist != nil && s.worlds[wi].dist[a] == 0:
			state[a] = stateVictim
			victims = append(victims, a)
		case x.labelled && x.affected || !x.labelled && x.rule:
			state[a] = stateAffected
		default:
			state[a] = stateUnaffected
		}
	}
	var edges [][2]int
	for u, v := range s.worlds[wi].g.Edges() { // the run's own graph (graph.per_replicate: its replicate's)
		edges = append(edges, [2]int{int(u), int(v)})
	}
	nodes := make([]int, n)
	for i := range nodes {
		nodes[i] = i
	}
	sample := ""
	if n > MaxNetworkNodes {
		nodes = sampleAround(n, edges, victims, MaxNetworkNodes, s.seed)
		sample = fmt.Sprintf(" The network has %d agents: drawn are %d of them, the victims and the agents nearest to them (breadth-first, ties in a seeded random order), with the edges among them.", n, len(nodes))
	}
	pos := map[int]int{}
	for i, a := range nodes {
		pos[a] = i
	}
	c := &report.NetworkChart{N: len(nodes), States: []string{stateVictim, stateAffected, stateUnaffected}, Colors: stateColors,
		Title: "Network coloured by final state (" + what + ")"}
	for _, a := range nodes {
		c.State = append(c.State, state[a])
		c.IDs = append(c.IDs, s.env.Agents[a].ID)
	}
	for _, e := range edges {
		i, ok1 := pos[e[0]]
		j, ok2 := pos[e[1]]
		if ok1 && ok2 {
			c.Edges = append(c.Edges, [2]int{i, j})
		}
	}
	if s.cfg.Graph.PerReplicate {
		sample += fmt.Sprintf(" Each replicate has its own graph (graph.per_replicate): drawn is replicate %d's.", s.worlds[wi].rep)
	}
	return c, fmt.Sprintf("Network: the state of each agent after round %d in %s: a victim of the unfair treatment, affected (%s), or not affected.%s", s.cfg.Rounds, what, how, sample)
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

var _ = math.NaN
