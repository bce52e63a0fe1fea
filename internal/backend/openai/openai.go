// Package openai is the backend client for OpenAI's chat completions API and every server that
// speaks it: vLLM, Ollama, llama.cpp server, LM Studio, OpenRouter and others.
//
// The client makes exactly one HTTP call per Decide: the SDK's own retries are off (prosim's
// retry wrapper owns retries) and no SDK timeout is set (the caller's context carries the
// per-call deadline). Replies are returned raw: parsing and validation are the validity
// wrapper's job.
package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers/wire"
)

// Provider is the name this client reports in replies and errors.
const Provider = "openai"

// DefaultBaseURL is OpenAI's own endpoint.
const DefaultBaseURL = "https://api.openai.com/v1"

// DefaultAPIKeyEnv is the environment variable the key is read from unless Config says otherwise.
const DefaultAPIKeyEnv = "OPENAI_API_KEY"

// DefaultMaxTokens is the completion limit sent when a request does not set one.
const DefaultMaxTokens = 256

// SchemaName is the name given to the response schema in response_format.
const SchemaName = "response"

// Config configures a Client.
type Config struct {
	// Model is the model name sent with every request (required).
	Model string
	// BaseURL is the API root, e.g. "http://127.0.0.1:8000/v1" for vLLM; empty means OpenAI.
	BaseURL string
	// APIKeyEnv names the environment variable holding the API key; empty means OPENAI_API_KEY.
	// With the default BaseURL the key is required; with any other BaseURL (local servers
	// often need none) a missing key means requests are sent without one.
	APIKeyEnv string
	// HTTPClient is the HTTP client to use; nil means a plain client with a connection pool
	// sized for many concurrent calls to one host (see Transport). It is copied, not modified.
	HTTPClient *http.Client
	// StructuredOutput sends response_format json_schema (strict) built from the request's
	// schema. Nil means on. Turn it off for servers that reject response_format.
	StructuredOutput *bool
	// ResponseFormat is "json_object" to send response_format {"type": "json_object"} (any
	// JSON object, for servers without JSON Schema support) instead of json_schema; "",
	// "auto" and "json_schema" mean json_schema, "off" is StructuredOutput off.
	ResponseFormat string
	// MaxTokensField is the name of the completion limit field: "max_completion_tokens" (what
	// OpenAI's current models accept) or "max_tokens" (what older OpenAI-compatible servers
	// accept). Empty means max_completion_tokens for OpenAI's own endpoint and max_tokens for
	// any other BaseURL.
	MaxTokensField string
	// FirstByteTimeout, when above 0, streams each reply (stream: true) and bounds the wait
	// for its first byte by it (connection, queueing in the server, prompt processing);
	// GenerationTimeout (0: none) then bounds the rest of the reply. See stream.go.
	FirstByteTimeout  time.Duration
	GenerationTimeout time.Duration
	// NoSeed stops the request's seed being sent. By default the decision seed is sent as
	// "seed", which makes replies reproducible on servers that honour it (vLLM, llama.cpp).
	NoSeed bool
	// ExtraBody is a JSON object of server-specific fields (Ollama's options, vLLM's top_k,
	// ...) merged into every request body; a field the client writes itself is refused.
	ExtraBody []byte
}

// Client is an OpenAI-compatible chat completions backend. It is safe for concurrent use.
type Client struct {
	model      string
	baseURL    string
	key        string
	structured bool
	jsonObject bool
	maxField   string
	seed       bool
	firstByte  time.Duration // streamed calls: see Config.FirstByteTimeout
	generation time.Duration
	extra      []byte // Config.ExtraBody's members, each with a leading comma
	// Chat calls go through hc (see post.go) to chatURL; the SDK's services serve batch mode.
	hc      *http.Client
	chatURL string
	auth    []string         // the Authorization header's value; nil without a key
	files   sdk.FileService  // batch mode: input and output files
	batches sdk.BatchService // batch mode: jobs
}

var _ backend.Backend = (*Client)(nil)

// Bool returns a pointer to b, for Config.StructuredOutput.
func Bool(b bool) *bool { return &b }

// New makes a Client. The API key is read from the environment variable named by
// cfg.APIKeyEnv; a missing (or empty) key is an error naming that variable (never its value),
// unless cfg.BaseURL points somewhere other than OpenAI and cfg.APIKeyEnv names no variable.
func New(cfg Config) (*Client, error) {
	return newClient(cfg, os.LookupEnv)
}

// MissingKey is the error New gives when cfg's API key is not in the environment, nil when it
// is or none is wanted: checked apart from the rest of cfg, so that a missing key is told with
// cfg's other problems, and no client is made of a cfg with problems.
func MissingKey(cfg Config) error {
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	_, err := apiKey(cfg, base != "" && base != DefaultBaseURL, os.LookupEnv)
	return err
}

