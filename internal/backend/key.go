package backend

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"sync"

	"github.com/prosim/prosim/internal/schema"
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
	// StructuredOutput is the structured-output mode requests are sent with ("json_schema",
	// "json_object", "off"); empty for the client's default. A reply produced under a schema
	// constraint is not a sample of the unconstrained model.
	StructuredOutput string
	// MaxTokensField is the completion-limit field sent ("max_tokens" or
	// "max_completion_tokens"); empty for the client's default. Servers may honour one and
	// ignore the other, which changes where replies are cut.
	MaxTokensField string
	// Seed names the seeds sent to the provider: empty when none is sent, else what every
	// decision's seed is derived from (the engine uses "run:<run seed>"). A request's own
	// Seed is a function of that, its agent, content, replicate and factor levels, all in the
	// key, so the seed itself need not be (and must not be: the replicate fan-out asks for
	// several replicates under one seed). Runs that send seeds with different run seeds
	// therefore share no entries.
	Seed string
	// ExtraBody is the JSON object of server-specific fields sent with every request (keys
	// sorted), empty for none: options such as Ollama's num_ctx or vLLM's top_k change replies.
	ExtraBody string
}

// Key is a cache key: a SHA-256 of a canonical encoding of everything that determines a reply.
type Key [sha256.Size]byte

func (k Key) String() string { return hex.EncodeToString(k[:]) }

// keyVersion changes whenever the encoding below changes, so old entries are never misread.
//
// v2 (issue 17) added the structured-output mode, the max-tokens field and the seed policy;
// v3 the factor levels (Request.Levels): v2 entries of a factor design may be one level's
// reply copied to the others, so none is read; v4 the agent id: two agents whose texts are
// identical (an imported population with coarse fields) are two draws, as two replicates
// are, not one reply and its copy, and a v3 entry may be such a copy.
const keyVersion = "prosim-cache-v4"

// KeyOf returns the cache key of req sent to id: provider, model, base URL, structured-output
// mode, max-tokens field, seed policy and extra body fields (id), sorted sampling parameters,
// system text, user text, repair turns, schema, replicate index, factor levels and agent id.
// It never includes the request's own Seed (see BackendID.Seed), the API key or the
// Structured description (LLMs see only the texts). The agent id is there although the
// model never sees it: an agent's decisions are draws of their own, like a replicate's, so
// agents with identical persona texts do not share one reply; one agent's identical
// requests (conditions whose texts do not differ for it) still share theirs.
func KeyOf(id BackendID, req Request) Key {
	// The fields are laid end to end in one buffer and hashed at once: the same bytes the
	// hash has always been fed (length-prefixed fields), without a copy of each text.
	bp := keyBufs.Get().(*[]byte)
	b := (*bp)[:0]
	field := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
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
	field(string(keySchemas.Get(req.Schema)))
	field(strconv.Itoa(req.Replicate))
	field(req.Levels)
	field(strconv.Itoa(req.AgentID))
	if id.ExtraBody != "" {
		// Last and only when set: keys without one are those of the encoding before it (the
		// fields are length-prefixed, so the longer encoding cannot equal a shorter one).
		field(id.ExtraBody)
	}
	k := Key(sha256.Sum256(b))
	if cap(b) <= 1<<20 { // a huge request's buffer is not kept
		*bp = b
		keyBufs.Put(bp)
	}
	return k
}

var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

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

// keySchemas holds each schema's encoding for the key: encoded once, not per request.
var keySchemas = NewSchemaMemo(func(s schema.Schema) []byte {
	b, err := json.Marshal(s)
	if err != nil { // cannot happen for a struct of strings and finite floats; keep keys distinct anyway
		return []byte("error:" + err.Error())
	}
	return b
})
