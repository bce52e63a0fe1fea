package network

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/network"
	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/yamlx"
)

// Config is the study's block, `network:` in the experiment file (required): agents on a
// graph, in synchronous rounds, under a policy that may treat a target group unfairly. The
// unfair treatment itself is given per condition (conditions[i].inequity, an Inequity), a
// field of the generic conditions that this block owns (ConditionFields).
type Config struct {
	Graph Graph `yaml:"graph"`
	// Rounds is the number of synchronous rounds ("days"); 7 by default, as the original.
	Rounds int `yaml:"rounds"`
	// Scenario is the vignette rated every round (willingness), plus an unfairness rating.
	Scenario string `yaml:"scenario"`
	// Activation chooses which edges carry an observation in a round.
	Activation Activation `yaml:"activation"`
	// Observation is "grounded" (default: activated neighbours' recorded choices and
	// treatment last round) or "message" (the original's fixed message).
	Observation string `yaml:"observation"`
	// History shows each agent its own last History rounds (0 = none).
	History   int       `yaml:"history"`
	Contagion Contagion `yaml:"contagion"`
	// SpreadFrom says whose unfairness signal neighbours receive: "victims" (default: only
	// agents treated unfairly by the policy are reported as such) or "affected" (agents the
	// contagion rule marks affected pass it on too, so the rule feeds back into what others
	// see and decide, not only into the labels).
	SpreadFrom string `yaml:"spread_from"`
	// Store is "full" (default: every decision in the run database, resumable) or "summary"
	// (nothing per decision: per-round aggregates only, for very large populations).
	Store string `yaml:"store"`
	// byFile are the inequities Check decoded whose k and agents are checked against a
	// population file's agents, once it is read (CheckPopulation, New), other problems or not.
	byFile []fileInequity
}

// fileInequity is an inequity decoded by Check, at path in the experiment file.
type fileInequity struct {
	path string
	q    *Inequity
}

// Graph says which network the agents live on. Agent i of the population is node i.
type Graph struct {
	// Type is watts_strogatz, barabasi_albert, erdos_renyi, edgelist or prosim104.
	Type string `yaml:"type"`
	// N is the number of nodes; 0 means the population's size.
	N int     `yaml:"n,omitempty"`
	K int     `yaml:"k,omitempty"` // watts_strogatz: ring neighbours (even)
	P float64 `yaml:"p,omitempty"` // watts_strogatz: rewiring; erdos_renyi: edge probability
	M int     `yaml:"m,omitempty"` // barabasi_albert: edges per new node; erdos_renyi: edge count (instead of p)
	// File is an edge-list CSV for type edgelist, relative to the experiment file.
	File string `yaml:"file,omitempty"`
	// PerReplicate draws a new graph for each replicate (generated types only), seeded from
	// the replicate, so that results do not hinge on one draw of the network. The control and
	// inequity runs of a replicate share its graph (their agents stay twins). Default false:
	// one graph for the whole experiment.
	PerReplicate bool `yaml:"per_replicate,omitempty"`
	// parsed is the edge list as CheckInputs read it when the experiment was loaded, handed to
	// the run so that a large file is parsed once (its ids are matched to the agents there).
	parsed *parsedEdges
}

// parsedEdges is an edge-list file as read, until the run takes it.
type parsedEdges struct {
	file string
	res  *network.EdgeListImport
}

// take returns the edge list read from file, once (nil when it was not read or is taken).
func (p *parsedEdges) take(file string) *network.EdgeListImport {
	if p == nil || p.file != file {
		return nil
	}
	res := p.res
	p.res = nil // the run keeps the graph made of it, not the file's ids and lines
	return res
}

// MarshalYAML writes g as its fields' tags say, but for watts_strogatz always with p: a
// config.yaml must read back as written, and p is required there (p: 0, the ring lattice,
// would otherwise be left out as empty).
func (g Graph) MarshalYAML() (any, error) {
	type written struct {
		Type         string   `yaml:"type"`
		N            int      `yaml:"n,omitempty"`
		K            int      `yaml:"k,omitempty"`
		P            *float64 `yaml:"p,omitempty"`
		M            int      `yaml:"m,omitempty"`
		File         string   `yaml:"file,omitempty"`
		PerReplicate bool     `yaml:"per_replicate,omitempty"`
	}
	w := written{Type: g.Type, N: g.N, K: g.K, M: g.M, File: g.File, PerReplicate: g.PerReplicate}
	if p := g.P; p != 0 || g.Type == "watts_strogatz" {
		w.P = &p
	}
	return w, nil
}

