package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
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

func (s *memorySession) Owner() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.user == nil {
		return "test"
	}
	return "test|" + s.user.Username
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

	server.Stop()

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
	server.Start()
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

// roundTripper adapts a function to http.RoundTripper.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// apiError is the API's error shape.
type apiError struct {
	Error struct{ Code, Message string } `json:"error"`
}

func TestProxyServesNoCacheWhenSignedOut(t *testing.T) {
	server := newTeamServer(t)
	_, bob, _ := server.team(t)
	session := newMemorySession(bob.Token)
	_, front := proxied(t, server, session)

	var me struct {
		User backend.User `json:"user"`
	}
	if resp := call(t, front.URL, "GET", "/api/me", "", nil, &me); resp.StatusCode != 200 || me.User.Username != "bob" {
		t.Fatalf("online read: %d %+v", resp.StatusCode, me)
	}
	server.Stop()

	// Signed out, bob's cached answers are not for whoever uses the app next.
	session.SignedOut()
	var apiErr apiError
	resp := call(t, front.URL, "GET", "/api/me", "", nil, &apiErr)
	if resp.StatusCode != http.StatusBadGateway || apiErr.Error.Code != "unavailable" || resp.Header.Get("X-Herald-Offline") != "" {
		t.Fatalf("offline read signed out: %d %q %+v", resp.StatusCode, resp.Header.Get("X-Herald-Offline"), apiErr)
	}

	// Signed in (again), the cache answers.
	session.SignedIn(bob.User, bob.Token)
	me.User = backend.User{}
	if resp := call(t, front.URL, "GET", "/api/me", "", nil, &me); resp.StatusCode != 200 || me.User.Username != "bob" ||
		resp.Header.Get("X-Herald-Offline") == "" {
		t.Fatalf("offline read signed in: %d %+v", resp.StatusCode, me)
	}
}

func TestProxyTreatsGatewayFailuresAsUnreachable(t *testing.T) {
	server := newTeamServer(t)
	alice, bob, chatID := server.team(t)
	call(t, server.URL, "POST", "/api/chats/"+chatID+"/messages", alice.Token, map[string]string{"content": "before the outage"}, nil)

	// A reverse proxy in front of the team server, as nginx would be: it answers status (502 when
	// the server is down, 503 as the team server does while it shuts down, 504) with its own page.
	var status atomic.Int32
	teamURL, _ := url.Parse(server.URL)
	gw := httputil.NewSingleHostReverseProxy(teamURL)
	gw.ErrorLog = slog.NewLogLogger(quietLog().Handler(), slog.LevelDebug)
	gw.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(int(status.Load()))
		_, _ = io.WriteString(w, "<html>gateway page</html>")
	}
	gateway := httptest.NewServer(gw)
	defer gateway.Close()

	// Every upstream body the proxy opens gets closed.
	var open atomic.Int32
	transport := NewTransport(nil)
	defer transport.CloseIdleConnections()
	counting := roundTripper(func(r *http.Request) (*http.Response, error) {
		resp, err := transport.RoundTrip(r)
		if err == nil {
			open.Add(1)
			var once sync.Once
			body := resp.Body
			resp.Body = struct {
				io.Reader
				io.Closer
			}{body, closerFunc(func() error { once.Do(func() { open.Add(-1) }); return body.Close() })}
		}
		return resp, err
	})

	session := newMemorySession(bob.Token)
	st := openLocal(t)
	p := NewAPIProxy(session, st, st, counting, quietLog())
	gwURL, _ := url.Parse(gateway.URL)
	p.SetUpstream(gwURL)
	front := httptest.NewServer(p)
	defer front.Close()

	messagesPath := "/api/chats/" + chatID + "/messages?limit=50"
	var page struct {
		Messages []backend.Message `json:"messages"`
	}
	if resp := call(t, front.URL, "GET", messagesPath, "", nil, &page); resp.StatusCode != 200 || len(page.Messages) != 1 {
		t.Fatalf("online read: %d %+v", resp.StatusCode, page)
	}
	server.Stop()

	for i, code := range []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		status.Store(int32(code))
		session.SignedIn(bob.User, bob.Token)
		<-session.signed

		// A cacheable read comes from the cache.
		page.Messages = nil
		resp := call(t, front.URL, "GET", messagesPath, "", nil, &page)
		if resp.StatusCode != 200 || len(page.Messages) != 1 || !strings.HasPrefix(resp.Header.Get("X-Herald-Offline"), "cached ") {
			t.Fatalf("%d: offline read: %d %q %+v", code, resp.StatusCode, resp.Header.Get("X-Herald-Offline"), page)
		}
		// A post is queued.
		var answer struct {
			Queued bool `json:"queued"`
		}
		clientID := fmt.Sprintf("c%d", i)
		resp = call(t, front.URL, "POST", "/api/chats/"+chatID+"/messages", "", map[string]string{"content": "queued", "clientId": clientID}, &answer)
		if resp.StatusCode != http.StatusAccepted || !answer.Queued {
			t.Fatalf("%d: offline post: %d %+v", code, resp.StatusCode, answer)
		}
		if n, _ := st.OutboxLen(); n != i+1 {
			t.Fatalf("%d: outbox holds %d, want %d", code, n, i+1)
		}
		// Anything else gets the gateway's answer unchanged.
		resp = call(t, front.URL, "POST", "/api/invites", "", map[string]any{}, nil)
		if body, _ := io.ReadAll(resp.Body); resp.StatusCode != code || string(body) != "<html>gateway page</html>" {
			t.Fatalf("%d: other request: %d %s", code, resp.StatusCode, body)
		}
		// Signed out, a cacheable read gets it too (nothing from the cache).
		session.SignedOut()
		resp = call(t, front.URL, "GET", messagesPath, "", nil, nil)
		if body, _ := io.ReadAll(resp.Body); resp.StatusCode != code || string(body) != "<html>gateway page</html>" {
			t.Fatalf("%d: signed-out read: %d %s", code, resp.StatusCode, body)
		}
	}
	waitFor(t, "upstream bodies closed", func() bool { return open.Load() == 0 })
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

