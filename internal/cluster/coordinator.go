package cluster

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/plural"
)

// CoordinatorOptions configure Open.
type CoordinatorOptions struct {
	ConnectOptions
	// Run names the run on the broker (RunName of its directory): a resumed run finds its
	// stream again, with the replies that arrived while no coordinator was there.
	Run string
	// AckWait is how long a task may go unacknowledged before it is given to another worker
	// (a worker killed mid-task); workers extend it while they decide. Default 30s.
	AckWait time.Duration
}

// Coordinator publishes a run's decisions as tasks and collects the workers' replies.
type Coordinator struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream
	run     string
	session string       // this coordinator's own, in task IDs
	asks    atomic.Int64 // tasks published, in task IDs
	ackWait time.Duration
	cc      jetstream.ConsumeContext
	reserve *nats.Subscription // workers' reservations of retries (onReserve)

	mu      sync.Mutex
	waiters map[string][]chan arrived
	// early holds replies that arrived with nobody waiting: those of tasks a previous,
	// killed coordinator of this run published (until the resumed run asks them), and, with
	// no OnUnasked or from a worker of an earlier prosim (which names no task), second copies
	// of a reply (a task redelivered after its worker was slow to acknowledge).
	early map[string]arrived
	// again are the spend cap's reservations of one more attempt of the asks in flight
	// (backend.ReserveAgain), by task.Reserve.
	again map[string]func(context.Context) error
	// orphans are the tasks an earlier coordinator of this run published that are still on
	// the stream (not yet decided, or being decided), by key: a resumed run's ask of one
	// adopts it rather than publishing its own, so it is paid once (findOrphans).
	orphans map[string]string
	workers map[string]*WorkerStat
	last    time.Time // last reply
	// unasked, if set, is given the replies to this coordinator's tasks that answer no ask
	// (OnUnasked).
	unasked func(label string, r backend.Reply)
}

type arrived struct {
	r      reply
	worker string
}

// WorkerStat is what the coordinator has seen of one worker.
type WorkerStat struct {
	Name    string
	Replies int
	First   time.Time
	Last    time.Time
}

// NewRunName is a fresh run's name on the broker, random: recorded in the run's folder
// (engine.Options.BrokerRun), it moves with the folder.
func NewRunName() string {
	b := make([]byte, 10)
	rand.Read(b)
	return "r" + hex.EncodeToString(b)
}

// RunName is the name on the broker, derived from the absolute path of its directory, of a
// run that records none: one started by a prosim before the name was recorded (NewRunName),
// which finds its stream again when resumed where it was.
func RunName(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256([]byte(abs))
	return "r" + hex.EncodeToString(h[:10]), nil
}

// Open connects to the broker and makes (or finds again) the run's stream and reply consumer.
func Open(ctx context.Context, o CoordinatorOptions) (*Coordinator, error) {
	if o.Run == "" {
		return nil, errors.New("cluster: no run name")
	}
	if o.AckWait == 0 {
		o.AckWait = 30 * time.Second
	}
	if o.Name == "" {
		o.Name = "prosim coordinator " + o.Run
	}
	nc, err := connect(o.ConnectOptions)
	if err != nil {
		return nil, err
	}
	c := &Coordinator{nc: nc, run: o.Run, session: nuid.Next(), ackWait: o.AckWait, waiters: map[string][]chan arrived{},
		early: map[string]arrived{}, again: map[string]func(context.Context) error{}, orphans: map[string]string{},
		workers: map[string]*WorkerStat{}}
	if err := c.open(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	if err := c.findOrphans(ctx); err != nil {
		c.Close(false)
		return nil, err
	}
	return c, nil
}

// findOrphans reads the tasks on the run's stream, which an earlier coordinator of the run
// published (a task leaves the stream when a worker acknowledges it, after its reply): a
// worker may be deciding one, and under a spend cap ask this coordinator to reserve its
// retry. The resumed run's ask of the same request adopts it (decide). It reads only the
// tasks left, from one subject-filtered read to the next (a killed run leaves about its
// concurrency).
func (c *Coordinator) findOrphans(ctx context.Context) error {
	subject := "prosim." + c.run + ".task.>"
	for seq := uint64(1); ; {
		m, err := c.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cluster: reading the run's tasks left on the stream: %w", err)
		}
		if key, id := m.Header.Get(keyHeader), m.Header.Get(jetstream.MsgIDHeader); key != "" && id != "" {
			c.orphans[key] = id
		}
		seq = m.Sequence + 1
	}
}

