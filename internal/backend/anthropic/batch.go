package anthropic

import (
	"context"
	"fmt"

	sdk "github.com/anthropics/anthropic-sdk-go"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers/wire"
)

// Message Batches: the requests go up in one create call (each a Messages API body named by
// custom_id), the batch is processed within 24 hours at half price, its processing_status
// goes from in_progress (or canceling) to ended, and its results stream back as JSONL, one
// line per custom_id, each succeeded, errored, canceled or expired.

var _ backend.Batcher = (*Client)(nil)

// batchParams is a request's body in a batch: the synchronous call's, field for field (the
// SDK declares the two as distinct types).
func (c *Client) batchParams(req backend.Request) sdk.MessageBatchNewParamsRequestParams {
	p := c.params(req)
	return sdk.MessageBatchNewParamsRequestParams{
		MaxTokens:   p.MaxTokens,
		Messages:    p.Messages,
		Model:       p.Model,
		System:      p.System,
		Temperature: p.Temperature,
		TopP:        p.TopP,
		Tools:       p.Tools,
		ToolChoice:  p.ToolChoice,
	}
}

// SubmitBatch creates a message batch holding the requests.
func (c *Client) SubmitBatch(ctx context.Context, items []backend.BatchItem) (string, error) {
	reqs := make([]sdk.MessageBatchNewParamsRequest, len(items))
	for i, it := range items {
		reqs[i] = sdk.MessageBatchNewParamsRequest{CustomID: it.CustomID, Params: c.batchParams(it.Req)}
	}
	ctx, ex := wire.Track(ctx)
	b, err := c.svc.Batches.New(ctx, sdk.MessageBatchNewParams{Requests: reqs})
	if err != nil {
		return "", wire.Fail(Provider, ex, err, c.key)
	}
	if b.ID == "" {
		return "", wire.Malformed(Provider, "a created batch without an id")
	}
	return b.ID, nil
}

// BatchStatus reports a batch's processing status; an ended batch has its results ready.
// The counts of succeeded, errored, canceled and expired requests are zero until it ends.
func (c *Client) BatchStatus(ctx context.Context, id string) (string, bool, string, error) {
	ctx, ex := wire.Track(ctx)
	b, err := c.svc.Batches.Get(ctx, id, sdk.MessageBatchGetParams{})
	if err != nil {
		return "", false, "", wire.Fail(Provider, ex, err, c.key)
	}
	rc := b.RequestCounts
	total := rc.Processing + rc.Succeeded + rc.Errored + rc.Canceled + rc.Expired
	note := fmt.Sprintf("(%d/%d done, %d failed)", rc.Succeeded, total, rc.Errored+rc.Canceled+rc.Expired)
	return string(b.ProcessingStatus), b.ProcessingStatus == sdk.MessageBatchProcessingStatusEnded, note, nil
}

// BatchResults streams an ended batch's results. A request that errored, was canceled or
// expired gets its reason; a malformed line stops the read (a job error: the run stops,
// resumable).
func (c *Client) BatchResults(ctx context.Context, id string) (map[string]backend.BatchResult, error) {
	// Not tracked: a results file is far larger than the size limit of one reply.
	st := c.svc.Batches.ResultsStreaming(ctx, id, sdk.MessageBatchResultsParams{})
	defer st.Close()
	out := map[string]backend.BatchResult{}
	for st.Next() {
		l := st.Current()
		if l.CustomID == "" {
			return nil, fmt.Errorf("anthropic: batch %s: a result line without a custom_id: %.200s", id, l.RawJSON())
		}
		out[l.CustomID] = c.lineResult(l.Result)
	}
	if err := st.Err(); err != nil {
		return nil, fmt.Errorf("anthropic: batch %s results: %w", id, wire.Fail(Provider, nil, err, c.key))
	}
	return out, nil
}

// lineResult is one request's result: its reply, or why it has none.
func (c *Client) lineResult(r sdk.MessageBatchResultUnion) backend.BatchResult {
	switch r.Type {
	case "succeeded":
		m := r.AsSucceeded().Message
		rep, err := c.reply(&m, 0)
		if err != nil {
			// Billed: counted at its usage if it said one (else the collector counts its
			// worst case), as in Decide.
			return backend.UnusableLine(Provider, c.model, err.Error(), int(m.Usage.InputTokens), int(m.Usage.OutputTokens))
		}
		return backend.BatchResult{Reply: rep}
	case "errored":
		e := r.Error.Error
		return backend.BatchResult{Err: fmt.Sprintf("errored: %s: %s", e.Type, e.Message)}
	case "canceled", "expired":
		return backend.BatchResult{Err: r.Type + " (the batch ended before this request was processed)"}
	}
	return backend.BatchResult{Err: fmt.Sprintf("unknown result type %q", r.Type)}
}
