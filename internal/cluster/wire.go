package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/schema"
	"github.com/prosim/prosim/internal/situation"
)

// Names on the broker. A run's stream is PROSIM_<run>; its subjects are
// prosim.<run>.task.<label hash> (one work-queue consumer per backend label, shared by the
// workers serving that label) and prosim.<run>.reply (the coordinator's consumer).
const (
	streamPrefix = "PROSIM_"
	replyDurable = "coordinator"
	keyHeader    = "Prosim-Key"
	workerHeader = "Prosim-Worker"
	// taskHeader names, on a reply, the task it answers (the task's message ID: its key,
	// the coordinator's session and the ask's number).
	taskHeader = "Prosim-Task"
)

func streamName(run string) string         { return streamPrefix + run }
func taskSubject(run, label string) string { return "prosim." + run + ".task." + labelToken(label) }
func replySubject(run string) string       { return "prosim." + run + ".reply" }

// spentSubject is where a worker publishes the calls of a task it abandoned (the grace's end,
// a second signal) that may have been billed: the coordinator counts them, and the task,
// handed back, is answered by another worker's reply.
func spentSubject(run string) string  { return "prosim." + run + ".spent" }
func taskDurable(label string) string { return "tasks_" + labelToken(label) }

// reserveSubject is where workers ask the coordinator to reserve a retry against the run's
// spend cap: core request-reply, outside the run's stream (prosim.<run>.>), which would keep
// each request.
func reserveSubject(run string) string { return "prosim_reserve." + run }

// labelToken names a backend label in subjects and consumer names, which take no dots or
// colons that labels such as vllm:qwen2.5 have.
func labelToken(label string) string {
	h := sha256.Sum256([]byte(label))
	return hex.EncodeToString(h[:8])
}

// task is one decision as it travels to a worker.
type task struct {
	// Label is the experiment's backend label; Backend its configuration (the name of the
	// environment variable holding a key, never a key).
	Label   string             `json:"label"`
	Backend experiment.Backend `json:"backend"`
	Req     request            `json:"req"`
	// Reserve, set when the run has a spend cap, names the ask to the coordinator: before
	// retrying a reply that came with HTTP 200 but could not be used, or a call that timed out
	// after sending (either may have been billed), the worker asks it on reserveSubject to reserve the retry's worst case, as a
	// local call's Retry does (backend.ReserveAgain), and makes no retry it refuses.
	Reserve string `json:"reserve,omitempty"`
}

// reserveReply is the coordinator's answer to a worker's reservation: nothing when made,
// else the cap's refusal or why the ask has none (it has ended).
type reserveReply struct {
	Refused *backend.BudgetError `json:"refused,omitempty"`
	Err     string               `json:"err,omitempty"`
}

// request is backend.Request with Structured as JSON: a worker decodes it as the
// *situation.Situation prosim's studies put there (the behavioural model reads it).
type request struct {
	AgentID    int              `json:"agent_id"`
	System     string           `json:"system"`
	Prompt     string           `json:"prompt"`
	Repair     []backend.Turn   `json:"repair,omitempty"`
	Schema     schema.Schema    `json:"schema"`
	Structured json.RawMessage  `json:"structured,omitempty"`
	Sampling   backend.Sampling `json:"sampling"`
	Replicate  int              `json:"replicate"`
	Levels     string           `json:"levels,omitempty"`
	Seed       uint64           `json:"seed"`
	N          int              `json:"n,omitempty"`
}

func toWire(r backend.Request) (request, error) {
	w := request{AgentID: r.AgentID, System: r.System, Prompt: r.Prompt, Repair: r.Repair, Schema: r.Schema,
		Sampling: r.Sampling, Replicate: r.Replicate, Levels: r.Levels, Seed: r.Seed, N: r.N}
	if r.Structured != nil {
		js, err := json.Marshal(r.Structured)
		if err != nil {
			return w, fmt.Errorf("cluster: encoding the structured request: %w", err)
		}
		w.Structured = js
	}
	return w, nil
}

func (w request) decode() (backend.Request, error) {
	r := backend.Request{AgentID: w.AgentID, System: w.System, Prompt: w.Prompt, Repair: w.Repair, Schema: w.Schema,
		Sampling: w.Sampling, Replicate: w.Replicate, Levels: w.Levels, Seed: w.Seed, N: w.N}
	if len(w.Structured) > 0 && string(w.Structured) != "null" {
		var s situation.Situation
		if err := json.Unmarshal(w.Structured, &s); err != nil {
			return r, fmt.Errorf("cluster: decoding the structured request: %w", err)
		}
		r.Structured = &s
	}
	return r, nil
}

