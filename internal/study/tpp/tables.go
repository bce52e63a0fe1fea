package tpp

import (
	"fmt"

	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/table"
)

var trialHead = []table.Column{
	{Name: "run_id", Type: table.String, Doc: experiment.RunIDDoc},
	{Name: "condition", Type: table.String, Doc: "condition name"},
	{Name: "replicate", Type: table.Int, Doc: "replicate, from 1"},
	{Name: "agent_id", Type: table.Int, Doc: "agent id of the population"},
	{Name: "trial", Type: table.Int, Doc: "trial, from 1, in the order asked"},
}

var trialTail = []table.Column{
	{Name: "valid", Type: table.Bool, Doc: "1 when the reply fitted the schema"},
	{Name: "invalid_reason", Type: table.String, Doc: "why the reply was recorded invalid"},
	study.ModelVersionColumn,
}

// factorsDoc says what the trials tables add with factors: (DecisionTables).
var factorsDoc = study.FactorColumnsDoc(design.Factors)

func cols(parts ...[]table.Column) []table.Column {
	var out []table.Column
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TrialsSchema declares results/tpp_trials.csv of the binary variant: one row per trial.
var TrialsSchema = table.Schema{Name: "tpp_trials", Doc: "Study 2 (binary): one row per third-party punishment trial" + factorsDoc, Columns: cols(trialHead, []table.Column{
	{Name: "x", Type: table.Int, Doc: "Player 2's share of $30 ($; 15 is the fair split)"},
	{Name: "y", Type: table.Int, Doc: "cost of punishing ($ of the agent's $10)"},
	{Name: "punish", Type: table.Float, Doc: "1 punished, 0 accepted; empty when the reply is invalid"},
	{Name: "valence_before", Type: table.Float, Doc: "valence before choosing (-4..4); on the behavioural model (builtin) an input, not a finding: the human curve by x (behavioral/tpp.go humanValence), so its agreement with human valence is by construction"},
	{Name: "arousal_before", Type: table.Float, Doc: "arousal before choosing (1..9)"},
	{Name: "valence_after", Type: table.Float, Doc: "valence after choosing (-4..4)"},
	{Name: "arousal_after", Type: table.Float, Doc: "arousal after choosing (1..9)"},
}, trialTail)}

// GradedTrialsSchema declares results/tpp_trials.csv of the graded variant.
var GradedTrialsSchema = table.Schema{Name: "tpp_trials", Doc: "Study 2 (graded): one row per transfer an agent judged" + factorsDoc, Columns: cols(trialHead, []table.Column{
	{Name: "transfer", Type: table.Int, Doc: "the dictator's transfer to the recipient (MU of 100)"},
	{Name: "points", Type: table.Float, Doc: "punishment points assigned (each costs 1 MU and removes 3); empty when invalid"},
}, trialTail)}

// RatesSchema declares results/tpp_rates.csv: the punishment rates of the summary and the
// report, with the human reference.
var RatesSchema = table.Schema{Name: "tpp_rates", Doc: "Study 2 (binary): punishment rate by (x, y), by x and by y, per backend x condition", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "condition", Type: table.String, Doc: "condition name"},
	{Name: "by", Type: table.String, Doc: "cell: one (x, y); x: all costs pooled; y: unfair offers (x < 15) pooled"},
	{Name: "x", Type: table.Int, Doc: "Player 2's share ($); empty when pooled over x"},
	{Name: "y", Type: table.Int, Doc: "cost of punishing ($); empty when pooled over y"},
	{Name: "estimand", Type: table.String, Doc: "share of valid trials punished (agent-replicates pooled)"},
	{Name: "trials", Type: table.Int, Doc: "valid trials"},
	{Name: "punished", Type: table.Int, Doc: "trials punished"},
	{Name: "rate", Type: table.Float, Doc: "punished / trials; empty without trials"},
	{Name: "ci_low", Type: table.Float, Doc: "95% CI over agents (ci_method), lower bound"},
	{Name: "ci_high", Type: table.Float, Doc: "upper bound"},
	{Name: "ci_method", Type: table.String, Doc: "how the interval is computed: " + ciBootAgents + " (2000 resamples of agents with replacement, each with its valid trials of every replicate, the rate pooled over the resampled trials; seeded by the experiment seed and the row; type-7 quantiles at Hesterberg's expanded level for the number of agents), or " + ciWilsonAgents + " when each agent gave one trial, or at a rate of 0 or 1 (then with the agents as the sample size: an agent's trials are correlated, so Wilson over trials is too narrow); a cell's agents gave one trial each per replicate, so with one replicate its interval is Wilson over agents; empty without an interval"},
	{Name: "human", Type: table.Float, Doc: "rate of 1,017 human adults (human_tpp reference; by x for x < 15 and by y only)"},
}}

