package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/httpapi"
)

// chanTeam is the cast of the membership tests: alice is the admin and in no chat of bob's; bob
// owns #dev (a channel) with dave and erin as members; carol is in no chat.
type chanTeam struct {
	alice, bob, dave, erin, carol account
}

func (ts *testServer) chanTeam(tb testing.TB) chanTeam {
	tb.Helper()
	var c chanTeam
	c.alice = ts.register(tb, "alice", "")
	c.bob = ts.register(tb, "bob", ts.invite(tb, c.alice))
	c.dave = ts.register(tb, "dave", ts.invite(tb, c.alice))
	c.erin = ts.register(tb, "erin", ts.invite(tb, c.alice))
	c.carol = ts.register(tb, "carol", ts.invite(tb, c.alice))
	return c
}

// channel is a new channel of bob's with dave and erin.
func (ts *testServer) channel(tb testing.TB, c chanTeam, name string) string {
	tb.Helper()
	return ts.must(tb, http.StatusCreated, request{method: "POST", path: "/api/chats", token: c.bob.Token,
		body: map[string]any{"name": name, "kind": "channel", "memberIds": []string{c.dave.ID, c.erin.ID}}}).str("chat", "id")
}

func noChatLimits(c *httpapi.Config) {
	c.Messages, c.Reactions, c.Chats = httpapi.Off, httpapi.Off, httpapi.Off
}

func chatPath(id string) string { return "/api/chats/" + id }

// getChatAs is the chat as GET /api/chats/{id} shows it to who.
func (ts *testServer) getChatAs(tb testing.TB, who account, id string) *backend.Chat {
	tb.Helper()
	r := ts.must(tb, http.StatusOK, request{method: "GET", path: chatPath(id), token: who.Token})
	return decode[struct {
		Chat *backend.Chat `json:"chat"`
	}](tb, r).Chat
}

