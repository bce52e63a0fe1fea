package report

import "testing"

func TestDescribeBackendNamesEveryBehaviouralLabel(t *testing.T) {
	for label, want := range map[string]string{
		"builtin":          "builtin (behavioural model, not an LLM)",
		"builtin-strict":   "builtin-strict (behavioural model, not an LLM)",
		"builtin-baseline": "builtin-baseline (behavioural model computed alongside on the same agents and seeds, not an LLM)",
		"openai:gpt-4o":    "openai:gpt-4o",
		"builtinish":       "builtinish",
	} {
		if got := DescribeBackend(label); got != want {
			t.Errorf("DescribeBackend(%q) = %q, want %q", label, got, want)
		}
	}
}
