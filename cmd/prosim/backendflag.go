package main

import (
	"fmt"

	"github.com/prosim/prosim/internal/experiment"
)

// parseBackendFlags turns repeated --backend SPEC flags into the experiment's backends. Two
// specs that would share a label are refused before anything runs, as two backends of an
// experiment file are: their decisions would share run ids.
func parseBackendFlags(specs []string) ([]experiment.Backend, error) {
	var out []experiment.Backend
	seen := map[string]string{}
	for _, s := range specs {
		b, err := experiment.ParseBackendSpec(s)
		if err != nil {
			return nil, err
		}
		l := b.LabelOrDefault()
		if first, ok := seen[l]; ok {
			return nil, fmt.Errorf("--backend %s and --backend %s are both labelled %q: results name a backend by its label, so give each its own in the experiment file (backends: with label:), or list one model's servers as its endpoints: to share the load", first, s, l)
		}
		seen[l] = s
		out = append(out, b)
	}
	return out, nil
}
