package report

import (
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/store"
)

func TestVersionWarnings(t *testing.T) {
	runs := []store.Run{{ID: "a.none.r1", Backend: "a"}, {ID: "b.none.r1", Backend: "b"}, {ID: "c.none.r1", Backend: "c"}}
	d := func(run, version string, cached bool) store.Decision {
		return store.Decision{Key: store.Key{RunID: run}, Reply: store.Reply{ModelVersion: version, Cached: cached}}
	}
	ds := []store.Decision{
		// a: one version, fresh and cached, and some unknown: no warning.
		d("a.none.r1", "v1", false), d("a.none.r1", "v1", true), d("a.none.r1", "", true),
		// b: two fresh versions.
		d("b.none.r1", "v1", false), d("b.none.r1", "v2", false),
		// c: fresh calls v2, two cache hits of v1.
		d("c.none.r1", "v2", false), d("c.none.r1", "v1", true), d("c.none.r1", "v1", true),
	}
	vs := CountVersions([]string{"a", "b", "c"}, runs, ds)
	want := []VersionCount{{"a", "", 0, 1}, {"a", "v1", 1, 1}, {"b", "v1", 1, 0}, {"b", "v2", 1, 0}, {"c", "v1", 0, 2}, {"c", "v2", 1, 0}}
	if len(vs) != len(want) {
		t.Fatalf("counts %+v", vs)
	}
	for i := range want {
		if vs[i] != want[i] {
			t.Errorf("count %d = %+v, want %+v", i, vs[i], want[i])
		}
	}
	ws := VersionWarnings(vs)
	if len(ws) != 3 || !strings.HasPrefix(ws[0], "backend b: this run mixes 2 model versions (v1, v2)") ||
		!strings.HasPrefix(ws[1], "backend c: this run mixes 2 model versions") ||
		!strings.HasPrefix(ws[2], "backend c: 2 cached replies came from v1, not from the version of this run's fresh calls (v2)") {
		t.Fatalf("warnings:\n%s", strings.Join(ws, "\n"))
	}
}