// Describe says what graph g is in words, with only its type's parameters and its actual
// node count n (a config's N of 0 means the population's size).
func (g Graph) Describe(n int) string {
	var ps []string
	switch g.Type {
	case "watts_strogatz":
		ps = []string{fmt.Sprintf("k %d", g.K), fmt.Sprintf("rewiring p %g", g.P)}
	case "barabasi_albert":
		ps = []string{fmt.Sprintf("m %d edges per new node", g.M)}
	case "erdos_renyi":
		if g.M > 0 {
			ps = []string{fmt.Sprintf("%d edges", g.M)}
		} else {
			ps = []string{fmt.Sprintf("edge probability p %g", g.P)}
		}
	case "edgelist":
		ps = []string{"file " + g.File}
	}
	if g.PerReplicate {
		ps = append(ps, "a new graph per replicate")
	}
	return fmt.Sprintf("%s graph (%s)", g.Type, strings.Join(append([]string{fmt.Sprintf("n %d", n)}, ps...), ", "))
}

// Activation is either a fraction of edges (exactly round(f*E) each round) or an independent
// probability per edge.
type Activation struct {
	Fraction    *float64 `yaml:"fraction,omitempty"`
	Probability *float64 `yaml:"probability,omitempty"`
}

// Contagion chooses the rule of the per-agent "affected" state.
type Contagion struct {
	// Rule is original (default), sis or threshold.
	Rule string `yaml:"rule"`
	// Recovery is the per-round probability that an affected agent recovers (sis).
	Recovery float64 `yaml:"recovery,omitempty"`
	// Threshold is how many exposing neighbours make an agent affected (threshold).
	Threshold int `yaml:"threshold,omitempty"`
}

func init() {
	experiment.RegisterBlock(Name, func() experiment.Block { return &Config{} })
}

// ConfigOf is the checked block of an experiment of study network.
func ConfigOf(e *experiment.Experiment) *Config {
	c, _ := e.Block.(*Config)
	return c
}

// InequityOf is a checked condition's inequity, nil for a control.
func InequityOf(c *experiment.Condition) *Inequity {
	q, _ := c.Inequity.(*Inequity)
	return q
}

// Inputs is the file the block reads (graph type edgelist), for the run directory's inputs/.
func (nw *Config) Inputs() []*string { return []*string{&nw.Graph.File} }

// BuiltinInputs names the built-in data the block reads, for the run's manifest.
func (nw *Config) BuiltinInputs() []string {
	if nw.Graph.Type == "prosim104" {
		return []string{"builtin:graph/prosim104"}
	}
	return nil
}

// ConditionFields: conditions[i].inequity is this study's.
func (nw *Config) ConditionFields() []string { return []string{"inequity"} }

// Inequity is a condition's unfair treatment of a target group: apply the condition's policy
// to everyone, and treat the target group unfairly from round From to round To.
type Inequity struct {
	// Preset is reward (the stipend withheld from k of the most willing after round 1) or
	// burden (a flat compulsory donation that ignores the k lowest-income agents' ability to
	// pay). A preset fills Target, By, From and Text; explicit fields override it.
	Preset string `yaml:"preset,omitempty"`
	// Target is the rule choosing the group: all, random, top (k highest by a recorded
	// choice), lowest_income (the lowest income quintile, or the k lowest incomes), degree
	// (k highest degree) or list.
	Target string `yaml:"target,omitempty"`
	K      int    `yaml:"k,omitempty"`
	// By is the recorded field ranked by target top: willingness (default) or unfairness.
	By string `yaml:"by,omitempty"`
	// Agents are the agents of target list, named as an edge list names them: by agent_id, or
	// by the population file's text id (source_id).
	Agents []AgentRef `yaml:"agents,omitempty"`
	// From and To are the first and last rounds of unfair treatment (From 2 and To the last
	// round by default). From leaves at least one round before (see check).
	From int `yaml:"from,omitempty"`
	To   int `yaml:"to,omitempty"`
	// Text is what a treated agent is told (Go template with {{.amount}} and {{.currency}}).
	Text string `yaml:"text,omitempty"`
}

