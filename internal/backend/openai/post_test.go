package openai

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/backend/providers/providertest"
)

// The chat endpoint is joined to the base URL as the SDK joined it.
func TestEndpoint(t *testing.T) {
	for base, want := range map[string]string{
		"https://api.openai.com/v1":          "https://api.openai.com/v1/chat/completions",
		"http://127.0.0.1:8000/v1":           "http://127.0.0.1:8000/v1/chat/completions",
		"http://localhost:11434":             "http://localhost:11434/chat/completions",
		"https://x.example/openai/v1?key=v":  "https://x.example/openai/v1/chat/completions",
		"https://x.example/a%20b/v1":         "https://x.example/a%20b/v1/chat/completions",
		"https://x.example:8443/deep/er/v1/": "https://x.example:8443/deep/er/v1/chat/completions",
	} {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		if got := endpoint(u, "chat/completions"); got != want {
			t.Errorf("%s: %s, want %s", base, got, want)
		}
	}
}

// A redirect to another origin is not followed (the key would go with it); one within the
// base URL's origin is. The headers sent are the JSON ones, the key and prosim's User-Agent.
func TestRedirects(t *testing.T) {
	other := newServer(t, jsonReply(200, okBody))
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/chat/completions":
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusTemporaryRedirect)
		default:
			jsonReply(200, okBody)(w, r)
		}
	})
	c := newTestClient(t, s)
	c.chatURL += "?to=" + url.QueryEscape(other.URL+"/v1/chat/completions")
	_, err := c.Decide(context.Background(), request())
	if se := statusErr(t, err); !strings.Contains(se.Error(), "origin") || other.Calls != 0 {
		t.Fatalf("redirect to another origin: %v; that server got %d calls", err, other.Calls)
	}
	c.chatURL = s.URL + "/v1/chat/completions?to=/v1/moved"
	rep, err := c.Decide(context.Background(), request())
	if err != nil || rep.Raw != `{"willingness":5}` || s.Path != "/v1/moved" {
		t.Fatalf("redirect within the origin: %+v, %v (last path %s)", rep, err, s.Path)
	}
	h := s.Header
	if h.Get("Authorization") != "Bearer "+fakeKey || h.Get("Content-Type") != "application/json" ||
		h.Get("Accept") != "application/json" || h.Get("User-Agent") != "prosim" || s.Body["model"] != "gpt-4o-mini" {
		t.Errorf("headers %v, body %v", h, s.Body)
	}
}

// A redirect to another host is refused by the chat calls and by the batch services alike
// (their SDK client is built on the same wire.HTTPClient), as a ConfigError that is not
// retried. QA12 #2.
func TestRedirectAwayRefused(t *testing.T) {
	base, other := providertest.RedirectAway(t, jsonReply(200, okBody))
	c := newTestClient(t, base)
	_, err := c.Decide(context.Background(), request())
	providertest.CheckRedirectRefused(t, err, Provider, fakeKey, base, other)

	base, other = providertest.RedirectAway(t, jsonReply(200, `{"id":"batch_1","status":"in_progress"}`))
	c = newTestClient(t, base)
	_, _, _, err = c.BatchStatus(context.Background(), "batch_1")
	providertest.CheckRedirectRefused(t, err, Provider, fakeKey, base, other)
}
