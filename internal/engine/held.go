package engine

import (
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/store"
)

// heldReplies are the recorded replies a replay's first pass keeps (Runner.held), compactly:
// a backend.Reply is 248 bytes and its values' map about 250 more, so each is kept as the
// fields replyOf sets, its values as a slice, its repeated texts (provider, model, version,
// value names, reasons) shared, in one slice indexed by key. About 370 bytes a decision with
// its key (374 for Study 3's, measured), against 680 as a map of replies.
type heldReplies struct {
	at      map[store.Key]int32
	replies []keptReply
	texts   map[string]string // the texts shared, up to maxSharedTexts
}

// maxSharedTexts bounds the texts shared: invalid reasons may each be another.
const maxSharedTexts = 4096

type keptReply struct {
	raw, invalid, provider, model, version string
	values                                 []keptValue // nil when the reply's Values are
	repairs                                []backend.Attempt
	in, out, calls, failed, unusable       int
	noUsage                                int
	cost                                   float64
	latency                                time.Duration
	cached                                 bool
}

type keptValue struct {
	name string
	v    float64
}

func newHeldReplies(n int) *heldReplies {
	return &heldReplies{at: make(map[store.Key]int32, n), replies: make([]keptReply, 0, n), texts: map[string]string{}}
}

// share returns s, or the equal text kept before.
func (h *heldReplies) share(s string) string {
	if t, ok := h.texts[s]; ok {
		return t
	}
	if len(h.texts) < maxSharedTexts {
		h.texts[s] = s
	}
	return s
}

// add keeps d's reply (replyOf's).
func (h *heldReplies) add(d store.Decision) {
	r := replyOf(d.Reply)
	k := keptReply{raw: r.Raw, invalid: h.share(r.Invalid), provider: h.share(r.Provider), model: h.share(r.Model), version: h.share(r.ModelVersion),
		repairs: r.Repairs, in: r.InputTokens, out: r.OutputTokens, calls: r.Calls, failed: r.FailedCalls, unusable: r.UnusableCalls,
		noUsage: r.NoUsageCalls, cost: r.CostUSD, latency: r.Latency, cached: r.Cached}
	if r.Values != nil {
		k.values = make([]keptValue, 0, len(r.Values))
		for name, v := range r.Values {
			k.values = append(k.values, keptValue{h.share(name), v})
		}
	}
	h.at[d.Key] = int32(len(h.replies))
	h.replies = append(h.replies, k)
}

// reply is the reply kept for key k: replyOf's of its recorded decision.
func (h *heldReplies) reply(k store.Key) (backend.Reply, bool) {
	i, ok := h.at[k]
	if !ok {
		return backend.Reply{}, false
	}
	x := &h.replies[i]
	r := backend.Reply{Raw: x.raw, Invalid: x.invalid, Provider: x.provider, Model: x.model, ModelVersion: x.version,
		InputTokens: x.in, OutputTokens: x.out, Calls: x.calls, FailedCalls: x.failed, UnusableCalls: x.unusable, NoUsageCalls: x.noUsage,
		CostUSD: x.cost, Latency: x.latency, Cached: x.cached, Repairs: x.repairs}
	if x.values != nil {
		r.Values = make(map[string]float64, len(x.values))
		for _, v := range x.values {
			r.Values[v.name] = v.v
		}
	}
	return r, true
}
