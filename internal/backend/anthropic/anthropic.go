// Package anthropic is the backend client for Anthropic's Messages API.
//
// Structured output is a forced tool call: the request carries one tool, "response", whose
// input_schema is the scenario's JSON schema, and tool_choice forces the model to call it. The
// reply's Raw is the JSON of the tool call's input. This was chosen over asking for JSON in
// text because the API guarantees the tool input is a JSON object (no prose, no code fences,
// no preamble to strip) and it works with every Claude model that has tool use, whereas the
// newer output_config.format is only accepted by recent models. The schema itself is not
// enforced by the API in this mode, so the validity wrapper still checks ranges and fields.
//
// The client makes exactly one HTTP call per Decide: the SDK's retries are off (prosim's retry
// wrapper owns retries), and the caller's context carries the per-call deadline.
package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers/wire"
	"github.com/prosim/prosim/internal/schema"
)

// Provider is the name this client reports in replies and errors.
const Provider = "anthropic"

// DefaultBaseURL is Anthropic's endpoint.
const DefaultBaseURL = "https://api.anthropic.com"

// DefaultAPIKeyEnv is the environment variable the key is read from unless Config says otherwise.
const DefaultAPIKeyEnv = "ANTHROPIC_API_KEY"

// DefaultMaxTokens is sent when a request does not set a limit (the API requires one).
const DefaultMaxTokens = 256

// ToolName is the name of the forced tool that carries the structured reply.
const ToolName = "response"

// Config configures a Client.
type Config struct {
	// Model is the model name, e.g. "claude-sonnet-4-5" (required).
	Model string
	// BaseURL is the API root; empty means Anthropic's.
	BaseURL string
	// APIKeyEnv names the environment variable holding the API key; empty means
	// ANTHROPIC_API_KEY. The key is required.
	APIKeyEnv string
	// HTTPClient is the HTTP client to use; nil means a plain client. It is copied, not modified.
	HTTPClient *http.Client
	// StructuredOutput forces the "response" tool call (see the package comment). Nil means on;
	// off sends a plain conversation and returns the reply's text.
	StructuredOutput *bool
}

// Client is an Anthropic Messages API backend. It is safe for concurrent use.
type Client struct {
	model      string
	key        string
	structured bool
	svc        sdk.MessageService
}

var _ backend.Backend = (*Client)(nil)

// Bool returns a pointer to b, for Config.StructuredOutput.
func Bool(b bool) *bool { return &b }

// MissingKey is the error New gives when cfg's API key is not in the environment, nil when it
// is: checked apart from the rest of cfg, so that a missing key is told with cfg's other
// problems, and no client is made of a cfg with problems.
func MissingKey(cfg Config) error {
	_, err := apiKey(cfg, os.LookupEnv)
	return err
}

// apiKey is cfg's API key, read from the environment variable cfg.APIKeyEnv names.
func apiKey(cfg Config, lookup func(string) (string, bool)) (string, error) {
	env := cfg.APIKeyEnv
	if env == "" {
		env = DefaultAPIKeyEnv
	}
	return wire.RequireKey("anthropic", lookup, env)
}

// New makes a Client. The API key is read from the environment variable named by
// cfg.APIKeyEnv; a missing key is an error naming that variable (never its value).
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("anthropic: model is required")
	}
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("anthropic: base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	key, err := apiKey(cfg, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	opts := []option.RequestOption{
		// No ambient ANTHROPIC_* configuration (auth token, profile, base URL): the key comes
		// from cfg.APIKeyEnv only.
		option.WithoutEnvironmentDefaults(),
		option.WithBaseURL(base + "/"),
		option.WithHTTPClient(wire.HTTPClient(cfg.HTTPClient, u)),
		option.WithMaxRetries(0),
		option.WithAPIKey(key),
	}
	return &Client{
		model:      cfg.Model,
		key:        key,
		structured: cfg.StructuredOutput == nil || *cfg.StructuredOutput,
		svc:        sdk.NewMessageService(opts...),
	}, nil
}

// Model is the configured model name.
func (c *Client) Model() string { return c.model }