// Every new endpoint as the channel's owner, a member, a non-member, an admin who is no member,
// and without credentials; each case on a fresh channel.
func TestChannelEndpointsByRole(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noChatLimits})
	c := ts.chanTeam(t)
	roles := []struct {
		name string
		who  account
	}{{"owner", c.bob}, {"member", c.dave}, {"non-member", c.carol}, {"admin", c.alice}, {"no auth", account{}}}
	type endpoint struct {
		name   string
		req    func(chat string) request
		status map[string]int // by role
		after  func(t *testing.T, chat string, who account, status int)
	}
	endpoints := []endpoint{
		{"PATCH topic", func(chat string) request {
			return request{method: "PATCH", path: chatPath(chat), body: map[string]any{"topic": "Builds and deploys"}}
		}, map[string]int{"owner": 200, "member": 403, "non-member": 403, "admin": 200, "no auth": 401},
			func(t *testing.T, chat string, _ account, status int) {
				if got := ts.getChatAs(t, c.bob, chat).Topic; (got == "Builds and deploys") != (status == 200) {
					t.Errorf("topic = %q after %d", got, status)
				}
			}},
		{"DELETE member erin", func(chat string) request {
			return request{method: "DELETE", path: chatPath(chat) + "/members/" + c.erin.ID}
		}, map[string]int{"owner": 200, "member": 403, "non-member": 403, "admin": 200, "no auth": 401},
			func(t *testing.T, chat string, _ account, status int) {
				if in := ts.getChatAs(t, c.bob, chat).HasMember(c.erin.ID); in == (status == 200) {
					t.Errorf("erin member = %v after %d", in, status)
				}
			}},
		{"POST member carol", func(chat string) request {
			return request{method: "POST", path: chatPath(chat) + "/members", body: map[string]any{"userId": c.carol.ID}}
		}, map[string]int{"owner": 200, "member": 403, "non-member": 403, "admin": 200, "no auth": 401},
			func(t *testing.T, chat string, _ account, status int) {
				if in := ts.getChatAs(t, c.bob, chat).HasMember(c.carol.ID); in != (status == 200) {
					t.Errorf("carol member = %v after %d", in, status)
				}
			}},
		{"join", func(chat string) request {
			return request{method: "POST", path: chatPath(chat) + "/join"}
		}, map[string]int{"owner": 200, "member": 200, "non-member": 200, "admin": 200, "no auth": 401},
			func(t *testing.T, chat string, who account, status int) {
				if status == 200 && !ts.getChatAs(t, c.bob, chat).HasMember(who.ID) {
					t.Errorf("not a member after joining")
				}
			}},
		{"leave", func(chat string) request {
			return request{method: "POST", path: chatPath(chat) + "/leave"}
		}, map[string]int{"owner": 204, "member": 204, "non-member": 403, "admin": 403, "no auth": 401},
			func(t *testing.T, chat string, who account, status int) {
				if status == 204 {
					ts.check(t, 403, request{method: "GET", path: chatPath(chat), token: who.Token})
				}
			}},
		{"PATCH archive", func(chat string) request {
			return request{method: "PATCH", path: chatPath(chat), body: map[string]any{"archived": true}}
		}, map[string]int{"owner": 200, "member": 403, "non-member": 403, "admin": 200, "no auth": 401},
			func(t *testing.T, chat string, _ account, status int) {
				if got := ts.getChatAs(t, c.bob, chat).Archived; got != (status == 200) {
					t.Errorf("archived = %v after %d", got, status)
				}
			}},
		{"PATCH owners", func(chat string) request {
			return request{method: "PATCH", path: chatPath(chat), body: map[string]any{"ownerIds": []string{c.bob.ID, c.dave.ID}}}
		}, map[string]int{"owner": 200, "member": 403, "non-member": 403, "admin": 200, "no auth": 401},
			func(t *testing.T, chat string, _ account, status int) {
				if got := ts.getChatAs(t, c.bob, chat).OwnerIDs; slices.Contains(got, c.dave.ID) != (status == 200) {
					t.Errorf("owners = %v after %d", got, status)
				}
			}},
	}
	n := 0
	for _, ep := range endpoints {
		for _, role := range roles {
			t.Run(ep.name+"/"+role.name, func(t *testing.T) {
				n++
				chat := ts.channel(t, c, "dev-"+strings.Repeat("x", n))
				rq := ep.req(chat)
				rq.token = role.who.Token
				want := ep.status[role.name]
				ts.check(t, want, rq)
				ep.after(t, chat, role.who, want)
			})
		}
	}

	t.Run("browse", func(t *testing.T) {
		chat := ts.channel(t, c, "browsable")
		archived := ts.channel(t, c, "old")
		ts.must(t, 200, request{method: "PATCH", path: chatPath(archived), token: c.bob.Token, body: map[string]any{"archived": true}})
		private := ts.createChat(t, c.bob, "secret", c.dave.ID)
		for _, role := range roles {
			r := ts.do(t, request{method: "GET", path: "/api/chats/browse", token: role.who.Token})
			if role.who.Token == "" {
				wantError(t, r, 401, "unauthorized")
				continue
			}
			chans := decode[struct {
				Channels []*backend.ChannelInfo `json:"channels"`
			}](t, r).Channels
			var found *backend.ChannelInfo
			for _, ch := range chans {
				if ch.ID == archived || ch.ID == private {
					t.Errorf("%s: browse lists %s (archived or private)", role.name, ch.Name)
				}
				if ch.ID == chat {
					found = ch
				}
			}
			if found == nil || found.MemberCount != 3 || found.Joined != (role.name == "owner" || role.name == "member") {
				t.Errorf("%s: browse entry = %+v", role.name, found)
			}
		}
	})

	t.Run("dms", func(t *testing.T) {
		ts.check(t, 401, request{method: "POST", path: "/api/dms", body: map[string]any{"userIds": []string{c.dave.ID}}})
		r := ts.check(t, 201, request{method: "POST", path: "/api/dms", token: c.bob.Token, body: map[string]any{"userIds": []string{c.dave.ID}}})
		id := r.str("chat", "id")
		if r.str("chat", "kind") != "dm" || r.str("chat", "name") != "" {
			t.Errorf("dm = %s", r.Raw)
		}
		// The same people, asked by the other one, in another order: the same chat.
		again := ts.check(t, 200, request{method: "POST", path: "/api/dms", token: c.dave.Token, body: map[string]any{"userIds": []string{c.bob.ID, c.dave.ID}}})
		if again.str("chat", "id") != id {
			t.Errorf("second DM %s, want %s", again.str("chat", "id"), id)
		}
		ts.check(t, 400, request{method: "POST", path: "/api/dms", token: c.bob.Token, body: map[string]any{"userIds": []string{c.bob.ID}}})
		nine := []string{c.alice.ID, c.dave.ID, c.erin.ID, c.carol.ID}
		for range 2 {
			nine = append(nine, unknownID)
		}
		ts.check(t, 404, request{method: "POST", path: "/api/dms", token: c.bob.Token, body: map[string]any{"userIds": nine}})
		ts.check(t, 400, request{method: "POST", path: "/api/dms", token: c.bob.Token, body: map[string]any{"userIds": append(nine, nine[:3]...)}})
		// A non-member cannot read it; a DM cannot be managed, joined or added to.
		ts.check(t, 403, request{method: "GET", path: chatPath(id) + "/messages", token: c.carol.Token})
		ts.check(t, 400, request{method: "PATCH", path: chatPath(id), token: c.bob.Token, body: map[string]any{"name": "x"}})
		ts.check(t, 403, request{method: "PATCH", path: chatPath(id), token: c.alice.Token, body: map[string]any{"topic": "x"}})
		ts.check(t, 400, request{method: "DELETE", path: chatPath(id) + "/members/" + c.dave.ID, token: c.bob.Token})
		ts.check(t, 400, request{method: "POST", path: chatPath(id) + "/members", token: c.bob.Token, body: map[string]any{"userId": c.carol.ID}})
		ts.check(t, 403, request{method: "POST", path: chatPath(id) + "/join", token: c.carol.Token})
		// A member may set its topic.
		ts.check(t, 200, request{method: "PATCH", path: chatPath(id), token: c.dave.Token, body: map[string]any{"topic": "lunch"}})
	})
}

