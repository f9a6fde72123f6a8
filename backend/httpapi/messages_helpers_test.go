package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/httpapi"
	"github.com/herald-chat/herald/backend/sse"
)

// msgTeam is the cast of the message tests: alice is the admin; #general is bob's chat (he
// created it) with dave and alice; #private is bob's and dave's only, so alice is an admin who
// is not a member there; carol is in no chat.
type msgTeam struct {
	alice, bob, dave, carol account
	general, private        string
}

func (ts *testServer) msgTeam(tb testing.TB) msgTeam {
	tb.Helper()
	var m msgTeam
	m.alice = ts.register(tb, "alice", "")
	m.bob = ts.register(tb, "bob", ts.invite(tb, m.alice))
	m.dave = ts.register(tb, "dave", ts.invite(tb, m.alice))
	m.carol = ts.register(tb, "carol", ts.invite(tb, m.alice))
	m.general = ts.createChat(tb, m.bob, "general", m.dave.ID, m.alice.ID)
	m.private = ts.createChat(tb, m.bob, "private", m.dave.ID)
	return m
}

// noLimits turns the per-user message and reaction limits off: the tests that are not about
// limits make more requests than a person would.
func noLimits(c *httpapi.Config) { c.Messages, c.Reactions = httpapi.Off, httpapi.Off }

func msgsPath(chat string) string    { return "/api/chats/" + chat + "/messages" }
func msgPath(chat, id string) string { return msgsPath(chat) + "/" + id }
func pinPath(chat, id string) string { return "/api/chats/" + chat + "/pins/" + id }

// reactionPath escapes the emoji as a client must.
func reactionPath(chat, id, emoji string) string {
	return msgPath(chat, id) + "/reactions/" + url.PathEscape(emoji)
}

// decode unmarshals an answer's raw body.
func decode[T any](tb testing.TB, r response) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(r.Raw, &v); err != nil {
		tb.Fatalf("decode %s: %v", r.Raw, err)
	}
	return v
}

type messageAnswer struct {
	Message *backend.Message `json:"message"`
}

// postMsg posts body (content, parentId, alsoToChat …) as by and insists on 201.
func (ts *testServer) postMsg(tb testing.TB, by account, chat string, body map[string]any) *backend.Message {
	tb.Helper()
	r := ts.must(tb, http.StatusCreated, request{method: "POST", path: msgsPath(chat), token: by.Token, body: body})
	return decode[messageAnswer](tb, r).Message
}

func (ts *testServer) say(tb testing.TB, by account, chat, content string) *backend.Message {
	tb.Helper()
	return ts.postMsg(tb, by, chat, map[string]any{"content": content})
}

func (ts *testServer) reply(tb testing.TB, by account, chat, parent, content string, alsoToChat bool) *backend.Message {
	tb.Helper()
	return ts.postMsg(tb, by, chat, map[string]any{"content": content, "parentId": parent, "alsoToChat": alsoToChat})
}

func (ts *testServer) edit(tb testing.TB, by account, chat, id, content string) *backend.Message {
	tb.Helper()
	r := ts.must(tb, http.StatusOK, request{method: "PATCH", path: msgPath(chat, id), token: by.Token, body: map[string]string{"content": content}})
	return decode[messageAnswer](tb, r).Message
}

func (ts *testServer) deleteMsg(tb testing.TB, by account, chat, id string) {
	tb.Helper()
	ts.must(tb, http.StatusNoContent, request{method: "DELETE", path: msgPath(chat, id), token: by.Token})
}

func (ts *testServer) react(tb testing.TB, by account, chat, id, emoji string) {
	tb.Helper()
	ts.must(tb, http.StatusNoContent, request{method: "PUT", path: reactionPath(chat, id, emoji), token: by.Token})
}

func (ts *testServer) pin(tb testing.TB, by account, chat, id string) {
	tb.Helper()
	ts.must(tb, http.StatusNoContent, request{method: "PUT", path: pinPath(chat, id), token: by.Token})
}

