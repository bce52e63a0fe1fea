package textcut

import (
	"testing"
	"unicode/utf8"
)

// Shorten, the cut of yamlx.Clip, backend.Reason and wire.Excerpt, never splits a character.
func TestShorten(t *testing.T) {
	for _, c := range []struct {
		s    string
		max  int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc..."},
		{"aé", 2, "a..."}, // é is 2 bytes: cutting at 2 would split it
		{"aé", 3, "aé"},
		{"€€", 4, "€..."},
		{"€", 1, "..."},
	} {
		got := Shorten(c.s, c.max)
		if got != c.want || !utf8.ValidString(got) {
			t.Errorf("Shorten(%q, %d) = %q, want %q", c.s, c.max, got, c.want)
		}
	}
}

// Prefix keeps whole characters, and s when it fits.
func TestPrefix(t *testing.T) {
	for _, c := range []struct {
		s    string
		max  int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"aé", 2, "a"},
		{"€€", 5, "€"},
		{"€", 0, ""},
	} {
		if got := Prefix(c.s, c.max); got != c.want {
			t.Errorf("Prefix(%q, %d) = %q, want %q", c.s, c.max, got, c.want)
		}
	}
}
