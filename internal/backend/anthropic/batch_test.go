package anthropic

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/backend"
)

// A batch's requests carry the synchronous call's body under params, named by custom_id.
func TestSubmitBatchBody(t *testing.T) {
	s := newServer(t, jsonReply(200, `{"id":"msgbatch_1","type":"message_batch","processing_status":"in_progress","request_counts":{"processing":2,"succeeded":0,"errored":0,"canceled":0,"expired":0},"created_at":"2026-01-01T00:00:00Z","expires_at":"2026-01-02T00:00:00Z","ended_at":null,"archived_at":null,"cancel_initiated_at":null,"results_url":null}`))
	c := newTestClient(t, s)
	id, err := c.SubmitBatch(context.Background(), []backend.BatchItem{{CustomID: "p-1", Req: request()}, {CustomID: "p-2", Req: request()}})
	if err != nil || id != "msgbatch_1" {
		t.Fatalf("id %q, %v", id, err)
	}
	if s.Path != "/v1/messages/batches" || s.Header.Get("X-Api-Key") != fakeKey {
		t.Fatalf("path %q", s.Path)
	}
	reqs, _ := s.Body["requests"].([]any)
	if len(reqs) != 2 {
		t.Fatalf("requests: %v", s.Body)
	}
	r := reqs[1].(map[string]any)
	p := r["params"].(map[string]any)
	tools, _ := p["tools"].([]any)
	if r["custom_id"] != "p-2" || p["model"] != "claude-sonnet-4-5" || p["max_tokens"] != 64.0 || p["temperature"] != 0.7 ||
		len(tools) != 1 || tools[0].(map[string]any)["name"] != ToolName || p["tool_choice"].(map[string]any)["name"] != ToolName ||
		len(p["messages"].([]any)) != 3 || p["system"].([]any)[0].(map[string]any)["text"] != "You are Ana, 34." {
		t.Errorf("params: %v", p)
	}
}

func TestBatchStatusAndResults(t *testing.T) {
	ended := false
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/messages/batches/msgbatch_1":
			status, counts := "in_progress", `"processing":4,"succeeded":0,"errored":0,"canceled":0,"expired":0`
			if ended {
				status, counts = "ended", `"processing":0,"succeeded":1,"errored":1,"canceled":1,"expired":1`
			}
			io.WriteString(w, `{"id":"msgbatch_1","type":"message_batch","processing_status":"`+status+`","request_counts":{`+counts+`},"created_at":"2026-01-01T00:00:00Z","expires_at":"2026-01-02T00:00:00Z"}`)
		case "/v1/messages/batches/msgbatch_1/results":
			if r.Header.Get("Accept") != "application/x-jsonl" {
				t.Errorf("Accept %q", r.Header.Get("Accept"))
			}
			w.Header().Set("Content-Type", "application/x-jsonl")
			io.WriteString(w, `{"custom_id":"ok","result":{"type":"succeeded","message":`+strings.ReplaceAll(okBody, "\n", "")+`}}`+"\n")
			io.WriteString(w, `{"custom_id":"bad","result":{"type":"errored","error":{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long"}}}}`+"\n")
			io.WriteString(w, `{"custom_id":"gone","result":{"type":"expired"}}`+"\n")
			io.WriteString(w, `{"custom_id":"stop","result":{"type":"canceled"}}`+"\n")
			io.WriteString(w, `{"custom_id":"odd","result":{"type":"succeeded","message":{"id":"msg_x","type":"message","usage":{"input_tokens":30,"output_tokens":4}}}}`+"\n")
		default:
			http.NotFound(w, r)
		}
	})
	c := newTestClient(t, s)
	state, done, note, err := c.BatchStatus(context.Background(), "msgbatch_1")
	if err != nil || state != "in_progress" || done || note != "(0/4 done, 0 failed)" {
		t.Fatalf("status %q %v %q %v", state, done, note, err)
	}
	ended = true
	state, done, note, err = c.BatchStatus(context.Background(), "msgbatch_1")
	if err != nil || state != "ended" || !done || note != "(1/4 done, 3 failed)" {
		t.Fatalf("status %q %v %q %v", state, done, note, err)
	}
	res, err := c.BatchResults(context.Background(), "msgbatch_1")
	if err != nil || len(res) != 5 {
		t.Fatalf("%d results, %v", len(res), err)
	}
	ok := res["ok"]
	if ok.Err != "" || ok.Reply.Raw != `{"willingness":5,"choice":"give"}` || ok.Reply.ModelVersion != "claude-sonnet-4-5-20250929" ||
		ok.Reply.InputTokens != 53 || ok.Reply.OutputTokens != 12 || ok.Reply.Calls != 1 {
		t.Errorf("succeeded: %+v", ok)
	}
	if e := res["bad"].Err; e != "errored: invalid_request_error: prompt is too long" {
		t.Errorf("errored: %q", e)
	}
	if e := res["gone"].Err; !strings.HasPrefix(e, "expired") {
		t.Errorf("expired: %q", e)
	}
	if e := res["stop"].Err; !strings.HasPrefix(e, "canceled") {
		t.Errorf("canceled: %q", e)
	}
	// A succeeded result that is not a message (no content) was billed, as a synchronous
	// reply of the wrong shape is: unusable, at the usage it said.
	if r := res["odd"]; !r.Unusable || r.Err == "" || r.Reply.Provider != Provider || r.Reply.Model == "" ||
		r.Reply.UnusableInputTokens != 30 || r.Reply.UnusableOutputTokens != 4 {
		t.Errorf("a succeeded result that is not a message: %+v; want unusable at 30+4 tokens", r)
	}
}

// A failure to read the results is an error of the job, without the key.
func TestBatchResultsFailure(t *testing.T) {
	s := newServer(t, jsonReply(500, `{"type":"error","error":{"type":"api_error","message":"boom"}}`))
	_, err := newTestClient(t, s).BatchResults(context.Background(), "msgbatch_1")
	if err == nil || strings.Contains(err.Error(), fakeKey) {
		t.Fatalf("%v", err)
	}
}
