package games_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prosim/prosim/internal/analysis"
	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/report"
	"github.com/prosim/prosim/internal/situation"
	"github.com/prosim/prosim/internal/study/games"
	"github.com/prosim/prosim/internal/table"
)

// load reads an experiment from src with the given concurrency.
func load(t *testing.T, src string, concurrency int) *experiment.Experiment {
	t.Helper()
	src = strings.Replace(src, "seed:", fmt.Sprintf("concurrency: %d\nseed:", concurrency), 1)
	path := filepath.Join(t.TempDir(), "exp.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := experiment.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const gamesExp = `name: g1
study: games
seed: 5
replicates: 2
population: {source: sample, n: 13}
games:
  - {game: dictator}
  - {game: ultimatum}
  - {game: ultimatum, name: ultimatum_mao, responder: mao}
  - {game: trust}
  - {game: public_goods, rounds: 3, group_size: 4, punishment: off}
`

// scripted answers every game by a fixed rule of the agent id and the parameters asked, as
// raw JSON text (so the reply goes through parsing and validation like an LLM's).
type scripted struct {
	mu    sync.Mutex
	reqs  []backend.Request
	calls atomic.Int64
	// bad, when set, replaces the answer (e.g. an offer above the endowment).
	bad func(req backend.Request) (string, bool)
}

func (s *scripted) answer(req backend.Request) string {
	id, p := req.AgentID, sitOf(req).Params
	switch sitOf(req).Scenario {
	case game.ScenarioDictator:
		return fmt.Sprintf(`{"give": %d}`, 10*(id%4))
	case game.ScenarioUltimatumProposer:
		return fmt.Sprintf(`{"offer": %d}`, 10*(id%6))
	case game.ScenarioUltimatumResponder:
		if p["offer"] < 20 {
			return `{"choice": "reject"}`
		}
		return `{"choice": "accept"}`
	case game.ScenarioUltimatumMAO:
		return fmt.Sprintf(`{"min_accept": %d}`, 5*(id%7))
	case game.ScenarioTrustSender:
		return fmt.Sprintf(`{"send": %d}`, id%4)
	case game.ScenarioTrustReturner:
		return fmt.Sprintf(`{"return": %g}`, p["sent"])
	case game.ScenarioPublicGoods:
		return fmt.Sprintf(`{"contribute": %d}`, 5*(id%5))
	case game.ScenarioPublicGoodsPunish:
		if p["target"] < p["own"] {
			return `{"points": 2}`
		}
		return `{"points": 0}`
	}
	return "?"
}

func (s *scripted) backends() func(experiment.Backend) (backend.Backend, error) {
	return func(experiment.Backend) (backend.Backend, error) {
		return backend.Validate(backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			s.calls.Add(1)
			s.mu.Lock()
			s.reqs = append(s.reqs, req)
			s.mu.Unlock()
			raw := s.answer(req)
			if s.bad != nil {
				if b, ok := s.bad(req); ok {
					raw = b
				}
			}
			return backend.Reply{Raw: raw, Provider: "fake", Model: "fake-1", Calls: 1}, nil
		}), 0), nil
	}
}

type csvRows struct {
	col  map[string]int
	rows [][]string
}

func (c csvRows) get(r []string, name string) string { return r[c.col[name]] }
func (c csvRows) num(r []string, name string) float64 {
	v, err := strconv.ParseFloat(r[c.col[name]], 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

func readRows(t *testing.T, path string) csvRows {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	c := csvRows{col: map[string]int{}, rows: recs[1:]}
	for i, h := range recs[0] {
		c.col[h] = i
	}
	return c
}

func runGamesExp(t *testing.T, src string, conc int, be func(experiment.Backend) (backend.Backend, error)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := engine.Run(context.Background(), load(t, src, conc), engine.Options{Out: dir, Backends: be}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func atoi(s string) int {
	v, _ := strconv.Atoi(s)
	return v
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestGamesPayoffsThroughTheDriver plays every game with scripted answers and checks the
// matching, what each second mover was shown, and every payoff against the Go rules.
func TestGamesPayoffsThroughTheDriver(t *testing.T) {
	s := &scripted{}
	dir := runGamesExp(t, gamesExp, 8, s.backends())
	g := readRows(t, filepath.Join(dir, "results", "games.csv"))
	if got := strings.Join(games.GamesSchema.Header(), ","); len(g.col) != len(games.GamesSchema.Columns) {
		t.Fatalf("header: %v, want %s", g.col, got)
	}
	type pk struct {
		run, game string
		group     int
	}
	pairs := map[pk][][]string{}
	seen := map[string]int{} // run/game/round/agent
	for _, r := range g.rows {
		k := g.get(r, "run_id") + "/" + g.get(r, "game") + "/" + g.get(r, "round") + "/" + g.get(r, "agent_id")
		seen[k]++
		if seen[k] > 1 {
			t.Fatalf("agent appears twice in one game and round: %s", k)
		}
		id := int(g.num(r, "agent_id"))
		choice, pay := g.num(r, "choice"), g.num(r, "payoff")
		switch g.get(r, "game") {
		case "dictator":
			if choice != float64(10*(id%4)) || pay != 100-choice || g.get(r, "valid") != "1" {
				t.Errorf("dictator row %v", r)
			}
		case "ultimatum", "ultimatum_mao", "trust":
			if g.get(r, "role") == "unpaired" {
				if g.get(r, "partner_id") != "" || !strings.Contains(g.get(r, "invalid_reason"), "odd number") {
					t.Errorf("unpaired row %v", r)
				}
				continue
			}
			k := pk{g.get(r, "run_id"), g.get(r, "game"), int(g.num(r, "group"))}
			pairs[k] = append(pairs[k], r)
		}
	}
	// 13 agents x (1 dictator + 3 two-player games + 3 rounds) x 2 replicates.
	if want := 13 * (1 + 3 + 3) * 2; len(g.rows) != want {
		t.Errorf("%d rows in games.csv, want %d", len(g.rows), want)
	}
	if len(pairs) != 3*6*2 {
		t.Errorf("%d pairs, want 6 per two-player game and replicate", len(pairs))
	}
	for k, rs := range pairs {
		if len(rs) != 2 {
			t.Fatalf("pair %v has %d rows", k, len(rs))
		}
		a, b := rs[0], rs[1]
		if g.get(a, "partner_id") != g.get(b, "agent_id") || g.get(b, "partner_id") != g.get(a, "agent_id") {
			t.Errorf("partners do not match: %v / %v", a, b)
		}
		x, y := g.num(a, "choice"), g.num(b, "choice")
		pa, pb := g.num(a, "payoff"), g.num(b, "payoff")
		switch k.game {
		case "ultimatum":
			if g.get(a, "role") != "proposer" || g.get(b, "role") != "responder" {
				t.Fatalf("roles %v", rs)
			}
			rejected := x < 20
			if (y == game.ChoiceReject) != rejected {
				t.Errorf("responder was not shown its proposer's offer %g: %v", x, b)
			}
			if rejected && (pa != 0 || pb != 0) || !rejected && (pa != 100-x || pb != x) {
				t.Errorf("ultimatum payoffs %g, %g for offer %g, choice %g", pa, pb, x, y)
			}
		case "ultimatum_mao":
			if g.get(b, "role") != "responder_mao" || y != float64(5*(int(g.num(b, "agent_id"))%7)) {
				t.Errorf("mao row %v", b)
			}
			if x < y && (pa != 0 || pb != 0) || x >= y && (pa != 100-x || pb != x) {
				t.Errorf("ultimatum (mao) payoffs %g, %g for offer %g, minimum %g", pa, pb, x, y)
			}
		case "trust":
			if x == 0 {
				if g.get(b, "valid") != "0" || g.get(b, "choice") != "" || !strings.Contains(g.get(b, "invalid_reason"), "nothing was sent") || pa != 10 || pb != 0 {
					t.Errorf("trust with nothing sent: %v / %v", a, b)
				}
				continue
			}
			if y != x || pa != 10-x+y || pb != 3*x-y {
				t.Errorf("trust: sent %g returned %g, payoffs %g %g", x, y, pa, pb)
			}
		}
	}

	// Public goods: recompute each group's round from the recorded contributions with the Go
	// rules, and check what each member was shown of the previous round.
	type gk struct {
		run          string
		round, group int
	}
	groups := map[gk][][]string{}
	contrib := map[string]float64{} // run/round/agent
	for _, r := range g.rows {
		if g.get(r, "game") != "public_goods" {
			continue
		}
		k := gk{g.get(r, "run_id"), int(g.num(r, "round")), int(g.num(r, "group"))}
		groups[k] = append(groups[k], r)
		contrib[fmt.Sprintf("%s/%d/%s", k.run, k.round, g.get(r, "agent_id"))] = g.num(r, "choice")
	}
	groupOf := map[string]gk{}
	for k, rs := range groups {
		var cs []float64
		for _, r := range rs {
			cs = append(cs, g.num(r, "choice"))
			groupOf[fmt.Sprintf("%s/%d/%s", k.run, k.round, g.get(r, "agent_id"))] = k
		}
		want, err := game.PGPayoffs(20, 1.6, cs)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			if !near(g.num(r, "payoff"), want[i]) {
				t.Errorf("public goods payoff %g, want %g: %v", g.num(r, "payoff"), want[i], r)
			}
		}
	}
	checked := 0
	for _, q := range s.reqs {
		if sitOf(q).Scenario != game.ScenarioPublicGoods || sitOf(q).Params["round"] != 2 {
			continue
		}
		run := ""
		for _, ri := range []string{"none.r1", "none.r2"} {
			if strings.HasSuffix(ri, strconv.Itoa(q.Replicate)) {
				run = ri
			}
		}
		k := groupOf[fmt.Sprintf("%s/1/%d", run, q.AgentID)]
		sum, n := 0.0, 0
		for _, r := range groups[k] {
			if g.get(r, "agent_id") != strconv.Itoa(q.AgentID) {
				sum += g.num(r, "choice")
				n++
			}
		}
		if !near(sitOf(q).Params["others_prev"], sum/float64(n)) || sitOf(q).Params["own_prev"] != contrib[fmt.Sprintf("%s/1/%d", run, q.AgentID)] {
			t.Errorf("round 2 of agent %d shows others_prev %g own_prev %g, want %g and %g", q.AgentID, sitOf(q).Params["others_prev"], sitOf(q).Params["own_prev"], sum/float64(n), contrib[fmt.Sprintf("%s/1/%d", run, q.AgentID)])
		}
		if !strings.Contains(q.Prompt, "Last round:") {
			t.Errorf("round 2 prompt does not report the last round:\n%s", q.Prompt)
		}
		checked++
	}
	if checked != 13*2 {
		t.Errorf("checked %d round-2 requests, want 26", checked)
	}
}

const pgPunish = `name: g2
study: games
seed: 9
population: {source: sample, n: 10}
games:
  - {game: public_goods, rounds: 2, group_size: 5, punishment: on}
`

func TestPublicGoodsPunishmentPayoffs(t *testing.T) {
	s := &scripted{}
	dir := runGamesExp(t, pgPunish, 4, s.backends())
	g := readRows(t, filepath.Join(dir, "results", "games.csv"))
	p := readRows(t, filepath.Join(dir, "results", "pg_punishments.csv"))
	if len(p.rows) != 2*2*5*4 {
		t.Fatalf("%d punishment rows, want 2 rounds x 2 groups x 5 x 4", len(p.rows))
	}
	c := map[string]float64{}
	for _, r := range g.rows {
		c[g.get(r, "round")+"/"+g.get(r, "agent_id")] = g.num(r, "choice")
	}
	given, received := map[string]float64{}, map[string]float64{}
	for _, r := range p.rows {
		rd, from, to := p.get(r, "round"), p.get(r, "agent_id"), p.get(r, "target_id")
		want := 0.0
		if c[rd+"/"+to] < c[rd+"/"+from] {
			want = 2
		}
		if p.num(r, "points") != want {
			t.Errorf("points %v, want %g (own %g, target %g)", r, want, c[rd+"/"+from], c[rd+"/"+to])
		}
		given[rd+"/"+from] += want
		received[rd+"/"+to] += want
	}
	for _, r := range g.rows {
		k := g.get(r, "round") + "/" + g.get(r, "agent_id")
		// Group totals: recompute stage 1 from the group's contributions.
		sum := 0.0
		for _, o := range g.rows {
			if g.get(o, "round") == g.get(r, "round") && g.get(o, "group") == g.get(r, "group") {
				sum += g.num(o, "choice")
			}
		}
		stage1 := 20 - c[k] + 1.6*sum/5
		want := stage1 - math.Min(3*received[k], stage1) - given[k]
		if !near(g.num(r, "payoff"), want) {
			t.Errorf("payoff %g, want %g: %v", g.num(r, "payoff"), want, r)
		}
	}
	// Round 2 shows the punishment received in round 1.
	for _, q := range s.reqs {
		if sitOf(q).Scenario == game.ScenarioPublicGoods && sitOf(q).Params["round"] == 2 {
			if sitOf(q).Params["punished_prev"] != received["1/"+strconv.Itoa(q.AgentID)] {
				t.Errorf("agent %d shown %g punishment points, received %g", q.AgentID, sitOf(q).Params["punished_prev"], received["1/"+strconv.Itoa(q.AgentID)])
			}
		}
	}
}

// TestGamesSameSeedSameBytes: the embedded model, concurrency 1 and 32.
func TestGamesSameSeedSameBytesWhateverTheConcurrency(t *testing.T) {
	src := strings.Replace(gamesExp, "punishment: off}", "punishment: both}", 1)
	read := func(dir, f string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, "results", f))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := runGamesExp(t, src, 1, nil)
	b := runGamesExp(t, src, 32, nil)
	// The statistics too: their bootstrap intervals are seeded by the experiment seed.
	for _, f := range []string{"games.csv", "pg_punishments.csv", "decisions.csv", "games_stats.csv", "pg_rounds.csv", "ultimatum_rejections.csv"} {
		if !bytes.Equal(read(a, f), read(b, f)) {
			t.Errorf("%s differs between concurrency 1 and 32", f)
		}
	}
	// Machines stepped a few at a time (a step's bound on its decisions), not all together.
	old := games.SetStepWindow(3)
	w := runGamesExp(t, src, 8, nil)
	for _, f := range []string{"games.csv", "pg_punishments.csv", "decisions.csv", "games_stats.csv", "pg_rounds.csv", "ultimatum_rejections.csv"} {
		if !bytes.Equal(read(a, f), read(w, f)) {
			t.Errorf("%s differs when a step holds 3 decisions", f)
		}
	}
	games.SetStepWindow(old)
	c := runGamesExp(t, strings.Replace(src, "seed: 5", "seed: 6", 1), 8, nil)
	if bytes.Equal(read(a, "games.csv"), read(c, "games.csv")) {
		t.Error("a different seed gave identical games")
	}
}

func TestGamesInvalidReplyIsRecordedWithItsReason(t *testing.T) {
	// Agent 4 offers 150 of 100 as text; senders with ids 2 mod 4 send 12 of 10 as structured
	// values that bypass the backend chain's validation: the driver's own check must catch it.
	s := &scripted{bad: func(req backend.Request) (string, bool) {
		if req.AgentID == 4 && sitOf(req).Scenario == game.ScenarioUltimatumProposer {
			return `{"offer": 150}`, true
		}
		return "", false
	}}
	inner := s.backends()
	be := func(b experiment.Backend) (backend.Backend, error) {
		v, _ := inner(b)
		return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			if req.AgentID%4 == 2 && sitOf(req).Scenario == game.ScenarioTrustSender {
				return backend.Reply{Raw: `{"send": 12}`, Values: map[string]float64{"send": 12}, Provider: "fake"}, nil
			}
			return v.Decide(ctx, req)
		}), nil
	}
	src := strings.Replace(gamesExp, "replicates: 2", "replicates: 1", 1)
	dir := runGamesExp(t, src, 4, be)
	g := readRows(t, filepath.Join(dir, "results", "games.csv"))
	found := map[string]bool{}
	badSends := 0
	for _, r := range g.rows {
		id, game, role := g.get(r, "agent_id"), g.get(r, "game"), g.get(r, "role")
		switch {
		case id == "4" && game == "ultimatum" && role == "proposer":
			found["offer"] = true
			if g.get(r, "valid") != "0" || g.get(r, "choice") != "" || g.get(r, "payoff") != "" || !strings.Contains(g.get(r, "invalid_reason"), "150 is outside 0..100") {
				t.Errorf("invalid offer row %v", r)
			}
			partner := g.get(r, "partner_id")
			for _, o := range g.rows {
				if g.get(o, "game") == "ultimatum" && g.get(o, "agent_id") == partner {
					found["responder"] = true
					if g.get(o, "valid") != "0" || !strings.Contains(g.get(o, "invalid_reason"), "not asked: the proposer's reply was invalid") {
						t.Errorf("responder of an invalid offer: %v", o)
					}
				}
			}
		case atoi(id)%4 == 2 && game == "trust" && role == "sender":
			found["send"] = true
			badSends++
			if g.get(r, "valid") != "0" || !strings.Contains(g.get(r, "invalid_reason"), "12 is outside 0..10") {
				t.Errorf("invalid send row %v", r)
			}
		}
	}
	if len(found) != 3 {
		t.Fatalf("rows not found: %v", found)
	}
	d := readRows(t, filepath.Join(dir, "results", "decisions.csv"))
	bad := 0
	for _, r := range d.rows {
		if d.get(r, "valid") == "0" {
			bad++
			if d.get(r, "value") != "" || d.get(r, "invalid_reason") == "" {
				t.Errorf("decisions.csv invalid row %v", r)
			}
		}
	}
	if bad != 1+badSends {
		t.Errorf("%d invalid rows in decisions.csv, want %d", bad, 1+badSends)
	}
}

func TestGamesResumeAsksOnlyWhatIsMissing(t *testing.T) {
	src := strings.Replace(gamesExp, "punishment: off}", "punishment: both}", 1)
	s := &scripted{}
	want := runGamesExp(t, src, 4, s.backends())
	total := s.calls.Load()

	s2 := &scripted{}
	var n atomic.Int64
	inner := s2.backends()
	failing := func(b experiment.Backend) (backend.Backend, error) {
		v, _ := inner(b)
		return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
			if n.Add(1) > 150 { // mid public goods
				return backend.Reply{}, errors.New("provider down")
			}
			return v.Decide(ctx, req)
		}), nil
	}
	dir := filepath.Join(t.TempDir(), "run")
	exp := load(t, src, 4)
	exp.OnError = "stop" // a provider that is down stops the run (the default records and goes on)
	if _, err := engine.Run(context.Background(), exp, engine.Options{Out: dir, Backends: failing}); err == nil {
		t.Fatal("the failing run did not fail")
	}
	first := s2.calls.Load()
	s3 := &scripted{}
	if _, err := engine.Resume(context.Background(), dir, engine.Options{Backends: s3.backends()}); err != nil {
		t.Fatal(err)
	}
	if first+s3.calls.Load() != total {
		t.Errorf("first run %d + resume %d calls, want %d in all", first, s3.calls.Load(), total)
	}
	for _, f := range []string{"games.csv", "pg_punishments.csv", "decisions.csv"} {
		a, _ := os.ReadFile(filepath.Join(want, "results", f))
		b, _ := os.ReadFile(filepath.Join(dir, "results", f))
		if !bytes.Equal(a, b) {
			t.Errorf("resumed %s differs from an uninterrupted run's", f)
		}
	}
}

// The live view of a games run under way (what prosim serve shows) reads a one-shot game
// not finished, or not started, from memory: its moves are in the spill file only once it is
// over. Runs stopped in their first step, and with steps of 20 decisions part way through.
func TestGamesLiveEstimatesWhileUnderWay(t *testing.T) {
	src := strings.Replace(gamesExp, "punishment: off}", "punishment: both}", 1)
	live := func(window, stop int) map[string][]string {
		t.Helper()
		games.SetStepWindow(window)
		s := &scripted{}
		var n atomic.Int64
		inner := s.backends()
		failing := func(b experiment.Backend) (backend.Backend, error) {
			v, _ := inner(b)
			return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
				if stop > 0 && n.Add(1) > int64(stop) {
					return backend.Reply{}, errors.New("provider down")
				}
				return v.Decide(ctx, req)
			}), nil
		}
		dir := filepath.Join(t.TempDir(), "run")
		exp := load(t, src, 4)
		exp.OnError = "stop"
		if stop == 0 { // the first replicate, complete
			exp = load(t, strings.Replace(src, "replicates: 2", "replicates: 1", 1), 4)
		}
		if _, err := engine.Run(context.Background(), exp, engine.Options{Out: dir, Backends: failing}); (err == nil) != (stop == 0) {
			t.Fatalf("window %d, stop after %d calls: run: %v", window, stop, err)
		}
		e, err := engine.LiveEstimates(dir, 0)
		if err != nil {
			t.Fatalf("window %d, stop after %d calls: %v", window, stop, err)
		}
		rows := map[string][]string{}
		for _, r := range e.Rows {
			rows[r[1]+" "+r[2]] = r
		}
		return rows
	}
	old := games.SetStepWindow(0)
	defer games.SetStepWindow(old)
	for _, stop := range []int{5, 20, 60} {
		live(old, stop)
	}
	live(20, 100)
	// After the first step of 20 (dictator, ultimatum's proposers, ultimatum_mao of the first
	// replicate), the dictators read back from the spill file and the ultimatum's proposers
	// from memory give what the complete first replicate gives.
	got, want := live(20, 40), live(old, 0)
	for k, n := range map[string]string{"dictator given, share of endowment": "13 agents", "ultimatum offer, share of endowment": "6 agents", "ultimatum_mao offer, share of endowment": "6 agents"} {
		if got[k] == nil || got[k][4] != n || !slices.Equal(got[k], want[k]) {
			t.Errorf("%s: live %q, the complete replicate %q (want %s)", k, got[k], want[k], n)
		}
	}
}

func TestGamesScenarioErrorsAreLocated(t *testing.T) {
	dir := t.TempDir()
	lib := `- id: dictator_charity
  title: Dictator game, charity framing
  kind: game
  game: dictator
  text: You have {{.endowment}} tokens and may give any part to a charity.
  question: How many tokens do you give?
  cost: Tokens given are not kept.
  response:
    fields:
      - {name: give, kind: amount, min: 0, max: 100, step: 1, description: tokens given}
- id: dictator_wrong
  title: Dictator game with the wrong field
  kind: game
  game: dictator
  text: You have {{.endowment}} tokens.
  question: How many do you give?
  cost: Tokens given are not kept.
  response:
    fields:
      - {name: amount, kind: amount, min: 0, max: 100, step: 1, description: tokens given}
`
	if err := os.WriteFile(filepath.Join(dir, "lib.yaml"), []byte(lib), 0o644); err != nil {
		t.Fatal(err)
	}
	base := "name: g3\nstudy: games\nseed: 1\npopulation: {source: sample, n: 6}\nscenario_files: [" + filepath.Join(dir, "lib.yaml") + "]\ngames:\n"
	for _, c := range []struct{ games, want string }{
		{"  - {game: dictator, scenarios: {dictator: nope}}\n", ":8:44: field games[0].scenarios.dictator: unknown scenario \"nope\""},
		{"  - {game: dictator, scenarios: {dictator: dictator_wrong}}\n", "field games[0].scenarios.dictator: scenario \"dictator_wrong\" must answer with the fields of dictator (give (amount))"},
		{"  - {game: trust, scenarios: {sender: dictator_charity}}\n", "field games[0].scenarios.sender: scenario \"dictator_charity\" is kind \"game\" of game \"dictator\""},
		{"  - {game: dictator, scenarios: {dictator: helping}}\n", "field games[0].scenarios.dictator: scenario \"helping\" is kind \"vignette\""},
		// QA15 F5: a max other than the endowment was silently replaced by it.
		{"  - {game: dictator, endowment: 50, scenarios: {dictator: dictator_charity}}\n", "lib.yaml:10:49: field [0].response.fields[0].max: give's max 100 is not the endowment 50 of game dictator (games[0]): the rules let the dictator choose 0..50, so write max: 50"},
	} {
		_, err := engine.Prepare(load(t, base+c.games, 1), engine.Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v\nwant %q", err, c.want)
		}
	}
	// Every game's problem at once, and the wording a sound one lacks.
	_, err := engine.Prepare(load(t, base+"  - {game: dictator, scenarios: {dictator: nope}}\n  - {game: dictator, name: b, scenarios: {dictator: dictator_wrong}}\n  - {game: trust, scenarios: {sender: dictator_charity}}\nfactors: {wording: [original, p9]}\n", 1), engine.Options{})
	for i, w := range []string{":8:44: field games[0].scenarios.dictator: unknown scenario \"nope\"",
		":9:53: field games[1].scenarios.dictator: scenario \"dictator_wrong\" must answer",
		":10:39: field games[2].scenarios.sender: scenario \"dictator_charity\" is kind",
		":11:31: field factors.wording[1]: scenario trust_returner (the returner of game trust) has no wording \"p9\""} {
		if err == nil || !strings.Contains(err.Error(), w) || strings.Count(err.Error(), "p9") != 1 {
			t.Errorf("problem %d: got %v\nwant %q, once", i, err, w)
		}
	}
	// The game is named as the user named it (qa11: "(the dictator of dictator)" for the game
	// dictator_charity), and a scenario several games ask lacks a wording once, naming them.
	_, err = engine.Prepare(load(t, base+"  - {game: dictator, name: charity, scenarios: {dictator: dictator_charity}}\n  - {game: trust}\n  - {game: trust, name: trust2}\nfactors: {wording: [original, p9]}\n", 1), engine.Options{})
	for _, w := range []string{`scenario dictator_charity (the dictator of game charity) has no wording "p9"`,
		`scenario trust_returner (the returner of games trust, trust2) has no wording "p9"`} {
		if err == nil || !strings.Contains(err.Error(), w) || strings.Count(err.Error(), "trust_returner") != 1 {
			t.Errorf("got %v\nwant %q, the returner once", err, w)
		}
	}
	_, err = engine.Prepare(load(t, base+"  - {game: trust, name: lend, scenarios: {sender: dictator_charity}}\n", 1), engine.Options{})
	if w := `the sender of game lend (a trust game) needs`; err == nil || !strings.Contains(err.Error(), w) {
		t.Errorf("got %v\nwant %q", err, w)
	}
	// A framing variant is played under its own name with the built-in rules.
	exp := load(t, base+"  - {game: dictator}\n  - {game: dictator, name: charity, scenarios: {dictator: dictator_charity}}\n", 2)
	out := filepath.Join(t.TempDir(), "run")
	res, err := engine.Run(context.Background(), exp, engine.Options{Out: out})
	if err != nil {
		t.Fatal(err)
	}
	g := readRows(t, filepath.Join(out, "results", "games.csv"))
	d := readRows(t, filepath.Join(out, "results", "decisions.csv"))
	if len(g.rows) != 12 || g.get(g.rows[6], "game") != "charity" || g.get(g.rows[6], "valid") != "1" {
		t.Errorf("games.csv: %v", g.rows)
	}
	variant := 0
	for _, r := range d.rows {
		if d.get(r, "scenario") == "dictator_charity" {
			variant++
		}
	}
	if len(d.rows) != 12 || variant != 6 {
		t.Errorf("decisions.csv: %d rows, %d of the variant, want 12 and 6", len(d.rows), variant)
	}
	// The human figures are of the standard framing: the variant's rows say so and give none,
	// and the scorecard compares the standard game only (QA9 repro-11: the charity framing was
	// scored against Engel 2011, "fitted to it: yes").
	st := readRows(t, filepath.Join(out, "results", "games_stats.csv"))
	for _, r := range st.rows {
		human, ref := st.get(r, "human"), st.get(r, "human_reference")
		switch st.get(r, "game") {
		case "charity":
			if human != "" || !strings.HasPrefix(ref, "custom framing (dictator_charity): the standard game's ") {
				t.Errorf("games_stats.csv, charity: human %q, reference %q", human, ref)
			}
		case "dictator":
			if human == "" || strings.Contains(ref, "custom") {
				t.Errorf("games_stats.csv, dictator: human %q, reference %q", human, ref)
			}
		}
	}
	sc := readRows(t, filepath.Join(out, "results", "scorecard.csv"))
	if len(sc.rows) == 0 {
		t.Fatal("no scorecard rows")
	}
	for _, r := range sc.rows {
		if m := sc.get(r, "measure"); !strings.HasPrefix(m, "dictator_") {
			t.Errorf("scorecard.csv scores %s", m)
		}
	}
	// The terminal's scorecard says so under its table, as the report does.
	var sum strings.Builder
	if err := res.Summary(&sum); err != nil {
		t.Fatal(err)
	}
	i := strings.Index(sum.String(), "Human-likeness scorecard")
	if i < 0 {
		t.Fatalf("no scorecard in the summary:\n%s", sum.String())
	}
	table := sum.String()[i:]
	if want := "\nNot scored, as custom framings (the human figures are of the standard game): charity (dictator_charity).\n"; !strings.Contains(table, want) {
		t.Errorf("the summary's scorecard does not name the custom framing left out:\n%s", table)
	}
	// Every dictator game custom-framed: no scorecard, and the summary and the report say why.
	out = filepath.Join(t.TempDir(), "run")
	res, err = engine.Run(context.Background(), load(t, base+"  - {game: dictator, name: charity, scenarios: {dictator: dictator_charity}}\n", 2), engine.Options{Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "results", "scorecard.csv")); !os.IsNotExist(err) {
		t.Errorf("scorecard.csv of no scored game: %v", err)
	}
	sum.Reset()
	if err := res.Summary(&sum); err != nil {
		t.Fatal(err)
	}
	note := "No human-likeness scorecard. Not scored, as custom framings (the human figures are of the standard game): charity (dictator_charity)."
	if !strings.Contains(sum.String(), "\n"+note+"\n") {
		t.Errorf("the summary lacks %q:\n%s", note, sum.String())
	}
	html, err := os.ReadFile(filepath.Join(out, report.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, []byte(`id="scorecard"`)) || !bytes.Contains(html, []byte(template.HTMLEscapeString(note))) {
		t.Errorf("the report lacks the scorecard's note %q", note)
	}
}

// TestGamesSummaryAndReport checks the printed summary against values known from the script
// and that the HTML report has the games section.
func TestGamesSummaryAndReport(t *testing.T) {
	s := &scripted{}
	dir := runGamesExp(t, strings.Replace(gamesExp, "punishment: off}", "punishment: both}", 1), 4, s.backends())
	// The summary of the run, replayed over its journal as `prosim report` does.
	a, err := engine.Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var b bytes.Buffer
	if err := a.Summary(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	line := func(game, measure string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, game+" ") && strings.Contains(l, measure) {
				return l
			}
		}
		t.Errorf("summary has no line for %s, %s:\n%s", game, measure, out)
		return ""
	}
	for _, c := range [][3]string{
		// dictator: agents 1..13 give 10 x (id mod 4) of 100: 190/13 = 14.6% on average.
		{"dictator", "given, share of endowment", "14.6% ["},
		{"dictator", "given, share of endowment", "28.35% (Engel 2011)"},
		// every returner returns what was sent: a third of what it received.
		{"trust", "returned, share of the amount received (x3)", "33.3% [33.3, 33.3]"},
		{"trust", "returned", "36.5% (Johnson & Mislin 2011)"},
		{"ultimatum", "offers below 20% rejected", "100.0% ["}, // the script rejects offers below 20
		{"public_goods_punish", "round 1 contribution, share of endowment", "40-60% (Fehr & Gächter 2000)"},
	} {
		if l := line(c[0], c[1]); !strings.Contains(l, c[2]) {
			t.Errorf("summary line %q lacks %q", l, c[2])
		}
	}
	if !strings.Contains(out, "public_goods: mean contribution by round, % of endowment (6 groups): 50 50 50") {
		t.Errorf("summary lacks the public goods trajectory:\n%s", out)
	}
	html, err := os.ReadFile(filepath.Join(dir, report.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="games"`, "Public goods: contributions by round", "Ultimatum: rejections by offer", "Mean choice by game and role"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestGamesTablesAndReportOfTwoConditions: a run of two conditions and two replicates has
// every table of the games' analysis (CSV as written, and Parquet from the same rows), one
// statistics row per measure and condition that matches the printed summary, and a report
// section that labels each condition and the human range.
func TestGamesTablesAndReportOfTwoConditions(t *testing.T) {
	src := strings.Replace(gamesExp, "punishment: off}", "punishment: both}", 1) + "conditions:\n  - {name: none, policy: none}\n  - {name: moral, policy: moral}\n"
	dir := runGamesExp(t, src, 4, nil)
	for _, f := range []string{"games", "pg_punishments", "games_stats", "pg_rounds", "ultimatum_rejections"} {
		if _, err := os.Stat(filepath.Join(dir, "results", f+".csv")); err != nil {
			t.Errorf("results/%s.csv: %v", f, err)
		}
	}
	a, err := engine.Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	out := t.TempDir()
	for _, tb := range a.Tables() {
		w, err := table.Create(out, tb.Schema, table.CSV, table.Parquet)
		if err != nil {
			t.Fatal(err)
		}
		if err := table.Write(w, tb); err != nil {
			t.Fatalf("%s: %v", tb.Name, err)
		}
		got, _ := os.ReadFile(filepath.Join(out, tb.Name+".csv"))
		want, _ := os.ReadFile(filepath.Join(dir, "results", tb.Name+".csv"))
		if !bytes.Equal(got, want) {
			t.Errorf("%s.csv of the replayed analysis differs from the run's", tb.Name)
		}
	}
	st := readRows(t, filepath.Join(dir, "results", "games_stats.csv"))
	var sum bytes.Buffer
	if err := a.Summary(&sum); err != nil {
		t.Fatal(err)
	}
	perCond := map[string]int{}
	for _, r := range st.rows {
		perCond[st.get(r, "condition")]++
		if st.get(r, "estimand") == "" {
			t.Errorf("statistic without an estimand: %v", r)
		}
		m, lo, hi := st.num(r, "mean"), st.num(r, "ci_low"), st.num(r, "ci_high")
		shown := "-"
		switch {
		case math.IsNaN(m):
		case math.IsNaN(lo):
			shown = fmt.Sprintf("%.1f%%", 100*m)
		default:
			shown = fmt.Sprintf("%.1f%% [%.1f, %.1f]", 100*m, 100*lo, 100*hi)
		}
		if !strings.Contains(sum.String(), shown) {
			t.Errorf("summary lacks %s of %s %s", shown, st.get(r, "game"), st.get(r, "measure"))
		}
		if strings.HasPrefix(st.get(r, "measure"), "round 1 ") && (st.num(r, "human_low") != game.HumanPublicGoods.FirstLo || st.num(r, "human_high") != game.HumanPublicGoods.FirstHi) {
			t.Errorf("round 1 human range %v", r)
		}
	}
	if perCond["none"] == 0 || perCond["none"] != perCond["moral"] {
		t.Errorf("statistics per condition: %v", perCond)
	}
	html, err := os.ReadFile(filepath.Join(dir, report.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="games"`, "builtin (behavioural model), none", "builtin (behavioural model), moral",
		"not a confidence interval", "Mean choice by game and role", "Ultimatum: rejections by offer"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// The games' intervals over their units (games_stats.csv, pg_rounds.csv): with 2 replicates of
// the scripted agents (each gives the same every time), a dictator rate's interval resamples
// agents and is wider than Wilson over the 26 decisions, which takes an agent's two identical
// answers for independent; with 1 replicate it is Wilson over agents, the same numbers. Public
// goods rates are over group-runs; every interval names its method and lies within 0-1.
func TestGamesIntervalsOverUnits(t *testing.T) {
	stat := func(dir, game, measure string) (csvRows, []string) {
		st := readRows(t, filepath.Join(dir, "results", "games_stats.csv"))
		for _, r := range st.rows {
			if st.get(r, "game") == game && st.get(r, "measure") == measure {
				return st, r
			}
		}
		t.Fatalf("games_stats.csv has no %s, %s", game, measure)
		return st, nil
	}
	src := strings.Replace(gamesExp, "punishment: off}", "punishment: both}", 1)
	two := runGamesExp(t, src, 4, (&scripted{}).backends())
	st, r := stat(two, "dictator", "gave nothing, share of dictators")
	n := atoi(st.get(r, "n"))
	k := int(math.Round(st.num(r, "mean") * float64(n)))
	wlo, whi := analysis.ProportionCI(k, n, 0.95)
	if lo, hi := st.num(r, "ci_low"), st.num(r, "ci_high"); n != 26 || st.get(r, "ci_method") != "expanded percentile bootstrap over agents" || hi-lo < 1.2*(whi-wlo) {
		t.Errorf("2 replicates: gave nothing %d of %d, [%v, %v] by %q; Wilson over decisions [%v, %v]", k, n, lo, hi, st.get(r, "ci_method"), wlo, whi)
	}
	one := runGamesExp(t, strings.Replace(src, "replicates: 2", "replicates: 1", 1), 4, (&scripted{}).backends())
	st, r = stat(one, "dictator", "gave nothing, share of dictators")
	n = atoi(st.get(r, "n"))
	k = int(math.Round(st.num(r, "mean") * float64(n)))
	wlo, whi = analysis.ProportionCI(k, n, 0.95)
	if lo, hi := st.num(r, "ci_low"), st.num(r, "ci_high"); n != 13 || st.get(r, "ci_method") != "Wilson over agents" || lo != wlo || hi != whi {
		t.Errorf("1 replicate: gave nothing %d of %d, [%v, %v] by %q; want Wilson [%v, %v]", k, n, lo, hi, st.get(r, "ci_method"), wlo, whi)
	}
	for _, dir := range []string{one, two} {
		if _, r := stat(dir, "public_goods_punish", "punished at least once, share of agent-replicates"); !strings.HasSuffix(r[st.col["ci_method"]], " over group-runs") {
			t.Errorf("punished at least once: ci_method %q", r[st.col["ci_method"]])
		}
		st := readRows(t, filepath.Join(dir, "results", "games_stats.csv"))
		for _, r := range st.rows {
			m, lo, hi, method := st.num(r, "mean"), st.num(r, "ci_low"), st.num(r, "ci_high"), st.get(r, "ci_method")
			if (method == "") != math.IsNaN(lo) || lo < 0 || hi > 1 || lo > m || m > hi {
				t.Errorf("%s: %v [%v, %v] by %q", st.get(r, "measure"), m, lo, hi, method)
			}
			// Every value is a share (0-1), and the measure says so: not "% of" (QA read 0.2995
			// under "given, % of endowment").
			if ms := st.get(r, "measure"); strings.Contains(ms, "% of") || !strings.Contains(ms, "share of") && strings.Contains(ms, ",") {
				t.Errorf("measure %q of value %v", ms, m)
			}
		}
		pr := readRows(t, filepath.Join(dir, "results", "pg_rounds.csv"))
		for _, r := range pr.rows {
			if pr.get(r, "ci_method") != "expanded percentile bootstrap over group-runs" {
				t.Errorf("pg_rounds round %s: ci_method %q", pr.get(r, "round"), pr.get(r, "ci_method"))
			}
		}
	}
}

// sitOf is the structured situation of a request made by the games study.
func sitOf(req backend.Request) *situation.Situation { return req.Structured.(*situation.Situation) }

// A machine's game state is made at its first step and freed when it is done: with a step of
// 3 decisions, one or two of the 48 machines (8 replicates x 6 games) are alive at once, and
// none at the end.
func TestGamesFinishedMachinesAreFreed(t *testing.T) {
	src := strings.Replace(strings.Replace(gamesExp, "punishment: off}", "punishment: both}", 1), "replicates: 2", "replicates: 8", 1)
	old := games.SetStepWindow(3)
	defer games.SetStepWindow(old)
	var live, most, changes int
	games.OnLive(func(n int) { live, most, changes = n, max(most, n), changes+1 })
	defer games.OnLive(nil)
	runGamesExp(t, src, 4, nil)
	if changes != 2*48 {
		t.Errorf("%d changes of the live machines, want a start and a release for each of 48", changes)
	}
	if live != 0 || most > 2 {
		t.Errorf("live machines: %d at the end (want 0), at most %d at once (want at most 2 with a step of 3 decisions)", live, most)
	}
}

// A game scenario's template that fails only with the game's terms is the scenario file's
// problem, at its line, saying which game's terms: not the message of the experiment's field
// ("exp.yaml:7:5: field games[0]...: lib.yaml:5:9: ...").
func TestGamesRenderErrorInTheScenarioFile(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "lib.yaml")
	if err := os.WriteFile(lib, []byte(`- id: dictator_charity
  title: Dictator game, charity framing
  kind: game
  game: dictator
  text: You have {{.endowment}} tokens and may give {{div .endowment 0}} to a charity.
  question: How many tokens do you give?
  cost: Tokens given are not kept.
  response:
    fields:
      - {name: give, kind: amount, min: 0, max: 100, step: 1, description: tokens given}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "name: g3\nstudy: games\nseed: 1\npopulation: {source: sample, n: 6}\nscenario_files: [" + lib + "]\ngames:\n" +
		"  - {game: dictator, scenarios: {dictator: dictator_charity}}\n"
	_, err := engine.Prepare(load(t, src, 1), engine.Options{})
	want := lib + ":5:9: field [0].text: at <div .endowment 0>: error calling div: division by zero (rendered with the terms of games[0])"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
