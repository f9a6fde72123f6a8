package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/client"
)

// fastBackoff keeps reconnect waits short; it also caps the server's retry: (3–8 s) in tests.
var fastBackoff = client.Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond}

func TestStreamReceivesPostedMessages(t *testing.T) {
	srv := newTestServer(t, 300*time.Millisecond)
	tm := srv.team(t)
	rec := newRecorder()
	stream := tm.bob.NewStream(rec.options(client.StreamOptions{Backoff: fastBackoff}))
	run(t, stream)
	rec.expectStates(t, client.Connecting, client.Live)
	if id := srv.nextStreamRequest(t); id != "" {
		t.Errorf("first connection sent Last-Event-ID %q", id)
	}
	if stream.State() != client.Live {
		t.Errorf("State() = %s", stream.State())
	}

	id := post(t, tm.alice, tm.chat, "hello @bob")
	ev := rec.nextMessage(t)
	if ev.ID != id || ev.ChatID != tm.chat || ev.Message == nil || ev.Message.Content != "hello @bob" || ev.Message.AuthorID != tm.aliceID {
		t.Fatalf("event = %+v", ev)
	}
	if ev.Timestamp == 0 || len(ev.Data()) == 0 {
		t.Errorf("event not decoded like the server's: %+v", ev)
	}

	// Personal events arrive on the same stream.
	p := backend.DefaultPreferences()
	p.Volume = 0.25
	if _, err := tm.bob.PutPreferences(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(wait)
	for {
		select {
		case ev := <-rec.events:
			if ev.Type == "keepalive" {
				t.Fatal("a keepalive reached OnEvent")
			}
			if ev.Type != backend.EventPreferencesChanged {
				continue
			}
			if ev.Preferences == nil || ev.Preferences.Volume != 0.25 {
				t.Fatalf("PREFERENCES_CHANGED = %+v", ev)
			}
			if stream.LastEventID() != ev.ID || ev.ID == "" {
				t.Errorf("LastEventID() = %q, want the last event's %q", stream.LastEventID(), ev.ID)
			}
			return
		case <-deadline:
			t.Fatal("no PREFERENCES_CHANGED")
		}
	}
}

// The server goes away (graceful shutdown: streams are told to retry later and closed), messages
// are posted while the stream cannot connect, and the stream resumes: each missed message arrives
// exactly once, in order, then live ones again.
func TestStreamResumesAfterServerRestart(t *testing.T) {
	srv := newTestServer(t, 300*time.Millisecond)
	tm := srv.team(t)
	rec := newRecorder()
	stream := tm.bob.NewStream(rec.options(client.StreamOptions{Backoff: fastBackoff})) // keepalive from GET /api/server
	run(t, stream)
	rec.expectStates(t, client.Connecting, client.Live)
	srv.nextStreamRequest(t)

	m1 := post(t, tm.alice, tm.chat, "m1")
	if ev := rec.nextMessage(t); ev.ID != m1 {
		t.Fatalf("first message %s, want %s", ev.ID, m1)
	}

	srv.streamsOpen.Store(false) // after the restart the stream is refused (503) until reopened
	srv.Stop()
	rec.expectStates(t, client.Reconnecting)
	resumeFrom := stream.LastEventID()
	if resumeFrom < m1 {
		t.Fatalf("LastEventID() = %q, want at least m1 %q", resumeFrom, m1)
	}

	srv.Start()
	tm.alice.HTTP.CloseIdleConnections() // alice's pooled connections went with the old server
	var missed []string
	for i := 2; i <= 4; i++ {
		missed = append(missed, post(t, tm.alice, tm.chat, fmt.Sprintf("m%d", i)))
	}
	srv.streamsOpen.Store(true)
	rec.expectStates(t, client.Live)
	if got := srv.nextStreamRequest(t); got != resumeFrom {
		t.Errorf("resumed with Last-Event-ID %q, want %q", got, resumeFrom)
	}
	m5 := post(t, tm.alice, tm.chat, "m5")
	for i, want := range append(missed, m5) {
		if ev := rec.nextMessage(t); ev.ID != want {
			t.Fatalf("message %d after the restart: %s (%q), want %s", i, ev.ID, ev.Message.Content, want)
		}
	}
	select {
	case st := <-rec.states:
		t.Errorf("unexpected state report %s", st)
	default:
	}
}

func TestStreamResyncIsDelivered(t *testing.T) {
	srv := newTestServer(t, time.Second)
	tm := srv.team(t)
	const unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
	rec := newRecorder()
	stream := tm.bob.NewStream(rec.options(client.StreamOptions{LastEventID: unknown, Backoff: fastBackoff}))
	if stream.LastEventID() != unknown {
		t.Errorf("LastEventID() before Run = %q", stream.LastEventID())
	}
	run(t, stream)
	if got := srv.nextStreamRequest(t); got != unknown {
		t.Errorf("Last-Event-ID = %q, want %q", got, unknown)
	}
	deadline := time.After(wait)
	for {
		select {
		case ev := <-rec.events:
			if ev.Type == backend.EventNewMessage {
				t.Fatalf("a message before RESYNC: %+v", ev)
			}
			if ev.Type != backend.EventResync {
				continue
			}
			if ev.ID == "" || stream.LastEventID() != ev.ID {
				t.Errorf("RESYNC id %q, LastEventID() %q: want the log's newest id in both", ev.ID, stream.LastEventID())
			}
			return
		case <-deadline:
			t.Fatal("no RESYNC")
		}
	}
}

// A Kick ends a long backoff wait at once.
func TestKickEndsBackoffWait(t *testing.T) {
	srv := newTestServer(t, time.Second)
	tm := srv.team(t)
	srv.streamsOpen.Store(false)
	rec := newRecorder()
	stream := tm.bob.NewStream(rec.options(client.StreamOptions{
		Backoff: client.Backoff{Initial: time.Hour, Max: time.Hour}, Keepalive: time.Second}))
	client.SetJitter(stream, func(ceil time.Duration) time.Duration { return ceil })
	waits := make(chan time.Duration, 10)
	client.SetWaitHook(stream, func(d time.Duration) { waits <- d })
	run(t, stream)
	rec.expectStates(t, client.Connecting, client.Reconnecting)
	select {
	case err := <-rec.errs:
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
			t.Fatalf("attempt failed with %v, want the gate's 503", err)
		}
	case <-time.After(wait):
		t.Fatal("no error report")
	}
	select {
	case d := <-waits:
		if d != time.Hour {
			t.Fatalf("backoff wait %s, want 1h", d)
		}
	case <-time.After(wait):
		t.Fatal("no backoff wait")
	}

	srv.streamsOpen.Store(true)
	stream.Kick()
	rec.expectStates(t, client.Live)
}

