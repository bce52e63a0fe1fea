package network

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
)

// StudyInfo is what ReadStudyJSON found besides the graph. Declared* are the file's own
// figures (NaN when absent) so callers can compare them with Stats.
type StudyInfo struct {
	DeclaredNodes, DeclaredEdges               int
	DeclaredClustering, DeclaredMeanPathLength float64
	Asymmetric                                 int // one-way entries a->b without b->a (symmetrised)
	Duplicates                                 int // repeated entries within one node's list (merged)
	Notes                                      []string
}

// ReadStudyJSON reads the original study's network file:
//
//	{"Number_of_nodes": 104, "Number_of_edges": 312, "Average_clustering_coefficient": ...,
//	 "Average_shortest_path_length": ..., "Connections": {"1": [104, 3, ...], ...}}
//
// Ids are the integers 1..Number_of_nodes and id k becomes node k-1 (agent id = node+1); a
// node without a "Connections" entry is isolated. An entry a->b without b->a is taken as the
// undirected edge {a,b} (the file is meant to be undirected; a one-way entry is read as an
// omission) and counted in StudyInfo.Asymmetric with a note. Errors, naming file:line and
// field: a missing "Connections", an id outside 1..N or not an integer, a self-loop, and a
// Number_of_edges that disagrees with the undirected edges found.
func ReadStudyJSON(r io.Reader, name string) (*Graph, StudyInfo, error) {
	info := StudyInfo{DeclaredNodes: -1, DeclaredEdges: -1, DeclaredClustering: math.NaN(), DeclaredMeanPathLength: math.NaN()}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, info, fmt.Errorf("%s: %w", name, err)
	}
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:min(int(off), len(data))], []byte{'\n'}) }
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	fail := func(off int64, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, lineAt(off), fmt.Sprintf(format, args...))
	}
	syntax := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fail(se.Offset, "%v", err)
		}
		return fail(dec.InputOffset(), "%v", err)
	}
	if t, err := dec.Token(); err != nil {
		return nil, info, syntax(err)
	} else if t != json.Delim('{') {
		return nil, info, fail(dec.InputOffset(), "expected a JSON object")
	}
	type entry struct {
		key  string
		off  int64
		nbrs []json.Number
		offs []int64
	}
	var conns []entry
	haveConns := false
	edgesOff := int64(0)
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, info, syntax(err)
		}
		key := kt.(string)
		off := dec.InputOffset()
		switch key {
		case "Number_of_nodes", "Number_of_edges":
			var n json.Number
			if err := dec.Decode(&n); err != nil {
				return nil, info, fail(off, "field %s: %v", key, err)
			}
			v, err := strconv.Atoi(n.String())
			if err != nil || v < 0 || v > math.MaxInt32 {
				return nil, info, fail(off, "field %s: %q is not a node/edge count", key, n)
			}
			if key == "Number_of_nodes" {
				info.DeclaredNodes = v
			} else {
				info.DeclaredEdges, edgesOff = v, off
			}
		case "Average_clustering_coefficient", "Average_shortest_path_length":
			var v float64
			if err := dec.Decode(&v); err != nil {
				return nil, info, fail(off, "field %s: %v", key, err)
			}
			if key == "Average_clustering_coefficient" {
				info.DeclaredClustering = v
			} else {
				info.DeclaredMeanPathLength = v
			}
		case "Connections":
			haveConns = true
			if t, err := dec.Token(); err != nil {
				return nil, info, syntax(err)
			} else if t != json.Delim('{') {
				return nil, info, fail(dec.InputOffset(), "field Connections: expected an object of id -> [neighbour ids]")
			}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, info, syntax(err)
				}
				e := entry{key: kt.(string), off: dec.InputOffset()}
				if t, err := dec.Token(); err != nil {
					return nil, info, syntax(err)
				} else if t != json.Delim('[') {
					return nil, info, fail(dec.InputOffset(), "Connections[%q]: expected an array of neighbour ids", e.key)
				}
				for dec.More() {
					t, err := dec.Token()
					if err != nil {
						return nil, info, syntax(err)
					}
					num, ok := t.(json.Number)
					if !ok {
						return nil, info, fail(dec.InputOffset(), "Connections[%q]: neighbour %v is not a number", e.key, t)
					}
					e.nbrs = append(e.nbrs, num)
					e.offs = append(e.offs, dec.InputOffset())
				}
				if _, err := dec.Token(); err != nil { // ']'
					return nil, info, syntax(err)
				}
				conns = append(conns, e)
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, info, syntax(err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, info, syntax(err)
			}
			info.Notes = append(info.Notes, fmt.Sprintf("%s:%d: field %q ignored", name, lineAt(off), key))
		}
	}
	if !haveConns {
		return nil, info, fmt.Errorf("%s: missing field \"Connections\"", name)
	}
	n := info.DeclaredNodes
	if n < 0 { // no declared size: the largest id
		n = 0
		for _, e := range conns {
			if v, err := strconv.Atoi(e.key); err == nil {
				n = max(n, v)
			}
			for _, x := range e.nbrs {
				if v, err := strconv.Atoi(x.String()); err == nil {
					n = max(n, v)
				}
			}
		}
	}
	parseID := func(s string, off int64, what string) (int, error) {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > n {
			return 0, fail(off, "%s %q: ids must be integers 1..%d (id k is node k-1)", what, s, n)
		}
		return v, nil
	}
	adj := make([][]int32, n) // by node
	seen := make(map[int]bool, len(conns))
	for _, e := range conns {
		a, err := parseID(e.key, e.off, "Connections key")
		if err != nil {
			return nil, info, err
		}
		if seen[a] {
			return nil, info, fail(e.off, "Connections key %q repeated", e.key)
		}
		seen[a] = true
		for i, x := range e.nbrs {
			b, err := parseID(x.String(), e.offs[i], fmt.Sprintf("Connections[%q] neighbour", e.key))
			if err != nil {
				return nil, info, err
			}
			if a == b {
				return nil, info, fail(e.offs[i], "Connections[%q]: self-loop: prosim graphs are simple", e.key)
			}
			adj[a-1] = append(adj[a-1], int32(b-1))
		}
	}
	var pairs []int32
	var firstAsym string
	for u := range adj {
		l := adj[u]
		slices.Sort(l)
		k := len(l)
		l = slices.Compact(l)
		info.Duplicates += k - len(l)
		adj[u] = l
	}
	for u, l := range adj {
		for _, v := range l {
			if _, ok := slices.BinarySearch(adj[v], int32(u)); !ok {
				info.Asymmetric++
				if firstAsym == "" {
					firstAsym = fmt.Sprintf("%d lists %d but %d does not list %d", u+1, v+1, v+1, u+1)
				}
				pairs = append(pairs, int32(u), v)
			} else if int(v) > u {
				pairs = append(pairs, int32(u), v)
			}
		}
	}
	if info.Duplicates > 0 {
		info.Notes = append(info.Notes, fmt.Sprintf("%s: %d repeated neighbour entr(y/ies) merged", name, info.Duplicates))
	}
	if info.Asymmetric > 0 {
		info.Notes = append(info.Notes, fmt.Sprintf("%s: %d one-way entr(y/ies) symmetrised, e.g. %s", name, info.Asymmetric, firstAsym))
	}
	g, _ := build(n, pairs, false)
	if info.DeclaredEdges >= 0 && info.DeclaredEdges != g.NumEdges() {
		return nil, info, fail(edgesOff, "field Number_of_edges=%d but Connections hold %d undirected edges", info.DeclaredEdges, g.NumEdges())
	}
	return g, info, nil
}

