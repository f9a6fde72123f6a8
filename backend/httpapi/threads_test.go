package httpapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

// A thread pages like history; the history holds the top-level messages and the replies also
// sent to the chat, and unread counts count only those.
func TestThreadsPageLikeHistory(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	g := m.general
	parent := ts.say(t, m.bob, g, "the parent")
	var replies []string
	var alsoInChat []string
	for i := range 9 {
		also := i%4 == 3 // replies 3 and 7
		r := ts.reply(t, m.bob, g, parent.ID, fmt.Sprint("reply ", i), also)
		replies = append(replies, r.ID)
		if also {
			alsoInChat = append(alsoInChat, r.ID)
		}
	}
	after := ts.say(t, m.bob, g, "after the thread")
	path := msgPath(g, parent.ID) + "/replies"
	check := func(query string, want []string, wantMore bool) {
		t.Helper()
		p := ts.list(t, m.dave, path+query)
		if fmt.Sprint(p.ids()) != fmt.Sprint(want) || p.HasMore != wantMore || p.HasMoreAfter != nil {
			t.Fatalf("%s: got %v more=%v, want %v more=%v", query, p.ids(), p.HasMore, want, wantMore)
		}
	}
	check("", replies, false)
	check("?limit=4", replies[5:], true)
	check("?limit=4&before="+replies[5], replies[1:5], true)
	check("?limit=4&before="+replies[1], replies[:1], false)
	check("?limit=3&after="+replies[0], replies[1:4], true)
	check("?limit=3&after="+replies[5], replies[6:], false)
	check("?after="+replies[2]+"&before="+replies[6], replies[3:6], false)
	check("?limit=5&after="+parent.ID, replies[:5], true) // a cursor need not be a reply
	// Another thread is empty, not an error.
	if p := ts.list(t, m.dave, msgPath(g, after.ID)+"/replies"); len(p.Messages) != 0 || p.HasMore {
		t.Fatalf("a message without replies: %v", p.ids())
	}

	hist := ts.list(t, m.dave, msgsPath(g))
	if want := append(append([]string{parent.ID}, alsoInChat...), after.ID); fmt.Sprint(hist.ids()) != fmt.Sprint(want) {
		t.Fatalf("history %v, want the parent, the alsoToChat replies and the message after: %v", hist.ids(), want)
	}
	if p := hist.byID(parent.ID); p.ReplyCount != 9 || p.LastReplyAt != ts.list(t, m.dave, path).Messages[8].CreatedAt {
		t.Fatalf("parent in the history: %+v", p)
	}
	// Unread: the parent, the two replies sent to the chat and the message after; not the
	// seven replies only in the thread.
	chats := decode[struct{ Chats []backend.ChatSummary }](t, ts.must(t, 200, request{method: "GET", path: "/api/chats", token: m.dave.Token}))
	for _, c := range chats.Chats {
		if c.ID == g && c.Unread != 4 {
			t.Fatalf("dave's unread in #general: %d, want 4", c.Unread)
		}
	}
}