// On wake from sleep the current connection may be dead: a Kick replaces a connection older than
// KickGrace, and the new one resumes where the old one stopped.
func TestKickReplacesSuspectConnection(t *testing.T) {
	srv := newTestServer(t, time.Second)
	tm := srv.team(t)
	rec := newRecorder()
	stream := tm.bob.NewStream(rec.options(client.StreamOptions{
		Backoff: client.Backoff{Initial: time.Hour, Max: time.Hour}, Keepalive: time.Second, KickGrace: time.Nanosecond}))
	run(t, stream)
	rec.expectStates(t, client.Connecting, client.Live)
	srv.nextStreamRequest(t)
	m1 := post(t, tm.alice, tm.chat, "m1")
	if ev := rec.nextMessage(t); ev.ID != m1 {
		t.Fatalf("got %s, want %s", ev.ID, m1)
	}

	stream.Kick()
	rec.expectStates(t, client.Reconnecting, client.Live) // no backoff wait: it is an hour
	// Events about m1 (bob's notification of it) may follow m1, so the resume id is m1's or later.
	if got := srv.nextStreamRequest(t); got < m1 {
		t.Errorf("reconnected with Last-Event-ID %q, want m1 %q or later", got, m1)
	}
	m2 := post(t, tm.alice, tm.chat, "m2")
	if ev := rec.nextMessage(t); ev.ID != m2 {
		t.Fatalf("after the kick got %s (%q), want m2 %s", ev.ID, ev.Message.Content, m2)
	}
}