// msgPage is a page of history, of a thread or of pins.
type msgPage struct {
	Messages     []*backend.Message `json:"messages"`
	HasMore      bool               `json:"hasMore"`
	HasMoreAfter *bool              `json:"hasMoreAfter"`
}

func (p msgPage) ids() []string {
	ids := make([]string, len(p.Messages))
	for i, m := range p.Messages {
		ids[i] = m.ID
	}
	return ids
}

// byID finds a message of the page.
func (p msgPage) byID(id string) *backend.Message {
	for _, m := range p.Messages {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// list GETs a page (path with its query) as who.
func (ts *testServer) list(tb testing.TB, who account, path string) msgPage {
	tb.Helper()
	r := ts.must(tb, http.StatusOK, request{method: "GET", path: path, token: who.Token})
	p := decode[msgPage](tb, r)
	if p.Messages == nil {
		tb.Fatalf("GET %s: messages is not a list: %s", path, r.Raw)
	}
	return p
}

// wantError insists on an error answer: the status, {"error": {"code", "message"}} with that
// code and a message for people.
func wantError(tb testing.TB, r response, status int, code string) {
	tb.Helper()
	if r.Status != status || r.errorCode() != code || r.str("error", "message") == "" {
		tb.Fatalf("got %d %s, want %d with code %q and a message", r.Status, r.Raw, status, code)
	}
}

// statusCode is the error code the API answers a status with.
var statusCode = map[int]string{400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 429: "rate_limited"}

// check runs rq and insists on status; an error status must come with its error body.
func (ts *testServer) check(tb testing.TB, status int, rq request) response {
	tb.Helper()
	r := ts.do(tb, rq)
	if code, isErr := statusCode[status]; isErr {
		wantError(tb, r, status, code)
	} else if r.Status != status {
		tb.Fatalf("%s %s = %d %s, want %d", rq.method, rq.path, r.Status, r.Raw, status)
	}
	return r
}

// notifications is GET /api/notifications as who (the newest 50).
func (ts *testServer) notifications(tb testing.TB, who account) []*backend.Notification {
	tb.Helper()
	r := ts.must(tb, http.StatusOK, request{method: "GET", path: "/api/notifications", token: who.Token})
	return decode[struct {
		Notifications []*backend.Notification `json:"notifications"`
	}](tb, r).Notifications
}

// notificationsAbout are who's notifications about message id.
func (ts *testServer) notificationsAbout(tb testing.TB, who account, id string) []*backend.Notification {
	tb.Helper()
	return slices.DeleteFunc(ts.notifications(tb, who), func(n *backend.Notification) bool { return n.MessageID != id })
}

// fields are the payload fields of message events that the harness's event leaves out.
type fields struct {
	MessageID string `json:"messageId"`
	ParentID  string `json:"parentId"`
}

func (e event) fields(tb testing.TB) fields {
	tb.Helper()
	var f fields
	if err := json.Unmarshal([]byte(e.Data()), &f); err != nil {
		tb.Fatal(err)
	}
	return f
}

// statusChange (presence) is what opening and closing streams causes on the way: not what these tests look at.
const statusChange = "AGENT_STATUS_CHANGED"

// await reads sc until an event satisfies match and returns it with the events before it
// (presence changes left out).
func (sc *streamClient) await(tb testing.TB, what string, match func(event) bool) (event, []event) {
	tb.Helper()
	deadline := time.Now().Add(wait)
	var before []event
	for {
		if time.Now().After(deadline) {
			tb.Fatalf("no %s within %s; got %v", what, wait, types(before))
		}
		ev := sc.nextEventExcept(tb, time.Until(deadline), statusChange)
		if match(ev) {
			return ev, before
		}
		before = append(before, ev)
	}
}

// awaitType reads sc until an event of type typ and returns it with the events before it.
func (sc *streamClient) awaitType(tb testing.TB, typ string) (event, []event) {
	tb.Helper()
	return sc.await(tb, typ, func(ev event) bool { return ev.Type == typ })
}

// expect insists that the next event (presence aside) is of type typ, and returns it.
func (sc *streamClient) expect(tb testing.TB, typ string) event {
	tb.Helper()
	ev := sc.nextEventExcept(tb, wait, statusChange)
	if ev.Type != typ {
		tb.Fatalf("got %s (%s), want %s", ev.Type, ev.Data(), typ)
	}
	return ev
}

func types(evs []event) []string {
	var ts []string
	for _, ev := range evs {
		ts = append(ts, ev.Type)
	}
	return ts
}

// fence sends a system notification titled title to users: a personal event that arrives after
// everything committed before it. quiet reads up to it.
func (ts *testServer) fence(tb testing.TB, admin account, title string, users ...string) {
	tb.Helper()
	ts.must(tb, http.StatusCreated, request{method: "POST", path: "/api/system/notifications", token: admin.Token,
		body: map[string]any{"title": title, "userIds": users}})
}

// quiet insists that nothing but presence changes arrives on sc before the fence titled title.
func (sc *streamClient) quiet(tb testing.TB, title string) {
	tb.Helper()
	_, before := sc.await(tb, "fence "+title, func(ev event) bool {
		return ev.Type == "SYSTEM_NOTIFICATION" && ev.Notification != nil && ev.Notification.Title == title
	})
	if len(before) > 0 {
		tb.Fatalf("before the fence %q the stream carried %v: %s", title, types(before), before[0].Data())
	}
}

// teeStream is a stream whose raw bytes are kept, to look for what must not be in them.
type teeStream struct {
	*streamClient
	mu  sync.Mutex
	raw bytes.Buffer
}

func (t *teeStream) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.raw.Write(p)
}

func (t *teeStream) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.raw.Bytes())
}