// Deleting a reply leaves its tombstone in the thread and takes it out of the parent's counts
// (MESSAGE_UPDATED of the parent); deleting a parent leaves its replies.
func TestDeletingRepliesAndParents(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	g := m.general
	parent := ts.say(t, m.bob, g, "the parent")
	r1 := ts.reply(t, m.dave, g, parent.ID, "one", false)
	r2 := ts.reply(t, m.dave, g, parent.ID, "two", true)
	r3 := ts.reply(t, m.dave, g, parent.ID, "three", false)
	alice := ts.openStream(t, "/api/stream", m.alice.Token, "")
	path := msgPath(g, parent.ID) + "/replies"

	// The newest reply goes: the count drops and lastReplyAt falls back to r2's.
	ts.deleteMsg(t, m.dave, g, r3.ID)
	up := alice.expect(t, "MESSAGE_UPDATED")
	if up.Message.ID != parent.ID || up.Message.ReplyCount != 2 || up.Message.LastReplyAt != r2.CreatedAt || up.Message.Content != "the parent" {
		t.Fatalf("parent after deleting r3: %s", up.Data())
	}
	del := alice.expect(t, "MESSAGE_DELETED")
	if f := del.fields(t); f.MessageID != r3.ID || f.ParentID != parent.ID || del.ChatID != g {
		t.Fatalf("MESSAGE_DELETED of a reply: %s", del.Data())
	}
	thread := ts.list(t, m.alice, path)
	if fmt.Sprint(thread.ids()) != fmt.Sprint([]string{r1.ID, r2.ID, r3.ID}) {
		t.Fatalf("thread %v, want the tombstone in place", thread.ids())
	}
	if tomb := thread.byID(r3.ID); !tomb.Deleted || tomb.Content != "" || tomb.ParentID != parent.ID {
		t.Fatalf("r3 in its thread: %+v", tomb)
	}

	// A reply also in the chat: its tombstone stays in both; an admin may delete it.
	ts.deleteMsg(t, m.alice, g, r2.ID)
	if up := alice.expect(t, "MESSAGE_UPDATED"); up.Message.ReplyCount != 1 || up.Message.LastReplyAt != r1.CreatedAt {
		t.Fatalf("parent after deleting r2: %s", up.Data())
	}
	alice.expect(t, "MESSAGE_DELETED")
	hist := ts.list(t, m.alice, msgsPath(g))
	if fmt.Sprint(hist.ids()) != fmt.Sprint([]string{parent.ID, r2.ID}) || !hist.byID(r2.ID).Deleted {
		t.Fatalf("history %v after deleting an alsoToChat reply", hist.ids())
	}
	// Deleting a tombstone again does not count it out twice.
	ts.deleteMsg(t, m.dave, g, r2.ID)
	ts.deleteMsg(t, m.dave, g, r1.ID)
	if up := alice.expect(t, "MESSAGE_UPDATED"); up.Message.ReplyCount != 0 || up.Message.LastReplyAt != 0 {
		t.Fatalf("parent after deleting every reply: %s", up.Data())
	}
	alice.expect(t, "MESSAGE_DELETED")

	// The parent goes; a new reply keeps its replies and their tombstones.
	r4 := ts.reply(t, m.dave, g, parent.ID, "four", false)
	alice.expect(t, "NEW_MESSAGE")
	alice.expect(t, "MESSAGE_UPDATED")
	ts.deleteMsg(t, m.bob, g, parent.ID)
	if del := alice.expect(t, "MESSAGE_DELETED"); del.fields(t).MessageID != parent.ID || del.fields(t).ParentID != "" {
		t.Fatalf("MESSAGE_DELETED of the parent: %s", del.Data())
	}
	thread = ts.list(t, m.alice, path)
	if fmt.Sprint(thread.ids()) != fmt.Sprint([]string{r1.ID, r2.ID, r3.ID, r4.ID}) || thread.byID(r4.ID).Content != "four" {
		t.Fatalf("the deleted parent's thread: %v", thread.ids())
	}
	tomb := ts.list(t, m.alice, msgsPath(g)).byID(parent.ID)
	if !tomb.Deleted || tomb.Content != "" || tomb.ReplyCount != 1 || tomb.LastReplyAt != r4.CreatedAt {
		t.Fatalf("the parent's tombstone keeps its thread's counts: %+v", tomb)
	}
	ts.check(t, 409, request{method: "POST", path: msgsPath(g), token: m.dave.Token, body: map[string]any{"content": "late", "parentId": parent.ID}})
	// Its replies may still be deleted, and count down the tombstone's counts.
	ts.deleteMsg(t, m.dave, g, r4.ID)
	if up := alice.expect(t, "MESSAGE_UPDATED"); up.Message.ID != parent.ID || !up.Message.Deleted || up.Message.ReplyCount != 0 || up.Message.Content != "" {
		t.Fatalf("the tombstone parent after its last reply went: %s", up.Data())
	}
}

// around is a page of history centred on a message (on its parent for a reply only in its
// thread), with hasMore and hasMoreAfter right at both ends.
func TestHistoryAroundAMessage(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	g := m.general
	// The timeline: m0 … m5, m6, m7, a (m7's reply also sent to the chat), m8, m9, m10; r is
	// m5's reply in its thread only.
	var tl []string
	ids := map[string]string{}
	for i := range 11 {
		name := fmt.Sprint("m", i)
		ids[name] = ts.say(t, m.bob, g, name).ID
		tl = append(tl, ids[name])
		switch i {
		case 5:
			ids["r"] = ts.reply(t, m.dave, g, ids["m5"], "r", false).ID
		case 7:
			ids["a"] = ts.reply(t, m.dave, g, ids["m7"], "a", true).ID
			tl = append(tl, ids["a"])
		}
	}
	names := map[string]string{}
	for n, id := range ids {
		names[id] = n
	}
	check := func(around string, limit int, want string, older, newer bool) {
		t.Helper()
		q := msgsPath(g) + "?around=" + ids[around]
		if limit > 0 {
			q += fmt.Sprint("&limit=", limit)
		}
		p := ts.list(t, m.dave, q)
		var got []string
		for _, id := range p.ids() {
			got = append(got, names[id])
		}
		if fmt.Sprint(got) != want || p.HasMore != older || p.HasMoreAfter == nil || *p.HasMoreAfter != newer {
			after := "absent"
			if p.HasMoreAfter != nil {
				after = fmt.Sprint(*p.HasMoreAfter)
			}
			t.Fatalf("around %s limit %d: %v hasMore=%v hasMoreAfter=%s, want %s %v %v", around, limit, got, p.HasMore, after, want, older, newer)
		}
	}
	check("m5", 5, "[m3 m4 m5 m6 m7]", true, true)
	check("m5", 4, "[m4 m5 m6 m7]", true, true) // an even limit: the newer half is the larger
	check("m5", 1, "[m5]", true, true)
	check("m5", 2, "[m5 m6]", true, true)
	check("m0", 5, "[m0 m1 m2]", false, true)
	check("m1", 3, "[m0 m1 m2]", false, true) // the older half reaches the first message exactly
	check("m2", 5, "[m0 m1 m2 m3 m4]", false, true)
	check("m10", 5, "[m8 m9 m10]", true, false)
	check("m9", 3, "[m8 m9 m10]", true, false) // the newer half reaches the last exactly
	check("m8", 5, "[m7 a m8 m9 m10]", true, false)
	check("a", 3, "[m7 a m8]", true, true)                                // a reply also in the chat is in place
	check("r", 3, "[m4 m5 m6]", true, true)                               // a reply only in its thread: its parent
	check("m5", 0, "[m0 m1 m2 m3 m4 m5 m6 m7 a m8 m9 m10]", false, false) // the default limit, 50
	check("m0", 1, "[m0]", false, true)
	check("m10", 1, "[m10]", true, false)

	// A tombstone is a place in history like any message.
	ts.deleteMsg(t, m.bob, g, ids["m6"])
	p := ts.list(t, m.dave, msgsPath(g)+"?around="+ids["m6"]+"&limit=3")
	if fmt.Sprint(p.ids()) != fmt.Sprint([]string{ids["m5"], ids["m6"], ids["m7"]}) || !p.Messages[1].Deleted {
		t.Fatalf("around a tombstone: %v", p.ids())
	}
	// The other pages have no hasMoreAfter.
	if hist := ts.list(t, m.dave, msgsPath(g)+"?limit=3"); hist.HasMoreAfter != nil || fmt.Sprint(hist.ids()) != fmt.Sprint(tl[len(tl)-3:]) {
		t.Fatalf("newest page: %v hasMoreAfter=%v", hist.ids(), hist.HasMoreAfter)
	}
}