// A connection made after the event that caused the Kick (younger than KickGrace) is kept.
func TestKickKeepsFreshConnection(t *testing.T) {
	srv := newTestServer(t, time.Second)
	tm := srv.team(t)
	rec := newRecorder()
	stream := tm.bob.NewStream(rec.options(client.StreamOptions{Backoff: fastBackoff, Keepalive: time.Second, KickGrace: time.Hour}))
	run(t, stream)
	rec.expectStates(t, client.Connecting, client.Live)
	srv.nextStreamRequest(t)

	stream.Kick()
	m1 := post(t, tm.alice, tm.chat, "m1")
	if ev := rec.nextMessage(t); ev.ID != m1 {
		t.Fatalf("got %s, want %s", ev.ID, m1)
	}
	// Had the kick dropped the connection, m1 would have come over a second stream request, made
	// before m1 was delivered.
	if n := len(srv.streamReqs); n != 0 {
		t.Errorf("%d more stream requests after the kick, want none", n)
	}
	if n := len(rec.states); n != 0 {
		t.Errorf("%d state reports after the kick, want none", n)
	}
}

func TestStreamStopsWhenUnauthorized(t *testing.T) {
	srv := newTestServer(t, 300*time.Millisecond)
	tm := srv.team(t)
	ctx := context.Background()

	// A token that is already logged out: Run stops at the first answer.
	token, _, err := tm.anon.SignIn(ctx, "bob", tm.bobPassword)
	if err != nil {
		t.Fatal(err)
	}
	gone := tm.anon.WithToken(token)
	if err := gone.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	r := run(t, gone.NewStream(rec.options(client.StreamOptions{Backoff: fastBackoff})))
	if err := r.result(t); !client.IsUnauthorized(err) {
		t.Fatalf("Run = %v, want 401", err)
	}
	rec.expectStates(t, client.Connecting)

	// A live stream whose session is logged out: the server ends it within a keepalive and the
	// reconnect gets 401.
	rec = newRecorder()
	r = run(t, tm.bob.NewStream(rec.options(client.StreamOptions{Backoff: fastBackoff})))
	rec.expectStates(t, client.Connecting, client.Live)
	if err := tm.bob.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.result(t); !client.IsUnauthorized(err) {
		t.Fatalf("Run = %v, want 401", err)
	}
	rec.expectStates(t, client.Reconnecting)
}

// A connection that stays silent for two keepalive intervals is replaced.
func TestStreamReplacesSilentConnection(t *testing.T) {
	var requests atomic.Int32
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "retry: 10\n: connected\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done() // then silence
	}))
	t.Cleanup(fake.Close)
	c, err := client.New(fake.URL, "tok")
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	run(t, c.NewStream(rec.options(client.StreamOptions{Backoff: fastBackoff, Keepalive: 50 * time.Millisecond})))
	rec.expectStates(t, client.Connecting, client.Live, client.Reconnecting, client.Live)
	if n := requests.Load(); n < 2 {
		t.Errorf("%d requests, want a second after the silence", n)
	}
	select {
	case err := <-rec.errs:
		if !strings.Contains(err.Error(), "silent") {
			t.Errorf("reported %v, want the silence", err)
		}
	default:
		t.Error("no error reported for the silent connection")
	}
}