// openTeeStream is openStream that also records every byte the server sent.
func (ts *testServer) openTeeStream(tb testing.TB, path, token, lastID string) *teeStream {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		tb.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	t := &teeStream{}
	sc := &streamClient{Status: resp.StatusCode, Header: resp.Header, frames: make(chan sse.Frame, 4096),
		done: make(chan struct{}), cancel: cancel, reader: sse.NewReader(io.TeeReader(resp.Body, t))}
	t.streamClient = sc
	tb.Cleanup(sc.close)
	go func() {
		defer close(sc.done)
		defer close(sc.frames)
		defer resp.Body.Close()
		for {
			f, err := sc.reader.Next()
			if err != nil {
				sc.err = err
				return
			}
			sc.frames <- f
		}
	}()
	return t
}

// dbHolds reports whether the bbolt file holds s anywhere, in any page.
func (ts *testServer) dbHolds(tb testing.TB, s string) bool {
	tb.Helper()
	raw, err := os.ReadFile(ts.DBPath)
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.Contains(raw, []byte(s))
}

// msgState is a client's view of a chat's messages, built from the events it got the way the
// web client builds it: NEW_MESSAGE inserts, MESSAGE_UPDATED replaces, MESSAGE_DELETED turns
// the message into its tombstone.
type msgState map[string]*backend.Message

func (s msgState) apply(tb testing.TB, ev event) {
	tb.Helper()
	switch ev.Type {
	case "NEW_MESSAGE", "MESSAGE_UPDATED":
		s[ev.Message.ID] = ev.Message
	case "MESSAGE_DELETED":
		id := ev.fields(tb).MessageID
		m, ok := s[id]
		if !ok {
			tb.Fatalf("MESSAGE_DELETED of %s, which the client never saw", id)
		}
		s[id] = m.Tombstone()
	}
}

// visible are the messages of the state that history shows (top-level ones and replies also
// sent to the chat), in id order.
func (s msgState) visible() []*backend.Message {
	var out []*backend.Message
	for _, m := range s {
		if m.ParentID == "" || m.AlsoToChat {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b *backend.Message) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func sameMessages(tb testing.TB, what string, got, want []*backend.Message) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		tb.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}
