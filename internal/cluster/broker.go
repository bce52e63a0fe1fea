// Package cluster runs a study's decisions on worker processes over NATS JetStream: the
// coordinator (prosim run --nats) publishes each decision as a task on a work-queue stream of
// its own run, workers (prosim worker) decide tasks with their own backend chain and publish
// the replies on the same stream, and the coordinator hands each reply to the engine as the
// backend's answer. The engine keeps everything else (study logic, journal, cache, repairs,
// cost): a remote decision is just another backend.Backend.
package cluster

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Broker is an embedded NATS server with JetStream (prosim broker, prosim run --workers).
type Broker struct {
	srv *server.Server
}

// BrokerOptions configure StartBroker.
type BrokerOptions struct {
	// Listen is host:port; port 0 picks a free port.
	Listen string
	// StoreDir is where JetStream keeps streams (file storage, so acknowledged tasks survive a
	// restart); required.
	StoreDir string
	// Logs turns the server's own log lines on (to stderr).
	Logs bool
	// User and Password, or Token, are what clients must give (in their URL); none: anyone
	// who reaches the port may connect.
	User, Password, Token string
}

// StartBroker starts an embedded server and waits until it accepts connections.
func StartBroker(o BrokerOptions) (*Broker, error) {
	host, p, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: want host:port (%v)", o.Listen, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("--listen %q: bad port", o.Listen)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if o.StoreDir == "" {
		return nil, fmt.Errorf("broker: no store directory")
	}
	srv, err := server.NewServer(&server.Options{
		ServerName:    "prosim",
		Host:          host,
		Port:          port,
		JetStream:     true,
		StoreDir:      o.StoreDir,
		NoSigs:        true, // the prosim command handles signals
		NoLog:         !o.Logs,
		Username:      o.User,
		Password:      o.Password,
		Authorization: o.Token,
	})
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if o.Logs {
		srv.ConfigureLogger()
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("broker: not ready to accept connections on %s after 10s", o.Listen)
	}
	return &Broker{srv: srv}, nil
}

// URL is the client URL of the broker (nats://host:port).
func (b *Broker) URL() string { return b.srv.ClientURL() }

// Close stops the broker and waits until it has stopped.
func (b *Broker) Close() {
	b.srv.Shutdown()
	b.srv.WaitForShutdown()
}
