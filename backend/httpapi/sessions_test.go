package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/httpapi"
	"github.com/herald-chat/herald/backend/hub"
)

// sessionEnd is how a stream ended: its last event and how long after start it closed.
type sessionEnd struct {
	last  event
	after time.Duration
	// later counts NEW_MESSAGE frames after SESSION_ENDED (there must be none).
	later int
}

// awaitSessionEnd reads sc until it ends, at most timeout, and reports how it ended.
func awaitSessionEnd(tb testing.TB, sc *streamClient, start time.Time, timeout time.Duration) sessionEnd {
	tb.Helper()
	var end sessionEnd
	ended := false
	for _, f := range sc.waitEnd(tb, timeout) {
		if f.IsComment || f.Event == "keepalive" || f.Data == "" {
			continue
		}
		var ev event
		if err := json.Unmarshal([]byte(f.Data), &ev); err != nil {
			tb.Fatalf("frame data is not JSON: %q", f.Data)
		}
		ev.Frame = f
		if ended && ev.Type == "NEW_MESSAGE" {
			end.later++
		}
		if ev.Type == "SESSION_ENDED" {
			ended = true
		}
		end.last = ev
	}
	end.after = time.Since(start)
	return end
}

// reason is the SESSION_ENDED frame's reason.
func (e event) reason() string {
	var v struct{ Reason string }
	_ = json.Unmarshal([]byte(e.Data()), &v)
	return v.Reason
}

