package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/herald-chat/herald/backend"
)

// Edits, reactions, pins and deletes reach every member's stream as they happen; a change that
// changes nothing emits nothing.
func TestMessageChangesAreLive(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	g := m.general
	bob := ts.openStream(t, "/api/stream", m.bob.Token, "")
	dave := ts.openStream(t, "/api/stream", m.dave.Token, "")
	both := []*streamClient{bob, dave}
	// each insists that both streams' next event (presence aside) is of type typ, and returns
	// dave's.
	each := func(typ string) event {
		t.Helper()
		var got event
		for _, sc := range both {
			got = sc.expect(t, typ)
		}
		return got
	}

	msg := ts.say(t, m.bob, g, "first words")
	each("NEW_MESSAGE")
	if got := dave.expect(t, "NOTIFICATION"); got.Notification.MessageID != msg.ID {
		t.Fatalf("dave's notification %s", got.Data())
	}

	edited := ts.edit(t, m.bob, g, msg.ID, "better words")
	if edited.Content != "better words" || edited.EditedAt == 0 || edited.EditedAt < msg.CreatedAt || edited.CreatedAt != msg.CreatedAt {
		t.Fatalf("PATCH answered %+v", edited)
	}
	for _, sc := range both {
		up := sc.expect(t, "MESSAGE_UPDATED")
		if !up.Frame.HasID || up.ChatID != g || up.Message.ID != msg.ID || up.Message.Content != "better words" ||
			up.Message.EditedAt != edited.EditedAt {
			t.Fatalf("edit's MESSAGE_UPDATED: %s", up.Data())
		}
	}
	// The same content again: 200 with the message, no event, not notified again. The next
	// event both streams see is the reaction after it.
	if same := ts.edit(t, m.bob, g, msg.ID, "better words"); same.EditedAt != edited.EditedAt {
		t.Fatalf("an unchanged edit moved editedAt: %+v", same)
	}

	ts.react(t, m.dave, g, msg.ID, "👍")
	for _, sc := range both {
		up := sc.expect(t, "MESSAGE_UPDATED")
		want := `"reactions":[{"emoji":"👍","count":1,"userIds":["` + m.dave.ID + `"]}]`
		if !strings.Contains(up.Data(), want) || up.Message.Content != "better words" {
			t.Fatalf("reaction's MESSAGE_UPDATED lacks %s: %s", want, up.Data())
		}
	}
	// The same reaction again and one removed that is not there: 204, no event. The fence is
	// bob's reaction after them, which must be the next event.
	ts.react(t, m.dave, g, msg.ID, "👍")
	ts.must(t, 204, request{method: "DELETE", path: reactionPath(g, msg.ID, "🎉"), token: m.dave.Token})
	ts.react(t, m.bob, g, msg.ID, "👍")
	for _, sc := range both {
		up := sc.expect(t, "MESSAGE_UPDATED")
		if len(up.Message.Reactions) != 1 || up.Message.Reactions[0].Count != 2 ||
			fmt.Sprint(up.Message.Reactions[0].UserIDs) != fmt.Sprint([]string{m.dave.ID, m.bob.ID}) {
			t.Fatalf("after a repeated PUT the next event is %s, want bob's reaction", up.Data())
		}
	}
	ts.must(t, 204, request{method: "DELETE", path: reactionPath(g, msg.ID, "👍"), token: m.dave.Token})
	for _, sc := range both {
		up := sc.expect(t, "MESSAGE_UPDATED")
		if r := up.Message.Reactions; len(r) != 1 || r[0].Count != 1 || r[0].UserIDs[0] != m.bob.ID {
			t.Fatalf("unreact: %s", up.Data())
		}
	}

	ts.pin(t, m.dave, g, msg.ID)
	for _, sc := range both {
		if up := sc.expect(t, "MESSAGE_UPDATED"); !up.Message.Pinned || !strings.Contains(up.Data(), `"pinned":true`) {
			t.Fatalf("pin: %s", up.Data())
		}
	}
	ts.pin(t, m.bob, g, msg.ID) // pinned already: no event
	ts.must(t, 204, request{method: "DELETE", path: pinPath(g, msg.ID), token: m.bob.Token})
	for _, sc := range both {
		if up := sc.expect(t, "MESSAGE_UPDATED"); up.Message.Pinned || up.Message.Content != "better words" {
			t.Fatalf("the event after a repeated pin is %s, want the unpin", up.Data())
		}
	}

	ts.deleteMsg(t, m.bob, g, msg.ID)
	for _, sc := range both {
		del := sc.expect(t, "MESSAGE_DELETED")
		var payload map[string]any
		if err := json.Unmarshal([]byte(del.Data()), &payload); err != nil {
			t.Fatal(err)
		}
		if !del.Frame.HasID || payload["chatId"] != g || payload["messageId"] != msg.ID || payload["parentId"] != nil ||
			payload["message"] != nil || strings.Contains(del.Data(), "words") {
			t.Fatalf("MESSAGE_DELETED: %s", del.Data())
		}
	}
	// Deleting the tombstone again emits nothing.
	ts.deleteMsg(t, m.alice, g, msg.ID)
	ts.fence(t, m.alice, "after the second delete", m.bob.ID, m.dave.ID)
	for _, sc := range both {
		sc.quiet(t, "after the second delete")
	}
}

