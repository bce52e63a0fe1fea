package openai

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	sdk "github.com/openai/openai-go/v3"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers/wire"
)

// The Batch API: the requests go up as a JSONL file (one chat completion body per line, named
// by custom_id), a batch job runs them within 24 hours at half price, and its output and error
// files come back as JSONL keyed by the same custom_id.

var _ backend.Batcher = (*Client)(nil)

// batchLine is one line of a batch's input file.
type batchLine struct {
	CustomID string          `json:"custom_id"`
	Method   string          `json:"method"`
	URL      string          `json:"url"`
	Body     json.RawMessage `json:"body"`
}

// SubmitBatch uploads the requests as a JSONL file and creates a batch job on it.
func (c *Client) SubmitBatch(ctx context.Context, items []backend.BatchItem) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the body as a synchronous call sends it
	for _, it := range items {
		body, err := c.body(it.Req, max(1, it.Req.N))
		if err == nil {
			err = enc.Encode(batchLine{CustomID: it.CustomID, Method: "POST", URL: "/v1/chat/completions", Body: body})
		}
		if err != nil {
			return "", fmt.Errorf("openai: batch line %s: %w", it.CustomID, err)
		}
	}
	ctx, ex := wire.Track(ctx)
	f, err := c.files.New(ctx, sdk.FileNewParams{File: sdk.File(&buf, "prosim-batch.jsonl", "application/jsonl"), Purpose: sdk.FilePurposeBatch})
	if err != nil {
		return "", wire.Fail(Provider, ex, err, c.key)
	}
	b, err := c.batches.New(ctx, sdk.BatchNewParams{InputFileID: f.ID, Endpoint: sdk.BatchNewParamsEndpointV1ChatCompletions,
		CompletionWindow: sdk.BatchNewParamsCompletionWindow24h})
	if err != nil {
		return "", wire.Fail(Provider, ex, err, c.key)
	}
	return b.ID, nil
}

// BatchStatus reports a job's status; completed, expired, cancelled and failed jobs have ended.
func (c *Client) BatchStatus(ctx context.Context, id string) (string, bool, string, error) {
	ctx, ex := wire.Track(ctx)
	b, err := c.batches.Get(ctx, id)
	if err != nil {
		return "", false, "", wire.Fail(Provider, ex, err, c.key)
	}
	rc := b.RequestCounts
	note := fmt.Sprintf("(%d/%d done, %d failed)", rc.Completed, rc.Total, rc.Failed)
	switch b.Status {
	case sdk.BatchStatusCompleted, sdk.BatchStatusExpired, sdk.BatchStatusCancelled, sdk.BatchStatusFailed:
		return string(b.Status), true, note, nil
	}
	return string(b.Status), false, note, nil
}

// outputLine is one line of a batch's output or error file.
type outputLine struct {
	CustomID string `json:"custom_id"`
	Response *struct {
		StatusCode int             `json:"status_code"`
		Body       json.RawMessage `json:"body"`
	} `json:"response"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// BatchResults downloads an ended job's output and error files.
func (c *Client) BatchResults(ctx context.Context, id string) (map[string]backend.BatchResult, error) {
	tctx, ex := wire.Track(ctx)
	b, err := c.batches.Get(tctx, id)
	if err != nil {
		return nil, wire.Fail(Provider, ex, err, c.key)
	}
	out := map[string]backend.BatchResult{}
	for _, fid := range []string{b.ErrorFileID, b.OutputFileID} { // output lines win
		if fid == "" {
			continue
		}
		if err := c.readResults(ctx, fid, out); err != nil {
			return nil, err
		}
	}
	if len(b.Errors.Data) > 0 && len(out) == 0 {
		e := b.Errors.Data[0]
		return nil, fmt.Errorf("openai: batch %s %s: %s: %s", id, b.Status, e.Code, e.Message)
	}
	return out, nil
}

func (c *Client) readResults(ctx context.Context, fileID string, out map[string]backend.BatchResult) error {
	// Not tracked: a results file is far larger than the size limit of one reply.
	res, err := c.files.Content(ctx, fileID)
	if err != nil {
		return wire.Fail(Provider, nil, err, c.key)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 0, 1<<16), 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l outputLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.CustomID == "" {
			return fmt.Errorf("openai: batch file %s: a line that is not a result: %.200s", fileID, sc.Text())
		}
		out[l.CustomID] = c.lineResult(l)
	}
	if err := sc.Err(); err != nil && err != io.EOF {
		return fmt.Errorf("openai: batch file %s: %w", fileID, err)
	}
	return nil
}

// lineResult is one request's result: its reply, or why it has none.
func (c *Client) lineResult(l outputLine) backend.BatchResult {
	if l.Error != nil {
		return backend.BatchResult{Err: fmt.Sprintf("%s: %s", l.Error.Code, l.Error.Message)}
	}
	if l.Response == nil {
		return backend.BatchResult{Err: "no response"}
	}
	if l.Response.StatusCode != 200 {
		return backend.BatchResult{Err: fmt.Sprintf("HTTP %d: %.200s", l.Response.StatusCode, l.Response.Body)}
	}
	// A line with HTTP 200 was billed, whatever its body: one that cannot be used counts at
	// its usage if it said one (else the collector counts its worst case), as in Decide.
	var cc completion
	if err := json.Unmarshal(l.Response.Body, &cc); err != nil {
		return backend.UnusableLine(Provider, c.model, "malformed chat completion: "+err.Error(), 0, 0)
	}
	rs, err := c.replies(&cc, 1, true, 0)
	if err != nil {
		return backend.UnusableLine(Provider, c.model, err.Error(), int(cc.Usage.PromptTokens), int(cc.Usage.CompletionTokens))
	}
	r := rs[0]
	for _, s := range rs[1:] { // n samples: as Decide returns them
		r.InputTokens += s.InputTokens
		r.OutputTokens += s.OutputTokens
		s.InputTokens, s.OutputTokens = 0, 0
		r.Samples = append(r.Samples, s)
	}
	return backend.BatchResult{Reply: r}
}
