package gemini

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"google.golang.org/genai"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers/wire"
)

// Batch mode: the requests go inline in one batchGenerateContent call (each request's
// metadata carries its custom id), the job runs within 24 hours at half price, its state
// goes JOB_STATE_PENDING, JOB_STATE_RUNNING, then SUCCEEDED, FAILED, CANCELLED or EXPIRED,
// and an ended job carries its inlined responses, each a generateContent response or an
// error, with the request's metadata.

var _ backend.Batcher = (*Client)(nil)

// Metadata keys of a batch request.
const (
	metaCustomID  = "custom_id"
	metaMaxTokens = "max_output_tokens" // for the reason of a cut-off reply
)

// MaxInlineBytes bounds the requests of one job (16 MiB): Gemini takes at most 20 MB of
// inline requests, and the create call's body is a little larger than the JSON measured here
// (about 1% in bench/batchcost).
const MaxInlineBytes = 16 << 20

var _ backend.BatchSplitter = (*Client)(nil)

// inlined is a batch request: the synchronous call's contents and configuration, with its
// custom id in the metadata.
func (c *Client) inlined(it backend.BatchItem) *genai.InlinedRequest {
	contents, cfg := c.params(it.Req)
	// Continuation is a client-side option of a synchronous call, not part of a request.
	cfg.AutomaticContinuation = nil
	return &genai.InlinedRequest{
		Contents: contents,
		Config:   cfg,
		Metadata: map[string]string{metaCustomID: it.CustomID, metaMaxTokens: strconv.Itoa(int(cfg.MaxOutputTokens))},
	}
}

// SplitBatch splits a step's requests into jobs of at most c.maxInline bytes of requests.
func (c *Client) SplitBatch(items []backend.BatchItem) [][]backend.BatchItem {
	limit := c.maxInline
	if limit <= 0 {
		limit = MaxInlineBytes
	}
	var parts [][]backend.BatchItem
	start, size := 0, 0
	for i, it := range items {
		js, _ := json.Marshal(c.inlined(it))
		n := len(js) + 1
		if i > start && size+n > limit {
			parts = append(parts, items[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(items) {
		parts = append(parts, items[start:])
	}
	return parts
}

// SubmitBatch creates a batch job with the requests inline (SplitBatch keeps them under
// Gemini's size limit).
func (c *Client) SubmitBatch(ctx context.Context, items []backend.BatchItem) (string, error) {
	reqs := make([]*genai.InlinedRequest, len(items))
	for i, it := range items {
		reqs[i] = c.inlined(it)
	}
	tctx, ex := wire.Track(ctx)
	job, err := c.batch(func() (*genai.BatchJob, error) {
		return c.batches.Create(tctx, c.model, &genai.BatchJobSource{InlinedRequests: reqs}, &genai.CreateBatchJobConfig{DisplayName: "prosim"})
	})
	if err != nil {
		return "", wire.Fail(Provider, ex, err, c.key)
	}
	if job.Name == "" {
		return "", wire.Malformed(Provider, "a created batch job without a name")
	}
	return job.Name, nil
}

// ended says whether a job's state is final.
func ended(s genai.JobState) bool {
	switch s {
	case genai.JobStateSucceeded, genai.JobStateFailed, genai.JobStateCancelled, genai.JobStateExpired, genai.JobStatePartiallySucceeded:
		return true
	}
	return false
}

// get fetches a job. Not tracked: an ended job carries every response inline, far larger
// than the size limit of one reply.
func (c *Client) get(ctx context.Context, id string) (*genai.BatchJob, error) {
	job, err := c.batch(func() (*genai.BatchJob, error) { return c.batches.Get(ctx, id, nil) })
	if err != nil {
		return nil, wire.Fail(Provider, nil, err, c.key)
	}
	return job, nil
}

// BatchStatus reports a job's state; an ended job carries its results.
func (c *Client) BatchStatus(ctx context.Context, id string) (string, bool, string, error) {
	job, err := c.get(ctx, id)
	if err != nil {
		return "", false, "", err
	}
	note := ""
	if ended(job.State) {
		done, failed := 0, 0
		if job.Dest != nil {
			for _, r := range job.Dest.InlinedResponses {
				if r != nil && r.Error == nil && r.Response != nil {
					done++
				} else {
					failed++
				}
			}
		}
		note = fmt.Sprintf("(%d done, %d failed)", done, failed)
		if e := job.Error; e != nil && e.Message != "" {
			note += ": " + wire.RedactString(e.Message, c.key)
		}
	}
	if ended(job.State) {
		// Keep it for BatchResults: an ended job carries every response, not worth fetching twice.
		c.endedMu.Lock()
		if c.ended == nil {
			c.ended = map[string]*genai.BatchJob{}
		}
		c.ended[id] = job
		c.endedMu.Unlock()
	}
	return string(job.State), ended(job.State), note, nil
}

// BatchResults reads an ended job's inlined responses by their custom ids. A failed,
// cancelled or expired job may have none: its requests go into a new job.
func (c *Client) BatchResults(ctx context.Context, id string) (map[string]backend.BatchResult, error) {
	c.endedMu.Lock()
	job := c.ended[id]
	delete(c.ended, id)
	c.endedMu.Unlock()
	if job == nil {
		var err error
		if job, err = c.get(ctx, id); err != nil {
			return nil, err
		}
	}
	out := map[string]backend.BatchResult{}
	if job.Dest == nil {
		return out, nil
	}
	for i, r := range job.Dest.InlinedResponses {
		if r == nil {
			continue
		}
		cid := r.Metadata[metaCustomID]
		if cid == "" {
			return nil, fmt.Errorf("gemini: batch %s: response %d carries no %s in its metadata", id, i, metaCustomID)
		}
		out[cid] = c.lineResult(r)
	}
	return out, nil
}

// lineResult is one request's result: its reply, or why it has none.
func (c *Client) lineResult(r *genai.InlinedResponse) backend.BatchResult {
	if e := r.Error; e != nil {
		code := ""
		if e.Code != nil {
			code = fmt.Sprintf("%d: ", *e.Code)
		}
		return backend.BatchResult{Err: "error " + code + wire.RedactString(e.Message, c.key)}
	}
	if r.Response == nil {
		return backend.BatchResult{Err: "no response"}
	}
	maxOut, _ := strconv.Atoi(r.Metadata[metaMaxTokens])
	rep, err := c.reply(r.Response, int32(maxOut), 0)
	if err != nil {
		return backend.BatchResult{Err: err.Error()}
	}
	return backend.BatchResult{Reply: rep}
}

// batch makes a batch call; as in generate, the SDK's conversion of a body of the wrong shape
// panics, and that is a malformed response, not a crash.
func (c *Client) batch(call func() (*genai.BatchJob, error)) (job *genai.BatchJob, err error) {
	defer func() {
		if p := recover(); p != nil {
			job, err = nil, wire.Malformed(Provider, "unexpected shape: "+wire.Excerpt(fmt.Appendf(nil, "%v", p), c.key))
		}
	}()
	job, err = call()
	if err == nil && job == nil {
		err = wire.Malformed(Provider, "no batch job")
	}
	return job, err
}
