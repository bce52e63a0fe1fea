package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/experiment"
)

// A decision whose calls timed out is recorded invalid with a reason that names the timeout
// and the field that sets it, not "context deadline exceeded" (QA12 #16).
func TestTimeoutReasonNamesTheField(t *testing.T) {
	t.Setenv(llmKeyEnv, llmKey)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Second): // bounds the server's Close
		}
	}))
	t.Cleanup(s.Close)
	exp := llmExperiment(t, s.URL, 1, 1, 1)
	exp.Conditions = exp.Conditions[:1]
	exp.Scenarios = exp.Scenarios[:1]
	exp.Backends[0].Timeout = experiment.Duration(50 * time.Millisecond)
	exp.Backends[0].MaxAttempts = 1
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), exp, Options{Out: dir, NoCache: true}); err != nil {
		t.Fatal(err)
	}
	reasons := invalidReasons(t, dir)
	want := "openai: no reply within the timeout of 50ms (backends[0].timeout)"
	if len(reasons) != 1 || !strings.Contains(reasons[0], want) {
		t.Fatalf("invalid reasons %q, want one saying %q", reasons, want)
	}
}
