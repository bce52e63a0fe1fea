package backend

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// script returns the errors in turn, then successes.
func script(errs ...error) (Backend, *int) {
	n := new(int)
	return Func(func(ctx context.Context, req Request) (Reply, error) {
		*n++
		if *n <= len(errs) && errs[*n-1] != nil {
			return Reply{}, errs[*n-1]
		}
		return Reply{Raw: "ok", Calls: 1}, nil
	}), n
}

type sleepLog struct{ d []time.Duration }

func (s *sleepLog) sleep(ctx context.Context, d time.Duration) error {
	s.d = append(s.d, d)
	return ctx.Err()
}

func TestRetryRecoversAndHonoursRetryAfter(t *testing.T) {
	inner, n := script(
		&StatusError{Provider: "openai", Status: 429, RetryAfter: 7 * time.Second},
		&StatusError{Provider: "openai", Status: 503},
		&StatusError{Provider: "openai", Status: 0, Err: errors.New("connection reset")},
	)
	var s sleepLog
	p := RetryPolicy{MaxAttempts: 5, Base: time.Second, Max: 10 * time.Second, Sleep: s.sleep, Seed: 1}
	r, err := Retry(inner, p).Decide(context.Background(), testReq("p", 0))
	if err != nil {
		t.Fatal(err)
	}
	if *n != 4 || r.Calls != 4 || r.FailedCalls != 3 || r.Raw != "ok" {
		t.Fatalf("calls %d, reply %+v; want 4 attempts counted, 3 of them failed", *n, r)
	}
	if len(s.d) != 3 {
		t.Fatalf("sleeps %v", s.d)
	}
	if s.d[0] < 7*time.Second {
		t.Errorf("first wait %v is shorter than Retry-After 7s", s.d[0])
	}
	for i, ceil := range []time.Duration{0, 2 * time.Second, 4 * time.Second} {
		if i > 0 && (s.d[i] < 0 || s.d[i] > ceil) {
			t.Errorf("wait %d = %v, want full jitter in [0, %v]", i, s.d[i], ceil)
		}
	}
}

func TestRetryJitterIsBoundedAndSeeded(t *testing.T) {
	run := func(seed uint64) []time.Duration {
		errs := make([]error, 12)
		for i := range errs {
			errs[i] = &StatusError{Provider: "x", Status: 500}
		}
		inner, _ := script(errs...)
		var s sleepLog
		Retry(inner, RetryPolicy{MaxAttempts: 13, Base: 100 * time.Millisecond, Max: 2 * time.Second, Sleep: s.sleep, Seed: seed}).
			Decide(context.Background(), testReq("p", 0))
		return s.d
	}
	a, b, c := run(42), run(42), run(43)
	if len(a) != 12 {
		t.Fatalf("%d waits", len(a))
	}
	differ := false
	for i := range a {
		ceil := min(2*time.Second, 100*time.Millisecond<<i)
		if a[i] < 0 || a[i] > ceil {
			t.Errorf("wait %d = %v outside [0, %v]", i, a[i], ceil)
		}
		if a[i] != b[i] {
			t.Errorf("same seed, wait %d differs: %v vs %v", i, a[i], b[i])
		}
		differ = differ || a[i] != c[i]
	}
	if !differ {
		t.Error("seeds 42 and 43 gave the same waits")
	}
}

