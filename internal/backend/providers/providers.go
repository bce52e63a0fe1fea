// Package providers builds the provider client for a backend spec: it is the one place that
// knows which provider name maps to which client package.
package providers

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/anthropic"
	"github.com/prosim/prosim/internal/backend/gemini"
	"github.com/prosim/prosim/internal/backend/openai"
	"github.com/prosim/prosim/internal/backend/providers/wire"
	"github.com/prosim/prosim/internal/provider"
)

// Spec names one endpoint of one model.
type Spec struct {
	// Provider is openai, vllm, ollama, anthropic or gemini.
	Provider string
	Model    string
	// BaseURL is the API root; empty means the provider's own.
	BaseURL string
	// APIKeyEnv names the environment variable holding the key; empty means the provider's
	// default variable.
	APIKeyEnv string
	// StructuredOutput is "" or auto (the provider's default), json_schema, json_object
	// (OpenAI-compatible only) or off.
	StructuredOutput string
	// MaxTokensField is "" (the client's default), max_tokens or max_completion_tokens
	// (OpenAI-compatible only).
	MaxTokensField string
	// NoSeed stops each decision's seed being sent (OpenAI-compatible, Gemini).
	NoSeed bool
	// ConnectTimeout bounds establishing a connection (dial and TLS handshake), apart from the
	// call's own timeout; 0 means net/http's defaults.
	ConnectTimeout time.Duration
	// MaxReply bounds the body of a successful reply in bytes; a larger one is recorded
	// invalid, "reply too large" (0: wire.DefaultMaxReply, 1 MiB).
	MaxReply int64
	// FirstByteTimeout, when above 0, streams each reply and bounds the wait for its first
	// byte; Timeout then bounds the rest of the reply (OpenAI-compatible only). The caller's
	// per-call deadline must allow both.
	FirstByteTimeout time.Duration
	Timeout          time.Duration
	// ExtraBody is a JSON object of server-specific fields merged into every request body
	// (OpenAI-compatible only; see experiment.Backend.ExtraBody).
	ExtraBody []byte
}

// CallTimeout is the per-call deadline for spec's calls given the backend's timeout: with a
// first-byte timeout, a call may wait that long for its first byte and then timeout more.
func CallTimeout(spec Spec, timeout time.Duration) time.Duration {
	if spec.FirstByteTimeout > 0 {
		return spec.FirstByteTimeout + timeout
	}
	return timeout
}

// Names lists the providers New accepts: every provider but the builtin model.
var Names = provider.Names()[1:]

// New makes the client for spec. vLLM and Ollama speak OpenAI's protocol. On error the
// Backend is nil (an untyped nil, never a nil client pointer in an interface).
func New(spec Spec) (backend.Backend, error) {
	proto := provider.Protocol(strings.ToLower(spec.Provider))
	structured := true
	switch spec.StructuredOutput {
	case "", "auto", "json_schema":
	case "off":
		structured = false
	case "json_object":
		if proto != "openai" {
			return nil, fmt.Errorf("%s: structured output json_object is for OpenAI-compatible servers", spec.Provider)
		}
	default:
		return nil, fmt.Errorf("%s: structured output %q: want auto, json_schema, json_object or off", spec.Provider, spec.StructuredOutput)
	}
	if spec.FirstByteTimeout > 0 && proto != "openai" {
		return nil, fmt.Errorf("%s: first_byte_timeout streams the reply, which prosim does for OpenAI-compatible servers only", spec.Provider)
	}
	if spec.MaxTokensField != "" && proto != "openai" {
		return nil, fmt.Errorf("%s: max_tokens_field is for OpenAI-compatible servers", spec.Provider)
	}
	if len(spec.ExtraBody) > 0 && proto != "openai" {
		return nil, fmt.Errorf("%s: extra_body is sent to OpenAI-compatible servers only", spec.Provider)
	}
	hc := httpClient(spec.ConnectTimeout, spec.MaxReply)
	switch proto {
	case "openai":
		return client(openai.New(openai.Config{Model: spec.Model, BaseURL: spec.BaseURL, APIKeyEnv: spec.APIKeyEnv, HTTPClient: hc,
			StructuredOutput: &structured, ResponseFormat: spec.StructuredOutput, MaxTokensField: spec.MaxTokensField, NoSeed: spec.NoSeed,
			FirstByteTimeout: spec.FirstByteTimeout, GenerationTimeout: spec.Timeout, ExtraBody: spec.ExtraBody}))
	case "anthropic":
		return client(anthropic.New(anthropic.Config{Model: spec.Model, BaseURL: spec.BaseURL, APIKeyEnv: spec.APIKeyEnv, HTTPClient: hc, StructuredOutput: &structured}))
	case "gemini":
		return client(gemini.New(gemini.Config{Model: spec.Model, BaseURL: spec.BaseURL, APIKeyEnv: spec.APIKeyEnv, HTTPClient: hc, StructuredOutput: &structured, NoSeed: spec.NoSeed}))
	}
	return nil, fmt.Errorf("unknown provider %q (want one of %s, or builtin)", spec.Provider, strings.Join(Names, ", "))
}

