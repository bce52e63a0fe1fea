package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/cluster"
	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/experiment"
)

func init() { extraCommands = append(extraCommands, workerCmd, brokerCmd) }

// Environment variables read by prosim broker (never flags: a password on a command line is
// visible to every user of the machine).
const (
	brokerUserEnv     = "PROSIM_BROKER_USER"
	brokerPasswordEnv = "PROSIM_BROKER_PASSWORD"
	brokerTokenEnv    = "PROSIM_BROKER_TOKEN"
	// natsURLEnv is the broker URL when --nats is not given: a URL with credentials is then
	// not on the command line, where every user of the machine can read it.
	natsURLEnv = "PROSIM_NATS_URL"
)

func workerCmd() *cobra.Command {
	var o cluster.WorkerOptions
	var spec string
	var quiet bool
	c := &cobra.Command{
		Use:   "worker --nats URL",
		Short: "Decide tasks of distributed runs (prosim run --nats URL) until stopped",
		Long: `Decide tasks of distributed runs until stopped (Ctrl-C or SIGTERM). The worker joins every
run on the broker, or only the backend --label names, and decides each task with its own
backend: the task's backend as the experiment gives it (API keys from this machine's
environment), or --backend SPEC, this machine's own model server.

Stopped, the worker takes no new task and finishes the calls in flight within --grace
(default 25s, inside the 30 s an orchestrator waits between its SIGTERM and a kill), publishes
their replies, so that each is paid once, and exits (0 after SIGTERM). A second signal, or the
grace's end, cancels the calls still going and hands their tasks back to the broker: another
worker asks them again (paid twice), and the worker exits 130. A task a worker takes but does
not finish (killed) goes to another worker after the run's ack wait.`,
		Example: `  prosim worker --nats nats://127.0.0.1:4222
  prosim worker --nats nats://broker:4222 --backend vllm:qwen2.5-7b-instruct@http://127.0.0.1:8000/v1 --concurrency 32`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{cleanOnTerm: "yes"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.URL == "" {
				o.URL = os.Getenv(natsURLEnv)
			}
			if o.Grace < 0 {
				return usageError{fmt.Errorf("--grace %s: want 0 (hand the calls in flight back at once) or more", o.Grace)}
			}
			if o.URL == "" {
				return usageError{fmt.Errorf("no broker: give --nats URL or set %s", natsURLEnv)}
			}
			if err := experiment.CheckBrokerURL(o.URL); err != nil {
				return usageError{fmt.Errorf("--nats: %w", err)}
			}
			if spec != "" {
				b, err := experiment.ParseBackendSpec(spec)
				if err != nil {
					return usageError{err}
				}
				o.Backend = &b
			}
			quietInterrupt.Store(quiet) // a --workers run stops its local workers with SIGTERM
			if !quiet {
				o.Log = cmd.ErrOrStderr()
				o.Connected = func() {
					fmt.Fprintf(o.Log, "worker: connected to %s, deciding up to %d tasks at once\n", cluster.Redact(o.URL), max(o.Concurrency, 1))
				}
			}
			abandon := make(chan struct{})
			o.Abandon = abandon
			stopHandling.Store(&stopHandler{notice: func(sig os.Signal) string { return workerStopNotice(sig, o.Grace) },
				second: func() { close(abandon) }})
			defer stopHandling.Store(nil)
			return cluster.RunWorker(cmd.Context(), o)
		},
	}
	c.Flags().StringVar(&o.URL, "nats", "", "broker URL: nats://[user:password@|token@]host:4222, tls://... (default $"+natsURLEnv+")")
	c.Flags().StringVar(&o.Creds, "creds", "", "NATS credentials file (JWT and NKey seed)")
	c.Flags().StringVar(&spec, "backend", "", "decide with this backend SPEC instead of each task's (e.g. a local vllm:MODEL@URL)")
	c.Flags().StringVar(&o.Label, "label", "", "take only tasks of this backend label (default: every label, or --backend's)")
	c.Flags().IntVar(&o.Concurrency, "concurrency", 16, "tasks decided at once")
	c.Flags().StringVar(&o.Name, "name", "", "worker name in the coordinator's progress (default host.pid)")
	c.Flags().DurationVar(&o.Grace, "grace", cluster.DefaultGrace, "once stopped, how long the calls in flight may go on (0: hand them back at once)")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "no log lines")
	return c
}

// workerStopNotice is what a worker says when sig stops it.
func workerStopNotice(sig os.Signal, grace time.Duration) string {
	if grace == 0 {
		return signalName(sig) + ": the worker takes no new task and hands the calls in flight back to the broker"
	}
	return fmt.Sprintf("%s: the worker takes no new task and finishes the calls in flight within %s, then exits; a second signal, or the grace's end, hands those still going back to the broker (another worker asks them again)", signalName(sig), grace)
}