func (c *Client) params(req backend.Request) sdk.MessageNewParams {
	msgs := make([]sdk.MessageParam, 0, 1+2*len(req.Repair))
	msgs = append(msgs, sdk.NewUserMessage(sdk.NewTextBlock(req.Prompt)))
	for _, t := range req.Repair {
		msgs = append(msgs,
			sdk.NewAssistantMessage(sdk.NewTextBlock(t.Assistant)),
			sdk.NewUserMessage(sdk.NewTextBlock(t.User)))
	}
	max := int64(req.Sampling.MaxTokens)
	if max <= 0 {
		max = DefaultMaxTokens
	}
	p := sdk.MessageNewParams{
		Model:     sdk.Model(c.model),
		MaxTokens: max,
		Messages:  msgs,
	}
	if req.System != "" {
		p.System = []sdk.TextBlockParam{{Text: req.System}}
	}
	// Both are sent when both are set; recent models reject the pair, and the 400 says so.
	if req.Sampling.Temperature != nil {
		p.Temperature = sdk.Float(*req.Sampling.Temperature)
	}
	if req.Sampling.TopP != nil {
		p.TopP = sdk.Float(*req.Sampling.TopP)
	}
	if c.structured && len(req.Schema.Fields) > 0 {
		in := inputSchemas.Get(req.Schema)
		p.Tools = []sdk.ToolUnionParam{{OfTool: &sdk.ToolParam{
			Name:        ToolName,
			Description: sdk.String("Record your answer. Call this tool exactly once with your answer."),
			InputSchema: sdk.ToolInputSchemaParam{
				Properties:  in.Properties,
				Required:    in.Required,
				ExtraFields: in.Extra,
			},
		}}}
		p.ToolChoice = sdk.ToolChoiceParamOfTool(ToolName)
	}
	return p
}

// inputSchema is a schema's tool input schema, split as the SDK takes it, with the properties
// already encoded: each scenario's schema is encoded once, not per call. Requests share it
// read-only.
type inputSchema struct {
	Properties json.RawMessage
	Required   []string
	Extra      map[string]any
}

var inputSchemas = backend.NewSchemaMemo(func(s schema.Schema) inputSchema {
	js := s.JSONSchema()
	props, err := json.Marshal(js["properties"])
	if err != nil { // strings and finite numbers
		panic("anthropic: encoding a response schema: " + err.Error())
	}
	in := inputSchema{Properties: props, Extra: map[string]any{}}
	in.Required, _ = js["required"].([]string)
	for k, v := range js {
		if k != "type" && k != "properties" && k != "required" {
			in.Extra[k] = v
		}
	}
	return in
})

// Decide asks for one message.
func (c *Client) Decide(ctx context.Context, req backend.Request) (backend.Reply, error) {
	ctx, ex := wire.Track(ctx)
	start := time.Now()
	res, err := c.svc.New(ctx, c.params(req))
	latency := time.Since(start)
	if err != nil {
		in, out := backend.WorstCase(req, DefaultMaxTokens)
		replies, se := wire.Failed(Provider, c.model, c.key, ex, err, 1, false, latency, in, out)
		if se != nil {
			return backend.Reply{}, se
		}
		return replies[0], nil
	}
	r, err := c.reply(res, latency)
	if se, ok := errors.AsType[*backend.StatusError](err); ok {
		// A reply of the wrong shape, billed at its usage if it said one.
		in, out := 0, 0
		if res != nil {
			in, out = int(res.Usage.InputTokens), int(res.Usage.OutputTokens)
		}
		in, out = backend.UnusableTokens(req, DefaultMaxTokens, in, out)
		err = wire.Unusable(se, c.model, in, out)
	}
	return r, err
}

// reply turns a message (a synchronous call's, or a batch result's) into a Reply.
func (c *Client) reply(res *sdk.Message, latency time.Duration) (backend.Reply, error) {
	if res == nil || !res.JSON.Content.Valid() || (res.Type != "" && res.Type != "message") {
		return backend.Reply{}, wire.Malformed(Provider, "not a message")
	}
	// Raw is the forced tool call's input when there is one; otherwise (structured output off,
	// a refusal, or max_tokens reached before the call) the text blocks, concatenated.
	var raw string
	var text strings.Builder
	found := false
	for _, b := range res.Content {
		switch b.Type {
		case "tool_use":
			if b.Name == ToolName && !found {
				raw, found = string(b.Input), true
			}
		case "text":
			text.WriteString(b.Text)
		}
	}
	if !found {
		raw = text.String()
	}
	model := res.Model
	if model == "" {
		model = sdk.Model(c.model)
	}
	u := res.Usage
	invalid := ""
	if res.StopReason == sdk.StopReasonRefusal {
		// Said why, as Gemini's blocks are, so that validity tables tell refusals from empty output.
		invalid = "refused by the model (stop_reason refusal)"
	}
	return backend.Reply{
		Raw:      raw,
		Invalid:  invalid,
		Provider: Provider,
		Model:    string(model),
		// The response's model is the snapshot that answered (the request may name an alias).
		ModelVersion: string(res.Model),
		// Cache reads and writes are input tokens too.
		InputTokens:  int(u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens),
		OutputTokens: int(u.OutputTokens),
		Calls:        1,
		Latency:      latency,
	}, nil
}
