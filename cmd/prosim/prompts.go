package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/plural"
	"github.com/prosim/prosim/internal/termtable"
)

// maxShowPrompts bounds validate --show-prompts: each stratum keeps that many requests.
const maxShowPrompts = 1000

// writeShown prints the requests validate --show-prompts sampled, as the engine built them:
// the system text, the prompt and the response schema providers are given for structured
// output. Text from users' files goes through termtable.PlainLines.
func writeShown(out io.Writer, c engine.PromptCheck) error {
	if len(c.Shown) == 0 {
		return nil
	}
	of := fmt.Sprintf("the %s built", plural.Count(c.Built, "request"))
	if !c.All {
		of = fmt.Sprintf("the first %d requests built", c.Built)
	}
	fmt.Fprintf(out, "\n%d of %s, sampled with the experiment's seed %d: spread over the study's steps, conditions and scenarios, in the order the run builds them.\n",
		len(c.Shown), of, c.Seed)
	placeheld := false
	for i, x := range c.Shown {
		t := x.Task
		var who []string
		if len(t.Keys) > 0 {
			k := t.Keys[0]
			who = append(who, fmt.Sprintf("agent %d", k.AgentID))
			var scens []string
			for _, k := range t.Keys {
				scens = append(scens, k.Scenario)
			}
			who = append(who, "scenario "+strings.Join(scens, ", "))
			if k.Round > 0 {
				who = append(who, fmt.Sprintf("round %d", k.Round))
			}
			if k.Trial > 0 {
				who = append(who, fmt.Sprintf("trial %d", k.Trial))
			}
		}
		who = append(who, fmt.Sprintf("step %d", x.Step))
		if t.Cell != nil {
			who = append(who, fmt.Sprintf("cell %s (condition %s, policy %s, replicate %d, backend %s)",
				t.Cell.ID, t.Cell.Condition, t.Cell.Policy, t.Cell.Replicate, t.Cell.Backend))
		}
		fmt.Fprintf(out, "\n=== request %d of %d: %s\n", i+1, len(c.Shown), termtable.Plain(strings.Join(who, ", ")))
		if x.Placeheld {
			placeheld = true
			fmt.Fprintln(out, "(placeholder observations: the earlier steps were answered with placeholders, not decisions; what this prompt says of earlier answers, the agent's own or others', comes from those, not from a run)")
		}
		if s := sampling(t.Req.Sampling); s != "" {
			fmt.Fprintf(out, "sampling: %s\n", s)
		}
		if t.Req.System == "" && t.Req.Prompt == "" {
			fmt.Fprintln(out, "(no text: this run builds none for this decision, which its backend, the behavioural model, makes from the situation itself; an LLM backend's requests have their text)")
		} else {
			fmt.Fprintf(out, "--- system ---\n%s\n--- prompt ---\n%s\n", termtable.PlainLines(t.Req.System), termtable.PlainLines(t.Req.Prompt))
		}
		js, err := json.MarshalIndent(t.Req.Schema.JSONSchema(), "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "--- response schema (JSON Schema, for providers' structured output) ---\n%s\n", termtable.PlainLines(string(js)))
	}
	if placeheld && c.Placeholders != "" {
		fmt.Fprintf(out, "\nPlaceholders (as prosim estimate plays them): %s.\n", termtable.Plain(c.Placeholders))
	}
	return nil
}

// sampling is a request's sampling parameters, those set (none: the provider's defaults).
func sampling(s backend.Sampling) string {
	var parts []string
	if s.Temperature != nil {
		parts = append(parts, fmt.Sprintf("temperature %g", *s.Temperature))
	}
	if s.TopP != nil {
		parts = append(parts, fmt.Sprintf("top_p %g", *s.TopP))
	}
	if s.MaxTokens > 0 {
		parts = append(parts, fmt.Sprintf("max_tokens %d", s.MaxTokens))
	}
	return strings.Join(parts, ", ")
}
