package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

const wait = 5 * time.Second

func TestStreamHeadersAndDelivery(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	bob := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	if bob.Status != 200 {
		t.Fatalf("status %d", bob.Status)
	}
	for k, want := range map[string]string{"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := bob.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	first, _ := bob.next(t, wait)
	if !first.IsComment || first.Retry != 0 && first.Retry < 3000 {
		t.Fatalf("first frame %+v, want the connect comment", first)
	}

	id := ts.post(t, tm.alice, tm.chat, "hello bob")
	ev := bob.nextOfType(t, "NEW_MESSAGE", wait)
	if ev.Frame.ID != id || ev.ID != id || ev.ChatID != tm.chat || ev.Message == nil ||
		ev.Message.Content != "hello bob" || ev.Message.AuthorID != tm.alice.ID || ev.Timestamp == 0 {
		t.Fatalf("event %+v (message %+v), want message %s", ev, ev.Message, id)
	}
	if ev.Frame.Retry < 3000 || ev.Frame.Retry > 4500 {
		t.Fatalf("retry %d ms, want the configured 3 s plus jitter", ev.Frame.Retry)
	}

	// Membership changes reach the new member's stream as CHAT_UPDATED.
	carolStream := ts.openStream(t, "/api/stream", tm.carol.Token, "")
	ts.must(t, 200, request{method: "POST", path: "/api/chats/" + tm.chat + "/members", token: tm.bob.Token, body: map[string]string{"userId": tm.carol.ID}})
	up := carolStream.nextOfType(t, "CHAT_UPDATED", wait)
	if up.Chat == nil || up.Chat.ID != tm.chat || len(up.Chat.MemberIDs) != 3 || up.Frame.ID == "" {
		t.Fatalf("CHAT_UPDATED %+v", up)
	}
	ts.post(t, tm.alice, tm.chat, "welcome carol")
	if ev := carolStream.nextOfType(t, "NEW_MESSAGE", wait); ev.Message.Content != "welcome carol" {
		t.Fatalf("carol got %+v", ev.Message)
	}
}

func TestStreamIDsIncreaseAcrossChats(t *testing.T) {
	// 80 concurrent posts by one user test the ordering, not a person: per-user limits off.
	ts := newTestServer(t, serverOptions{noUserLimits: true})
	tm := ts.team(t)
	other := ts.createChat(t, tm.bob, "random", tm.alice.ID)
	alice := ts.openStream(t, "/api/stream", tm.alice.Token, "")
	const n = 40
	errs := make(chan error, 2)
	for _, chat := range []string{tm.chat, other} {
		go func() {
			for i := range n {
				r := ts.do(t, request{method: "POST", path: "/api/chats/" + chat + "/messages", token: tm.bob.Token, body: map[string]string{"content": fmt.Sprint(i)}})
				if r.Status != 201 {
					errs <- fmt.Errorf("post: %d %s", r.Status, r.Raw)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	last := ""
	for range 2 * n {
		ev := alice.nextOfType(t, "NEW_MESSAGE", wait)
		if ev.Frame.ID <= last {
			t.Fatalf("id %s after %s: ids must strictly increase on a stream", ev.Frame.ID, last)
		}
		last = ev.Frame.ID
	}
}

func TestStreamAuthorization(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	cases := []struct {
		name, path, token string
		status            int
	}{
		{"user stream without auth", "/api/stream", "", 401},
		{"user stream bad token", "/api/stream", "nope", 401},
		{"chat stream of a member", "/api/chat/" + tm.chat + "/stream", tm.bob.Token, 200},
		{"chat stream of a non-member", "/api/chat/" + tm.chat + "/stream", tm.carol.Token, 403},
		{"chat stream without auth", "/api/chat/" + tm.chat + "/stream", "", 401},
		{"chat stream of an unknown chat", "/api/chat/" + unknownID + "/stream", tm.bob.Token, 404},
		{"own notifications", "/api/notifications/" + tm.bob.ID + "/stream", tm.bob.Token, 200},
		{"another user's notifications", "/api/notifications/" + tm.alice.ID + "/stream", tm.bob.Token, 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if sc := ts.openStream(t, tc.path, tc.token, ""); sc.Status != tc.status {
				t.Fatalf("status %d, want %d", sc.Status, tc.status)
			}
		})
	}
}

func TestChatStreamCarriesOnlyItsChat(t *testing.T) {
	ts := newTestServer(t, serverOptions{keepalive: 50 * time.Millisecond})
	tm := ts.team(t)
	other := ts.createChat(t, tm.alice, "other", tm.bob.ID)
	chatStream := ts.openStream(t, "/api/chat/"+tm.chat+"/stream", tm.bob.Token, "")
	notes := ts.openStream(t, "/api/notifications/"+tm.bob.ID+"/stream", tm.bob.Token, "")
	ts.post(t, tm.alice, other, "elsewhere")
	ts.post(t, tm.alice, tm.chat, "here")
	if ev := chatStream.nextOfType(t, "NEW_MESSAGE", wait); ev.Message.Content != "here" {
		t.Fatalf("chat stream carried %q from another chat", ev.Message.Content)
	}
	// The notification stream carries personal events only: bob's NOTIFICATION for each post,
	// never the NEW_MESSAGE itself. Both posts were fanned out before they were answered, so by
	// the second keepalive after them anything they put on the stream would have shown.
	notified := 0
	for keepalives := 0; keepalives < 3; {
		f, _ := notes.next(t, wait)
		if !f.IsComment && f.Event != "keepalive" {
			var ev event
			if err := json.Unmarshal([]byte(f.Data), &ev); err != nil || ev.Type != "NOTIFICATION" ||
				ev.Notification == nil || ev.Notification.Type != backend.KindMessage {
				t.Fatalf("notification stream carried %q", f.Data)
			}
			notified++
		}
		if f.Comment == "keepalive" {
			keepalives++
		}
	}
	if notified != 2 {
		t.Fatalf("notification stream carried %d NOTIFICATION events, want 2", notified)
	}
}

func TestTypingIsEphemeralAndNotEchoed(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	bob := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	alice := ts.openStream(t, "/api/stream", tm.alice.Token, "")
	aliceChat := ts.openStream(t, "/api/chat/"+tm.chat+"/stream", tm.alice.Token, "")
	ts.must(t, 204, request{method: "POST", path: "/api/chats/" + tm.chat + "/typing", token: tm.alice.Token})
	ev := bob.nextEventExcept(t, wait, "AGENT_STATUS_CHANGED")
	if ev.Type != "TYPING" || ev.Frame.HasID || ev.UserID != tm.alice.ID || ev.ChatID != tm.chat {
		t.Fatalf("bob got %+v, want TYPING without id from alice", ev)
	}
	// The typer's own streams skip it: the next event they see is the message after it.
	ts.post(t, tm.bob, tm.chat, "fence")
	for _, sc := range []*streamClient{alice, aliceChat} {
		if ev := sc.nextEventExcept(t, wait, "AGENT_STATUS_CHANGED"); ev.Type != "NEW_MESSAGE" {
			t.Fatalf("typer's stream got %s before the fence message", ev.Type)
		}
	}
	ts.must(t, 403, request{method: "POST", path: "/api/chats/" + tm.chat + "/typing", token: tm.carol.Token})
}

func TestTypingIsRateLimitedPerUser(t *testing.T) {
	frozen := time.Now()
	ts := newTestServer(t, serverOptions{clock: func() time.Time { return frozen }})
	tm := ts.team(t)
	path := "/api/chats/" + tm.chat + "/typing"
	for range 5 {
		ts.must(t, 204, request{method: "POST", path: path, token: tm.alice.Token})
	}
	r := ts.must(t, 429, request{method: "POST", path: path, token: tm.alice.Token})
	if r.errorCode() != "rate_limited" || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("%s Retry-After=%q", r.Raw, r.Header.Get("Retry-After"))
	}
	ts.must(t, 204, request{method: "POST", path: path, token: tm.bob.Token}) // per user
}

func TestResume(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	var ids []string
	for i := range 10 {
		ids = append(ids, ts.post(t, tm.alice, tm.chat, fmt.Sprintf("m%d", i)))
	}
	contents := func(sc *streamClient, n int) []string {
		var got []string
		for range n {
			got = append(got, sc.nextOfType(t, "NEW_MESSAGE", wait).Message.Content)
		}
		return got
	}
	byHeader := ts.openStream(t, "/api/stream", tm.bob.Token, ids[6])
	if got := fmt.Sprint(contents(byHeader, 3)); got != "[m7 m8 m9]" {
		t.Fatalf("resume by header: %s", got)
	}
	byQuery := ts.openStream(t, "/api/stream?lastEventId="+ids[8], tm.bob.Token, "")
	if got := fmt.Sprint(contents(byQuery, 1)); got != "[m9]" {
		t.Fatalf("resume by query: %s", got)
	}
	// Live events follow the replay on both.
	ts.post(t, tm.alice, tm.chat, "live")
	for _, sc := range []*streamClient{byHeader, byQuery} {
		if got := contents(sc, 1); got[0] != "live" {
			t.Fatalf("after replay: %v", got)
		}
	}
	// An id the log does not hold: RESYNC, carrying the newest id so the next resume works.
	for _, unknown := range []string{unknownID, "garbage", strings.ToLower(unknownID), strings.Repeat("7", 4096)} {
		sc := ts.openStream(t, "/api/stream", tm.bob.Token, unknown)
		ev := sc.nextEvent(t, wait)
		last, _ := ts.Store.LastEventID(context.Background())
		if ev.Type != "RESYNC" || ev.Frame.ID != last {
			t.Fatalf("resume from %q: %+v, want RESYNC with id %s", unknown, ev, last)
		}
	}
}

func TestKeepalive(t *testing.T) {
	ts := newTestServer(t, serverOptions{keepalive: 50 * time.Millisecond})
	tm := ts.team(t)
	sc := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	// Each keepalive is a comment (for proxies and plain readers) followed by a named
	// "keepalive" event without id, which EventSource shows to pages (comments it hides) and
	// which onmessage handlers never see.
	var got []string
	presenceID := ""
	for len(got) < 7 {
		f, ok := sc.next(t, wait)
		if !ok {
			t.Fatal("stream ended")
		}
		switch {
		case f.IsComment:
			got = append(got, ":"+f.Comment)
		case f.Event == "keepalive" && !f.HasID && strings.HasPrefix(f.Data, `{"timestamp":`):
			got = append(got, "event")
		case strings.Contains(f.Data, `"type":"AGENT_STATUS_CHANGED"`): // bob's own presence
			presenceID = f.ID
		default:
			t.Fatalf("unexpected frame %+v", f)
		}
	}
	if fmt.Sprint(got) != "[:connected :keepalive event :keepalive event :keepalive event]" {
		t.Fatalf("frames %v", got)
	}
	if sc.reader.LastEventID() != presenceID {
		t.Fatalf("keepalives moved the last event id to %q", sc.reader.LastEventID())
	}
}

func TestShutdownTellsStreamsToComeBackStaggered(t *testing.T) {
	ts := newTestServer(t, serverOptions{retry: time.Second})
	tm := ts.team(t)
	var streams []*streamClient
	for range 5 {
		sc := ts.openStream(t, "/api/stream", tm.bob.Token, "")
		sc.next(t, wait) // connected
		streams = append(streams, sc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := ts.API.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	retries := map[int]bool{}
	for _, sc := range streams {
		sc.waitEnd(t, wait)
		r := sc.reader.Retry()
		if r < 1000 || r > 6000 {
			t.Fatalf("retry %d ms on shutdown, want within [1000, 6000]", r)
		}
		retries[r] = true
	}
	if len(retries) < 2 {
		t.Fatalf("all streams were told the same retry %v: not staggered", retries)
	}
	// New streams are refused while shutting down.
	if sc := ts.openStream(t, "/api/stream", tm.bob.Token, ""); sc.Status != http.StatusServiceUnavailable {
		t.Fatalf("stream during shutdown: %d", sc.Status)
	}
}

func TestPresenceInDirectory(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	sc := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	sc.next(t, wait)
	r := ts.must(t, 200, request{method: "GET", path: "/api/users", token: tm.alice.Token})
	online := map[string]bool{}
	for _, u := range r.Body["users"].([]any) {
		m := u.(map[string]any)
		online[m["username"].(string)] = m["online"].(bool)
	}
	if !online["bob"] || online["alice"] || online["carol"] {
		t.Fatalf("online %v, want only bob", online)
	}
	if !strings.Contains(string(r.Raw), `"displayName"`) {
		t.Fatalf("directory lacks display names: %s", r.Raw)
	}
}