func TestDMConcurrentCreationMakesOne(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	c := ts.chanTeam(t)
	const n = 20
	ids := make([]string, n)
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			who, other := c.bob, c.dave
			if i%2 == 1 {
				who, other = c.dave, c.bob
			}
			r := ts.do(t, request{method: "POST", path: "/api/dms", token: who.Token,
				body: map[string]any{"userIds": []string{other.ID, c.erin.ID}}})
			ids[i], statuses[i] = r.str("chat", "id"), r.Status
		})
	}
	wg.Wait()
	created := 0
	for i := range n {
		if statuses[i] == 201 {
			created++
		} else if statuses[i] != 200 {
			t.Fatalf("request %d: status %d", i, statuses[i])
		}
		if ids[i] != ids[0] || ids[i] == "" {
			t.Fatalf("DM ids differ: %v", ids)
		}
	}
	if created != 1 {
		t.Fatalf("%d of %d requests created a DM, want 1", created, n)
	}
	r := ts.must(t, 200, request{method: "GET", path: "/api/chats", token: c.erin.Token})
	if got := len(decode[struct {
		Chats []*backend.ChatSummary `json:"chats"`
	}](t, r).Chats); got != 1 {
		t.Fatalf("erin has %d chats, want 1", got)
	}
}

// Leaving a DM hides it from its leaver's list until the next message; they stay a member.
func TestLeaveDMHidesUntilNextMessage(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noChatLimits})
	c := ts.chanTeam(t)
	dm := ts.must(t, 201, request{method: "POST", path: "/api/dms", token: c.bob.Token,
		body: map[string]any{"userIds": []string{c.dave.ID}}}).str("chat", "id")
	listed := func(who account) bool {
		r := ts.must(t, 200, request{method: "GET", path: "/api/chats", token: who.Token})
		return slices.ContainsFunc(decode[struct {
			Chats []*backend.ChatSummary `json:"chats"`
		}](t, r).Chats, func(s *backend.ChatSummary) bool { return s.ID == dm })
	}
	daves := ts.openStream(t, "/api/stream", c.dave.Token, "") // another of dave's devices
	bobs := ts.openStream(t, "/api/stream", c.bob.Token, "")
	ts.check(t, 204, request{method: "POST", path: chatPath(dm) + "/leave", token: c.dave.Token})
	if ev := daves.nextOfType(t, "CHAT_HIDDEN", wait); ev.ID == "" || !strings.Contains(ev.Data(), `"chatId":"`+dm+`"`) {
		t.Fatalf("CHAT_HIDDEN: id %q %s", ev.ID, ev.Data())
	}
	ts.check(t, 204, request{method: "POST", path: chatPath(dm) + "/leave", token: c.dave.Token}) // hidden already: no event
	if listed(c.dave) || !listed(c.bob) {
		t.Fatalf("after dave left: listed for dave %v, bob %v", listed(c.dave), listed(c.bob))
	}
	ts.must(t, 200, request{method: "GET", path: msgsPath(dm), token: c.dave.Token}) // still a member
	msg := ts.post(t, c.bob, dm, "still there?")
	// Up to the new message, neither of them hears of hiding again (dave) or at all (bob).
	for who, sc := range map[string]*streamClient{"dave": daves, "bob": bobs} {
		for ev := sc.nextEvent(t, wait); !(ev.Type == "NEW_MESSAGE" && strings.Contains(ev.Data(), msg)); ev = sc.nextEvent(t, wait) {
			if ev.Type == "CHAT_HIDDEN" {
				t.Fatalf("%s got another CHAT_HIDDEN: %s", who, ev.Data())
			}
		}
	}
	if !listed(c.dave) {
		t.Fatal("a new message did not show the DM again")
	}
	if ns := ts.notificationsAbout(t, c.dave, msg); len(ns) != 1 || ns[0].Title != "bob in a direct message" {
		t.Fatalf("dave's notifications about the DM message: %+v", ns)
	}
	ts.check(t, 204, request{method: "POST", path: chatPath(dm) + "/leave", token: c.dave.Token})
	ts.check(t, 200, request{method: "POST", path: "/api/dms", token: c.dave.Token, body: map[string]any{"userIds": []string{c.bob.ID}}})
	if !listed(c.dave) {
		t.Fatal("asking for the DM again did not show it")
	}
}

