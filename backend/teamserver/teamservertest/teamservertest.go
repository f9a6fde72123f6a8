// Package teamservertest runs a real team server (bbolt in a temp dir, hub, API) on 127.0.0.1
// for tests of its clients, and stops and starts it again on the same data and port — what a
// client sees when the server restarts. Like net/http/httptest, it is for tests only.
package teamservertest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/teamserver"
	"github.com/herald-chat/herald/backend/tlscert"
)

// wait bounds starting and stopping.
const wait = 10 * time.Second

// Server is a team server that a test can stop and start again. Its address stays the same.
type Server struct {
	URL string // http://127.0.0.1:PORT, or https:// WithTLS
	// Fingerprint is the server certificate's SHA-256 (tlscert.Fingerprint) WithTLS, else "".
	// The certificate stays the same across Stop and Start.
	Fingerprint string

	tb        testing.TB
	dir, addr string
	keepalive time.Duration
	wrap      func(http.Handler) http.Handler
	tls       bool
	client    *http.Client

	mu sync.Mutex
	ts *teamserver.Server
	hs *http.Server
}

// Option configures a Server.
type Option func(*Server)

// WithKeepalive sets the streams' keepalive interval (default 200 ms).
func WithKeepalive(d time.Duration) Option { return func(s *Server) { s.keepalive = d } }

// WithWrap puts wrap around the API handler, e.g. a gate that refuses some requests.
func WithWrap(wrap func(http.Handler) http.Handler) Option { return func(s *Server) { s.wrap = wrap } }

// WithTLS serves HTTPS (HTTP/2, TLS 1.2 at least) with a self-signed certificate made in the
// server's data dir, as `herald-server --tls-self-signed` and the desktop's host mode do; invite
// links carry its fingerprint. Server.Client trusts it.
func WithTLS() Option { return func(s *Server) { s.tls = true } }

// Start starts a server on a fresh data dir; it stops when the test ends.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{tb: tb, dir: tb.TempDir(), addr: "127.0.0.1:0", keepalive: 200 * time.Millisecond,
		wrap: func(h http.Handler) http.Handler { return h }}
	for _, o := range opts {
		o(s)
	}
	s.Start()
	tb.Cleanup(s.Stop)
	return s
}

// Start opens the data dir and serves it (again) on the same address.
func (s *Server) Start() {
	s.tb.Helper()
	cfg := teamserver.Config{DataDir: s.dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Keepalive: s.keepalive}
	if s.tls {
		cert, _, err := tlscert.SelfSigned(s.dir)
		if err != nil {
			s.tb.Fatal(err)
		}
		cfg.Certificate, cfg.SelfSigned = &cert, true
		s.Fingerprint = tlscert.Fingerprint(cert.Leaf.Raw)
		if s.client == nil {
			pool := x509.NewCertPool()
			pool.AddCert(cert.Leaf)
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
			s.tb.Cleanup(tr.CloseIdleConnections)
			s.client = &http.Client{Transport: tr}
		}
	}
	ts, err := teamserver.Open(cfg)
	if err != nil {
		s.tb.Fatal(err)
	}
	var ln net.Listener
	for deadline := time.Now().Add(wait); ; {
		ln, err = net.Listen("tcp", s.addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // the previous listener's port is being released
	}
	if err != nil {
		_ = ts.Shutdown(context.Background())
		s.tb.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.URL = "http://" + s.addr
	hs := &http.Server{Handler: s.wrap(ts.Handler()), ErrorLog: log.New(io.Discard, "", 0)} // refused handshakes are what tests try
	if s.tls {
		s.URL = "https://" + s.addr
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*cfg.Certificate}}
		go func() { _ = hs.ServeTLS(ln, "", "") }()
	} else {
		go func() { _ = hs.Serve(ln) }()
	}
	s.mu.Lock()
	s.ts, s.hs = ts, hs
	s.mu.Unlock()
}

// Stop ends the server gracefully, as on SIGTERM: streams are told to come back later and
// closed, then the store. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	ts, hs := s.ts, s.hs
	s.ts, s.hs = nil, nil
	s.mu.Unlock()
	if ts == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := ts.API.Shutdown(ctx); err != nil {
		s.tb.Error(err)
	}
	if err := hs.Shutdown(ctx); err != nil {
		s.tb.Error(err)
	}
	if err := ts.Shutdown(ctx); err != nil {
		s.tb.Error(err)
	}
}

// Client is an HTTP client of the server: WithTLS it trusts exactly the server's certificate
// (checking that it names 127.0.0.1, as a browser would); otherwise http.DefaultClient.
func (s *Server) Client() *http.Client {
	if s.client != nil {
		return s.client
	}
	return http.DefaultClient
}

// Call makes one JSON request (body marshalled unless nil; a bearer token unless "") and decodes
// the answer into out (unless nil or the answer is empty). The returned response's body is the
// whole answer, readable again. A transport error or an answer that is not JSON fails the test.
func Call(tb testing.TB, method, url, token string, body, out any) *http.Response {
	tb.Helper()
	return CallWith(tb, http.DefaultClient, method, url, token, body, out)
}

// CallWith is Call through hc (e.g. Server.Client for a server WithTLS).
func CallWith(tb testing.TB, hc *http.Client, method, url, token string, body, out any) *http.Response {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read the answer: %v", method, url, err)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			tb.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, data)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp
}

// DataDir is the server's data directory.
func (s *Server) DataDir() string { return s.dir }
