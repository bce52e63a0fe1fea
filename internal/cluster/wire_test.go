package cluster

import (
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"syscall"
	"testing"

	"github.com/prosim/prosim/internal/backend"
)

// What the engine's stop rules read of a worker's failure survives the wire: a backend that
// cannot be built, and a call that could not connect (with its reason), which a resumed
// coordinator asks again rather than taking from a previous one.
func TestWireKeepsSetupFailures(t *testing.T) {
	dial := &backend.StatusError{Provider: "openai", Err: &url.Error{Op: "Post",
		URL: "http://127.0.0.1:8000/v1/chat/completions", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}}
	refused := &backend.GaveUpError{Attempts: 6, Last: dial}
	// A call that had an HTTP status before it was refused was answered: the coordinator must
	// not take it for a server that is gone (backend.Refused).
	answered := &backend.GaveUpError{Attempts: 6, Answered: true, Last: dial}
	noKey := &backend.ConfigError{Err: errors.New("backend qwen: openai: no API key")}
	for _, c := range []struct {
		err                 error
		config, unreachable bool
		reason              string
	}{
		{refused, false, true, "connection refused by http://127.0.0.1:8000: is the server running? (on worker w1)"},
		{noKey, true, false, "backend qwen: openai: no API key (on worker w1)"},
		{answered, false, false, `openai: gave up after 6 attempts: last: openai: Post "http://127.0.0.1:8000/v1/chat/completions": dial tcp: connection refused (on worker w1)`},
		{&backend.StatusError{Provider: "openai", Status: 500, Body: "boom"}, false, false, "openai: HTTP 500: boom"},
	} {
		js, err := json.Marshal(errorOf(c.err))
		if err != nil {
			t.Fatal(err)
		}
		var we wireError
		if err := json.Unmarshal(js, &we); err != nil {
			t.Fatal(err)
		}
		got := we.err("w1")
		_, config := errors.AsType[*backend.ConfigError](got)
		if config != c.config || backend.Unreachable(got) != c.unreachable || backend.Refused(got) != c.unreachable || we.setup() != (c.config || c.unreachable) || backend.Reason(got) != c.reason {
			t.Errorf("%v came back as %v: config %v, unreachable %v, reason %q; want %v, %v, %q",
				c.err, got, config, backend.Unreachable(got), backend.Reason(got), c.config, c.unreachable, c.reason)
		}
	}
}
