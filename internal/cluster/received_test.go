package cluster

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/experiment"
)

// taskMsg is a task as a worker's consumer hands it over, recording how it was settled.
type taskMsg struct {
	jetstream.Msg // not called but for the methods below
	data          []byte
	header        nats.Header
	acked, naked  bool
}

func (m *taskMsg) Data() []byte         { return m.data }
func (m *taskMsg) Headers() nats.Header { return m.header }
func (m *taskMsg) Ack() error           { m.acked = true; return nil }
func (m *taskMsg) Nak() error           { m.naked = true; return nil }
func (m *taskMsg) InProgress() error    { return nil }

// A reply the worker has received when its calls are abandoned (a second signal just after the
// reply came) was paid for: it is still published, as the task's reply, and the task
// acknowledged. Before, the worker saw the calls abandoned and handed the task back, dropping
// the reply: another worker paid for the decision again.
func TestReplyReceivedBeforeAbandonIsSent(t *testing.T) {
	b, err := StartBroker(BrokerOptions{Listen: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	nc, err := nats.Connect(b.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	const run = "received"
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: streamName(run), Subjects: []string{"prosim." + run + ".>"}})
	if err != nil {
		t.Fatal(err)
	}

	cfg := experiment.Backend{Provider: "vllm", Model: "m", BaseURL: "http://127.0.0.1:1/v1"}
	calls, abandon := context.WithCancel(context.Background())
	defer abandon()
	paid := backend.Reply{Raw: `{"willingness": 4}`, Provider: "openai", Model: "m", Calls: 1, InputTokens: 5, OutputTokens: 5}
	w := &worker{o: WorkerOptions{ConnectOptions: ConnectOptions{Name: "w"}}, nc: nc, js: js, calls: calls, chains: map[string]backend.Backend{}}
	js1, _ := json.Marshal(cfg)
	w.chains[string(js1)] = backend.Func(func(context.Context, backend.Request) (backend.Reply, error) {
		abandon() // the second signal, just after the reply came
		return paid, nil
	})
	body, _ := json.Marshal(task{Label: "vllm:m", Backend: cfg})
	m := &taskMsg{data: body, header: nats.Header{}}
	m.header.Set(keyHeader, "k1")
	m.header.Set(jetstream.MsgIDHeader, "k1.s.1")
	w.handle(ctx, run, m, time.Minute)

	if !m.acked || m.naked {
		t.Errorf("task acked %v, handed back %v; want it acknowledged, its reply sent", m.acked, m.naked)
	}
	if n := w.abandoned.Load(); n != 0 {
		t.Errorf("%d calls counted abandoned; want none (the reply was in hand)", n)
	}
	got, err := s.GetLastMsgForSubject(ctx, replySubject(run))
	if err != nil {
		t.Fatalf("no reply on the stream: %v", err)
	}
	var r reply
	if err := json.Unmarshal(got.Data, &r); err != nil || r.Err != nil || r.Reply.Raw != paid.Raw || r.Reply.Calls != 1 {
		t.Errorf("reply %+v, %v; want the paid reply", r, err)
	}
}
