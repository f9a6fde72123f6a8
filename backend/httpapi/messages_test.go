package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/httpapi"
)

// Every route of issue 10 against every kind of caller: the author, another member, an admin who
// is a member, a non-member, an admin who is not a member (membership comes first: admins too get
// 403), and nobody signed in (401).
func TestMessageRoutesAuthorization(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	type caller struct {
		name string
		who  account
		// private: the caller acts in #private, where bob wrote the message and alice (an
		// admin) is no member.
		private bool
	}
	callers := []caller{
		{"author", m.bob, false},
		{"other member", m.dave, false},
		{"admin member", m.alice, false},
		{"non-member", m.carol, false},
		{"non-member admin", m.alice, true},
		{"no auth", account{}, false},
	}
	// want lists the statuses for the first three callers; the last three are always 403, 403, 401.
	type route struct {
		name string
		rq   func(chat, msg string) request
		want [3]int
		// fresh: each caller gets a message of its own (the route changes it for good).
		fresh bool
	}
	body := func(method, path string, b any) request { return request{method: method, path: path, body: b} }
	routes := []route{
		{"PATCH message", func(c, id string) request {
			return body("PATCH", msgPath(c, id), map[string]string{"content": "edited"})
		}, [3]int{200, 403, 403}, false},
		{"DELETE message", func(c, id string) request { return body("DELETE", msgPath(c, id), nil) }, [3]int{204, 403, 204}, true},
		{"GET replies", func(c, id string) request { return body("GET", msgPath(c, id)+"/replies", nil) }, [3]int{200, 200, 200}, false},
		{"PUT reaction", func(c, id string) request { return body("PUT", reactionPath(c, id, "👍"), nil) }, [3]int{204, 204, 204}, false},
		{"DELETE reaction", func(c, id string) request { return body("DELETE", reactionPath(c, id, "👍"), nil) }, [3]int{204, 204, 204}, false},
		{"PUT pin", func(c, id string) request { return body("PUT", pinPath(c, id), nil) }, [3]int{204, 204, 204}, false},
		{"DELETE pin", func(c, id string) request { return body("DELETE", pinPath(c, id), nil) }, [3]int{204, 204, 204}, false},
		{"GET pins", func(c, _ string) request { return body("GET", "/api/chats/"+c+"/pins", nil) }, [3]int{200, 200, 200}, false},
		{"GET messages around", func(c, id string) request { return body("GET", msgsPath(c)+"?around="+id, nil) }, [3]int{200, 200, 200}, false},
		{"POST reply", func(c, id string) request {
			return body("POST", msgsPath(c), map[string]any{"content": "a reply", "parentId": id})
		}, [3]int{201, 201, 201}, false},
		{"POST read", func(c, id string) request {
			return body("POST", "/api/chats/"+c+"/read", map[string]string{"messageId": id})
		}, [3]int{204, 204, 204}, false},
		{"POST typing in a thread", func(c, id string) request {
			return body("POST", "/api/chats/"+c+"/typing", map[string]string{"parentId": id})
		}, [3]int{204, 204, 204}, false},
	}
	shared := map[bool]string{false: ts.say(t, m.bob, m.general, "the message").ID, true: ts.say(t, m.bob, m.private, "the private one").ID}
	for _, rt := range routes {
		for i, c := range callers {
			t.Run(rt.name+"/"+c.name, func(t *testing.T) {
				chat := map[bool]string{false: m.general, true: m.private}[c.private]
				id := shared[c.private]
				if rt.fresh {
					id = ts.say(t, m.bob, chat, "fresh for "+c.name).ID
				}
				want := [6]int{rt.want[0], rt.want[1], rt.want[2], 403, 403, 401}[i]
				rq := rt.rq(chat, id)
				rq.token = c.who.Token
				ts.check(t, want, rq)
			})
		}
	}

	// The refused requests changed nothing: the shared message is as its author's edit left it
	// (the members reacted and unreacted, pinned and unpinned), the private one untouched.
	got := ts.list(t, m.bob, msgsPath(m.general)+"?around="+shared[false]+"&limit=1").Messages[0]
	if got.Content != "edited" || len(got.Reactions) != 0 || got.Pinned || got.Deleted || got.ReplyCount != 3 {
		t.Fatalf("general's message after the matrix: %+v", got)
	}
	priv := ts.list(t, m.bob, msgsPath(m.private)+"?around="+shared[true]+"&limit=1").Messages[0]
	if priv.Content != "the private one" || priv.EditedAt != 0 || len(priv.Reactions) != 0 || priv.Pinned || priv.ReplyCount != 0 {
		t.Fatalf("private message after the matrix: %+v", priv)
	}
	// Of the fresh messages, those of the author and the admin are tombstones, the others not.
	deleted := map[string]bool{}
	for _, msg := range ts.list(t, m.bob, msgsPath(m.general)).Messages {
		if strings.HasPrefix(msg.Content, "fresh for ") || msg.Deleted {
			deleted[msg.Content] = msg.Deleted
		}
	}
	want := map[string]bool{"": true, "fresh for other member": false, "fresh for non-member": false, "fresh for no auth": false}
	if fmt.Sprint(deleted) != fmt.Sprint(want) {
		t.Fatalf("fresh messages deleted: %v, want the author's and the admin's tombstones and %v", deleted, want)
	}
	if n := len(ts.list(t, m.bob, msgsPath(m.general)).Messages); n != 6 { // the shared one, 5 fresh (the sixth is in #private)
		t.Fatalf("general holds %d messages, want 6 (replies are in their thread only)", n)
	}
}

