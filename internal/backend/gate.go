package backend

import "context"

// A send gate holds a call back until its caller may send it. The engine commits each paid
// reply before the worker that received it sends its next call (a kill -9 then loses at most
// the calls in flight), and it prepares that call while the commit's fsync runs: the request,
// the cache look-up and the spend reservation happen above the gate, and the call waits at the
// gate, just above the endpoints' limits, until the commit is done. So a call waiting there
// holds no concurrency slot, and its latency is measured from the gate on.

type sendGateKey struct{}

// WithSendGate returns a context whose calls, through a chain built by Stack, wait for wait to
// return before they reach an endpoint; a non-nil error fails the call with it unsent.
func WithSendGate(ctx context.Context, wait func(context.Context) error) context.Context {
	return context.WithValue(ctx, sendGateKey{}, wait)
}

// SendGate passes calls on to next once the context's send gate (if any) opens.
func SendGate(next Backend) Backend {
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		if wait, ok := ctx.Value(sendGateKey{}).(func(context.Context) error); ok {
			if err := wait(ctx); err != nil {
				return Reply{}, err
			}
		}
		return next.Decide(ctx, req)
	})
}

// gated is a chain that honours send gates (see HonoursSendGate).
type gated struct{ Backend }

func (gated) honoursSendGate() {}

// HonoursSendGate reports whether b waits for a context's send gate before each call (the
// chains Stack builds do): a caller with another backend must wait itself before calling.
func HonoursSendGate(b Backend) bool {
	_, ok := b.(interface{ honoursSendGate() })
	return ok
}
