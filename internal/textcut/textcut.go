// Package textcut cuts a text to a number of bytes at a character boundary, for messages that
// quote a value or a reply of any length: the YAML helper's (yamlx.Clip) and the backends'
// (a failure's reason, a body's excerpt) share it, and neither imports the other.
package textcut

import "unicode/utf8"

// Prefix is s's first max bytes or fewer, cut at a character boundary (never inside a UTF-8
// sequence): s itself when it has at most max bytes.
func Prefix(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Shorten is s when it has at most max bytes, else Prefix(s, max) and "...".
func Shorten(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return Prefix(s, max) + "..."
}