// Removal takes effect at once: the removed member's chat stream ends with CHAT_MEMBER_REMOVED,
// their user stream gets it and nothing of the chat after it, and the chat's history, search and
// stream refuse them.
func TestRemovalEndsVisibilityAndChatStream(t *testing.T) {
	ts := newSearchServer(t, serverOptions{tune: noChatLimits})
	c := ts.chanTeam(t)
	chat := ts.channel(t, c, "dev")
	ts.post(t, c.bob, chat, "zebra before")

	chatStream := ts.openStream(t, "/api/chat/"+chat+"/stream", c.dave.Token, "")
	userStream := ts.openStream(t, "/api/stream", c.dave.Token, "")
	bobStream := ts.openStream(t, "/api/stream", c.bob.Token, "")
	if chatStream.Status != 200 || userStream.Status != 200 {
		t.Fatalf("streams: %d %d", chatStream.Status, userStream.Status)
	}
	ts.must(t, 200, request{method: "DELETE", path: chatPath(chat) + "/members/" + c.dave.ID, token: c.bob.Token})

	ev, _ := chatStream.awaitType(t, "CHAT_MEMBER_REMOVED")
	if ev.ChatID != chat || ev.UserID != c.dave.ID || ev.ID == "" {
		t.Fatalf("CHAT_MEMBER_REMOVED = %s", ev.Data())
	}
	for _, f := range chatStream.waitEnd(t, wait) {
		if !f.IsComment && f.Event != "keepalive" {
			t.Errorf("chat stream went on after the removal: %q", f.Data)
		}
	}
	if ev, _ := userStream.awaitType(t, "CHAT_MEMBER_REMOVED"); ev.UserID != c.dave.ID {
		t.Fatalf("user stream: %s", ev.Data())
	}
	// Bob's list learns both: who left, and the chat without them.
	bobStream.awaitType(t, "CHAT_MEMBER_REMOVED")
	if up, _ := bobStream.awaitType(t, "CHAT_UPDATED"); up.Chat == nil || up.Chat.HasMember(c.dave.ID) {
		t.Fatalf("CHAT_UPDATED after removal: %s", up.Data())
	}

	ts.post(t, c.bob, chat, "zebra after")
	ts.fence(t, c.alice, "after removal", c.dave.ID)
	userStream.quiet(t, "after removal")

	ts.check(t, 403, request{method: "GET", path: msgsPath(chat), token: c.dave.Token})
	ts.check(t, 403, request{method: "GET", path: chatPath(chat), token: c.dave.Token})
	ts.check(t, 403, request{method: "POST", path: msgsPath(chat), token: c.dave.Token, body: map[string]any{"content": "hi"}})
	again := ts.openStream(t, "/api/chat/"+chat+"/stream", c.dave.Token, "")
	if again.Status != 403 {
		t.Fatalf("chat stream reopened after removal: %d", again.Status)
	}
	r := ts.must(t, 200, request{method: "GET", path: "/api/search?q=" + url.QueryEscape("zebra"), token: c.dave.Token})
	if got := r.Body["results"].([]any); len(got) != 0 {
		t.Fatalf("removed member's search found %d results: %s", len(got), r.Raw)
	}
	ts.check(t, 403, request{method: "GET", path: "/api/search?q=zebra&chatId=" + chat, token: c.dave.Token})
	// Bob still finds both.
	r = ts.must(t, 200, request{method: "GET", path: "/api/search?q=zebra", token: c.bob.Token})
	if got := r.Body["results"].([]any); len(got) != 2 {
		t.Fatalf("owner's search found %d results, want 2: %s", len(got), r.Raw)
	}
}

