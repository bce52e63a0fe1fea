package yamlx

import (
	"regexp"
	"testing"
)

// hasFraction is the regular expression it replaced, byte for byte.
func FuzzHasFraction(f *testing.F) {
	re := regexp.MustCompile(`[0-9]\.|\.[0-9]|[0-9][eE]-`)
	for _, s := range []string{"", "1", ".", "1.", ".5", "a.b", "2.0", "5e-1", "5E-1", "5e1", "5e", "e-1",
		"x: 12\ny: [1, 2]\n", "v1.2", "1e-", "9E", "k: .nan", "é.5", "1\u00a0.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := hasFraction(s), re.MatchString(s); got != want {
			t.Errorf("hasFraction(%q) = %v, the regexp %v", s, got, want)
		}
		if got, want := hasFraction([]byte(s)), re.MatchString(s); got != want {
			t.Errorf("hasFraction([]byte(%q)) = %v, the regexp %v", s, got, want)
		}
	})
}
