package httpapi_test

import (
	"bytes"
	"context"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/httpapi"
)

// adminTeam is ts.team plus dave, a member whom alice deactivated, and a bot.
type adminTeam struct {
	team
	dave  account
	botID string
}

func (ts *testServer) adminTeam(tb testing.TB) adminTeam {
	tb.Helper()
	at := adminTeam{team: ts.team(tb)}
	at.dave = ts.register(tb, "dave", ts.invite(tb, at.alice))
	ts.must(tb, 200, request{method: "POST", path: "/api/admin/users/" + at.dave.ID + "/deactivate", token: at.alice.Token})
	at.botID = ts.must(tb, 201, request{method: "POST", path: "/api/bots", token: at.alice.Token,
		body: map[string]string{"name": "Build Bot"}}).str("bot", "id")
	return at
}

// flag digs a boolean out of the body: flag("user", "deactivated").
func (r response) flag(path ...string) bool {
	var v any = r.Body
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	b, _ := v.(bool)
	return b
}

// Every admin route answers 401 without credentials and with a deactivated account's token, and
// 403 to a member, in the JSON error shape.
func TestAdminRoutesRefuseMembersDeactivatedAndAnonymous(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	at := ts.adminTeam(t)
	// A session of dave's that somehow outlived the deactivation is refused all the same.
	stale := "a session of dave's that survived"
	now := time.Now()
	if err := ts.Store.CreateSession(context.Background(), stale, backend.Session{UserID: at.dave.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	u := "/api/admin/users/" + at.bob.ID
	routes := []request{
		{method: "GET", path: "/api/admin/users"},
		{method: "PATCH", path: u, body: map[string]string{"role": "admin"}},
		{method: "POST", path: u + "/deactivate"},
		{method: "POST", path: u + "/reactivate"},
		{method: "POST", path: u + "/password-reset"},
		{method: "GET", path: "/api/admin/audit"},
		{method: "GET", path: "/api/invites"},
		{method: "POST", path: "/api/invites"},
		{method: "DELETE", path: "/api/invites/0123456789abcdef"},
		{method: "PATCH", path: "/api/team", body: map[string]string{"name": "Mine"}},
		{method: "PATCH", path: "/api/bots/" + at.botID, body: map[string]string{"displayName": "Mine"}},
		{method: "DELETE", path: "/api/bots/" + at.botID},
	}
	for _, rq := range routes {
		for _, c := range []struct {
			who   string
			token string
			want  int
		}{{"nobody", "", 401}, {"deactivated dave", at.dave.Token, 401}, {"dave's stale session", stale, 401}, {"member bob", at.bob.Token, 403}} {
			rq.token = c.token
			r := ts.do(t, rq)
			if r.Status != c.want || r.errorCode() == "" {
				t.Errorf("%s %s by %s = %d %s, want %d with an error body", rq.method, rq.path, c.who, r.Status, r.Raw, c.want)
			}
		}
	}
	if r := ts.do(t, request{method: "GET", path: "/api/me", token: stale}); !strings.Contains(string(r.Raw), "deactivated") {
		t.Errorf("a deactivated account's session: %d %s", r.Status, r.Raw)
	}
	// GET /api/team is for every signed-in user.
	ts.must(t, 200, request{method: "GET", path: "/api/team", token: at.bob.Token})
	ts.must(t, 401, request{method: "GET", path: "/api/team", token: at.dave.Token})
	ts.must(t, 401, request{method: "GET", path: "/api/team"})
}

// An admin lists every account — bots and deactivated ones too — searches and pages them.
func TestAdminListsEveryAccount(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	at := ts.adminTeam(t)
	r := ts.must(t, 200, request{method: "GET", path: "/api/admin/users", token: at.alice.Token})
	users, _ := r.Body["users"].([]any)
	if len(users) != 5 || r.flag("hasMore") {
		t.Fatalf("users: %s", r.Raw)
	}
	byName := map[string]map[string]any{}
	for _, x := range users {
		m := x.(map[string]any)
		byName[m["username"].(string)] = m
	}
	if byName["dave"]["deactivated"] != true || byName["build-bot"]["kind"] != "bot" || byName["alice"]["role"] != "admin" || byName["bob"]["createdAt"] == nil {
		t.Fatalf("users: %s", r.Raw)
	}
	if _, ok := byName["bob"]["deactivated"]; ok {
		t.Fatalf("an active account says deactivated: %v", byName["bob"])
	}

	page := ts.must(t, 200, request{method: "GET", path: "/api/admin/users?limit=2", token: at.alice.Token})
	first, _ := page.Body["users"].([]any)
	if len(first) != 2 || !page.flag("hasMore") {
		t.Fatalf("first page: %s", page.Raw)
	}
	last := first[1].(map[string]any)["id"].(string)
	next := ts.must(t, 200, request{method: "GET", path: "/api/admin/users?limit=2&after=" + last, token: at.alice.Token})
	if second, _ := next.Body["users"].([]any); len(second) != 2 || second[0].(map[string]any)["id"] == last {
		t.Fatalf("second page: %s", next.Raw)
	}

	found := ts.must(t, 200, request{method: "GET", path: "/api/admin/users?q=BUILD", token: at.alice.Token})
	if hits, _ := found.Body["users"].([]any); len(hits) != 1 || hits[0].(map[string]any)["id"] != at.botID {
		t.Fatalf("q=BUILD: %s", found.Raw)
	}
	for _, bad := range []string{"?limit=0", "?limit=201", "?limit=x", "?after=nope", "?q=" + strings.Repeat("a", 65)} {
		ts.must(t, 400, request{method: "GET", path: "/api/admin/users" + bad, token: at.alice.Token})
	}
}

// Deactivating ends the account's streams within a second (SESSION_ENDED deactivated), refuses its
// sign-in with 403 and its tokens with 401, keeps its messages, and tells the people who share a
// chat with it (USER_UPDATED deactivated: true). Reactivating lets it sign in again.
func TestDeactivationEndsStreamsAndSignIn(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	msg := ts.post(t, tm.bob, tm.chat, "bob was here")
	watcher := ts.openStream(t, "/api/stream", tm.alice.Token, "")
	bobs := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	chat := ts.openStream(t, "/api/chat/"+tm.chat+"/stream", tm.bob.Token, "")
	bobs.next(t, wait)
	chat.next(t, wait)

	start := time.Now()
	r := ts.must(t, 200, request{method: "POST", path: "/api/admin/users/" + tm.bob.ID + "/deactivate", token: tm.alice.Token})
	if !r.flag("user", "deactivated") || r.str("user", "id") != tm.bob.ID {
		t.Fatalf("deactivate: %s", r.Raw)
	}
	for name, sc := range map[string]*streamClient{"user stream": bobs, "chat stream": chat} {
		end := awaitSessionEnd(t, sc, start, 5*time.Second)
		if end.last.Type != "SESSION_ENDED" || end.last.reason() != "deactivated" || end.after > time.Second {
			t.Errorf("bob's %s: last %s %q after %s, want SESSION_ENDED deactivated within 1 s", name, end.last.Type, end.last.reason(), end.after)
		}
	}
	ev := watcher.nextOfType(t, "USER_UPDATED", wait)
	var upd struct {
		User backend.User `json:"user"`
	}
	if err := jsonUnmarshal(ev.Data(), &upd); err != nil || upd.User.ID != tm.bob.ID || !upd.User.Deactivated || ev.ID == "" {
		t.Fatalf("USER_UPDATED: %s (id %q)", ev.Data(), ev.ID)
	}
	if strings.Contains(ev.Data(), "assword") {
		t.Fatalf("USER_UPDATED carries a password hash: %s", ev.Data())
	}

	ts.must(t, 401, request{method: "GET", path: "/api/me", token: tm.bob.Token})
	ts.must(t, 401, request{method: "GET", path: "/api/stream", token: tm.bob.Token})
	denied := ts.must(t, 403, login("bob", "password-bob"))
	if !strings.Contains(string(denied.Raw), "This account is deactivated.") {
		t.Fatalf("login of a deactivated account: %s", denied.Raw)
	}
	ts.must(t, 401, login("bob", "wrong password")) // the state is told only to whoever knows the password
	history := ts.must(t, 200, request{method: "GET", path: "/api/chats/" + tm.chat + "/messages", token: tm.alice.Token})
	if !strings.Contains(string(history.Raw), msg) {
		t.Fatalf("bob's message is gone: %s", history.Raw)
	}
	dir := ts.must(t, 200, request{method: "GET", path: "/api/users", token: tm.alice.Token})
	if !strings.Contains(string(dir.Raw), `"deactivated":true`) {
		t.Fatalf("the directory does not say deactivated: %s", dir.Raw)
	}
	// Deactivating again changes nothing and emits nothing.
	ts.must(t, 200, request{method: "POST", path: "/api/admin/users/" + tm.bob.ID + "/deactivate", token: tm.alice.Token})

	r = ts.must(t, 200, request{method: "POST", path: "/api/admin/users/" + tm.bob.ID + "/reactivate", token: tm.alice.Token})
	if r.flag("user", "deactivated") {
		t.Fatalf("reactivate: %s", r.Raw)
	}
	ev = watcher.nextOfType(t, "USER_UPDATED", wait)
	if strings.Contains(ev.Data(), "deactivated") {
		t.Fatalf("USER_UPDATED after reactivating: %s", ev.Data())
	}
	token := ts.must(t, 200, login("bob", "password-bob")).str("token")
	ts.must(t, 200, request{method: "GET", path: "/api/me", token: token})
	ts.must(t, 404, request{method: "POST", path: "/api/admin/users/01JDQ7X3K9V2M4T8E6R5N0PZ1A/deactivate", token: tm.alice.Token})
}

// The team keeps at least one active admin: nobody deactivates themselves or the last admin, the
// last admin cannot be demoted, and bots cannot be admins.
func TestLastAdminIsProtected(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	at := ts.adminTeam(t)
	adminPath := "/api/admin/users/"
	ts.must(t, 409, request{method: "POST", path: adminPath + at.alice.ID + "/deactivate", token: at.alice.Token})
	ts.must(t, 409, request{method: "PATCH", path: adminPath + at.alice.ID, token: at.alice.Token, body: map[string]string{"role": "member"}})
	ts.must(t, 400, request{method: "PATCH", path: adminPath + at.botID, token: at.alice.Token, body: map[string]string{"role": "admin"}})
	ts.must(t, 400, request{method: "PATCH", path: adminPath + at.bob.ID, token: at.alice.Token, body: map[string]string{"role": "owner"}})
	ts.must(t, 400, request{method: "PATCH", path: adminPath + at.bob.ID, token: at.alice.Token, body: map[string]string{"role": "admin", "extra": "x"}})

	watcher := ts.openStream(t, "/api/stream", at.bob.Token, "")
	r := ts.must(t, 200, request{method: "PATCH", path: adminPath + at.bob.ID, token: at.alice.Token, body: map[string]string{"role": "admin"}})
	if r.str("user", "role") != "admin" {
		t.Fatalf("promote: %s", r.Raw)
	}
	if ev := watcher.nextOfType(t, "USER_UPDATED", wait); !strings.Contains(ev.Data(), `"role":"admin"`) {
		t.Fatalf("USER_UPDATED: %s", ev.Data())
	}
	// Two admins: alice may step down; then bob is the last one.
	ts.must(t, 200, request{method: "PATCH", path: adminPath + at.alice.ID, token: at.alice.Token, body: map[string]string{"role": "member"}})
	ts.must(t, 403, request{method: "GET", path: "/api/admin/users", token: at.alice.Token})
	ts.must(t, 409, request{method: "PATCH", path: adminPath + at.bob.ID, token: at.bob.Token, body: map[string]string{"role": "member"}})
	ts.must(t, 409, request{method: "POST", path: adminPath + at.bob.ID + "/deactivate", token: at.bob.Token})
	ts.must(t, 200, request{method: "POST", path: adminPath + at.alice.ID + "/deactivate", token: at.bob.Token})
	// A deactivated admin does not count: promoting dave (deactivated) keeps bob the last active one.
	ts.must(t, 200, request{method: "PATCH", path: adminPath + at.dave.ID, token: at.bob.Token, body: map[string]string{"role": "admin"}})
	ts.must(t, 409, request{method: "PATCH", path: adminPath + at.bob.ID, token: at.bob.Token, body: map[string]string{"role": "member"}})
}

// A password-reset link is built from the public URL, works exactly once within 24 h, sets the
// password, and ends every session of the account.
func TestPasswordResetLinkWorksOnceAndExpires(t *testing.T) {
	clock := newTestClock()
	ts := newTestServer(t, serverOptions{clock: clock.Now, storeClock: clock.Now, publicURL: "https://chat.example.com"})
	tm := ts.team(t)
	path := "/api/admin/users/" + tm.bob.ID + "/password-reset"
	issue := func() string {
		t.Helper()
		r := ts.must(t, 201, request{method: "POST", path: path, token: tm.alice.Token})
		link := r.str("link")
		token, ok := strings.CutPrefix(link, "https://chat.example.com/reset/")
		if !ok || token == "" {
			t.Fatalf("link %q", link)
		}
		return token
	}
	use := func(token, password string) response {
		return ts.do(t, request{method: "POST", path: "/api/auth/password-reset", body: map[string]string{"token": token, "newPassword": password}})
	}
	token := issue()
	bobs := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	bobs.next(t, wait)
	if r := use(token, "short"); r.Status != 400 {
		t.Fatalf("a short password: %d %s", r.Status, r.Raw)
	}
	if r := use("not-a-token", "a new password 1"); r.Status != 403 {
		t.Fatalf("a wrong token: %d %s", r.Status, r.Raw)
	}
	start := time.Now()
	if r := use(token, "a new password 1"); r.Status != 204 {
		t.Fatalf("reset: %d %s", r.Status, r.Raw)
	}
	if end := awaitSessionEnd(t, bobs, start, 5*time.Second); end.last.reason() != "password_changed" || end.after > time.Second {
		t.Fatalf("bob's stream: last %s %q after %s", end.last.Type, end.last.reason(), end.after)
	}
	ts.must(t, 401, request{method: "GET", path: "/api/me", token: tm.bob.Token})
	ts.must(t, 401, login("bob", "password-bob"))
	ts.must(t, 200, login("bob", "a new password 1"))
	if r := use(token, "a new password 2"); r.Status != 403 {
		t.Fatalf("the second use: %d %s", r.Status, r.Raw)
	}

	late := issue()
	clock.Advance(24 * time.Hour)
	if r := use(late, "a new password 3"); r.Status != 403 {
		t.Fatalf("after 24 h: %d %s", r.Status, r.Raw)
	}
	ts.must(t, 200, login("bob", "a new password 1"))

	bot := ts.must(t, 201, request{method: "POST", path: "/api/bots", token: tm.alice.Token, body: map[string]string{"name": "CI"}}).str("bot", "id")
	ts.must(t, 409, request{method: "POST", path: "/api/admin/users/" + bot + "/password-reset", token: tm.alice.Token})
}

// Using reset links is limited per client IP, like registration.
func TestPasswordResetIsLimitedPerIP(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: func(c *httpapi.Config) { c.RegisterIP = httpapi.Limit{Burst: 2, Every: time.Hour} }})
	ts.register(t, "alice", "")
	for i, want := range []int{403, 403, 429} {
		r := ts.do(t, request{method: "POST", path: "/api/auth/password-reset", body: map[string]string{"token": "guess", "newPassword": "a new password"}})
		if r.Status != want {
			t.Fatalf("attempt %d: %d %s, want %d", i+1, r.Status, r.Raw, want)
		}
	}
}

