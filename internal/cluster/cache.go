package cluster

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/prosim/prosim/internal/backend"
)

// CacheBucket is the JetStream key-value bucket of the shared reply cache (cache: nats). One
// bucket for every run on the broker, as the SQLite cache is one file for every run of a user.
const CacheBucket = "prosim_cache"

// KVStore is a backend.CacheStore in a JetStream key-value bucket: every coordinator on the
// broker reads and writes the same entries, so a run on one machine replays what a run on
// another paid for. The bucket is kept in the broker's file store, one value per key (no
// history), and never expires.
type KVStore struct {
	nc *nats.Conn
	kv jetstream.KeyValue
}

// kvEntry is a stored reply. The tokens originally spent are kept for audit, as in the
// SQLite cache.
type kvEntry struct {
	Provider     string             `json:"provider"`
	Model        string             `json:"model"`
	ModelVersion string             `json:"model_version,omitempty"`
	Raw          string             `json:"raw"`
	Values       map[string]float64 `json:"values"`
	InputTokens  int                `json:"input_tokens"`
	OutputTokens int                `json:"output_tokens"`
	Created      int64              `json:"created"`
}

// OpenKVStore connects to the broker and opens the cache bucket, making it if it is not there.
func OpenKVStore(ctx context.Context, o ConnectOptions) (*KVStore, error) {
	if o.Name == "" {
		o.Name = "prosim cache"
	}
	nc, err := connect(o)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	kv, err := js.KeyValue(ctx, CacheBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: CacheBucket,
			Description: "prosim reply cache (cache: nats)", History: 1, Storage: jetstream.FileStorage})
		if errors.Is(err, jetstream.ErrBucketExists) { // another coordinator made it meanwhile
			kv, err = js.KeyValue(ctx, CacheBucket)
		}
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("reply cache on the broker %s: %w (does the broker have JetStream on?)", Redact(o.URL), err)
	}
	return &KVStore{nc: nc, kv: kv}, nil
}

// kvKey is a cache key as a bucket key (hex: keys take only [-/_=.a-zA-Z0-9]).
func kvKey(k backend.Key) string { return hex.EncodeToString(k[:]) }

// Get implements backend.CacheStore.
func (s *KVStore) Get(ctx context.Context, k backend.Key) (backend.Reply, bool, error) {
	e, err := s.kv.Get(ctx, kvKey(k))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return backend.Reply{}, false, nil
	}
	if err != nil {
		return backend.Reply{}, false, err
	}
	var v kvEntry
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return backend.Reply{}, false, fmt.Errorf("reply cache: entry %s: %w", k, err)
	}
	return backend.Reply{Provider: v.Provider, Model: v.Model, ModelVersion: v.ModelVersion, Raw: v.Raw, Values: v.Values}, true, nil
}

// kvWriters bounds the creates of a batch in flight at once: each waits for the broker's
// acknowledgement, so a batch written one key at a time would take a round trip per entry.
const kvWriters = 32

// Put implements backend.CacheStore: Create, so that an entry already there (another
// machine's reply to the same request) is kept.
func (s *KVStore) Put(ctx context.Context, batch []backend.CacheEntry) error {
	now := time.Now().Unix()
	sem := make(chan struct{}, kvWriters)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for _, e := range batch {
		r := e.Reply
		b, err := json.Marshal(kvEntry{Provider: r.Provider, Model: r.Model, ModelVersion: r.ModelVersion, Raw: r.Raw,
			Values: r.Values, InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, Created: now})
		if err != nil {
			return err
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := s.kv.Create(ctx, kvKey(e.Key), b)
			if err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// Len implements backend.CacheStore.
func (s *KVStore) Len(ctx context.Context) (int, error) {
	st, err := s.kv.Status(ctx)
	if err != nil {
		return 0, err
	}
	return int(st.Values()), nil
}

// Close implements backend.CacheStore: it sends what is buffered and disconnects.
func (s *KVStore) Close() error {
	err := s.nc.Flush()
	s.nc.Close()
	return err
}