// apiKey is cfg's API key, read from the environment variable cfg.APIKeyEnv names; custom
// says that cfg.BaseURL is not OpenAI's.
func apiKey(cfg Config, custom bool, lookup func(string) (string, bool)) (string, error) {
	env := cfg.APIKeyEnv
	if env == "" {
		env = DefaultAPIKeyEnv
	}
	key, err := wire.RequireKey("openai", lookup, env)
	// A server of one's own (a local vLLM) may want no key; but a variable named in
	// api_key_env is wanted, and running without it would send every call keyless.
	if err != nil && custom && cfg.APIKeyEnv == "" {
		return "", nil
	}
	return key, err
}

func newClient(cfg Config, lookup func(string) (string, bool)) (*Client, error) {
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("openai: model is required")
	}
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	custom := base != "" && base != DefaultBaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openai: base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	key, err := apiKey(cfg, custom, lookup)
	if err != nil {
		return nil, err
	}
	maxField := cfg.MaxTokensField
	switch maxField {
	case "":
		maxField = "max_completion_tokens"
		if custom {
			maxField = "max_tokens"
		}
	case "max_tokens", "max_completion_tokens":
	default:
		return nil, fmt.Errorf("openai: MaxTokensField %q: want max_tokens or max_completion_tokens", maxField)
	}
	switch cfg.ResponseFormat {
	case "", "auto", "json_schema", "json_object", "off":
	default:
		return nil, fmt.Errorf("openai: ResponseFormat %q: want auto, json_schema, json_object or off", cfg.ResponseFormat)
	}
	extra, err := extraMembers(cfg.ExtraBody)
	if err != nil {
		return nil, err
	}
	hc := wire.HTTPClient(cfg.HTTPClient, u)
	opts := []option.RequestOption{
		option.WithBaseURL(base),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0),
	}
	var auth []string
	if key != "" {
		opts = append(opts, option.WithAPIKey(key))
		auth = []string{"Bearer " + key}
	}
	return &Client{
		model:      cfg.Model,
		baseURL:    base,
		key:        key,
		structured: (cfg.StructuredOutput == nil || *cfg.StructuredOutput) && cfg.ResponseFormat != "off",
		jsonObject: cfg.ResponseFormat == "json_object",
		maxField:   maxField,
		seed:       !cfg.NoSeed,
		firstByte:  max(0, cfg.FirstByteTimeout),
		generation: max(0, cfg.GenerationTimeout),
		extra:      extra,
		hc:         hc,
		chatURL:    endpoint(u, "chat/completions"),
		auth:       auth,
		// The services are built without openai.NewClient so that no ambient OPENAI_*
		// variable (base URL, organisation, project, a key meant for OpenAI) leaks into requests.
		files:   sdk.NewFileService(opts...),
		batches: sdk.NewBatchService(opts...),
	}, nil
}

// Model is the configured model name.
func (c *Client) Model() string { return c.model }

// BaseURL is the API root requests go to.
func (c *Client) BaseURL() string { return c.baseURL }

// Decide asks for one chat completion; with req.N above 1, for N choices in one call (the "n"
// parameter): the first is the reply, the others are in Reply.Samples. The reply then accounts
// for the whole call (Calls 1, the call's tokens) and the samples carry none. A server that
// returns fewer choices than asked is not an error here: the samples are what it returned.
func (c *Client) Decide(ctx context.Context, req backend.Request) (backend.Reply, error) {
	n := max(1, req.N)
	replies, err := c.call(ctx, req, n, true)
	if err != nil {
		return backend.Reply{}, err
	}
	r := replies[0]
	if n > 1 {
		for _, s := range replies[1:] {
			r.InputTokens += s.InputTokens
			r.OutputTokens += s.OutputTokens
			s.InputTokens, s.OutputTokens = 0, 0
			r.Samples = append(r.Samples, s)
		}
	}
	return r, nil
}

var _ backend.Multi = (*Client)(nil)

// DecideN asks for n choices of the same request in one call (the "n" parameter), for
// replicates. It returns exactly n replies, in the server's choice order.
//
// Token attribution: the prompt is sent and billed once and the server reports only totals, so
// the totals are split evenly, remainders going to the first replies: summed over the replies,
// InputTokens and OutputTokens equal the call's usage. Calls is 1 on the first reply and 0 on
// the others, so that summing Calls counts HTTP calls. Every reply carries the call's latency.
// A server that returns fewer than n choices (some OpenAI-compatible servers ignore n) is an
// error, since replicates would otherwise silently repeat.
func (c *Client) DecideN(ctx context.Context, req backend.Request, n int) ([]backend.Reply, error) {
	if n < 1 {
		return nil, fmt.Errorf("openai: DecideN: n must be at least 1 (got %d)", n)
	}
	return c.call(ctx, req, n, false)
}