// An invite with maxUses N registers N people and refuses the next; without maxUses it is
// multi-use (DefaultInviteMaxUses); it expires when it says; listing shows uses left but never the
// code; revoking it ends it.
func TestMultiUseInvites(t *testing.T) {
	clock := newTestClock()
	ts := newTestServer(t, serverOptions{clock: clock.Now, storeClock: clock.Now, tune: func(c *httpapi.Config) { c.RegisterIP = httpapi.Off }})
	alice := ts.register(t, "alice", "")
	create := func(body any) response {
		t.Helper()
		return ts.must(t, 201, request{method: "POST", path: "/api/invites", token: alice.Token, body: body})
	}
	reg := func(name, code string) int {
		return ts.do(t, request{method: "POST", path: "/api/auth/register",
			body: map[string]string{"username": name, "password": "password-" + name, "inviteCode": code}}).Status
	}
	three := create(map[string]int{"maxUses": 3})
	code := three.str("code")
	for i, name := range []string{"bob", "carol", "dave"} {
		if s := reg(name, code); s != 201 {
			t.Fatalf("use %d: %d", i+1, s)
		}
	}
	if s := reg("erin", code); s != 403 {
		t.Fatalf("use 4 of 3: %d", s)
	}

	def := create(nil)
	if def.Body["maxUses"] != float64(backend.DefaultInviteMaxUses) {
		t.Fatalf("default invite: %s", def.Raw)
	}
	if want := clock.Now().Add(httpapi.DefaultInviteTTL).UnixMilli(); def.Body["expiresAt"] != float64(want) {
		t.Fatalf("default invite expires at %v, want %d", def.Body["expiresAt"], want)
	}
	for _, name := range []string{"frank", "grace"} {
		if s := reg(name, def.str("code")); s != 201 {
			t.Fatalf("default invite, %s: %d", name, s)
		}
	}

	list := ts.must(t, 200, request{method: "GET", path: "/api/invites", token: alice.Token})
	if strings.Contains(string(list.Raw), def.str("code")) || strings.Contains(string(list.Raw), `"code"`) {
		t.Fatalf("the list shows a code: %s", list.Raw)
	}
	invites, _ := list.Body["invites"].([]any)
	if len(invites) != 1 {
		t.Fatalf("invites: %s", list.Raw)
	}
	inv := invites[0].(map[string]any)
	if inv["id"] != def.str("id") || inv["uses"] != float64(2) || inv["maxUses"] != float64(backend.DefaultInviteMaxUses) || !strings.HasPrefix(def.str("code"), inv["hint"].(string)) {
		t.Fatalf("invite: %v (created %s)", inv, def.Raw)
	}
	ts.must(t, 204, request{method: "DELETE", path: "/api/invites/" + def.str("id"), token: alice.Token})
	ts.must(t, 404, request{method: "DELETE", path: "/api/invites/" + def.str("id"), token: alice.Token})
	if s := reg("heidi", def.str("code")); s != 403 {
		t.Fatalf("a revoked invite: %d", s)
	}

	hour := create(map[string]int{"expiresInHours": 1, "maxUses": 5})
	clock.Advance(time.Hour)
	if s := reg("ivan", hour.str("code")); s != 403 {
		t.Fatalf("an expired invite: %d", s)
	}
	for _, body := range []map[string]int{{"maxUses": -1}, {"maxUses": 1001}, {"expiresInHours": 721}, {"expiresInHours": -1}} {
		ts.must(t, 400, request{method: "POST", path: "/api/invites", token: alice.Token, body: body})
	}
}

