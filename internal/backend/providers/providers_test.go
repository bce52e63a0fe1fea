package providers

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/anthropic"
	"github.com/prosim/prosim/internal/backend/gemini"
	"github.com/prosim/prosim/internal/backend/openai"
)

const secret = "sk-PROVIDERS-TEST-SECRET-0123456789"

// defaultEnvs are the variables the clients read keys from by default.
var defaultEnvs = []string{"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"}

func clearKeys(t *testing.T) {
	for _, e := range defaultEnvs {
		t.Setenv(e, "")
	}
}

func TestNewBuildsEachProvider(t *testing.T) {
	clearKeys(t)
	t.Setenv("PROSIM_TEST_PROVIDER_KEY", secret)
	cases := []struct {
		provider string
		want     any
	}{
		{"openai", (*openai.Client)(nil)},
		{"vllm", (*openai.Client)(nil)},
		{"ollama", (*openai.Client)(nil)},
		{"anthropic", (*anthropic.Client)(nil)},
		{"gemini", (*gemini.Client)(nil)},
		{"Gemini", (*gemini.Client)(nil)},
		{"OpenAI", (*openai.Client)(nil)},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.provider, func(t *testing.T) {
			seen[strings.ToLower(tc.provider)] = true
			b, err := New(Spec{Provider: tc.provider, Model: "some-model", BaseURL: "http://127.0.0.1:9/", APIKeyEnv: "PROSIM_TEST_PROVIDER_KEY"})
			if err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(b) != reflect.TypeOf(tc.want) {
				t.Fatalf("New(%q) = %T, want %T", tc.provider, b, tc.want)
			}
			if m, ok := b.(interface{ Model() string }); !ok || m.Model() != "some-model" {
				t.Errorf("model not passed on: %v", b)
			}
		})
	}
	for _, n := range Names {
		if !seen[n] {
			t.Errorf("provider %q in Names is not tested", n)
		}
	}
}

// Local OpenAI-compatible servers need no key; OpenAI's own endpoint does.
func TestOpenAICompatibleWithoutKey(t *testing.T) {
	clearKeys(t)
	for _, p := range []string{"vllm", "ollama", "openai"} {
		if _, err := New(Spec{Provider: p, Model: "m", BaseURL: "http://127.0.0.1:8000/v1"}); err != nil {
			t.Errorf("%s with a local base URL and no key: %v", p, err)
		}
	}
}

func TestMissingKey(t *testing.T) {
	clearKeys(t)
	cases := []struct {
		spec Spec
		want []string // variables the error must name
	}{
		{Spec{Provider: "openai", Model: "gpt-4o-mini"}, []string{"OPENAI_API_KEY"}},
		{Spec{Provider: "anthropic", Model: "claude-sonnet-4-5"}, []string{"ANTHROPIC_API_KEY"}},
		{Spec{Provider: "gemini", Model: "gemini-2.5-flash"}, []string{"GEMINI_API_KEY", "GOOGLE_API_KEY"}},
		{Spec{Provider: "openai", Model: "gpt-4o-mini", APIKeyEnv: "PROSIM_TEST_NO_SUCH_KEY"}, []string{"PROSIM_TEST_NO_SUCH_KEY"}},
		{Spec{Provider: "anthropic", Model: "claude-sonnet-4-5", APIKeyEnv: "PROSIM_TEST_NO_SUCH_KEY"}, []string{"PROSIM_TEST_NO_SUCH_KEY"}},
		{Spec{Provider: "gemini", Model: "gemini-2.5-flash", APIKeyEnv: "PROSIM_TEST_NO_SUCH_KEY"}, []string{"PROSIM_TEST_NO_SUCH_KEY"}},
	}
	for _, tc := range cases {
		name := tc.spec.Provider + "/" + tc.spec.APIKeyEnv
		t.Run(name, func(t *testing.T) {
			b, err := New(tc.spec)
			if err == nil {
				t.Fatal("no error for a missing key")
			}
			if b != nil {
				t.Errorf("a Backend with the error: %#v", b)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
		})
	}

	// A key in some other variable (here every default one) is neither used nor shown when the
	// spec names a variable that is not set.
	for _, e := range defaultEnvs {
		t.Setenv(e, secret)
	}
	for _, p := range []string{"openai", "anthropic", "gemini"} {
		_, err := New(Spec{Provider: p, Model: "m", APIKeyEnv: "PROSIM_TEST_NO_SUCH_KEY"})
		if err == nil || !strings.Contains(err.Error(), "PROSIM_TEST_NO_SUCH_KEY") || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: err = %v", p, err)
		}
	}
}