// Label describes a checked inequity from its settings, for the report's design table and the
// summary: "reward: top k=5 by willingness, rounds 2-7", "list 3, 10, 20, rounds 3-6".
func (q *Inequity) Label() string {
	var s string
	switch q.Target {
	case "all":
		s = "all"
	case "list":
		ids := make([]string, 0, min(len(q.Agents), maxListed))
		for _, a := range q.Agents[:min(len(q.Agents), maxListed)] {
			ids = append(ids, string(a))
		}
		s = "list " + strings.Join(ids, ", ")
		if len(q.Agents) > maxListed {
			s += fmt.Sprintf(", ... (%d agents)", len(q.Agents))
		}
	case "lowest_income":
		s = "lowest_income (the lowest quintile)"
		if q.K > 0 {
			s = fmt.Sprintf("lowest_income k=%d", q.K)
		}
	case "top":
		s = fmt.Sprintf("top k=%d by %s", q.K, q.By)
	default:
		s = fmt.Sprintf("%s k=%d", q.Target, q.K)
	}
	if q.Preset != "" {
		s = q.Preset + ": " + s
	}
	return fmt.Sprintf("%s, rounds %d-%d", s, q.From, q.To)
}

// maxListed is how many agents of target list Label names.
const maxListed = 8

// AgentRef names an agent of target list: its agent_id (a whole number) or its text id
// (source_id), the same rule as the edge list's ids (agentIDs).
type AgentRef string

// UnmarshalYAML reads a whole number or a text.
//
// It takes the decoded value, not the entry's bytes: goccy/go-yaml formats the bytes of a
// BytesUnmarshaler's node anew for each entry, which made a list of n ids cost n^2 (10,000 ids
// took 27 s of CPU).
func (a *AgentRef) UnmarshalYAML(unmarshal func(any) error) error {
	var v any
	if err := unmarshal(&v); err != nil {
		return err
	}
	switch x := v.(type) {
	case uint64, int64, int:
		*a = AgentRef(fmt.Sprint(x))
	case float64:
		// 3.0, as a list pasted from pandas writes an id: the agent_id 3, as population files read it.
		if x != math.Trunc(x) || x < 0 || x > 1<<53 {
			return errNotAgentID
		}
		*a = AgentRef(strconv.FormatInt(int64(x), 10))
	case string:
		if strings.TrimSpace(x) == "" {
			return fmt.Errorf("an empty agent id")
		}
		*a = AgentRef(x)
	default:
		return errNotAgentID
	}
	return nil
}

var errNotAgentID = errors.New("expected an agent id: an agent_id such as 3, or a text id of the population file such as P00003")

// MarshalYAML writes an agent_id as a number, so that a resolved config reads as written.
func (a AgentRef) MarshalYAML() (any, error) {
	if n, err := strconv.Atoi(string(a)); err == nil && strconv.Itoa(n) == string(a) {
		return n, nil
	}
	return string(a), nil
}

// resolveAgents matches target list's agents to positions in the population with resolve
// (the position, or -1 and the problem), reporting every id that names no agent, or one named
// twice, at its own entry.
func (q *Inequity) resolveAgents(doc *yamlx.Doc, path string, resolve func(string) (int, string)) ([]int, error) {
	l := yamlx.NewList(doc.Name())
	nodes := make([]int, 0, len(q.Agents))
	first := map[int]int{}
	for i, a := range q.Agents {
		at := fmt.Sprintf("%s.agents[%d]", path, i)
		node, msg := resolve(string(a))
		switch j, twice := first[node]; {
		case msg != "":
			l.Add(doc.Errorf(at, "%s", msg))
		case twice:
			if string(q.Agents[j]) == string(a) {
				l.Add(doc.Errorf(at, "agent %s is listed twice (also agents[%d])", a, j))
			} else { // an agent_id and a text id of the same agent (QA8 repro-7)
				l.Add(doc.Errorf(at, "agent %s is listed twice: agents[%d], %s, names the same agent", a, j, q.Agents[j]))
			}
		default:
			first[node] = i
			nodes = append(nodes, node)
		}
	}
	return nodes, l.Err()
}

// checkAgents checks the group against a population's agents: k against their number, and
// target list's ids against theirs (the list's positions are returned).
func (q *Inequity) checkAgents(doc *yamlx.Doc, path string, agents []persona.Persona) ([]int, error) {
	l := yamlx.NewList(doc.Name())
	var nodes []int
	if q.Target == "list" {
		ids := newAgentIDs(agents)
		resolve := func(id string) (int, string) {
			i, msg := ids.resolve(id)
			if msg != "" {
				msg += " (the population's ids: " + idsHint(agents) + ")"
			}
			return i, msg
		}
		var err error
		nodes, err = q.resolveAgents(doc, path, resolve)
		l.Add(err)
	}
	l.Add(q.checkSize(doc, path, len(agents)))
	return nodes, l.Err()
}

