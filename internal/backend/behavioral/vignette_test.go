package behavioral

import (
	"context"
	"errors"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/situation"
)

// studyVignettes are the suggested model: blocks of the six Study 1 scenarios (package doc).
var studyVignettes = []struct {
	id                             string
	base, cost, money, visib, need float64
}{
	{"volunteering", 4.2, .6, 0, .6, .5},
	{"helping", 4.6, .4, 0, .3, .6},
	{"donating", 4.3, .5, 1, .3, .8},
	{"cooperation", 5.0, .4, 0, .4, .6},
	{"recycling", 5.2, .2, 0, .4, .2},
	{"sharing", 4.0, .5, 0, .2, .4},
}

// studyPolicies are the four Study 1 frames with their amounts (stipend 100 yuan, fine 1000).
var studyPolicies = []situation.PolicyExposure{
	{ID: "moral", Channel: "moral", Strength: 1},
	{ID: "social", Channel: "social", Strength: 1},
	{ID: "enforce", Channel: "enforce", Strength: 1, Amount: 1000},
	{ID: "economic", Channel: "economic", Strength: 1, Amount: 100},
}

func vignette(i int, pol situation.PolicyExposure) situation.Situation {
	v := studyVignettes[i]
	return situation.Situation{Scenario: v.id, Kind: "vignette", Policy: pol,
		Params: map[string]float64{"base": v.base, "cost": v.cost, "money": v.money, "visibility": v.visib, "need": v.need}}
}

var willSchema = scenario.Schema{Fields: []scenario.Field{likert7}}

// TestVignettePolicies checks, on 2,000 reference personas, that the mean willingness with no
// policy is near each scenario's base, and the documented direction of every policy effect,
// including the sign reversals for high-reactance (enforce) and highly altruistic (economic)
// agents. Seeds are shared across conditions (common random numbers).
func TestVignettePolicies(t *testing.T) {
	m := New()
	pop := testPopulation(2000, 11)
	ps := popParams(pop)
	hiReact := topDecile(ps, func(p *params) float64 { return p.react })
	hiAlt := topDecile(ps, func(p *params) float64 { return p.alt })
	t.Logf("%-13s %5s %6s | %7s %7s %7s %7s | enforce(high react) economic(high alt)", "scenario", "base", "none", "moral", "social", "enforce", "economic")
	for i, v := range studyVignettes {
		mean := func(pol situation.PolicyExposure) (all, react, alt float64) {
			var nr, na float64
			for k, p := range pop {
				w := decide(t, m, p, vignette(i, pol), willSchema, uint64(k+1))["willingness"]
				all += w
				if hiReact[k] {
					react += w
					nr++
				}
				if hiAlt[k] {
					alt += w
					na++
				}
			}
			return all / float64(len(pop)), react / nr, alt / na
		}
		none, noneR, noneA := mean(situation.PolicyExposure{ID: "none", Channel: "none"})
		if math.Abs(none-v.base) > 0.3 {
			t.Errorf("%s: mean with no policy %.2f, base %.2f", v.id, none, v.base)
		}
		var eff [4]float64
		var enfR, ecoA float64
		for j, pol := range studyPolicies {
			all, r, a := mean(pol)
			eff[j] = all - none
			if pol.Channel == "enforce" {
				enfR = r - noneR
			}
			if pol.Channel == "economic" {
				ecoA = a - noneA
			}
		}
		t.Logf("%-13s %5.1f %6.2f | %+7.2f %+7.2f %+7.2f %+7.2f | %+7.2f %+7.2f", v.id, v.base, none, eff[0], eff[1], eff[2], eff[3], enfR, ecoA)
		for j, pol := range studyPolicies {
			if eff[j] <= 0.02 {
				t.Errorf("%s: %s effect %+.3f, documented as positive", v.id, pol.Channel, eff[j])
			}
		}
		if eff[3] > 0.35 {
			t.Errorf("%s: economic effect %+.2f, documented as small", v.id, eff[3])
		}
		if enfR >= 0 {
			t.Errorf("%s: enforce effect among high-reactance agents %+.2f, documented as negative", v.id, enfR)
		}
		if ecoA >= 0 {
			t.Errorf("%s: economic effect among highly altruistic agents %+.2f, documented as negative (crowding-out)", v.id, ecoA)
		}
	}
}

