package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

// BenchmarkStreamWrite measures what one stream spends per event it writes, the work a fan-out
// repeats for every subscriber: a sealed NEW_MESSAGE (a 200-byte message) written by the stream
// writer into a real net/http response (its buffers, chunking and flush) whose connection
// discards the bytes, so that the figure is the server's CPU and not loopback's. "batch1" is
// the fan-out's usual case, one event per wake-up and a flush each; "batch8" eight events per
// flush, as a busy stream or a replay gets them.
func BenchmarkStreamWrite(b *testing.B) {
	ev := &backend.Event{ID: "01JDQ7X3K9V2M4T8E6R5N0PZ1A", Type: backend.EventNewMessage, ChatID: "01JDQ7X3K9V2M4T8E6R5N0PZ1B",
		Message: &backend.Message{ID: "01JDQ7X3K9V2M4T8E6R5N0PZ1C", ChatID: "01JDQ7X3K9V2M4T8E6R5N0PZ1B",
			AuthorID: "01JDQ7X3K9V2M4T8E6R5N0PZ1D", Content: strings.Repeat("benchmark ", 20), CreatedAt: 1764201600000},
		Timestamp: 1764201600000}
	if err := ev.Seal(); err != nil {
		b.Fatal(err)
	}
	for _, batch := range []int{1, 8} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			evs := make([]*backend.Event, batch)
			for i := range evs {
				evs[i] = ev
			}
			done := make(chan error, 1)
			l := newDiscardListener()
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.WriteHeader(http.StatusOK)
				out := &streamWriter{w: w, rc: http.NewResponseController(w), timeout: time.Minute}
				if err := out.flush(); err != nil {
					done <- err
					return
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i += batch {
					out.arm()
					writeEvents(out, evs)
					if err := out.flush(); err != nil {
						done <- err
						return
					}
				}
				b.StopTimer()
				b.SetBytes(int64(out.take() / max(1, b.N)))
				done <- nil
			})}
			go func() { _ = srv.Serve(l) }()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			_ = srv.Close()
		})
	}
}

// writeEvents writes evs as the stream's pump does.
func writeEvents(out *streamWriter, evs []*backend.Event) {
	out.events(evs...)
}

// discardListener accepts one connection, which sends a GET and then discards what it is sent.
type discardListener struct {
	conn      chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
}

func newDiscardListener() *discardListener {
	l := &discardListener{conn: make(chan net.Conn, 1), closed: make(chan struct{})}
	l.conn <- &discardConn{req: []byte("GET /api/stream HTTP/1.1\r\nHost: bench\r\n\r\n"), closed: make(chan struct{})}
	return l
}

func (l *discardListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conn:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *discardListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *discardListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

type discardConn struct {
	req       []byte // the request, read once; then reads wait for Close
	closed    chan struct{}
	closeOnce sync.Once
}

func (c *discardConn) Read(p []byte) (int, error) {
	if len(c.req) > 0 {
		n := copy(p, c.req)
		c.req = c.req[n:]
		return n, nil
	}
	<-c.closed
	return 0, net.ErrClosed
}

func (c *discardConn) Write(p []byte) (int, error) { return len(p), nil }

func (c *discardConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}

func (c *discardConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (c *discardConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (c *discardConn) SetDeadline(time.Time) error      { return nil }
func (c *discardConn) SetReadDeadline(time.Time) error  { return nil }
func (c *discardConn) SetWriteDeadline(time.Time) error { return nil }