func TestRetryGivesUp(t *testing.T) {
	errs := []error{}
	for range 10 {
		errs = append(errs, &StatusError{Provider: "anthropic", Status: 529, Body: "overloaded"})
	}
	inner, n := script(errs...)
	var s sleepLog
	r, err := Retry(inner, RetryPolicy{MaxAttempts: 4, Sleep: s.sleep}).Decide(context.Background(), testReq("p", 0))
	if err == nil || *n != 4 || len(s.d) != 3 {
		t.Fatalf("err %v after %d calls and %d sleeps; want an error after 4 calls", err, *n, len(s.d))
	}
	if r.Calls != 4 || r.FailedCalls != 4 {
		t.Fatalf("the reply returned with the error counts %d calls (%d failed), want the 4 attempts, all failed", r.Calls, r.FailedCalls)
	}
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 529 {
		t.Fatalf("error %v does not wrap the last StatusError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "4 attempts") || !strings.Contains(msg, "HTTP 529") {
		t.Fatalf("error %q should say how many attempts and the last status", msg)
	}
}

// A connection that could not be made sent nothing: its attempts are not calls.
func TestRetryCountsNoCallForRefusedConnections(t *testing.T) {
	refused := &StatusError{Provider: "openai", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	inner, n := script(refused, refused, &StatusError{Provider: "openai", Status: 500}, refused)
	r, err := Retry(inner, RetryPolicy{MaxAttempts: 4, Sleep: (&sleepLog{}).sleep}).Decide(context.Background(), testReq("p", 0))
	if err == nil || *n != 4 || r.Calls != 1 || r.FailedCalls != 1 {
		t.Fatalf("err %v after %d attempts, reply counts %d calls (%d failed); want 1 (the 500)", err, *n, r.Calls, r.FailedCalls)
	}
}

func TestRetryNonRetryableReturnsAtOnce(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404} {
		inner, n := script(&StatusError{Provider: "openai", Status: status})
		var s sleepLog
		r, err := Retry(inner, RetryPolicy{MaxAttempts: 5, Sleep: s.sleep}).Decide(context.Background(), testReq("p", 0))
		var se *StatusError
		if !errors.As(err, &se) || se.Status != status || *n != 1 || len(s.d) != 0 || r.Calls != 1 {
			t.Errorf("status %d: err %v after %d calls (reply counts %d)", status, err, *n, r.Calls)
		}
	}
	// An error that is neither a provider's nor a timeout failed before anything was sent.
	plain := errors.New("schema has no fields")
	inner, n := script(plain)
	if r, err := Retry(inner, RetryPolicy{MaxAttempts: 5, Sleep: (&sleepLog{}).sleep}).Decide(context.Background(), testReq("p", 0)); !errors.Is(err, plain) || *n != 1 || r.Calls != 0 {
		t.Errorf("plain error: %v after %d calls (reply counts %d)", err, *n, r.Calls)
	}
}

func TestRetryStopsWhenCallerCancels(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	inner, n := script(&StatusError{Provider: "x", Status: 503}, &StatusError{Provider: "x", Status: 503})
	sleep := func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }
	_, err := Retry(inner, RetryPolicy{MaxAttempts: 5, Sleep: sleep}).Decide(ctx, testReq("p", 0))
	if !errors.Is(err, context.Canceled) || *n != 1 {
		t.Fatalf("err %v after %d calls, want context.Canceled after 1", err, *n)
	}
	// Cancelled during a call: the call's failure is not retried.
	ctx, cancel = context.WithCancel(context.Background())
	calls := 0
	inner2 := Func(func(ctx context.Context, req Request) (Reply, error) {
		calls++
		cancel()
		return Reply{}, &StatusError{Provider: "x", Err: ctx.Err()}
	})
	_, err = Retry(inner2, RetryPolicy{MaxAttempts: 5, Sleep: (&sleepLog{}).sleep}).Decide(ctx, testReq("p", 0))
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
}