func brokerCmd() *cobra.Command {
	var listen, store string
	c := &cobra.Command{
		Use:   "broker",
		Short: "Run a NATS server with JetStream for distributed runs, until stopped",
		Long: `Run a NATS server with JetStream (embedded: nothing else to install) for prosim run --nats
and prosim worker. Streams are kept in --store, so acknowledged tasks survive a restart.
Clients must give a user and password when ` + brokerUserEnv + ` and ` + brokerPasswordEnv + ` are
set, or a token when ` + brokerTokenEnv + ` is set (nats://user:password@host:4222,
nats://token@host:4222). Listen on a loopback address unless the machines between you are
trusted or credentials are set.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if store == "" {
				dir, err := os.UserCacheDir()
				if err != nil {
					return fmt.Errorf("no --store given and no user cache directory: %w", err)
				}
				store = filepath.Join(dir, "prosim", "jetstream")
			}
			b, err := cluster.StartBroker(cluster.BrokerOptions{Listen: listen, StoreDir: store,
				User: os.Getenv(brokerUserEnv), Password: os.Getenv(brokerPasswordEnv), Token: os.Getenv(brokerTokenEnv)})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "broker: %s (JetStream store %s); stop it with Ctrl-C\n", b.URL(), store)
			<-cmd.Context().Done()
			b.Close()
			return nil
		},
	}
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:4222", "host:port to listen on (port 0: a free one)")
	c.Flags().StringVar(&store, "store", "", "JetStream store directory (default: the user cache directory's prosim/jetstream)")
	return c
}

// clusterFlags are run's and resume's flags for distributed runs.
type clusterFlags struct {
	nats    string
	creds   string
	workers int
	ackWait time.Duration
}

func (f *clusterFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.nats, "nats", "", "decide on prosim workers connected to this NATS broker (overrides execution.nats; default $"+natsURLEnv+")")
	c.Flags().StringVar(&f.creds, "creds", "", "NATS credentials file for --nats")
	c.Flags().IntVar(&f.workers, "workers", 0, "start a broker and N local worker processes and decide on them")
	c.Flags().DurationVar(&f.ackWait, "ack-wait", 30*time.Second, "a task a worker took but has not finished by then goes to another worker")
	c.Flags().MarkHidden("ack-wait") // for tests and slow links
}

// brokerURL is the broker a run decides on: --nats, else execution.nats, else
// PROSIM_NATS_URL (also to add credentials to the experiment's, and to a resumed run's, whose
// config.yaml keeps none); "" for none (--workers starts its own).
func (f clusterFlags) brokerURL(exp *experiment.Experiment) string {
	url := f.nats
	if url == "" {
		url = exp.Execution.NATS
	}
	if env := os.Getenv(natsURLEnv); f.nats == "" && f.workers == 0 && env != "" &&
		(url == "" || cluster.Redact(env) == cluster.Redact(url)) {
		url = env
	}
	return url
}

// given says whether the run decides on a broker's workers (setupCluster sets one up).
func (f clusterFlags) given(exp *experiment.Experiment) bool {
	return f.brokerURL(exp) != "" || f.workers > 0
}

// noSharedCache stands for the broker's cache in checks made before the broker is set up
// (a run whose file has problems): such a run opens none.
func noSharedCache() (backend.CacheStore, error) {
	return nil, errors.New("the shared cache is not opened: the experiment has problems")
}

// setupCluster connects a run to its broker when asked (--nats, --workers, or the experiment's
// execution.nats) and sets opt.Remote. The returned done is called with whether the run is
// complete: it then removes the run's stream, and stops what setupCluster started.
// The run goes on with runCtx, which a --workers run's local worker that keeps ending
// cancels, with that as its cause.
func setupCluster(ctx context.Context, f clusterFlags, exp *experiment.Experiment, dir string, resume bool, opt *engine.Options) (runCtx context.Context, done func(complete bool), err error) {
	url := f.brokerURL(exp)
	if f.workers < 0 || f.workers > 256 {
		return nil, nil, usageError{fmt.Errorf("--workers %d: want 1 to 256", f.workers)}
	}
	if f.workers > 0 && f.nats != "" {
		return nil, nil, usageError{errors.New("--workers starts its own broker: give --workers or --nats, not both")}
	}
	if url == "" && f.workers == 0 {
		return ctx, func(bool) {}, nil
	}
	if f.nats != "" {
		if err := experiment.CheckBrokerURL(f.nats); err != nil {
			return nil, nil, usageError{fmt.Errorf("--nats: %w", err)}
		}
	}
	runCtx, failed := context.WithCancelCause(ctx)
	stops := []func(){func() { failed(nil) }}
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	advice := cluster.StallAdvice
	if f.workers > 0 {
		url, err = startLocalCluster(ctx, f.workers, max(exp.Concurrency/f.workers+1, 4), opt.Notices, &stops, failed)
		if err != nil {
			stop()
			return nil, nil, err
		}
		// Nobody else can join this broker (its token is the run's own).
		advice = fmt.Sprintf("stop with Ctrl-C and continue with `prosim resume %s --workers %d`", dir, f.workers)
	}
	run, err := brokerRunName(dir, resume)
	if err != nil {
		stop()
		return nil, nil, err
	}
	opt.BrokerRun = run
	coord, err := cluster.Open(ctx, cluster.CoordinatorOptions{ConnectOptions: cluster.ConnectOptions{URL: url, Creds: f.creds},
		Run: run, AckWait: f.ackWait})
	if err != nil {
		stop()
		return nil, nil, err
	}
	opt.Remote = coord.Backend
	opt.Unasked = coord.OnUnasked // a task two workers decided: its second reply is counted
	// cache: nats: the run's reply cache is the broker's bucket, shared by every run on it.
	opt.SharedCache = func() (backend.CacheStore, error) {
		return cluster.OpenKVStore(ctx, cluster.ConnectOptions{URL: url, Creds: f.creds, Name: "prosim cache " + run})
	}
	wctx, cancel := context.WithCancel(ctx)
	if opt.Progress != nil {
		fmt.Fprintf(opt.Progress, "deciding on the workers of %s (run %s on the broker)\n", cluster.Redact(url), run)
		go coord.Watch(wctx, opt.Progress, 5*time.Second, advice)
	}
	return runCtx, func(complete bool) {
		cancel()
		if err := coord.Close(complete); err != nil && opt.Notices != nil {
			fmt.Fprintln(opt.Notices, "prosim:", err)
		}
		stop()
	}, nil
}

// brokerRunName is the name on the broker of the run in dir: a new run's is fresh, and
// recorded in its folder; a resumed run's is the one its folder records, else (a run started
// by a prosim that recorded none) the one derived from the folder's path, which finds its
// stream again if it was not moved, and is recorded from then on.
func brokerRunName(dir string, resume bool) (string, error) {
	if !resume {
		return cluster.NewRunName(), nil
	}
	name, exists, err := engine.BrokerRun(dir)
	switch {
	case err != nil:
		return "", fmt.Errorf("cannot resume %s: %w", dir, err)
	case name != "":
		return name, nil
	case !exists: // nothing decided yet
		return cluster.NewRunName(), nil
	}
	return cluster.RunName(dir)
}

// startLocalCluster starts an embedded broker on a free loopback port and n worker processes
// of this same binary, each started again when it ends before the run (localWorkers), unless
// ctx is done (a Ctrl-C, which the terminal sends the workers too); stops receives how to stop
// them, and fail is called when one keeps ending.
func startLocalCluster(ctx context.Context, n, concurrency int, notices io.Writer, stops *[]func(), fail func(error)) (string, error) {
	store, err := os.MkdirTemp("", "prosim-broker-")
	if err != nil {
		return "", err
	}
	*stops = append(*stops, func() { os.RemoveAll(store) })
	// The broker takes only clients with a fresh random token (QA12 #6: any user of the machine
	// could connect to the loopback port and read the run's tasks and replies). Workers get
	// the URL with it in their environment, not on a command line every user can read.
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return "", err
	}
	token := hex.EncodeToString(tok)
	b, err := cluster.StartBroker(cluster.BrokerOptions{Listen: "127.0.0.1:0", StoreDir: store, Token: token})
	if err != nil {
		return "", err
	}
	*stops = append(*stops, b.Close)
	u, err := url.Parse(b.URL())
	if err != nil {
		return "", err
	}
	u.User = url.User(token)
	withToken := u.String()
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("--workers: cannot find this program to start workers: %w", err)
	}
	l := &localWorkers{ctx: ctx, exe: exe, concurrency: concurrency, env: append(os.Environ(), natsURLEnv+"="+withToken),
		notices: notices, fail: fail}
	*stops = append(*stops, l.stop)
	for i := range n {
		if err := l.add(i); err != nil {
			return "", err
		}
	}
	if notices != nil {
		fmt.Fprintf(notices, "prosim: started a broker on %s and %d local workers\n", b.URL(), n)
	}
	return withToken, nil
}

// A local worker that ends before the run (killed, out of memory) is started again, at most
// restartBurst times within restartWindow: one that keeps ending at once (a backend that
// cannot be built, a broken install) stops the run rather than being restarted for ever.
// Variables for tests.
var (
	restartBurst  = 3
	restartWindow = time.Minute
	restartDelay  = 250 * time.Millisecond
)

// localWorkerCmd is the command of local worker name (a variable for tests).
var localWorkerCmd = func(exe, name string, concurrency int) *exec.Cmd {
	// No grace: the broker, and the run's stream the replies would go to, end with the run.
	return exec.Command(exe, "worker", "--concurrency", strconv.Itoa(concurrency), "--name", name, "--grace", "0", "-q")
}

// localWorkers are the worker processes of prosim run --workers, each watched by a goroutine
// that reaps it when it ends (QA16 F1: a killed worker stayed <defunct>, and was never
// replaced: the run waited for ever on workers nobody else could start).
type localWorkers struct {
	ctx         context.Context // the command's: done at a stop signal
	exe         string
	concurrency int
	env         []string
	notices     io.Writer   // nil for silence
	fail        func(error) // stops the run

	mu       sync.Mutex
	stopping bool            // the run is over: an exit is expected
	procs    []*exec.Cmd     // each worker's current process
	ended    []chan struct{} // closed when worker i is no longer watched
}

// workerName is worker i's name (0-based), as the progress shows it.
func workerName(i int) string { return fmt.Sprintf("local%d", i+1) }

// add starts worker i (0-based) and watches it.
func (l *localWorkers) add(i int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, err := l.start(i)
	if err != nil {
		return err
	}
	l.procs = append(l.procs, p)
	ended := make(chan struct{})
	l.ended = append(l.ended, ended)
	go l.watch(i, p, ended)
	return nil
}

func (l *localWorkers) start(i int) (*exec.Cmd, error) {
	p := localWorkerCmd(l.exe, workerName(i), l.concurrency)
	p.Env = l.env // the broker's URL with its token: not on a command line every user can read
	p.Stdout, p.Stderr = os.Stderr, os.Stderr
	endWithParent(p)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("--workers: starting worker %s: %w", workerName(i), err)
	}
	return p, nil
}

// watch waits for worker i's process p to end, and starts it again unless the run is over or
// it ended too often (restartBurst); it closes ended when it returns. ended is given, not
// read from l.ended, which add appends to meanwhile (a race the race detector found).
func (l *localWorkers) watch(i int, p *exec.Cmd, ended chan struct{}) {
	defer close(ended)
	var exits []time.Time
	for {
		p.Wait() // reaps it
		// A Ctrl-C reaches the workers as it reaches this process, whose handler may not have
		// cancelled ctx yet: a moment's wait tells that exit from a worker's own end.
		select {
		case <-l.ctx.Done():
		case <-time.After(restartDelay):
		}
		l.mu.Lock()
		if l.stopping || l.ctx.Err() != nil {
			l.mu.Unlock()
			return
		}
		now := time.Now()
		exits = slices.DeleteFunc(exits, func(t time.Time) bool { return now.Sub(t) >= restartWindow })
		exits = append(exits, now)
		if len(exits) > restartBurst {
			l.mu.Unlock()
			l.fail(fmt.Errorf("--workers: local worker %s ended %d times within %s (last: %s); the run stops rather than start it again",
				workerName(i), len(exits), restartWindow, p.ProcessState))
			return
		}
		state := p.ProcessState
		q, err := l.start(i)
		if err != nil {
			l.mu.Unlock()
			l.fail(err)
			return
		}
		l.procs[i], p = q, q
		l.mu.Unlock()
		if l.notices != nil {
			fmt.Fprintf(l.notices, "prosim: local worker %s ended before the run (%s); started it again (restart %d of at most %d within %s)\n",
				workerName(i), state, len(exits), restartBurst, restartWindow)
		}
	}
}

// stop ends the workers: SIGTERM (a worker stopping hands its unfinished tasks back), then
// SIGKILL to one still there 5 s later.
func (l *localWorkers) stop() {
	l.mu.Lock()
	l.stopping = true
	procs, ended := slices.Clone(l.procs), slices.Clone(l.ended)
	l.mu.Unlock()
	for _, p := range procs {
		p.Process.Signal(syscall.SIGTERM)
	}
	for i, p := range procs {
		select {
		case <-ended[i]:
		case <-time.After(5 * time.Second):
			p.Process.Kill()
			<-ended[i]
		}
	}
}