// reply is a worker's answer: the backend's reply, or the error its backend chain ended with.
type reply struct {
	Reply backend.Reply `json:"reply"`
	Err   *wireError    `json:"err,omitempty"`
	// Label is the task's backend label ("" when the task did not decode), for the
	// coordinator to count a second reply to a task against its backend.
	Label string `json:"label,omitempty"`
}

// wireError keeps what the engine reads of a provider failure to decide whether on_error:
// record applies: the HTTP status, whether the call failed to connect, whether the worker's
// backend could not be built at all.
type wireError struct {
	Msg        string        `json:"msg"`
	Provider   string        `json:"provider,omitempty"`
	Status     int           `json:"status,omitempty"`
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	Body       string        `json:"body,omitempty"`
	// NotConnected is backend.Reason of a failure to connect ("" for any other failure).
	NotConnected string `json:"not_connected,omitempty"`
	Config       bool   `json:"config,omitempty"`
	// Budget is the spend cap's refusal of a retry (see task.Reserve): the engine records
	// the decision and stops at the cap, as for a local call.
	Budget *backend.BudgetError `json:"budget,omitempty"`
}

func errorOf(err error) *wireError {
	_, config := errors.AsType[*backend.ConfigError](err)
	budget, _ := errors.AsType[*backend.BudgetError](err)
	var se *backend.StatusError
	if errors.As(err, &se) {
		e := &wireError{Msg: err.Error(), Provider: se.Provider, Status: se.Status, RetryAfter: se.RetryAfter, Body: se.Body, Config: config, Budget: budget}
		if backend.Refused(err) { // a call answered before it was refused is no set-up failure
			e.NotConnected = backend.Reason(err)
		}
		return e
	}
	return &wireError{Msg: err.Error(), Config: config, Budget: budget}
}

func (e *wireError) err(worker string) error {
	var err error = fmt.Errorf("%s (on worker %s)", e.Msg, worker)
	if e.Provider != "" {
		se := &backend.StatusError{Provider: e.Provider, Status: e.Status, RetryAfter: e.RetryAfter, Body: e.Body, Err: err}
		if e.NotConnected != "" {
			se.NotConnected = fmt.Sprintf("%s (on worker %s)", e.NotConnected, worker)
		}
		err = se
	}
	if e.Config {
		err = &backend.ConfigError{Err: err}
	}
	if e.Budget != nil {
		err = &causedBy{err: err, cause: e.Budget}
	}
	return err
}

// causedBy is a worker's error as it says itself, matching (errors.Is, errors.As) the cause
// it carries too.
type causedBy struct{ err, cause error }

func (e *causedBy) Error() string   { return e.err.Error() }
func (e *causedBy) Unwrap() []error { return []error{e.err, e.cause} }

// setup reports whether the error is the worker's set-up's (its backend cannot be built, or
// its server was not reached): a resumed run asks such a task again rather than taking the
// reply a previous coordinator left, since the set-up may be fixed by now.
func (e *wireError) setup() bool { return e != nil && (e.Config || e.NotConnected != "") }

// taskKey names a decision: the same label and request give the same key, so a task
// published again (a resumed coordinator) is dropped by the stream's duplicate window and a
// reply that arrives twice is taken once.
func taskKey(label string, req []byte) string {
	h := sha256.New()
	h.Write([]byte(label))
	h.Write([]byte{0})
	h.Write(req)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// ConnectOptions say how to reach the broker.
type ConnectOptions struct {
	// URL is nats://[user:password@|token@]host:port (tls:// for TLS); several separated by
	// commas.
	URL string
	// Creds is a NATS credentials file (JWT and NKey seed), for brokers that use them.
	Creds string
	// Name names the connection in the broker's monitoring.
	Name string
}

// connect dials the broker, reconnecting for ever after a broker restart.
func connect(o ConnectOptions) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(o.Name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(false),
		// Asynchronous errors (a broken pipe as the broker restarts) are the reconnection's to
		// handle; the default handler would print them.
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})}
	if o.Creds != "" {
		opts = append(opts, nats.UserCredentials(o.Creds))
	}
	nc, err := nats.Connect(o.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to the broker %s: %w", Redact(o.URL), err)
	}
	return nc, nil
}

// Redact is a broker URL (or a comma-separated list) without its credentials, for messages
// and files.
func Redact(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		switch {
		case err != nil:
			parts[i] = "(a broker URL that does not parse)"
		case u.User != nil:
			u.User = nil
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}