const rateEstimand = "share of valid trials punished"

func (r *results) ratesTable() *table.Table {
	return &table.Table{Schema: RatesSchema, Rows: func(emit func([]any) error) error {
		for _, g := range r.Groups {
			for x := game.TPPMinX; x <= game.TPPMaxX; x++ {
				for y := game.TPPMinY; y <= game.TPPMaxY; y++ {
					rt := g.Cells[x-game.TPPMinX][y-game.TPPMinY]
					if err := emit([]any{g.Backend, g.Condition, "cell", x, y, rateEstimand, rt.Trials, rt.Punished, rt.Rate, rt.Lo, rt.Hi, rt.Method, nil}); err != nil {
						return err
					}
				}
			}
			for x := game.TPPMinX; x <= game.TPPMaxX; x++ {
				rt := g.ByX[x-game.TPPMinX]
				var h any
				if v, ok := game.HumanTPP.RateByX[x]; ok {
					h = v
				}
				if err := emit([]any{g.Backend, g.Condition, "x", x, nil, rateEstimand, rt.Trials, rt.Punished, rt.Rate, rt.Lo, rt.Hi, rt.Method, h}); err != nil {
					return err
				}
			}
			for y := game.TPPMinY; y <= game.TPPMaxY; y++ {
				rt := g.ByY[y-game.TPPMinY]
				if err := emit([]any{g.Backend, g.Condition, "y", nil, y, rateEstimand, rt.Trials, rt.Punished, rt.Rate, rt.Lo, rt.Hi, rt.Method, game.HumanTPP.RateByY[y]}); err != nil {
					return err
				}
			}
		}
		return nil
	}}
}

// LogitSchema declares results/tpp_logit.csv.
var LogitSchema = table.Schema{Name: "tpp_logit", Doc: "Study 2 (binary): logistic regression punish ~ inequity (15 - x) + cost (y), SEs clustered by agent", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "condition", Type: table.String, Doc: "condition name"},
	{Name: "term", Type: table.String, Doc: "(Intercept), inequity ($ below an equal split) or cost ($)"},
	{Name: "estimand", Type: table.String, Doc: "what coef estimates, in the model fitted to the valid trials of every agent-replicate pooled: (Intercept), " + logitEstimands["(Intercept)"] + "; inequity, " + logitEstimands["inequity"] + "; cost, " + logitEstimands["cost"] + "; empty when not fitted"},
	{Name: "coef", Type: table.Float, Doc: "coefficient on the log-odds scale: inequity, the change in the log-odds of punishing per $1 that Player 2 gets below $15 (x one lower); cost, per $1 of y; (Intercept), the log-odds at an equal split (x = 15) and no cost (y = 0); exp(coef) is the odds ratio"},
	{Name: "se", Type: table.Float, Doc: "standard error clustered by agent"},
	{Name: "z", Type: table.Float, Doc: "z statistic"},
	{Name: "p", Type: table.Float, Doc: "two-sided p value (normal); below 1e-4 written with an exponent, e.g. 9.57e-101"},
	{Name: "ci_low", Type: table.Float, Doc: "95% CI, lower bound"},
	{Name: "ci_high", Type: table.Float, Doc: "upper bound"},
	{Name: "trials", Type: table.Int, Doc: "valid trials in the fit"},
	{Name: "agents", Type: table.Int, Doc: "clusters (agents)"},
	{Name: "note", Type: table.String, Doc: "why the model was not fitted, when it was not"},
}}

// logitEstimands say what each term's coefficient in tpp_logit.csv estimates.
var logitEstimands = map[string]string{
	"(Intercept)": "log-odds of punishing at an equal split (x = 15) and no cost (y = 0)",
	"inequity":    "change in the log-odds of punishing per $1 Player 2 gets below $15, at a given cost",
	"cost":        "change in the log-odds of punishing per $1 of cost y, at a given inequity",
}

func (r *results) logitTable() *table.Table {
	return &table.Table{Schema: LogitSchema, Rows: func(emit func([]any) error) error {
		for _, g := range r.Groups {
			if g.Logit == nil {
				note := "not fitted"
				if g.FitErr != nil {
					note += ": " + g.FitErr.Error()
				}
				if err := emit([]any{g.Backend, g.Condition, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, note}); err != nil {
					return err
				}
				continue
			}
			l := g.Logit
			for i, name := range l.Names {
				est, ok := logitEstimands[name]
				if !ok {
					return fmt.Errorf("tpp_logit: term %q has no estimand", name)
				}
				if err := emit([]any{g.Backend, g.Condition, name, est, l.Coef[i], l.SE[i], l.Z[i], l.P[i], l.CILow[i], l.CIHigh[i], l.N, l.NClusters, ""}); err != nil {
					return err
				}
			}
		}
		return nil
	}}
}

