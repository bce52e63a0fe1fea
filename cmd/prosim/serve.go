package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/prosim/prosim/internal/serve"
)

func init() { extraCommands = append(extraCommands, serveCmd) }

func serveCmd() *cobra.Command {
	var addr string
	var liveLimit int
	c := &cobra.Command{
		Use:   "serve [DIR...]",
		Short: "A local web dashboard of run folders: live progress, results, every decision; stop and resume",
		Long: `Serve run folders (default runs/) as a local web app: the runs, a run's live view (progress,
decisions/s, ETA, calls, tokens, cost so far and projected, valid rate and the most common
invalid reasons, provisional main estimates of every study), its results (the report's sections), a comparison
of runs, and a browser of every decision with its persona, request and raw reply. The only
actions are stop (the run stays resumable) and resume. Each DIR is a run folder or a folder of
run folders. It listens on loopback by default; on any other address it requires the token it
prints at start.`,
		Example: `  prosim serve
  prosim serve runs/ other-runs/ --addr 127.0.0.1:9000`,
		RunE: func(cmd *cobra.Command, args []string) error {
			dirs := args
			if len(dirs) == 0 {
				dirs = []string{"runs"}
				if err := os.MkdirAll("runs", 0o755); err != nil { // runs started later appear on reload
					return err
				}
			}
			return runServe(cmd.Context(), cmd, dirs, addr, liveLimit)
		},
	}
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8787", "address to listen on (host:port); a non-loopback address requires the printed token")
	c.Flags().IntVar(&liveLimit, "live-limit", serve.DefaultLiveLimit, "largest run (recorded decisions) whose live estimates (Study 1's excepted: they stream) and rebuilt requests are computed, as they replay the record in memory; -1 for no limit")
	return c
}

func runServe(ctx context.Context, cmd *cobra.Command, dirs []string, addr string, liveLimit int) error {
	loopback := serve.IsLoopback(addr)
	token := ""
	if !loopback {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		token = hex.EncodeToString(b)
	}
	s, err := serve.New(ctx, serve.Options{Roots: dirs, Token: token, Loopback: loopback, Log: cmd.ErrOrStderr(), LiveLimit: liveLimit})
	if err != nil {
		return err
	}
	defer s.Close() // after the resumes' Wait below: the folders as serve found them
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	url := "http://" + ln.Addr().String() + "/"
	out := cmd.OutOrStdout()
	if token != "" {
		host, port, _ := net.SplitHostPort(ln.Addr().String())
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			host = "HOST" // every interface: the user knows which name reaches this machine
		}
		fmt.Fprintf(out, "prosim serve: %s is not loopback, so every request needs this token; open\n  http://%s/?token=%s\n", addr, net.JoinHostPort(host, port), token)
		if host == "HOST" {
			fmt.Fprintln(out, "  (HOST: any address of this machine)")
		}
	} else {
		fmt.Fprintf(out, "prosim serve: %s\n", url)
	}
	fmt.Fprintln(out, "(Ctrl-C to quit; runs resumed from the page stop with it and stay resumable)")
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		s.Wait() // resumes started from the page stop with ctx; let them save what they decided
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return nil
	}
}
