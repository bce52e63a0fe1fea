package openai

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// A job's results file is read whole, however much larger than one reply's size limit, with
// output lines, error lines and a non-200 response each given to its own custom id.
func TestBatchResultsLargeFileAndLineErrors(t *testing.T) {
	const lines = 6000 // about 3 MB: over the 1 MB limit of one reply
	body := strings.ReplaceAll(strings.ReplaceAll(okBody, "\n", ""), "\t", "")
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/batches/batch_x":
			io.WriteString(w, `{"id":"batch_x","object":"batch","endpoint":"/v1/chat/completions","input_file_id":"f","completion_window":"24h","created_at":1,"status":"completed","output_file_id":"out","error_file_id":"err","request_counts":{"total":6002,"completed":6000,"failed":2}}`)
		case "/v1/files/out/content":
			for i := range lines {
				fmt.Fprintf(w, `{"id":"r%d","custom_id":"c%d","response":{"status_code":200,"body":%s},"error":null}`+"\n", i, i, body)
			}
		case "/v1/files/err/content":
			io.WriteString(w, `{"id":"e1","custom_id":"bad","response":{"status_code":400,"body":{"error":{"message":"context too long"}}},"error":null}`+"\n")
			io.WriteString(w, `{"id":"e2","custom_id":"gone","response":null,"error":{"code":"batch_expired","message":"not executed"}}`+"\n")
		default:
			http.NotFound(w, r)
		}
	})
	c := newTestClient(t, s)
	state, ended, note, err := c.BatchStatus(context.Background(), "batch_x")
	if err != nil || state != "completed" || !ended || note != "(6000/6002 done, 2 failed)" {
		t.Fatalf("status %q %v %q %v", state, ended, note, err)
	}
	res, err := c.BatchResults(context.Background(), "batch_x")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != lines+2 {
		t.Fatalf("%d results, want %d", len(res), lines+2)
	}
	r := res["c5999"]
	if r.Err != "" || r.Reply.Raw != `{"willingness":5}` || r.Reply.InputTokens != 42 || r.Reply.OutputTokens != 7 || r.Reply.Calls != 1 {
		t.Errorf("an output line: %+v", r)
	}
	if e := res["bad"].Err; !strings.Contains(e, "HTTP 400") || !strings.Contains(e, "context too long") {
		t.Errorf("a 400 line: %q", e)
	}
	if e := res["gone"].Err; e != "batch_expired: not executed" {
		t.Errorf("an expired line: %q", e)
	}
}

// A line with HTTP 200 whose body cannot be used (not a chat completion, no choices) was
// billed: it is an unusable result, not a line error (which the provider does not bill),
// named by the provider and model to price it, at the usage it said (none: 0, which the
// collector counts at the request's worst case, as Decide does).
func TestBatchResultsUnusableLines(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/batches/batch_u":
			io.WriteString(w, `{"id":"batch_u","object":"batch","endpoint":"/v1/chat/completions","input_file_id":"f","completion_window":"24h","created_at":1,"status":"completed","output_file_id":"out","request_counts":{"total":3,"completed":3,"failed":0}}`)
		case "/v1/files/out/content":
			io.WriteString(w, `{"id":"r1","custom_id":"cut","response":{"status_code":200,"body":"{\"id\":\"chatcmpl-1\",\"choi"},"error":null}`+"\n")
			io.WriteString(w, `{"id":"r2","custom_id":"empty","response":{"status_code":200,"body":{"id":"chatcmpl-2","object":"chat.completion","choices":[]}},"error":null}`+"\n")
			io.WriteString(w, `{"id":"r3","custom_id":"counted","response":{"status_code":200,"body":{"id":"chatcmpl-3","object":"chat.completion","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":4}}},"error":null}`+"\n")
		default:
			http.NotFound(w, r)
		}
	})
	res, err := newTestClient(t, s).BatchResults(context.Background(), "batch_u")
	if err != nil || len(res) != 3 {
		t.Fatalf("%d results, %v", len(res), err)
	}
	for id, want := range map[string][2]int{"cut": {0, 0}, "empty": {0, 0}, "counted": {30, 4}} {
		r := res[id]
		if !r.Unusable || r.Err == "" || r.Reply.Provider != Provider || r.Reply.Model != "gpt-4o-mini" ||
			r.Reply.UnusableInputTokens != want[0] || r.Reply.UnusableOutputTokens != want[1] || r.Reply.Calls != 0 {
			t.Errorf("line %s: %+v; want unusable, of %s/gpt-4o-mini, at %d+%d tokens", id, r, Provider, want[0], want[1])
		}
	}
}
