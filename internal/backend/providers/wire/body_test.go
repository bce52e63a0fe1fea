package wire

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// countingConn counts the writes made on a connection.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// opaque hides the in-memory reader under it, as the SDKs' body wrappers do.
type opaque struct{ io.Reader }

func (opaque) Close() error { return nil }

// An SDK's request body wrapped in its own reader is sent in one write with the headers (as
// net/http does for a body it knows is in memory), not in a second write after them.
func TestRewindableBodyGoesInOneWrite(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Store(string(b))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	var writes atomic.Int64
	next := PooledTransport()
	next.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return countingConn{c, &writes}, err
	}
	hc := &http.Client{Transport: &Transport{Next: next}}
	body := []byte(`{"prompt":"` + strings.Repeat("x", 1500) + `"}`)
	for _, rewindable := range []bool{true, false} {
		writes.Store(0)
		req, err := http.NewRequest("POST", srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Body, req.ContentLength = opaque{bytes.NewReader(body)}, int64(len(body))
		if rewindable {
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if got.Load() != string(body) {
			t.Fatalf("rewindable %v: the server got a different body", rewindable)
		}
		want := int64(1)
		if !rewindable {
			want = 2 // headers, then the body: what the transport avoids when it can
		}
		if n := writes.Load(); n != want {
			t.Errorf("rewindable %v: request sent in %d writes, want %d", rewindable, n, want)
		}
	}
}