func topDecile(ps []params, f func(*params) float64) []bool {
	v := make([]float64, len(ps))
	for i := range ps {
		v[i] = f(&ps[i])
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	cut := s[len(s)*9/10]
	out := make([]bool, len(ps))
	for i := range v {
		out[i] = v[i] >= cut
	}
	return out
}

// TestLowIncomeMoneyCost: a money-costly act (donating) is less attractive to low incomes,
// and a stipend moves low incomes more than high incomes.
func TestLowIncomeMoneyCost(t *testing.T) {
	m := New()
	pop := testPopulation(2000, 12)
	var lo, hi, loE, hiE, n float64
	for k, p := range pop {
		w := decide(t, m, p, vignette(2, situation.PolicyExposure{Channel: "none"}), willSchema, uint64(k+1))["willingness"]
		we := decide(t, m, p, vignette(2, studyPolicies[3]), willSchema, uint64(k+1))["willingness"]
		switch p.IncomeQuintile {
		case 1:
			lo += w
			loE += we - w
			n++
		case 5:
			hi += w
			hiE += we - w
		}
	}
	t.Logf("donating: Q1 %.2f Q5 %.2f; stipend effect Q1 %+.2f Q5 %+.2f", lo/n, hi/n, loE/n, hiE/n)
	if lo >= hi || loE <= hiE {
		t.Errorf("income: Q1 %.2f vs Q5 %.2f; stipend effect Q1 %+.2f vs Q5 %+.2f", lo/n, hi/n, loE/n, hiE/n)
	}
}

var study3Schema = scenario.Schema{Fields: []scenario.Field{likert7, unfair7}}

// s3run simulates agents for rounds 1..R under the stipend policy; treated(round) and
// exposed(round) say whether the agent is treated unfairly / observes one unfair neighbour.
func s3run(t *testing.T, m *Model, pop []*personaT, rounds int, treated, exposed func(int) bool, seedBase uint64) (w, u []float64) {
	w = make([]float64, rounds)
	u = make([]float64, rounds)
	for k, p := range pop {
		var pw, pu float64
		for r := 1; r <= rounds; r++ {
			sit := vignette(0, studyPolicies[3])
			sit.Social = situation.Social{Round: r, PrevWillingness: pw, PrevUnfairness: pu, TreatedUnfairly: treated(r)}
			if exposed(r) {
				sit.Social.Observed, sit.Social.UnfairObserved, sit.Social.MeanObserved = 3, 1, 4.2
			}
			v := decide(t, m, p, sit, study3Schema, seedBase+uint64(k*1000+r))
			pw, pu = v["willingness"], v["unfairness"]
			w[r-1] += pw / float64(len(pop))
			u[r-1] += pu / float64(len(pop))
		}
	}
	return
}

func TestStudy3Dynamics(t *testing.T) {
	m := New()
	pop := testPopulation(1000, 13)
	never := func(int) bool { return false }
	fromDay2 := func(r int) bool { return r >= 2 }
	const R = 30
	cw, cu := s3run(t, m, pop, R, never, never, 1)
	vw, vu := s3run(t, m, pop, R, fromDay2, never, 1)
	ew, eu := s3run(t, m, pop, R, never, fromDay2, 1)
	for _, r := range []int{1, 2, 3, 5, 10, 20, 30} {
		t.Logf("round %2d  willingness control %.2f victim %.2f exposed %.2f | unfairness control %.2f victim %.2f exposed %.2f",
			r, cw[r-1], vw[r-1], ew[r-1], cu[r-1], vu[r-1], eu[r-1])
	}
	late := func(x []float64) float64 { return mean(x[9:]) }
	if d := late(cw) - late(vw); d < 0.5 {
		t.Errorf("victims' willingness should fall: control %.2f victim %.2f", late(cw), late(vw))
	}
	if d := late(vu) - late(cu); d < 1.5 {
		t.Errorf("victims' unfairness should rise: control %.2f victim %.2f", late(cu), late(vu))
	}
	if !(late(ew) < late(cw)-0.1 && late(ew) > late(vw)) {
		t.Errorf("an exposed neighbour should move less than a victim: willingness control %.2f exposed %.2f victim %.2f", late(cw), late(ew), late(vw))
	}
	if !(late(eu) > late(cu)+0.3 && late(eu) < late(vu)) {
		t.Errorf("an exposed neighbour's unfairness should rise less than a victim's: control %.2f exposed %.2f victim %.2f", late(cu), late(eu), late(vu))
	}
	// victims' change is immediate and persists
	if vw[1] > cw[1]-0.3 {
		t.Errorf("victims' willingness should drop on the first day of unfair treatment: %.2f vs %.2f", vw[1], cw[1])
	}
	// no exposure, no drift
	if math.Abs(late(cw)-cw[0]) > 0.12 || math.Abs(late(cu)-cu[0]) > 0.12 {
		t.Errorf("drift without exposure: willingness %.2f -> %.2f, unfairness %.2f -> %.2f", cw[0], late(cw), cu[0], late(cu))
	}
}

// TestStudy3Persistence: unfairness stays elevated after a single day of unfair treatment.
func TestStudy3Persistence(t *testing.T) {
	m := New()
	pop := testPopulation(1000, 14)
	never := func(int) bool { return false }
	once := func(r int) bool { return r == 2 }
	cw, cu := s3run(t, m, pop, 8, never, never, 9)
	_, vu := s3run(t, m, pop, 8, once, never, 9)
	t.Logf("unfairness after one unfair day: control %.2f; day2 %.2f day3 %.2f day5 %.2f day8 %.2f (willingness control %.2f)", cu[7], vu[1], vu[2], vu[4], vu[7], cw[7])
	if !(vu[2] > cu[2]+0.8 && vu[4] > cu[4]+0.3 && vu[2] < vu[1]) {
		t.Errorf("unfairness should persist and decay slowly: day2 %.2f day3 %.2f day5 %.2f control %.2f", vu[1], vu[2], vu[4], cu[4])
	}
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func TestDeterministicAndLabelled(t *testing.T) {
	m := New()
	p := testPopulation(1, 1)[0]
	req := request(p, game("tpp", 11, 3), tppSchema, 42)
	a, err := m.Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := m.Decide(context.Background(), req)
	if a.Raw != b.Raw {
		t.Fatalf("same request, different replies: %s vs %s", a.Raw, b.Raw)
	}
	if a.Provider != "builtin" || a.Model != Version || a.Calls != 0 || a.Cached || a.InputTokens != 0 || a.OutputTokens != 0 {
		t.Errorf("labels: %+v", a)
	}
	if err := tppSchema.Validate(a.Values); err != nil {
		t.Error(err)
	}
	t.Logf("raw: %s", a.Raw)
	if !strings.HasPrefix(a.Raw, `{"valence_before":`) {
		t.Errorf("raw not in schema order: %s", a.Raw)
	}
	// different seeds give different replicates
	seen := map[string]bool{}
	for s := uint64(0); s < 50; s++ {
		req.Seed = s
		r, _ := m.Decide(context.Background(), req)
		seen[r.Raw] = true
	}
	if len(seen) < 5 {
		t.Errorf("only %d distinct replies over 50 seeds", len(seen))
	}
}

func TestUnsupported(t *testing.T) {
	m := New()
	p := testPopulation(1, 1)[0]
	cases := []backend.Request{
		request(p, situation.Situation{Scenario: "chess", Kind: "game"}, amountSchema("move", 10), 0),
		request(p, situation.Situation{Scenario: "x", Kind: "essay"}, willSchema, 0),
		request(p, vignette(0, situation.PolicyExposure{}), scenario.Schema{Fields: []scenario.Field{{Name: "trust", Kind: scenario.Likert, Min: 1, Max: 7}}}, 0),
		request(p, situation.Situation{Scenario: "v", Kind: "vignette"}, willSchema, 0), // no base
		request(p, vignette(0, situation.PolicyExposure{Channel: "nudge"}), willSchema, 0),
		request(p, game("dictator", 10), amountSchema("keep", 10), 0),
		request(p, game("dictator"), amountSchema("give", 10), 0),
		request(p, game("tpp", 10, 2), choiceSchema("yes", "no"), 0),
		request(p, game("dictator", 10), scenario.Schema{Fields: []scenario.Field{{Name: "give", Kind: scenario.Likert, Min: 1, Max: 7}}}, 0),
		request(nil, game("dictator", 10), amountSchema("give", 10), 0),
	}
	for i, req := range cases {
		_, err := m.Decide(context.Background(), req)
		if err == nil {
			t.Errorf("case %d (%s): no error", i, req.Structured.(*situation.Situation).Scenario)
			continue
		}
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("case %d: error %v does not wrap ErrUnsupported", i, err)
		}
		t.Logf("case %d: %v", i, err)
	}
}

// TestStructured: the structured description may be a *situation.Situation or a
// situation.Situation; none at all is an error; any other type is an invalid reply, never a panic.
func TestStructured(t *testing.T) {
	m := New()
	ctx := context.Background()
	req := request(testPopulation(1, 1)[0], game("dictator", 10), amountSchema("give", 10), 7)
	want, err := m.Decide(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	byValue := req
	byValue.Structured = *req.Structured.(*situation.Situation)
	if got, err := m.Decide(ctx, byValue); err != nil || got.Raw != want.Raw {
		t.Errorf("by value: %+v, %v; want %s", got, err, want.Raw)
	}
	for _, s := range []any{nil, (*situation.Situation)(nil)} {
		req.Structured = s
		if _, err := m.Decide(ctx, req); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Structured %#v: error %v, want ErrUnsupported", s, err)
		}
	}
	req.Structured = "a persona in text"
	got, err := m.Decide(ctx, req)
	if err != nil || got.Valid() || !strings.Contains(got.Invalid, "string") || got.Provider != Provider {
		t.Errorf("Structured string: %+v, %v; want an invalid reply naming the type", got, err)
	}
	t.Logf("invalid: %s", got.Invalid)
}

// TestChoiceByName: the punish option is found by name, whatever its position.
func TestChoiceByName(t *testing.T) {
	m := New()
	pop := testPopulation(300, 3)
	s := scenario.Schema{Fields: []scenario.Field{{Name: "choice", Kind: scenario.Choice, Options: []string{"punish", "accept"}}}}
	var pun float64
	for k, p := range pop {
		v := decide(t, m, p, game("tpp", 10, 0), s, uint64(k))
		if v["choice"] == 0 {
			pun++
		}
	}
	if r := pun / 300; r < .5 {
		t.Errorf("with options reversed, punishment at x=10,y=0 is %.2f", r)
	}
}

// TestRatingProbs checks the recurrence against the direct formula.
func TestRatingProbs(t *testing.T) {
	for _, tc := range []struct{ t, s float64 }{{4.2, 1.05}, {0.3, 0.8}, {7.9, 1.3}, {2.5, 0.5}, {-3, 1}} {
		var p [7]float64
		m := ratingProbs(tc.t, tc.s, 1, 7, p[:])
		var w [7]float64
		var sum, mean float64
		for k := 0; k < 7; k++ {
			d := float64(k+1) - tc.t
			w[k] = math.Exp(-d * d / (2 * tc.s * tc.s))
			sum += w[k]
			mean += w[k] * float64(k+1)
		}
		for k := range w {
			if math.Abs(w[k]/sum-p[k]) > 1e-9 {
				t.Errorf("t=%g: p[%d] %g, want %g", tc.t, k, p[k], w[k]/sum)
			}
		}
		if math.Abs(m-mean/sum) > 1e-9 {
			t.Errorf("t=%g: mean %g, want %g", tc.t, m, mean/sum)
		}
	}
}