// Pins: most recently pinned first; pinning and unpinning are idempotent; a deleted message
// leaves the pins; a chat holds at most 100.
func TestPins(t *testing.T) {
	// The store's clock stands still: every pin is in the same millisecond, as pins are that
	// land in one group commit or on a fast machine. Their order must still be the pinning order.
	frozen := time.Now()
	ts := newTestServer(t, serverOptions{tune: noLimits, storeClock: func() time.Time { return frozen }})
	m := ts.msgTeam(t)
	g := m.general
	pins := func() []string {
		t.Helper()
		p := ts.list(t, m.dave, "/api/chats/"+g+"/pins")
		for _, msg := range p.Messages {
			if !msg.Pinned || msg.ChatID != g {
				t.Fatalf("pins list %+v", msg)
			}
		}
		return p.ids()
	}
	var ids []string
	for i := range 6 {
		ids = append(ids, ts.say(t, m.bob, g, fmt.Sprint("p", i)).ID)
	}
	if got := pins(); len(got) != 0 {
		t.Fatalf("pins of a new chat: %v", got)
	}
	// Pinned in id order: the newest pin first all the same.
	for _, i := range []int{0, 1, 2, 3} {
		ts.pin(t, m.dave, g, ids[i])
	}
	ts.pin(t, m.bob, g, ids[5])
	ts.pin(t, m.alice, g, ids[1]) // pinned already: it keeps its place
	want := []string{ids[5], ids[3], ids[2], ids[1], ids[0]}
	if got := pins(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pins %v, want %v (most recently pinned first)", got, want)
	}
	// Unpinning is idempotent, also for a message never pinned; re-pinning puts it first.
	for range 2 {
		ts.must(t, 204, request{method: "DELETE", path: pinPath(g, ids[2]), token: m.bob.Token})
	}
	ts.must(t, 204, request{method: "DELETE", path: pinPath(g, ids[4]), token: m.bob.Token})
	ts.pin(t, m.bob, g, ids[0])
	ts.pin(t, m.bob, g, ids[2])
	want = []string{ids[2], ids[5], ids[3], ids[1], ids[0]}
	if got := pins(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pins %v, want %v", got, want)
	}
	// A deleted message leaves the pins.
	ts.deleteMsg(t, m.bob, g, ids[3])
	want = []string{ids[2], ids[5], ids[1], ids[0]}
	if got := pins(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pins after deleting %s: %v, want %v", ids[3], got, want)
	}
	// Pins of a chat are its own.
	ts.pin(t, m.bob, m.private, ts.say(t, m.bob, m.private, "private pin").ID)
	if got := pins(); len(got) != 4 {
		t.Fatalf("pins of #general after pinning in #private: %v", got)
	}

	// 100 pins fill a chat: the 101st is 409 until one is unpinned.
	for len(pins()) < backend.MaxPins {
		for range backend.MaxPins - len(pins()) {
			ts.pin(t, m.bob, g, ts.say(t, m.bob, g, "filler").ID)
		}
	}
	extra := ts.say(t, m.bob, g, "one too many").ID
	ts.check(t, 409, request{method: "PUT", path: pinPath(g, extra), token: m.bob.Token})
	ts.pin(t, m.bob, g, ids[0]) // pinned already: no new pin, 204
	ts.must(t, 204, request{method: "DELETE", path: pinPath(g, ids[0]), token: m.bob.Token})
	ts.pin(t, m.bob, g, extra)
	if got := pins(); len(got) != backend.MaxPins || got[0] != extra {
		t.Fatalf("after unpinning one and pinning the extra: %d pins, first %s", len(got), got[0])
	}
}
