package wire

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		x := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			x.Set(kv[i], kv[i+1])
		}
		return x
	}
	cases := []struct {
		h    http.Header
		want time.Duration
	}{
		{nil, 0},
		{h(), 0},
		{h("Retry-After", "12"), 12 * time.Second},
		{h("Retry-After", "0.5"), 500 * time.Millisecond},
		{h("Retry-After", "-3"), 0},
		{h("Retry-After", "soon"), 0},
		{h("Retry-After", now.Add(45*time.Second).Format(http.TimeFormat)), 45 * time.Second},
		{h("Retry-After", now.Add(-45*time.Second).Format(http.TimeFormat)), 0},
		{h("Retry-After-Ms", "250", "Retry-After", "1"), 250 * time.Millisecond},
		{h("Retry-After-Ms", "x", "Retry-After", "1"), time.Second},
	}
	for i, c := range cases {
		if got := RetryAfter(c.h, now); got != c.want {
			t.Errorf("case %d (%v): got %v, want %v", i, c.h, got, c.want)
		}
	}
}

func TestRedaction(t *testing.T) {
	key := "sk-SECRET-abc"
	err := Redact(context.DeadlineExceeded, key)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("Redact hides the error chain")
	}
	e := Fail("p", &Exchange{Status: 401, Body: []byte(`{"error":"bad key ` + key + `"}`)}, errors.New("auth failed for "+key), key)
	if strings.Contains(e.Error(), key) || strings.Contains(e.Body, key) || strings.Contains(e.Err.Error(), key) {
		t.Errorf("key leaked: %v / %q / %v", e, e.Body, e.Err)
	}
	if e.Status != 401 || e.Retryable() {
		t.Errorf("got %+v", e)
	}
	long := strings.Repeat("x", 5000)
	if got := Excerpt([]byte(long), ""); len(got) > BodyExcerpt+3 {
		t.Errorf("excerpt is %d bytes", len(got))
	}
	if e := Fail("p", &Exchange{Status: 200}, errors.New("unexpected EOF"), key); e.Status != 0 || !e.Retryable() {
		t.Errorf("2xx read failure: %+v", e)
	}
}

func TestSeed(t *testing.T) {
	if s := Seed(^uint64(0), 32); s != 1<<31-1 {
		t.Errorf("Seed = %d", s)
	}
	if s := Seed(7, 32); s != 7 {
		t.Errorf("Seed = %d", s)
	}
}

// Failed, the failure rule of the three provider clients: a reply over the size limit is n
// invalid replies (1 when partial), the first counting the call as unusable at the worst case
// given; an answered failure is an unusable error at it; a transport failure is neither.
func TestFailed(t *testing.T) {
	cut := errors.New("cut")
	large := &Exchange{Status: 200, TooLarge: -1, Max: 10}
	for _, partial := range []bool{false, true} {
		replies, se := Failed("p", "m", "", large, cut, 3, partial, time.Second, 7, 9)
		want := 3
		if partial {
			want = 1
		}
		if se != nil || len(replies) != want {
			t.Fatalf("partial %v: %d replies, %v; want %d", partial, len(replies), se, want)
		}
		r := replies[0]
		if !strings.HasPrefix(r.Invalid, "reply too large") || r.Calls != 1 || r.UnusableCalls != 1 ||
			r.UnusableInputTokens != 7 || r.UnusableOutputTokens != 9 || r.Model != "m" || r.Latency != time.Second {
			t.Errorf("partial %v: first reply %+v", partial, r)
		}
		for _, o := range replies[1:] {
			if o.Invalid != r.Invalid || o.Calls != 0 || o.UnusableCalls != 0 || o.UnusableOutputTokens != 0 {
				t.Errorf("other reply %+v", o)
			}
		}
	}
	replies, se := Failed("p", "m", "", &Exchange{Status: 200}, cut, 1, false, 0, 7, 9)
	if replies != nil || se == nil || !se.Unusable || se.Model != "m" || se.InputTokens != 7 || se.OutputTokens != 9 {
		t.Errorf("answered: %v, %+v", replies, se)
	}
	if _, se := Failed("p", "m", "", &Exchange{}, cut, 1, false, 0, 7, 9); se == nil || se.Unusable {
		t.Errorf("not answered: %+v", se)
	}
}