// CheckPopulation checks the inequities' k and agents against a population file's agents, for
// Load to report with the experiment's other problems (see experiment.PopulationChecker).
func (nw *Config) CheckPopulation(doc *yamlx.Doc, agents []persona.Persona) error {
	if len(agents) == 0 {
		return nil // the run refuses an empty population
	}
	l := yamlx.NewList(doc.Name())
	for _, f := range nw.byFile {
		_, err := f.q.checkAgents(doc, f.path, agents)
		l.Add(err)
	}
	return l.Err()
}

// agentRange resolves ids against a population whose agent_ids are 1..n and that has no text
// ids (source sample or prosim104), known before it is read.
func agentRange(n int) func(string) (int, string) {
	return func(id string) (int, string) {
		if v, err := strconv.Atoi(id); err == nil && v >= 1 && v <= n {
			return v - 1, ""
		}
		return -1, fmt.Sprintf("no agent with id %q (the population's agent_ids are 1..%d)", yamlx.Clip(id), n)
	}
}

// checkSize checks the group size k against a population of n agents: some must be left out
// of the group, for the unfair treatment to spread to.
func (q *Inequity) checkSize(doc *yamlx.Doc, path string, n int) error {
	switch q.Target {
	case "random", "top", "lowest_income", "degree":
		if q.K >= n {
			return doc.Errorf(path+".k", "k=%d must be less than the population's %d agents: the agents left out are those the unfair treatment can spread to", q.K, n)
		}
	}
	return nil
}

// spread_from values.
const (
	SpreadVictims  = "victims"
	SpreadAffected = "affected"
)

// Graph types.
var GraphTypes = []string{"watts_strogatz", "barabasi_albert", "erdos_renyi", "edgelist", "prosim104"}

// Inequity targets.
var Targets = []string{"all", "random", "top", "lowest_income", "degree", "list"}

