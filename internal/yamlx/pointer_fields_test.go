package yamlx

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// dur is a custom-decoded field whose error carries no place of its own.
type dur time.Duration

func (d *dur) UnmarshalYAML(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return errors.New("not a duration")
	}
	*d = dur(v)
	return nil
}

// Every problem of a file comes at once, those of pointer fields too (they were found only
// when first: the decoder reports nothing for a pointer to a pointer), and a custom
// decoder's problem is placed at its value (QA12 #9).
func TestAllProblemsOfPointerAndCustomFields(t *testing.T) {
	type budget struct {
		USD float64 `yaml:"usd"`
	}
	type file struct {
		Seed    *uint64 `yaml:"seed"`
		Budget  *budget `yaml:"budget"`
		Timeout dur     `yaml:"timeout"`
		RPM     float64 `yaml:"rpm"`
	}
	src := "seed: x\nbudget:\n  usd: ten\ntimeout: 5 minutes\nrpm: lots\n"
	var v file
	err := DecodeAll([]byte(src), "x.yaml", &v)
	for _, want := range []string{
		`x.yaml:1:7: field seed: expected a whole number`,
		`x.yaml:3:8: field budget.usd: expected a number`,
		`x.yaml:4:10: field timeout: not a duration`,
		`x.yaml:5:6: field rpm: expected a number`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("problems:\n%v\nwant %q", err, want)
		}
	}
}
