package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

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

// MaxInlineBytes bounds the body of one job's create call (16 MiB), the requests inline and
// their envelope: Gemini takes at most 20 MB of inline requests.
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

// SplitBatch splits a step's requests into jobs whose create call's body is at most
// c.maxInline bytes (a request larger alone goes alone). The sizes are those of the body the
// SDK sends (sizes): the JSON of prosim's own request values is about 1% smaller, and a bound
// on it let a 9,360-request job's body reach 16.14 MiB (QA12 #16).
func (c *Client) SplitBatch(items []backend.BatchItem) [][]backend.BatchItem {
	limit := c.maxInline
	if limit <= 0 {
		limit = MaxInlineBytes
	}
	envelope, sizes, ok := c.sizes(items)
	if !ok {
		// The SDK could not build a body: each request alone, whose submission then fails
		// with the SDK's error (the run stops, resumable).
		parts := make([][]backend.BatchItem, len(items))
		for i := range items {
			parts[i] = items[i : i+1]
		}
		return parts
	}
	var parts [][]backend.BatchItem
	start, size := 0, envelope
	for i, n := range sizes {
		if i > start && size+1+n > limit { // 1: the comma before it
			parts = append(parts, items[start:i])
			start, size = i, envelope
		}
		if i > start {
			size++
		}
		size += n
	}
	if start < len(items) {
		parts = append(parts, items[start:])
	}
	return parts
}

// sizes measures the body of the create call of a job of items: the envelope's bytes and
// each request's, so that a job of items i..j takes envelope + their sizes + the commas
// between them. They are read from the body the SDK builds (its own encoding of each
// request), stopped at the transport, for sizeChunk requests at a time: one such body per
// request took 190 µs each. ok is false when the SDK could not build a body.
func (c *Client) sizes(items []backend.BatchItem) (envelope int, sizes []int, ok bool) {
	sizes = make([]int, 0, len(items))
	for start := 0; start < len(items); start += sizeChunk {
		chunk := items[start:min(len(items), start+sizeChunk)]
		body, err := c.body(chunk)
		if err != nil {
			return 0, nil, false
		}
		var b struct {
			Batch struct {
				InputConfig struct {
					Requests struct {
						Requests []json.RawMessage `json:"requests"`
					} `json:"requests"`
				} `json:"inputConfig"`
			} `json:"batch"`
		}
		if err := json.Unmarshal(body, &b); err != nil || len(b.Batch.InputConfig.Requests.Requests) != len(chunk) {
			return 0, nil, false
		}
		envelope = len(body) - (len(chunk) - 1) // the commas
		for _, r := range b.Batch.InputConfig.Requests.Requests {
			sizes = append(sizes, len(r))
			envelope -= len(r)
		}
	}
	return envelope, sizes, true
}

// sizeChunk is how many requests sizes measures at once.
const sizeChunk = 1000

// sizeKey is the context key of the *[]byte where sizeTransport puts a body.
type sizeKey struct{}

// errSized ends a call whose body sizeTransport has taken.
var errSized = errors.New("measured, not sent")

// sizeTransport keeps a request's body and sends nothing.
type sizeTransport struct{}

func (sizeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var b []byte
	if req.Body != nil {
		b, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	if p, ok := req.Context().Value(sizeKey{}).(*[]byte); ok {
		*p = b
	}
	return nil, errSized
}

// body is the body SubmitBatch sends for items (bodySize), built by the SDK and not sent.
func (c *Client) body(items []backend.BatchItem) ([]byte, error) {
	c.sizerOnce.Do(func() {
		cl, err := newSDKClient(&genai.ClientConfig{
			Backend:    genai.BackendGeminiAPI,
			APIKey:     "not-sent",
			HTTPClient: &http.Client{Transport: sizeTransport{}},
			HTTPOptions: genai.HTTPOptions{BaseURL: "http://sizing.invalid/", APIVersion: DefaultAPIVersion,
				RetryOptions: &genai.HTTPRetryOptions{Attempts: genai.Ptr[int32](1)}},
		})
		if err != nil {
			c.sizerErr = err
			return
		}
		c.sizer = cl.Batches
	})
	if c.sizerErr != nil {
		return nil, c.sizerErr
	}
	var body []byte
	ctx := context.WithValue(context.Background(), sizeKey{}, &body)
	_, err := c.batch(func() (*genai.BatchJob, error) {
		return c.sizer.Create(ctx, c.model, &genai.BatchJobSource{InlinedRequests: c.requests(items)}, &genai.CreateBatchJobConfig{DisplayName: "prosim"})
	})
	if body == nil {
		return nil, fmt.Errorf("gemini: batch body not built: %w", err)
	}
	return body, nil
}

// bodySize is the size of the body SubmitBatch sends for items.
func (c *Client) bodySize(items []backend.BatchItem) (int, error) {
	b, err := c.body(items)
	return len(b), err
}

// requests are items as a job's inline requests.
func (c *Client) requests(items []backend.BatchItem) []*genai.InlinedRequest {
	reqs := make([]*genai.InlinedRequest, len(items))
	for i, it := range items {
		reqs[i] = c.inlined(it)
	}
	return reqs
}

// SubmitBatch creates a batch job with the requests inline (SplitBatch keeps them under
// Gemini's size limit).
func (c *Client) SubmitBatch(ctx context.Context, items []backend.BatchItem) (string, error) {
	reqs := c.requests(items)
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
		// A response of the wrong shape was billed: the collector counts its worst case, as
		// Decide does.
		return backend.UnusableLine(Provider, strings.TrimPrefix(c.model, "models/"), err.Error(), 0, 0)
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
