// Package gemini is the backend client for Google's Gemini API (generateContent), through the
// official SDK, google.golang.org/genai, with its Gemini API backend (never Vertex AI).
//
// Structured output is the API's own: responseMimeType application/json with
// responseJsonSchema set to the scenario's JSON schema (responseJsonSchema takes JSON Schema as
// is, including additionalProperties, where the older responseSchema takes an OpenAPI subset).
// The reply's Raw is the text of the first candidate (thought parts left out). Parsing and
// validation are the validity wrapper's job.
//
// The client makes exactly one HTTP call per Decide: the SDK retries only when given retry
// options, and it is given one attempt; its automatic continuation (which re-sends a request
// whose reply carries a continuation token) is off; and no SDK timeout is set (the caller's
// context carries the per-call deadline). The SDK reads GOOGLE_GENAI_USE_VERTEXAI,
// GOOGLE_CLOUD_PROJECT, GOOGLE_API_KEY, GOOGLE_GEMINI_BASE_URL and others from the environment;
// none of them has an effect here, because the backend, the key and the base URL are always
// given explicitly, and explicit settings win. (The SDK still logs a warning when both
// GOOGLE_API_KEY and GEMINI_API_KEY are set, even though it then uses neither.)
//
// Two things the SDK does not do are done here: a 429's delay is read from the
// google.rpc.RetryInfo detail of the error body when there is no Retry-After header (the
// Gemini API sends RetryInfo rather than the header), and a 2xx body of the wrong shape, on which the SDK's
// response conversion panics, is turned into a malformed-response error.
//
// A reply the model gave but that cannot be used (the prompt or the reply blocked for safety,
// recitation and the like, no candidates, or the reply cut off at maxOutputTokens) is not an
// error: it is returned with Raw as received (often empty) and Invalid saying why, so that the
// validity wrapper re-asks it and, if it stays unusable, records it as invalid with that reason.
// This matches the anthropic client, which returns a refusal as a reply and not an error.
package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"google.golang.org/genai"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers/wire"
	"github.com/prosim/prosim/internal/schema"
)

// Provider is the name this client reports in replies and errors.
const Provider = "gemini"

// DefaultBaseURL is the Gemini API's endpoint.
const DefaultBaseURL = "https://generativelanguage.googleapis.com/"

// DefaultAPIVersion is the API version used unless the base URL names one.
const DefaultAPIVersion = "v1beta"

// DefaultAPIKeyEnv is the environment variable the key is read from unless Config says
// otherwise; FallbackAPIKeyEnv is read when it is not set.
const (
	DefaultAPIKeyEnv  = "GEMINI_API_KEY"
	FallbackAPIKeyEnv = "GOOGLE_API_KEY"
)

// DefaultMaxTokens is the maxOutputTokens sent when a request does not set a limit. It is
// larger than the other clients' 256 because Gemini 2.5 models think by default and their
// thinking tokens count against this limit: at 256 a reply is often cut off before any text.
// Set backend max_tokens to choose another limit.
const DefaultMaxTokens = 2048

// Config configures a Client.
type Config struct {
	// Model is the model name, e.g. "gemini-2.5-flash" (required).
	Model string
	// BaseURL is the API root, e.g. "http://127.0.0.1:8080"; empty means Google's. A trailing
	// version segment ("/v1beta", "/v1") is taken as the API version.
	BaseURL string
	// APIKeyEnv names the environment variable holding the API key; empty means GEMINI_API_KEY,
	// or GOOGLE_API_KEY when that is not set. The key is required.
	APIKeyEnv string
	// HTTPClient is the HTTP client to use; nil means a plain client with a connection pool
	// sized for many concurrent calls to one host. It is copied, not modified.
	HTTPClient *http.Client
	// StructuredOutput sends responseMimeType application/json with responseJsonSchema built
	// from the request's schema. Nil means on.
	StructuredOutput *bool
	// NoSeed stops the request's seed being sent. By default the decision seed is sent as
	// generationConfig.seed.
	NoSeed bool
}