// Of concurrent registrations on an invite's last use exactly one wins.
func TestInviteLastUseGoesToExactlyOne(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: func(c *httpapi.Config) { c.RegisterIP = httpapi.Off }})
	alice := ts.register(t, "alice", "")
	code := ts.must(t, 201, request{method: "POST", path: "/api/invites", token: alice.Token, body: map[string]int{"maxUses": 2}}).str("code")
	ts.register(t, "first", code)
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "racer" + string(rune('a'+i))
			statuses[i] = ts.do(t, request{method: "POST", path: "/api/auth/register",
				body: map[string]string{"username": name, "password": "password-" + name, "inviteCode": code}}).Status
		}()
	}
	wg.Wait()
	won := 0
	for _, s := range statuses {
		switch s {
		case 201:
			won++
		case 403:
		default:
			t.Fatalf("statuses %v", statuses)
		}
	}
	if won != 1 {
		t.Fatalf("%d registrations won the last use (statuses %v), want exactly 1", won, statuses)
	}
}

// Admin actions land in the audit log, newest first, in pages.
func TestAuditLogRecordsAdminActions(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	at := ts.adminTeam(t) // invites (3), dave deactivated, a bot created
	ts.must(t, 200, request{method: "PATCH", path: "/api/admin/users/" + at.bob.ID, token: at.alice.Token, body: map[string]string{"role": "admin"}})
	ts.must(t, 201, request{method: "POST", path: "/api/admin/users/" + at.carol.ID + "/password-reset", token: at.alice.Token})
	ts.must(t, 200, request{method: "PATCH", path: "/api/team", token: at.alice.Token, body: map[string]string{"name": "Acme"}})
	ts.must(t, 200, request{method: "PATCH", path: "/api/bots/" + at.botID, token: at.alice.Token, body: map[string]string{"displayName": "Builder"}})
	ts.must(t, 201, request{method: "POST", path: "/api/bots/" + at.botID + "/token", token: at.alice.Token})
	ts.must(t, 204, request{method: "DELETE", path: "/api/bots/" + at.botID, token: at.alice.Token})

	var actions []string
	before := ""
	for pages := 0; ; pages++ {
		path := "/api/admin/audit?limit=4"
		if before != "" {
			path += "&before=" + before
		}
		r := ts.must(t, 200, request{method: "GET", path: path, token: at.alice.Token})
		entries, _ := r.Body["entries"].([]any)
		for _, e := range entries {
			m := e.(map[string]any)
			if m["actorId"] != at.alice.ID || m["createdAt"] == nil {
				t.Fatalf("entry %v", m)
			}
			actions = append(actions, m["action"].(string))
			before = m["id"].(string)
		}
		if !r.flag("hasMore") {
			break
		}
		if pages > 5 {
			t.Fatal("the pages do not end")
		}
	}
	want := []string{backend.AuditBotDeleted, backend.AuditBotTokenRotated, backend.AuditBotUpdated, backend.AuditTeamUpdated,
		backend.AuditPasswordReset, backend.AuditRoleChanged, backend.AuditBotCreated, backend.AuditUserDeactivated,
		backend.AuditInviteCreated, backend.AuditInviteCreated, backend.AuditInviteCreated}
	if strings.Join(actions, " ") != strings.Join(want, " ") {
		t.Fatalf("audit log, newest first:\n got %v\nwant %v", actions, want)
	}
	ts.must(t, 400, request{method: "GET", path: "/api/admin/audit?before=nope", token: at.alice.Token})
}