// Check validates and fills the network block and the conditions' inequity blocks (decoded
// here from the file, so that their errors keep their lines).
func (nw *Config) Check(e *experiment.Experiment, doc *yamlx.Doc) error {
	// Every independent problem is reported; a check that reads a value found wrong is skipped.
	l := yamlx.NewList(doc.Name())
	if len(e.Scenarios) != 0 {
		l.Add(doc.Errorf("scenarios", "not used by study: network (give network.scenario)"))
	}
	if !e.Given() {
		l.Add(doc.Errorf("network", "required for study: network (graph, rounds, scenario, activation)"))
		return l.Err()
	}
	l.Add(nw.checkGraph(e, doc))
	// A field the block's problems left out (rounds: [7]) is not read against another.
	roundsOK := e.Decoded("network.rounds")
	if nw.Rounds == 0 {
		var r any
		if found, _ := doc.DecodeAt("network.rounds", &r); found {
			// Written as 0 (or empty): an explicit 0 is not the default.
			l.Add(doc.Errorf("network.rounds", "%v is out of range 1..1000 (leave it out for 7)", r))
			roundsOK = false
		}
		nw.Rounds = 7
	}
	if nw.Rounds < 1 || nw.Rounds > 1000 {
		l.Add(doc.Errorf("network.rounds", "%d is out of range 1..1000", nw.Rounds))
		roundsOK = false
	}
	if nw.Scenario == "" {
		l.Add(doc.Errorf("network.scenario", "required: the vignette rated each round, e.g. volunteering"))
	}
	a := &nw.Activation
	switch {
	case a.Fraction != nil && a.Probability != nil:
		l.Add(doc.Errorf("network.activation", "give either fraction or probability, not both"))
	case a.Fraction == nil && a.Probability == nil:
		f := 0.3
		a.Fraction = &f
	case a.Fraction != nil && (*a.Fraction < 0 || *a.Fraction > 1):
		l.Add(doc.Errorf("network.activation.fraction", "%g is out of range 0..1", *a.Fraction))
	case a.Probability != nil && (*a.Probability < 0 || *a.Probability > 1):
		l.Add(doc.Errorf("network.activation.probability", "%g is out of range 0..1", *a.Probability))
	}
	switch nw.Observation {
	case "":
		nw.Observation = "grounded"
	case "grounded", "message":
	default:
		l.Add(doc.Errorf("network.observation", "unknown observation %q (want grounded or message)", nw.Observation))
	}
	if roundsOK && (nw.History < 0 || nw.History > nw.Rounds) {
		l.Add(doc.Errorf("network.history", "%d is out of range 0..rounds (%d)", nw.History, nw.Rounds))
	}
	c := &nw.Contagion
	switch {
	case !e.Decoded("network.contagion.rule"):
		// What else the contagion takes depends on its rule.
	case c.Rule == "":
		c.Rule = "original"
	case c.Rule == "original":
	case c.Rule == "sis":
		if c.Recovery <= 0 || c.Recovery > 1 {
			l.Add(doc.Errorf("network.contagion.recovery", "required for rule sis: a probability in (0, 1] (got %g)", c.Recovery))
		}
	case c.Rule == "threshold":
		if c.Threshold == 0 && !doc.Has("network.contagion.threshold") {
			c.Threshold = 2
		}
		if c.Threshold < 1 {
			l.Add(doc.Errorf("network.contagion.threshold", "must be >= 1 (got %d)", c.Threshold))
		}
	default:
		l.Add(doc.Errorf("network.contagion.rule", "unknown rule %q (want original, sis or threshold)", c.Rule))
	}
	if c.Rule != "sis" && c.Recovery != 0 && e.Decoded("network.contagion.rule") {
		l.Add(doc.Errorf("network.contagion.recovery", "only for rule sis"))
	}
	switch nw.SpreadFrom {
	case "":
		nw.SpreadFrom = SpreadVictims
	case SpreadVictims, SpreadAffected:
	default:
		l.Add(doc.Errorf("network.spread_from", "unknown value %q (want victims or affected)", nw.SpreadFrom))
	}
	switch nw.Store {
	case "":
		nw.Store = "full"
	case "full", "summary":
	default:
		l.Add(doc.Errorf("network.store", "unknown store %q (want full or summary)", nw.Store))
	}
	// Inequity blocks, and a control beside every inequity condition.
	nw.byFile = nil
	controls := map[string]bool{}
	for _, c := range e.Conditions {
		if c.Inequity == nil {
			controls[c.Policy] = true
		}
	}
	popN := knownSize(e.Population)
	if !e.Decoded("population") {
		popN = 0 // its size is not known: an inequity's k and ids wait for it, as for a file
	}
	for i := range e.Conditions {
		c := &e.Conditions[i]
		if c.Inequity == nil {
			continue
		}
		path := fmt.Sprintf("conditions[%d].inequity", i)
		q, err := decodeInequity(c.Inequity, doc, path)
		if l.Add(err) {
			continue
		}
		if popN == 0 {
			nw.byFile = append(nw.byFile, fileInequity{path, q})
		}
		if l.Add(q.check(doc, path, nw, roundsOK, popN)) {
			continue
		}
		c.Inequity = q
		if !controls[c.Policy] && e.Decoded(fmt.Sprintf("conditions[%d].policy", i)) {
			name := "control"
			if slices.ContainsFunc(e.Conditions, func(x experiment.Condition) bool { return x.Name == name }) {
				name = "control_" + c.Policy
			}
			e.Conditions = append(e.Conditions, experiment.Condition{Name: name, Policy: c.Policy})
			controls[c.Policy] = true
		}
	}
	return l.Err()
}

