package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sse writes chunks as server-sent events, then [DONE].
func sse(w http.ResponseWriter, chunks ...string) {
	for _, c := range chunks {
		fmt.Fprintf(w, "data: %s\n\n", c)
	}
	io.WriteString(w, "data: [DONE]\n\n")
	w.(http.Flusher).Flush()
}

var streamed = []string{
	`{"id":"c","object":"chat.completion.chunk","model":"llama3","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`,
	`{"id":"c","object":"chat.completion.chunk","model":"llama3","choices":[{"index":0,"delta":{"content":"{\"willingness\""}},{"index":1,"delta":{"content":"{\"willingness\": 2}"}}]}`,
	`{"id":"c","object":"chat.completion.chunk","model":"llama3","choices":[{"index":0,"delta":{"content":": 6}"},"finish_reason":"stop"}]}`,
	`{"id":"c","object":"chat.completion.chunk","model":"llama3","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":12}}`,
}

func streaming(first, gen time.Duration) func(*Config) {
	return func(c *Config) { c.FirstByteTimeout, c.GenerationTimeout = first, gen }
}

// A streamed reply is assembled per choice, with the usage of its last chunk; the request asks
// for the stream and its usage.
func TestStreamAssembles(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		sse(w, streamed...)
	})
	req := request()
	req.N = 2
	rep, err := newTestClient(t, s, streaming(10*time.Second, 10*time.Second)).Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Raw != `{"willingness": 6}` || len(rep.Samples) != 1 || rep.Samples[0].Raw != `{"willingness": 2}` {
		t.Errorf("reply %q, samples %+v", rep.Raw, rep.Samples)
	}
	if rep.InputTokens != 40 || rep.OutputTokens != 12 || rep.Calls != 1 || rep.ModelVersion != "llama3 fp_1" {
		t.Errorf("reply %+v", rep)
	}
	if s.Body["stream"] != true || s.Body["stream_options"].(map[string]any)["include_usage"] != true {
		t.Errorf("body %v does not ask for a stream with usage", s.Body)
	}
}

// The point of the first-byte timeout: a request that waits in the server's queue (nothing
// sent for longer than the generation timeout) is answered, while a server that stalls after
// its first byte is cut by the generation timeout, and one that sends nothing within the
// first-byte timeout by that.
func TestFirstByteTimeoutSeparateFromGeneration(t *testing.T) {
	const gen = 400 * time.Millisecond
	t.Run("queued, then answers", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(3 * gen) // queued: no header, no byte
			w.Header().Set("Content-Type", "text/event-stream")
			sse(w, streamed...)
		})
		rep, err := newTestClient(t, s, streaming(30*time.Second, gen)).Decide(context.Background(), request())
		if err != nil || rep.Raw != `{"willingness": 6}` {
			t.Fatalf("reply %+v, err %v", rep, err)
		}
	})
	t.Run("stalls mid-body", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: %s\n\n", streamed[0])
			w.(http.Flusher).Flush()
			<-r.Context().Done() // hung: until the client gives up
		})
		_, err := newTestClient(t, s, streaming(30*time.Second, gen)).Decide(context.Background(), request())
		se := statusErr(t, err)
		if !errors.Is(err, errStalled) || !se.Retryable() || !strings.Contains(err.Error(), "stalled") {
			t.Fatalf("err %v (%+v), want a retryable stall", err, se)
		}
	})
	t.Run("no first byte", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		})
		_, err := newTestClient(t, s, streaming(gen, 30*time.Second)).Decide(context.Background(), request())
		statusErr(t, err)
		if !errors.Is(err, errNoFirstByte) || !strings.Contains(err.Error(), "first_byte_timeout") {
			t.Fatalf("err %v, want no first byte", err)
		}
	})
}

func TestStreamBadEnds(t *testing.T) {
	cases := map[string]func(http.ResponseWriter, *http.Request){
		"no [DONE]": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "data: %s\n\n", streamed[0])
		},
		"not JSON": func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "data: {oops\n\n") },
		"index": func(w http.ResponseWriter, r *http.Request) {
			sse(w, `{"choices":[{"index":99999,"delta":{"content":"x"}}]}`)
		},
		"error":  func(w http.ResponseWriter, r *http.Request) { sse(w, `{"error":{"message":"model crashed"}}`) },
		"status": jsonReply(503, `{"error":{"message":"overloaded"}}`),
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, h)
			_, err := newTestClient(t, s, streaming(10*time.Second, 10*time.Second)).Decide(context.Background(), request())
			se := statusErr(t, err)
			if !se.Retryable() {
				t.Errorf("%v is not retryable", err)
			}
			if name == "status" && se.Status != 503 {
				t.Errorf("status %d", se.Status)
			}
		})
	}
}
