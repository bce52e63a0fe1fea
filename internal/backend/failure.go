package backend

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"

	"github.com/prosim/prosim/internal/textcut"
)

// maxReason bounds the length of a Reason that is an error's own text (a body excerpt can be
// long).
const maxReason = 160

// ConfigError is a backend that cannot be built as configured (no API key, an unknown
// provider): no retry can cure it and every decision of the backend would meet it. A worker
// reports it for each task it takes; the run stops on it rather than recording each decision
// invalid.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Unreachable reports whether a call failed without reaching its provider: the connection was
// refused, timed out, or the host has no route or no name. A worker's such failure arrives as
// a StatusError with NotConnected set.
func Unreachable(err error) bool {
	if se, ok := errors.AsType[*StatusError](err); ok && se.NotConnected != "" {
		return true
	}
	return notSent(err)
}

// Refused reports whether a call failed at the transport level in every attempt, with no
// response: its last attempt could not connect (Unreachable) and no earlier one had an HTTP
// status or timed out after sending (a connection dropped before any response does not
// count). Such a call cost nothing and was not answered: the engine asks it again rather
// than recording it, and stops the run when its backend keeps refusing (a server that died).
func Refused(err error) bool {
	if g, ok := errors.AsType[*GaveUpError](err); ok && g.Answered {
		return false
	}
	return Unreachable(err)
}

// Reason says in a few words why a call failed, for a progress line or a run's stop: a
// connection that could not be made names the server and the likely cause; anything else is
// the error itself.
func Reason(err error) string {
	if se, ok := errors.AsType[*StatusError](err); ok && se.NotConnected != "" {
		return se.NotConnected
	}
	if !notSent(err) {
		return textcut.Shorten(err.Error(), maxReason)
	}
	server := ""
	if ue, ok := errors.AsType[*url.Error](err); ok {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			server = u.Scheme + "://" + u.Host
		}
	}
	if dns, ok := errors.AsType[*net.DNSError](err); ok {
		return fmt.Sprintf("no such host %s: is the URL right?", dns.Name)
	}
	op, _ := errors.AsType[*net.OpError](err)
	if server == "" && op.Addr != nil {
		server = op.Addr.String()
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Sprintf("connection refused by %s: is the server running?", server)
	}
	return fmt.Sprintf("cannot connect to %s: %v", server, op.Err)
}
