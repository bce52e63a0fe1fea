package engine

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prosim/prosim/internal/study"
)

// closingStudy asks nothing and counts its Close calls: a study's own files (network and
// games spill files) are closed by the runner.
type closingStudy struct{}

var closingStudyClosed atomic.Int64

func (closingStudy) Describe() string                  { return "closing study" }
func (closingStudy) Expected() int                     { return 0 }
func (closingStudy) Next() (*study.Batch, error)       { return nil, nil }
func (closingStudy) Analyze() (*study.Analysis, error) { return &study.Analysis{}, nil }
func (closingStudy) Close() error                      { closingStudyClosed.Add(1); return nil }

func init() {
	study.Register("closingstudy", func(*study.Env) (study.Study, error) { return closingStudy{}, nil })
}

// A problem found after the study is made (the budget's unpriced model does not stop it)
// fails Prepare, and the study's files are closed, as when a backend cannot be built.
func TestPrepareFailureClosesTheStudy(t *testing.T) {
	before := closingStudyClosed.Load()
	path, err := checkFile(t, `name: c
study: closingstudy
seed: 1
population: {source: sample, n: 4}
scenarios: [volunteering]
conditions: [{name: none, policy: none}]
budget: {usd: 20}
backends: [{provider: openai, model: my-model}]
`)
	if err == nil || !strings.Contains(err.Error(), `no price is known for openai model "my-model"`) {
		t.Fatalf("%s: err %v, want the budget's problem", path, err)
	}
	if n := closingStudyClosed.Load() - before; n != 1 {
		t.Fatalf("the study was closed %d times, want once", n)
	}
}