// Client is a Gemini API backend. It is safe for concurrent use.
type Client struct {
	model      string
	key        string
	structured bool
	seed       bool
	models     *genai.Models
	batches    *genai.Batches
	maxInline  int // bytes of a batch job's create call; 0: MaxInlineBytes

	sizerOnce sync.Once
	sizer     *genai.Batches // builds batch bodies to measure them, sends none (bodySize)
	sizerErr  error

	endedMu sync.Mutex
	ended   map[string]*genai.BatchJob // ended batch jobs polled, until their results are read
}

var _ backend.Backend = (*Client)(nil)

// Bool returns a pointer to b, for Config.StructuredOutput.
func Bool(b bool) *bool { return &b }

var versionSegment = regexp.MustCompile(`^v[0-9]+((alpha|beta)[0-9]*)?$`)

// New makes a Client. The API key is read from the environment variable named by
// cfg.APIKeyEnv; a missing key is an error naming that variable (never its value).
func New(cfg Config) (*Client, error) {
	return newClient(cfg, os.LookupEnv)
}

// MissingKey is the error New gives when cfg's API key is not in the environment, nil when it
// is: checked apart from the rest of cfg, so that a missing key is told with cfg's other
// problems, and no client is made of a cfg with problems.
func MissingKey(cfg Config) error {
	_, err := apiKey(cfg, os.LookupEnv)
	return err
}

// apiKey is cfg's API key, read from the environment variable cfg.APIKeyEnv names (or the
// default ones).
func apiKey(cfg Config, lookup func(string) (string, bool)) (string, error) {
	names := []string{cfg.APIKeyEnv}
	if cfg.APIKeyEnv == "" {
		names = []string{DefaultAPIKeyEnv, FallbackAPIKeyEnv}
	}
	return wire.RequireKey("gemini", lookup, names...)
}

