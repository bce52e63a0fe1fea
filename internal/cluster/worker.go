package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/backend/behavioral"
	"github.com/prosim/prosim/internal/backend/providers"
	"github.com/prosim/prosim/internal/experiment"
)

// WorkerOptions configure RunWorker.
type WorkerOptions struct {
	ConnectOptions
	// Backend, when set, decides every task this worker takes instead of the task's own
	// backend configuration: the machine's local model server.
	Backend *experiment.Backend
	// Label restricts the worker to tasks of this backend label; "" takes every label, or
	// with Backend set, Backend's label.
	Label string
	// Concurrency is how many tasks the worker decides at once (default 16).
	Concurrency int
	// Log receives one line per run joined or left; nil for silence.
	Log io.Writer
	// Poll is how often the broker is asked for new runs (default 1s).
	Poll time.Duration
	// Grace is how long the calls in flight may go on once ctx is done: the worker takes no
	// new task, finishes them and publishes their replies (so they are paid once), then
	// returns. At its end, or when Abandon is closed, the calls still going are cancelled and
	// their tasks handed back to the broker: another worker asks them again. 0: hand them
	// back at once.
	Grace time.Duration
	// Abandon, closed once ctx is done, ends the grace at once (a second signal).
	Abandon <-chan struct{}
	// Connected, if set, is called once the broker has let the worker in (QA16 F1: the
	// worker said "connected" before a refusal for authorization).
	Connected func()
}

// DefaultGrace is prosim worker's grace: within the 30 s an orchestrator (Kubernetes' default
// termination grace period) waits between its SIGTERM and its SIGKILL, with time left to
// publish the replies.
const DefaultGrace = 25 * time.Second

// AbandonedError is RunWorker's error when calls in flight were cancelled at the grace's end
// or by Abandon: their tasks went back to the broker, and another worker asks them again.
type AbandonedError struct {
	Calls int
	Why   string // "the grace of 25s ended", "asked to"
}

func (e *AbandonedError) Error() string {
	return fmt.Sprintf("worker: %d call(s) in flight abandoned (%s); their tasks went back to the broker, and another worker asks them again", e.Calls, e.Why)
}

// RunWorker takes tasks of every run on the broker (or of its label's backend) until ctx is
// done: it decides each with its own backend chain, publishes the reply, and acknowledges the
// task only then, so a task of a killed worker goes to another after the ack wait. Once ctx
// is done it takes no new task and finishes those in hand within o.Grace (see Grace).
func RunWorker(ctx context.Context, o WorkerOptions) error {
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Label == "" && o.Backend != nil {
		o.Label = o.Backend.LabelOrDefault()
	}
	if o.Name == "" {
		host, _ := os.Hostname()
		o.Name = fmt.Sprintf("%s.%d", host, os.Getpid())
	}
	nc, err := connect(o.ConnectOptions)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if o.Connected != nil {
		o.Connected()
	}
	// The calls in flight outlive ctx by the grace: a call abandoned was paid for nothing
	// (QA12 #5: a worker SIGTERMed 3 s in left 8 calls paid and asked again elsewhere).
	calls, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	w := &worker{o: o, nc: nc, js: js, calls: calls, slots: make(chan struct{}, o.Concurrency), chains: map[string]backend.Backend{}}
	go func() {
		select {
		case <-ctx.Done():
		case <-calls.Done():
			return
		}
		if o.Log != nil {
			if n := w.inFlight.Load(); n > 0 {
				fmt.Fprintf(o.Log, "worker %s: stopping: no new task; finishing the %d call(s) in flight within %s\n", o.Name, n, o.Grace)
			}
		}
		t := time.NewTimer(o.Grace)
		defer t.Stop()
		var why string
		select {
		case <-t.C:
			why = fmt.Sprintf("the grace of %s ended", o.Grace)
		case <-o.Abandon:
			why = "asked to"
		case <-calls.Done():
			return
		}
		w.mu.Lock()
		w.why = why
		w.mu.Unlock()
		abandon()
	}()
	var wg sync.WaitGroup
	active := map[string]bool{}
	var amu sync.Mutex
	t := time.NewTicker(o.Poll)
	defer t.Stop()
	for {
		for _, key := range w.consumers(ctx) {
			amu.Lock()
			if active[key] {
				amu.Unlock()
				continue
			}
			active[key] = true
			amu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.serve(ctx, key)
				amu.Lock()
				delete(active, key)
				amu.Unlock()
			}()
		}
		select {
		case <-ctx.Done():
			// In this order: no task taken any more, the tasks in hand replied (or handed
			// back, Nak), and those messages sent before the connection closes.
			wg.Wait()
			w.busy.Wait()
			abandon() // the grace's timer
			nc.Flush()
			if n := int(w.abandoned.Load()); n > 0 {
				w.mu.Lock()
				defer w.mu.Unlock()
				return &AbandonedError{Calls: n, Why: w.why}
			}
			return nil
		case <-t.C:
		}
	}
}