// busy posts into chat as by every 5 ms until stop is closed, so that streams never sit idle;
// that is faster than the per-user message limit allows, so servers it runs on have it off.
func (ts *testServer) busy(tb testing.TB, by account, chat string) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			r := ts.do(tb, request{method: "POST", path: "/api/chats/" + chat + "/messages", token: by.Token,
				body: map[string]string{"content": fmt.Sprint("busy ", i)}})
			if r.Status != http.StatusCreated {
				tb.Errorf("busy post: %d %s", r.Status, r.Raw)
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// A busy stream — every event used to reset the wait after which the session was re-checked —
// ends within a second of its session's logout, with SESSION_ENDED as its last frame; the user
// stream and the chat stream alike, and another session of the same user goes on.
func TestLogoutEndsBusyStreamsAtOnce(t *testing.T) {
	ts := newTestServer(t, serverOptions{noUserLimits: true}) // the default 30 s keepalive: nothing is polled
	tm := ts.team(t)
	token := ts.must(t, 200, request{method: "POST", path: "/api/auth/login",
		body: map[string]string{"username": "bob", "password": "password-bob"}}).str("token")
	user := ts.openStream(t, "/api/stream", token, "")
	chat := ts.openStream(t, "/api/chat/"+tm.chat+"/stream", token, "")
	other := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	stop := ts.busy(t, tm.alice, tm.chat)
	defer stop()
	user.nextOfType(t, "NEW_MESSAGE", wait)
	chat.nextOfType(t, "NEW_MESSAGE", wait)

	start := time.Now()
	ts.must(t, 204, request{method: "POST", path: "/api/auth/logout", token: token})
	for name, sc := range map[string]*streamClient{"user stream": user, "chat stream": chat} {
		end := awaitSessionEnd(t, sc, start, 5*time.Second)
		t.Logf("%s ended %s after the logout", name, end.after)
		if end.after > time.Second {
			t.Errorf("%s ended %s after the logout, want within 1 s", name, end.after)
		}
		if end.last.Type != "SESSION_ENDED" || end.last.reason() != "signed_out" || end.later != 0 {
			t.Errorf("%s: last event %s %q, %d messages after it", name, end.last.Type, end.last.reason(), end.later)
		}
	}
	other.nextOfType(t, "NEW_MESSAGE", wait) // bob's other session is untouched
	ts.must(t, 401, request{method: "GET", path: "/api/stream", token: token})
}

// A stream ends when its session expires, though it is busy and keepalives are 30 s apart.
func TestStreamEndsWhenItsSessionExpires(t *testing.T) {
	ts := newTestServer(t, serverOptions{sessionTTL: 700 * time.Millisecond, noUserLimits: true})
	// Only dave's session is short: alice's comes from the store, so a slow machine (argon2 under
	// -race) cannot expire it while the scene is set up.
	alice := ts.register(t, "alice", "")
	poster := account{ID: alice.ID, Token: "a long session of alice's"}
	now := time.Now()
	if err := ts.Store.CreateSession(context.Background(), poster.Token, backend.Session{UserID: poster.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	chat := ts.createChat(t, poster, "general")
	stop := ts.busy(t, poster, chat)
	defer stop()
	dave := ts.register(t, "dave", ts.invite(t, poster))
	start := time.Now() // dave's 700 ms began as his registration was answered, just before
	ts.must(t, 200, request{method: "POST", path: "/api/chats/" + chat + "/members", token: poster.Token, body: map[string]string{"userId": dave.ID}})
	sc := ts.openStream(t, "/api/stream", dave.Token, "")
	sc.nextOfType(t, "NEW_MESSAGE", wait)
	end := awaitSessionEnd(t, sc, start, 5*time.Second)
	if end.last.Type != "SESSION_ENDED" || end.last.reason() != "expired" {
		t.Fatalf("last event %s %q", end.last.Type, end.last.reason())
	}
	if end.after < 450*time.Millisecond || end.after > 1700*time.Millisecond { // start trails the session by a response
		t.Fatalf("the stream of a 700 ms session ended after %s", end.after)
	}
}

// Changing the password needs the current one, ends every other session of the user with its
// streams (SESSION_ENDED password_changed), keeps this one, and only the new password signs in.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	login := func(password string) response {
		return ts.do(t, request{method: "POST", path: "/api/auth/login", body: map[string]string{"username": "bob", "password": password}})
	}
	second := login("password-bob").str("token")
	kept := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	ended := ts.openStream(t, "/api/stream", second, "")
	kept.next(t, wait)
	ended.next(t, wait)
	change := func(token, current, next string) response {
		return ts.do(t, request{method: "POST", path: "/api/me/password", token: token,
			body: map[string]string{"currentPassword": current, "newPassword": next}})
	}
	if r := change(tm.bob.Token, "wrong-password", "new-password-1"); r.Status != 403 || r.errorCode() != "forbidden" {
		t.Fatalf("wrong current password: %d %s", r.Status, r.Raw)
	}
	if r := change(tm.bob.Token, "password-bob", "short"); r.Status != 400 {
		t.Fatalf("too short a new password: %d %s", r.Status, r.Raw)
	}
	start := time.Now()
	ts.must(t, 204, request{method: "POST", path: "/api/me/password", token: tm.bob.Token,
		body: map[string]string{"currentPassword": "password-bob", "newPassword": "new-password-1"}})
	end := awaitSessionEnd(t, ended, start, 5*time.Second)
	if end.last.Type != "SESSION_ENDED" || end.last.reason() != "password_changed" || end.after > time.Second {
		t.Fatalf("the other session's stream: last %s %q after %s", end.last.Type, end.last.reason(), end.after)
	}
	ts.must(t, 401, request{method: "GET", path: "/api/me", token: second})
	ts.must(t, 200, request{method: "GET", path: "/api/me", token: tm.bob.Token})
	ts.post(t, tm.alice, tm.chat, "after the change")
	if ev := kept.nextOfType(t, "NEW_MESSAGE", wait); ev.Message.Content != "after the change" {
		t.Fatalf("the kept session's stream: %+v", ev)
	}
	if r := login("password-bob"); r.Status != 401 {
		t.Fatalf("the old password still signs in: %d", r.Status)
	}
	if r := login("new-password-1"); r.Status != 200 {
		t.Fatalf("the new password: %d %s", r.Status, r.Raw)
	}
}

// One user holds at most the configured number of streams, of every kind together; beyond it
// the answer is 429 with Retry-After, and closing one makes room. Other users are not affected.
func TestStreamsPerUserAreCapped(t *testing.T) {
	const max = 5
	ts := newTestServer(t, serverOptions{hubOpts: []hub.Option{hub.WithMaxStreamsPerUser(max)}})
	tm := ts.team(t)
	var open []*streamClient
	for i := range max {
		path := "/api/stream"
		if i%2 == 1 {
			path = "/api/chat/" + tm.chat + "/stream"
		}
		sc := ts.openStream(t, path, tm.bob.Token, "")
		if sc.Status != 200 {
			t.Fatalf("stream %d: %d", i+1, sc.Status)
		}
		open = append(open, sc)
	}
	r := ts.do(t, request{method: "GET", path: "/api/notifications/" + tm.bob.ID + "/stream", token: tm.bob.Token})
	if r.Status != 429 || r.errorCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("stream %d: %d %v %s", max+1, r.Status, r.Header, r.Raw)
	}
	if sc := ts.openStream(t, "/api/stream", tm.alice.Token, ""); sc.Status != 200 {
		t.Fatalf("another user's stream: %d", sc.Status)
	}
	open[0].close()
	waitFor(t, "a closed stream to make room", func() bool { return ts.Hub.Stats().Subscribers == max })
	if sc := ts.openStream(t, "/api/stream", tm.bob.Token, ""); sc.Status != 200 {
		t.Fatalf("after closing one: %d", sc.Status)
	}
}

