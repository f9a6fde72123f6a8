package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

const unknownID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"

func TestAccounts(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	alice := ts.register(t, "alice", "")
	me := ts.must(t, 200, request{method: "GET", path: "/api/me", token: alice.Token})
	if me.str("user", "role") != "admin" || me.str("user", "username") != "alice" || me.str("user", "displayName") != "alice" {
		t.Fatalf("first user: %s", me.Raw)
	}
	if strings.Contains(string(me.Raw), "password") || strings.Contains(string(me.Raw), "argon2") {
		t.Fatalf("/api/me leaks the password hash: %s", me.Raw)
	}

	// Later users need an invite, and only admins make them: a link takes many people unless
	// made for one (maxUses 1).
	r := ts.must(t, 403, request{method: "POST", path: "/api/auth/register", body: map[string]string{"username": "eve", "password": "long-enough-1"}})
	if r.errorCode() != "forbidden" {
		t.Fatalf("register without invite: %s", r.Raw)
	}
	code := ts.invite(t, alice)
	bob := ts.register(t, "bob", code)
	ts.register(t, "erin", code)
	single := ts.must(t, 201, request{method: "POST", path: "/api/invites", token: alice.Token, body: map[string]int{"maxUses": 1}}).str("code")
	ts.register(t, "frank", single)
	ts.must(t, 403, request{method: "POST", path: "/api/auth/register", body: map[string]string{"username": "eve", "password": "long-enough-1", "inviteCode": single}})
	ts.must(t, 403, request{method: "POST", path: "/api/invites", token: bob.Token})
	inv := ts.must(t, 201, request{method: "POST", path: "/api/invites", token: alice.Token, body: map[string]int{"expiresInHours": 2}})
	if !strings.HasSuffix(inv.str("url"), "/join/"+inv.str("code")) {
		t.Fatalf("invite url %q does not end in /join/{code}", inv.str("url"))
	}
	// A taken username is a conflict and leaves the invite usable.
	r = ts.must(t, 409, request{method: "POST", path: "/api/auth/register", body: map[string]string{"username": "BOB", "password": "long-enough-1", "inviteCode": inv.str("code")}})
	if r.errorCode() != "conflict" {
		t.Fatalf("taken username: %s", r.Raw)
	}
	ts.register(t, "dave", inv.str("code"))

	// Login: wrong password and unknown user look the same; success sets an HttpOnly cookie.
	for _, body := range []map[string]string{{"username": "bob", "password": "wrong-password"}, {"username": "nobody", "password": "password-x"}} {
		r := ts.must(t, 401, request{method: "POST", path: "/api/auth/login", body: body})
		if r.str("error", "message") != "Wrong username or password." {
			t.Fatalf("login failure message: %s", r.Raw)
		}
	}
	login := ts.must(t, 200, request{method: "POST", path: "/api/auth/login", body: map[string]string{"username": "bob", "password": "password-bob"}})
	cookie := login.Header.Get("Set-Cookie")
	for _, want := range []string{"herald_session=" + login.str("token"), "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Fatalf("Set-Cookie %q lacks %q", cookie, want)
		}
	}
	if login.str("user", "id") != bob.ID {
		t.Fatalf("login answered user %s, want %s", login.str("user", "id"), bob.ID)
	}

	// The cookie authenticates; logout ends exactly that session.
	byCookie := ts.must(t, 200, request{method: "GET", path: "/api/me", header: map[string]string{"Cookie": "herald_session=" + login.str("token")}})
	if byCookie.str("user", "id") != bob.ID {
		t.Fatalf("cookie auth: %s", byCookie.Raw)
	}
	ts.must(t, 204, request{method: "POST", path: "/api/auth/logout", token: login.str("token")})
	ts.must(t, 401, request{method: "GET", path: "/api/me", token: login.str("token")})
	ts.must(t, 200, request{method: "GET", path: "/api/me", token: bob.Token})

	users := ts.must(t, 200, request{method: "GET", path: "/api/users", token: bob.Token})
	if list, _ := users.Body["users"].([]any); len(list) != 5 {
		t.Fatalf("directory: %s", users.Raw)
	}
}