type worker struct {
	o         WorkerOptions
	nc        *nats.Conn
	js        jetstream.JetStream
	calls     context.Context // the calls': done at the grace's end
	slots     chan struct{}
	busy      sync.WaitGroup // tasks in hand
	inFlight  atomic.Int64
	abandoned atomic.Int64 // calls cancelled at the grace's end

	mu     sync.Mutex
	chains map[string]backend.Backend
	why    string // why calls were abandoned
}

// consumers lists the task consumers this worker serves, as "stream/consumer".
func (w *worker) consumers(ctx context.Context) []string {
	var out []string
	names := w.js.StreamNames(ctx)
	var streams []string
	for n := range names.Name() {
		if strings.HasPrefix(n, streamPrefix) {
			streams = append(streams, n)
		}
	}
	for _, sn := range streams {
		s, err := w.js.Stream(ctx, sn)
		if err != nil {
			continue
		}
		if w.o.Label != "" {
			if _, err := s.Consumer(ctx, taskDurable(w.o.Label)); err == nil {
				out = append(out, sn+"/"+taskDurable(w.o.Label))
			}
			continue
		}
		cn := s.ConsumerNames(ctx)
		for n := range cn.Name() {
			if strings.HasPrefix(n, "tasks_") {
				out = append(out, sn+"/"+n)
			}
		}
	}
	return out
}

