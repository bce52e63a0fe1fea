package yamlx

import "testing"

func TestDidYouMean(t *testing.T) {
	opts := []string{"blood_drive", "volunteering", "visibility", "base"}
	for _, c := range []struct{ word, want string }{
		{"blod_drive", " (did you mean blood_drive?)"},
		{"visibilty", " (did you mean visibility?)"},
		{"visbiility", " (did you mean visibility?)"}, // a swap is one edit
		{"bsae", " (did you mean base?)"},
		{"colour", ""},
		{"blood_drive", ""}, // not misspelt
		{"xyz", ""},
	} {
		if got := DidYouMean(c.word, opts); got != c.want {
			t.Errorf("DidYouMean(%q) = %q, want %q", c.word, got, c.want)
		}
	}
}
