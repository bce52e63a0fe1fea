package backend

import (
	"slices"
	"sync"

	"github.com/prosim/prosim/internal/schema"
)

// SchemaMemo remembers one encoding of each schema, so that a value every request of a
// scenario carries (its response schema) is encoded once per run, not once per call: a
// scenario's requests share one Fields slice, which is what the memo is keyed by.
//
// A hit is checked against a copy of the fields taken when the entry was made, so a schema
// changed in place (or two schemas that happen to share storage) never reads another's
// encoding; the key keeps its slice alive, so its address is never reused while remembered.
// The memo is bounded: past maxMemo schemas it starts afresh.
type SchemaMemo struct {
	encode func(schema.Schema) []byte

	mu sync.RWMutex
	m  map[*schema.Field]memoEntry
}

type memoEntry struct {
	fields []schema.Field
	enc    []byte
}

// maxMemo bounds a SchemaMemo: a run has a handful of schemas (one per scenario or game).
const maxMemo = 1024

// NewSchemaMemo is a memo of encode. encode must be a pure function of the schema's fields.
func NewSchemaMemo(encode func(schema.Schema) []byte) *SchemaMemo {
	return &SchemaMemo{encode: encode, m: map[*schema.Field]memoEntry{}}
}

// Get is encode(s), computed once per schema. The caller must not modify the result.
func (m *SchemaMemo) Get(s schema.Schema) []byte {
	if len(s.Fields) == 0 {
		return m.encode(s)
	}
	k := &s.Fields[0]
	m.mu.RLock()
	e, ok := m.m[k]
	m.mu.RUnlock()
	if ok && sameFields(e.fields, s.Fields) {
		return e.enc
	}
	e = memoEntry{fields: cloneFields(s.Fields), enc: m.encode(s)}
	m.mu.Lock()
	if len(m.m) >= maxMemo {
		clear(m.m)
	}
	m.m[k] = e
	m.mu.Unlock()
	return e.enc
}

func cloneFields(fs []schema.Field) []schema.Field {
	out := slices.Clone(fs)
	for i := range out {
		out[i].Options = slices.Clone(out[i].Options)
	}
	return out
}

func sameFields(a, b []schema.Field) bool {
	return slices.EqualFunc(a, b, func(x, y schema.Field) bool {
		return x.Name == y.Name && x.Kind == y.Kind && x.Min == y.Min && x.Max == y.Max && x.Step == y.Step &&
			x.Description == y.Description && x.LowLabel == y.LowLabel && x.HighLabel == y.HighLabel &&
			slices.Equal(x.Options, y.Options)
	})
}
