package backend

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/prosim/prosim/internal/schema"
)

func TestCacheReplayMakesNoCalls(t *testing.T) {
	c, err := OpenCache(filepath.Join(t.TempDir(), "sub", "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	inner := &fake{}
	id := BackendID{Provider: "openai", Model: "gpt-4o-mini"}
	b := c.Wrap(Validate(inner, 0), id)
	ctx := context.Background()
	var first []Reply
	for i := range 20 {
		r, err := b.Decide(ctx, testReq(fmt.Sprintf("scenario %d", i%10), i%2))
		if err != nil {
			t.Fatal(err)
		}
		if r.Cached != (i >= 10) { // (i%10, i%2) repeats from i = 10 on
			t.Fatalf("decision %d: Cached = %v", i, r.Cached)
		}
		first = append(first, r)
	}
	if got := inner.calls.Load(); got != 10 {
		t.Fatalf("first pass: %d inner calls, want 10", got)
	}
	inner.calls.Store(0)
	for i := range 20 {
		r, err := b.Decide(ctx, testReq(fmt.Sprintf("scenario %d", i%10), i%2))
		if err != nil {
			t.Fatal(err)
		}
		if !r.Cached || r.Calls != 0 || r.InputTokens != 0 || r.OutputTokens != 0 || r.CostUSD != 0 {
			t.Fatalf("hit %d: %+v, want Cached with no calls, tokens or cost", i, r)
		}
		if r.Values["willingness"] != 5 || r.Raw != first[i].Raw || r.Model != "gpt-4o-mini" || r.Provider != "openai" {
			t.Fatalf("hit %d: %+v does not replay %+v", i, r, first[i])
		}
	}
	if got := inner.calls.Load(); got != 0 {
		t.Fatalf("replay made %d inner calls, want 0", got)
	}
	if st := c.Stats(); st.Hits != 30 || st.Misses != 10 || st.Stores != 10 || st.Errors != 0 {
		t.Fatalf("stats %+v", st)
	}
	if n, err := c.Len(ctx); err != nil || n != 10 {
		t.Fatalf("Len = %d, %v; want 10", n, err)
	}
}

func TestCacheSkipsInvalidAndErrors(t *testing.T) {
	c, err := OpenCache(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	calls := 0
	fail := true
	inner := Func(func(ctx context.Context, req Request) (Reply, error) {
		calls++
		if fail {
			return Reply{}, &StatusError{Provider: "openai", Status: 500}
		}
		return Reply{Raw: "no idea", Invalid: "no number found", Calls: 1}, nil
	})
	b := c.Wrap(inner, BackendID{Provider: "openai", Model: "m"})
	req := testReq("p", 0)
	for range 2 {
		if _, err := b.Decide(context.Background(), req); err == nil {
			t.Fatal("want the inner error")
		}
	}
	fail = false
	for range 2 {
		r, err := b.Decide(context.Background(), req)
		if err != nil || r.Cached || r.Invalid == "" {
			t.Fatalf("got %+v, %v; want the invalid reply, uncached", r, err)
		}
	}
	if calls != 4 {
		t.Fatalf("%d inner calls, want 4 (nothing cached)", calls)
	}
	if err := c.Put(context.Background(), KeyOf(BackendID{}, req), Reply{Raw: "x", Invalid: "bad"}); err == nil {
		t.Fatal("Put stored an invalid reply")
	}
}

func TestCacheSharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	a, err := OpenCache(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenCache(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	id := BackendID{Provider: "anthropic", Model: "claude-haiku-4-5"}
	inA, inB := &fake{raws: []string{`{"willingness": 3}`}}, &fake{raws: []string{`{"willingness": 6}`}}
	ba, bb := a.Wrap(Validate(inA, 0), id), b.Wrap(Validate(inB, 0), id)
	ctx := context.Background()
	if r, err := ba.Decide(ctx, testReq("shared", 0)); err != nil || r.Values["willingness"] != 3 {
		t.Fatalf("a: %+v, %v", r, err)
	}
	a.Flush() // writes are queued; another process sees them once committed
	if r, err := bb.Decide(ctx, testReq("shared", 0)); err != nil || !r.Cached || r.Values["willingness"] != 3 {
		t.Fatalf("b did not see a's entry: %+v, %v", r, err)
	}
	if r, err := bb.Decide(ctx, testReq("only b", 0)); err != nil || r.Values["willingness"] != 6 {
		t.Fatalf("b: %+v, %v", r, err)
	}
	b.Flush()
	if r, err := ba.Decide(ctx, testReq("only b", 0)); err != nil || !r.Cached || r.Values["willingness"] != 6 {
		t.Fatalf("a did not see b's entry: %+v, %v", r, err)
	}
	if inA.calls.Load() != 1 || inB.calls.Load() != 1 {
		t.Fatalf("inner calls a=%d b=%d, want 1 each", inA.calls.Load(), inB.calls.Load())
	}
}

func TestCacheConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	id := BackendID{Provider: "openai", Model: "m"}
	done := make(chan error)
	for w := range 4 {
		go func() {
			c, err := OpenCache(path)
			if err != nil {
				done <- err
				return
			}
			defer c.Close()
			b := c.Wrap(Validate(&fake{}, 0), id)
			for i := range 50 {
				if _, err := b.Decide(context.Background(), testReq(fmt.Sprint(i), w%2)); err != nil {
					done <- err
					return
				}
			}
			if st := c.Stats(); st.Errors != 0 {
				done <- fmt.Errorf("writer %d: %d cache errors", w, st.Errors)
				return
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	c, err := OpenCache(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n, err := c.Len(context.Background()); err != nil || n != 100 {
		t.Fatalf("Len = %d, %v; want 100", n, err)
	}
}

// TestKeyOf changes every setting that can change a reply and requires a different key (a
// cache miss), the agent id among them (an agent's draw is its own); the request's own seed
// must not change it.
func TestKeyOf(t *testing.T) {
	id := BackendID{Provider: "openai", Model: "gpt-4o", BaseURL: "https://api.openai.com/v1"}
	base := testReq("p", 0)
	k := KeyOf(id, base)
	same := base
	same.Seed = 12345
	if KeyOf(id, same) != k {
		t.Error("Seed changed the key")
	}
	other := base
	other.AgentID = base.AgentID + 1
	if KeyOf(id, other) == k {
		t.Error("two agents with identical texts share a key")
	}
	if KeyOf(BackendID{Provider: "openai", Model: "gpt-4o", BaseURL: "https://API.openai.com/v1/"}, base) != k {
		t.Error("BaseURL case or trailing slash changed the key")
	}
	temp0 := 0.0
	variants := map[string]func(r *Request, id *BackendID){
		"provider":    func(r *Request, id *BackendID) { id.Provider = "azure" },
		"model":       func(r *Request, id *BackendID) { id.Model = "gpt-4o-mini" },
		"base url":    func(r *Request, id *BackendID) { id.BaseURL = "http://localhost:8000/v1" },
		"structured":  func(r *Request, id *BackendID) { id.StructuredOutput = "off" },
		"json object": func(r *Request, id *BackendID) { id.StructuredOutput = "json_object" },
		"max field":   func(r *Request, id *BackendID) { id.MaxTokensField = "max_completion_tokens" },
		"seed sent":   func(r *Request, id *BackendID) { id.Seed = "run:42" },
		"run seed":    func(r *Request, id *BackendID) { id.Seed = "run:43" },
		"temperature": func(r *Request, id *BackendID) { r.Sampling.Temperature = &temp0 },
		"temp unset":  func(r *Request, id *BackendID) { r.Sampling.Temperature = nil },
		"top_p":       func(r *Request, id *BackendID) { p := 0.9; r.Sampling.TopP = &p },
		"max tokens":  func(r *Request, id *BackendID) { r.Sampling.MaxTokens = 51 },
		"system":      func(r *Request, id *BackendID) { r.System += " " },
		"prompt":      func(r *Request, id *BackendID) { r.Prompt = "q" },
		"repair":      func(r *Request, id *BackendID) { r.Repair = []Turn{{Assistant: "x", User: "y"}} },
		"schema":      func(r *Request, id *BackendID) { r.Schema.Fields = append(r.Schema.Fields, r.Schema.Fields[0]) },
		"replicate":   func(r *Request, id *BackendID) { r.Replicate = 1 },
		// Field boundaries: moving text between system and prompt must change the key.
		"boundary": func(r *Request, id *BackendID) { r.System, r.Prompt = r.System+r.Prompt[:1], r.Prompt[1:] },
	}
	seen := map[Key]string{k: "base"}
	for name, f := range variants {
		r, i := base, id
		r.Schema.Fields = append([]schema.Field(nil), base.Schema.Fields...)
		f(&r, &i)
		kk := KeyOf(i, r)
		if prev, dup := seen[kk]; dup {
			t.Errorf("%s: same key as %s", name, prev)
		}
		seen[kk] = name
	}
}

// TestCacheMissOnEachSetting stores one reply, then asks again with each setting changed in
// turn: every one must miss the cache (a call to the provider), and the unchanged request hit.
func TestCacheMissOnEachSetting(t *testing.T) {
	c, err := OpenCache(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	inner := &fake{}
	base := BackendID{Provider: "openai", Model: "m", BaseURL: "http://127.0.0.1:8000/v1",
		StructuredOutput: "json_schema", MaxTokensField: "max_tokens", Seed: "run:1"}
	temp, topP := 0.2, 0.5
	settings := map[string]func(*BackendID, *Request){
		"provider":          func(id *BackendID, r *Request) { id.Provider = "anthropic" },
		"base url":          func(id *BackendID, r *Request) { id.BaseURL = "http://127.0.0.1:11434/v1" },
		"model":             func(id *BackendID, r *Request) { id.Model = "m2" },
		"structured output": func(id *BackendID, r *Request) { id.StructuredOutput = "off" },
		"max tokens field":  func(id *BackendID, r *Request) { id.MaxTokensField = "max_completion_tokens" },
		"seed off":          func(id *BackendID, r *Request) { id.Seed = "" },
		"run seed":          func(id *BackendID, r *Request) { id.Seed = "run:2" },
		"extra body":        func(id *BackendID, r *Request) { id.ExtraBody = `{"options":{"num_ctx":4096}}` },
		"system":            func(id *BackendID, r *Request) { r.System = "You are Bo." },
		"prompt":            func(id *BackendID, r *Request) { r.Prompt = "other" },
		"repair":            func(id *BackendID, r *Request) { r.Repair = []Turn{{Assistant: "7", User: "again"}} },
		"schema": func(id *BackendID, r *Request) {
			r.Schema.Fields = []schema.Field{{Name: "x", Kind: schema.Likert, Min: 0, Max: 10}}
		},
		"temperature": func(id *BackendID, r *Request) { r.Sampling.Temperature = &temp },
		"top_p":       func(id *BackendID, r *Request) { r.Sampling.TopP = &topP },
		"max tokens":  func(id *BackendID, r *Request) { r.Sampling.MaxTokens = 64 },
		"replicate":   func(id *BackendID, r *Request) { r.Replicate = 2 },
	}
	req := testReq("p", 1)
	if _, err := c.Wrap(inner, base).Decide(ctx, req); err != nil {
		t.Fatal(err)
	}
	for name, change := range settings {
		id, r := base, req
		change(&id, &r)
		before := inner.calls.Load()
		got, err := c.Wrap(inner, id).Decide(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if got.Cached || inner.calls.Load() != before+1 {
			t.Errorf("changing %s hit the cache", name)
		}
	}
	same := req
	same.Seed = 99
	if got, _ := c.Wrap(inner, base).Decide(ctx, same); !got.Cached {
		t.Error("the request's own seed caused a miss")
	}
	same.AgentID = req.AgentID + 1
	if got, _ := c.Wrap(inner, base).Decide(ctx, same); got.Cached {
		t.Error("another agent with identical texts was served the first agent's reply")
	}
}

// A hit carries the version of the call that was cached, from the queue and from the file,
// however the provider's model has changed since.
func TestCacheKeepsModelVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	c, err := OpenCache(path)
	if err != nil {
		t.Fatal(err)
	}
	version := "snap-1"
	inner := Func(func(ctx context.Context, req Request) (Reply, error) {
		return Reply{Raw: `{"willingness":5}`, Provider: "openai", Model: "m", ModelVersion: version, Calls: 1}, nil
	})
	id := BackendID{Provider: "openai", Model: "m"}
	ctx := context.Background()
	if r, err := c.Wrap(inner, id).Decide(ctx, testReq("p", 0)); err != nil || r.ModelVersion != "snap-1" || r.Cached {
		t.Fatalf("fresh: %+v, %v", r, err)
	}
	version = "snap-2"
	if r, err := c.Wrap(inner, id).Decide(ctx, testReq("p", 0)); err != nil || r.ModelVersion != "snap-1" || !r.Cached {
		t.Fatalf("hit from the queue: %+v, %v", r, err)
	}
	c.Close()
	if c, err = OpenCache(path); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r, err := c.Wrap(inner, id).Decide(ctx, testReq("p", 0)); err != nil || r.ModelVersion != "snap-1" || !r.Cached {
		t.Fatalf("hit from the file: %+v, %v", r, err)
	}
}

// A cache file written before versions were recorded opens, its entries still hit (version
// unknown), and new entries keep theirs.
func TestCacheMigratesOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	old := `CREATE TABLE reply_cache (key BLOB PRIMARY KEY, provider TEXT NOT NULL, model TEXT NOT NULL,
		raw TEXT NOT NULL, vals TEXT NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
		created INTEGER NOT NULL) WITHOUT ROWID;`
	id := BackendID{Provider: "openai", Model: "m"}
	k := KeyOf(id, testReq("old", 0))
	if _, err := db.Exec(old); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO reply_cache VALUES (?, 'openai', 'm', 'old reply', 'null', 1, 1, 0)`, k[:]); err != nil {
		t.Fatal(err)
	}
	db.Close()
	c, err := OpenCache(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	r, ok, err := c.Get(ctx, k)
	if err != nil || !ok || r.Raw != "old reply" || r.ModelVersion != "" {
		t.Fatalf("old entry: %+v %v %v", r, ok, err)
	}
	k2 := KeyOf(id, testReq("new", 0))
	if err := c.Put(ctx, k2, Reply{Raw: "new", Provider: "openai", Model: "m", ModelVersion: "v2"}); err != nil {
		t.Fatal(err)
	}
	c.Flush() // written: Get reads the file
	if r, ok, err := c.Get(ctx, k2); err != nil || !ok || r.ModelVersion != "v2" {
		t.Fatalf("new entry: %+v %v %v", r, ok, err)
	}
}
