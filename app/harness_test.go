package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/app/local"
	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/teamserver"
)

// wait bounds every awaited condition.
const wait = 10 * time.Second

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// teamServer is a real team server (bbolt in a temp dir) on 127.0.0.1 that can be stopped and
// started again on the same data dir and port.
type teamServer struct {
	tb        testing.TB
	dir, addr string
	URL       string
	mu        sync.Mutex
	ts        *teamserver.Server
	hs        *http.Server
}

func newTeamServer(tb testing.TB) *teamServer {
	tb.Helper()
	s := &teamServer{tb: tb, dir: tb.TempDir(), addr: "127.0.0.1:0"}
	s.start()
	tb.Cleanup(s.stop)
	return s
}

func (s *teamServer) start() {
	s.tb.Helper()
	ts, err := teamserver.Open(teamserver.Config{DataDir: s.dir, Logger: quietLog(), Keepalive: 200 * time.Millisecond})
	if err != nil {
		s.tb.Fatal(err)
	}
	var ln net.Listener
	for deadline := time.Now().Add(wait); ; {
		ln, err = net.Listen("tcp", s.addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // the old listener's port is being released
	}
	if err != nil {
		_ = ts.Shutdown(context.Background())
		s.tb.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.URL = "http://" + s.addr
	hs := &http.Server{Handler: ts.Handler()}
	go func() { _ = hs.Serve(ln) }()
	s.mu.Lock()
	s.ts, s.hs = ts, hs
	s.mu.Unlock()
}

func (s *teamServer) stop() {
	s.mu.Lock()
	ts, hs := s.ts, s.hs
	s.ts, s.hs = nil, nil
	s.mu.Unlock()
	if ts == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_ = ts.Shutdown(ctx)
	_ = hs.Close()
}

// call makes one JSON request to base and decodes the answer into out (if not nil).
func call(tb testing.TB, base, method, path, token string, body, out any) *http.Response {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			tb.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp
}

type account struct {
	User  *backend.User `json:"user"`
	Token string        `json:"token"`
}

// team sets the server up with an admin alice and a member bob who share a chat; it returns
// them and the chat id.
func (s *teamServer) team(tb testing.TB) (alice, bob account, chatID string) {
	tb.Helper()
	call(tb, s.URL, "POST", "/api/auth/register", "", map[string]string{"username": "alice", "password": "correct horse 1"}, &alice)
	var inv struct {
		Code string `json:"code"`
	}
	call(tb, s.URL, "POST", "/api/invites", alice.Token, map[string]any{}, &inv)
	call(tb, s.URL, "POST", "/api/auth/register", "", map[string]string{"username": "bob", "password": "correct horse 2", "inviteCode": inv.Code}, &bob)
	var chat struct {
		Chat backend.Chat `json:"chat"`
	}
	call(tb, s.URL, "POST", "/api/chats", alice.Token, map[string]any{"name": "general", "memberIds": []string{bob.User.ID}}, &chat)
	if alice.Token == "" || bob.Token == "" || chat.Chat.ID == "" {
		tb.Fatalf("team setup failed: %+v %+v %+v", alice, bob, chat)
	}
	return alice, bob, chat.Chat.ID
}

func openLocal(tb testing.TB) *local.Store {
	tb.Helper()
	st, err := local.Open(filepath.Join(tb.TempDir(), "app.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st
}

// waitFor polls cond until it holds; it fails the test after wait.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