// Keepalives (comment and named event) keep a connection alive past the silence limit and never
// reach OnEvent; the server's retry: is the least backoff delay.
func TestKeepalivesKeepConnectionAndRetryIsHonoured(t *testing.T) {
	var requests atomic.Int32
	const keepalives = 40
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		_, _ = io.WriteString(w, "retry: 60000\n: connected\n\n")
		w.(http.Flusher).Flush()
		if n > 1 {
			<-r.Context().Done()
			return
		}
		tick := time.NewTicker(10 * time.Millisecond) // the client allows 200 ms of silence
		defer tick.Stop()
		for range keepalives {
			select {
			case <-tick.C:
			case <-r.Context().Done():
				return
			}
			_, _ = io.WriteString(w, ": keepalive\nevent: keepalive\ndata: {\"timestamp\":1}\n\n")
			w.(http.Flusher).Flush()
		}
		_, _ = io.WriteString(w, "id: 01ARZ3NDEKTSV4RRFFQ69G5FAV\ndata: {\"id\":\"01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":\"NEW_MESSAGE\",\"chatId\":\"c\",\"timestamp\":2}\n\n")
		_, _ = io.WriteString(w, "event: other\ndata: {\"type\":\"NEW_MESSAGE\"}\n\n") // not the default event: ignored
		// and the server ends the stream
	}))
	t.Cleanup(fake.Close)
	c, err := client.New(fake.URL, "tok")
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	stream := c.NewStream(rec.options(client.StreamOptions{
		Backoff: client.Backoff{Initial: time.Millisecond, Max: time.Hour}, Keepalive: 100 * time.Millisecond}))
	client.SetJitter(stream, func(time.Duration) time.Duration { return 0 })
	waits := make(chan time.Duration, 10)
	client.SetWaitHook(stream, func(d time.Duration) { waits <- d })
	run(t, stream)
	rec.expectStates(t, client.Connecting, client.Live)
	ev := rec.nextMessage(t)
	if ev.ID != "01ARZ3NDEKTSV4RRFFQ69G5FAV" || ev.ChatID != "c" {
		t.Fatalf("event = %+v", ev)
	}
	if n := requests.Load(); n != 1 {
		t.Fatalf("%d requests while keepalives flowed, want 1", n)
	}
	rec.expectStates(t, client.Reconnecting)
	select {
	case d := <-waits:
		if d != time.Minute {
			t.Errorf("backoff wait %s, want the server's retry: 60000 ms", d)
		}
	case <-time.After(wait):
		t.Fatal("no backoff wait")
	}
	select {
	case ev := <-rec.events:
		t.Errorf("unexpected event %+v", ev)
	default:
	}
	if err := <-rec.errs; !errors.Is(err, client.ErrStreamEnded) {
		t.Errorf("reported %v, want ErrStreamEnded", err)
	}
	stream.Kick() // the wait is a minute: a kick ends it
	rec.expectStates(t, client.Live)
	if got := stream.LastEventID(); got != "01ARZ3NDEKTSV4RRFFQ69G5FAV" {
		t.Errorf("LastEventID() = %q", got)
	}
}

func TestBackoffDelays(t *testing.T) {
	c, err := client.New("http://127.0.0.1:1", "")
	if err != nil {
		t.Fatal(err)
	}
	s := c.NewStream(client.StreamOptions{Backoff: client.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}})
	client.SetJitter(s, func(ceil time.Duration) time.Duration { return ceil })
	for n, want := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		if got := s.Delay(n, 0); got != want*time.Millisecond {
			t.Errorf("Delay(%d) = %s, want %s", n, got, want*time.Millisecond)
		}
	}
	if got := s.Delay(1000, 0); got != time.Second {
		t.Errorf("Delay(1000) = %s, want the cap", got)
	}
	client.SetJitter(s, func(time.Duration) time.Duration { return 0 })
	if got := s.Delay(0, 0); got != 0 {
		t.Errorf("full jitter may draw 0, got %s", got)
	}
	client.SetServerRetry(s, 300*time.Millisecond)
	if got := s.Delay(0, 0); got != 300*time.Millisecond {
		t.Errorf("with retry: 300 the delay is %s, want 300ms", got)
	}
	if got := s.Delay(0, 700*time.Millisecond); got != 700*time.Millisecond {
		t.Errorf("with Retry-After 700ms the delay is %s", got)
	}
	client.SetServerRetry(s, time.Hour)
	if got := s.Delay(0, 0); got != time.Second {
		t.Errorf("a retry: beyond Max gives %s, want Max", got)
	}

	// The real jitter stays within [0, ceil].
	r := c.NewStream(client.StreamOptions{Backoff: client.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}})
	for range 1000 {
		if d := r.Delay(2, 0); d < 0 || d > 400*time.Millisecond {
			t.Fatalf("jittered delay %s outside [0, 400ms]", d)
		}
	}
}

func TestStateStrings(t *testing.T) {
	for st, want := range map[client.State]string{client.Connecting: "Connecting", client.Live: "Live",
		client.Reconnecting: "Reconnecting", client.State(9): "State(9)"} {
		if st.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(st), st.String(), want)
		}
	}
}

func TestRunTwiceIsRefused(t *testing.T) {
	srv := newTestServer(t, time.Second)
	tm := srv.team(t)
	rec := newRecorder()
	stream := tm.bob.NewStream(rec.options(client.StreamOptions{Backoff: fastBackoff}))
	run(t, stream)
	rec.expectStates(t, client.Connecting, client.Live)
	if err := stream.Run(context.Background()); !errors.Is(err, client.ErrAlreadyRunning) {
		t.Fatalf("second Run = %v", err)
	}
}
