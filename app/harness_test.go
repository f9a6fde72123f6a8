package app

import (
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/herald-chat/herald/app/local"
	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/teamserver/teamservertest"
)

// wait bounds every awaited condition.
const wait = 10 * time.Second

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// teamServer is a real team server that a test can stop and start again on the same port.
type teamServer struct{ *teamservertest.Server }

func newTeamServer(tb testing.TB) *teamServer { return &teamServer{teamservertest.Start(tb)} }

// call makes one JSON request to base+path and decodes the answer into out (if not nil).
func call(tb testing.TB, base, method, path, token string, body, out any) *http.Response {
	tb.Helper()
	return teamservertest.Call(tb, method, base+path, token, body, out)
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
