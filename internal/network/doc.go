// Package network holds the graphs that prosim's interaction simulation runs on: seeded
// generators (Watts-Strogatz, Barabasi-Albert, Erdos-Renyi G(n,p) and G(n,m)), importers
// (CSV/whitespace edge lists, the original study's JSON, the embedded builtin "prosim104"),
// statistics, per-round edge activation and multi-source BFS distances.
//
// # Nodes and agents
//
// Nodes are 0..N-1. Elsewhere in prosim agent ids start at 1: agent id = node + 1. Importers
// keep that correspondence where they can: the study JSON's id k becomes node k-1, and an
// integer edge list's ids are numbered in ascending order (so ids 1..N become nodes 0..N-1).
//
// # Representation and memory
//
// A Graph is an immutable undirected simple graph in CSR form:
//
//	offsets   []int64  N+1 entries; node u's slots are offsets[u]:offsets[u+1]
//	adj       []int32  2E entries; each node's neighbours sorted ascending
//	eid       []int32  2E entries; the undirected edge index of each slot
//
// That is 8 bytes per node plus 16 bytes per undirected edge (two slots of 4+4 bytes): a
// Barabasi-Albert graph with N=1e6, m=3 (E ~ 3e6) takes 56 MB. Measured on 2 cores
// (bench_test.go, -cpu=2): building it takes ~0.75 s with an 88 MB peak heap; one round's
// ActivateEdges ~9 ms and 375 KB; 30 synchronous rounds in which every agent reads its
// active neighbours, graph build included, ~5-6 s with a 107 MB peak. Stats on that graph
// samples 50 BFS sources for the mean path length (PathSourcesFor: 500 up to 100,000 nodes,
// then fewer, so about 50 million node visits at most; the standard error is reported) and
// takes a few seconds; graphs of up to 5000 nodes are measured exactly.
//
// # Edge indices
//
// Each undirected edge {u,v}, u<v, has one index e in 0..E-1: edges are numbered in
// lexicographic order of (u,v), which is the order of the "upper" slots (neighbour greater
// than the node) in CSR order. Both CSR slots of the edge, v in u's list and u in v's list,
// carry the same index (Graph.EdgeIDs), so a per-round activation is a bitset of E bits
// (375 KB for 3e6 edges) and an agent's active neighbours are found by scanning its own slots.
//
// # Input policy
//
// Self-loops are errors everywhere (an agent is not its own neighbour). Repeated edges are
// merged and counted (EdgeListImport.Duplicates, StudyInfo.Duplicates). A one-way entry in
// the study JSON is symmetrised and counted (StudyInfo.Asymmetric). Errors name file:line
// and the column or field.
//
// # Randomness
//
// Every random function takes an explicit seed and uses math/rand/v2's PCG with a stream
// constant per purpose, so the same arguments give the same graph (byte for byte) or the same
// activation on every platform and Go version that keeps PCG's definition.
package network
