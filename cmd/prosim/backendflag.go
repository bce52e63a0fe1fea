package main

import "github.com/prosim/prosim/internal/experiment"

// parseBackendFlags turns repeated --backend SPEC flags into the experiment's backends.
func parseBackendFlags(specs []string) ([]experiment.Backend, error) {
	var out []experiment.Backend
	for _, s := range specs {
		b, err := experiment.ParseBackendSpec(s)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
