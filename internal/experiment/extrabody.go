package experiment

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/prosim/prosim/internal/provider"
	"github.com/prosim/prosim/internal/yamlx"
)

// Bounds on a backend's extra_body: it is sent with every request and hashed into every
// cache key, so it is kept small.
const (
	MaxExtraBodyBytes = 16 << 10 // its JSON encoding
	MaxExtraBodyDepth = 8        // mappings and lists nested inside extra_body
)

// ExtraBody is a backend's extra_body: server-specific request fields, as YAML decodes them.
type ExtraBody map[string]any

// MarshalYAML writes it as JSON (a YAML flow mapping): the YAML encoder's block form of some
// strings ("\n\n", a common stop sequence) does not read back.
func (e ExtraBody) MarshalYAML() ([]byte, error) { return json.Marshal(map[string]any(e)) }

// ExtraBodyJSON is the backend's extra_body as one JSON object with its keys sorted at every
// level (encoding/json's order), or nil when there is none: the bytes the client merges into
// each request body and the cache key names. Check the backend first (Parse does).
func (b *Backend) ExtraBodyJSON() ([]byte, error) {
	if len(b.ExtraBody) == 0 {
		return nil, nil
	}
	return json.Marshal(map[string]any(b.ExtraBody))
}

// checkExtraBody refuses an extra_body the provider's client does not send, a field prosim
// sets itself, a value JSON cannot carry, and one nested or sized beyond the bounds.
func (b *Backend) checkExtraBody(doc *yamlx.Doc, path string) error {
	if len(b.ExtraBody) == 0 {
		return nil
	}
	path += ".extra_body"
	proto := provider.Protocol(b.Provider)
	if proto != "openai" {
		return doc.Errorf(path, "is sent to OpenAI-compatible servers only (openai, vllm, ollama), not %s", b.Provider)
	}
	keys := sortedKeys(b.ExtraBody)
	for _, k := range keys {
		if provider.ExtraBodyTaken(proto, k) {
			return doc.Errorf(path+"."+k, "%q is a field prosim sets itself: %s", k, ownSetting(k))
		}
	}
	for _, k := range keys {
		if at, err := jsonValue(b.ExtraBody[k], 1, path+"."+k); err != nil {
			return doc.Errorf(at, "%v", err)
		}
	}
	j, err := b.ExtraBodyJSON()
	if err != nil {
		return doc.Errorf(path, "%v", err)
	}
	if len(j) > MaxExtraBodyBytes {
		return doc.Errorf(path, "%d bytes as JSON: at most %d", len(j), MaxExtraBodyBytes)
	}
	return nil
}

// ownSetting names the backend setting that controls a field prosim writes.
func ownSetting(field string) string {
	switch field {
	case "model", "messages":
		return "the backend's model and the study's prompts"
	case "temperature", "top_p", "max_tokens":
		return "use the backend's " + field + " setting"
	case "max_completion_tokens":
		return "use max_tokens with max_tokens_field: max_completion_tokens"
	case "seed":
		return "each decision's seed is sent (seed: on|off)"
	case "n":
		return "replicates use it (n: auto|off)"
	case "response_format":
		return "use structured_output (auto, json_schema, json_object or off)"
	}
	return "replies are streamed with first_byte_timeout"
}

// jsonValue checks one value of extra_body at path, depth levels deep; on error it returns the
// path of the offending value.
func jsonValue(v any, depth int, path string) (string, error) {
	switch x := v.(type) {
	case nil, bool, string, int, int64, uint64:
		return "", nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return path, fmt.Errorf("%v is not a number JSON can carry", x)
		}
		return "", nil
	case map[string]any:
		if depth >= MaxExtraBodyDepth {
			return path, fmt.Errorf("nested more than %d deep inside extra_body", MaxExtraBodyDepth)
		}
		for _, k := range sortedKeys(x) {
			if at, err := jsonValue(x[k], depth+1, path+"."+k); err != nil {
				return at, err
			}
		}
		return "", nil
	case []any:
		if depth >= MaxExtraBodyDepth {
			return path, fmt.Errorf("nested more than %d deep inside extra_body", MaxExtraBodyDepth)
		}
		for i, e := range x {
			if at, err := jsonValue(e, depth+1, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return at, err
			}
		}
		return "", nil
	}
	return path, fmt.Errorf("a %T cannot be sent as JSON", v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return slices.Clip(keys)
}
