package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/prosim/prosim/internal/store"
)

// VersionCount is how many of a backend's recorded decisions one model version answered,
// by fresh provider calls and from the reply cache.
type VersionCount struct {
	Backend string
	// Version is the snapshot the provider said answered; "" when none was reported (and for
	// runs recorded before prosim recorded versions).
	Version       string
	Fresh, Cached int
}

// ModelVersions counts r's decisions by backend and model version, backends in design order
// and versions sorted.
func ModelVersions(r *Run) []VersionCount {
	return orderVersions(backendsOf(r), r.tally().versions)
}

// CountVersions counts decisions by the backend of their run and their model version.
func CountVersions(backends []string, runs []store.Run, ds []store.Decision) []VersionCount {
	backendOf := map[string]string{}
	for _, x := range runs {
		backendOf[x.ID] = x.Backend
	}
	n := map[[2]string]*VersionCount{}
	for _, d := range ds {
		k := [2]string{backendOf[d.RunID], d.Reply.ModelVersion}
		c := n[k]
		if c == nil {
			c = &VersionCount{Backend: k[0], Version: k[1]}
			n[k] = c
		}
		if d.Reply.Cached {
			c.Cached++
		} else {
			c.Fresh++
		}
	}
	return orderVersions(backends, n)
}

// orderVersions lists version counts with backends in design order and versions sorted.
func orderVersions(backends []string, n map[[2]string]*VersionCount) []VersionCount {
	var out []VersionCount
	for _, b := range backends {
		var vs []VersionCount
		for k, c := range n {
			if k[0] == b {
				vs = append(vs, *c)
			}
		}
		slices.SortFunc(vs, func(a, b VersionCount) int { return strings.Compare(a.Version, b.Version) })
		out = append(out, vs...)
	}
	return out
}

// VersionWarnings says, per backend, when one run mixes model versions (results keyed by a
// model name then pool several snapshots), and when cached replies came from versions that
// none of the run's fresh calls reported (the cache replays an older snapshot). Decisions
// without a reported version are left out of both.
func VersionWarnings(vs []VersionCount) []string {
	var out []string
	for _, b := range backendOrder(vs) {
		var all, fresh, stale []string
		staleN := 0
		for _, c := range vs {
			if c.Backend != b || c.Version == "" {
				continue
			}
			all = append(all, c.Version)
			if c.Fresh > 0 {
				fresh = append(fresh, c.Version)
			}
		}
		for _, c := range vs {
			if c.Backend == b && c.Version != "" && c.Cached > 0 && len(fresh) > 0 && !slices.Contains(fresh, c.Version) {
				stale = append(stale, c.Version)
				staleN += c.Cached
			}
		}
		if len(all) > 1 {
			out = append(out, fmt.Sprintf("backend %s: this run mixes %d model versions (%s); its results pool them", b, len(all), strings.Join(all, ", ")))
		}
		if len(stale) > 0 {
			out = append(out, fmt.Sprintf("backend %s: %d cached replies came from %s, not from the version of this run's fresh calls (%s); run with --no-cache (or another --cache) for one version",
				b, staleN, strings.Join(stale, ", "), strings.Join(fresh, ", ")))
		}
	}
	return out
}

func backendOrder(vs []VersionCount) []string {
	var out []string
	for _, c := range vs {
		if !slices.Contains(out, c.Backend) {
			out = append(out, c.Backend)
		}
	}
	return out
}

// versionLabel is a version as the summary and the report show it.
func versionLabel(v string) string {
	if v == "" {
		return "(not reported)"
	}
	return v
}

// Versions prints the model versions seen per backend, and warns when they mix.
func Versions(w io.Writer, r *Run) error {
	vs := ModelVersions(r)
	if len(vs) == 0 {
		return nil
	}
	fmt.Fprintln(w, "Model versions by backend")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "backend\tmodel version\tfresh\tcached\t")
	for _, c := range vs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t\n", c.Backend, versionLabel(c.Version), c.Fresh, c.Cached)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, m := range VersionWarnings(vs) {
		fmt.Fprintln(w, "Warning: "+m)
	}
	return nil
}