func TestProxyKeepsANewerSessionOnALate401(t *testing.T) {
	server := newTeamServer(t)
	_, bob, _ := server.team(t)
	session := newMemorySession("stale-token")
	st := openLocal(t)
	transport := NewTransport(nil)
	defer transport.CloseIdleConnections()
	// bob signs in while the request with the stale token is on its way: its 401 arrives late.
	p := NewAPIProxy(session, st, st, roundTripper(func(r *http.Request) (*http.Response, error) {
		resp, err := transport.RoundTrip(r)
		if err == nil && resp.StatusCode == http.StatusUnauthorized {
			session.SignedIn(bob.User, bob.Token)
		}
		return resp, err
	}), quietLog())
	u, _ := url.Parse(server.URL)
	p.SetUpstream(u)
	front := httptest.NewServer(p)
	defer front.Close()

	if resp := call(t, front.URL, "GET", "/api/me", "", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /api/me with a stale token: %d", resp.StatusCode)
	}
	if session.Token() != bob.Token {
		t.Fatalf("the late 401 signed out the newer session: token %q", session.Token())
	}
}

func TestProxyKeepsTheSessionOnAWrongPassword(t *testing.T) {
	server := newTeamServer(t)
	_, bob, _ := server.team(t)
	session := newMemorySession(bob.Token)
	_, front := proxied(t, server, session)

	var apiErr apiError
	resp := call(t, front.URL, "POST", "/api/auth/login", "", map[string]string{"username": "bob", "password": "wrong"}, &apiErr)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("login with a wrong password: %d %+v", resp.StatusCode, apiErr)
	}
	if session.Token() != bob.Token {
		t.Fatal("a refused sign-in signed the user out")
	}
	if resp := call(t, front.URL, "GET", "/api/me", "", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("GET /api/me after a refused sign-in: %d", resp.StatusCode)
	}
}

