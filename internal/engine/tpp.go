package engine

import (
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/store"
)

const tppTrials = 60

// tppTrial is one trial of one agent's schedule, binary or graded.
type tppTrial struct {
	index  int
	params map[string]float64
}

// schedule is the agent's trial schedule. It depends on the replicate and the agent, not the
// condition or backend, so every condition and backend meets the same sequence.
func (r *Runner) tppSchedule(replicate, agent int) []tppTrial {
	seed := derive(*r.exp.Seed, "tpp-schedule", replicate, agent)
	var out []tppTrial
	if r.exp.TPP.Variant == "graded" {
		for _, t := range game.TPPGradedSchedule(seed) {
			out = append(out, tppTrial{t.Index, t.Params()})
		}
		return out
	}
	for _, t := range game.TPPSchedule(seed) {
		out = append(out, tppTrial{t.Index, t.Params()})
	}
	return out
}

func (r *Runner) tppScenario() (scenario.Scenario, error) {
	id := "tpp"
	if r.exp.TPP.Variant == "graded" {
		id = "tpp_graded"
	}
	sc, ok := r.scen.Get(id)
	if !ok {
		return sc, fmt.Errorf("scenario %q is missing from the library", id)
	}
	return sc, nil
}

// runTPP is Study 2. Trials are stateless by default: every trial is its own call. With
// history, trial t of every agent is asked after trial t-1 of every agent is recorded, and
// the prompt lists the agent's earlier trials as recorded.
func (r *Runner) runTPP(ctx context.Context) error {
	cells, total := r.tppCells()
	r.prog = newProgress(r.opt.Progress, total, r.exp.Name)
	if !r.exp.TPP.History {
		tasks, err := r.tppTasks()
		if err != nil {
			return err
		}
		return r.decide(ctx, tasks)
	}
	for step := 0; ; step++ {
		var tasks []task
		for _, c := range cells {
			if step < len(c.sched) {
				tk, err := r.tppTask(c, c.sched[step])
				if err != nil {
					return err
				}
				tasks = append(tasks, tk)
			}
		}
		if len(tasks) == 0 {
			return nil
		}
		if err := r.decide(ctx, tasks); err != nil {
			return err
		}
	}
}

// tppCell is one agent's schedule in one run.
type tppCell struct {
	run   *runInfo
	agent int // index into r.agents
	sched []tppTrial
}

func (r *Runner) tppCells() ([]tppCell, int) {
	var cells []tppCell
	total := 0
	for ri := range r.runs {
		for ai := range r.agents {
			s := r.tppSchedule(r.runs[ri].Replicate, r.agents[ai].ID)
			cells = append(cells, tppCell{&r.runs[ri], ai, s})
			total += len(s)
		}
	}
	return cells, total
}

// tppTasks lists every trial of every agent (history prompts are built as the run goes).
func (r *Runner) tppTasks() ([]task, error) {
	cells, _ := r.tppCells()
	var tasks []task
	for _, c := range cells {
		for _, t := range c.sched {
			tk, err := r.tppTask(c, t)
			if err != nil {
				return nil, err
			}
			tasks = append(tasks, tk)
		}
	}
	return tasks, nil
}

func (r *Runner) tppTask(c tppCell, t tppTrial) (task, error) {
	sc, err := r.tppScenario()
	if err != nil {
		return task{}, err
	}
	cur := r.exp.Population.Currency
	run, a := c.run, &r.agents[c.agent]
	policyText, err := run.frame.Text(sc.ID, cur)
	if err != nil {
		return task{}, err
	}
	prompt, err := scenario.Compose(sc, t.params, cur, policyText)
	if err != nil {
		return task{}, fmt.Errorf("scenario %s: %w", sc.ID, err)
	}
	if r.exp.TPP.History {
		prompt = r.tppHistory(run.ID, a.ID, c.sched, t.index, sc) + prompt
	}
	return task{
		keys:   []store.Key{{RunID: run.ID, AgentID: a.ID, Trial: t.index, Scenario: sc.ID}},
		params: []map[string]float64{t.params},
		run:    run,
		req: backend.Request{
			AgentID: a.ID, Persona: a, System: systemText(r.texts[c.agent]), Prompt: prompt, Schema: sc.Response,
			Situation: backend.Situation{Scenario: sc.ID, Kind: sc.Kind, Params: situationParams(sc, t.params), Policy: exposure(run.frame)},
			Sampling:  run.backend.sampling(), Replicate: run.Replicate,
			Seed: decisionSeed(*r.exp.Seed, run.Replicate, a.ID, 0, t.index, sc.ID),
		},
	}, nil
}

