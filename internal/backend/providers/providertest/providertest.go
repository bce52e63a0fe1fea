// Package providertest holds the loopback servers and checks the provider clients (openai,
// anthropic, gemini) are tested with: each speaks its provider's protocol through a respond
// function, and the server records what the client sent.
package providertest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prosim/prosim/internal/backend"
)

// Server is a fake provider endpoint on loopback. It records the last request it was sent
// (its JSON body, headers, path and query) and counts requests; read them under Mu while
// the client may still be calling.
type Server struct {
	*httptest.Server
	Mu     sync.Mutex
	Body   map[string]any
	Header http.Header
	Path   string
	Query  string
	Calls  int
	// Respond answers each request; a test may swap it (under Mu) between calls.
	Respond http.HandlerFunc
}

// New starts a Server that answers every request with respond, and closes it when t ends.
func New(t testing.TB, respond http.HandlerFunc) *Server {
	t.Helper()
	s := &Server{Respond: respond}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		s.Mu.Lock()
		s.Body, s.Header, s.Path, s.Query = m, r.Header.Clone(), r.URL.Path, r.URL.RawQuery
		s.Calls++
		respond := s.Respond
		s.Mu.Unlock()
		respond(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// NumCalls is the number of requests served so far.
func (s *Server) NumCalls() int {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.Calls
}

// JSONReply answers with status and body, typed contentType, after setting the given header
// pairs (name, value, name, value, ...).
func JSONReply(status int, contentType, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// Hijack writes a 200 status line, headers promising 4096 bytes and only partial of them,
// then closes the connection: a body cut off in transit.
func Hijack(partial string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n")
		buf.WriteString(partial)
		buf.Flush()
	}
}

// StatusErr fails t unless err is a *backend.StatusError of provider that does not contain
// key (an API key must never reach an error message), and returns it.
func StatusErr(t testing.TB, err error, provider, key string) *backend.StatusError {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got nil")
	}
	var se *backend.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("want *backend.StatusError, got %T: %v", err, err)
	}
	if strings.Contains(err.Error(), key) || strings.Contains(se.Body, key) {
		t.Fatalf("error leaks the API key: %v / %q", err, se.Body)
	}
	if se.Provider != provider {
		t.Errorf("Provider = %q", se.Provider)
	}
	return se
}

// RedirectAway starts two servers: base answers every request with a 307 to the same path on
// other, which answers with respond. A client built on base must refuse the redirect (its key
// would go to other); CheckRedirectRefused checks that it did.
func RedirectAway(t testing.TB, respond http.HandlerFunc) (base, other *Server) {
	t.Helper()
	other = New(t, respond)
	base = New(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	})
	return base, other
}

// CheckRedirectRefused fails t unless err is the refusal of RedirectAway's redirect: a
// *backend.ConfigError naming base's URL, not retryable, without the key, after one request
// to base and none to other.
func CheckRedirectRefused(t testing.TB, err error, provider, key string, base, other *Server) {
	t.Helper()
	se := StatusErr(t, err, provider, key)
	if _, ok := errors.AsType[*backend.ConfigError](err); !ok || se.Retryable() {
		t.Errorf("want a ConfigError that is not retried, got %T (retryable %v): %v", err, se.Retryable(), err)
	}
	if !strings.Contains(err.Error(), "base URL "+base.URL) || !strings.Contains(err.Error(), other.URL) {
		t.Errorf("the error names neither the base URL nor where it redirected: %v", err)
	}
	if n := other.NumCalls(); n != 0 {
		t.Errorf("the other server got %d requests (key headers %q %q %q)", n,
			other.Header.Get("X-Api-Key"), other.Header.Get("X-Goog-Api-Key"), other.Header.Get("Authorization"))
	}
	if n := base.NumCalls(); n != 1 {
		t.Errorf("the base server got %d requests, want 1", n)
	}
}