// Team settings: everyone reads them, admins change them, and every stream hears TEAM_UPDATED.
func TestTeamSettings(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	r := ts.must(t, 200, request{method: "GET", path: "/api/team", token: tm.bob.Token})
	if r.str("team", "name") != "Herald" || r.str("team", "channelCreation") != "everyone" {
		t.Fatalf("default team: %s", r.Raw)
	}
	carols := ts.openStream(t, "/api/stream", tm.carol.Token, "") // in no chat: hears it all the same
	carols.next(t, wait)
	r = ts.must(t, 200, request{method: "PATCH", path: "/api/team", token: tm.alice.Token,
		body: map[string]string{"name": " Acme ", "channelCreation": "admins", "iconUrl": "https://example.com/icon.png"}})
	if r.str("team", "name") != "Acme" || r.str("team", "channelCreation") != "admins" {
		t.Fatalf("patched team: %s", r.Raw)
	}
	if ev := carols.nextOfType(t, "TEAM_UPDATED", wait); !containsAll(ev.Data(), `"name":"Acme"`, `"channelCreation":"admins"`) || ev.ID == "" {
		t.Fatalf("TEAM_UPDATED: %s", ev.Data())
	}
	if info := ts.must(t, 200, request{method: "GET", path: "/api/server"}); info.str("teamName") != "Acme" {
		t.Fatalf("/api/server: %s", info.Raw)
	}
	for _, body := range []map[string]string{{"name": ""}, {"channelCreation": "some"}, {"iconUrl": "http://example.com/x.png"}, {"colour": "red"}} {
		ts.must(t, 400, request{method: "PATCH", path: "/api/team", token: tm.alice.Token, body: body})
	}
}