// checkGraph checks network.graph against the population.
func (nw *Config) checkGraph(e *experiment.Experiment, doc *yamlx.Doc) error {
	l := yamlx.NewList(doc.Name())
	g := &nw.Graph
	pop := e.Population
	popN := pop.N
	if pop.Source == "prosim104" {
		popN = 104
	}
	kmOK := true // k, m and p are usable for the checks against n
	switch g.Type {
	case "":
		return doc.Errorf("network.graph.type", "required: one of %v", GraphTypes)
	case "prosim104":
		if g.N != 0 && g.N != 104 {
			l.Add(doc.Errorf("network.graph.n", "the prosim104 graph has 104 nodes; leave n out"))
		}
		g.N = 104
	case "edgelist":
		if g.File == "" {
			l.Add(doc.Errorf("network.graph.file", "required for type edgelist: a CSV edge list (source,target)"))
		} else {
			l.Add(e.InputFile(doc, "network.graph.file", &g.File))
		}
		if g.N != 0 {
			l.Add(doc.Errorf("network.graph.n", "not used with type edgelist (the population's agents are the nodes; the file gives their edges)"))
		}
	case "watts_strogatz":
		// No defaults: a small-world graph is what its k and p make it (QA8 repro-1: p
		// left out ran a ring lattice without rewiring).
		if !doc.Has("network.graph.k") {
			kmOK = !l.Add(doc.Errorf("network.graph", "watts_strogatz needs k, each node's ring neighbours (even, e.g. 6)"))
		} else if g.K < 2 || g.K%2 != 0 {
			kmOK = !l.Add(doc.Errorf("network.graph.k", "must be an even number >= 2 (got %d)", g.K))
		}
		if !doc.Has("network.graph.p") {
			l.Add(doc.Errorf("network.graph", "watts_strogatz needs p, the rewiring probability (0..1, e.g. 0.1; 0 keeps the ring lattice)"))
		} else if g.P < 0 || g.P > 1 {
			l.Add(doc.Errorf("network.graph.p", "%g is out of range 0..1", g.P))
		}
	case "barabasi_albert":
		if !doc.Has("network.graph.m") {
			kmOK = !l.Add(doc.Errorf("network.graph", "barabasi_albert needs m, the edges each new node makes (e.g. 3)"))
		} else if g.M < 1 {
			kmOK = !l.Add(doc.Errorf("network.graph.m", "must be >= 1 (got %d)", g.M))
		}
	case "erdos_renyi":
		if !e.Decoded("network.graph.p") || !e.Decoded("network.graph.m") {
			// Which of the two is given is not known.
		} else if (g.P == 0) == (g.M == 0) {
			l.Add(doc.Errorf("network.graph", "erdos_renyi takes either p (edge probability) or m (edge count)"))
		} else if g.P < 0 || g.P > 1 {
			l.Add(doc.Errorf("network.graph.p", "%g is out of range 0..1", g.P))
		}
	default:
		return doc.Errorf("network.graph.type", "unknown graph type %q (want one of %v)", g.Type, GraphTypes)
	}
	for _, p := range []struct {
		key   string
		given bool
	}{{"k", g.K != 0}, {"p", g.P != 0}, {"m", g.M != 0}, {"file", g.File != ""}} {
		if (p.given || doc.Has("network.graph."+p.key)) && !slices.Contains(graphParams[g.Type], p.key) {
			l.Add(doc.Errorf("network.graph."+p.key, "not used by type %s (it takes %s)", g.Type, takes(g.Type)))
		}
	}
	if g.PerReplicate && (g.Type == "edgelist" || g.Type == "prosim104") {
		l.Add(doc.Errorf("network.graph.per_replicate", "only for generated graphs (watts_strogatz, barabasi_albert, erdos_renyi): a %s graph is fixed", g.Type))
	}
	if g.Type != "edgelist" {
		popKnown := e.Decoded("population") // else n is not known, nor the source
		if g.N == 0 {
			g.N = popN
		}
		if pop.Source != "file" && g.N != popN && popKnown {
			l.Add(doc.Errorf("network.graph.n", "the graph has %d nodes but population.n is %d: they must match (agent i is node i); leave network.graph.n out to take the population's", g.N, popN))
		}
		// With a population file, n is known only once the file is read: the graph
		// generator checks k and m against it then.
		if g.Type == "watts_strogatz" && kmOK && g.N > 0 && g.K >= g.N {
			l.Add(doc.Errorf("network.graph.k", "k=%d must be less than n=%d", g.K, g.N))
		}
		if g.Type == "barabasi_albert" && kmOK && g.N > 0 && g.M >= g.N {
			l.Add(doc.Errorf("network.graph.m", "m=%d must be less than n=%d", g.M, g.N))
		}
	}
	return l.Err()
}

// graphParams are the parameters of each graph type (besides type); a parameter of another
// type is an error, not ignored.
var graphParams = map[string][]string{
	"watts_strogatz":  {"n", "k", "p", "per_replicate"},
	"barabasi_albert": {"n", "m", "per_replicate"},
	"erdos_renyi":     {"n", "p", "m", "per_replicate"},
	"edgelist":        {"file"},
	"prosim104":       {"n"},
}

// takes lists graph type t's parameters in words.
func takes(t string) string {
	ps := graphParams[t]
	if t == "prosim104" {
		return "no parameter: its 104 nodes are fixed"
	}
	if len(ps) == 1 {
		return "only " + ps[0]
	}
	return strings.Join(ps[:len(ps)-1], ", ") + " and " + ps[len(ps)-1]
}

