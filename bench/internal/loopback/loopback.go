// Package loopback runs a bench program's loopback HTTP server in a child process: the
// program starts itself again with a flag (Start), and the child serves (Serve). A real
// endpoint is another process or machine; a server inside the measured process would take
// its CPU and its Go scheduler's time, and the bench would measure its own server.
package loopback

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
)

// Serve listens on a free loopback port, prints the address on stdout for Start, and serves
// srv until stdin is closed (the parent stopped it, or died); then the process exits.
func Serve(srv *http.Server) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	fmt.Fprintln(os.Stderr, srv.Serve(ln))
	os.Exit(1)
}

// Start runs this program again with args (which must make it call Serve), waits for the
// child's address and returns its base URL ("http://127.0.0.1:port") and a stop function.
func Start(args ...string) (url string, stop func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(self, args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return "", nil, fmt.Errorf("the loopback server did not start: %v", err)
	}
	return "http://" + strings.TrimSpace(addr), func() { in.Close(); cmd.Wait() }, nil
}
