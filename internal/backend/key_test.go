package backend

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/schema"
)

// oldKeyOf is KeyOf as it was written before the buffer and the schema memo (each field
// written to a streaming hash, the schema marshalled per call): caches filled by earlier builds
// must keep hitting.
func oldKeyOf(id BackendID, req Request) Key {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(keyVersion)
	field(id.Provider)
	field(id.Model)
	field(strings.ToLower(strings.TrimRight(id.BaseURL, "/")))
	field(id.StructuredOutput)
	field(id.MaxTokensField)
	field(id.Seed)
	field(samplingString(req.Sampling))
	field(req.System)
	field(req.Prompt)
	field(strconv.Itoa(len(req.Repair)))
	for _, t := range req.Repair {
		field(t.Assistant)
		field(t.User)
	}
	b, _ := json.Marshal(req.Schema)
	field(string(b))
	field(strconv.Itoa(req.Replicate))
	field(req.Levels)
	field(strconv.Itoa(req.AgentID))
	var k Key
	copy(k[:], h.Sum(nil))
	return k
}

// An extra body is keyed by its value; without one the key is the encoding before extra_body
// (TestKeyOfEncodingUnchanged), so caches filled before it keep hitting.
func TestKeyOfExtraBody(t *testing.T) {
	req := testReq("p", 0)
	seen := map[Key]string{}
	for _, e := range []string{"", `{"top_k":20}`, `{"top_k":40}`, `{"options":{"num_ctx":4096}}`, `{"options":{"num_ctx":8192}}`} {
		k := KeyOf(BackendID{Provider: "openai", Model: "m", ExtraBody: e}, req)
		if prev, ok := seen[k]; ok {
			t.Errorf("extra bodies %q and %q share a key", prev, e)
		}
		seen[k] = e
	}
}

func TestKeyOfEncodingUnchanged(t *testing.T) {
	id := BackendID{Provider: "openai", Model: "m", BaseURL: "http://x/v1", Seed: "run:1"}
	long := testReq(strings.Repeat("long prompt ", 1<<17), 2) // past the pooled buffer's first size
	rep := testReq("p", 1)
	rep.Repair = []Turn{{Assistant: "a", User: "u"}}
	for i, r := range []Request{testReq("p", 0), long, rep, {}} {
		if KeyOf(id, r) != oldKeyOf(id, r) {
			t.Errorf("request %d: the key changed", i)
		}
	}
	// A schema changed in place after its encoding was remembered gets its new encoding.
	fields := []schema.Field{{Name: "x", Kind: schema.Likert, Min: 1, Max: 7}}
	r := Request{Prompt: "p", Schema: schema.Schema{Fields: fields}}
	k1 := KeyOf(id, r)
	fields[0].Max = 5
	if k2 := KeyOf(id, r); k2 == k1 || k2 != oldKeyOf(id, r) {
		t.Error("a schema changed in place kept its old key")
	}
}

// Requests that Collapse may merge are exactly those with one cache key.
func TestSameRequestIsSameKey(t *testing.T) {
	id := BackendID{Provider: "openai", Model: "m"}
	base := testReq("p", 1)
	t0, t1, negZero := 0.0, 0.7, 0.0
	negZero = -negZero
	variants := []func(r *Request){
		func(r *Request) {},
		func(r *Request) { r.Seed = 5 },
		func(r *Request) { r.AgentID = 9 },
		func(r *Request) { r.Replicate = 2 },
		func(r *Request) { r.Levels = "option_order=shuffled" },
		func(r *Request) { r.Prompt += " " },
		func(r *Request) { r.System = "" },
		func(r *Request) { r.Repair = []Turn{{Assistant: "a", User: "u"}} },
		func(r *Request) { r.Sampling.Temperature = &t0 },
		func(r *Request) { r.Sampling.Temperature = &negZero },
		func(r *Request) { tt := t1; r.Sampling.Temperature = &tt },
		func(r *Request) { r.Sampling.Temperature = nil },
		func(r *Request) { r.Sampling.MaxTokens = 1 },
		func(r *Request) {
			f := append([]schema.Field(nil), r.Schema.Fields...)
			f[0].Description = "other"
			r.Schema.Fields = f
		},
	}
	for i, f := range variants {
		r := base
		f(&r)
		if got, want := sameRequest(base, r), KeyOf(id, base) == KeyOf(id, r); got != want {
			t.Errorf("variant %d: sameRequest %v, same key %v", i, got, want)
		}
	}
}
