package app

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/sse"
)

// memorySession is the proxy's token holder in tests.
type memorySession struct {
	mu     sync.Mutex
	token  string
	user   *backend.User
	signed chan string // each SignedIn token
}

func newMemorySession(token string) *memorySession {
	return &memorySession{token: token, signed: make(chan string, 4)}
}

func (s *memorySession) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

func (s *memorySession) SignedIn(u *backend.User, token string) {
	s.mu.Lock()
	s.token, s.user = token, u
	s.mu.Unlock()
	s.signed <- token
}

func (s *memorySession) SignedOut() {
	s.mu.Lock()
	s.token, s.user = "", nil
	s.mu.Unlock()
}

// proxied puts an APIProxy for server in front of a loopback listener, as the webview sees it.
func proxied(t *testing.T, server *teamServer, session Session) (*APIProxy, *httptest.Server) {
	t.Helper()
	st := openLocal(t)
	p := NewAPIProxy(session, st, st, nil, quietLog())
	u, _ := url.Parse(server.URL)
	p.SetUpstream(u)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	return p, front
}

func TestProxyKeepsTheTokenInGo(t *testing.T) {
	server := newTeamServer(t)
	_, bob, _ := server.team(t)
	session := newMemorySession("")
	_, front := proxied(t, server, session)

	// Signed out, a cookie in the webview (even a valid session's) does not get through.
	req, _ := http.NewRequest("GET", front.URL+"/api/me", nil)
	req.AddCookie(&http.Cookie{Name: "herald_session", Value: bob.Token})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /api/me signed out: %d", resp.StatusCode)
	}

	// Sign-in: the token stays in Go, and the webview gets neither it nor a cookie. The request
	// carries the webview's origin, which the server's cross-origin check would refuse.
	req, _ = http.NewRequest("POST", front.URL+"/api/auth/login", strings.NewReader(`{"username":"bob","password":"correct horse 2"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "wails://wails")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "token") || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("login through the proxy: %d %s, Set-Cookie %q", resp.StatusCode, body, resp.Header.Get("Set-Cookie"))
	}
	var answer struct {
		User backend.User `json:"user"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.User.Username != "bob" {
		t.Fatalf("login answer %s", body)
	}
	select {
	case tok := <-session.signed:
		if tok == "" {
			t.Fatal("empty token")
		}
	case <-time.After(wait):
		t.Fatal("the proxy did not take the token")
	}

	// Now every request carries it.
	var me struct {
		User backend.User `json:"user"`
	}
	if resp := call(t, front.URL, "GET", "/api/me", "", nil, &me); resp.StatusCode != 200 || me.User.Username != "bob" {
		t.Fatalf("GET /api/me through the proxy: %d %+v", resp.StatusCode, me)
	}

	// Sign-out forgets it.
	if resp := call(t, front.URL, "POST", "/api/auth/logout", "", map[string]any{}, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if session.Token() != "" {
		t.Fatal("the token survived the sign-out")
	}
}

func TestProxyStreamsSSEWithoutBuffering(t *testing.T) {
	server := newTeamServer(t)
	alice, bob, chatID := server.team(t)
	_, front := proxied(t, server, newMemorySession(bob.Token))

	resp, err := http.Get(front.URL + "/api/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream through the proxy: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	frames := make(chan sse.Frame, 16)
	go func() {
		r := sse.NewReader(bufio.NewReader(resp.Body))
		for {
			f, err := r.Next()
			if err != nil {
				close(frames)
				return
			}
			frames <- f
		}
	}()
	// Each message arrives on its own while the stream stays open: nothing waits for a buffer
	// to fill or for the response to end.
	for i, text := range []string{"first", "second", "third"} {
		call(t, server.URL, "POST", "/api/chats/"+chatID+"/messages", alice.Token, map[string]string{"content": text}, nil)
		deadline := time.After(wait)
		for got := false; !got; {
			select {
			case f, ok := <-frames:
				if !ok {
					t.Fatal("stream ended")
				}
				if strings.Contains(f.Data, `"NEW_MESSAGE"`) {
					if !strings.Contains(f.Data, text) {
						t.Fatalf("message %d: %s", i, f.Data)
					}
					got = true
				}
			case <-deadline:
				t.Fatalf("message %q did not come through the proxy", text)
			}
		}
	}
}

func TestProxyOfflineQueuesPostsAndServesCachedHistory(t *testing.T) {
	server := newTeamServer(t)
	alice, bob, chatID := server.team(t)
	call(t, server.URL, "POST", "/api/chats/"+chatID+"/messages", alice.Token, map[string]string{"content": "before the outage"}, nil)
	session := newMemorySession(bob.Token)
	st := openLocal(t)
	p := NewAPIProxy(session, st, st, nil, quietLog())
	u, _ := url.Parse(server.URL)
	p.SetUpstream(u)
	queued := make(chan struct{}, 4)
	p.OnQueued = func() { queued <- struct{}{} }
	front := httptest.NewServer(p)
	defer front.Close()

	// Online: reads go through and are remembered.
	messagesPath := "/api/chats/" + chatID + "/messages?limit=50"
	var page struct {
		Messages []backend.Message `json:"messages"`
	}
	if resp := call(t, front.URL, "GET", messagesPath, "", nil, &page); resp.StatusCode != 200 || len(page.Messages) != 1 ||
		resp.Header.Get("X-Herald-Offline") != "" {
		t.Fatalf("online read: %d %+v", resp.StatusCode, page)
	}

	server.stop()

	// Offline: the same read comes from the cache, marked as such; an unknown one is 502.
	page.Messages = nil
	resp := call(t, front.URL, "GET", messagesPath, "", nil, &page)
	if resp.StatusCode != 200 || len(page.Messages) != 1 || page.Messages[0].Content != "before the outage" ||
		!strings.HasPrefix(resp.Header.Get("X-Herald-Offline"), "cached ") {
		t.Fatalf("offline read: %d %q %+v", resp.StatusCode, resp.Header.Get("X-Herald-Offline"), page)
	}
	var apiErr struct {
		Error struct{ Code string } `json:"error"`
	}
	if resp := call(t, front.URL, "GET", "/api/users", "", nil, &apiErr); resp.StatusCode != http.StatusBadGateway || apiErr.Error.Code != "unavailable" {
		t.Fatalf("offline read of something never cached: %d %+v", resp.StatusCode, apiErr)
	}

	// Offline posts are queued durably, in order, answered 202.
	for i, text := range []string{"one", "two"} {
		var answer struct {
			Queued  bool           `json:"queued"`
			Message map[string]any `json:"message"`
		}
		resp := call(t, front.URL, "POST", "/api/chats/"+chatID+"/messages", "", map[string]string{"content": text, "clientId": "c" + text}, &answer)
		if resp.StatusCode != http.StatusAccepted || !answer.Queued || answer.Message["clientId"] != "c"+text {
			t.Fatalf("offline post %d: %d %+v", i, resp.StatusCode, answer)
		}
		<-queued
	}
	items, err := st.Outbox()
	if err != nil || len(items) != 2 || items[0].Content != "one" || items[1].Content != "two" || items[0].ChatID != chatID {
		t.Fatalf("outbox %+v, %v", items, err)
	}

	// Back online, a new post still queues behind the waiting ones rather than overtake them.
	server.start()
	resp = call(t, front.URL, "POST", "/api/chats/"+chatID+"/messages", "", map[string]string{"content": "three", "clientId": "cthree"}, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post behind a non-empty outbox: %d", resp.StatusCode)
	}
	if n, _ := st.OutboxLen(); n != 3 {
		t.Fatalf("outbox holds %d, want 3", n)
	}
}

func TestProxyForgetsATokenTheServerRejects(t *testing.T) {
	server := newTeamServer(t)
	server.team(t)
	session := newMemorySession("not-a-real-token")
	_, front := proxied(t, server, session)
	if resp := call(t, front.URL, "GET", "/api/me", "", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /api/me with a bad token: %d", resp.StatusCode)
	}
	if session.Token() != "" {
		t.Fatal("the proxy kept a token the server rejected")
	}
}

func TestProxyWithoutUpstream(t *testing.T) {
	st := openLocal(t)
	front := httptest.NewServer(NewAPIProxy(newMemorySession(""), st, st, nil, quietLog()))
	defer front.Close()
	var apiErr struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if resp := call(t, front.URL, "GET", "/api/me", "", nil, &apiErr); resp.StatusCode != 503 || apiErr.Error.Code != "unavailable" {
		t.Fatalf("no upstream: %d %+v", resp.StatusCode, apiErr)
	}
}
