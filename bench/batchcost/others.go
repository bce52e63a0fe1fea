package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Usage for the Anthropic and Gemini loopbacks is counted from a request's text (its system
// text and messages), the same whether it comes alone or in a batch: a quarter of its bytes
// in, 8 out.

type textPart struct {
	Text string `json:"text"`
}

// anthropicBody is what the server reads of a Messages body.
type anthropicBody struct {
	Model    string     `json:"model"`
	System   []textPart `json:"system"`
	Messages []struct {
		Content []textPart `json:"content"`
	} `json:"messages"`
}

func (b anthropicBody) text() string {
	var t strings.Builder
	for _, p := range b.System {
		t.WriteString(p.Text)
	}
	for _, m := range b.Messages {
		for _, p := range m.Content {
			t.WriteString(p.Text)
		}
	}
	return t.String()
}

func rating(text string) int {
	h := 0
	for _, c := range []byte(text) {
		h = (h*31 + int(c)) % 1000003
	}
	return 1 + h%7
}

func (b anthropicBody) message() json.RawMessage {
	t := b.text()
	return json.RawMessage(fmt.Sprintf(`{"id":"msg","type":"message","role":"assistant","model":%q,"content":[{"type":"tool_use","id":"t","name":"response","input":{"willingness":%d}}],"stop_reason":"tool_use","usage":{"input_tokens":%d,"output_tokens":8}}`,
		b.Model+"-20251001", rating(t), len(t)/4))
}

func (s *server) anthropic(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/messages", func(w http.ResponseWriter, r *http.Request) {
		var b anthropicBody
		json.NewDecoder(r.Body).Decode(&b)
		s.mu.Lock()
		s.calls++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(b.message())
	})
	mux.HandleFunc("POST /v1/messages/batches", func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body struct {
			Requests []struct {
				CustomID string        `json:"custom_id"`
				Params   anthropicBody `json:"params"`
			} `json:"requests"`
		}
		json.Unmarshal(raw, &body)
		var lines []json.RawMessage
		for _, q := range body.Requests {
			lines = append(lines, json.RawMessage(fmt.Sprintf(`{"custom_id":%q,"result":{"type":"succeeded","message":%s}}`, q.CustomID, q.Params.message())))
		}
		s.mu.Lock()
		s.jobs++
		s.largest = max(s.largest, len(raw))
		id := fmt.Sprintf("msgbatch_%d", s.jobs)
		s.answers[id] = lines
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"type":"message_batch","processing_status":"in_progress","request_counts":{"processing":%d}}`, id, len(lines))
	})
	mux.HandleFunc("GET /v1/messages/batches/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		s.mu.Lock()
		s.polls[id]++
		status := map[bool]string{false: "in_progress", true: "ended"}[s.polls[id] > 1]
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"type":"message_batch","processing_status":%q,"request_counts":{}}`, id, status)
	})
	mux.HandleFunc("GET /v1/messages/batches/{id}/results", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		lines := s.answers[r.PathValue("id")]
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-jsonl")
		for _, l := range lines {
			w.Write(l)
			io.WriteString(w, "\n")
		}
	})
}

// geminiBody is what the server reads of a generateContent body.
type geminiBody struct {
	Contents []struct {
		Parts []textPart `json:"parts"`
	} `json:"contents"`
	SystemInstruction *struct {
		Parts []textPart `json:"parts"`
	} `json:"systemInstruction"`
}

func (b geminiBody) response(model string) json.RawMessage {
	var t strings.Builder
	if b.SystemInstruction != nil {
		for _, p := range b.SystemInstruction.Parts {
			t.WriteString(p.Text)
		}
	}
	for _, c := range b.Contents {
		for _, p := range c.Parts {
			t.WriteString(p.Text)
		}
	}
	text := t.String()
	return json.RawMessage(fmt.Sprintf(`{"candidates":[{"content":{"role":"model","parts":[{"text":"{\"willingness\": %d}"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":%d,"candidatesTokenCount":8},"modelVersion":%q}`,
		rating(text), len(text)/4, model+"-001"))
}

func (s *server) gemini(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1beta/models/{call}", func(w http.ResponseWriter, r *http.Request) {
		model, call, _ := strings.Cut(r.PathValue("call"), ":")
		raw, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch call {
		case "generateContent":
			var b geminiBody
			json.Unmarshal(raw, &b)
			s.mu.Lock()
			s.calls++
			s.mu.Unlock()
			w.Write(b.response(model))
		case "batchGenerateContent":
			var body struct {
				Batch struct {
					InputConfig struct {
						Requests struct {
							Requests []struct {
								Request  geminiBody        `json:"request"`
								Metadata map[string]string `json:"metadata"`
							} `json:"requests"`
						} `json:"requests"`
					} `json:"inputConfig"`
				} `json:"batch"`
			}
			json.Unmarshal(raw, &body)
			var out []json.RawMessage
			for _, q := range body.Batch.InputConfig.Requests.Requests {
				meta, _ := json.Marshal(q.Metadata)
				out = append(out, json.RawMessage(fmt.Sprintf(`{"response":%s,"metadata":%s}`, q.Request.response(model), meta)))
			}
			s.mu.Lock()
			s.jobs++
			s.largest = max(s.largest, len(raw))
			id := fmt.Sprintf("batches/job%d", s.jobs)
			s.answers[id] = out
			s.mu.Unlock()
			fmt.Fprintf(w, `{"name":%q,"metadata":{"state":"BATCH_STATE_PENDING"}}`, id)
		default:
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("GET /v1beta/batches/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := "batches/" + r.PathValue("id")
		s.mu.Lock()
		s.polls[id]++
		op := map[string]any{"name": id, "metadata": map[string]any{"state": "BATCH_STATE_RUNNING"}}
		if s.polls[id] > 1 {
			op["done"] = true
			op["metadata"] = map[string]any{"state": "BATCH_STATE_SUCCEEDED",
				"output": map[string]any{"inlinedResponses": map[string]any{"inlinedResponses": s.answers[id]}}}
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(op)
	})
}