// Leaving a channel ends one's own chat stream the same way.
func TestLeaveEndsOwnChatStream(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noChatLimits})
	c := ts.chanTeam(t)
	chat := ts.channel(t, c, "dev")
	sc := ts.openStream(t, "/api/chat/"+chat+"/stream", c.erin.Token, "")
	ts.check(t, 204, request{method: "POST", path: chatPath(chat) + "/leave", token: c.erin.Token})
	if ev, _ := sc.awaitType(t, "CHAT_MEMBER_REMOVED"); ev.UserID != c.erin.ID {
		t.Fatalf("got %s", ev.Data())
	}
	sc.waitEnd(t, wait)
}

// A stream that resumes after a rename and an archive replays both as CHAT_UPDATED, in order.
func TestRenameAndArchiveReplayOnResume(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noChatLimits})
	c := ts.chanTeam(t)
	chat := ts.channel(t, c, "dev")
	last := ts.openStream(t, "/api/stream", c.dave.Token, "")
	ts.post(t, c.bob, chat, "before")
	resumeFrom := last.expect(t, "NEW_MESSAGE").ID
	last.close()

	ts.must(t, 200, request{method: "PATCH", path: chatPath(chat), token: c.bob.Token, body: map[string]any{"name": "Engineering", "topic": "all of it"}})
	ts.must(t, 200, request{method: "PATCH", path: chatPath(chat), token: c.alice.Token, body: map[string]any{"archived": true}})

	for _, path := range []string{"/api/stream", "/api/chat/" + chat + "/stream"} {
		sc := ts.openStream(t, path, c.dave.Token, resumeFrom)
		renamed, _ := sc.awaitType(t, "CHAT_UPDATED") // after dave's NOTIFICATION of the message
		if renamed.Chat == nil || renamed.Chat.Name != "Engineering" || renamed.Chat.Topic != "all of it" || renamed.Chat.Archived {
			t.Fatalf("%s: first replayed event %s", path, renamed.Data())
		}
		archived := sc.expect(t, "CHAT_UPDATED")
		if archived.Chat == nil || !archived.Chat.Archived || archived.Chat.Name != "Engineering" || archived.ID <= renamed.ID {
			t.Fatalf("%s: second replayed event %s", path, archived.Data())
		}
		sc.close()
	}
}

func TestArchivedChatIsReadOnly(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noChatLimits})
	c := ts.chanTeam(t)
	chat := ts.channel(t, c, "dev")
	msg := ts.say(t, c.dave, chat, "hello")
	ts.must(t, 200, request{method: "PATCH", path: chatPath(chat), token: c.bob.Token, body: map[string]any{"archived": true}})

	for _, rq := range []request{
		{method: "POST", path: msgsPath(chat), body: map[string]any{"content": "more"}},
		{method: "PATCH", path: msgPath(chat, msg.ID), body: map[string]any{"content": "edited"}},
		{method: "PUT", path: reactionPath(chat, msg.ID, "👍")},
		{method: "PUT", path: pinPath(chat, msg.ID)},
		{method: "POST", path: "/api/chats/" + chat + "/typing"},
	} {
		rq.token = c.dave.Token
		r := ts.check(t, 409, rq)
		if got := r.str("error", "message"); got != "This chat is archived." {
			t.Errorf("%s %s: message %q", rq.method, rq.path, got)
		}
	}
	// Reading still works; a rename waits for unarchiving; joining is refused.
	ts.must(t, 200, request{method: "GET", path: msgsPath(chat), token: c.dave.Token})
	ts.check(t, 409, request{method: "PATCH", path: chatPath(chat), token: c.bob.Token, body: map[string]any{"name": "dev2"}})
	ts.check(t, 409, request{method: "POST", path: chatPath(chat) + "/join", token: c.carol.Token})

	ts.must(t, 200, request{method: "PATCH", path: chatPath(chat), token: c.bob.Token, body: map[string]any{"archived": false}})
	ts.post(t, c.dave, chat, "back again")
}