// serve takes tasks from one consumer until its run's stream is deleted or ctx is done.
func (w *worker) serve(ctx context.Context, key string) {
	sn, cn, _ := strings.Cut(key, "/")
	cons, err := w.js.Consumer(ctx, sn, cn)
	if err != nil {
		return
	}
	run := strings.TrimPrefix(sn, streamPrefix)
	if w.o.Log != nil {
		fmt.Fprintf(w.o.Log, "worker %s: serving %s of run %s\n", w.o.Name, cons.CachedInfo().Config.Description, run)
	}
	ackWait := cons.CachedInfo().Config.AckWait
	misses := 0
	for ctx.Err() == nil {
		// Take a free slot (waiting for one), then every other free slot: fetch that many.
		select {
		case w.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		n := 1
	more:
		for n < cap(w.slots) {
			select {
			case w.slots <- struct{}{}:
				n++
			default:
				break more
			}
		}
		// What is there now, up to n; when nothing is, wait for the next task (a Fetch of n
		// would wait until n tasks are there).
		got := 0
		take := func(batch jetstream.MessageBatch, err error) error {
			if err != nil {
				return err
			}
			for m := range batch.Messages() {
				got++
				w.busy.Add(1)
				go func() {
					defer w.busy.Done()
					defer func() { <-w.slots }()
					w.handle(ctx, run, m, ackWait)
				}()
			}
			return batch.Error()
		}
		err := take(cons.FetchNoWait(n))
		if err == nil && got == 0 {
			err = take(cons.Fetch(1, jetstream.FetchMaxWait(time.Second)))
		}
		for range n - got {
			<-w.slots
		}
		if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) ||
			errors.Is(err, jetstream.ErrStreamNotFound) {
			break
		}
		if err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.Canceled) {
			misses++
			if misses > 5 { // the run's stream is gone (deleted at the run's end) or unreachable
				if _, ierr := cons.Info(ctx); ierr != nil {
					break
				}
				misses = 0
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if w.o.Log != nil && ctx.Err() == nil {
		fmt.Fprintf(w.o.Log, "worker %s: run %s is over\n", w.o.Name, run)
	}
}

// handle decides one task and publishes its reply, then acknowledges the task. A task that
// arrives once ctx is done is handed back undecided; one in hand is finished within the grace.
func (w *worker) handle(ctx context.Context, run string, m jetstream.Msg, ackWait time.Duration) {
	if ctx.Err() != nil {
		m.Nak()
		return
	}
	key := m.Headers().Get(keyHeader)
	var t task
	out := reply{}
	err := json.Unmarshal(m.Data(), &t)
	out.Label = t.Label
	if err != nil {
		out.Err = &wireError{Msg: fmt.Sprintf("cluster: a task that does not decode: %v", err)}
	} else if req, err := t.Req.decode(); err != nil {
		out.Err = errorOf(err)
	} else if be, err := w.chain(t); err != nil {
		out.Err = errorOf(err)
	} else {
		// Tell the broker the task is being worked on, so a slow provider is not mistaken
		// for a dead worker.
		done := make(chan struct{})
		if ackWait > 0 {
			go func() {
				tk := time.NewTicker(ackWait / 3)
				defer tk.Stop()
				for {
					select {
					case <-done:
						return
					case <-tk.C:
						m.InProgress()
					}
				}
			}()
		}
		calls := w.calls
		if t.Reserve != "" {
			calls = backend.WithReserveAgain(calls, w.reserveAgain(run, t.Reserve))
		}
		w.inFlight.Add(1)
		rep, err := be.Decide(calls, req)
		w.inFlight.Add(-1)
		close(done)
		if err != nil && w.calls.Err() != nil {
			// Cut off at the grace's end: another worker takes the task now. Its attempts
			// that reached the provider (a request written, a reply that could not be used)
			// may be billed: the coordinator counts them. A reply received before the grace
			// ended is no such call: it is sent below as the task's reply.
			w.abandoned.Add(1)
			if rep.Calls > 0 {
				w.send(run, spentSubject(run), "spent.", m, key, reply{Reply: rep, Label: t.Label})
			}
			m.Nak()
			return
		}
		out.Reply = rep
		if err != nil {
			out.Err = errorOf(err)
		}
	}
	if err := w.send(run, replySubject(run), "reply.", m, key, out); err != nil {
		if w.calls.Err() != nil {
			w.abandoned.Add(1)
		}
		m.Nak()
		return
	}
	m.Ack()
}

// sendAfterAbandon is how long a reply received before the calls were abandoned may still
// take to reach the broker afterwards: a second signal quits within it.
const sendAfterAbandon = 2 * time.Second

// send publishes out, about task m (of decision key), on subject, with a message ID of
// prefix, the task's ID and this handling's own. It is given up sendAfterAbandon after the
// calls are abandoned, not at once: a reply in hand was paid for.
func (w *worker) send(run, subject, prefix string, m jetstream.Msg, key string, out reply) error {
	body, err := json.Marshal(out)
	if err != nil {
		body, _ = json.Marshal(reply{Err: &wireError{Msg: "cluster: reply does not encode: " + err.Error()}, Label: out.Label})
	}
	msg := nats.NewMsg(subject)
	// This handling's own ID: a publish retried after a lost acknowledgement counts once,
	// but a task decided twice (redelivered to a second worker while the first was slow) is
	// replied twice, as its two calls were made (and may both be billed): the coordinator
	// records the first and counts the second's calls and cost (Coordinator.OnUnasked).
	msg.Header.Set(jetstream.MsgIDHeader, prefix+m.Headers().Get(jetstream.MsgIDHeader)+"."+nuid.Next())
	msg.Header.Set(taskHeader, m.Headers().Get(jetstream.MsgIDHeader))
	msg.Header.Set(keyHeader, key)
	msg.Header.Set(workerHeader, w.o.Name)
	msg.Data = body
	ctx, cancel := context.WithCancel(context.WithoutCancel(w.calls))
	defer cancel()
	stop := context.AfterFunc(w.calls, func() { time.AfterFunc(sendAfterAbandon, cancel) })
	defer stop()
	return publish(ctx, w.js, msg)
}

// reserveTimeout bounds the wait for the coordinator's answer to a reservation.
const reserveTimeout = 10 * time.Second

// reserveAgain is the reservation of one more attempt of a task under the run's spend cap
// (backend.ReserveAgain): the coordinator's ask named id reserves it in the run's budget, or
// refuses it with the cap's *backend.BudgetError. A coordinator that does not answer refuses
// it too: a retry is not made without its reservation.
func (w *worker) reserveAgain(run, id string) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, reserveTimeout)
		defer cancel()
		m, err := w.nc.RequestWithContext(ctx, reserveSubject(run), []byte(id))
		if err != nil {
			return fmt.Errorf("cluster: the coordinator did not answer the reservation of a retry against the spend cap: %w", err)
		}
		var rr reserveReply
		if err := json.Unmarshal(m.Data, &rr); err != nil {
			return fmt.Errorf("cluster: the coordinator's answer to a reservation does not decode: %w", err)
		}
		if rr.Refused != nil {
			return rr.Refused
		}
		if rr.Err != "" {
			return errors.New("cluster: " + rr.Err)
		}
		return nil
	}
}