//go:embed data/prosim104.json
var builtinFS embed.FS

var builtinFiles = map[string]string{
	// The original study's Watts-Strogatz graph, N=104, k=6, p=0.2.
	"prosim104": "data/prosim104.json",
}

var builtinCache sync.Map // name -> *Graph; graphs are immutable, so sharing is safe

// BuiltinData is the embedded file of the graph name (a run's manifest hashes it).
func BuiltinData(name string) ([]byte, bool) {
	path, ok := builtinFiles[name]
	if !ok {
		return nil, false
	}
	data, err := builtinFS.ReadFile(path)
	return data, err == nil
}

// Builtin returns an embedded graph by name (see BuiltinNames); "prosim104" is the original
// study's network (agent id = node+1, as in the study's ids).
func Builtin(name string) (*Graph, error) {
	if g, ok := builtinCache.Load(name); ok {
		return g.(*Graph), nil
	}
	path, ok := builtinFiles[name]
	if !ok {
		return nil, fmt.Errorf("network: no builtin graph %q (have %v)", name, BuiltinNames())
	}
	data, err := builtinFS.ReadFile(path)
	if err != nil {
		return nil, err
	}
	g, _, err := ReadStudyJSON(bytes.NewReader(data), "builtin:"+name)
	if err != nil {
		return nil, err
	}
	builtinCache.Store(name, g)
	return g, nil
}

// BuiltinNames lists the embedded graphs, sorted.
func BuiltinNames() []string {
	names := make([]string, 0, len(builtinFiles))
	for k := range builtinFiles {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