func TestRetryPerCallTimeout(t *testing.T) {
	calls := 0
	inner := Func(func(ctx context.Context, req Request) (Reply, error) {
		calls++
		if calls < 3 {
			<-ctx.Done() // a hung provider: only the per-call timeout ends it
			return Reply{}, &StatusError{Provider: "x", Err: errors.New("read tcp: i/o timeout")}
		}
		return Reply{Raw: "ok", Calls: 1}, nil
	})
	var s sleepLog
	r, err := Retry(inner, RetryPolicy{MaxAttempts: 3, Timeout: time.Millisecond, Sleep: s.sleep}).Decide(context.Background(), testReq("p", 0))
	if err != nil || calls != 3 || r.Calls != 3 || r.FailedCalls != 2 {
		t.Fatalf("got %+v, %v after %d calls", r, err, calls)
	}
	// Timing out every time: the error says so.
	calls = 0
	hang := Func(func(ctx context.Context, req Request) (Reply, error) {
		calls++
		<-ctx.Done()
		return Reply{}, ctx.Err()
	})
	_, err = Retry(hang, RetryPolicy{MaxAttempts: 2, Timeout: time.Millisecond, Sleep: s.sleep}).Decide(context.Background(), testReq("p", 0))
	if !errors.Is(err, context.DeadlineExceeded) || calls != 2 || !strings.Contains(err.Error(), "2 attempts") {
		t.Fatalf("err %v after %d calls", err, calls)
	}
	// The caller's own deadline is not retried.
	calls = 0
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err = Retry(hang, RetryPolicy{MaxAttempts: 5, Timeout: time.Hour, Sleep: s.sleep}).Decide(ctx, testReq("p", 0))
	if !errors.Is(err, context.DeadlineExceeded) || calls != 1 {
		t.Fatalf("caller deadline: err %v after %d calls", err, calls)
	}
}

// The Watch sees a call in flight and a Retry-After back-off while they last, and nothing
// after: the progress output says what a run waits for.
func TestRetryWatch(t *testing.T) {
	w := NewWatch()
	clock := time.Unix(0, 0)
	w.now = func() time.Time { return clock }
	var during []string
	n := 0
	be := Retry(Func(func(ctx context.Context, req Request) (Reply, error) {
		clock = clock.Add(20 * time.Second) // the call takes 20 s
		during = append(during, w.Waiting(10*time.Second))
		if n++; n == 1 {
			return Reply{}, &StatusError{Provider: "openai", Status: 429, RetryAfter: 24 * time.Hour, Body: "slow down"}
		}
		return Reply{Raw: "ok"}, nil
	}), RetryPolicy{Watch: w, Sleep: func(ctx context.Context, d time.Duration) error {
		during = append(during, w.Waiting(10*time.Second))
		return nil
	}})
	if _, err := be.Decide(context.Background(), Request{}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1 call(s) in flight for 10s or more, the oldest 20s",
		"1 call(s) backing off before a retry, 1m0s left (Retry-After: a server asked for 24h0m0s); last error: openai: HTTP 429: slow down",
		"1 call(s) in flight for 10s or more, the oldest 20s",
	}
	if fmt.Sprint(during) != fmt.Sprint(want) {
		t.Fatalf("waiting states:\n%q\nwant\n%q", during, want)
	}
	if s := w.Waiting(0); s != "" {
		t.Fatalf("after the call: %q", s)
	}
}

// A call backing off after a refused connection says so, naming the server, as the client
// reports it (net/http wraps the dial error in a *url.Error).
func TestRetryWatchNamesRefusedServer(t *testing.T) {
	w := NewWatch()
	refused := &StatusError{Provider: "openai", Err: &url.Error{Op: "Post", URL: "http://127.0.0.1:8000/v1/chat/completions",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}}
	var during string
	be := Retry(Func(func(ctx context.Context, req Request) (Reply, error) {
		return Reply{}, refused
	}), RetryPolicy{MaxAttempts: 2, Watch: w, Sleep: func(ctx context.Context, d time.Duration) error {
		during = w.Waiting(0)
		return nil
	}})
	if _, err := be.Decide(context.Background(), Request{}); !Unreachable(err) {
		t.Fatalf("err %v: not told unreachable", err)
	}
	if want := "; last error: connection refused by http://127.0.0.1:8000: is the server running?"; !strings.HasSuffix(during, want) {
		t.Fatalf("waiting: %q\nwant it to end %q", during, want)
	}
}