// Each refusal of bad input with its status and error body: unknown and malformed ids, deleted
// messages, content bounds, threads that cannot be, and around with a cursor.
func TestMessageRoutesRefuseBadInput(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	g := m.general
	msg := ts.say(t, m.bob, g, "alive").ID
	reply := ts.reply(t, m.dave, g, msg, "a reply", false).ID
	gone := ts.say(t, m.bob, g, "to be deleted").ID
	ts.pin(t, m.bob, g, gone)
	ts.react(t, m.dave, g, gone, "👍")
	ts.deleteMsg(t, m.bob, g, gone)
	elsewhere := ts.say(t, m.bob, m.private, "in private").ID
	tok := m.bob.Token
	read := func(id string) request {
		return request{method: "POST", path: "/api/chats/" + g + "/read", token: tok, body: map[string]string{"messageId": id}}
	}
	post := func(b map[string]any) request { return request{method: "POST", path: msgsPath(g), token: tok, body: b} }
	patch := func(id string, content any) request {
		return request{method: "PATCH", path: msgPath(g, id), token: tok, body: map[string]any{"content": content}}
	}
	req := func(method, path string) request { return request{method: method, path: path, token: tok} }
	cases := []struct {
		name   string
		rq     request
		status int
	}{
		// An id no message has: 404 on every route.
		{"edit unknown", patch(unknownID, "x"), 404},
		{"delete unknown", req("DELETE", msgPath(g, unknownID)), 404},
		{"replies of unknown", req("GET", msgPath(g, unknownID)+"/replies"), 404},
		{"react to unknown", req("PUT", reactionPath(g, unknownID, "👍")), 404},
		{"unreact unknown", req("DELETE", reactionPath(g, unknownID, "👍")), 404},
		{"pin unknown", req("PUT", pinPath(g, unknownID)), 404},
		{"unpin unknown", req("DELETE", pinPath(g, unknownID)), 404},
		{"around unknown", req("GET", msgsPath(g)+"?around="+unknownID), 404},
		{"read unknown", read(unknownID), 404},
		{"reply to unknown", post(map[string]any{"content": "x", "parentId": unknownID}), 404},
		// A message of another chat is unknown in this one, though the caller is in both.
		{"edit through another chat", request{method: "PATCH", path: msgPath(g, elsewhere), token: tok, body: map[string]string{"content": "x"}}, 404},
		{"delete through another chat", req("DELETE", msgPath(g, elsewhere)), 404},
		{"react through another chat", req("PUT", reactionPath(g, elsewhere, "👍")), 404},
		{"pin through another chat", req("PUT", pinPath(g, elsewhere)), 404},
		{"around through another chat", req("GET", msgsPath(g)+"?around="+elsewhere), 404},
		{"reply through another chat", post(map[string]any{"content": "x", "parentId": elsewhere}), 404},
		{"read through another chat", read(elsewhere), 404},
		{"unknown chat", req("DELETE", msgPath(unknownID, msg)), 404},
		// Malformed ids: 400 before anything is looked up.
		{"edit malformed", patch("nope", "x"), 400},
		{"delete malformed", req("DELETE", msgPath(g, "nope")), 400},
		{"delete lower-case id", req("DELETE", msgPath(g, strings.ToLower(msg))), 400},
		{"replies of malformed", req("GET", msgPath(g, "nope")+"/replies"), 400},
		{"react to malformed", req("PUT", reactionPath(g, "nope", "👍")), 400},
		{"unreact malformed", req("DELETE", reactionPath(g, "nope", "👍")), 400},
		{"pin malformed", req("PUT", pinPath(g, "nope")), 400},
		{"unpin malformed", req("DELETE", pinPath(g, "nope")), 400},
		{"around malformed", req("GET", msgsPath(g)+"?around=nope"), 400},
		{"read malformed", read("nope"), 400},
		{"reply to malformed", post(map[string]any{"content": "x", "parentId": "nope"}), 400},
		{"typing in a malformed thread", request{method: "POST", path: "/api/chats/" + g + "/typing", token: tok, body: map[string]string{"parentId": "nope"}}, 400},
		{"replies page with a malformed cursor", req("GET", msgPath(g, msg)+"/replies?before=nope"), 400},
		{"replies page with limit 0", req("GET", msgPath(g, msg)+"/replies?limit=0"), 400},
		{"replies page with limit 201", req("GET", msgPath(g, msg)+"/replies?limit=201"), 400},
		// Tombstones: no edits, reactions, pins or replies.
		{"edit a tombstone", patch(gone, "back"), 409},
		{"react to a tombstone", req("PUT", reactionPath(g, gone, "🎉")), 409},
		{"unreact a tombstone", req("DELETE", reactionPath(g, gone, "👍")), 409},
		{"pin a tombstone", req("PUT", pinPath(g, gone)), 409},
		{"reply to a tombstone", post(map[string]any{"content": "x", "parentId": gone}), 409},
		// Content.
		{"edit to empty", patch(msg, ""), 400},
		{"edit to blank", patch(msg, " \n\t"), 400},
		{"edit to 8001 characters", patch(msg, strings.Repeat("é", 8001)), 400},
		{"edit to a control character", patch(msg, "a\x00b"), 400},
		{"edit to a number", patch(msg, 5), 400},
		{"edit without content", request{method: "PATCH", path: msgPath(g, msg), token: tok, body: map[string]any{}}, 400},
		{"edit with an unknown field", request{method: "PATCH", path: msgPath(g, msg), token: tok, body: map[string]any{"content": "x", "pinned": true}}, 400},
		{"reply with empty content", post(map[string]any{"content": "", "parentId": msg}), 400},
		// Threads.
		{"alsoToChat without parentId", post(map[string]any{"content": "x", "alsoToChat": true}), 400},
		{"reply to a reply", post(map[string]any{"content": "x", "parentId": reply}), 400},
		{"replies of a reply", req("GET", msgPath(g, reply)+"/replies"), 400},
		// around goes alone.
		{"around with before", req("GET", msgsPath(g)+"?around="+msg+"&before="+msg), 400},
		{"around with after", req("GET", msgsPath(g)+"?around="+msg+"&after="+msg), 400},
		{"around with limit 0", req("GET", msgsPath(g)+"?around="+msg+"&limit=0"), 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { ts.check(t, tc.status, tc.rq) })
	}

	// What is allowed at the edges: 8000 characters, a tombstone deleted again, a tombstone
	// unpinned, the unchanged content.
	long := strings.Repeat("é", backend.MaxContentLen)
	if got := ts.edit(t, m.bob, g, msg, long); got.Content != long || got.EditedAt == 0 {
		t.Fatalf("8000 characters: %d characters, editedAt %d", len([]rune(got.Content)), got.EditedAt)
	}
	ts.deleteMsg(t, m.bob, g, gone)
	ts.deleteMsg(t, m.alice, g, gone)
	ts.must(t, 204, request{method: "DELETE", path: pinPath(g, gone), token: tok})

	// Nothing refused was written: the history holds msg (edited once), the tombstone and no
	// reply of the thread-only kind; msg's thread holds the one reply.
	hist := ts.list(t, m.bob, msgsPath(g))
	if fmt.Sprint(hist.ids()) != fmt.Sprint([]string{msg, gone}) {
		t.Fatalf("history %v, want [%s %s]", hist.ids(), msg, gone)
	}
	if th := ts.list(t, m.bob, msgPath(g, msg)+"/replies"); fmt.Sprint(th.ids()) != fmt.Sprint([]string{reply}) {
		t.Fatalf("thread %v, want [%s]", th.ids(), reply)
	}
	if tomb := hist.byID(gone); !tomb.Deleted || tomb.Content != "" || tomb.Pinned || tomb.Reactions != nil {
		t.Fatalf("tombstone %+v", tomb)
	}
	if pins := ts.list(t, m.bob, "/api/chats/"+g+"/pins"); len(pins.Messages) != 0 {
		t.Fatalf("pins %v", pins.ids())
	}
}

