// Package natslog keeps Herald's replicated log on NATS JetStream: an append-only stream of
// opaque entries with a compare-and-set on its last sequence (the fence that keeps one writer),
// an ordered reader from any sequence, a writer lease in a JetStream key-value bucket, and a
// NATS server embedded in the process for clusters that run no NATS of their own. It knows
// nothing of what the entries hold; backend/teamserver wires it to the store. Objects, a
// replicated object store, holds a cluster's files beside the log.
package natslog

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EmbeddedConfig describes a NATS node run inside herald-server (--nats-embedded).
type EmbeddedConfig struct {
	Name        string   // the node's name, unique in the cluster (--node-name)
	StoreDir    string   // where JetStream keeps its files: one directory per node
	ClientAddr  string   // host:port for NATS clients (--nats-addr)
	ClusterAddr string   // host:port the other NATS nodes route to (--nats-cluster-addr)
	Routes      []string // the other nodes' cluster addresses, nats://host:port (--nats-routes)
	// ClusterName names the NATS cluster; default "herald".
	ClusterName string
}

// StartEmbedded starts a NATS server with JetStream and waits (at most 10 s) until it accepts
// clients. The caller shuts it down (Shutdown, then WaitForShutdown). Server logs go to log at
// debug level, warnings and errors at their own.
func StartEmbedded(cfg EmbeddedConfig, log *slog.Logger) (*server.Server, error) {
	host, port, err := splitHostPort(cfg.ClientAddr)
	if err != nil {
		return nil, fmt.Errorf("nats address: %w", err)
	}
	opts := &server.Options{
		ServerName: cfg.Name,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		NoSigs:     true,
		// The default 2 s is shorter than an fsync of a busy disk; a slow route is not a dead one.
		PingInterval: 5 * time.Second,
		// StopEmbedded's lame duck mode: the leaders move within its first second; clients
		// still connected then are closed over the rest.
		LameDuckDuration:    3 * time.Second,
		LameDuckGracePeriod: time.Second,
	}
	if cfg.ClusterAddr != "" {
		chost, cport, err := splitHostPort(cfg.ClusterAddr)
		if err != nil {
			return nil, fmt.Errorf("nats cluster address: %w", err)
		}
		name := cfg.ClusterName
		if name == "" {
			name = "herald"
		}
		opts.Cluster = server.ClusterOpts{Name: name, Host: chost, Port: cport}
		if len(cfg.Routes) > 0 {
			opts.Routes = server.RoutesFromStr(strings.Join(cfg.Routes, ","))
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	s.SetLogger(slogLogger{log.With("component", "nats")}, false, false)
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("nats server %s: not ready within 10 s", cfg.Name)
	}
	if !s.JetStreamEnabled() {
		s.Shutdown()
		return nil, fmt.Errorf("nats server %s: JetStream did not start (see the log)", cfg.Name)
	}
	return s, nil
}

// StopEmbedded stops a NATS server StartEmbedded started, gracefully: in lame duck mode it hands
// the leadership of every JetStream stream and of the meta layer it holds to other nodes (about
// a second), so that a planned stop costs the cluster no election (~7 s without writes), then it
// shuts down. The process's own clients should be closed first; others are closed over ~2 s.
func StopEmbedded(s *server.Server) {
	s.LameDuckShutdown()
	s.Shutdown() // a no-op after lame duck mode, which ends in it; needed when it did not start
	s.WaitForShutdown()
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", p, err)
	}
	return host, port, nil
}

// slogLogger adapts slog to the NATS server's Logger.
type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l slogLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l slogLogger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l slogLogger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l slogLogger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l slogLogger) Tracef(format string, v ...any)  {}
