package report

// study: games. Everything here is computed from the run's results/games.csv (one row per
// agent per game per round, with partners and payoffs as the Go rules made them) and
// results/pg_punishments.csv, which the engine writes from the run store.

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/game"
)

func init() {
	studyNames[experiment.StudyGames] = "Economic games: dictator, ultimatum, trust, public goods (games)"
}

// GameRow is one row of results/games.csv.
type GameRow struct {
	RunID, Condition string
	Replicate        int
	Game             string
	Round, Group     int // Group 0: none
	Agent            int
	Role             string
	Partner          int     // 0: none
	Choice           float64 // NaN: no decision
	Payoff           float64 // NaN: not determined
	Valid            bool
	Reason           string
}

// PunishRow is one row of results/pg_punishments.csv.
type PunishRow struct {
	RunID, Game   string
	Round, Group  int
	Agent, Target int
	Points        float64
	Valid         bool
}

// LoadGameRows reads results/games.csv and results/pg_punishments.csv of a run directory.
// A missing pg_punishments.csv (no game with punishment) gives no punishment rows.
func LoadGameRows(dir string) ([]GameRow, []PunishRow, error) {
	recs, err := readCSV(filepath.Join(dir, "results", "games.csv"))
	if err != nil {
		return nil, nil, err
	}
	var rows []GameRow
	for _, m := range recs {
		rows = append(rows, GameRow{
			RunID: m["run_id"], Condition: m["condition"], Replicate: atoi(m["replicate"]), Game: m["game"],
			Round: atoi(m["round"]), Group: atoi(m["group"]), Agent: atoi(m["agent_id"]), Role: m["role"],
			Partner: atoi(m["partner_id"]), Choice: atof(m["choice"]), Payoff: atof(m["payoff"]),
			Valid: m["valid"] == "1", Reason: m["invalid_reason"],
		})
	}
	precs, err := readCSV(filepath.Join(dir, "results", "pg_punishments.csv"))
	if errors.Is(err, fs.ErrNotExist) {
		return rows, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var pun []PunishRow
	for _, m := range precs {
		pun = append(pun, PunishRow{RunID: m["run_id"], Game: m["game"], Round: atoi(m["round"]), Group: atoi(m["group"]),
			Agent: atoi(m["agent_id"]), Target: atoi(m["target_id"]), Points: atof(m["points"]), Valid: m["valid"] == "1"})
	}
	return rows, pun, nil
}

func readCSV(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd := csv.NewReader(f)
	head, err := rd.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []map[string]string
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		m := make(map[string]string, len(head))
		for i, h := range head {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
}

func atoi(s string) int {
	v, _ := strconv.Atoi(s)
	return v
}

func atof(s string) float64 {
	if s == "" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// GameStat is one measure of one game, as a share (0-1), with its 95% CI and the published
// human figure next to it.
type GameStat struct {
	Game, Measure string
	Mean, Lo, Hi  float64 // NaN when there is nothing to measure
	N             int
	Unit          string  // what N counts: agents, groups, decisions
	Human         float64 // NaN when the reference is not a single number
	HumanText     string
	// Headline marks the mean choice of a game's role, drawn in the overview chart.
	Headline bool
}

// PGTrajectory is a public goods game's mean contribution by round (share of the endowment),
// with a 95% t CI over groups (members of a group are not independent of each other).
type PGTrajectory struct {
	Game         string
	Punishment   bool
	Mean, Lo, Hi []float64 // by round, 1-based at index 0
	Groups       int
}

// RejectBin is the ultimatum rejection rate of offers in one band of the pie.
type RejectBin struct {
	Lo, Hi         float64 // share of the pie, [Lo, Hi)
	Rejected, N    int
	Rate, CLo, CHi float64
}

// GamesGroup is the analysis of one backend x condition of a games run.
type GamesGroup struct {
	Backend, Condition string
	Stats              []GameStat
	PG                 []PGTrajectory
	// Reject are the ultimatum games' rejection rates by offer band, by game name.
	Reject map[string][]RejectBin
	// Invalid counts rows without a valid decision (including those not asked) by game.
	Invalid map[string]int
}

// GamesAnalysis computes the games' statistics of a run, per backend x condition.
func GamesAnalysis(r *Run) ([]GamesGroup, error) {
	rows, pun, err := LoadGameRows(r.Dir)
	if err != nil {
		return nil, err
	}
	runOf := runIndex(r)
	inst := map[string]experiment.GameInstance{}
	var order []string
	for _, in := range r.Exp.GameInstances() {
		inst[in.Name] = in
		order = append(order, in.Name)
	}
	type key struct{ b, c string }
	by := map[key][]GameRow{}
	punBy := map[key][]PunishRow{}
	var keys []key
	for _, row := range rows {
		run := runOf[row.RunID]
		k := key{run.Backend, run.Condition}
		if _, ok := by[k]; !ok {
			keys = append(keys, k)
		}
		by[k] = append(by[k], row)
	}
	for _, p := range pun {
		run := runOf[p.RunID]
		k := key{run.Backend, run.Condition}
		punBy[k] = append(punBy[k], p)
	}
	var out []GamesGroup
	for _, k := range keys {
		g := GamesGroup{Backend: k.b, Condition: k.c, Reject: map[string][]RejectBin{}, Invalid: map[string]int{}}
		for _, row := range by[k] {
			if !row.Valid {
				g.Invalid[row.Game]++
			}
		}
		for _, name := range order {
			in := inst[name]
			var gr []GameRow
			for _, row := range by[k] {
				if row.Game == name {
					gr = append(gr, row)
				}
			}
			switch in.Game {
			case "dictator":
				g.Stats = append(g.Stats, dictatorStats(in, gr)...)
			case "ultimatum":
				st, bins := ultimatumStats(in, gr)
				g.Stats = append(g.Stats, st...)
				g.Reject[name] = bins
			case "trust":
				g.Stats = append(g.Stats, trustStats(in, gr)...)
			case "public_goods":
				var pr []PunishRow
				for _, p := range punBy[k] {
					if p.Game == name {
						pr = append(pr, p)
					}
				}
				st, tr := pgStats(in, gr, pr)
				g.Stats = append(g.Stats, st...)
				g.PG = append(g.PG, tr)
			}
		}
		out = append(out, g)
	}
	return out, nil
}

// agentMeanCI is the mean over agents of each agent's mean with a 95% t CI: the unit of the
// CIs of one-shot choices is the agent (its replicates are averaged first), as in Study 1.
func agentMeanCI(vals map[int][]float64) (m, lo, hi float64, n int) {
	ids := make([]int, 0, len(vals))
	for a := range vals {
		ids = append(ids, a)
	}
	sort.Ints(ids)
	var means []float64
	for _, a := range ids {
		means = append(means, mean(vals[a]))
	}
	return meanCI(means)
}

func meanCI(x []float64) (m, lo, hi float64, n int) {
	if len(x) == 0 {
		return math.NaN(), math.NaN(), math.NaN(), 0
	}
	m = mean(x)
	lo, hi = math.NaN(), math.NaN()
	if len(x) > 1 {
		lo, hi = analysis.MeanCI(x, 0.95)
	}
	return m, lo, hi, len(x)
}

func propStat(game, measure string, k, n int, human float64, htext string) GameStat {
	s := GameStat{Game: game, Measure: measure, Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), N: n, Unit: "decisions", Human: human, HumanText: htext}
	if n > 0 {
		s.Mean = float64(k) / float64(n)
		s.Lo, s.Hi = analysis.ProportionCI(k, n, 0.95)
	}
	return s
}

func shareStat(game, measure string, vals map[int][]float64, human float64, htext string) GameStat {
	m, lo, hi, n := agentMeanCI(vals)
	return GameStat{Game: game, Measure: measure, Mean: m, Lo: lo, Hi: hi, N: n, Unit: "agents", Human: human, HumanText: htext, Headline: true}
}

func pctRef(v float64, src string) string { return fmt.Sprintf("%.4g%% (%s)", 100*v, src) }

func dictatorStats(in experiment.GameInstance, rows []GameRow) []GameStat {
	h := game.HumanDictator
	vals := map[int][]float64{}
	zero, half, n := 0, 0, 0
	for _, r := range rows {
		if r.Role != "dictator" || !r.Valid {
			continue
		}
		s := r.Choice / in.Endowment
		vals[r.Agent] = append(vals[r.Agent], s)
		n++
		if r.Choice == 0 {
			zero++
		}
		if 2*r.Choice == in.Endowment {
			half++
		}
	}
	return []GameStat{
		shareStat(in.Name, "given, % of endowment", vals, h.MeanShare, pctRef(h.MeanShare, "Engel 2011")),
		propStat(in.Name, "gave nothing, % of dictators", zero, n, h.GiveNothing, pctRef(h.GiveNothing, "Engel 2011")),
		propStat(in.Name, "gave exactly half, % of dictators", half, n, h.GiveHalf, pctRef(h.GiveHalf, "Engel 2011")),
	}
}

// rejectBands are the offer bands of the rejection chart, as shares of the pie.
var rejectBands = [][2]float64{{0, .1}, {.1, .2}, {.2, .3}, {.3, .4}, {.4, .5}, {.5, 1.01}}

func ultimatumStats(in experiment.GameInstance, rows []GameRow) ([]GameStat, []RejectBin) {
	h := game.HumanUltimatum
	type pk struct {
		run   string
		group int
	}
	prop := map[pk]GameRow{}
	resp := map[pk]GameRow{}
	offers, maos := map[int][]float64{}, map[int][]float64{}
	for _, r := range rows {
		k := pk{r.RunID, r.Group}
		switch r.Role {
		case "proposer":
			prop[k] = r
			if r.Valid {
				offers[r.Agent] = append(offers[r.Agent], r.Choice/in.Endowment)
			}
		case "responder", "responder_mao":
			resp[k] = r
			if r.Valid && r.Role == "responder_mao" {
				maos[r.Agent] = append(maos[r.Agent], r.Choice/in.Endowment)
			}
		}
	}
	bins := make([]RejectBin, len(rejectBands))
	for i, b := range rejectBands {
		bins[i] = RejectBin{Lo: b[0], Hi: b[1]}
	}
	rej, n, rejLow, nLow := 0, 0, 0, 0
	pairs := make([]pk, 0, len(prop))
	for k := range prop {
		pairs = append(pairs, k)
	}
	for _, k := range pairs {
		p, q := prop[k], resp[k]
		if !p.Valid || !q.Valid {
			continue
		}
		s := p.Choice / in.Endowment
		rejected := q.Choice == game.ChoiceReject
		if q.Role == "responder_mao" {
			rejected = p.Choice < q.Choice
		}
		n++
		if rejected {
			rej++
		}
		if s < h.LowOffer {
			nLow++
			if rejected {
				rejLow++
			}
		}
		for i := range bins {
			if s >= bins[i].Lo && s < bins[i].Hi {
				bins[i].N++
				if rejected {
					bins[i].Rejected++
				}
			}
		}
	}
	for i := range bins {
		bins[i].Rate, bins[i].CLo, bins[i].CHi = rateCI(bins[i].Rejected, bins[i].N)
	}
	src := "Oosterbeek et al. 2004"
	st := []GameStat{shareStat(in.Name, "offer, % of endowment", offers, h.MeanOffer, pctRef(h.MeanOffer, src))}
	if in.Responder == "mao" {
		st = append(st, shareStat(in.Name, "minimum acceptable offer, % of endowment", maos, math.NaN(), "-"))
	}
	all := propStat(in.Name, "offers rejected, % of pairs", rej, n, h.RejectAll, pctRef(h.RejectAll, src))
	low := propStat(in.Name, fmt.Sprintf("offers below %.0f%% rejected", 100*h.LowOffer), rejLow, nLow, h.RejectLow, "about half ("+src+")")
	all.Unit, low.Unit = "pairs", "pairs"
	st = append(st, all, low)
	return st, bins
}

func trustStats(in experiment.GameInstance, rows []GameRow) []GameStat {
	h := game.HumanTrust
	sentBy := map[[2]any]float64{}
	sent, ret := map[int][]float64{}, map[int][]float64{}
	for _, r := range rows {
		if r.Role == "sender" && r.Valid {
			sent[r.Agent] = append(sent[r.Agent], r.Choice/in.Endowment)
			sentBy[[2]any{r.RunID, r.Group}] = r.Choice
		}
	}
	for _, r := range rows {
		if r.Role != "returner" || !r.Valid {
			continue
		}
		s := sentBy[[2]any{r.RunID, r.Group}]
		if s > 0 {
			ret[r.Agent] = append(ret[r.Agent], r.Choice/(s*in.Multiplier))
		}
	}
	src := "Johnson & Mislin 2011"
	return []GameStat{
		shareStat(in.Name, "sent, % of endowment", sent, h.Sent, pctRef(h.Sent, src)),
		shareStat(in.Name, fmt.Sprintf("returned, %% of the amount received (x%g)", in.Multiplier), ret, h.Returned, pctRef(h.Returned, src)),
	}
}

func pgStats(in experiment.GameInstance, rows []GameRow, pun []PunishRow) ([]GameStat, PGTrajectory) {
	h := game.HumanPublicGoods
	type gk struct {
		run   string
		group int
	}
	// sums[round][group] of valid shares
	sums := make([]map[gk][]float64, in.Rounds)
	for i := range sums {
		sums[i] = map[gk][]float64{}
	}
	first := map[int][]float64{}
	lastZero, lastAll, lastN := 0, 0, 0
	for _, r := range rows {
		if r.Role != "member" || !r.Valid || r.Round < 1 || r.Round > in.Rounds {
			continue
		}
		s := r.Choice / in.Endowment
		k := gk{r.RunID, r.Group}
		sums[r.Round-1][k] = append(sums[r.Round-1][k], s)
		if r.Round == 1 {
			first[r.Agent] = append(first[r.Agent], s)
		}
		if r.Round == in.Rounds {
			lastN++
			if r.Choice == 0 {
				lastZero++
			}
			if r.Choice == in.Endowment {
				lastAll++
			}
		}
	}
	tr := PGTrajectory{Game: in.Name, Punishment: in.Punishment}
	for _, m := range sums {
		keys := make([]gk, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return keys[i].run < keys[j].run || keys[i].run == keys[j].run && keys[i].group < keys[j].group
		})
		var gm []float64
		for _, k := range keys {
			gm = append(gm, mean(m[k]))
		}
		mu, lo, hi, n := meanCI(gm)
		tr.Mean, tr.Lo, tr.Hi = append(tr.Mean, mu), append(tr.Lo, lo), append(tr.Hi, hi)
		tr.Groups = max(tr.Groups, n)
	}
	src := "Fehr & Gächter 2000"
	r1 := shareStat(in.Name, "round 1 contribution, % of endowment", first, (h.FirstLo+h.FirstHi)/2,
		fmt.Sprintf("%.0f-%.0f%% (%s)", 100*h.FirstLo, 100*h.FirstHi, src))
	last := in.Rounds - 1
	rl := GameStat{Game: in.Name, Measure: fmt.Sprintf("round %d contribution, %% of endowment", in.Rounds), Mean: tr.Mean[last], Lo: tr.Lo[last], Hi: tr.Hi[last],
		N: tr.Groups, Unit: "groups", Human: math.NaN(), Headline: true, HumanText: "decays towards 0 (" + src + ")"}
	if in.Punishment {
		rl.HumanText = "rises and stays high (Fehr & Gächter 2000, 2002)"
	}
	st := []GameStat{r1}
	if in.Rounds > 1 {
		st = append(st, rl)
	}
	if in.Punishment {
		st = append(st, propStat(in.Name, fmt.Sprintf("contributed everything in round %d", in.Rounds), lastAll, lastN, h.LastAllPunish, pctRef(h.LastAllPunish, "Fehr & Gächter 2002")))
		punished, agents := map[[2]any]bool{}, map[[2]any]bool{}
		for _, p := range pun {
			a := [2]any{p.RunID, p.Agent}
			agents[a] = true
			if p.Valid && p.Points > 0 {
				punished[a] = true
			}
		}
		ps := propStat(in.Name, "punished at least once, % of agents", len(punished), len(agents), h.PunishedOnce, pctRef(h.PunishedOnce, "Fehr & Gächter 2002"))
		ps.Unit = "agent-runs"
		st = append(st, ps)
	} else {
		st = append(st, propStat(in.Name, fmt.Sprintf("contributed nothing in round %d", in.Rounds), lastZero, lastN, h.LastZeroNoPunish, pctRef(h.LastZeroNoPunish, "Fehr & Gächter 2002")))
	}
	return st, tr
}

func pctCI(m, lo, hi float64) string {
	if math.IsNaN(m) {
		return "-"
	}
	if math.IsNaN(lo) {
		return fmt.Sprintf("%.1f%%", 100*m)
	}
	return fmt.Sprintf("%.1f%% [%.1f, %.1f]", 100*m, 100*lo, 100*hi)
}

// GamesSummary prints, per backend x condition, each game's mean choice as a share of the
// endowment with its 95% CI next to the published human figure, and the public goods
// contributions by round.
func GamesSummary(w io.Writer, r *Run) error {
	groups, err := GamesAnalysis(r)
	if err != nil {
		return fmt.Errorf("games summary: %w", err)
	}
	for _, g := range groups {
		fmt.Fprintf(w, "\nEconomic games, backend %s, condition %s\n", describeBackend(g.Backend), g.Condition)
		fmt.Fprintln(w, "Shares in %, 95% CI: t over agents (replicates averaged) or groups; Wilson over decisions for rates.")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "game\tmeasure\tthis run\tn\thuman reference\t")
		for _, s := range g.Stats {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d %s\t%s\t\n", s.Game, s.Measure, pctCI(s.Mean, s.Lo, s.Hi), s.N, s.Unit, s.HumanText)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, t := range g.PG {
			var xs []string
			for _, m := range t.Mean {
				if math.IsNaN(m) {
					xs = append(xs, "-")
				} else {
					xs = append(xs, fmt.Sprintf("%.0f", 100*m))
				}
			}
			fmt.Fprintf(w, "%s: mean contribution by round, %% of endowment (%d groups): %s\n", t.Game, t.Groups, strings.Join(xs, " "))
		}
		var inv []string
		for _, in := range r.Exp.GameInstances() {
			if n := g.Invalid[in.Name]; n > 0 {
				inv = append(inv, fmt.Sprintf("%s %d", in.Name, n))
			}
		}
		if len(inv) > 0 {
			fmt.Fprintf(w, "Rows of results/games.csv without a valid decision (invalid replies, not asked, unpaired): %s\n", strings.Join(inv, ", "))
		}
	}
	return nil
}