// call makes one call for n choices. With fewer, it fails unless partial, when it returns the
// choices there are.
//
// The body is prosim's own encoding (see body.go), posted by net/http (post.go), and the reply
// is decoded into the few fields prosim reads (decode.go): the SDK's reflective encoding of its
// request types, its request pipeline and decoding of its full response type were most of a
// call's CPU.
func (c *Client) call(ctx context.Context, req backend.Request, n int, partial bool) ([]backend.Reply, error) {
	body, err := c.body(req, n)
	if err != nil {
		return nil, &backend.StatusError{Provider: Provider, Err: err}
	}
	start := time.Now()
	var (
		res *completion
		ex  *wire.Exchange
	)
	if c.firstByte > 0 {
		res, ex, err = c.stream(ctx, body)
	} else {
		var tctx context.Context
		tctx, ex = wire.Track(ctx)
		res, err = c.complete(tctx, body)
	}
	latency := time.Since(start)
	if err != nil {
		in, out := c.worstCase(req, n)
		replies, se := wire.Failed(Provider, c.model, c.key, ex, err, n, partial, latency, in, out)
		if se != nil {
			return nil, se
		}
		return replies, nil
	}
	replies, err := c.replies(res, n, partial, latency)
	if se, ok := errors.AsType[*backend.StatusError](err); ok {
		// A reply of the wrong shape, billed at its usage if it said one.
		in, out := 0, 0
		if res != nil {
			in, out = int(res.Usage.PromptTokens), int(res.Usage.CompletionTokens)
		}
		req.N = n
		in, out = backend.UnusableTokens(req, DefaultMaxTokens, in, out)
		err = wire.Unusable(se, c.model, in, out)
	}
	return replies, err
}

// worstCase is the most tokens a call of req for n choices can be billed (backend.WorstCase
// at the completion limit the client sends when the request sets none).
func (c *Client) worstCase(req backend.Request, n int) (in, out int) {
	req.N = n
	return backend.WorstCase(req, DefaultMaxTokens)
}

// completion is the part of a chat completion prosim reads.
type completion struct {
	Model             string          `json:"model"`
	SystemFingerprint string          `json:"system_fingerprint"`
	Choices           []choiceMessage `json:"choices"`
	Usage             struct {
		PromptTokens     int64 `json:"prompt_tokens"`
		CompletionTokens int64 `json:"completion_tokens"`
	} `json:"usage"`
}

type choiceMessage struct {
	Message struct {
		Content string `json:"content"`
		Refusal string `json:"refusal"`
	} `json:"message"`
}

// replies converts a chat completion (of a call or a batch line) into n replies.
func (c *Client) replies(res *completion, n int, partial bool, latency time.Duration) ([]backend.Reply, error) {
	if res == nil || len(res.Choices) == 0 {
		return nil, wire.Malformed(Provider, "no choices")
	}
	if len(res.Choices) < n {
		if !partial {
			return nil, wire.Malformed(Provider, fmt.Sprintf("asked for %d choices, got %d", n, len(res.Choices)))
		}
		n = len(res.Choices)
	}
	model := res.Model
	if model == "" {
		model = c.model
	}
	version := VersionOf(res.Model, res.SystemFingerprint)
	in, out := int(res.Usage.PromptTokens), int(res.Usage.CompletionTokens)
	replies := make([]backend.Reply, n)
	for i := range replies {
		m := res.Choices[i].Message
		raw := m.Content
		if raw == "" && m.Refusal != "" {
			raw = m.Refusal
		}
		replies[i] = backend.Reply{
			Raw:          raw,
			Provider:     Provider,
			Model:        model,
			ModelVersion: version,
			InputTokens:  share(in, n, i),
			OutputTokens: share(out, n, i),
			Latency:      latency,
		}
	}
	replies[0].Calls = 1
	return replies, nil
}

// VersionOf is the model version of a chat completion: the model the server says answered
// and, when it sent one, the system_fingerprint that identifies its backend configuration
// (OpenAI: a change in it may change answers to the same seed). Ollama and vLLM send a
// model and no fingerprint.
func VersionOf(model, fingerprint string) string {
	if fingerprint == "" {
		return model
	}
	if model == "" {
		return fingerprint
	}
	return model + " " + fingerprint
}

// share is reply i's part of total split over n replies, remainders to the first.
func share(total, n, i int) int {
	s := total / n
	if i < total%n {
		s++
	}
	return s
}