// A reply goes to every member's stream with its parentId, and the parent's new counts follow.
// The thread's followers (the parent's author and whoever replied) get a NOTIFICATION of kind
// reply — or a MENTION when the reply names them, never both; other members get nothing, unless
// the reply is also sent to the chat.
func TestRepliesAreLiveAndNotifyTheThread(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	g := m.general
	bob := ts.openStream(t, "/api/stream", m.bob.Token, "")
	dave := ts.openStream(t, "/api/stream", m.dave.Token, "")
	alice := ts.openStream(t, "/api/stream", m.alice.Token, "")
	bobNotes := ts.openStream(t, "/api/notifications/"+m.bob.ID+"/stream", m.bob.Token, "")
	all := []*streamClient{bob, dave, alice}

	parent := ts.say(t, m.bob, g, "what do we ship?")
	for _, sc := range all {
		sc.expect(t, "NEW_MESSAGE")
	}
	dave.expect(t, "NOTIFICATION")
	alice.expect(t, "NOTIFICATION")
	ts.fence(t, m.alice, "bob wrote it", m.bob.ID)
	bobNotes.quiet(t, "bob wrote it") // nothing personal for the author
	bob.quiet(t, "bob wrote it")

	// A thread-only reply by dave: every member sees it and the parent's counts; bob, the
	// parent's author, is notified; alice, who does not follow the thread, is not.
	r1 := ts.reply(t, m.dave, g, parent.ID, "the new search", false)
	if r1.ParentID != parent.ID || r1.AlsoToChat {
		t.Fatalf("POST answered %+v", r1)
	}
	for _, sc := range all {
		nm := sc.expect(t, "NEW_MESSAGE")
		if nm.Message.ID != r1.ID || nm.Message.ParentID != parent.ID || nm.Message.Content != "the new search" ||
			!strings.Contains(nm.Data(), `"parentId":"`+parent.ID+`"`) {
			t.Fatalf("reply's NEW_MESSAGE: %s", nm.Data())
		}
		up := sc.expect(t, "MESSAGE_UPDATED")
		if up.Message.ID != parent.ID || up.Message.ReplyCount != 1 || up.Message.LastReplyAt != r1.CreatedAt ||
			up.Message.Content != "what do we ship?" {
			t.Fatalf("parent's MESSAGE_UPDATED: %s", up.Data())
		}
	}
	n := bob.expect(t, "NOTIFICATION")
	if n.Notification.Type != backend.KindReply || n.Notification.MessageID != r1.ID || n.Notification.ParentID != parent.ID ||
		n.ChatID != g || n.Notification.Title != "dave replied in #general" || n.Notification.Body != "the new search" || !n.Notification.Notify {
		t.Fatalf("bob's reply notification: %s", n.Data())
	}
	if n2 := bobNotes.expect(t, "NOTIFICATION"); n2.Notification.ID != n.Notification.ID {
		t.Fatalf("bob's notification stream: %s", n2.Data())
	}
	ts.fence(t, m.alice, "after r1", m.alice.ID, m.dave.ID)
	alice.quiet(t, "after r1") // no follower: nothing
	dave.quiet(t, "after r1")  // its author: nothing

	// A reply that names bob: he gets the MENTION instead of the reply notification.
	r2 := ts.reply(t, m.dave, g, parent.ID, "@bob what do you think?", false)
	for _, sc := range all {
		sc.expect(t, "NEW_MESSAGE")
		if up := sc.expect(t, "MESSAGE_UPDATED"); up.Message.ReplyCount != 2 || up.Message.LastReplyAt != r2.CreatedAt {
			t.Fatalf("parent after r2: %s", up.Data())
		}
	}
	mention := bob.expect(t, "MENTION")
	if mention.Message.ID != r2.ID || mention.Notification.Type != backend.KindMention || mention.Notification.MessageID != r2.ID ||
		mention.Notification.ParentID != parent.ID {
		t.Fatalf("bob's MENTION: %s", mention.Data())
	}
	ts.fence(t, m.alice, "after r2", m.bob.ID, m.alice.ID)
	bob.quiet(t, "after r2") // not also a reply notification
	alice.quiet(t, "after r2")

	// bob's reply: dave follows now (he replied), alice still does not.
	r3 := ts.reply(t, m.bob, g, parent.ID, "ship it", false)
	for _, sc := range all {
		sc.expect(t, "NEW_MESSAGE")
		sc.expect(t, "MESSAGE_UPDATED")
	}
	if n := dave.expect(t, "NOTIFICATION"); n.Notification.Type != backend.KindReply || n.Notification.MessageID != r3.ID {
		t.Fatalf("dave, who replied, is not notified as a follower: %s", n.Data())
	}
	ts.fence(t, m.alice, "after r3", m.alice.ID, m.bob.ID)
	alice.quiet(t, "after r3")
	bob.quiet(t, "after r3")

	// A reply also sent to the chat: followers get the reply kind, everyone else the message
	// kind, as for any message in the chat.
	r4 := ts.reply(t, m.dave, g, parent.ID, "also in the chat", true)
	if !r4.AlsoToChat {
		t.Fatalf("POST answered %+v", r4)
	}
	for _, sc := range all {
		if nm := sc.expect(t, "NEW_MESSAGE"); !nm.Message.AlsoToChat || nm.Message.ParentID != parent.ID {
			t.Fatalf("alsoToChat reply: %s", nm.Data())
		}
		sc.expect(t, "MESSAGE_UPDATED")
	}
	if n := bob.expect(t, "NOTIFICATION"); n.Notification.Type != backend.KindReply || n.Notification.MessageID != r4.ID {
		t.Fatalf("bob (a follower) on an alsoToChat reply: %s", n.Data())
	}
	if n := alice.expect(t, "NOTIFICATION"); n.Notification.Type != backend.KindMessage || n.Notification.MessageID != r4.ID ||
		n.Notification.ParentID != "" {
		t.Fatalf("alice (no follower) on an alsoToChat reply: %s", n.Data())
	}
	ts.fence(t, m.alice, "after r4", m.alice.ID, m.bob.ID, m.dave.ID)
	for _, sc := range all {
		sc.quiet(t, "after r4")
	}

	// The histories agree: bob has two reply notifications and the mention; alice the parent's
	// message notification and r4's.
	kinds := func(who account) string {
		var got []string
		for _, n := range ts.notifications(t, who) {
			if n.Type != backend.KindSystem {
				got = append(got, string(n.Type)+":"+n.MessageID)
			}
		}
		return fmt.Sprint(got)
	}
	if got, want := kinds(m.bob), fmt.Sprint([]string{"reply:" + r4.ID, "mention:" + r2.ID, "reply:" + r1.ID}); got != want {
		t.Fatalf("bob's history %s, want %s", got, want)
	}
	if got, want := kinds(m.alice), fmt.Sprint([]string{"message:" + r4.ID, "message:" + parent.ID}); got != want {
		t.Fatalf("alice's history %s, want %s", got, want)
	}

	// Typing in a thread carries its parentId to the others.
	ts.must(t, 204, request{method: "POST", path: "/api/chats/" + g + "/typing", token: m.dave.Token, body: map[string]string{"parentId": parent.ID}})
	if ty := bob.expect(t, "TYPING"); ty.Frame.HasID || ty.UserID != m.dave.ID || ty.fields(t).ParentID != parent.ID {
		t.Fatalf("TYPING in a thread: %s", ty.Data())
	}
}

