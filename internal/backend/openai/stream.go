package openai

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/providers/wire"
)

// A streamed call (Config.FirstByteTimeout) has two clocks. Until the reply's first byte
// arrives, the call may wait FirstByteTimeout: that covers the connection, the time queued
// inside a server that serves one request at a time (Ollama's default), and prompt
// processing. From the first byte on, GenerationTimeout bounds the rest, so a server that
// stalls mid-reply is cut after that, however long the request was queued. Without
// streaming a server sends nothing before the whole reply is generated, and the two cannot be
// told apart.

var (
	errNoFirstByte = errors.New("no first byte")
	errStalled     = errors.New("reply not complete")
)

// maxStreamChoices bounds the choices a streamed reply may carry (an index past it is a
// malformed reply, not an allocation).
const maxStreamChoices = 1024

// streamChunk is the part of a chat.completion.chunk prosim reads.
type streamChunk struct {
	Model             string `json:"model"`
	SystemFingerprint string `json:"system_fingerprint"`
	Choices           []struct {
		Index int `json:"index"`
		Delta struct {
			Content string `json:"content"`
			Refusal string `json:"refusal"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int64 `json:"prompt_tokens"`
		CompletionTokens int64 `json:"completion_tokens"`
	} `json:"usage"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// streamOptions is appended to a request body to stream it with the usage in the last chunk.
const streamOptions = `,"stream":true,"stream_options":{"include_usage":true}}`

// stream makes one streamed call and assembles its chunks into a completion.
func (c *Client) stream(ctx context.Context, body []byte) (*completion, *wire.Exchange, error) {
	body = append(body[:len(body)-1], streamOptions...)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	clock := time.AfterFunc(c.firstByte, func() {
		cancel(fmt.Errorf("%w within first_byte_timeout %v", errNoFirstByte, c.firstByte))
	})
	defer func() { clock.Stop() }()
	ctx, ex := wire.Track(ctx)
	res, err := c.post(ctx, body) // an HTTP error status is an error here
	if err != nil {
		return nil, ex, causeOf(ctx, err)
	}
	defer res.Body.Close()
	out, err := c.readStream(&firstByte{r: res.Body, at: func() {
		clock.Stop()
		if c.generation > 0 {
			clock = time.AfterFunc(c.generation, func() {
				cancel(fmt.Errorf("%w within timeout %v of its first byte (the server stalled)", errStalled, c.generation))
			})
		}
	}})
	if err != nil {
		return nil, ex, causeOf(ctx, err)
	}
	return out, ex, nil
}

// causeOf is err, or the reason a clock of the call cancelled it.
func causeOf(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && (errors.Is(cause, errNoFirstByte) || errors.Is(cause, errStalled)) {
		return cause
	}
	return err
}

// firstByte calls at once, when the first bytes are read.
type firstByte struct {
	r    io.Reader
	at   func()
	seen bool
}

func (f *firstByte) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 && !f.seen {
		f.seen = true
		f.at()
	}
	return n, err
}

// readStream reads server-sent events up to "data: [DONE]" and joins each choice's deltas.
func (c *Client) readStream(r io.Reader) (*completion, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), wire.DefaultMaxReply)
	var (
		out   completion
		texts [][]byte // per choice index
		refs  [][]byte
	)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		data, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			continue // a comment, an event name, a blank line between events
		}
		data = bytes.TrimSpace(data)
		if string(data) == "[DONE]" {
			out.Choices = make([]choiceMessage, len(texts))
			for i := range texts {
				out.Choices[i].Message.Content = string(texts[i])
				out.Choices[i].Message.Refusal = string(refs[i])
			}
			return &out, nil
		}
		var ch streamChunk
		if err := json.Unmarshal(data, &ch); err != nil {
			return nil, wire.Malformed(Provider, "stream chunk is not JSON: "+err.Error())
		}
		if ch.Error != nil {
			return nil, &backend.StatusError{Provider: Provider, Err: fmt.Errorf("stream error: %s", ch.Error.Message)}
		}
		if ch.Model != "" {
			out.Model = ch.Model
		}
		if ch.SystemFingerprint != "" {
			out.SystemFingerprint = ch.SystemFingerprint
		}
		if ch.Usage != nil {
			out.Usage.PromptTokens, out.Usage.CompletionTokens = ch.Usage.PromptTokens, ch.Usage.CompletionTokens
		}
		for _, d := range ch.Choices {
			if d.Index < 0 || d.Index >= maxStreamChoices {
				return nil, wire.Malformed(Provider, fmt.Sprintf("stream choice index %d", d.Index))
			}
			for len(texts) <= d.Index {
				texts, refs = append(texts, nil), append(refs, nil)
			}
			texts[d.Index] = append(texts[d.Index], d.Delta.Content...)
			refs[d.Index] = append(refs[d.Index], d.Delta.Refusal...)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, wire.Malformed(Provider, "stream ended before [DONE]")
}