// A deactivated account joins nothing new: adding them to a chat, naming them in a new chat or
// a new DM is 409 naming them; a DM that existed before stays reachable.
func TestDeactivatedAccountsAreNotAddedToChats(t *testing.T) {
	ts := newTestServer(t, serverOptions{noUserLimits: true})
	tm := ts.team(t)
	dm := ts.must(t, 201, request{method: "POST", path: "/api/dms", token: tm.alice.Token, body: map[string]any{"userIds": []string{tm.carol.ID}}}).str("chat", "id")
	ts.must(t, 200, request{method: "POST", path: "/api/admin/users/" + tm.carol.ID + "/deactivate", token: tm.alice.Token})

	for _, req := range []request{
		{method: "POST", path: "/api/chats/" + tm.chat + "/members", token: tm.alice.Token, body: map[string]string{"userId": tm.carol.ID}},
		{method: "POST", path: "/api/chats", token: tm.alice.Token, body: map[string]any{"name": "with-carol", "memberIds": []string{tm.carol.ID}}},
		{method: "POST", path: "/api/dms", token: tm.alice.Token, body: map[string]any{"userIds": []string{tm.bob.ID, tm.carol.ID}}},
	} {
		r := ts.must(t, 409, req)
		if !strings.Contains(r.str("error", "message"), "account is deactivated") {
			t.Errorf("%s %s: %s", req.method, req.path, r.Raw)
		}
	}
	if again := ts.must(t, 200, request{method: "POST", path: "/api/dms", token: tm.alice.Token, body: map[string]any{"userIds": []string{tm.carol.ID}}}); again.str("chat", "id") != dm {
		t.Fatalf("the existing DM: %s", again.Raw)
	}
	ts.must(t, 200, request{method: "POST", path: "/api/admin/users/" + tm.carol.ID + "/reactivate", token: tm.alice.Token})
	ts.must(t, 200, request{method: "POST", path: "/api/chats/" + tm.chat + "/members", token: tm.alice.Token, body: map[string]string{"userId": tm.carol.ID}})
}

