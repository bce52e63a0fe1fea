package openai

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// A chat call is one POST, made here with net/http rather than through the SDK's request
// pipeline, whose per-call work (a request config built from options, a dozen telemetry
// headers, the request cloned, the reply decoded by reflection) cost more CPU than the rest
// of prosim's chain together against a fast local server. What the pipeline did for these
// calls is kept: the base URL joined as the SDK joins it, the bearer key, JSON content
// headers, no request sent to another origin than the base URL's (redirects included: wire.HTTPClient), an
// ended context reported as that context's error, an error status as an error (the body and
// headers come from wire's record of the exchange), and the reply decoded as the SDK decoded
// it (decode.go). The SDK's telemetry headers (X-Stainless-*) are not sent; User-Agent names
// prosim.

// userAgent is sent with every chat call.
var userAgent = []string{"prosim"}

var jsonContent = []string{"application/json"}

// endpoint is the URL of path under the base URL u, joined as the SDK joins them (the base's
// path as a directory; its query, if any, dropped).
func endpoint(u *url.URL, path string) string {
	b := *u
	if b.Path != "" && !strings.HasSuffix(b.Path, "/") {
		b.Path += "/"
	}
	e, err := b.Parse(path)
	if err != nil { // a relative path of letters and a slash always parses
		panic("openai: " + err.Error())
	}
	return e.String()
}

// post sends one chat completions request and returns the response, whose status is below
// 400 (the caller closes its body).
func (c *Client) post(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.chatURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = http.Header{"Content-Type": jsonContent, "Accept": jsonContent, "User-Agent": userAgent}
	if c.auth != nil {
		req.Header["Authorization"] = c.auth
	}
	res, err := c.hc.Do(req)
	if ctx.Err() != nil { // as the SDK: the call ended with its context, whatever else happened
		if res != nil {
			res.Body.Close()
		}
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	if res.StatusCode >= 400 {
		res.Body.Close() // wire's exchange holds the start of the body for the error
		return nil, fmt.Errorf("POST %q: %s", c.chatURL, res.Status)
	}
	return res, nil
}

// complete makes one non-streamed call and decodes its reply.
func (c *Client) complete(ctx context.Context, body []byte) (*completion, error) {
	res, err := c.post(ctx, body)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("error reading response body: %w", err)
	}
	if ct := res.Header.Get("Content-Type"); !isJSON(ct) {
		return nil, fmt.Errorf("reply has content type %q, not JSON", ct)
	}
	out := new(completion)
	if err := decodeCompletion(b, out); err != nil {
		return nil, fmt.Errorf("error parsing response json: %w", err)
	}
	return out, nil
}

// isJSON reports whether a content type is JSON's, as the SDK decided it: application/json
// or a type ending in +json.
func isJSON(ct string) bool {
	if ct == "application/json" || strings.HasPrefix(ct, "application/json;") {
		return true
	}
	mt, _, _ := mime.ParseMediaType(ct)
	return strings.Contains(mt, "application/json") || strings.HasSuffix(mt, "+json")
}