func TestChatNamesUniqueIgnoringCase(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noChatLimits})
	c := ts.chanTeam(t)
	ts.channel(t, c, "General")
	for _, body := range []map[string]any{
		{"name": "general", "kind": "channel"},
		{"name": "GENERAL"}, // a private chat: the same namespace
	} {
		r := ts.check(t, 409, request{method: "POST", path: "/api/chats", token: c.dave.Token, body: body})
		if got := r.str("error", "message"); got != "A chat named #"+body["name"].(string)+" already exists." {
			t.Errorf("message %q", got)
		}
	}
	other := ts.channel(t, c, "random")
	ts.check(t, 409, request{method: "PATCH", path: chatPath(other), token: c.bob.Token, body: map[string]any{"name": "gEnErAl"}})
	// Its own name in another case is a rename, and frees nothing else.
	ts.check(t, 200, request{method: "PATCH", path: chatPath(other), token: c.bob.Token, body: map[string]any{"name": "Random"}})
	ts.check(t, 409, request{method: "POST", path: "/api/chats", token: c.dave.Token, body: map[string]any{"name": "RANDOM"}})
	// A rename frees the old name.
	ts.check(t, 200, request{method: "PATCH", path: chatPath(other), token: c.bob.Token, body: map[string]any{"name": "lobby"}})
	ts.check(t, 201, request{method: "POST", path: "/api/chats", token: c.dave.Token, body: map[string]any{"name": "random"}})
	// DMs have no name, so any number of them coexist.
	ts.check(t, 201, request{method: "POST", path: "/api/dms", token: c.dave.Token, body: map[string]any{"userIds": []string{c.bob.ID}}})
	ts.check(t, 201, request{method: "POST", path: "/api/dms", token: c.dave.Token, body: map[string]any{"userIds": []string{c.erin.ID}}})
}

func TestChatValidationAndLimit(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: func(cfg *httpapi.Config) { cfg.Chats = httpapi.Limit{Burst: 5, Every: 1 << 40} }})
	c := ts.chanTeam(t)
	ts.check(t, 400, request{method: "POST", path: "/api/chats", token: c.bob.Token, body: map[string]any{"name": "x", "kind": "dm"}})
	ts.check(t, 400, request{method: "POST", path: "/api/chats", token: c.bob.Token, body: map[string]any{"name": "x", "topic": strings.Repeat("t", backend.MaxTopicLen+1)}})
	r := ts.check(t, 201, request{method: "POST", path: "/api/chats", token: c.bob.Token, body: map[string]any{"name": "legacy"}})
	if r.str("chat", "kind") != "private" {
		t.Errorf("a chat without kind is %q, want private", r.str("chat", "kind"))
	}
	ts.check(t, 400, request{method: "PATCH", path: chatPath(r.str("chat", "id")), token: c.bob.Token, body: map[string]any{"ownerIds": []string{}}})
	ts.check(t, 400, request{method: "PATCH", path: chatPath(r.str("chat", "id")), token: c.bob.Token, body: map[string]any{"ownerIds": []string{c.carol.ID}}})
	ts.check(t, 400, request{method: "PATCH", path: chatPath(r.str("chat", "id")), token: c.bob.Token, body: map[string]any{"bogus": 1}})
	// legacy and the two refused owner changes took 3 of the 5 tokens (the store refused them).
	ts.check(t, 201, request{method: "POST", path: "/api/chats", token: c.bob.Token, body: map[string]any{"name": "two"}})
	ts.check(t, 201, request{method: "POST", path: "/api/chats", token: c.bob.Token, body: map[string]any{"name": "three"}})
	r = ts.check(t, 429, request{method: "POST", path: "/api/chats", token: c.bob.Token, body: map[string]any{"name": "four"}})
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	ts.check(t, 429, request{method: "POST", path: "/api/dms", token: c.bob.Token, body: map[string]any{"userIds": []string{c.dave.ID}}})
}