// Admins list bots with their tokens, rotate a token (the old one stops working and its streams
// end at once) and revoke them all; nobody else may.
func TestBotTokensRotateAndRevoke(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	created := ts.must(t, 201, request{method: "POST", path: "/api/bots", token: tm.alice.Token, body: map[string]string{"name": "Build Bot"}})
	botID, first := created.str("bot", "id"), created.str("token")
	tokens := func() []any {
		r := ts.must(t, 200, request{method: "GET", path: "/api/bots", token: tm.alice.Token})
		bots, _ := r.Body["bots"].([]any)
		if len(bots) != 1 {
			t.Fatalf("bots: %s", r.Raw)
		}
		list, _ := bots[0].(map[string]any)["tokens"].([]any)
		return list
	}
	if n := len(tokens()); n != 1 {
		t.Fatalf("%d tokens listed, want 1", n)
	}
	for _, rq := range []request{
		{method: "GET", path: "/api/bots", token: tm.bob.Token},
		{method: "POST", path: "/api/bots/" + botID + "/token", token: tm.bob.Token},
		{method: "DELETE", path: "/api/bots/" + botID + "/token", token: tm.bob.Token},
		{method: "DELETE", path: "/api/bots/" + botID + "/token", token: first}, // a bot is no admin
	} {
		if r := ts.do(t, rq); r.Status != 403 {
			t.Fatalf("%s %s by a non-admin: %d", rq.method, rq.path, r.Status)
		}
	}
	ts.must(t, 404, request{method: "POST", path: "/api/bots/" + tm.bob.ID + "/token", token: tm.alice.Token})
	ts.must(t, 400, request{method: "POST", path: "/api/bots/nope/token", token: tm.alice.Token})

	stream := ts.openStream(t, "/api/stream", first, "")
	stream.next(t, wait)
	start := time.Now()
	rotated := ts.must(t, 201, request{method: "POST", path: "/api/bots/" + botID + "/token", token: tm.alice.Token})
	second := rotated.str("token")
	end := awaitSessionEnd(t, stream, start, 5*time.Second)
	if end.last.Type != "SESSION_ENDED" || end.last.reason() != "revoked" || end.after > time.Second {
		t.Fatalf("the old token's stream: last %s %q after %s", end.last.Type, end.last.reason(), end.after)
	}
	ts.must(t, 401, request{method: "GET", path: "/api/me", token: first})
	ts.must(t, 200, request{method: "GET", path: "/api/me", token: second})
	if n := len(tokens()); n != 1 {
		t.Fatalf("%d tokens after rotating, want 1", n)
	}

	stream = ts.openStream(t, "/api/stream", second, "")
	stream.next(t, wait)
	ts.must(t, 200, request{method: "DELETE", path: "/api/bots/" + botID + "/token", token: tm.alice.Token})
	if end := awaitSessionEnd(t, stream, time.Now(), 5*time.Second); end.last.reason() != "revoked" {
		t.Fatalf("after revoking: last %s %q", end.last.Type, end.last.reason())
	}
	ts.must(t, 401, request{method: "GET", path: "/api/me", token: second})
	if n := len(tokens()); n != 0 {
		t.Fatalf("%d tokens after revoking, want 0", n)
	}
}

// A stream over HTTP/2 is never touched once its handler has returned, however it ended (the
// client went away, or the broker ended it on logout): a late callback that interrupts blocked
// writes is turned away. A watcher goroutine once could call SetWriteDeadline on the finished response, which
// panics in net/http's HTTP/2 server: the race detector saw it in the desktop tests, then a nil
// pointer dereference took the server down.
func TestStreamsEndingOverHTTP2LeaveNothingBehind(t *testing.T) {
	// Interrupts start late: by then the stream's end and the broker's Done are both ready.
	httpapi.SetStreamInterruptHook(func() { time.Sleep(20 * time.Millisecond) })
	t.Cleanup(func() { httpapi.SetStreamInterruptHook(nil) })
	ts := newTestServer(t, serverOptions{tls: true, noUserLimits: true})
	tm := ts.team(t)
	for i := range 30 {
		token := fmt.Sprintf("one of bob's sessions, number %d", i)
		now := time.Now()
		if err := ts.Store.CreateSession(context.Background(), token, backend.Session{UserID: tm.bob.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		streams := make([]*streamClient, 6)
		for j := range streams {
			streams[j] = ts.openStream(t, "/api/stream", token, "")
		}
		waitFor(t, "the streams to open", func() bool { return ts.Hub.Stats().Subscribers == int64(len(streams)) })
		// Half go away from the client's side, the rest end with the session.
		for _, sc := range streams[:3] {
			sc.close()
		}
		start := time.Now()
		ts.must(t, 204, request{method: "POST", path: "/api/auth/logout", token: token})
		for _, sc := range streams[3:] {
			if end := awaitSessionEnd(t, sc, start, 5*time.Second); end.last.Type != "SESSION_ENDED" {
				t.Fatalf("round %d: last event %s, want SESSION_ENDED", i, end.last.Type)
			}
			sc.close()
		}
		waitFor(t, "every stream's handler to return", func() bool { return ts.Hub.Stats().Subscribers == 0 })
	}
}
