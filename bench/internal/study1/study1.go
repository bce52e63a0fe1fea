// Package study1 writes the Study 1 experiment the bench programs measure: a sampled
// population deciding the six vignettes under the five policy conditions, seed 7.
package study1

import "fmt"

// Scenarios and Conditions are the design's sizes: an agent makes Scenarios x Conditions
// decisions a replicate.
const Scenarios, Conditions = 6, 5

// Agents is how many agents make about n decisions (at least n) over reps replicates.
func Agents(n, reps int) int {
	per := Scenarios * Conditions * reps
	return max(1, (n+per-1)/per)
}

// YAML is the experiment file named name: reps replicates of agents agents at concurrency,
// then the top-level lines extra (e.g. "execution: {mode: batch}\n", or ""), then backends,
// the backends: list's entries ("  - {provider: builtin}").
func YAML(name string, reps, concurrency, agents int, extra, backends string) string {
	return fmt.Sprintf(`name: %s
study: vignettes
seed: 7
replicates: %d
concurrency: %d
population: {source: sample, n: %d}
scenarios: [volunteering, helping, donating, cooperation, recycling, sharing]
conditions:
  - {name: none, policy: none}
  - {name: moral, policy: moral}
  - {name: social, policy: social}
  - {name: enforce, policy: enforce}
  - {name: economic, policy: economic}
%sbackends:
%s
`, name, reps, concurrency, agents, extra, backends)
}
