package client_test

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/client"
	"github.com/herald-chat/herald/backend/teamserver/teamservertest"
)

// wait bounds every awaited condition; nothing in these tests should take nearly as long.
const wait = 10 * time.Second

// testServer is a real team server (bbolt in a temp dir, hub, API) on 127.0.0.1 that can be
// stopped and started again on the same data dir and port. A gate in front of it can refuse
// /api/stream with 503 while the rest of the API works, and it records the Last-Event-ID of every
// stream request it lets through.
type testServer struct {
	*teamservertest.Server
	keepalive time.Duration

	streamsOpen atomic.Bool
	streamReqs  chan string // Last-Event-ID of each admitted stream request
}

func newTestServer(tb testing.TB, keepalive time.Duration) *testServer {
	tb.Helper()
	s := &testServer{keepalive: keepalive, streamReqs: make(chan string, 100)}
	s.streamsOpen.Store(true)
	s.Server = teamservertest.Start(tb, teamservertest.WithKeepalive(keepalive), teamservertest.WithWrap(s.gate))
	return s
}

func (s *testServer) gate(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/stream" {
			if !s.streamsOpen.Load() {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, `{"error":{"code":"unavailable","message":"gate closed"}}`)
				return
			}
			select {
			case s.streamReqs <- r.Header.Get("Last-Event-ID"):
			default:
			}
		}
		api.ServeHTTP(w, r)
	})
}

func (s *testServer) client(tb testing.TB, token string) *client.Client {
	tb.Helper()
	c, err := client.New(s.URL, token)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// team is alice (admin) and bob (member) with a chat "general" of both, each with a client.
type team struct {
	anon, alice, bob *client.Client // anon has no token
	aliceID, bobID   string
	chat             string
	bobPassword      string
	// needsSetup is what GET /api/server said before anyone registered.
	needsSetup bool
}

func (s *testServer) team(tb testing.TB) *team {
	tb.Helper()
	ctx := context.Background()
	anon := s.client(tb, "")
	info, err := anon.Server(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if info.Keepalive() != s.keepalive {
		tb.Fatalf("server keepalive = %s, want %s", info.Keepalive(), s.keepalive)
	}
	t := &team{anon: anon, bobPassword: "password-bob", needsSetup: info.NeedsSetup}
	aliceToken, alice, err := anon.Register(ctx, "", "alice", "Alice", "password-alice")
	if err != nil {
		tb.Fatal(err)
	}
	t.alice, t.aliceID = anon.WithToken(aliceToken), alice.ID
	inv, err := t.alice.CreateInvite(ctx, 0)
	if err != nil {
		tb.Fatal(err)
	}
	bobToken, bob, err := anon.Register(ctx, inv.Code, "bob", "", t.bobPassword)
	if err != nil {
		tb.Fatal(err)
	}
	t.bob, t.bobID = anon.WithToken(bobToken), bob.ID
	chat, err := t.alice.CreateChat(ctx, "general", []string{bob.ID})
	if err != nil {
		tb.Fatal(err)
	}
	t.chat = chat.ID
	return t
}

// recorder collects what a Stream reports.
type recorder struct {
	events chan *backend.Event
	states chan client.State
	errs   chan error
}

func newRecorder() *recorder {
	return &recorder{events: make(chan *backend.Event, 1000), states: make(chan client.State, 100), errs: make(chan error, 1000)}
}

func (r *recorder) options(o client.StreamOptions) client.StreamOptions {
	o.OnEvent = func(ev *backend.Event) { r.events <- ev }
	o.OnState = func(st client.State) { r.states <- st }
	o.OnError = func(err error) {
		select {
		case r.errs <- err:
		default:
		}
	}
	return o
}

// expectStates awaits the next state reports and insists they are want, in order.
func (r *recorder) expectStates(tb testing.TB, want ...client.State) {
	tb.Helper()
	for i, w := range want {
		select {
		case got := <-r.states:
			if got != w {
				tb.Fatalf("state report %d = %s, want %s (sequence %v)", i, got, w, want)
			}
		case <-time.After(wait):
			tb.Fatalf("no state report %d (want %s of %v) within %s", i, w, want, wait)
		}
	}
}

// nextMessage returns the next NEW_MESSAGE event, skipping other types.
func (r *recorder) nextMessage(tb testing.TB) *backend.Event {
	tb.Helper()
	deadline := time.After(wait)
	for {
		select {
		case ev := <-r.events:
			if ev.Type == backend.EventNewMessage {
				return ev
			}
		case <-deadline:
			tb.Fatalf("no NEW_MESSAGE within %s", wait)
			return nil
		}
	}
}

// running is a Stream whose Run is in progress on another goroutine.
type running struct {
	done chan struct{}
	err  error // Run's result, once done is closed
}

// run starts s.Run in the background. The stream is stopped when the test ends.
func run(tb testing.TB, s *client.Stream) *running {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = s.Run(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(wait):
			tb.Error("Run did not return after its context was cancelled")
		}
	})
	return r
}

// result awaits Run's return.
func (r *running) result(tb testing.TB) error {
	tb.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(wait):
		tb.Fatalf("Run did not return within %s", wait)
		return nil
	}
}

// post posts content as c and returns the message's id.
func post(tb testing.TB, c *client.Client, chat, content string) string {
	tb.Helper()
	m, err := c.PostMessage(context.Background(), chat, content, "")
	if err != nil {
		tb.Fatal(err)
	}
	return m.ID
}

// nextStreamRequest returns the Last-Event-ID of the next stream request the gate admitted.
func (s *testServer) nextStreamRequest(tb testing.TB) string {
	tb.Helper()
	select {
	case id := <-s.streamReqs:
		return id
	case <-time.After(wait):
		tb.Fatalf("no stream request within %s", wait)
		return ""
	}
}
