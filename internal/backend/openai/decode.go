package openai

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decodeCompletion decodes a chat completion's body into res as
// json.NewDecoder(bytes.NewReader(b)).Decode(res) does (the first JSON value; what follows it
// is not read), erring as it does.
//
// Decoding by reflection was the largest part of a call's CPU after the network. Replies
// nearly always take a short road: one object, the few fields prosim reads spelled as
// sent, strings whose only escapes are the short ones. fastCompletion takes that road and
// gives up at the first thing off it (a \u escape, a key that only matches a field when case is
// ignored, a field given twice, a null choice, invalid UTF-8, malformed JSON); encoding/json
// then decodes the body from the start, so every reply decodes exactly as before.
func decodeCompletion(b []byte, res *completion) error {
	if fastCompletion(b, res) {
		return nil
	}
	*res = completion{}
	return json.NewDecoder(bytes.NewReader(b)).Decode(res)
}

// jsonScan reads JSON from b at i.
type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// eat consumes c (after white space) if it is next.
func (s *jsonScan) eat(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *jsonScan) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// members reads an object's members (the object's '{' is next), handing each key (plain
// ASCII, no escapes) to member, which must read the value. False when the object is malformed,
// a key is not plain, or member gives up.
func (s *jsonScan) members(member func(key []byte) bool) bool {
	if !s.eat('{') {
		return false
	}
	if s.eat('}') {
		return true
	}
	for {
		if !s.eat('"') {
			return false
		}
		start := s.i
		for s.i < len(s.b) && s.b[s.i] != '"' {
			if c := s.b[s.i]; c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
				return false
			}
			s.i++
		}
		if s.i == len(s.b) {
			return false
		}
		key := s.b[start:s.i]
		s.i++
		if !s.eat(':') || !member(key) {
			return false
		}
		if s.eat(',') {
			continue
		}
		return s.eat('}')
	}
}

// field handles key for an object with the given fields: ok is false when key matches one
// of them only when case is ignored (encoding/json would fill it: the slow road does), else
// it is the index of the field key names exactly, or -1 for none (the value is skipped).
func field(key []byte, fields ...string) (int, bool) {
	for i, f := range fields {
		if string(key) == f {
			return i, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(string(key), f) {
			return -1, false
		}
	}
	return -1, true
}

// isNull consumes a null if one is next.
func (s *jsonScan) isNull() bool {
	if s.peek() == 'n' && bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += 4
		return true
	}
	return false
}

// str reads a string, or a null (which leaves *dst as it is, as encoding/json does).
func (s *jsonScan) str(dst *string) bool {
	if s.isNull() {
		return true
	}
	if !s.eat('"') {
		return false
	}
	start, high := s.i, false
	var buf []byte // the unescaped string, once an escape is met
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw := s.b[start:s.i]
			s.i++
			if high && !utf8.Valid(raw) {
				return false // encoding/json replaces invalid bytes
			}
			if buf != nil {
				*dst = string(append(buf, raw...))
			} else {
				*dst = string(raw)
			}
			return true
		case c < 0x20:
			return false
		case c >= utf8.RuneSelf:
			high = true
			s.i++
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return false
			}
			var e byte
			switch s.b[s.i+1] {
			case '"', '\\', '/':
				e = s.b[s.i+1]
			case 'b':
				e = '\b'
			case 'f':
				e = '\f'
			case 'n':
				e = '\n'
			case 'r':
				e = '\r'
			case 't':
				e = '\t'
			default:
				return false // \u: the slow road
			}
			if high && !utf8.Valid(s.b[start:s.i]) {
				return false
			}
			buf = append(append(buf, s.b[start:s.i]...), e)
			s.i += 2
			start, high = s.i, false
		default:
			s.i++
		}
	}
	return false
}

