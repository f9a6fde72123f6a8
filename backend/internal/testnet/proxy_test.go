package testnet

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// A cut proxy holds what is sent (on open connections and new ones) and delivers it, in order,
// once healed.
func TestProxyCutHoldsTrafficUntilHealed(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	p := NewProxy(t, echo.Addr().String())
	open := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	roundTrip := func(c net.Conn, r *bufio.Reader, line string, within time.Duration) (string, error) {
		if _, err := c.Write([]byte(line + "\n")); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(within))
		return r.ReadString('\n')
	}
	c1, r1 := open()
	if got, err := roundTrip(c1, r1, "before", 5*time.Second); err != nil || got != "before\n" {
		t.Fatalf("through the proxy: %q %v", got, err)
	}

	p.Cut()
	c2, r2 := open() // accepted, connected to nothing yet
	for _, c := range []struct {
		conn net.Conn
		r    *bufio.Reader
	}{{c1, r1}, {c2, r2}} {
		// What the window shows is that nothing came back in it; the heal below shows it was held.
		if got, err := roundTrip(c.conn, c.r, "during", 200*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("while cut, an answer came back: %q %v", got, err)
		}
	}

	p.Heal()
	for i, r := range []*bufio.Reader{r1, r2} {
		conn := []net.Conn{c1, c2}[i]
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if got, err := r.ReadString('\n'); err != nil || got != "during\n" {
			t.Fatalf("connection %d after the heal: %q %v, want the line held while cut", i+1, got, err)
		}
		if got, err := roundTrip(conn, r, "after", 5*time.Second); err != nil || got != "after\n" {
			t.Fatalf("connection %d after the heal: %q %v", i+1, got, err)
		}
	}
}