// A reaction is one emoji sequence, URL-escaped; anything else is 400. A message holds at most 20
// distinct emoji.
func TestReactionEmoji(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	g := m.general
	msg := ts.say(t, m.bob, g, "react to me").ID

	// The escaped thumbs up, spelled out as a client sends it.
	ts.must(t, 204, request{method: "PUT", path: msgPath(g, msg) + "/reactions/%F0%9F%91%8D", token: m.dave.Token})
	good := []string{
		"👍",               // already there: 204 all the same
		"👨\u200d👩\u200d👧", // a ZWJ family
		"🇩🇪",              // a flag
		"1\ufe0f\u20e3",   // keycap 1
		"#\u20e3",         // keycap # without the variation selector
		"👍🏽",              // a skin tone
		"❤\ufe0f",         // a text-default pictograph made emoji
		"🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", // England
		"🧑🏽\u200d💻", // a ZWJ sequence with a skin tone
	}
	for _, e := range good {
		ts.must(t, 204, request{method: "PUT", path: reactionPath(g, msg, e), token: m.dave.Token})
	}
	bad := []string{
		"a", "👍👍", "<script>", " ", "1", "#", ":+1:", "🇩", "🏽", "👍\u200d", "\u200d👍", "👍\ufe0f\ufe0f",
		"e\u0301", "\u2764\u2764", strings.Repeat("👍\u200d", 16) + "👍", "👍 ", "🏴\U000e0067x\U000e007f", "\ufe0f",
	}
	for _, e := range bad {
		t.Run(fmt.Sprintf("%q", e), func(t *testing.T) {
			ts.check(t, 400, request{method: "PUT", path: reactionPath(g, msg, e), token: m.dave.Token})
			ts.check(t, 400, request{method: "DELETE", path: reactionPath(g, msg, e), token: m.dave.Token})
		})
	}
	// An empty emoji is no emoji either: 400, as for any other non-emoji, not "no such route".
	for _, method := range []string{"PUT", "DELETE"} {
		ts.check(t, 400, request{method: method, path: msgPath(g, msg) + "/reactions/", token: m.dave.Token})
	}

	got := ts.list(t, m.bob, msgsPath(g)+"?around="+msg+"&limit=1").Messages[0]
	var emoji []string
	for _, r := range got.Reactions {
		if r.Count != 1 || fmt.Sprint(r.UserIDs) != fmt.Sprint([]string{m.dave.ID}) {
			t.Fatalf("reaction %+v, want dave's alone", r)
		}
		emoji = append(emoji, r.Emoji)
	}
	if fmt.Sprint(emoji) != fmt.Sprint(good) {
		t.Fatalf("reactions %q, want %q in the order they were first used", emoji, good)
	}

	// 20 distinct emoji fill a message; the 21st is 409 and leaves it as it was. Removing one
	// makes room.
	full := ts.say(t, m.bob, g, "popular").ID
	for i := range backend.MaxReactions {
		ts.react(t, m.alice, g, full, string(rune(0x1F600+i)))
	}
	ts.check(t, 409, request{method: "PUT", path: reactionPath(g, full, "🚀"), token: m.dave.Token})
	ts.react(t, m.dave, g, full, string(rune(0x1F600))) // an emoji already there: another user, no new one
	ts.must(t, 204, request{method: "DELETE", path: reactionPath(g, full, string(rune(0x1F601))), token: m.alice.Token})
	ts.react(t, m.dave, g, full, "🚀")
	got = ts.list(t, m.bob, msgsPath(g)+"?around="+full+"&limit=1").Messages[0]
	if len(got.Reactions) != backend.MaxReactions || got.Reactions[0].Count != 2 || got.Reactions[backend.MaxReactions-1].Emoji != "🚀" {
		t.Fatalf("reactions after the 21st was refused and one removed: %+v", got.Reactions)
	}
}