// CheckInputs reads the edge list (type edgelist) to report its problems with the
// experiment's (see experiment.InputsChecker), and keeps what it read for the run. Its ids may
// be text (a text-id population's source_id): New matches them to the agents, once the
// population is read; when the file has problems, they are matched here too, so that an id
// naming no agent is reported with them.
func (nw *Config) CheckInputs(population func() []persona.Persona) error {
	if nw.Graph.Type != "edgelist" || nw.Graph.File == "" {
		return nil
	}
	res, err := importEdgeList(nw.Graph.File, nil)
	if err == nil {
		nw.Graph.parsed = &parsedEdges{file: nw.Graph.File, res: res}
		return nil
	}
	if agents := population(); len(agents) > 0 {
		if _, err2 := importEdgeList(nw.Graph.File, newAgentIDs(agents)); err2 != nil {
			err = err2
		}
	}
	return err
}

// decodeInequity decodes a condition's inequity strictly: from the file where it is written
// (errors located), else from the generic value the experiment carries.
func decodeInequity(v any, doc *yamlx.Doc, path string) (*Inequity, error) {
	if q, ok := v.(*Inequity); ok {
		return q, nil // checked already
	}
	q := &Inequity{}
	if node, found := doc.Node(path); found {
		// Every problem, each at its field (conditions[1].inequity.k, not the key on the line).
		return q, qualify(doc.DecodeNodeAll(node, path, q), path)
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil, doc.Errorf(path, "%v", err)
	}
	name := path + " of the experiment"
	if doc != nil {
		name = doc.Name()
	}
	return q, yamlx.Decode(b, name, q)
}

// qualify writes a decoding error's field as its path in the experiment file: the decoder
// names the YAML key on the error's line, or else the Go field (K for k).
func qualify(err error, path string) error {
	ye, ok := err.(*yamlx.Error)
	if !ok || ye.Field == "" || ye.Field == path || strings.HasPrefix(ye.Field, path+".") {
		return err // placed at its field already (DecodeNodeAll)
	}
	f := ye.Field
	if t, ok := reflect.TypeFor[Inequity]().FieldByName(f); ok {
		f, _, _ = strings.Cut(t.Tag.Get("yaml"), ",")
	}
	if f == "inequity" {
		ye.Field = path
	} else {
		ye.Field = path + "." + f
	}
	return ye
}

// Preset texts: what an agent treated unfairly is told, per preset and scenario.
var presetTexts = map[string]map[string]string{
	"reward": {
		"volunteering": "You volunteered yesterday, but you learned that another volunteer received the {{.amount}}-{{.currency}} stipend for the same work and you did not. Nobody explained why.",
	},
	"burden": {
		"donating": "The compulsory donation is the same {{.amount}} {{.currency}} for everyone. For someone with your income it is a real hardship, while better-off people hardly notice it; nobody asked what you can afford.",
	},
}

// PresetText is the unfair-treatment text of a preset for a scenario, if it has one.
func PresetText(preset, scenario string) (string, bool) {
	t, ok := presetTexts[preset][scenario]
	return t, ok
}

// knownSize is the number of agents of a population known before it is read (source sample
// or prosim104, whose agent_ids are 1..n), 0 for a population file.
func knownSize(p experiment.Population) int {
	switch p.Source {
	case "sample":
		return p.N
	case "prosim104":
		return 104
	}
	return 0
}