func (c *Coordinator) open(ctx context.Context) error {
	var err error
	if c.js, err = jetstream.New(c.nc); err != nil {
		return err
	}
	c.stream, err = c.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        streamName(c.run),
		Description: "prosim run " + c.run,
		Subjects:    []string{"prosim." + c.run + ".>"},
		Retention:   jetstream.WorkQueuePolicy, // a task leaves the stream when a worker acknowledges it
		Storage:     jetstream.FileStorage,     // acknowledged tasks survive a broker restart
		// A run whose coordinator never comes back is removed after a week.
		MaxAge:     7 * 24 * time.Hour,
		Duplicates: 2 * time.Minute,
	})
	if err != nil {
		return fmt.Errorf("cluster: making the run's stream: %w (does the broker have JetStream on?)", err)
	}
	cons, err := c.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:        replyDurable,
		FilterSubjects: []string{replySubject(c.run), spentSubject(c.run)},
		AckPolicy:      jetstream.AckExplicitPolicy,
		MaxAckPending:  -1,
	})
	if err != nil {
		return fmt.Errorf("cluster: making the reply consumer: %w", err)
	}
	// Short pull requests: after a broker restart, replies flow again within a few seconds.
	// Connection errors are the client's to recover from (it reconnects for ever).
	c.cc, err = cons.Consume(c.onReply, jetstream.PullExpiry(2*time.Second),
		jetstream.ConsumeErrHandler(func(jetstream.ConsumeContext, error) {}))
	if err != nil {
		return err
	}
	c.reserve, err = c.nc.Subscribe(reserveSubject(c.run), c.onReserve)
	return err
}

// onReserve answers a worker's reservation of a retry (task.Reserve) with the spend cap's
// decision, which never waits (a growth of a reservation, see backend.Budget).
func (c *Coordinator) onReserve(m *nats.Msg) {
	id := string(m.Data)
	c.mu.Lock()
	again := c.again[id]
	c.mu.Unlock()
	if again == nil && !c.ours(id) {
		// An earlier coordinator's task, which a worker was deciding when this one started:
		// this run's ask of it adopts it (decide), maybe a moment from now. The wait is the
		// worker's, not the other reservations' (their handler goes on).
		go c.answerReserve(m, id, time.Now().Add(adoptWait))
		return
	}
	c.answerReserve(m, id, time.Time{})
}

// adoptWait is how long a worker's reservation for an earlier coordinator's task waits for
// this run to ask it (within the worker's reserveTimeout).
const adoptWait = 5 * time.Second

// answerReserve answers the reservation m for task id, waiting until until for an ask to
// adopt the task.
func (c *Coordinator) answerReserve(m *nats.Msg, id string, until time.Time) {
	var again func(context.Context) error
	for {
		c.mu.Lock()
		again = c.again[id]
		c.mu.Unlock()
		if again != nil || !time.Now().Before(until) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var rr reserveReply
	if again == nil {
		rr.Err = "the coordinator's ask of this decision has ended (or is another coordinator's): no retry is made without the spend cap's reservation"
	} else if err := again(context.Background()); err != nil {
		if be, ok := errors.AsType[*backend.BudgetError](err); ok {
			rr.Refused = be
		} else {
			rr.Err = err.Error()
		}
	}
	body, _ := json.Marshal(rr)
	m.Respond(body)
}

// Backend is the remote backend for one of the experiment's backends: each Decide is a task
// for the workers that serve its label.
func (c *Coordinator) Backend(b experiment.Backend) (backend.Backend, error) {
	label := b.LabelOrDefault()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       taskDurable(label),
		Description:   label,
		FilterSubject: taskSubject(c.run, label),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.ackWait,
		MaxDeliver:    -1,
		MaxAckPending: 1 << 16,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: making the task consumer of %s: %w", label, err)
	}
	return backend.Func(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
		return c.decide(ctx, label, b, req)
	}), nil
}

