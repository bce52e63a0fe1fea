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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/textcut"
)

// maxErrorBody bounds how much of an error response body is kept.
const maxErrorBody = 64 << 10

// BodyExcerpt is the length of the body excerpt put in a StatusError.
const BodyExcerpt = 512

// Exchange is what the transport saw of the last HTTP response of one call.
type Exchange struct {
	Status int
	Header http.Header
	// Body is the start of the body of an error response (status >= 400), or of a 2xx
	// response that is not JSON; nil otherwise.
	Body []byte
	// TooLarge is set when a 2xx reply was larger than the transport's MaxReply: its size in
	// bytes when the server said it (Content-Length), -1 when it was cut off while being read.
	// The reply is never held whole.
	TooLarge int64
	// Max is the reply size limit that applied (for messages).
	Max int64
	// NotJSON is the content type of a 2xx reply whose body is not JSON (an HTML page from a
	// proxy, say); empty otherwise. A JSON body sent with a wrong content type is passed on as
	// JSON and does not set it.
	NotJSON string
}

// TooLargeReason is the Invalid reason for a reply over the size limit, and whether there was
// one.
func (ex *Exchange) TooLargeReason() (string, bool) {
	if ex == nil || ex.TooLarge == 0 {
		return "", false
	}
	if ex.TooLarge > 0 {
		return fmt.Sprintf("reply too large (%d bytes; the limit is %d)", ex.TooLarge, ex.Max), true
	}
	return fmt.Sprintf("reply too large (more than the limit of %d bytes)", ex.Max), true
}

// DefaultMaxReply is the default limit on the size of a successful reply body (1 MiB): a
// reply to one decision is a few kilobytes, so anything much larger is a broken server, and
// holding it (or paying for it again) helps nobody.
const DefaultMaxReply = 1 << 20

// ErrTooLarge is the read error a reply over the size limit gives the SDK.
var ErrTooLarge = errors.New("reply too large")

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
	// MaxReply limits the body of a successful reply, in bytes (0: DefaultMaxReply). A larger
	// reply is cut off at the limit and reported through Exchange.TooLarge.
	MaxReply int64
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	res, err := next.RoundTrip(inMemoryBody(req))
	ex, _ := req.Context().Value(exchangeKey{}).(*Exchange)
	if ex == nil || res == nil {
		return res, err
	}
	ex.Status = res.StatusCode
	ex.Header = res.Header // read only for an error status (Fail), which clones it below
	ex.Body = nil
	if res.StatusCode >= 400 && res.Body != nil {
		ex.Header = res.Header.Clone()
		// Read the error body here so that it is available whatever the SDK makes of it, and
		// hand the SDK the same bytes.
		b, rerr := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
		res.Body.Close()
		ex.Body = b
		res.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), errReader{rerr}))
		return res, err
	}
	max := t.MaxReply
	if max <= 0 {
		max = DefaultMaxReply
	}
	ex.Max = max
	if res.Body == nil || res.Body == http.NoBody {
		return res, err
	}
	if res.ContentLength > max {
		res.Body.Close()
		ex.TooLarge = res.ContentLength
		res.Body = io.NopCloser(errReader{ErrTooLarge})
		return res, err
	}
	ct := res.Header.Get("Content-Type")
	if res.StatusCode >= 200 && res.StatusCode < 300 && !strings.Contains(strings.ToLower(ct), "json") &&
		!strings.Contains(strings.ToLower(ct), "event-stream") {
		// A server (or a proxy in front of it) that labels its JSON text/html or text/plain:
		// the SDKs refuse such a reply, and the call would be retried and paid again for
		// nothing. Read it (within the limit): JSON is passed on as JSON, anything else is
		// reported once, as what it is.
		b, rerr := io.ReadAll(io.LimitReader(res.Body, max+1))
		res.Body.Close()
		if int64(len(b)) > max {
			ex.TooLarge = -1
			res.Body = io.NopCloser(errReader{ErrTooLarge})
			return res, err
		}
		if rerr == nil && json.Valid(b) {
			res.Header.Set("Content-Type", "application/json")
		} else if rerr == nil {
			if ct == "" {
				ct = "none"
			}
			ex.NotJSON = ct
			ex.Body = b[:min(len(b), maxErrorBody)]
		}
		res.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), errReader{rerr}))
		return res, err
	}
	res.Body = &limitedBody{rc: res.Body, left: max, ex: ex}
	return res, err
}

// inMemoryBody returns req with its body as GetBody gives it, when it can be rewound. The
// SDKs wrap an in-memory body in readers of their own, which net/http cannot see through: it
// then flushes the headers in a write of their own before copying the body, two write
// system calls per request instead of one (a measurable share of a call's CPU against a fast
// local server). GetBody's copy of a bytes body is an io.NopCloser of a *bytes.Reader, which
// net/http recognises. The request is copied, not modified, and its own body is closed, as
// RoundTrip must.
func inMemoryBody(req *http.Request) *http.Request {
	if req.GetBody == nil || req.Body == nil || req.Body == http.NoBody || req.ContentLength <= 0 {
		return req
	}
	b, err := req.GetBody()
	if err != nil {
		return req
	}
	req.Body.Close()
	r := *req
	r.Body = b
	return &r
}

// limitedBody reads at most left bytes of rc; past that it fails with ErrTooLarge and marks
// the exchange.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
	ex   *Exchange
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.rc.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		l.ex.TooLarge = -1
		return 0, ErrTooLarge
	}
	return n, err
}