// An edit notifies only the members it newly names; nothing else notifies again.
func TestEditNotifiesOnlyNewlyNamedMembers(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	g := m.general
	dave := ts.openStream(t, "/api/stream", m.dave.Token, "")
	alice := ts.openStream(t, "/api/stream", m.alice.Token, "")

	msg := ts.say(t, m.bob, g, "@dave please review")
	dave.expect(t, "NEW_MESSAGE")
	dave.expect(t, "MENTION")
	alice.expect(t, "NEW_MESSAGE")
	alice.expect(t, "NOTIFICATION")

	ts.edit(t, m.bob, g, msg.ID, "@dave please review, and @alice too")
	dave.expect(t, "MESSAGE_UPDATED")
	alice.expect(t, "MESSAGE_UPDATED")
	mention := alice.expect(t, "MENTION")
	if mention.Message.ID != msg.ID || mention.Message.Content != "@dave please review, and @alice too" || mention.Message.EditedAt == 0 ||
		mention.Notification.MessageID != msg.ID || mention.Notification.Body != "@dave please review, and @alice too" {
		t.Fatalf("alice's MENTION after the edit: %s", mention.Data())
	}
	ts.fence(t, m.alice, "after the edit", m.dave.ID, m.alice.ID)
	dave.quiet(t, "after the edit") // named before: not again
	alice.quiet(t, "after the edit")

	// An edit that names nobody new (a name dropped, one kept) notifies nobody.
	ts.edit(t, m.bob, g, msg.ID, "@alice never mind")
	dave.expect(t, "MESSAGE_UPDATED")
	alice.expect(t, "MESSAGE_UPDATED")
	ts.fence(t, m.alice, "after the second edit", m.dave.ID, m.alice.ID)
	dave.quiet(t, "after the second edit")
	alice.quiet(t, "after the second edit")

	if n := ts.notificationsAbout(t, m.dave, msg.ID); len(n) != 1 || n[0].Type != backend.KindMention {
		t.Fatalf("dave's notifications about the message: %+v", n)
	}
	if n := ts.notificationsAbout(t, m.alice, msg.ID); len(n) != 2 || n[0].Type != backend.KindMention || n[1].Type != backend.KindMessage {
		t.Fatalf("alice's notifications about the message: %+v", n)
	}
}