func (c *Coordinator) decide(ctx context.Context, label string, b experiment.Backend, req backend.Request) (backend.Reply, error) {
	w, err := toWire(req)
	if err != nil {
		return backend.Reply{}, err
	}
	wreq, err := json.Marshal(w)
	if err != nil {
		return backend.Reply{}, err
	}
	key := taskKey(label, wreq)
	// The message ID makes a publish retried after a lost acknowledgement (a broker restart)
	// count once; it is this ask's own, because the same request may be asked again later
	// (Study 3's conditions share their first round), and a second ask must be a new task.
	id := fmt.Sprintf("%s.%s.%d", key, c.session, c.asks.Add(1))
	t := task{Label: label, Backend: b, Req: w}
	again := backend.ReserveAgain(ctx)
	if again != nil {
		t.Reserve = id
	}
	body, err := json.Marshal(t)
	if err != nil {
		return backend.Reply{}, err
	}
	ch := make(chan arrived, 1)
	c.mu.Lock()
	if a, ok := c.early[key]; ok {
		delete(c.early, key)
		delete(c.orphans, key)
		if !a.r.Err.setup() {
			c.mu.Unlock()
			return a.result()
		}
	}
	// An earlier coordinator's task of this request still on the stream is adopted: its
	// reply answers this ask, and its worker's reservations (under its own id) are this
	// ask's. Publishing another would have it decided, and paid, twice.
	orphan, adopt := c.orphans[key]
	if adopt {
		delete(c.orphans, key)
		id = orphan
	}
	c.waiters[key] = append(c.waiters[key], ch)
	if again != nil {
		c.again[id] = again
		defer func() {
			c.mu.Lock()
			delete(c.again, id)
			c.mu.Unlock()
		}()
	}
	c.mu.Unlock()
	if !adopt {
		msg := nats.NewMsg(taskSubject(c.run, label))
		msg.Header.Set(jetstream.MsgIDHeader, id)
		msg.Header.Set(keyHeader, key)
		msg.Data = body
		if err := publish(ctx, c.js, msg); err != nil {
			c.forget(key, ch)
			return backend.Reply{}, err
		}
	}
	select {
	case a := <-ch:
		return a.result()
	case <-ctx.Done():
		c.forget(key, ch)
		return backend.Reply{}, ctx.Err()
	}
}

func (c *Coordinator) forget(key string, ch chan arrived) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ws := slices.DeleteFunc(c.waiters[key], func(x chan arrived) bool { return x == ch })
	if len(ws) == 0 {
		delete(c.waiters, key)
	} else {
		c.waiters[key] = ws
	}
}

func (a arrived) result() (backend.Reply, error) {
	if a.r.Err != nil {
		return a.r.Reply, a.r.Err.err(a.worker) // the reply counts the calls the worker made
	}
	return a.r.Reply, nil
}

