package experiment

import (
	"fmt"
	"os"
	"slices"

	"github.com/prosim/prosim/internal/yamlx"
)

// Network configures Study 3: agents on a graph, in synchronous rounds, under a policy that
// may treat a target group unfairly.
type Network struct {
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
	// Store is "full" (default: every decision in the run database, resumable) or "summary"
	// (nothing per decision: per-round aggregates only, for very large populations).
	Store string `yaml:"store"`
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
	// Agents are the agent ids (1-based) of target list.
	Agents []int `yaml:"agents,omitempty"`
	// From and To are the first and last rounds of unfair treatment (To 0 = the last round).
	From int `yaml:"from,omitempty"`
	To   int `yaml:"to,omitempty"`
	// Text is what a treated agent is told (Go template with {{.amount}} and {{.currency}}).
	Text string `yaml:"text,omitempty"`
}

// Graph types.
var GraphTypes = []string{"watts_strogatz", "barabasi_albert", "erdos_renyi", "edgelist", "prosim104"}

// Inequity targets.
var Targets = []string{"all", "random", "top", "lowest_income", "degree", "list"}

// checkNetwork validates and fills the network section and the conditions' inequity blocks.
func (e *Experiment) checkNetwork(doc *yamlx.Doc) error {
	if e.Study != StudyNetwork {
		if e.Network != nil {
			return doc.Errorf("network", "only for study: network")
		}
		for i, c := range e.Conditions {
			if c.Inequity != nil {
				return doc.Errorf(fmt.Sprintf("conditions[%d].inequity", i), "only for study: network")
			}
		}
		return nil
	}
	if len(e.Scenarios) != 0 {
		return doc.Errorf("scenarios", "not used by study: network (give network.scenario)")
	}
	if e.Network == nil {
		return doc.Errorf("network", "required for study: network (graph, rounds, scenario, activation)")
	}
	nw := e.Network
	g := &nw.Graph
	pop := e.Population
	popN := pop.N
	if pop.Source == "prosim104" {
		popN = 104
	}
	switch g.Type {
	case "":
		return doc.Errorf("network.graph.type", "required: one of %v", GraphTypes)
	case "prosim104":
		if g.N != 0 && g.N != 104 {
			return doc.Errorf("network.graph.n", "the prosim104 graph has 104 nodes; leave n out")
		}
		g.N = 104
	case "edgelist":
		if g.File == "" {
			return doc.Errorf("network.graph.file", "required for type edgelist: a CSV edge list (source,target)")
		}
		g.File = resolve(e.Dir, g.File)
		if _, err := os.Stat(g.File); err != nil {
			return doc.Errorf("network.graph.file", "cannot read %s: %v", g.File, unwrapPathErr(err))
		}
		if g.N != 0 {
			return doc.Errorf("network.graph.n", "not used with type edgelist (the file's nodes are the graph)")
		}
	case "watts_strogatz":
		if g.K == 0 {
			g.K = 6
		}
		if g.K < 2 || g.K%2 != 0 {
			return doc.Errorf("network.graph.k", "must be an even number >= 2 (got %d)", g.K)
		}
		if g.P < 0 || g.P > 1 {
			return doc.Errorf("network.graph.p", "%g is out of range 0..1", g.P)
		}
	case "barabasi_albert":
		if g.M == 0 {
			g.M = 3
		}
		if g.M < 1 {
			return doc.Errorf("network.graph.m", "must be >= 1 (got %d)", g.M)
		}
	case "erdos_renyi":
		if (g.P == 0) == (g.M == 0) {
			return doc.Errorf("network.graph", "erdos_renyi takes either p (edge probability) or m (edge count)")
		}
		if g.P < 0 || g.P > 1 {
			return doc.Errorf("network.graph.p", "%g is out of range 0..1", g.P)
		}
	default:
		return doc.Errorf("network.graph.type", "unknown graph type %q (want one of %v)", g.Type, GraphTypes)
	}
	if g.Type != "edgelist" {
		if g.N == 0 {
			g.N = popN
		}
		if pop.Source != "file" && g.N != popN {
			return doc.Errorf("network.graph.n", "the graph has %d nodes but population.n is %d: they must match (agent i is node i); leave network.graph.n out to take the population's", g.N, popN)
		}
		// With a population file, n is known only once the file is read: the graph
		// generator checks k and m against it then.
		if g.Type == "watts_strogatz" && g.N > 0 && g.K >= g.N {
			return doc.Errorf("network.graph.k", "k=%d must be less than n=%d", g.K, g.N)
		}
		if g.Type == "barabasi_albert" && g.N > 0 && g.M >= g.N {
			return doc.Errorf("network.graph.m", "m=%d must be less than n=%d", g.M, g.N)
		}
	}
	if nw.Rounds == 0 {
		nw.Rounds = 7
	}
	if nw.Rounds < 1 || nw.Rounds > 1000 {
		return doc.Errorf("network.rounds", "%d is out of range 1..1000", nw.Rounds)
	}
	if nw.Scenario == "" {
		return doc.Errorf("network.scenario", "required: the vignette rated each round, e.g. volunteering")
	}
	a := &nw.Activation
	switch {
	case a.Fraction != nil && a.Probability != nil:
		return doc.Errorf("network.activation", "give either fraction or probability, not both")
	case a.Fraction == nil && a.Probability == nil:
		f := 0.3
		a.Fraction = &f
	case a.Fraction != nil && (*a.Fraction < 0 || *a.Fraction > 1):
		return doc.Errorf("network.activation.fraction", "%g is out of range 0..1", *a.Fraction)
	case a.Probability != nil && (*a.Probability < 0 || *a.Probability > 1):
		return doc.Errorf("network.activation.probability", "%g is out of range 0..1", *a.Probability)
	}
	switch nw.Observation {
	case "":
		nw.Observation = "grounded"
	case "grounded", "message":
	default:
		return doc.Errorf("network.observation", "unknown observation %q (want grounded or message)", nw.Observation)
	}
	if nw.History < 0 || nw.History > nw.Rounds {
		return doc.Errorf("network.history", "%d is out of range 0..rounds (%d)", nw.History, nw.Rounds)
	}
	c := &nw.Contagion
	switch c.Rule {
	case "":
		c.Rule = "original"
	case "original":
	case "sis":
		if c.Recovery <= 0 || c.Recovery > 1 {
			return doc.Errorf("network.contagion.recovery", "required for rule sis: a probability in (0, 1] (got %g)", c.Recovery)
		}
	case "threshold":
		if c.Threshold == 0 {
			c.Threshold = 2
		}
		if c.Threshold < 1 {
			return doc.Errorf("network.contagion.threshold", "must be >= 1 (got %d)", c.Threshold)
		}
	default:
		return doc.Errorf("network.contagion.rule", "unknown rule %q (want original, sis or threshold)", c.Rule)
	}
	if c.Rule != "sis" && c.Recovery != 0 {
		return doc.Errorf("network.contagion.recovery", "only for rule sis")
	}
	switch nw.Store {
	case "":
		nw.Store = "full"
	case "full", "summary":
	default:
		return doc.Errorf("network.store", "unknown store %q (want full or summary)", nw.Store)
	}
	// Inequity blocks, and a control beside every inequity condition.
	controls := map[string]bool{}
	for _, c := range e.Conditions {
		if c.Inequity == nil {
			controls[c.Policy] = true
		}
	}
	for i := range e.Conditions {
		c := &e.Conditions[i]
		if c.Inequity == nil {
			continue
		}
		if err := c.Inequity.check(doc, fmt.Sprintf("conditions[%d].inequity", i), nw); err != nil {
			return err
		}
		if !controls[c.Policy] {
			name := "control"
			if slices.ContainsFunc(e.Conditions, func(x Condition) bool { return x.Name == name }) {
				name = "control_" + c.Policy
			}
			e.Conditions = append(e.Conditions, Condition{Name: name, Policy: c.Policy})
			controls[c.Policy] = true
		}
	}
	return nil
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

func (q *Inequity) check(doc *yamlx.Doc, path string, nw *Network) error {
	switch q.Preset {
	case "":
	case "reward":
		if q.Target == "" {
			q.Target, q.By = "top", "willingness"
		}
		if q.K == 0 {
			q.K = 5
		}
		if q.From == 0 {
			q.From = 2
		}
	case "burden":
		if q.Target == "" {
			q.Target = "lowest_income"
		}
		if q.From == 0 {
			q.From = 2
		}
	default:
		return doc.Errorf(path+".preset", "unknown preset %q (want reward or burden)", q.Preset)
	}
	if q.Text == "" && q.Preset != "" {
		t, ok := PresetText(q.Preset, nw.Scenario)
		if !ok {
			return doc.Errorf(path+".text", "preset %s has no text for scenario %q (it is written for %v): give the unfair-treatment text", q.Preset, nw.Scenario, keys(presetTexts[q.Preset]))
		}
		q.Text = t
	}
	if q.Text == "" {
		return doc.Errorf(path+".text", "required: what an agent treated unfairly is told")
	}
	if !slices.Contains(Targets, q.Target) {
		return doc.Errorf(path+".target", "unknown target %q (want one of %v)", q.Target, Targets)
	}
	if q.From == 0 {
		q.From = 1
	}
	if q.To == 0 {
		q.To = nw.Rounds
	}
	if q.From < 1 || q.From > nw.Rounds {
		return doc.Errorf(path+".from", "round %d is out of range 1..%d", q.From, nw.Rounds)
	}
	if q.To < q.From || q.To > nw.Rounds {
		return doc.Errorf(path+".to", "round %d is out of range %d..%d", q.To, q.From, nw.Rounds)
	}
	switch q.Target {
	case "random", "degree":
		if q.K < 1 {
			return doc.Errorf(path+".k", "required for target %s: the group size (>= 1)", q.Target)
		}
	case "top":
		if q.K < 1 {
			return doc.Errorf(path+".k", "required for target top: the group size (>= 1)")
		}
		if q.By == "" {
			q.By = "willingness"
		}
		if q.By != "willingness" && q.By != "unfairness" {
			return doc.Errorf(path+".by", "unknown field %q (want willingness or unfairness)", q.By)
		}
		if q.From < 2 {
			return doc.Errorf(path+".from", "target top ranks the choices of round from-1, so from must be >= 2")
		}
	case "lowest_income":
		if q.K < 0 {
			return doc.Errorf(path+".k", "must be >= 0 (0 = the whole lowest quintile)")
		}
	case "list":
		if len(q.Agents) == 0 {
			return doc.Errorf(path+".agents", "required for target list: agent ids")
		}
	}
	if q.Target != "list" && len(q.Agents) > 0 {
		return doc.Errorf(path+".agents", "only for target list")
	}
	if q.Target != "top" && q.By != "" {
		return doc.Errorf(path+".by", "only for target top")
	}
	return nil
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