func newClient(cfg Config, lookup func(string) (string, bool)) (*Client, error) {
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("gemini: model is required")
	}
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("gemini: base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	version := DefaultAPIVersion
	if dir, last, ok := cutLast(strings.TrimRight(u.Path, "/")); ok && versionSegment.MatchString(last) {
		version, u.Path = last, dir
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	key, err := apiKey(cfg, lookup)
	if err != nil {
		return nil, err
	}
	client, err := newSDKClient(&genai.ClientConfig{
		// Explicit backend, key and base URL: none of the SDK's environment variables applies.
		Backend:    genai.BackendGeminiAPI,
		APIKey:     key,
		HTTPClient: wire.HTTPClient(cfg.HTTPClient, u),
		HTTPOptions: genai.HTTPOptions{
			BaseURL:    u.String(),
			APIVersion: version,
			// One attempt: prosim's retry wrapper owns retries.
			RetryOptions: &genai.HTTPRetryOptions{Attempts: genai.Ptr[int32](1)},
		},
	})
	if err != nil {
		// The SDK's configuration errors may print the whole config, key included.
		return nil, fmt.Errorf("gemini: %w", wire.Redact(err, key))
	}
	return &Client{
		model:      cfg.Model,
		key:        key,
		structured: cfg.StructuredOutput == nil || *cfg.StructuredOutput,
		seed:       !cfg.NoSeed,
		models:     client.Models,
		batches:    client.Batches,
	}, nil
}

// sdkWarning is the start of the line genai logs when GOOGLE_API_KEY and GEMINI_API_KEY are
// both set. The SDK reads both even when it is given the key (and has no option to stop it),
// and says it uses GOOGLE_API_KEY, which is false: the client sends the key that api_key_env
// names (QA12 #16).
const sdkWarning = "Warning: Both GOOGLE_API_KEY and GEMINI_API_KEY are set"

var sdkLogMu sync.Mutex

// newSDKClient is genai.NewClient with that warning dropped from the standard logger; every
// other line goes where the logger wrote before, also from other goroutines meanwhile.
func newSDKClient(cc *genai.ClientConfig) (*genai.Client, error) {
	sdkLogMu.Lock()
	defer sdkLogMu.Unlock()
	prev := log.Writer()
	log.SetOutput(dropLines{w: prev, prefix: []byte(sdkWarning)})
	defer log.SetOutput(prev)
	return genai.NewClient(context.Background(), cc)
}

// dropLines writes to w every write that does not contain prefix (the standard logger writes
// a line per call).
type dropLines struct {
	w      io.Writer
	prefix []byte
}

func (d dropLines) Write(p []byte) (int, error) {
	if bytes.Contains(p, d.prefix) {
		return len(p), nil
	}
	return d.w.Write(p)
}

// cutLast splits p at its last "/".
func cutLast(p string) (dir, last string, ok bool) {
	i := strings.LastIndex(p, "/")
	if i < 0 {
		return "", "", false
	}
	return p[:i], p[i+1:], true
}

// Model is the configured model name.
func (c *Client) Model() string { return c.model }

func (c *Client) params(req backend.Request) ([]*genai.Content, *genai.GenerateContentConfig) {
	contents := make([]*genai.Content, 0, 1+2*len(req.Repair))
	contents = append(contents, genai.NewContentFromText(req.Prompt, genai.RoleUser))
	for _, t := range req.Repair {
		contents = append(contents,
			genai.NewContentFromText(t.Assistant, genai.RoleModel),
			genai.NewContentFromText(t.User, genai.RoleUser))
	}
	max := req.Sampling.MaxTokens
	if max <= 0 {
		max = DefaultMaxTokens
	}
	cfg := &genai.GenerateContentConfig{
		MaxOutputTokens: int32(min(max, 1<<31-1)),
		// A reply cut off by the server is returned as it is, not continued by further calls.
		AutomaticContinuation: genai.Ptr(false),
	}
	if req.System != "" {
		cfg.SystemInstruction = genai.NewContentFromText(req.System, genai.RoleUser)
	}
	if req.Sampling.Temperature != nil {
		cfg.Temperature = genai.Ptr(float32(*req.Sampling.Temperature))
	}
	if req.Sampling.TopP != nil {
		cfg.TopP = genai.Ptr(float32(*req.Sampling.TopP))
	}
	if c.seed && req.Seed != 0 {
		cfg.Seed = genai.Ptr(int32(wire.Seed(req.Seed, 32)))
	}
	if c.structured && len(req.Schema.Fields) > 0 {
		cfg.ResponseMIMEType = "application/json"
		cfg.ResponseJsonSchema = responseSchemas.Get(req.Schema)
	}
	return contents, cfg
}

// responseSchemas holds each schema's JSON Schema encoded once (a json.RawMessage, which the
// SDK writes as it is), not per call.
var responseSchemas = backend.NewSchemaMemo(func(s schema.Schema) json.RawMessage {
	b, err := json.Marshal(s.JSONSchema())
	if err != nil { // strings and finite numbers
		panic("gemini: encoding a response schema: " + err.Error())
	}
	return b
})

// Decide asks for one generateContent reply.
func (c *Client) Decide(ctx context.Context, req backend.Request) (backend.Reply, error) {
	contents, cfg := c.params(req)
	ctx, ex := wire.Track(ctx)
	start := time.Now()
	res, err := c.generate(ctx, contents, cfg)
	latency := time.Since(start)
	if err != nil {
		in, out := backend.WorstCase(req, DefaultMaxTokens)
		replies, se := wire.Failed(Provider, strings.TrimPrefix(c.model, "models/"), c.key, ex, err, 1, false, latency, in, out)
		if se == nil {
			return replies[0], nil
		}
		if se.RetryAfter == 0 && ex.Status >= 400 {
			se.RetryAfter = retryInfo(ex.Body)
		}
		return backend.Reply{}, se
	}
	r, err := c.reply(res, cfg.MaxOutputTokens, latency)
	if se, ok := errors.AsType[*backend.StatusError](err); ok {
		// A reply of the wrong shape (with no usage: one with usage is an invalid reply).
		in, out := backend.WorstCase(req, DefaultMaxTokens)
		err = wire.Unusable(se, strings.TrimPrefix(c.model, "models/"), in, out)
	}
	return r, err
}

// reply turns a generateContent response (a synchronous call's, or a batch job's) into a
// Reply; maxOut is the request's maxOutputTokens, for the reason of a cut-off reply.
func (c *Client) reply(res *genai.GenerateContentResponse, maxOut int32, latency time.Duration) (backend.Reply, error) {
	if res == nil || (len(res.Candidates) == 0 && res.PromptFeedback == nil && res.UsageMetadata == nil) {
		return backend.Reply{}, wire.Malformed(Provider, "no candidates")
	}
	rep := backend.Reply{
		Provider: Provider,
		Model:    strings.TrimPrefix(c.model, "models/"),
		Calls:    1,
		Latency:  latency,
	}
	if v := strings.TrimPrefix(res.ModelVersion, "models/"); v != "" {
		rep.Model, rep.ModelVersion = v, v
	}
	if u := res.UsageMetadata; u != nil {
		// Thinking tokens are billed as output tokens.
		rep.InputTokens = int(u.PromptTokenCount) + int(u.ToolUsePromptTokenCount)
		rep.OutputTokens = int(u.CandidatesTokenCount) + int(u.ThoughtsTokenCount)
	}
	if len(res.Candidates) == 0 || res.Candidates[0] == nil {
		rep.Invalid = "no candidates in the reply"
		if pf := res.PromptFeedback; pf != nil && pf.BlockReason != "" {
			rep.Invalid = "prompt blocked by the API: " + string(pf.BlockReason) + blockedCategories(pf.SafetyRatings)
			if pf.BlockReasonMessage != "" {
				rep.Invalid += ": " + pf.BlockReasonMessage
			}
		}
		return rep, nil
	}
	cand := res.Candidates[0]
	if cand.Content != nil {
		var text strings.Builder
		for _, p := range cand.Content.Parts {
			if p != nil && !p.Thought {
				text.WriteString(p.Text)
			}
		}
		rep.Raw = text.String()
	}
	switch cand.FinishReason {
	case "", genai.FinishReasonStop, genai.FinishReasonUnspecified:
	case genai.FinishReasonMaxTokens:
		rep.Invalid = fmt.Sprintf("reply cut off at the %d-token output limit", maxOut)
		if u := res.UsageMetadata; u != nil && u.ThoughtsTokenCount > 0 {
			rep.Invalid += fmt.Sprintf(", %d of them spent thinking", u.ThoughtsTokenCount)
		}
	default:
		// SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, LANGUAGE, OTHER, ...
		rep.Invalid = "reply stopped by the API: finish reason " + string(cand.FinishReason) + blockedCategories(cand.SafetyRatings)
		if cand.FinishMessage != "" {
			rep.Invalid += ": " + cand.FinishMessage
		}
	}
	return rep, nil
}

// generate makes the call. The SDK converts a 2xx body with unchecked type assertions (a
// "candidates" that is not a list panics), so a panic while the call is under way is taken for
// a malformed response: a server's bad JSON must not bring the run down.
func (c *Client) generate(ctx context.Context, contents []*genai.Content, cfg *genai.GenerateContentConfig) (res *genai.GenerateContentResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, wire.Malformed(Provider, "unexpected shape: "+wire.Excerpt(fmt.Appendf(nil, "%v", p), c.key))
		}
	}()
	return c.models.GenerateContent(ctx, c.model, contents, cfg)
}