// With channelCreation "admins", members get 403 creating a channel (a private chat is still
// theirs to make) and admins do not; back to "everyone", members may again.
func TestChannelCreationFollowsTheTeamSetting(t *testing.T) {
	ts := newTestServer(t, serverOptions{noUserLimits: true})
	tm := ts.team(t)
	ts.must(t, 201, request{method: "POST", path: "/api/chats", token: tm.bob.Token, body: map[string]string{"name": "bobs-channel", "kind": "channel"}})
	ts.must(t, 200, request{method: "PATCH", path: "/api/team", token: tm.alice.Token, body: map[string]string{"channelCreation": "admins"}})
	r := ts.must(t, 403, request{method: "POST", path: "/api/chats", token: tm.bob.Token, body: map[string]string{"name": "another", "kind": "channel"}})
	if !strings.Contains(r.str("error", "message"), "Only admins may create channels") {
		t.Fatalf("403: %s", r.Raw)
	}
	ts.must(t, 201, request{method: "POST", path: "/api/chats", token: tm.bob.Token, body: map[string]string{"name": "bobs-private", "kind": "private"}})
	ts.must(t, 201, request{method: "POST", path: "/api/chats", token: tm.alice.Token, body: map[string]string{"name": "announcements", "kind": "channel"}})
	ts.must(t, 200, request{method: "PATCH", path: "/api/team", token: tm.alice.Token, body: map[string]string{"channelCreation": "everyone"}})
	ts.must(t, 201, request{method: "POST", path: "/api/chats", token: tm.bob.Token, body: map[string]string{"name": "another", "kind": "channel"}})
}

