package httpapi_test

import (
	"strings"
	"testing"
)

// TestNamesRefuseInvisibleCharacters: display, chat and bot names with a bidi control or a
// zero-width character are 400 with the character named, and nothing is written; message bodies
// keep them.
func TestNamesRefuseInvisibleCharacters(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	invite := ts.invite(t, tm.alice)
	for _, tc := range []struct {
		name string
		rq   request
		want string
	}{
		{"display name with RLO", request{method: "POST", path: "/api/auth/register",
			body: map[string]string{"username": "mallory", "password": "password-mallory", "displayName": "Admin\u202etxt.exe", "inviteCode": invite}},
			"displayName must not contain invisible or direction-changing characters (U+202E)."},
		{"chat name with a zero-width space", request{method: "POST", path: "/api/chats", token: tm.bob.Token,
			body: map[string]any{"name": "gen\u200beral", "memberIds": []string{}}},
			"name must not contain invisible or direction-changing characters (U+200B)."},
		{"bot name with an isolate", request{method: "POST", path: "/api/bots", token: tm.alice.Token,
			body: map[string]string{"name": "\u2066Deploy Bot"}},
			"name must not contain invisible or direction-changing characters (U+2066)."},
		{"bot name that is a Hangul filler", request{method: "POST", path: "/api/bots", token: tm.alice.Token,
			body: map[string]string{"name": "x\u3164"}},
			"name must not contain invisible or direction-changing characters (U+3164)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do(t, tc.rq)
			if r.Status != 400 || r.errorCode() != "invalid" || r.str("error", "message") != tc.want {
				t.Fatalf("got %d %s, want 400 %q", r.Status, r.Raw, tc.want)
			}
		})
	}
	// Nothing was written: the invite is unused, bob has only general, no bot exists.
	ts.register(t, "mallory", invite)
	if chats := ts.must(t, 200, request{method: "GET", path: "/api/chats", token: tm.bob.Token}); len(chats.Body["chats"].([]any)) != 1 {
		t.Fatalf("chats: %s", chats.Raw)
	}
	if dir := ts.must(t, 200, request{method: "GET", path: "/api/users", token: tm.bob.Token}); strings.Contains(string(dir.Raw), `"kind":"bot"`) {
		t.Fatalf("a bot was created: %s", dir.Raw)
	}
	// An emoji with joiners is a name; a message body keeps what the author wrote.
	ts.createChat(t, tm.bob, "👩\u200d💻 devs")
	body := "abc \u202eevil\u202c \u200b done"
	id := ts.post(t, tm.alice, tm.chat, body)
	msgs := ts.must(t, 200, request{method: "GET", path: "/api/chats/" + tm.chat + "/messages", token: tm.bob.Token})
	if m := msgs.Body["messages"].([]any)[0].(map[string]any); m["id"] != id || m["content"] != body {
		t.Fatalf("message: %v", m)
	}
}
