package providers

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/schema"
)

func TestLocal(t *testing.T) {
	for u, want := range map[string]bool{
		"http://localhost:11434/v1":   true,
		"http://127.0.0.1:8000/v1":    true,
		"http://[::1]:8000/v1":        true,
		"http://192.168.1.20:8000/v1": true,
		"http://10.0.0.5/v1":          true,
		"https://api.openai.com/v1":   false,
		"http://8.8.8.8/v1":           false,
		"":                            false,
	} {
		if got := Local(u); got != want {
			t.Errorf("Local(%q) = %v, want %v", u, got, want)
		}
	}
	if AdaptiveOn("auto", "https://api.openai.com/v1") || !AdaptiveOn("", "http://localhost:11434/v1") ||
		!AdaptiveOn("on", "https://api.openai.com/v1") || AdaptiveOn("off", "http://localhost:11434/v1") {
		t.Error("AdaptiveOn: auto means local base URLs only; on and off are as said")
	}
}

// TestConnectTimeout: a server that accepts the connection and never completes the TLS
// handshake fails the call after connect_timeout, long before the call's own deadline.
func TestConnectTimeout(t *testing.T) {
	clearKeys(t)
	t.Setenv("PROSIM_TEST_PROVIDER_KEY", secret)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, silent
		}
	}()
	be, err := New(Spec{Provider: "openai", Model: "m", BaseURL: "https://" + ln.Addr().String() + "/v1",
		APIKeyEnv: "PROSIM_TEST_PROVIDER_KEY", ConnectTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = be.Decide(ctx, backend.Request{System: "s", Prompt: "p",
		Schema: schema.Schema{Fields: []schema.Field{{Name: "willingness", Kind: schema.Likert, Min: 1, Max: 7}}}})
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "handshake timeout") {
		t.Fatalf("error %v (call context: %v): want the TLS handshake timeout", err, ctx.Err())
	}
}