// An admin renames a bot and deletes it: deleting ends its token's stream, its token stops
// working, it leaves the bot list, and its messages stay.
func TestBotRenameAndDelete(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	created := ts.must(t, 201, request{method: "POST", path: "/api/bots", token: tm.alice.Token, body: map[string]string{"name": "Build Bot"}})
	bot := account{ID: created.str("bot", "id"), Token: created.str("token")}
	ts.must(t, 200, request{method: "POST", path: "/api/chats/" + tm.chat + "/members", token: tm.alice.Token, body: map[string]string{"userId": bot.ID}})
	msg := ts.post(t, bot, tm.chat, "build green")

	bobs := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	r := ts.must(t, 200, request{method: "PATCH", path: "/api/bots/" + bot.ID, token: tm.alice.Token, body: map[string]string{"displayName": "Builder", "avatar": "🤖"}})
	if r.str("bot", "displayName") != "Builder" || r.str("bot", "avatar") != "🤖" || r.str("bot", "username") != "build-bot" {
		t.Fatalf("rename: %s", r.Raw)
	}
	if ev := bobs.nextOfType(t, "USER_UPDATED", wait); !strings.Contains(ev.Data(), `"displayName":"Builder"`) {
		t.Fatalf("USER_UPDATED: %s", ev.Data())
	}
	ts.must(t, 400, request{method: "PATCH", path: "/api/bots/" + bot.ID, token: tm.alice.Token, body: map[string]string{"displayName": ""}})
	ts.must(t, 404, request{method: "PATCH", path: "/api/bots/" + tm.bob.ID, token: tm.alice.Token, body: map[string]string{"displayName": "x"}})

	stream := ts.openStream(t, "/api/stream", bot.Token, "")
	stream.next(t, wait)
	start := time.Now()
	ts.must(t, 204, request{method: "DELETE", path: "/api/bots/" + bot.ID, token: tm.alice.Token})
	if end := awaitSessionEnd(t, stream, start, 5*time.Second); end.last.reason() != "deactivated" || end.after > time.Second {
		t.Fatalf("the bot's stream: last %s %q after %s", end.last.Type, end.last.reason(), end.after)
	}
	ts.must(t, 401, request{method: "GET", path: "/api/me", token: bot.Token})
	ts.must(t, 404, request{method: "DELETE", path: "/api/bots/" + bot.ID, token: tm.alice.Token})
	if list := ts.must(t, 200, request{method: "GET", path: "/api/bots", token: tm.alice.Token}); strings.Contains(string(list.Raw), bot.ID) {
		t.Fatalf("a deleted bot is listed: %s", list.Raw)
	}
	if h := ts.must(t, 200, request{method: "GET", path: "/api/chats/" + tm.chat + "/messages", token: tm.alice.Token}); !strings.Contains(string(h.Raw), msg) {
		t.Fatalf("the bot's message is gone: %s", h.Raw)
	}
}