// int reads an integer literal, or a null (which leaves *dst as it is).
func (s *jsonScan) int(dst *int64) bool {
	if s.isNull() {
		return true
	}
	start := s.i
	if !s.number() {
		return false
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	if err != nil {
		return false // a fraction, an exponent or an overflow: encoding/json's error
	}
	*dst = n
	return true
}

// number reads a number as JSON spells it.
func (s *jsonScan) number() bool {
	s.ws()
	digits := func() int {
		n := 0
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// maxSkipDepth bounds the nesting of a skipped value (encoding/json allows 10,000; deeper
// ones take the slow road).
const maxSkipDepth = 200

// skip reads any JSON value.
func (s *jsonScan) skip(depth int) bool {
	if depth > maxSkipDepth {
		return false
	}
	switch c := s.peek(); c {
	case '{':
		return s.members(func([]byte) bool { return s.skip(depth + 1) })
	case '[':
		s.i++
		if s.eat(']') {
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			if s.eat(',') {
				continue
			}
			return s.eat(']')
		}
	case '"':
		s.i++
		for s.i < len(s.b) {
			switch c := s.b[s.i]; {
			case c == '"':
				s.i++
				return true
			case c < 0x20:
				return false
			case c == '\\':
				if s.i+1 >= len(s.b) {
					return false
				}
				switch s.b[s.i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					s.i += 2
				case 'u':
					if s.i+6 > len(s.b) {
						return false
					}
					for _, h := range s.b[s.i+2 : s.i+6] {
						if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
							return false
						}
					}
					s.i += 6
				default:
					return false
				}
			default:
				s.i++
			}
		}
		return false
	case 't', 'f', 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
				s.i += len(lit)
				return true
			}
		}
		return false
	default:
		return s.number()
	}
}

// fastCompletion decodes b into res (zero on entry) when it is on the short road (see
// decodeCompletion); false when it is not, leaving res in any state.
func fastCompletion(b []byte, res *completion) bool {
	s := jsonScan{b: b}
	var seen [4]bool
	return s.members(func(key []byte) bool {
		i, ok := field(key, "model", "system_fingerprint", "choices", "usage")
		if !ok || i >= 0 && seen[i] {
			return false // a field given twice: encoding/json merges, the slow road does too
		}
		if i >= 0 {
			seen[i] = true
		}
		switch i {
		case 0:
			return s.str(&res.Model)
		case 1:
			return s.str(&res.SystemFingerprint)
		case 2:
			return s.choices(res)
		case 3:
			if s.isNull() {
				return true
			}
			var seenU [2]bool
			return s.members(func(key []byte) bool {
				j, ok := field(key, "prompt_tokens", "completion_tokens")
				switch {
				case !ok || j >= 0 && seenU[j]:
					return false
				case j == 0:
					seenU[0] = true
					return s.int(&res.Usage.PromptTokens)
				case j == 1:
					seenU[1] = true
					return s.int(&res.Usage.CompletionTokens)
				}
				return s.skip(1)
			})
		}
		return s.skip(0)
	})
}

// choices reads the choices array (or a null, which leaves none).
func (s *jsonScan) choices(res *completion) bool {
	if s.isNull() {
		return true
	}
	if !s.eat('[') {
		return false
	}
	res.Choices = make([]choiceMessage, 0, 1)
	if s.eat(']') {
		return true
	}
	for {
		var ch choiceMessage
		seenM := false
		ok := s.peek() == '{' && s.members(func(key []byte) bool {
			j, ok := field(key, "message")
			switch {
			case !ok || j == 0 && seenM:
				return false
			case j < 0:
				return s.skip(2)
			}
			seenM = true
			if s.isNull() {
				return true
			}
			var seen [2]bool
			return s.members(func(key []byte) bool {
				k, ok := field(key, "content", "refusal")
				switch {
				case !ok || k >= 0 && seen[k]:
					return false
				case k == 0:
					seen[0] = true
					return s.str(&ch.Message.Content)
				case k == 1:
					seen[1] = true
					return s.str(&ch.Message.Refusal)
				}
				return s.skip(3)
			})
		})
		if !ok {
			return false // a null choice, too, takes the slow road
		}
		res.Choices = append(res.Choices, ch)
		if s.eat(',') {
			continue
		}
		return s.eat(']')
	}
}