// tppHistory lists an agent's earlier trials as recorded, for the history option.
func (r *Runner) tppHistory(runID string, agent int, sched []tppTrial, upTo int, sc scenario.Scenario) string {
	var b strings.Builder
	for _, t := range sched {
		if t.index == upTo {
			break
		}
		d, ok := r.journal[store.Key{RunID: runID, AgentID: agent, Trial: t.index, Scenario: sc.ID}]
		if !ok {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("Your earlier rounds in this task:\n")
		}
		fmt.Fprintf(&b, "- Round %d: %s\n", t.index, describeTrial(sc, t.params, d.Reply))
	}
	if b.Len() > 0 {
		b.WriteString("\nNow a new round.\n\n")
	}
	return b.String()
}

func describeTrial(sc scenario.Scenario, params map[string]float64, rep backend.Reply) string {
	var what string
	if sc.ID == "tpp_graded" {
		what = fmt.Sprintf("Player 1 transferred %s", formatNum(params["transfer"]))
		if rep.Valid() {
			what += fmt.Sprintf("; you assigned %s punishment points", formatNum(rep.Values["points"]))
		}
	} else {
		what = fmt.Sprintf("Player 2 received %s of %s and punishing cost %s", formatNum(params["x"]), formatNum(params["pie"]), formatNum(params["y"]))
		if rep.Valid() {
			if rep.Values["choice"] == 1 {
				what += "; you punished"
			} else {
				what += "; you accepted"
			}
		}
	}
	if !rep.Valid() {
		what += "; your answer was not usable"
	}
	return what
}

// TPPTrialColumns is the header of results/tpp_trials.csv (binary variant).
var TPPTrialColumns = []string{"run_id", "condition", "replicate", "agent_id", "trial", "x", "y", "punish",
	"valence_before", "arousal_before", "valence_after", "arousal_after", "valid", "invalid_reason"}

// TPPGradedColumns is the header of results/tpp_trials.csv for the graded variant.
var TPPGradedColumns = []string{"run_id", "condition", "replicate", "agent_id", "trial", "transfer", "points", "valid", "invalid_reason"}

func (r *Runner) writeTPPTrials(w *csv.Writer) error {
	runs := map[string]store.Run{}
	for _, ri := range r.runs {
		runs[ri.ID] = ri.Run
	}
	graded := r.exp.TPP.Variant == "graded"
	header, fields := TPPTrialColumns, []string{"choice", "valence_before", "arousal_before", "valence_after", "arousal_after"}
	if graded {
		header, fields = TPPGradedColumns, []string{"points"}
	}
	if err := w.Write(header); err != nil {
		return err
	}
	return r.st.Decisions(func(d store.Decision) error {
		run := runs[d.RunID]
		rec := []string{d.RunID, run.Condition, strconv.Itoa(run.Replicate), strconv.Itoa(d.AgentID), strconv.Itoa(d.Trial)}
		if graded {
			rec = append(rec, formatNum(d.Params["transfer"]))
		} else {
			rec = append(rec, formatNum(d.Params["x"]), formatNum(d.Params["y"]))
		}
		for _, f := range fields {
			v := ""
			if d.Reply.Valid() {
				v = formatNum(d.Reply.Values[f])
			}
			rec = append(rec, v)
		}
		rec = append(rec, b01(d.Reply.Valid()), oneLine(d.Reply.Invalid))
		return w.Write(rec)
	})
}
