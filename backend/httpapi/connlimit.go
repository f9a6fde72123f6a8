package httpapi

import (
	"fmt"
	"net"
	"sync"
	"time"
)

// DefaultMaxConnsPerIP is how many connections one client address may hold open at once: room
// for a team behind one NAT address, each member with a stream and a few requests, and far
// below the process's file-descriptor limit.
const DefaultMaxConnsPerIP = 128

// LimitListener wraps ln so that one remote IP holds at most perIP connections at once (0: no
// bound). A connection beyond that is answered at once and closed, never queued: with plain
// HTTP (answer503 set) it gets a 503 in the API's JSON error shape with Retry-After; under TLS
// (the wrapper sits below the handshake) it is just closed. Accept never blocks on the bound.
func LimitListener(ln net.Listener, perIP int, answer503 bool) net.Listener {
	if perIP <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, perIP: perIP, answer503: answer503, open: map[string]int{}}
}

type limitListener struct {
	net.Listener
	perIP     int
	answer503 bool

	mu   sync.Mutex
	open map[string]int // connections held, by remote IP
}

// refused is written to a connection over the per-IP bound.
var refused = func() []byte {
	body := `{"error":{"code":"unavailable","message":"Too many connections from your address; try again in a moment."}}` + "\n"
	return fmt.Appendf(nil, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"+
		"Retry-After: 5\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}()

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c.RemoteAddr())
		l.mu.Lock()
		over := l.open[ip] >= l.perIP
		if !over {
			l.open[ip]++
		}
		l.mu.Unlock()
		if !over {
			return &limitedConn{Conn: c, release: func() { l.release(ip) }}, nil
		}
		if l.answer503 {
			go func() { // a peer that does not read must not hold up Accept
				_ = c.SetWriteDeadline(time.Now().Add(time.Second))
				_, _ = c.Write(refused)
				_ = c.Close()
			}()
		} else {
			_ = c.Close()
		}
	}
}

func (l *limitListener) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
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

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
