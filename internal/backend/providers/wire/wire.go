// Package wire holds what the provider clients (openai, anthropic, gemini) share at the HTTP
// level: a transport that records the status, headers and error body of each call, the mapping
// of failures to *backend.StatusError, Retry-After parsing, and API-key redaction.
//
// The provider SDKs turn HTTP failures into their own error types, and some of them lose the
// status or the headers on the way (a non-JSON 502 body, for instance). Recording the exchange
// below the SDK gives every client the same, complete view of what the server said.
package wire

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prosim/prosim/internal/backend"
)

// maxErrorBody bounds how much of an error response body is kept.
const maxErrorBody = 64 << 10

// BodyExcerpt is the length of the body excerpt put in a StatusError.
const BodyExcerpt = 512

// Exchange is what the transport saw of the last HTTP response of one call.
type Exchange struct {
	Status int
	Header http.Header
	// Body is the start of the body of an error response (status >= 400); nil otherwise.
	Body []byte
}

type exchangeKey struct{}

// Track returns a context under which the Transport records the call's response into the
// returned Exchange.
func Track(ctx context.Context) (context.Context, *Exchange) {
	ex := &Exchange{}
	return context.WithValue(ctx, exchangeKey{}, ex), ex
}

// Transport records responses into the Exchange carried by the request's context (see Track).
type Transport struct {
	Next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	res, err := next.RoundTrip(req)
	ex, _ := req.Context().Value(exchangeKey{}).(*Exchange)
	if ex == nil || res == nil {
		return res, err
	}
	ex.Status = res.StatusCode
	ex.Header = res.Header.Clone()
	ex.Body = nil
	if res.StatusCode >= 400 && res.Body != nil {
		// Read the error body here so that it is available whatever the SDK makes of it, and
		// hand the SDK the same bytes.
		b, rerr := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
		res.Body.Close()
		ex.Body = b
		res.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), errReader{rerr}))
	}
	return res, err
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	return 0, io.EOF
}

// MaxIdleConnsPerHost is how many idle keep-alive connections the default client keeps to
// its server. net/http's default of 2 means that a run with more than two calls in flight
// closes most connections after each reply and dials new ones (a TLS handshake each, against
// a real provider), and a burst of calls can run out of ephemeral ports.
const MaxIdleConnsPerHost = 256

// PooledTransport is net/http's default transport with room for MaxIdleConnsPerHost idle
// connections per host.
func PooledTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = MaxIdleConnsPerHost
	t.MaxIdleConnsPerHost = MaxIdleConnsPerHost
	return t
}

// HTTPClient returns a copy of base whose transport records exchanges; base's Timeout, Jar
// and CheckRedirect are kept. A nil base means a client on PooledTransport.
func HTTPClient(base *http.Client) *http.Client {
	c := http.Client{Transport: PooledTransport()}
	if base != nil {
		c = *base
	}
	c.Transport = &Transport{Next: c.Transport}
	return &c
}

// Fail maps a failed call to a *backend.StatusError. An HTTP error status recorded in ex gives
// that status, the Retry-After delay and a body excerpt; anything else (transport failure,
// timeout, cancelled context, truncated or malformed 2xx body) gives Status 0. The key is
// removed from every string the error carries.
func Fail(provider string, ex *Exchange, err error, key string) *backend.StatusError {
	var se *backend.StatusError
	if errors.As(err, &se) {
		return se
	}
	if err == nil {
		err = errors.New("request failed")
	}
	e := &backend.StatusError{Provider: provider, Err: Redact(err, key)}
	if ex != nil && ex.Status >= 400 {
		e.Status = ex.Status
		e.RetryAfter = RetryAfter(ex.Header, time.Now())
		e.Body = Excerpt(ex.Body, key)
		if e.Body == "" {
			e.Body = http.StatusText(ex.Status)
		}
	}
	return e
}

// Malformed is the error for a 2xx response whose content cannot be used (no choices, no
// candidates, not the protocol's shape). Status is 0: such responses are treated like transport
// failures and are worth a retry.
func Malformed(provider, what string) *backend.StatusError {
	return &backend.StatusError{Provider: provider, Err: errors.New("malformed response: " + what)}
}

// RetryAfter reads the delay a server asks for: retry-after-ms (milliseconds, OpenAI and
// Anthropic), else Retry-After as seconds or as an HTTP-date (relative to now). 0 if absent,
// unparseable or in the past.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e12 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s > 0 && s < 1e9 {
			return time.Duration(s * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// Excerpt is a short, single-line, key-free excerpt of a response body.
func Excerpt(b []byte, key string) string {
	s := RedactString(string(b), key)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > BodyExcerpt {
		cut := BodyExcerpt
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

// RedactString replaces every occurrence of key in s.
func RedactString(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, "[REDACTED]")
}

// Redact returns err with the key removed from its message and the message bounded in length;
// errors.Is and errors.As still see the original error.
func Redact(err error, key string) error {
	if err == nil {
		return nil
	}
	return &redacted{msg: Excerpt([]byte(err.Error()), key), err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// KeyFromEnv reads an API key from the first of names that is set and not empty. It returns the
// key and the variable it came from.
func KeyFromEnv(lookup func(string) (string, bool), names ...string) (key, from string) {
	for _, n := range names {
		if v, ok := lookup(n); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v), n
		}
	}
	return "", ""
}

// Seed folds a 64-bit decision seed into the non-negative range of a provider's integer seed.
func Seed(s uint64, bits int) int64 {
	return int64(s & (1<<(bits-1) - 1))
}