// POST read moves the reader's marker: their other devices hear of it (READ_MARKER), nobody else
// does, and their notifications about the chat's messages up to it are read — not the thread
// replies', which are read in their thread. The same marker again emits nothing.
func TestReadMarkerReachesTheReadersOtherDevices(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	g := m.general
	phone := ts.must(t, 200, login("dave", "password-dave")).str("token")
	daveLaptop := ts.openStream(t, "/api/stream", m.dave.Token, "")
	davePhone := ts.openStream(t, "/api/stream", phone, "")
	bob := ts.openStream(t, "/api/stream", m.bob.Token, "")

	own := ts.say(t, m.dave, g, "my question") // dave follows its thread
	m1 := ts.say(t, m.bob, g, "one")
	m2 := ts.say(t, m.bob, g, "@dave two")
	reply := ts.reply(t, m.bob, g, own.ID, "an answer in the thread", false)
	m3 := ts.say(t, m.bob, g, "three")
	m4 := ts.say(t, m.bob, g, "four")
	other := ts.say(t, m.bob, m.private, "elsewhere")
	ts.fence(t, m.alice, "posted", m.dave.ID, m.bob.ID)
	for _, sc := range []*streamClient{daveLaptop, davePhone, bob} {
		sc.awaitType(t, "SYSTEM_NOTIFICATION")
	}
	unread := func() int {
		t.Helper()
		chats := decode[struct{ Chats []backend.ChatSummary }](t, ts.must(t, 200, request{method: "GET", path: "/api/chats", token: m.dave.Token}))
		for _, c := range chats.Chats {
			if c.ID == g {
				return c.Unread
			}
		}
		t.Fatal("dave is not in #general")
		return 0
	}
	if got := unread(); got != 4 { // m1…m4: his own message is read, the thread-only reply is not counted
		t.Fatalf("unread %d, want 4", got)
	}

	ts.must(t, 204, request{method: "POST", path: "/api/chats/" + g + "/read", token: m.dave.Token, body: map[string]string{"messageId": m3.ID}})
	rm := davePhone.expect(t, "READ_MARKER")
	if f := rm.fields(t); !rm.Frame.HasID || rm.ChatID != g || f.MessageID != m3.ID {
		t.Fatalf("READ_MARKER on dave's phone: %s", rm.Data())
	}
	if got := daveLaptop.expect(t, "READ_MARKER"); got.Frame.ID != rm.Frame.ID {
		t.Fatalf("READ_MARKER on the reading device: %s", got.Data())
	}
	ts.fence(t, m.alice, "after reading", m.bob.ID)
	bob.quiet(t, "after reading") // another user's marker is none of bob's business
	if got := unread(); got != 1 {
		t.Fatalf("unread after reading up to m3: %d, want 1", got)
	}

	read := map[string]bool{}
	for _, n := range ts.notifications(t, m.dave) {
		if n.ChatID != "" {
			read[n.MessageID] = n.Read
		}
	}
	want := map[string]bool{m1.ID: true, m2.ID: true, m3.ID: true, reply.ID: false, m4.ID: false, other.ID: false}
	if fmt.Sprint(read) != fmt.Sprint(want) {
		t.Fatalf("dave's notifications read: %v, want %v (m1 m2 m3 read; the reply, m4 and #private not)", read, want)
	}

	// The same marker, or an older one: 204 and nothing moves.
	for _, id := range []string{m3.ID, m1.ID} {
		ts.must(t, 204, request{method: "POST", path: "/api/chats/" + g + "/read", token: phone, body: map[string]string{"messageId": id}})
	}
	ts.fence(t, m.alice, "after reading again", m.dave.ID)
	davePhone.quiet(t, "after reading again")
	daveLaptop.quiet(t, "after reading again")
	if got := unread(); got != 1 {
		t.Fatalf("unread after reading backwards: %d, want 1", got)
	}
}