// An admin's changes are limited: a burst of 30, then one a second (429 with Retry-After).
func TestAdminWritesAreLimited(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	alice := ts.register(t, "alice", "")
	for i := range 30 {
		ts.must(t, 200, request{method: "PATCH", path: "/api/team", token: alice.Token, body: map[string]string{"name": "Team " + string(rune('A'+i))}})
	}
	r := ts.must(t, 429, request{method: "POST", path: "/api/invites", token: alice.Token})
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("no Retry-After: %v", r.Header)
	}
	ts.must(t, 200, request{method: "GET", path: "/api/admin/users", token: alice.Token}) // reads are not limited
}

// An admin uploads the team's icon: everyone hears TEAM_UPDATED with its URL, anyone signed in
// fetches it at both sizes (a square PNG), a member may not change it, and taking it away (or
// giving an https URL instead) deletes it.
func TestTeamIconUploadServeAndDelete(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	carols := ts.openStream(t, "/api/stream", tm.carol.Token, "")
	carols.next(t, wait)
	png := encodePNG(t, avatarSource(300, 200))
	ts.must(t, 403, request{method: "PUT", path: "/api/team/icon", token: tm.bob.Token, raw: png})
	ts.must(t, 401, request{method: "PUT", path: "/api/team/icon", raw: png})
	ts.must(t, 404, request{method: "GET", path: "/api/team/icon", token: tm.bob.Token})

	r := ts.must(t, 200, request{method: "PUT", path: "/api/team/icon", token: tm.alice.Token, raw: png})
	url := r.str("team", "iconUrl")
	if !strings.HasPrefix(url, "/api/team/icon?v=") || r.str("team", "name") != "Herald" {
		t.Fatalf("team after the upload: %s", r.Raw)
	}
	if ev := carols.nextOfType(t, "TEAM_UPDATED", wait); !strings.Contains(ev.Data(), `"iconUrl":"`+url+`"`) {
		t.Fatalf("TEAM_UPDATED: %s", ev.Data())
	}
	for _, size := range []int{64, 256} {
		resp := ts.do(t, request{method: "GET", path: url + "&size=" + strconv.Itoa(size), token: tm.carol.Token})
		if resp.Status != 200 || resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Fatalf("size %d: %d %v", size, resp.Status, resp.Header)
		}
		img, _, err := image.Decode(bytes.NewReader(resp.Raw))
		if err != nil || img.Bounds().Dx() != size || img.Bounds().Dy() != size {
			t.Fatalf("size %d: %v %v", size, err, img.Bounds())
		}
	}
	ts.must(t, 401, request{method: "GET", path: url})
	ts.must(t, 415, request{method: "PUT", path: "/api/team/icon", token: tm.alice.Token, raw: []byte("not an image")})

	// An outside URL instead: the uploaded icon is gone.
	ts.must(t, 200, request{method: "PATCH", path: "/api/team", token: tm.alice.Token, body: map[string]string{"iconUrl": "https://example.com/icon.png"}})
	ts.must(t, 404, request{method: "GET", path: url, token: tm.bob.Token})
	// Uploaded again, then deleted: no icon at all.
	ts.must(t, 200, request{method: "PUT", path: "/api/team/icon", token: tm.alice.Token, raw: png})
	ts.must(t, 403, request{method: "DELETE", path: "/api/team/icon", token: tm.bob.Token})
	if d := ts.must(t, 200, request{method: "DELETE", path: "/api/team/icon", token: tm.alice.Token}); d.str("team", "iconUrl") != "" {
		t.Fatalf("after DELETE: %s", d.Raw)
	}
	ts.must(t, 404, request{method: "GET", path: "/api/team/icon", token: tm.bob.Token})
}