// retryInfo reads the delay a Google API error body asks for in its google.rpc.RetryInfo
// detail ({"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo",
// "retryDelay":"37s"}]}}), which the Gemini API sends with 429s instead of a Retry-After
// header. 0 if absent or unparseable.
func retryInfo(body []byte) time.Duration {
	var e struct {
		Error struct {
			Details []struct {
				Type       string `json:"@type"`
				RetryDelay string `json:"retryDelay"`
			} `json:"details"`
		} `json:"error"`
	}
	if len(body) == 0 || json.Unmarshal(body, &e) != nil {
		return 0
	}
	for _, d := range e.Error.Details {
		if !strings.HasSuffix(d.Type, "google.rpc.RetryInfo") {
			continue
		}
		if v, err := time.ParseDuration(strings.TrimSpace(d.RetryDelay)); err == nil && v > 0 && v < 24*time.Hour {
			return v
		}
	}
	return 0
}

// blockedCategories lists the safety categories marked as blocked, as " (blocked: A, B)"; ""
// if none.
func blockedCategories(ratings []*genai.SafetyRating) string {
	var cats []string
	for _, r := range ratings {
		if r != nil && r.Blocked {
			cats = append(cats, string(r.Category))
		}
	}
	if len(cats) == 0 {
		return ""
	}
	return " (blocked: " + strings.Join(cats, ", ") + ")"
}