// check checks and fills an inequity; popN is the population's size when known before it is
// read (else 0: CheckPopulation or New checks the list's ids and k against the agents). Its
// rounds are checked against network.rounds when that is right (roundsOK).
func (q *Inequity) check(doc *yamlx.Doc, path string, nw *Config, roundsOK bool, popN int) error {
	l := yamlx.NewList(doc.Name())
	switch q.Preset {
	case "":
	case "reward":
		if q.Target == "" {
			q.Target, q.By = "top", "willingness"
		}
		if q.K == 0 && !doc.Has(path+".k") {
			q.K = 5
		}
	case "burden":
		if q.Target == "" {
			q.Target = "lowest_income"
		}
	default:
		l.Add(doc.Errorf(path+".preset", "unknown preset %q (want reward or burden)", q.Preset))
	}
	presetOK := l.Len() == 0
	switch {
	case q.Text != "":
	case q.Preset == "":
		l.Add(doc.Errorf(path+".text", "required: what an agent treated unfairly is told"))
	case presetOK && nw.Scenario != "": // else reported already
		t, ok := PresetText(q.Preset, nw.Scenario)
		if !ok {
			l.Add(doc.Errorf(path+".text", "preset %s has no text for scenario %q (it is written for %v): give the unfair-treatment text", q.Preset, nw.Scenario, keys(presetTexts[q.Preset])))
		}
		q.Text = t
	}
	targetOK := slices.Contains(Targets, q.Target)
	if !targetOK {
		l.Add(doc.Errorf(path+".target", "unknown target %q (want one of %v)", q.Target, Targets))
	}
	// The affected label measures each agent's noise band on the rounds before From and
	// needs LabelPersist rounds from From on to mark anyone (label.go): From 1, or too late,
	// would leave every agent unaffected by construction, not by measurement.
	if q.From == 0 && !doc.Has(path+".from") {
		q.From = 2
	}
	if q.To == 0 && !doc.Has(path+".to") {
		q.To = nw.Rounds
	}
	last := nw.Rounds - LabelPersist + 1
	fromOK := q.From >= 2 && q.From <= last
	switch {
	case !roundsOK:
	case last < 2:
		l.Add(doc.Errorf(path+".from", "network.rounds %d leaves no room for unfair treatment: the affected label needs a round before it (to measure the noise band) and %d rounds from its start (a fall %d rounds running), %d rounds in all", nw.Rounds, LabelPersist, LabelPersist, LabelPersist+1))
	default:
		if !fromOK {
			l.Add(doc.Errorf(path+".from", "round %d is out of range 2..%d: the affected label needs a round before the unfair treatment (to measure the noise band) and %d rounds from its start (a fall %d rounds running)", q.From, last, LabelPersist, LabelPersist))
		}
		// To is checked beside a wrong From, against the earliest From then.
		lo := 2
		if fromOK {
			lo = q.From
		}
		if q.To < lo || q.To > nw.Rounds {
			l.Add(doc.Errorf(path+".to", "round %d is out of range %d..%d", q.To, lo, nw.Rounds))
		}
	}
	// The text's template, now rather than when the network is built (after the population
	// is read), so that its problems come with the others.
	if q.Text != "" {
		if t, err := scenario.Template(path+".text", q.Text); err != nil {
			l.Add(doc.Errorf(path+".text", "%s", scenario.TemplateProblem(q.Text, err)))
		} else if msg := scenario.UnknownRefs(t, textParams, "the inequity text"); msg != "" {
			l.Add(doc.Errorf(path+".text", "%s", msg))
		}
	}
	switch q.Target {
	case "random", "degree":
		if q.K < 1 {
			l.Add(doc.Errorf(path+".k", "required for target %s: the group size (>= 1)", q.Target))
		}
	case "top":
		if q.K < 1 {
			if doc.Has(path + ".k") {
				l.Add(doc.Errorf(path+".k", "%d is out of range: the group size of target top is >= 1", q.K))
			} else {
				l.Add(doc.Errorf(path+".k", "required for target top: the group size (>= 1)"))
			}
		}
		if q.By == "" {
			q.By = "willingness"
		}
		if q.By != "willingness" && q.By != "unfairness" {
			l.Add(doc.Errorf(path+".by", "unknown value %q (want willingness or unfairness)", q.By))
		}
	case "lowest_income":
		if q.K < 0 {
			l.Add(doc.Errorf(path+".k", "must be >= 0 (0 = the whole lowest quintile)"))
		}
	case "list":
		if len(q.Agents) == 0 {
			l.Add(doc.Errorf(path+".agents", "required for target list: agent ids"))
		} else if popN > 0 {
			_, err := q.resolveAgents(doc, path, agentRange(popN))
			l.Add(err)
		}
	}
	if targetOK && popN > 0 {
		l.Add(q.checkSize(doc, path, popN))
	}
	if targetOK && q.Target != "list" && len(q.Agents) > 0 {
		l.Add(doc.Errorf(path+".agents", "only for target list"))
	}
	if targetOK && q.Target != "top" && q.By != "" {
		l.Add(doc.Errorf(path+".by", "only for target top"))
	}
	return l.Err()
}

// textParams are the parameters of an inequity text: the condition's policy's amount and
// the population's currency (policy.Frame.Text).
var textParams = []string{"amount", "currency"}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