// MeansSchema declares results/tpp_participant_means.csv.
var MeansSchema = table.Schema{Name: "tpp_participant_means", Doc: "Study 2 (binary): participant-level mean punishment rates, as the published groups report them", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "condition", Type: table.String, Doc: "condition name"},
	{Name: "estimand", Type: table.String, Doc: "mean over agent-replicates of each one's punishment rate in the cell"},
	{Name: "unfair_low", Type: table.Float, Doc: "x < 15, cost y 0-4"},
	{Name: "unfair_high", Type: table.Float, Doc: "x < 15, cost y 5-9"},
	{Name: "fair_low", Type: table.Float, Doc: "x = 15, cost y 0-4"},
	{Name: "fair_high", Type: table.Float, Doc: "x = 15, cost y 5-9"},
	{Name: "participants", Type: table.Int, Doc: "agent-replicates with a valid trial"},
}}

func (r *results) meansTable() *table.Table {
	return &table.Table{Schema: MeansSchema, Rows: func(emit func([]any) error) error {
		for _, g := range r.Groups {
			m := g.Means
			if err := emit([]any{g.Backend, g.Condition, "mean over agent-replicates of each one's rate", m.UnfairLow, m.UnfairHigh, m.FairLow, m.FairHigh, m.N}); err != nil {
				return err
			}
		}
		return nil
	}}
}

// GradedSchema declares results/tpp_graded_means.csv.
var GradedSchema = table.Schema{Name: "tpp_graded_means", Doc: "Study 2 (graded): punishment points by transfer, per backend x condition, with the human reference", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "condition", Type: table.String, Doc: "condition name"},
	{Name: "transfer", Type: table.Int, Doc: "the dictator's transfer (MU of 100)"},
	{Name: "mean_points", Type: table.Float, Doc: "mean over valid decisions (agent-replicates pooled), as the summary prints it"},
	{Name: "decisions", Type: table.Int, Doc: "valid decisions"},
	{Name: "agent_mean", Type: table.Float, Doc: "mean of agent means (replicates averaged within agent first), as the report draws it"},
	{Name: "ci_low", Type: table.Float, Doc: "95% CI of agent_mean over agents (ci_method), lower bound; within 0-50, unlike a t interval; empty with fewer than 2 agents"},
	{Name: "ci_high", Type: table.Float, Doc: "upper bound"},
	{Name: "ci_method", Type: table.String, Doc: "how the interval is computed: " + ciBootAgents + " (2000 resamples of agents with replacement, each with its replicates' mean, seeded by the experiment seed and the row; type-7 quantiles at Hesterberg's expanded level for the number of agents); empty without an interval"},
	{Name: "agents", Type: table.Int, Doc: "agents with a valid decision"},
	{Name: "human", Type: table.Float, Doc: "Fehr & Fischbacher 2004: 0.28 x (50 - transfer)"},
}}

func (r *results) gradedTable() *table.Table {
	return &table.Table{Schema: GradedSchema, Rows: func(emit func([]any) error) error {
		for _, g := range r.Graded {
			for _, t := range g.Transfers {
				if err := emit([]any{g.Backend, g.Condition, t.Transfer, t.MeanPoints, t.Decisions, t.AgentMean, t.Lo, t.Hi, t.Method, t.Agents, t.Human}); err != nil {
					return err
				}
			}
		}
		return nil
	}}
}

// PunishersSchema declares results/tpp_graded_punishers.csv.
var PunishersSchema = table.Schema{Name: "tpp_graded_punishers", Doc: "Study 2 (graded): agents who punish some transfer below half", Columns: []table.Column{
	{Name: "backend", Type: table.String, Doc: "backend label"},
	{Name: "condition", Type: table.String, Doc: "condition name"},
	{Name: "agents", Type: table.Int, Doc: "agents with a valid decision on a transfer below 50"},
	{Name: "punishers", Type: table.Int, Doc: "of them, agents who assigned points to some transfer below 50 (in any replicate)"},
	{Name: "share", Type: table.Float, Doc: "punishers / agents; empty without agents"},
	{Name: "rmse", Type: table.Float, Doc: "RMSE of mean_points (tpp_graded_means) against the human reference, over transfers with decisions"},
	{Name: "human_share", Type: table.Float, Doc: "share of human third parties who punish (about 0.60)"},
}}

func (r *results) punishersTable() *table.Table {
	return &table.Table{Schema: PunishersSchema, Rows: func(emit func([]any) error) error {
		for _, g := range r.Graded {
			if err := emit([]any{g.Backend, g.Condition, g.Agents, g.Punishers, g.Share(), g.RMSE, game.HumanGraded.ShareWhoPunish}); err != nil {
				return err
			}
		}
		return nil
	}}
}