// studyGames is the report section of study: games.
func studyGames(p *page, runs []*Run, multi bool) error {
	p.para("Every agent plays every game. Ultimatum and trust are played in seeded pairs (the first of a pair moves first), public goods in seeded groups that stay together for all rounds, in synchronous rounds: each member sees its own and the others' mean contribution of the previous round (and, with punishment, the points it received). The payoffs are computed by the Go rules (internal/game) and are in <code>results/games.csv</code>. Shares are of the endowment; invalid replies are left out of every mean and rate.")
	type labelled struct {
		label string
		g     GamesGroup
		r     *Run
	}
	var all []labelled
	for _, r := range runs {
		groups, err := GamesAnalysis(r)
		if errors.Is(err, fs.ErrNotExist) {
			p.para("Run %s has no results/games.csv yet (an incomplete run?): resume it to see its games.", esc(runLabel(r, true)))
			continue
		}
		if err != nil {
			return fmt.Errorf("games report of %s: %w", r.Dir, err)
		}
		settings := [][]string{}
		for _, in := range r.Exp.GameInstances() {
			s := fmt.Sprintf("endowment %g", in.Endowment)
			switch in.Game {
			case "ultimatum":
				s += ", responder " + in.Responder
			case "trust":
				s += fmt.Sprintf(", multiplier %g", in.Multiplier)
			case "public_goods":
				s += fmt.Sprintf(", multiplier %g, groups of %d, %d rounds, punishment %s", in.Multiplier, in.GroupSize, in.Rounds, map[bool]string{true: "on", false: "off"}[in.Punishment])
			}
			var sc []string
			for _, role := range in.Roles() {
				sc = append(sc, role+": "+in.Scenarios[role])
			}
			settings = append(settings, []string{in.Name, in.Game, s, strings.Join(sc, ", ")})
		}
		if multi {
			fmt.Fprintf(&p.b, "<h3>%s</h3>\n", esc(runLabel(r, true)))
		}
		p.table([]string{"game", "rules", "terms", "scenarios asked"}, settings)
		for _, g := range groups {
			all = append(all, labelled{seriesLabel(r, g.Backend, g.Condition, multi, len(r.Exp.Conditions) > 1), g, r})
		}
	}
	if len(all) == 0 {
		return nil
	}
	// Overview: each role's mean choice next to the human figure.
	var cats []string
	var humanM, humanLo, humanHi []float64
	for _, l := range all {
		for _, s := range l.g.Stats {
			c := headlineLabel(s)
			if s.Headline && !slices.Contains(cats, c) {
				cats = append(cats, c)
				h := s.Human
				lo, hi := math.NaN(), math.NaN()
				if strings.Contains(s.Measure, "round 1") && !math.IsNaN(h) {
					lo, hi = game.HumanPublicGoods.FirstLo, game.HumanPublicGoods.FirstHi
				}
				humanM, humanLo, humanHi = append(humanM, h), append(humanLo, lo), append(humanHi, hi)
			}
		}
	}
	bc := BarChart{Title: "Mean choice by game and role", XLabel: "Game: choice", YLabel: "Mean, share of the endowment (%)", Categories: cats, Y0: 0, Y1: 100,
		Width: math.Max(560, 170*float64(len(cats))+210)}
	for _, l := range all {
		bc.Groups = append(bc.Groups, l.label)
		m, lo, hi := nanRow(len(cats)), nanRow(len(cats)), nanRow(len(cats))
		for _, s := range l.g.Stats {
			if i := slices.Index(cats, headlineLabel(s)); i >= 0 && s.Headline {
				m[i], lo[i], hi[i] = 100*s.Mean, 100*s.Lo, 100*s.Hi
			}
		}
		bc.Mean, bc.Lo, bc.Hi = append(bc.Mean, m), append(bc.Lo, lo), append(bc.Hi, hi)
	}
	bc.Groups = append(bc.Groups, "Human reference")
	scale := func(v []float64) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = 100 * x
		}
		return out
	}
	bc.Mean, bc.Lo, bc.Hi = append(bc.Mean, scale(humanM)), append(bc.Lo, scale(humanLo)), append(bc.Hi, scale(humanHi))
	p.figure(bc.SVG(), "Mean choice as a share of the endowment (trust returns: of the amount received). Whiskers: 95% t CI over agents (public goods final round: over groups). Last bar of each cluster: the published human figure (public goods round 1: the 40-60% range; no single figure for the final round). Sources: "+
		esc(strings.Join([]string{game.HumanDictator.Source, game.HumanUltimatum.Source, game.HumanTrust.Source, game.HumanPublicGoods.Source}, "; "))+".")
	for _, l := range all {
		var rows [][]string
		for _, s := range l.g.Stats {
			rows = append(rows, []string{s.Game, s.Measure, pctCI(s.Mean, s.Lo, s.Hi), fmt.Sprintf("%d %s", s.N, s.Unit), s.HumanText})
		}
		p.para("<b>%s</b>: shares with 95%% CIs (t over agents, replicates averaged, or over groups; Wilson over decisions for rates).", esc(l.label))
		p.table([]string{"game", "measure", "this run", "n", "human reference"}, rows)
	}
	// Public goods by round.
	var ss []Series
	rounds := 0
	for i, l := range all {
		for j, t := range l.g.PG {
			name := t.Game
			if len(all) > 1 {
				name = l.label + ", " + t.Game
			}
			s := Series{Name: name, Color: Palette[(i*len(l.g.PG)+j)%len(Palette)]}
			if t.Punishment {
				s.Marker = "square"
			}
			for k := range t.Mean {
				s.X, s.Y, s.Lo, s.Hi = append(s.X, float64(k+1)), append(s.Y, 100*t.Mean[k]), append(s.Lo, 100*t.Lo[k]), append(s.Hi, 100*t.Hi[k])
			}
			rounds = max(rounds, len(t.Mean))
			ss = append(ss, s)
		}
	}
	if len(ss) > 0 {
		h := game.HumanPublicGoods
		ss = append(ss, Series{Name: "Humans, round 1 (40-60%)", Color: HumanColor, Marker: "open", X: []float64{1}, Y: []float64{50 * (h.FirstLo + h.FirstHi)}, Lo: []float64{100 * h.FirstLo}, Hi: []float64{100 * h.FirstHi}})
		p.figure(LineChart{Title: "Public goods: contributions by round", XLabel: "Round", YLabel: "Mean contribution (% of endowment)",
			X0: 1, X1: float64(max(rounds, 2)), Y0: 0, Y1: 100, Series: ss}.SVG(),
			"Mean contribution by round, without and with peer punishment (squares). Whiskers: 95% t CI over groups. Humans (Fehr &amp; Gächter 2000): 40-60% in round 1, decaying towards zero without punishment, rising and staying high with it.")
	}
	// Ultimatum rejections by offer band.
	bands := make([]string, len(rejectBands))
	for i, b := range rejectBands {
		if b[1] > 1 {
			bands[i] = fmt.Sprintf("%.0f%% or more", 100*b[0])
		} else {
			bands[i] = fmt.Sprintf("%.0f-%.0f%%", 100*b[0], 100*b[1])
		}
	}
	rc := BarChart{Title: "Ultimatum: rejections by offer", XLabel: "Offer (share of the pie)", YLabel: "Offers rejected (%)", Categories: bands, Y0: 0, Y1: 100}
	for _, l := range all {
		names := make([]string, 0, len(l.g.Reject))
		for n := range l.g.Reject {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			name := n
			if len(all) > 1 {
				name = l.label + ", " + n
			}
			m, lo, hi := nanRow(len(bands)), nanRow(len(bands)), nanRow(len(bands))
			for i, b := range l.g.Reject[n] {
				m[i], lo[i], hi[i] = 100*b.Rate, 100*b.CLo, 100*b.CHi
			}
			rc.Groups = append(rc.Groups, name)
			rc.Mean, rc.Lo, rc.Hi = append(rc.Mean, m), append(rc.Lo, lo), append(rc.Hi, hi)
		}
	}
	if len(rc.Groups) > 0 {
		h := game.HumanUltimatum
		m := nanRow(len(bands))
		for i, b := range rejectBands {
			if b[1] <= h.LowOffer {
				m[i] = 100 * h.RejectLow
			}
		}
		rc.Groups = append(rc.Groups, "Human reference")
		rc.Mean, rc.Lo, rc.Hi = append(rc.Mean, m), append(rc.Lo, nanRow(len(bands))), append(rc.Hi, nanRow(len(bands)))
		p.figure(rc.SVG(), "Share of offers rejected in each band of the pie (responders by the strategy method: offers below their minimum). Whiskers: Wilson 95% CI over pairs; a band without offers has no bar. Human reference (Oosterbeek et al. 2004): offers below about 20% are rejected about half of the time, offers of 40-50% almost never; 16% of all offers are rejected.")
	}
	return nil
}

// headlineLabel is a headline measure's short name in the overview chart.
func headlineLabel(s GameStat) string {
	m := strings.SplitN(s.Measure, ",", 2)[0]
	for _, r := range [][2]string{{"given", "give"}, {"minimum acceptable offer", "MAO"}, {"returned", "return"}, {"sent", "send"}, {" contribution", ""}, {"round ", "r"}} {
		m = strings.Replace(m, r[0], r[1], 1)
	}
	return s.Game + ": " + m
}

func nanRow(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}
