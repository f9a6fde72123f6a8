package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/herald-chat/herald/backend"
)

// DefaultBodyTimeout bounds how long a request body may take to arrive (Config.BodyTimeout).
const DefaultBodyTimeout = 30 * time.Second

// bodyDeadline bounds reading a request body: a client that announces a body and never sends
// it is cut off after timeout instead of holding its connection (and a handler) forever. An
// upload's deadline moves with its progress instead: every read that brings bytes grants it
// another timeout, so a large file on a slow link arrives while a stalled one does not. Once
// the body has been read to its end, the deadline is lifted, so that nothing bounds the answer.
// Requests without a body (the streams' GETs) are left alone: a read deadline on them would
// end a stream when it fired.
func bodyDeadline(timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(timeout)); err != nil {
			next.ServeHTTP(w, r) // the desktop app's AssetServer: no connection to bound
			return
		}
		// On a copy: net/http recognizes its own body in the request it holds (to end an answer
		// to a body it did not read with a FIN rather than a reset), so that one stays as it is.
		body := &deadlineBody{ReadCloser: r.Body, rc: rc, timeout: timeout, progress: strings.HasSuffix(r.URL.Path, "/files")}
		r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, body))
		r.Body = body
		next.ServeHTTP(w, r)
	})
}

type bodyKey struct{}

// unreadBody reports whether r's body has not been read to its end (writeError then closes the
// connection rather than let net/http wait for the rest of it).
func unreadBody(r *http.Request) bool {
	b, ok := r.Context().Value(bodyKey{}).(*deadlineBody)
	return ok && !b.done
}

type deadlineBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	timeout  time.Duration
	progress bool // each read that brings bytes moves the deadline
	done     bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF && !b.done:
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	case n > 0 && b.progress:
		_ = b.rc.SetReadDeadline(time.Now().Add(b.timeout))
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = errBodyTimeout{b.timeout}
	}
	return n, err
}

// errBodyTimeout is what reading a body that stalled returns; decodeJSON and uploads answer it
// as backend.ETIMEOUT.
type errBodyTimeout struct{ timeout time.Duration }

func (e errBodyTimeout) Error() string {
	return "the request body did not arrive within " + e.timeout.String()
}

// asBodyTimeout turns a stalled body's read error into the 408 to answer, or nil.
func asBodyTimeout(err error) error {
	var t errBodyTimeout
	if errors.As(err, &t) {
		return backend.Errorf(backend.ETIMEOUT, "The request body did not arrive within %s.", t.timeout)
	}
	return nil
}

// hostGuard refuses requests whose Host header names a host the server is not: the defence
// against DNS rebinding, where a page on an attacker's name that resolves to this server would
// otherwise be same-origin with it (and could claim a fresh server's admin account). Allowed
// are the public URL's host, the configured extra hosts, loopback names and addresses, this
// machine's own addresses and host name; others get 421 before any handler runs.
type hostGuard struct {
	allowed map[string]bool // lower-case host names and canonical IPs
	next    http.Handler
	log     *slog.Logger

	mu       sync.Mutex
	own      map[string]bool // this machine's interface addresses, refreshed by ownAddress
	lookedAt time.Time
}

// ownAddressRefresh is how often an unknown IP in a Host header makes the guard re-read the
// interface addresses (DHCP, a new network) at most.
const ownAddressRefresh = 5 * time.Second

func newHostGuard(publicURL string, extra []string, log *slog.Logger, next http.Handler) *hostGuard {
	g := &hostGuard{allowed: map[string]bool{"localhost": true}, next: next, log: log}
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		g.allowed[canonicalHost(u.Hostname())] = true
	}
	for _, h := range extra {
		if h = strings.TrimSpace(h); h != "" {
			g.allowed[canonicalHost(h)] = true
		}
	}
	if name, err := os.Hostname(); err == nil && name != "" {
		name = strings.ToLower(name)
		g.allowed[name] = true
		g.allowed[name+".local"] = true // what mDNS calls the machine on the LAN
	}
	return g
}

// canonicalHost lower-cases a name, strips a trailing dot, and writes an IP in canonical form.
func canonicalHost(h string) string {
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return h
}

func (g *hostGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Host == "" || g.allows(r.Host) {
		g.next.ServeHTTP(w, r)
		return
	}
	g.log.Warn("request for a foreign host refused", "host", r.Host, "remote", r.RemoteAddr, "path", r.URL.Path)
	writeError(w, r, g.log, backend.Errorf(backend.EMISDIRECTED,
		"This server does not answer for the host %q. If that is its address, start it with --public-url or --allowed-hosts naming it.", r.Host))
}

func (g *hostGuard) allows(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = canonicalHost(host)
	if g.allowed[host] || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	return ip.IsLoopback() || g.ownAddress(ip)
}

// ownAddress reports whether ip belongs to one of this machine's interfaces, re-reading them
// when ip is unknown and the last look is older than ownAddressRefresh.
func (g *hostGuard) ownAddress(ip net.IP) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.own[ip.String()] {
		return true
	}
	if time.Since(g.lookedAt) < ownAddressRefresh {
		return false
	}
	g.lookedAt = time.Now()
	g.own = map[string]bool{}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			g.own[n.IP.String()] = true
		}
	}
	return g.own[ip.String()]
}
