package httpapi

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultMaxConnsPerIP is how many connections one client address may hold open at once: room
// for a team behind one NAT address, each member with a stream and a few requests, and far
// below the process's file-descriptor limit.
const DefaultMaxConnsPerIP = 128

// ConnLimiter bounds the connections one remote IP holds on an http.Server at once. Install
// its ConnState as the server's ConnState hook. A connection beyond the bound is answered at
// once and closed, never queued: over plain HTTP with a 503 in the API's JSON error shape and
// Retry-After, under TLS (nothing can be said before the handshake) just closed. It works from
// the hook rather than by wrapping the listener's connections, so that net/http still sees the
// *net.TCPConn it half-closes to end an answer to an unread body cleanly.
type ConnLimiter struct {
	perIP int
	// OnRefuse, when set before Install, hears of every connection refused (the monitor counts
	// them as rate-limited).
	OnRefuse func()
	// Trusted proxies' connections are not bounded: they carry many clients (set before
	// Install). The proxy bounds its clients' connections itself.
	Trusted TrustedProxies

	mu      sync.Mutex
	open    map[string]int       // connections held, by remote IP
	refused map[net.Conn]bool    // closed at once: not counted when they end
	peers   map[string]time.Time // TrustPeer's addresses, until when
	exempt  map[net.Conn]bool    // accepted from a peer: not counted, so not uncounted either
}

// MaxPeers bounds how many addresses TrustPeer holds at once (a cluster has a few nodes).
const MaxPeers = 64

// PeerTrust is how long TrustPeer exempts an address after it was last vouched for.
const PeerTrust = 10 * time.Minute

// TrustPeer exempts ip's new connections from the bound until PeerTrust after the last call for
// it: the cluster calls it for a node whose forwarded request carried a valid signature (a node
// forwards its clients' writes over many connections). Connections already counted stay counted
// until they close. At most MaxPeers addresses: beyond, the one vouched for longest ago is
// dropped. Safe for concurrent use; a no-op on a nil l.
func (l *ConnLimiter) TrustPeer(ip string, now time.Time) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.peers == nil {
		l.peers = map[string]time.Time{}
	}
	if _, known := l.peers[ip]; !known && len(l.peers) >= MaxPeers {
		oldest, at := "", now.Add(PeerTrust)
		for p, until := range l.peers {
			if until.Before(at) {
				oldest, at = p, until
			}
		}
		delete(l.peers, oldest)
	}
	l.peers[ip] = now.Add(PeerTrust)
}

// peer reports whether ip is a peer TrustPeer vouched for recently. l.mu must be held.
func (l *ConnLimiter) peer(ip string, now time.Time) bool {
	until, ok := l.peers[ip]
	if ok && now.After(until) {
		delete(l.peers, ip)
		return false
	}
	return ok
}

// NewConnLimiter returns a limiter of perIP connections per remote IP, or nil (no bound) when
// perIP is 0 or less.
func NewConnLimiter(perIP int) *ConnLimiter {
	if perIP <= 0 {
		return nil
	}
	return &ConnLimiter{perIP: perIP, open: map[string]int{}, refused: map[net.Conn]bool{}}
}

// Install makes l bound srv's connections, keeping any ConnState hook srv had. A nil l leaves
// srv as it is.
func (l *ConnLimiter) Install(srv *http.Server) {
	if l == nil {
		return
	}
	prev := srv.ConnState
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		l.ConnState(c, st)
		if prev != nil {
			prev(c, st)
		}
	}
}

// refused is written to a plain-HTTP connection over the bound.
var refused = func() []byte {
	body := `{"error":{"code":"unavailable","message":"Too many connections from your address; try again in a moment."}}` + "\n"
	return fmt.Appendf(nil, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"+
		"Retry-After: 5\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}()

// ConnState counts c in and out. It runs on the server's accept loop for StateNew: the refusal
// is a small write to a fresh socket (its send buffer is empty, so it does not block) under a
// short deadline, then Close.
func (l *ConnLimiter) ConnState(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		ip := remoteIP(c.RemoteAddr())
		if l.Trusted.trusts(ip) {
			return
		}
		l.mu.Lock()
		if l.peer(ip, time.Now()) {
			if l.exempt == nil {
				l.exempt = map[net.Conn]bool{}
			}
			l.exempt[c] = true
			l.mu.Unlock()
			return
		}
		over := l.open[ip] >= l.perIP
		if over {
			l.refused[c] = true
		} else {
			l.open[ip]++
		}
		l.mu.Unlock()
		if over {
			if l.OnRefuse != nil {
				l.OnRefuse()
			}
			if _, isTLS := c.(*tls.Conn); !isTLS {
				_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				_, _ = c.Write(refused)
			}
			_ = c.Close()
		}
	case http.StateClosed, http.StateHijacked:
		ip := remoteIP(c.RemoteAddr())
		if l.Trusted.trusts(ip) {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.exempt[c] {
			delete(l.exempt, c)
			return
		}
		if l.refused[c] {
			delete(l.refused, c)
			return
		}
		if l.open[ip]--; l.open[ip] <= 0 {
			delete(l.open, ip)
		}
	}
}

func remoteIP(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