// Reactions, pins and deletes share a per-user bucket; edits count against the message limit.
// Beyond either: 429 with Retry-After.
func TestReactionsPinsAndDeletesAreLimitedPerUser(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: func(c *httpapi.Config) {
		c.Reactions = httpapi.Limit{Burst: 3, Every: time.Hour}
		c.Messages = httpapi.Limit{Burst: 4, Every: time.Hour}
	}})
	m := ts.msgTeam(t)
	g := m.general
	a := ts.say(t, m.bob, g, "one").ID
	b := ts.say(t, m.bob, g, "two").ID
	ts.react(t, m.bob, g, a, "👍")
	ts.pin(t, m.bob, g, a)
	ts.deleteMsg(t, m.bob, g, b)
	for _, rq := range []request{
		{method: "PUT", path: reactionPath(g, a, "🎉")},
		{method: "DELETE", path: reactionPath(g, a, "👍")},
		{method: "DELETE", path: pinPath(g, a)},
		{method: "DELETE", path: msgPath(g, a)},
	} {
		rq.token = m.bob.Token
		r := ts.check(t, 429, rq)
		if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Fatalf("%s %s: Retry-After %q", rq.method, rq.path, ra)
		}
	}
	ts.react(t, m.dave, g, a, "🎉") // per user

	// Two posts and two edits use the message burst of 4; the next edit and post wait.
	ts.edit(t, m.bob, g, a, "one, edited")
	ts.edit(t, m.bob, g, a, "one, edited twice")
	r := ts.check(t, 429, request{method: "PATCH", path: msgPath(g, a), token: m.bob.Token, body: map[string]string{"content": "three"}})
	if r.Header.Get("Retry-After") == "" || !strings.Contains(r.str("error", "message"), "too fast") {
		t.Fatalf("edit beyond the limit: %v %s", r.Header, r.Raw)
	}
	ts.check(t, 429, request{method: "POST", path: msgsPath(g), token: m.bob.Token, body: map[string]string{"content": "more"}})
	// The refused requests changed nothing.
	got := ts.list(t, m.bob, msgsPath(g)+"?around="+a+"&limit=1").Messages[0]
	if got.Content != "one, edited twice" || !got.Pinned || len(got.Reactions) != 2 {
		t.Fatalf("after the refusals: %+v", got)
	}
}
