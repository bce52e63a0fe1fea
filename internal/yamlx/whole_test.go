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

// A number written quoted where a number is wanted is an error at its place, in every kind of
// number field, pointers, lists and maps included (errs3 #5: replicates: "3" was read as 3).
// Text that looks like a number stays text in a string field.
func TestQuotedNumberIsAnError(t *testing.T) {
	type v struct {
		Name  string             `yaml:"name"`
		N     int                `yaml:"n"`
		Seed  *uint64            `yaml:"seed"`
		Temp  float64            `yaml:"temp"`
		Ws    []float64          `yaml:"ws"`
		Ps    map[string]float64 `yaml:"ps"`
		Words string             `yaml:"words"`
	}
	src := "name: \"3\"\nn: \"3\"\nseed: '7'\ntemp: \"0.5\"\nws: [1, \"2\"]\nps: {a: \"-1\", b: 2}\nwords: \"12\"\n"
	var got v
	err := DecodeAll([]byte(src), "q.yaml", &got)
	want := `q.yaml: 5 problems:
  q.yaml:2:4: field n: expected a whole number, not the string "3" (write it without quotes)
  q.yaml:3:7: field seed: expected a whole number, not the string "7" (write it without quotes)
  q.yaml:4:7: field temp: expected a number, not the string "0.5" (write it without quotes)
  q.yaml:5:9: field ws[1]: expected a number, not the string "2" (write it without quotes)
  q.yaml:6:9: field ps.a: expected a number, not the string "-1" (write it without quotes)`
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	// Bare, they decode; a quoted word is the decoder's type error, as before.
	if err := DecodeAll([]byte("name: \"3\"\nn: 3\ntemp: 0.5\nws: [1, 2]\n"), "q.yaml", &got); err != nil || got.N != 3 {
		t.Errorf("bare numbers: %v, %+v", err, got)
	}
	if err := DecodeAll([]byte("n: \"two\"\n"), "q.yaml", &got); err == nil || err.Error() != `q.yaml:1:4: field n: expected a whole number, got a string "two"` {
		t.Errorf("quoted word: %v", err)
	}
}