// Posting moves the author's read marker (writing means having read the chat): the
// notifications about the messages before the post are read then, or no later POST read ever
// reaches them — it looks only at notifications newer than the marker it moves from.
func TestReadMarkerAfterPostingMarksEarlierNotificationsRead(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	g := m.general
	m1 := ts.say(t, m.bob, g, "one")
	ts.say(t, m.dave, g, "dave answers without reading first")
	m2 := ts.say(t, m.bob, g, "two")
	ts.must(t, 204, request{method: "POST", path: "/api/chats/" + g + "/read", token: m.dave.Token, body: map[string]string{"messageId": m2.ID}})
	for _, id := range []string{m1.ID, m2.ID} {
		if n := ts.notificationsAbout(t, m.dave, id); len(n) != 1 || !n[0].Read {
			t.Fatalf("dave read #general up to m2; his %d notifications about %s are not read", len(n), id)
		}
	}
}

// Reply notifications are decided with the follower's preferences like every kind: a muted chat
// silences them (not a mention in a reply), and the reply kind can be turned off.
func TestReplyNotificationsFollowPreferences(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	g := m.general
	bob := ts.openStream(t, "/api/notifications/"+m.bob.ID+"/stream", m.bob.Token, "")
	parent := ts.say(t, m.bob, g, "the parent")
	prefs := func(extra map[string]any) {
		t.Helper()
		body := map[string]any{"sounds": true, "volume": 0.5, "native": true, "criticalBreaksThrough": true}
		for k, v := range extra {
			body[k] = v
		}
		ts.must(t, 200, request{method: "PUT", path: "/api/preferences", token: m.bob.Token, body: body})
		bob.expect(t, "PREFERENCES_CHANGED")
	}
	decision := func(typ string) backend.Notification {
		t.Helper()
		return *bob.expect(t, typ).Notification
	}

	ts.reply(t, m.dave, g, parent.ID, "on", false)
	if n := decision("NOTIFICATION"); n.Type != backend.KindReply || !n.Notify || n.Reason != "notifications are on" {
		t.Fatalf("reply notification: %+v", n)
	}
	prefs(map[string]any{"mutedChats": []string{g}})
	ts.reply(t, m.dave, g, parent.ID, "muted", false)
	if n := decision("NOTIFICATION"); n.Notify || n.Reason != "chat #general is muted" {
		t.Fatalf("reply in a muted chat: %+v", n)
	}
	ts.reply(t, m.dave, g, parent.ID, "@bob muted but named", false)
	if n := decision("MENTION"); !n.Notify {
		t.Fatalf("mention in a reply in a muted chat: %+v", n)
	}
	prefs(map[string]any{"kinds": map[string]bool{"reply": false}})
	ts.reply(t, m.dave, g, parent.ID, "kind off", false)
	if n := decision("NOTIFICATION"); n.Notify || n.Reason != "reply notifications are turned off" || n.Body != "kind off" {
		t.Fatalf("reply with the kind off: %+v", n)
	}
}
