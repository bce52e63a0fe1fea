package engine

// Machine-readable Study 3 results beside rounds.csv, so that a run directory alone is enough
// to redraw the network and the mediation analysis (`prosim report`, R, pandas) without
// re-running the world's rules:
//
//   - results/network_edges.csv: the graph the agents lived on, one undirected edge per row
//     (source, target: agent ids, in the graph's node order). It is in the edge-list format
//     that graph type edgelist reads (an agent without any neighbour is not listed).
//   - results/network_mediation.csv: one row per inequity condition and backend, the
//     mediation estimates printed in network_summary.txt, at full precision.

import (
	"encoding/csv"
	"path/filepath"
	"strconv"
)

// NetworkEdgesFile, NetworkMediationFile and NetworkContagionFile are written in results/ by
// Study 3 runs.
const (
	NetworkEdgesFile     = "network_edges.csv"
	NetworkMediationFile = "network_mediation.csv"
	NetworkContagionFile = "network_contagion.csv"
)

// ContagionColumns is the header of results/network_contagion.csv: per inequity condition
// (and backend) and round, the share of all agents affected (pooled over replicates) and the
// placebo share: the contagion rule applied to the control run's own ratings with the
// inequity run's exposures, i.e. what noise and the exposure structure alone give.
var ContagionColumns = []string{"backend", "condition", "control", "round", "share_affected", "placebo_share_affected"}

// writeContagion writes results/network_contagion.csv.
func writeContagion(dir string, cmps []*NetComparison) error {
	return writeCSV(filepath.Join(dir, NetworkContagionFile), func(w *csv.Writer) error {
		if err := w.Write(ContagionColumns); err != nil {
			return err
		}
		for _, c := range cmps {
			for t, v := range c.Affected {
				pl := ""
				if t < len(c.Placebo) {
					pl = formatNum(c.Placebo[t])
				}
				if err := w.Write([]string{c.Backend, c.Inequity, c.Control, strconv.Itoa(t + 1), formatNum(v), pl}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// EdgeColumns is the header of results/network_edges.csv.
var EdgeColumns = []string{"source", "target"}

// MediationColumns is the header of results/network_mediation.csv. The sample is the
// distance-1 agents (neighbours of the victims) in rounds from_round..to_round: their rows of
// the inequity run (exposed = 1) and of the control run (exposed = 0). a is exposed ->
// unfairness, b unfairness -> willingness (given exposure), c the total and c_prime the direct
// effect; SEs are clustered by agent. boot_* is the percentile bootstrap CI of a*b resampling
// agents (boot_reps estimable resamples), mc_* the Monte Carlo CI; level is their level. error
// is why the mediation was not estimable (the numeric columns are then empty).
var MediationColumns = []string{"backend", "condition", "control", "from_round", "to_round", "n", "clusters",
	"a", "se_a", "b", "se_b", "c", "c_prime", "indirect", "boot_low", "boot_high", "boot_reps",
	"mc_low", "mc_high", "sobel_z", "sobel_p", "level", "error"}

// mediationLevel is the CI level netCompare uses (analysis.MediationOptions.Level 0).
const mediationLevel = 0.95

// writeNetworkFiles writes results/network_edges.csv, network_contagion.csv and
// network_mediation.csv.
func (r *Runner) writeNetworkFiles(dir string, s *netStudy, cmps []*NetComparison) error {
	if err := writeContagion(dir, cmps); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(dir, NetworkEdgesFile), func(w *csv.Writer) error {
		if err := w.Write(EdgeColumns); err != nil {
			return err
		}
		for u, v := range s.g.Edges() {
			if err := w.Write([]string{strconv.Itoa(r.agents[u].ID), strconv.Itoa(r.agents[v].ID)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return writeCSV(filepath.Join(dir, NetworkMediationFile), func(w *csv.Writer) error {
		if err := w.Write(MediationColumns); err != nil {
			return err
		}
		for _, c := range cmps {
			rec := []string{c.Backend, c.Inequity, c.Control, strconv.Itoa(c.From), strconv.Itoa(c.Rounds)}
			if m := c.Mediation; m != nil {
				rec = append(rec, strconv.Itoa(m.N), strconv.Itoa(m.NClusters))
				for _, v := range []float64{m.A, m.SEA, m.B, m.SEB, m.C, m.CPrime, m.Indirect, m.BootLow, m.BootHigh} {
					rec = append(rec, formatNum(v))
				}
				rec = append(rec, strconv.Itoa(m.BootReps))
				for _, v := range []float64{m.MCLow, m.MCHigh, m.SobelZ, m.SobelP, mediationLevel} {
					rec = append(rec, formatNum(v))
				}
				rec = append(rec, "")
			} else {
				for range len(MediationColumns) - len(rec) - 1 {
					rec = append(rec, "")
				}
				rec = append(rec, oneLine(c.MediationErr))
			}
			if err := w.Write(rec); err != nil {
				return err
			}
		}
		return nil
	})
}