func TestProxyRefusesAnInvalidOfflinePost(t *testing.T) {
	server := newTeamServer(t)
	_, bob, chatID := server.team(t)
	st := openLocal(t)
	p := NewAPIProxy(newMemorySession(bob.Token), st, st, nil, quietLog())
	u, _ := url.Parse(server.URL)
	p.SetUpstream(u)
	front := httptest.NewServer(p)
	defer front.Close()
	server.Stop()

	for _, c := range []struct{ content, reason string }{
		{strings.Repeat("x", backend.MaxContentLen+1), "limit"},
		{"bell \a", "control characters"},
	} {
		var apiErr apiError
		resp := call(t, front.URL, "POST", "/api/chats/"+chatID+"/messages", "", map[string]string{"content": c.content, "clientId": "c1"}, &apiErr)
		if resp.StatusCode != http.StatusBadRequest || apiErr.Error.Code != backend.EINVALID || !strings.Contains(apiErr.Error.Message, c.reason) {
			t.Fatalf("invalid offline post (%d characters): %d %+v", len(c.content), resp.StatusCode, apiErr)
		}
	}
	if n, _ := st.OutboxLen(); n != 0 {
		t.Fatalf("outbox holds %d invalid posts", n)
	}
}

// panicLog records the proxy's errors.
type panicLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *panicLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *panicLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func TestProxyReadsTheUpstreamOncePerRequest(t *testing.T) {
	server := newTeamServer(t)
	_, bob, _ := server.team(t)
	st := openLocal(t)
	logs := &panicLog{}
	p := NewAPIProxy(newMemorySession(bob.Token), st, st, nil, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError})))
	u, _ := url.Parse(server.URL)
	p.SetUpstream(u)
	front := httptest.NewServer(p)
	defer front.Close()

	// The team server is unset and set again all the while: each request sees one or the other,
	// never a mix (rewrite pointing at no server).
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			p.SetUpstream(nil)
			p.SetUpstream(u)
		}
	}()
	defer func() { cancel(); <-done }()
	var wg sync.WaitGroup
	errs := make(chan string, 400)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				resp, err := http.Get(front.URL + "/api/me")
				if err != nil {
					errs <- err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				ok := (resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(body), `"unavailable"`)) ||
					(resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"bob"`))
				if !ok {
					errs <- fmt.Sprintf("%d %s", resp.StatusCode, body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("answer during SetUpstream changes: %s", e)
	}
	if strings.Contains(logs.String(), "panic") {
		t.Fatalf("the proxy panicked: %s", logs.String())
	}
}

func TestProxyTransport(t *testing.T) {
	tr := NewTransport(nil)
	if tr.TLSHandshakeTimeout != 10*time.Second || tr.ResponseHeaderTimeout != 30*time.Second || tr.IdleConnTimeout != 60*time.Second ||
		tr.DialContext == nil || tr == http.DefaultTransport {
		t.Fatalf("NewTransport: TLS handshake %v, response header %v, idle %v", tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout, tr.IdleConnTimeout)
	}
	st := openLocal(t)
	if p := NewAPIProxy(newMemorySession(""), st, st, nil, quietLog()); p.transport.(*http.Transport).ResponseHeaderTimeout != 30*time.Second {
		t.Fatal("a nil transport is not NewTransport(nil)")
	}
}

func TestProxyClosesIdleConnections(t *testing.T) {
	server := newTeamServer(t)
	_, bob, _ := server.team(t)
	var dials atomic.Int32
	tr := NewTransport(nil)
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx, network, addr)
	}
	defer tr.CloseIdleConnections()
	st := openLocal(t)
	p := NewAPIProxy(newMemorySession(bob.Token), st, st, tr, quietLog())
	u, _ := url.Parse(server.URL)
	p.SetUpstream(u)
	front := httptest.NewServer(p)
	defer front.Close()

	get := func() {
		t.Helper()
		if resp := call(t, front.URL, "GET", "/api/me", "", nil, nil); resp.StatusCode != 200 {
			t.Fatalf("GET /api/me: %d", resp.StatusCode)
		}
	}
	get()
	get()
	if n := dials.Load(); n != 1 {
		t.Fatalf("%d connections for two requests, want 1 (kept alive)", n)
	}
	p.CloseIdleConnections()
	get()
	if n := dials.Load(); n != 2 {
		t.Fatalf("%d connections after CloseIdleConnections, want 2", n)
	}
}
