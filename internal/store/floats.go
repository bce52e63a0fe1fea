package store

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// The decisions table keeps params and values as JSON objects of numbers. A run writes and
// reads millions of them, so the common case (plain keys, finite numbers) is encoded and
// decoded by hand, byte for byte as encoding/json does; anything else goes through it.

// encodeFloats is json.Marshal(m) ("null" for a nil map).
func encodeFloats(m map[string]float64) []byte {
	if m == nil {
		return []byte("null")
	}
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if !plainKey(k) || math.IsNaN(v) || math.IsInf(v, 0) {
			b, _ := json.Marshal(m) // as before: an unencodable map is stored as ""
			return b
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := make([]byte, 0, 2+len(keys)*24)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		b = appendFloat(b, m[k])
	}
	return append(b, '}')
}

// appendFloat formats f as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// plainKey reports whether k needs no escaping in JSON (nor encoding/json's HTML escaping).
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' || c == ' ') {
			return false
		}
	}
	return true
}

// decodeFloats is json.Unmarshal(s, &m) for a nil m.
func decodeFloats(s string) (map[string]float64, error) {
	if s == "null" {
		return nil, nil
	}
	if m, ok := parseFloats(s); ok {
		return m, nil
	}
	var m map[string]float64
	err := json.Unmarshal([]byte(s), &m)
	return m, err
}

// parseFloats parses {"k":number,...} with plain keys and no spaces (what encodeFloats
// writes); ok is false for anything else.
func parseFloats(s string) (map[string]float64, bool) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, false
	}
	m := map[string]float64{}
	i := 1
	if s[i] == '}' {
		return m, i == len(s)-1
	}
	for {
		if s[i] != '"' {
			return nil, false
		}
		j := i + 1
		for j < len(s) && s[j] != '"' {
			if s[j] == '\\' {
				return nil, false
			}
			j++
		}
		if j+1 >= len(s) || s[j+1] != ':' {
			return nil, false
		}
		key := s[i+1 : j]
		k := j + 2
		e := k
		for e < len(s) && s[e] != ',' && s[e] != '}' {
			e++
		}
		if e >= len(s) {
			return nil, false
		}
		v, err := strconv.ParseFloat(s[k:e], 64)
		if err != nil || !jsonNumber(s[k:e]) {
			return nil, false
		}
		m[key] = v
		if s[e] == '}' {
			return m, e == len(s)-1
		}
		i = e + 1
		if i >= len(s) {
			return nil, false
		}
	}
}

// jsonNumber reports whether s is a number as JSON spells it (ParseFloat also takes "Inf",
// "0x1p3", "1_000" and "+1", which JSON does not).
func jsonNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || c == '-' || c == '.' || c == 'e' || c == 'E' || c == '+') {
			return false
		}
	}
	return s[0] != '+'
}