// chain is the backend that decides a task: the behavioural model, or an LLM client chain
// (retries and rate limits per endpoint) built once per backend configuration. The
// coordinator keeps the cache, the repairs and the cost meter.
func (w *worker) chain(t task) (backend.Backend, error) {
	cfg := t.Backend
	if w.o.Backend != nil {
		cfg = *w.o.Backend
	}
	js, _ := json.Marshal(cfg)
	w.mu.Lock()
	defer w.mu.Unlock()
	if be, ok := w.chains[string(js)]; ok {
		return be, nil
	}
	be, err := buildChain(cfg, w.o.Log)
	if err != nil {
		// The reply names the worker (wireError.err).
		return nil, &backend.ConfigError{Err: fmt.Errorf("backend %s: %w", cfg.LabelOrDefault(), err)}
	}
	w.chains[string(js)] = be
	return be, nil
}

func buildChain(b experiment.Backend, log io.Writer) (backend.Backend, error) {
	if b.Provider == "builtin" {
		return behavioral.New(), nil
	}
	urls := b.URLs()
	timeout, attempts := b.TimeoutOrDefault(), b.MaxAttemptsOrDefault()
	extra, err := b.ExtraBodyJSON()
	if err != nil {
		return nil, fmt.Errorf("extra_body: %w", err)
	}
	var eps []backend.Backend
	var retry backend.RetryPolicy
	for i, u := range urls {
		spec := providers.Spec{Provider: b.Provider, Model: b.Model, BaseURL: u, APIKeyEnv: b.APIKeyEnv,
			StructuredOutput: b.StructuredOutput, MaxTokensField: b.MaxTokensField, NoSeed: b.Seed == "off",
			ConnectTimeout: time.Duration(b.ConnectTimeout), MaxReply: b.MaxReplyOrDefault(),
			FirstByteTimeout: time.Duration(b.FirstByteTimeout), Timeout: timeout, ExtraBody: extra}
		if msg := providers.PlainHTTPKeyWarning(spec); msg != "" && log != nil {
			fmt.Fprintf(log, "prosim: warning: backend %s: %s\n", b.LabelOrDefault(), msg)
		}
		ep, err := providers.New(spec)
		if err != nil {
			return nil, err
		}
		policy := backend.RetryPolicy{MaxAttempts: attempts, Timeout: providers.CallTimeout(spec, timeout), TimeoutName: "backend " + b.LabelOrDefault() + "'s timeout", MaxRetryAfter: b.MaxRetryAfterOrDefault(), Seed: uint64(i),
			MaxOutput: providers.DefaultMaxTokens(b.Provider)}
		if len(urls) > 1 {
			// Retry goes above Balance (below), so that a retry can fail over to another
			// endpoint, as backend.Stack does.
			retry = policy
			ep = backend.Timed(ep, policy.Timeout, policy.TimeoutName)
		} else {
			ep = backend.Retry(ep, policy)
		}
		if providers.AdaptiveOn(b.AdaptiveConcurrency, u) {
			ep = backend.Adaptive(ep, backend.AdaptiveConfig{Max: b.MaxConcurrency})
		}
		if l := (backend.Limits{Concurrency: b.MaxConcurrency, RPM: b.RPM, TPM: b.TPM}); l != (backend.Limits{}) {
			ep = backend.RateLimit(ep, l)
		}
		eps = append(eps, ep)
	}
	if len(eps) > 1 {
		retry.Timeout = 0 // Timed bounds each call
		return backend.Retry(backend.Balance(eps), retry), nil
	}
	return backend.Balance(eps), nil
}
