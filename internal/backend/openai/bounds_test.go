package openai

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
)

type sleeps struct{ d []time.Duration }

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.d = append(s.d, d)
	return ctx.Err()
}

func retried(c *Client, s *sleeps) backend.Backend {
	return backend.Retry(c, backend.RetryPolicy{MaxAttempts: 6, Sleep: s.sleep, Seed: 1})
}

// A reply over the size limit is recorded invalid after one call, never retried (each retry
// would be paid again), whether or not the server says its length.
func TestReplyTooLargeIsInvalidOnce(t *testing.T) {
	big := `{"choices":[{"message":{"content":"` + strings.Repeat("x", 2<<20) + `"}}]}`
	for _, chunked := range []bool{false, true} {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if chunked {
				w.(http.Flusher).Flush() // no Content-Length
			} else {
				w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			}
			io.WriteString(w, big)
		})
		var sl sleeps
		r, err := retried(newTestClient(t, s), &sl).Decide(context.Background(), request())
		if err != nil {
			t.Fatalf("chunked %v: %v", chunked, err)
		}
		if !strings.HasPrefix(r.Invalid, "reply too large (") || r.Calls != 1 || s.Calls != 1 {
			t.Fatalf("chunked %v: reply %+v after %d calls; want one call recorded invalid", chunked, r, s.Calls)
		}
		// It came with HTTP 200 and may have been billed: one unusable call at the worst case.
		if in, out := backend.WorstCase(request(), DefaultMaxTokens); r.UnusableCalls != 1 || r.UnusableInputTokens != in || r.UnusableOutputTokens != out {
			t.Errorf("chunked %v: %d unusable calls at %d+%d tokens, want 1 at %d+%d", chunked, r.UnusableCalls, r.UnusableInputTokens, r.UnusableOutputTokens, in, out)
		}
		if !chunked && !strings.Contains(r.Invalid, "(2097") {
			t.Errorf("invalid %q does not give the size", r.Invalid)
		}
	}
}

// JSON sent as text/html is read as JSON; an HTML page is one clear failure, not retried.
func TestReplyContentType(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, okBody)
	})
	var sl sleeps
	r, err := retried(newTestClient(t, s), &sl).Decide(context.Background(), request())
	if err != nil || r.Raw != `{"willingness":5}` || s.Calls != 1 {
		t.Fatalf("JSON as text/html: %+v, %v, %d calls", r, err, s.Calls)
	}

	h := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>Sign in to the Wi-Fi</body></html>")
	})
	_, err = retried(newTestClient(t, h), &sl).Decide(context.Background(), request())
	if err == nil || !strings.Contains(err.Error(), "not JSON (content type text/html)") || h.Calls != 1 {
		t.Fatalf("HTML page: %v after %d calls; want one call and a clear error", err, h.Calls)
	}
	if se := statusErr(t, err); se.Unusable {
		t.Errorf("an HTML page (a portal's, not the provider's generation) is taken for a reply that may have been billed")
	}
}

// Retry-After: 86400 is capped at the policy's MaxRetryAfter, and the final error says so.
func TestRetryAfterIsCapped(t *testing.T) {
	s := newServer(t, jsonReply(429, `{"error":{"message":"slow down"}}`, "Retry-After", "86400"))
	var sl sleeps
	_, err := backend.Retry(newTestClient(t, s), backend.RetryPolicy{MaxAttempts: 3, Sleep: sl.sleep}).Decide(context.Background(), request())
	if err == nil || !strings.Contains(err.Error(), "asked to wait 24h0m0s; waited at most 1m0s") {
		t.Fatalf("error %v does not state the cap", err)
	}
	if len(sl.d) != 2 {
		t.Fatalf("waits %v", sl.d)
	}
	for _, d := range sl.d {
		if d != backend.DefaultMaxRetryAfter {
			t.Errorf("wait %v, want the 60s cap", d)
		}
	}
}

// A reply over the size limit to a call for several choices (Decide with N) is counted at the
// worst case of the call that was sent, N choices, as the spend cap reserved it and as a
// failed answered call is: not at one choice's.
func TestReplyTooLargeForChoicesAtTheirWorstCase(t *testing.T) {
	big := `{"choices":[{"message":{"content":"` + strings.Repeat("x", 2<<20) + `"}}]}`
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, big)
	})
	req := request()
	req.N = 3
	r, err := newTestClient(t, s).Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	in, out := backend.WorstCase(req, DefaultMaxTokens)
	if !strings.HasPrefix(r.Invalid, "reply too large (") || r.UnusableCalls != 1 || r.UnusableInputTokens != in || r.UnusableOutputTokens != out {
		t.Errorf("reply %+v; want it invalid, one unusable call at %d+%d tokens", r, in, out)
	}
}
