package loopback

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestMain lets the test binary be its own child: Start runs it again with -serve.
func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == "-serve" {
		Serve(&http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%d %s", os.Getpid(), r.URL.Path)
		})})
		return
	}
	os.Exit(m.Run())
}

// The server runs in another process, answers at the URL Start returns, and stop ends it.
func TestStartServesFromAChild(t *testing.T) {
	url, stop, err := Start("-serve")
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(url + "/x")
	if err != nil {
		stop()
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var pid int
	var path string
	if _, err := fmt.Sscan(string(b), &pid, &path); err != nil || path != "/x" {
		t.Errorf("reply %q, want the child's pid and /x", b)
	} else if pid == os.Getpid() {
		t.Errorf("served by this process (pid %d), not a child", pid)
	}
	done := make(chan struct{})
	go func() { stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("stop did not end the child within 10 s")
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	if _, err := http.Get(url + "/x"); err == nil {
		t.Error("the server still answers after stop")
	}
}

// A child that exits before printing its address is an error, not a hang.
func TestStartFailsWhenTheChildDoesNotServe(t *testing.T) {
	if _, _, err := Start("-no-such-flag"); err == nil {
		t.Fatal("Start succeeded with a child that does not serve")
	}
}
