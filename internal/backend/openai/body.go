package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers/wire"
	"github.com/prosim/prosim/internal/provider"
	"github.com/prosim/prosim/internal/schema"
)

// body encodes the chat completions request for req with n choices: the same JSON the SDK
// builds from its ChatCompletionNewParams (a test checks this field by field), written
// directly, with each scenario's response_format encoded once (formats).
func (c *Client) body(req backend.Request, n int) ([]byte, error) {
	format := c.format(req.Schema)
	b := make([]byte, 0, 256+len(req.System)+len(req.Prompt)+len(format))
	b = append(b, `{"model":`...)
	b = appendString(b, c.model)
	b = append(b, `,"messages":[`...)
	first := true
	msg := func(role, content string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, `{"role":"`...)
		b = append(b, role...)
		b = append(b, `","content":`...)
		b = appendString(b, content)
		b = append(b, '}')
	}
	if req.System != "" {
		msg("system", req.System)
	}
	msg("user", req.Prompt)
	for _, t := range req.Repair {
		msg("assistant", t.Assistant)
		msg("user", t.User)
	}
	b = append(b, ']')
	for _, p := range []struct {
		name string
		v    *float64
	}{{"temperature", req.Sampling.Temperature}, {"top_p", req.Sampling.TopP}} {
		if p.v == nil {
			continue
		}
		if math.IsNaN(*p.v) || math.IsInf(*p.v, 0) {
			return nil, fmt.Errorf("%s %v is not a number JSON can carry", p.name, *p.v)
		}
		b = append(b, `,"`...)
		b = append(b, p.name...)
		b = append(b, `":`...)
		b = strconv.AppendFloat(b, *p.v, 'g', -1, 64)
	}
	maxTok := int64(req.Sampling.MaxTokens)
	if maxTok <= 0 {
		maxTok = DefaultMaxTokens
	}
	b = append(b, `,"`...)
	b = append(b, c.maxField...)
	b = append(b, `":`...)
	b = strconv.AppendInt(b, maxTok, 10)
	if n > 1 {
		b = append(b, `,"n":`...)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	if c.seed && req.Seed != 0 {
		b = append(b, `,"seed":`...)
		b = strconv.AppendInt(b, wire.Seed(req.Seed, 32), 10)
	}
	if format != nil {
		b = append(b, `,"response_format":`...)
		b = append(b, format...)
	}
	b = append(b, c.extra...)
	return append(b, '}'), nil
}

// extraMembers checks an extra body (a JSON object whose fields the client does not write
// itself) and returns its members re-encoded with sorted keys, each after a comma, ready to
// be appended to a body; nil for none.
func extraMembers(raw []byte) ([]byte, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber() // integers beyond 2^53 travel as written
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil || d.More() {
		return nil, fmt.Errorf("openai: extra body is not one JSON object")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if provider.ExtraBodyTaken("openai", k) {
			return nil, fmt.Errorf("openai: extra body field %q is one the client sets itself", k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b []byte
	for _, k := range keys {
		v, err := json.Marshal(m[k])
		if err != nil {
			return nil, fmt.Errorf("openai: extra body field %q: %v", k, err)
		}
		b = append(b, ',')
		b = appendString(b, k)
		b = append(b, ':')
		b = append(b, v...)
	}
	return b, nil
}

// format is the response_format for a schema, or nil when none is sent.
func (c *Client) format(s schema.Schema) []byte {
	switch {
	case !c.structured || len(s.Fields) == 0:
		return nil
	case c.jsonObject:
		return jsonObjectFormat
	}
	return formats.Get(s)
}

// formats holds each schema's json_schema response_format, encoded once.
var formats = backend.NewSchemaMemo(jsonSchemaFormat)

var jsonObjectFormat = []byte(`{"type":"json_object"}`)

// jsonSchemaFormat is response_format json_schema (strict) for s.
func jsonSchemaFormat(s schema.Schema) []byte {
	b, err := json.Marshal(map[string]any{
		"type": "json_schema",
		"json_schema": map[string]any{
			"name":   SchemaName,
			"strict": true,
			"schema": s.JSONSchema(),
		},
	})
	if err != nil { // a schema is strings and finite numbers (Check refuses others)
		panic("openai: encoding a response schema: " + err.Error())
	}
	return b
}

// appendString appends s as a JSON string, as encoding/json writes it without HTML escaping:
// quotes, backslashes and control characters escaped, invalid UTF-8 replaced by U+FFFD, and
// U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plain8(s, i) { // prompts are long runs of plain ASCII
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plain8 reports whether the eight bytes of s from i are printable ASCII other than '"' and
// '\\' (bytes appendString copies as they are), testing them together in one word.
func plain8(s string, i int) bool {
	w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// A byte below n sets its high bit in w-n*ones (a borrow can set more, but only above a
	// byte that is below n), for bytes under 0x80; a zero byte of w^c*ones is a byte equal to c.
	below := func(w, n uint64) bool { return (w-n*ones)&^w&highs != 0 }
	return w&highs == 0 && !below(w, 0x20) && !below(w^'"'*ones, 1) && !below(w^'\\'*ones, 1)
}