// MissingKey is the error New gives for spec's API key missing from the environment, nil when
// it is there (or spec's server wants none): checked apart from the rest of spec, so that a
// backend with other problems, of which no client is made, has its missing key told with them.
func MissingKey(spec Spec) error {
	switch provider.Protocol(strings.ToLower(spec.Provider)) {
	case "openai":
		return openai.MissingKey(openai.Config{BaseURL: spec.BaseURL, APIKeyEnv: spec.APIKeyEnv})
	case "anthropic":
		return anthropic.MissingKey(anthropic.Config{APIKeyEnv: spec.APIKeyEnv})
	case "gemini":
		return gemini.MissingKey(gemini.Config{APIKeyEnv: spec.APIKeyEnv})
	}
	return nil
}

// httpClient is nil (the clients' pooled default) without a connect timeout or reply limit,
// else the pooled transport with that bound on dialling and the TLS handshake and that limit
// on a reply's size. A server that accepted the connection and is busy generating is bounded
// by the call's timeout, not by the connect timeout.
func httpClient(connect time.Duration, maxReply int64) *http.Client {
	if connect <= 0 && maxReply <= 0 {
		return nil
	}
	t := wire.PooledTransport()
	if connect > 0 {
		t.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = connect
	}
	return &http.Client{Transport: &wire.Transport{Next: t, MaxReply: maxReply}}
}

func client[C backend.Backend](c C, err error) (backend.Backend, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Local reports whether baseURL names a server on this machine or a private network
// (localhost, a loopback, private or link-local address): a self-hosted vLLM or Ollama, whose
// capacity is one machine's, rather than a provider's fleet.
func Local(baseURL string) bool {
	u, err := url.Parse(baseURL)
	if err != nil || baseURL == "" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast())
}

// AdaptiveOn reports whether an endpoint gets backend.Adaptive: mode is the backend's
// adaptive_concurrency (auto, the default, means for Local base URLs only).
func AdaptiveOn(mode, baseURL string) bool {
	switch mode {
	case "on":
		return true
	case "off":
		return false
	}
	return Local(baseURL)
}

// PlainHTTPKeyWarning says when spec would send an API key over plain http to a host that is
// not this machine ("" otherwise): the key would cross the network unencrypted. Loopback
// servers (a local vLLM or Ollama) are exempt, as is a spec with no key in the environment.
func PlainHTTPKeyWarning(spec Spec) string {
	u, err := url.Parse(spec.BaseURL)
	if err != nil || u.Scheme != "http" {
		return ""
	}
	host := u.Hostname()
	if host == "localhost" {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return ""
	}
	names := []string{spec.APIKeyEnv}
	if spec.APIKeyEnv == "" {
		switch provider.Protocol(strings.ToLower(spec.Provider)) {
		case "openai":
			names = []string{openai.DefaultAPIKeyEnv}
		case "anthropic":
			names = []string{anthropic.DefaultAPIKeyEnv}
		case "gemini":
			names = []string{gemini.DefaultAPIKeyEnv, gemini.FallbackAPIKeyEnv}
		}
	}
	for _, n := range names {
		if n != "" && os.Getenv(n) != "" {
			return fmt.Sprintf("the API key in %s will be sent to %s over plain http (unencrypted); use https unless this network is yours", n, u.Host)
		}
	}
	return ""
}

// DefaultMaxTokens is the completion limit the provider's client sends when a request sets
// none: the worst-case output of a call, for a budget's reservations.
func DefaultMaxTokens(providerName string) int {
	switch provider.Protocol(strings.ToLower(providerName)) {
	case "anthropic":
		return anthropic.DefaultMaxTokens
	case "gemini":
		return gemini.DefaultMaxTokens
	}
	return openai.DefaultMaxTokens
}