func TestAuthenticationFailures(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	alice := ts.register(t, "alice", "")
	for _, tc := range []struct{ name, header string }{
		{"none", ""},
		{"unknown token", "Bearer nope"},
		{"basic scheme", "Basic " + alice.Token},
		{"empty bearer", "Bearer "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rq := request{method: "GET", path: "/api/me"}
			if tc.header != "" {
				rq.header = map[string]string{"Authorization": tc.header}
			}
			if r := ts.must(t, 401, rq); r.errorCode() != "unauthorized" {
				t.Fatalf("error body: %s", r.Raw)
			}
		})
	}
	// Tokens are never accepted from the query string.
	ts.must(t, 401, request{method: "GET", path: "/api/me?token=" + alice.Token})
}

func TestCrossOriginProtection(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	cookie := map[string]string{"Cookie": "herald_session=" + tm.alice.Token}
	path := "/api/chats/" + tm.chat + "/messages"
	body := map[string]string{"content": "hi"}

	evil := map[string]string{"Cookie": cookie["Cookie"], "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
	if r := ts.must(t, 403, request{method: "POST", path: path, header: evil, body: body}); r.errorCode() != "forbidden" {
		t.Fatalf("cross-origin post: %s", r.Raw)
	}
	same := map[string]string{"Cookie": cookie["Cookie"], "Origin": ts.URL, "Sec-Fetch-Site": "same-origin"}
	ts.must(t, 201, request{method: "POST", path: path, header: same, body: body})
	ts.must(t, 201, request{method: "POST", path: path, token: tm.alice.Token, body: body}) // a program: no Origin
	if got := ts.must(t, 200, request{method: "GET", path: path, token: tm.alice.Token}); len(got.Body["messages"].([]any)) != 2 {
		t.Fatalf("the refused post was written: %s", got.Raw)
	}
}

func TestBadInputIsRejectedAndNothingWritten(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	path := "/api/chats/" + tm.chat + "/messages"
	tok := tm.alice.Token
	cases := []struct {
		name   string
		rq     request
		status int
		code   string
	}{
		{"malformed json", request{method: "POST", path: path, token: tok, raw: []byte(`{"content": "x",`)}, 400, "invalid"},
		{"not an object", request{method: "POST", path: path, token: tok, raw: []byte(`[1,2]`)}, 400, "invalid"},
		{"trailing data", request{method: "POST", path: path, token: tok, raw: []byte(`{"content":"x"} {"content":"y"}`)}, 400, "invalid"},
		{"empty body", request{method: "POST", path: path, token: tok, raw: []byte{}}, 400, "invalid"},
		{"unknown field", request{method: "POST", path: path, token: tok, body: map[string]any{"content": "x", "admin": true}}, 400, "invalid"},
		{"wrong type", request{method: "POST", path: path, token: tok, body: map[string]any{"content": 5}}, 400, "invalid"},
		{"empty content", request{method: "POST", path: path, token: tok, body: map[string]any{"content": ""}}, 400, "invalid"},
		{"blank content", request{method: "POST", path: path, token: tok, body: map[string]any{"content": " \n\t "}}, 400, "invalid"},
		{"content too long", request{method: "POST", path: path, token: tok, body: map[string]any{"content": strings.Repeat("é", 8001)}}, 400, "invalid"},
		{"control character", request{method: "POST", path: path, token: tok, body: map[string]any{"content": "a\x00b"}}, 400, "invalid"},
		{"bad client id", request{method: "POST", path: path, token: tok, body: map[string]any{"content": "x", "clientId": "has space"}}, 400, "invalid"},
		{"huge body", request{method: "POST", path: path, token: tok, raw: []byte(`{"content":"` + strings.Repeat("a", 3<<20) + `"}`)}, 413, "too_large"},
		{"utf-16 body", request{method: "POST", path: path, token: tok, raw: []byte("{\x00\"\x00c\x00\"\x00:\x00\"\x00x\x00\"\x00}\x00"), header: map[string]string{"Content-Type": "application/json; charset=utf-16"}}, 415, "unsupported"},
		{"latin-1 body", request{method: "POST", path: path, token: tok, raw: []byte(`{"content":"x"}`), header: map[string]string{"Content-Type": "application/json; charset=ISO-8859-1"}}, 415, "unsupported"},
		{"form body", request{method: "POST", path: path, token: tok, raw: []byte("content=x"), header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415, "unsupported"},
		{"no auth", request{method: "POST", path: path, body: map[string]any{"content": "x"}}, 401, "unauthorized"},
		{"unknown chat", request{method: "POST", path: "/api/chats/" + unknownID + "/messages", token: tok, body: map[string]any{"content": "x"}}, 404, "not_found"},
		{"malformed chat id", request{method: "POST", path: "/api/chats/nope/messages", token: tok, body: map[string]any{"content": "x"}}, 400, "invalid"},
		{"non-member post", request{method: "POST", path: path, token: tm.carol.Token, body: map[string]any{"content": "x"}}, 403, "forbidden"},
		{"non-member read", request{method: "GET", path: path, token: tm.carol.Token}, 403, "forbidden"},
		{"bad after id", request{method: "GET", path: path + "?after=not-a-ulid", token: tok}, 400, "invalid"},
		{"lower-case id", request{method: "GET", path: path + "?before=" + strings.ToLower(unknownID), token: tok}, 400, "invalid"},
		{"limit zero", request{method: "GET", path: path + "?limit=0", token: tok}, 400, "invalid"},
		{"limit too big", request{method: "GET", path: path + "?limit=201", token: tok}, 400, "invalid"},
		{"chat without name", request{method: "POST", path: "/api/chats", token: tok, body: map[string]any{"name": "  "}}, 400, "invalid"},
		{"chat with unknown member", request{method: "POST", path: "/api/chats", token: tok, body: map[string]any{"name": "x", "memberIds": []string{unknownID}}}, 404, "not_found"},
		{"chat with bad member id", request{method: "POST", path: "/api/chats", token: tok, body: map[string]any{"name": "x", "memberIds": []string{"x"}}}, 400, "invalid"},
		{"add member by non-member", request{method: "POST", path: "/api/chats/" + tm.chat + "/members", token: tm.carol.Token, body: map[string]any{"userId": tm.carol.ID}}, 403, "forbidden"},
		{"read unknown message", request{method: "POST", path: "/api/chats/" + tm.chat + "/read", token: tok, body: map[string]any{"messageId": unknownID}}, 404, "not_found"},
		{"short password", request{method: "POST", path: "/api/auth/register", body: map[string]any{"username": "zed", "password": "short"}}, 400, "invalid"},
		{"bad username", request{method: "POST", path: "/api/auth/register", body: map[string]any{"username": "a b", "password": "long-enough-1"}}, 400, "invalid"},
		{"unknown api route", request{method: "GET", path: "/api/nope", token: tok}, 404, "not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do(t, tc.rq)
			if r.Status != tc.status || r.errorCode() != tc.code || r.str("error", "message") == "" {
				t.Fatalf("got %d %s, want %d with code %q and a message", r.Status, r.Raw, tc.status, tc.code)
			}
		})
	}
	msgs := ts.must(t, 200, request{method: "GET", path: path, token: tok})
	if n := len(msgs.Body["messages"].([]any)); n != 0 {
		t.Fatalf("bad requests wrote %d messages", n)
	}
	chats := ts.must(t, 200, request{method: "GET", path: "/api/chats", token: tok})
	if n := len(chats.Body["chats"].([]any)); n != 1 {
		t.Fatalf("bad requests created chats: %d", n)
	}
}

func TestPostIsIdempotentPerClientID(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	path := "/api/chats/" + tm.chat + "/messages"
	first := ts.must(t, 201, request{method: "POST", path: path, token: tm.alice.Token, body: map[string]string{"content": "once", "clientId": "c-1"}})
	again := ts.must(t, 200, request{method: "POST", path: path, token: tm.alice.Token, body: map[string]string{"content": "once", "clientId": "c-1"}})
	if first.str("message", "id") != again.str("message", "id") || again.str("message", "clientId") != "c-1" {
		t.Fatalf("retry answered %s, first %s", again.Raw, first.Raw)
	}
	// The same clientId from another author is another message.
	ts.must(t, 201, request{method: "POST", path: path, token: tm.bob.Token, body: map[string]string{"content": "once", "clientId": "c-1"}})
	msgs := ts.must(t, 200, request{method: "GET", path: path, token: tm.alice.Token})
	if n := len(msgs.Body["messages"].([]any)); n != 2 {
		t.Fatalf("%d messages, want 2", n)
	}
}

func TestHistoryPaging(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	var ids []string
	for i := range 25 {
		ids = append(ids, ts.post(t, tm.alice, tm.chat, fmt.Sprintf("m%d", i)))
	}
	path := "/api/chats/" + tm.chat + "/messages"
	page := func(query string) ([]string, bool) {
		r := ts.must(t, 200, request{method: "GET", path: path + query, token: tm.bob.Token})
		var got []string
		for _, m := range r.Body["messages"].([]any) {
			got = append(got, m.(map[string]any)["id"].(string))
		}
		return got, r.Body["hasMore"].(bool)
	}
	check := func(query string, want []string, wantMore bool) {
		t.Helper()
		got, more := page(query)
		if fmt.Sprint(got) != fmt.Sprint(want) || more != wantMore {
			t.Fatalf("%s: got %v more=%v, want %v more=%v", query, got, more, want, wantMore)
		}
	}
	check("?limit=10", ids[15:], true)
	check("?limit=10&before="+ids[15], ids[5:15], true)
	check("?limit=10&before="+ids[5], ids[:5], false)
	check("?limit=10&after="+ids[20], ids[21:], false)
	check("?limit=3&after="+ids[0], ids[1:4], true)
	check("?after="+ids[2]+"&before="+ids[6], ids[3:6], false)
	check("", ids, false)

	// Unread counts follow the read marker.
	chats := ts.must(t, 200, request{method: "GET", path: "/api/chats", token: tm.bob.Token})
	if unread := chats.Body["chats"].([]any)[0].(map[string]any)["unread"].(float64); unread != 25 {
		t.Fatalf("bob's unread = %v, want 25", unread)
	}
	ts.must(t, 204, request{method: "POST", path: "/api/chats/" + tm.chat + "/read", token: tm.bob.Token, body: map[string]string{"messageId": ids[19]}})
	chats = ts.must(t, 200, request{method: "GET", path: "/api/chats", token: tm.bob.Token})
	if unread := chats.Body["chats"].([]any)[0].(map[string]any)["unread"].(float64); unread != 5 {
		t.Fatalf("bob's unread after reading = %v, want 5", unread)
	}
}

func TestWebClientFallback(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	for _, p := range []string{"/", "/join/abc", "/chats/x"} {
		resp, err := http.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET %s = %d %s", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

func TestServerInfoAndStats(t *testing.T) {
	ts := newTestServer(t, serverOptions{keepalive: 20 * time.Second})
	info := ts.must(t, 200, request{method: "GET", path: "/api/server"})
	if info.Body["needsSetup"] != true || info.Body["keepaliveMs"] != float64(20000) {
		t.Fatalf("new server: %s", info.Raw)
	}
	tm := ts.team(t)
	if info := ts.must(t, 200, request{method: "GET", path: "/api/server"}); info.Body["needsSetup"] != false {
		t.Fatalf("server with users: %s", info.Raw)
	}
	sc := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	sc.next(t, wait)
	stats := ts.must(t, 200, request{method: "GET", path: "/api/stats", token: tm.alice.Token})
	if streams := stats.Body["streams"].(map[string]any); streams["subscribers"] != float64(1) {
		t.Fatalf("stats: %s", stats.Raw)
	}
	ts.must(t, 403, request{method: "GET", path: "/api/stats", token: tm.bob.Token})
	ts.must(t, 401, request{method: "GET", path: "/api/stats"})
}

func TestLogoutEndsOpenStreams(t *testing.T) {
	ts := newTestServer(t, serverOptions{keepalive: 50 * time.Millisecond})
	tm := ts.team(t)
	login := ts.must(t, 200, request{method: "POST", path: "/api/auth/login", body: map[string]string{"username": "bob", "password": "password-bob"}})
	token := login.str("token")
	sc := ts.openStream(t, "/api/stream", token, "")
	other := ts.openStream(t, "/api/stream", tm.bob.Token, "") // another session of bob's
	sc.next(t, wait)
	ts.must(t, 204, request{method: "POST", path: "/api/auth/logout", token: token})
	sc.waitEnd(t, wait)
	ts.post(t, tm.alice, tm.chat, "still here")
	if ev := other.nextOfType(t, "NEW_MESSAGE", wait); ev.Message.Content != "still here" {
		t.Fatalf("the other session's stream got %+v", ev)
	}
}