// publish stores msg in its stream, trying again while the broker is unreachable (a restart):
// the message ID makes a retried publish count once.
func publish(ctx context.Context, js jetstream.JetStream, msg *nats.Msg) error {
	wait := 100 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second) // an ack lost in a restart is not waited for long
		_, err := js.PublishMsg(actx, msg)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, nats.ErrConnectionClosed) {
			return fmt.Errorf("cluster: publishing to %s: %w", msg.Subject, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func (c *Coordinator) onReply(m jetstream.Msg) {
	key := m.Headers().Get(keyHeader)
	worker := m.Headers().Get(workerHeader)
	var r reply
	if err := json.Unmarshal(m.Data(), &r); err != nil || key == "" {
		m.Term() // not ours to read; never redelivered
		return
	}
	now := time.Now()
	c.mu.Lock()
	c.last = now
	ws := c.workers[worker]
	if ws == nil {
		ws = &WorkerStat{Name: worker, First: now}
		c.workers[worker] = ws
	}
	if m.Subject() != spentSubject(c.run) {
		ws.Replies++
	}
	ws.Last = now
	a := arrived{r: r, worker: worker}
	var unasked func(string, backend.Reply)
	if m.Subject() == spentSubject(c.run) {
		// The calls of a task a worker abandoned: counted, never an answer (the task went
		// back, and another worker's reply answers it).
		if r.Label != "" {
			unasked = c.unasked
		}
	} else if chs, ok := c.waiters[key]; ok {
		delete(c.waiters, key)
		for _, ch := range chs {
			ch <- a
		}
	} else if c.unasked != nil && r.Label != "" && c.ours(m.Headers().Get(taskHeader)) {
		unasked = c.unasked
	} else if _, dup := c.early[key]; !dup {
		c.early[key] = a
	}
	c.mu.Unlock()
	if unasked != nil {
		unasked(r.Label, r.Reply)
	}
	m.Ack()
}

// OnUnasked sets f to be given each reply to one of this coordinator's tasks that arrives
// when no ask waits for it: the second reply of a task two workers decided (the first
// worker's lease ran out while it was slow, and the task went to another), or the reply of
// an ask given up (an interrupt); and the calls of a task a stopping worker abandoned (any
// coordinator's: the task went back to the broker). Its calls were made and may have been billed, so the run
// counts them (calls and cost), while the decision is recorded once, from the reply that
// came first. Such a reply is not kept for a later ask (unlike the reply of an earlier
// coordinator's task, which a resumed run asks). Call it before the run asks anything.
func (c *Coordinator) OnUnasked(f func(label string, r backend.Reply)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unasked = f
}

// ours reports whether task id (its message ID, key.session.number) is one this coordinator
// published.
func (c *Coordinator) ours(id string) bool {
	parts := strings.Split(id, ".")
	return len(parts) == 3 && parts[1] == c.session
}

// Workers returns what has been seen of each worker, by name.
func (c *Coordinator) Workers() []WorkerStat {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]WorkerStat, 0, len(c.workers))
	for _, w := range c.workers {
		out = append(out, *w)
	}
	slices.SortFunc(out, func(a, b WorkerStat) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// StallAdvice is Watch's advice when tasks wait with no worker answering, for workers anyone
// with the broker's URL may start.
const StallAdvice = "start one with `prosim worker --nats URL`"

// Watch writes a line every interval with each worker's replies per second over that
// interval, and says when tasks wait with no worker answering, with advice (StallAdvice, or
// what works for workers a user cannot start: those of prosim run --workers), until ctx is done.
func (c *Coordinator) Watch(ctx context.Context, w io.Writer, every time.Duration, advice string) {
	t := time.NewTicker(every)
	defer t.Stop()
	prev := map[string]int{}
	start := time.Now()
	warned := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ws := c.Workers()
		c.mu.Lock()
		waiting, last := len(c.waiters), c.last
		c.mu.Unlock()
		var parts []string
		for _, s := range ws {
			if s.Replies == prev[s.Name] && time.Since(s.Last) > every {
				continue // gone quiet: not counted among the active workers
			}
			parts = append(parts, fmt.Sprintf("%s %.1f/s", s.Name, float64(s.Replies-prev[s.Name])/every.Seconds()))
			prev[s.Name] = s.Replies
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "  workers (%d): %s\n", len(parts), strings.Join(parts, ", "))
			warned = false
		}
		if last.Before(start) {
			last = start
		}
		if quiet := time.Since(last); waiting > 0 && !warned && quiet > 3*every {
			fmt.Fprintf(w, "  %s waiting and no worker has replied for %s: %s\n",
				plural.Count(waiting, "decision"), quiet.Round(time.Second), advice)
			warned = true
		}
	}
}

// Close stops collecting replies and disconnects. With cleanup (the run is complete) the run's
// stream and its consumers are deleted; otherwise they stay for `prosim resume`.
func (c *Coordinator) Close(cleanup bool) error {
	c.cc.Stop()
	c.reserve.Unsubscribe()
	var err error
	if cleanup {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if derr := c.js.DeleteStream(ctx, streamName(c.run)); derr != nil && !errors.Is(derr, jetstream.ErrStreamNotFound) {
			err = fmt.Errorf("cluster: deleting the run's stream: %w", derr)
		}
	}
	c.nc.Close()
	return err
}