// Configuration errors made with a key set never show the key.
func TestErrorsNeverShowKey(t *testing.T) {
	clearKeys(t)
	t.Setenv("PROSIM_TEST_PROVIDER_KEY", secret)
	for _, p := range []string{"openai", "anthropic", "gemini"} {
		for _, spec := range []Spec{
			{Provider: p, APIKeyEnv: "PROSIM_TEST_PROVIDER_KEY"},                                 // no model
			{Provider: p, Model: "m", BaseURL: "ftp://x", APIKeyEnv: "PROSIM_TEST_PROVIDER_KEY"}, // bad URL
		} {
			b, err := New(spec)
			if err == nil || b != nil {
				t.Errorf("%+v: b = %v, err = %v", spec, b, err)
				continue
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%+v: error shows the key: %v", spec, err)
			}
		}
	}
}

func TestUnknownProvider(t *testing.T) {
	for _, p := range []string{"mistral", "", "builtin"} {
		b, err := New(Spec{Provider: p, Model: "m"})
		if err == nil || b != nil {
			t.Fatalf("New(%q) = %v, %v", p, b, err)
		}
		if !strings.Contains(err.Error(), "unknown provider") || !strings.Contains(err.Error(), `"`+p+`"`) {
			t.Errorf("New(%q): %v", p, err)
		}
		for _, n := range Names {
			if !strings.Contains(err.Error(), n) {
				t.Errorf("error %q does not list %s", err, n)
			}
		}
	}
}

// The gemini spec reaches a Gemini server, with the key from the named variable.
func TestGeminiEndToEnd(t *testing.T) {
	clearKeys(t)
	t.Setenv("PROSIM_TEST_PROVIDER_KEY", secret)
	var path, key string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, key = r.URL.Path, r.Header.Get("X-Goog-Api-Key")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"candidates":[{"content":{"parts":[{"text":"{\"willingness\":4}"}],"role":"model"},"finishReason":"STOP"}],
		 "usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":3},"modelVersion":"gemini-2.5-flash"}`)
	}))
	defer srv.Close()
	b, err := New(Spec{Provider: "gemini", Model: "gemini-2.5-flash", BaseURL: srv.URL, APIKeyEnv: "PROSIM_TEST_PROVIDER_KEY"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := b.Decide(context.Background(), backend.Request{Prompt: "How willing?"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Raw != `{"willingness":4}` || rep.Provider != "gemini" || rep.InputTokens != 7 || rep.OutputTokens != 3 || rep.Calls != 1 {
		t.Errorf("reply = %+v", rep)
	}
	if path != "/v1beta/models/gemini-2.5-flash:generateContent" || key != secret {
		t.Errorf("path %q, key sent %v", path, key == secret)
	}
}

// A key bound for a remote host over plain http is warned about; https, loopback servers and
// specs without a key in the environment are not.
func TestPlainHTTPKeyWarning(t *testing.T) {
	t.Setenv("PROSIM_TEST_KEY", "sk-test-value")
	t.Setenv("OPENAI_API_KEY", "")
	for _, c := range []struct {
		spec Spec
		warn bool
	}{
		{Spec{Provider: "openai", BaseURL: "http://10.1.2.3:8000/v1", APIKeyEnv: "PROSIM_TEST_KEY"}, true},
		{Spec{Provider: "vllm", BaseURL: "http://gpu-box.lan/v1", APIKeyEnv: "PROSIM_TEST_KEY"}, true},
		{Spec{Provider: "openai", BaseURL: "https://api.example.com/v1", APIKeyEnv: "PROSIM_TEST_KEY"}, false},
		{Spec{Provider: "ollama", BaseURL: "http://127.0.0.1:11434/v1", APIKeyEnv: "PROSIM_TEST_KEY"}, false},
		{Spec{Provider: "openai", BaseURL: "http://localhost:8000/v1", APIKeyEnv: "PROSIM_TEST_KEY"}, false},
		{Spec{Provider: "openai", BaseURL: "http://[::1]:8000/v1", APIKeyEnv: "PROSIM_TEST_KEY"}, false},
		{Spec{Provider: "openai", BaseURL: "http://10.1.2.3:8000/v1"}, false}, // OPENAI_API_KEY is empty
	} {
		w := PlainHTTPKeyWarning(c.spec)
		if (w != "") != c.warn {
			t.Errorf("%+v: warning %q, want warning %v", c.spec, w, c.warn)
		}
		if strings.Contains(w, "sk-test-value") {
			t.Errorf("the warning shows the key: %q", w)
		}
	}
}