func (l *limitedBody) Close() error { return l.rc.Close() }

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

// HTTPClient returns a copy of base whose transport records exchanges and that follows no
// redirect leaving root's scheme and host (see SameOrigin); base's Timeout and Jar are kept,
// its CheckRedirect applies to the other redirects, and its transport is kept when it is
// already a *Transport (which sets MaxReply). A nil base means a client on PooledTransport.
// Every provider client is built on it, so that one policy keeps the key at the base URL.
func HTTPClient(base *http.Client, root *url.URL) *http.Client {
	c := http.Client{Transport: PooledTransport()}
	if base != nil {
		c = *base
	}
	if _, ok := c.Transport.(*Transport); !ok {
		c.Transport = &Transport{Next: c.Transport}
	}
	return SameOrigin(&c, root)
}

// SameOrigin returns a copy of hc that refuses a redirect to another scheme or host than
// root's: net/http drops only Authorization and Cookie on such a redirect, and the SDKs'
// key headers (x-api-key, x-goog-api-key) would go with it. The refusal is a
// *backend.ConfigError: every call would meet it, so it is not retried and the run stops on
// it, naming the base URL. hc's own policy (net/http's default: at most 10) applies to the
// other redirects.
func SameOrigin(hc *http.Client, root *url.URL) *http.Client {
	c := *hc
	next := hc.CheckRedirect
	origin := root.Scheme + "://" + root.Host
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !strings.EqualFold(req.URL.Scheme, root.Scheme) || !strings.EqualFold(req.URL.Host, root.Host) {
			return &backend.ConfigError{Err: fmt.Errorf("%w: the server at the base URL %s redirected to another origin, %s://%s, and the API key is sent to no other server: set base_url to the server that answers",
				ErrOtherOrigin, origin, req.URL.Scheme, req.URL.Host)}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 { // net/http's default policy
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

// ErrOtherOrigin is the error of a refused redirect (see SameOrigin).
var ErrOtherOrigin = errors.New("redirect refused")

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
	if ex != nil && ex.NotJSON != "" && ex.Status < 400 {
		// Not worth a retry: the same server will say the same (Retryable is false for 2xx).
		e.Status = ex.Status
		e.Body = "reply is not JSON (content type " + Excerpt([]byte(ex.NotJSON), key) + "): " + Excerpt(ex.Body, key)
		return e
	}
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

// Answered reports whether the call's response came with a 2xx status and a JSON body: a
// failure after it (a body cut or malformed, not the protocol's shape) is a reply the provider
// may have billed. A 2xx page that is not JSON (NotJSON) is not the provider's generation but
// something in front of it (a proxy's error page, a captive portal's sign-in).
func (ex *Exchange) Answered() bool {
	return ex != nil && ex.Status >= 200 && ex.Status < 300 && ex.NotJSON == ""
}

// Unusable marks se, the failure of a call whose response came with a 2xx status, as a reply
// that may have been billed, counted at in and out tokens of model (its usage when it said
// one, else the call's worst case, backend.WorstCase). See backend.StatusError.Unusable.
func Unusable(se *backend.StatusError, model string, in, out int) *backend.StatusError {
	se.Unusable, se.Model, se.InputTokens, se.OutputTokens = true, model, in, out
	return se
}

// Failed is what a provider client records of a call that failed with err (not nil), ex being
// its exchange, model the name its replies carry, n the choices it asked for and in and out
// its worst case (backend.WorstCase): its tokens are unknown either way.
//   - A reply over the size limit (TooLargeReason) gives replies, n of them (1 when partial,
//     a call that may return fewer choices) invalid for it: it was paid for, and asking again
//     would pay again for the same. The first counts the call, as an unusable one at in and out.
//   - Any other failure gives Fail's error, marked Unusable at in and out when the response
//     came with a 2xx status (Answered): a reply that may have been billed.
func Failed(provider, model, key string, ex *Exchange, err error, n int, partial bool, latency time.Duration, in, out int) ([]backend.Reply, *backend.StatusError) {
	if why, ok := ex.TooLargeReason(); ok {
		if partial {
			n = 1
		}
		replies := make([]backend.Reply, n)
		for i := range replies {
			replies[i] = backend.Reply{Invalid: why, Provider: provider, Model: model, Latency: latency}
		}
		replies[0].Calls, replies[0].UnusableCalls = 1, 1
		replies[0].UnusableInputTokens, replies[0].UnusableOutputTokens = in, out
		return replies, nil
	}
	se := Fail(provider, ex, err, key)
	if ex.Answered() {
		se = Unusable(se, model, in, out)
	}
	return nil, se
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
	return textcut.Shorten(strings.Join(strings.Fields(s), " "), BodyExcerpt)
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

// RequireKey is KeyFromEnv's key, or, when none of names is set, the error every provider
// gives: "<provider>: no API key: set the environment variable A or B" (the names, never a
// value).
func RequireKey(provider string, lookup func(string) (string, bool), names ...string) (string, error) {
	key, _ := KeyFromEnv(lookup, names...)
	if key == "" {
		return "", fmt.Errorf("%s: no API key: set the environment variable %s", provider, strings.Join(names, " or "))
	}
	return key, nil
}

// Seed folds a 64-bit decision seed into the non-negative range of a provider's integer seed.
func Seed(s uint64, bits int) int64 {
	return int64(s & (1<<(bits-1) - 1))
}