// Reason says what failed to connect; other failures are their own text, cut short.
func TestReason(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&StatusError{Provider: "openai", Err: &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 8000}, Err: syscall.ECONNREFUSED}},
			"connection refused by 10.0.0.1:8000: is the server running?"},
		{&url.Error{Op: "Post", URL: "https://llm.invalid/v1/chat/completions", Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Name: "llm.invalid", Err: "no such host", IsNotFound: true}}},
			"no such host llm.invalid: is the URL right?"},
		{&url.Error{Op: "Post", URL: "http://10.0.0.2:8000/v1", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("i/o timeout")}},
			"cannot connect to http://10.0.0.2:8000: i/o timeout"},
		{&StatusError{Provider: "openai", Status: 500, Body: strings.Repeat("x", 300)}, "openai: HTTP 500: " + strings.Repeat("x", 160-len("openai: HTTP 500: ")) + "..."},
	} {
		if got := Reason(c.err); got != c.want {
			t.Errorf("Reason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// A call is Refused when every attempt failed at the transport level with no response, the
// last unable to connect: a connection dropped before a response counts, an HTTP status or a
// timeout after sending (which may be billed) does not.
func TestRefused(t *testing.T) {
	dial := &StatusError{Provider: "openai", Err: &url.Error{Op: "Post", URL: "http://127.0.0.1:8000/v1/chat/completions",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}}
	reset := &StatusError{Provider: "openai", Err: &url.Error{Op: "Post", URL: "http://127.0.0.1:8000/v1/chat/completions", Err: syscall.ECONNRESET}}
	timeout := fmt.Errorf("call timed out: %w", context.DeadlineExceeded)
	for _, c := range []struct {
		name string
		errs []error
		want bool
	}{
		{"refused throughout", []error{dial, dial, dial}, true},
		{"reset before a response, then refused", []error{reset, dial, dial}, true},
		{"HTTP 500, then refused", []error{&StatusError{Provider: "openai", Status: 500}, dial, dial}, false},
		{"timed out after sending, then refused", []error{timeout, dial, dial}, false},
		{"refused, then HTTP 503", []error{dial, dial, &StatusError{Provider: "openai", Status: 503}}, false},
	} {
		inner, _ := script(c.errs...)
		_, err := Retry(inner, RetryPolicy{MaxAttempts: len(c.errs), Sleep: (&sleepLog{}).sleep}).Decide(context.Background(), Request{})
		if err == nil || Refused(err) != c.want {
			t.Errorf("%s: err %v, Refused %v, want %v", c.name, err, Refused(err), c.want)
		}
	}
}

// A call that times out says which timeout, and where it is set, rather than the client's
// "context deadline exceeded" (QA12 #16); it is still a DeadlineExceeded and still carries the
// client's StatusError.
func TestTimeoutReasonNamesTheTimeout(t *testing.T) {
	hang := Func(func(ctx context.Context, req Request) (Reply, error) {
		<-ctx.Done()
		return Reply{}, &StatusError{Provider: "anthropic", Err: ctx.Err()}
	})
	b := Retry(hang, RetryPolicy{MaxAttempts: 1, Timeout: 20 * time.Millisecond, TimeoutName: "backends[0].timeout"})
	_, err := b.Decide(context.Background(), Request{})
	want := "anthropic: no reply within the timeout of 20ms (backends[0].timeout)"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "context deadline exceeded") {
		t.Fatalf("err %v, want it to say %q", err, want)
	}
	if se, ok := errors.AsType[*StatusError](err); !errors.Is(err, context.DeadlineExceeded) || !ok || se.Provider != "anthropic" {
		t.Errorf("err %v: want a DeadlineExceeded carrying the StatusError", err)
	}
	// A client that reports the timeout as a bare transport error is named alike.
	bare := Func(func(ctx context.Context, req Request) (Reply, error) {
		<-ctx.Done()
		return Reply{}, errors.New("read tcp: use of closed network connection")
	})
	_, err = Retry(bare, RetryPolicy{MaxAttempts: 1, Timeout: 20 * time.Millisecond}).Decide(context.Background(), Request{})
	if err == nil || !strings.Contains(err.Error(), "no reply within the timeout of 20ms") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
}
