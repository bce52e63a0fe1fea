package backend

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strconv"
	"strings"
)

// BackendID names the model behind a chain of wrappers, for the cache key.
type BackendID struct {
	Provider string // "openai", "anthropic", "gemini", ...
	Model    string
	// BaseURL is the endpoint for OpenAI-compatible servers; empty for a provider's default.
	// It is part of the key because one model name on two servers may be two different models
	// (e.g. quantisations). A load-balanced set of identical servers should share one BaseURL
	// here (any stable name), so that they share cache entries.
	BaseURL string
}

// Key is a cache key: a SHA-256 of a canonical encoding of everything that determines a reply.
type Key [sha256.Size]byte

func (k Key) String() string { return hex.EncodeToString(k[:]) }

// keyVersion changes whenever the encoding below changes, so old entries are never misread.
const keyVersion = "prosim-cache-v1"

// KeyOf returns the cache key of req sent to id: provider, model, base URL, sorted sampling
// parameters, system text, user text, repair turns, schema and replicate index. It never
// includes the Seed (so a new run seed replays the same cached replies), the API key, the
// agent id or the Structured description (LLMs see only the texts).
func KeyOf(id BackendID, req Request) Key {
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
	field(samplingString(req.Sampling))
	field(req.System)
	field(req.Prompt)
	field(strconv.Itoa(len(req.Repair)))
	for _, t := range req.Repair {
		field(t.Assistant)
		field(t.User)
	}
	field(schemaJSON(req))
	field(strconv.Itoa(req.Replicate))
	var k Key
	sumInto(h, &k)
	return k
}

func sumInto(h hash.Hash, k *Key) { copy(k[:], h.Sum(nil)) }

// samplingString encodes the set sampling parameters as sorted name=value pairs; unset
// (provider default) parameters are omitted, so adding a new parameter later keeps old keys.
func samplingString(s Sampling) string {
	var parts []string // kept in sorted order by construction
	if s.MaxTokens != 0 {
		parts = append(parts, "max_tokens="+strconv.Itoa(s.MaxTokens))
	}
	if s.Temperature != nil {
		parts = append(parts, "temperature="+strconv.FormatFloat(*s.Temperature, 'g', -1, 64))
	}
	if s.TopP != nil {
		parts = append(parts, "top_p="+strconv.FormatFloat(*s.TopP, 'g', -1, 64))
	}
	return strings.Join(parts, ";")
}

func schemaJSON(req Request) string {
	b, err := json.Marshal(req.Schema)
	if err != nil { // cannot happen for a struct of strings and finite floats; keep keys distinct anyway
		return "error:" + err.Error()
	}
	return string(b)
}
