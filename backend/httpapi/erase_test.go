package httpapi_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/herald-chat/herald/backend"
)

// A client that was away during an edit, a delete and reactions and resumes with Last-Event-ID
// ends in the state of a client that stayed connected, which is the state of the history.
func TestResumeAfterChangesEndsInTheLiveState(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	g := m.general
	stayer := ts.openStream(t, "/api/stream", m.dave.Token, "")
	leaver := ts.openStream(t, "/api/stream", m.dave.Token, "")
	stayed, resumed := msgState{}, msgState{}

	a := ts.say(t, m.bob, g, "alpha")
	b := ts.say(t, m.bob, g, "bravo @dave")
	c := ts.say(t, m.bob, g, "charlie")
	r := ts.reply(t, m.alice, g, c.ID, "a reply to charlie", false)
	// follow applies sc's events to st until the event that satisfies done; it returns that
	// event's id.
	follow := func(sc *streamClient, st msgState, done func(event) bool) string {
		t.Helper()
		for {
			ev := sc.nextEventExcept(t, wait, statusChange)
			st.apply(t, ev)
			if done(ev) {
				return ev.Frame.ID
			}
		}
	}
	isUpdateOf := func(id string) func(event) bool {
		return func(ev event) bool { return ev.Type == "MESSAGE_UPDATED" && ev.Message.ID == id }
	}
	follow(stayer, stayed, isUpdateOf(c.ID)) // r's parent counts: the last event of the post
	lastSeen := follow(leaver, resumed, isUpdateOf(c.ID))
	leaver.close()

	// While it is away: an edit, reactions (one on a message deleted later), a pin, a delete, and
	// a reply deleted.
	ts.edit(t, m.bob, g, a.ID, "alpha, edited")
	ts.react(t, m.dave, g, c.ID, "👍")
	ts.react(t, m.alice, g, c.ID, "🎉")
	ts.react(t, m.alice, g, b.ID, "👀")
	ts.pin(t, m.bob, g, b.ID)
	ts.deleteMsg(t, m.bob, g, b.ID)
	ts.must(t, 204, request{method: "DELETE", path: reactionPath(g, c.ID, "👍"), token: m.dave.Token})
	ts.deleteMsg(t, m.alice, g, r.ID)
	last, err := ts.Store.LastEventID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	isLast := func(ev event) bool { return ev.Frame.ID == last }
	follow(stayer, stayed, isLast)

	back := ts.openStream(t, "/api/stream", m.dave.Token, lastSeen)
	follow(back, resumed, isLast)

	hist := ts.list(t, m.dave, msgsPath(g))
	sameMessages(t, "the resumed client's messages against the history", resumed.visible(), hist.Messages)
	sameMessages(t, "the connected client's messages against the history", stayed.visible(), hist.Messages)
	thread := ts.list(t, m.dave, msgPath(g, c.ID)+"/replies")
	sameMessages(t, "the resumed client's thread", []*backend.Message{resumed[r.ID]}, thread.Messages)
	sameMessages(t, "the connected client's thread", []*backend.Message{stayed[r.ID]}, thread.Messages)

	// And the state is what happened.
	if got := hist.byID(a.ID); got.Content != "alpha, edited" || got.EditedAt == 0 {
		t.Fatalf("a: %+v", got)
	}
	if got := hist.byID(b.ID); !got.Deleted || got.Content != "" || got.Reactions != nil || got.Pinned {
		t.Fatalf("b: %+v", got)
	}
	if got := hist.byID(c.ID); len(got.Reactions) != 1 || got.Reactions[0].Emoji != "🎉" || got.ReplyCount != 0 || got.LastReplyAt != 0 {
		t.Fatalf("c: %+v", got)
	}
	if got := thread.Messages[0]; !got.Deleted || got.Content != "" || got.ParentID != c.ID {
		t.Fatalf("r: %+v", got)
	}
}

// A resume from before a deleted message replays its tombstone — in its NEW_MESSAGE, its
// MESSAGE_UPDATEDs and its MENTIONs — and never its words, on any kind of stream; the
// notifications about it carry no body, and they are gone from every history. After a RESYNC
// the history shows the tombstone.
func TestReplayAfterDeleteCarriesOnlyTheTombstone(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	g := m.general
	before, err := ts.Store.LastEventID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const secret, draft = "zqx-replay-4242", "qpw-draft-1"
	msg := ts.say(t, m.bob, g, secret+" "+draft+" for @dave")
	ts.edit(t, m.bob, g, msg.ID, secret+" for @dave and @alice")
	ts.react(t, m.dave, g, msg.ID, "👍")
	ts.pin(t, m.dave, g, msg.ID)
	kept := ts.say(t, m.bob, g, "this one stays")

	// replay opens each kind of stream from before the message and reads it up to a fence
	// message posted after it; it returns the streams' events and raw bytes.
	type stream struct{ path, token string }
	streams := []stream{
		{"/api/stream", m.dave.Token},
		{"/api/stream", m.alice.Token},
		{"/api/notifications/" + m.dave.ID + "/stream", m.dave.Token},
		{"/api/notifications/" + m.alice.ID + "/stream", m.alice.Token},
		{"/api/chat/" + g + "/stream", m.dave.Token},
	}
	replay := func(fence string) ([][]event, [][]byte) {
		t.Helper()
		var tees []*teeStream
		for _, s := range streams {
			tees = append(tees, ts.openTeeStream(t, s.path, s.token, before))
		}
		ts.say(t, m.bob, g, fence)
		var events [][]event
		var raws [][]byte
		for _, tee := range tees {
			_, evs := tee.await(t, "the fence "+fence, func(ev event) bool { return strings.Contains(ev.Data(), fence) })
			events = append(events, evs)
			raws = append(raws, tee.bytes())
			tee.close()
		}
		return events, raws
	}

	// Before the delete the replay carries the words (else the test below would prove nothing).
	_, raws := replay("fence one")
	for i, raw := range raws {
		if !bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("before the delete, the replay of %s lacks the message: %s", streams[i].path, raw)
		}
	}
	if !bytes.Contains(raws[0], []byte(draft)) {
		t.Fatalf("before the delete, the replay lacks the first version: %s", raws[0])
	}

	ts.deleteMsg(t, m.bob, g, msg.ID)
	events, raws := replay("fence two")
	for i, raw := range raws {
		if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte(draft)) {
			t.Fatalf("the replay of %s after the delete carries the deleted words: %s", streams[i].path, raw)
		}
	}
	// What each replay carries about the message.
	about := func(evs []event) map[string]int {
		seen := map[string]int{}
		for _, ev := range evs {
			switch {
			case ev.Message != nil && ev.Message.ID == msg.ID:
				if !ev.Message.Deleted || ev.Message.Content != "" || ev.Message.Reactions != nil || ev.Message.Pinned ||
					ev.Message.EditedAt != 0 || ev.Message.AuthorID != m.bob.ID || ev.Message.CreatedAt != msg.CreatedAt {
					t.Fatalf("%s carries %s, want the tombstone", ev.Type, ev.Data())
				}
			case ev.Notification != nil && ev.Notification.MessageID == msg.ID:
			case ev.Type == "MESSAGE_DELETED" && ev.fields(t).MessageID == msg.ID:
			default:
				continue
			}
			if n := ev.Notification; n != nil && (n.Body != "" || n.Notify || !n.Read || n.MessageID != msg.ID) {
				t.Fatalf("%s carries the notification %s, want one without a body", ev.Type, ev.Data())
			}
			seen[ev.Type]++
		}
		return seen
	}
	wants := []map[string]int{
		// dave: the message, edited, reacted to, pinned, deleted; mentioned by the post.
		{"NEW_MESSAGE": 1, "MESSAGE_UPDATED": 3, "MENTION": 1, "MESSAGE_DELETED": 1},
		// alice: notified of the post, mentioned by the edit.
		{"NEW_MESSAGE": 1, "MESSAGE_UPDATED": 3, "NOTIFICATION": 1, "MENTION": 1, "MESSAGE_DELETED": 1},
		{"MENTION": 1},
		{"NOTIFICATION": 1, "MENTION": 1},
		{"NEW_MESSAGE": 1, "MESSAGE_UPDATED": 3, "MESSAGE_DELETED": 1},
	}
	for i, evs := range events {
		if got := about(evs); !mapsEqual(got, wants[i]) {
			t.Fatalf("the replay %d of %s carries %v about the message, want %v", i, streams[i].path, got, wants[i])
		}
		// The message after it is untouched.
		if !slices.ContainsFunc(evs, func(ev event) bool { return ev.Message != nil && ev.Message.Content == "this one stays" }) &&
			i != 2 && i != 3 {
			t.Fatalf("the replay of %s lost the message after the deleted one", streams[i].path)
		}
	}

	// The notifications about it left every history.
	for _, who := range []account{m.dave, m.alice} {
		if n := ts.notificationsAbout(t, who, msg.ID); len(n) != 0 {
			t.Fatalf("notifications about the deleted message are still in a history: %+v", n)
		}
	}
	if n := ts.notificationsAbout(t, m.alice, kept.ID); len(n) != 1 || n[0].Body != "this one stays" {
		t.Fatalf("alice's notification about the message after it: %+v", n)
	}

	// A client the log cannot serve gets RESYNC and refetches: the history holds the tombstone
	// in place, without its words, and the pins no longer hold it.
	rs := ts.openStream(t, "/api/stream", m.dave.Token, unknownID)
	if ev := rs.nextEventExcept(t, wait, statusChange); ev.Type != "RESYNC" {
		t.Fatalf("resume from an unknown id: %s", ev.Data())
	}
	r := ts.must(t, 200, request{method: "GET", path: msgsPath(g), token: m.dave.Token})
	if bytes.Contains(r.Raw, []byte(secret)) {
		t.Fatalf("history after the delete: %s", r.Raw)
	}
	hist := decode[msgPage](t, r)
	if got := hist.ids(); len(got) != 4 || got[0] != msg.ID || got[1] != kept.ID {
		t.Fatalf("history %v, want the tombstone, then %s and the fences", got, kept.ID)
	}
	want := &backend.Message{ID: msg.ID, ChatID: g, AuthorID: m.bob.ID, CreatedAt: msg.CreatedAt, Deleted: true}
	sameMessages(t, "the tombstone in the history", hist.Messages[:1], []*backend.Message{want})
	if pins := ts.list(t, m.dave, "/api/chats/"+g+"/pins"); len(pins.Messages) != 0 {
		t.Fatalf("pins after the delete: %v", pins.ids())
	}
	if tomb := ts.list(t, m.dave, msgsPath(g)+"?around="+msg.ID).Messages[0]; !tomb.Deleted || tomb.Content != "" {
		t.Fatalf("around the tombstone: %+v", tomb)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Deleting a message erases its words from the bbolt file itself: the record, every version in
// the event log (its NEW_MESSAGE, the edit's, reaction's and pin's MESSAGE_UPDATED, the
// MENTION and NOTIFICATION events), the notification records, and the free pages that held
// older copies.
func TestDeleteErasesTheMessageFromTheFile(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	g := m.general
	const secret, draft, final = "zqx-secret-7731", "qpw-draft-8842", "qpw-final-9953"
	msg := ts.say(t, m.bob, g, secret+" "+draft+" @dave")
	ts.edit(t, m.bob, g, msg.ID, secret+" "+final+" @dave")
	ts.react(t, m.dave, g, msg.ID, "👍")
	ts.pin(t, m.alice, g, msg.ID)
	ts.reply(t, m.dave, g, msg.ID, "a reply that stays", false) // the parent's MESSAGE_UPDATED carries it too
	for _, s := range []string{secret, draft, final} {
		if !ts.dbHolds(t, s) {
			t.Fatalf("before the delete the file lacks %q: the check below would prove nothing", s)
		}
	}
	if len(ts.notificationsAbout(t, m.dave, msg.ID)) != 1 || len(ts.notificationsAbout(t, m.alice, msg.ID)) != 1 {
		t.Fatal("the mention and the message notification are not in the histories")
	}

	ts.deleteMsg(t, m.bob, g, msg.ID)
	for _, s := range []string{secret, draft, final} {
		if ts.dbHolds(t, s) {
			t.Fatalf("after the delete the bbolt file still holds %q", s)
		}
	}
	if !ts.dbHolds(t, "a reply that stays") {
		t.Fatal("the delete erased the parent's reply too")
	}
	for _, who := range []account{m.dave, m.alice} {
		if n := ts.notificationsAbout(t, who, msg.ID); len(n) != 0 {
			t.Fatalf("notifications about the deleted message remain: %+v", n)
		}
	}
	// A later commit brings nothing back.
	ts.say(t, m.bob, g, "after")
	if ts.dbHolds(t, secret) {
		t.Fatal("the file holds the words again after a later commit")
	}
}

// Deleting a file message erases the file: its record (GET is 404), its bytes and thumbnail on
// disk, and its name and contents from the bbolt file — the FILE_PROCESSED event and the
// uploader's notification too.
func TestDeleteErasesAFileMessage(t *testing.T) {
	ts := newTestServer(t, serverOptions{tune: noLimits})
	m := ts.msgTeam(t)
	g := m.general
	bob := ts.openStream(t, "/api/stream", m.bob.Token, "")
	before, err := ts.Store.LastEventID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const textName, textBody, imageName = "zqx-file-5150.txt", "zqx-body-6160 is in the file", "zqx-image-7170.png"

	type uploaded struct{ file, msg string }
	upload := func(name string, content []byte) uploaded {
		t.Helper()
		r := ts.upload(t, m.bob, g, name, content)
		if r.Status != 202 {
			t.Fatalf("upload %s: %d %s", name, r.Status, r.Raw)
		}
		id := r.str("file", "id")
		processed, _ := bob.await(t, "FILE_PROCESSED", func(ev event) bool { return ev.Type == "FILE_PROCESSED" && strings.Contains(ev.Data(), id) })
		if !strings.Contains(processed.Data(), `"status":"ready"`) {
			t.Fatalf("%s: %s", name, processed.Data())
		}
		nm := bob.expect(t, "NEW_MESSAGE")
		if nm.Message.Attachment == nil || nm.Message.Attachment.ID != id {
			t.Fatalf("file message: %s", nm.Data())
		}
		return uploaded{id, nm.Message.ID}
	}
	text := upload(textName, []byte(textBody+"\nsecond line\n"))
	image := upload(imageName, pngBytes(t, 400, 300))
	files := ts.filesIn(t)
	for _, want := range []string{text.file, image.file, image.file + ".thumb.png"} {
		if !slices.Contains(files, want) {
			t.Fatalf("files directory %v lacks %s", files, want)
		}
	}
	for _, s := range []string{textName, textBody, imageName} {
		if !ts.dbHolds(t, s) {
			t.Fatalf("before the delete the file lacks %q: the check below would prove nothing", s)
		}
	}
	if n := countKind(ts.notifications(t, m.bob), backend.KindFile); n != 2 {
		t.Fatalf("bob has %d file notifications, want 2", n)
	}

	ts.deleteMsg(t, m.bob, g, text.msg)
	ts.deleteMsg(t, m.alice, g, image.msg) // an admin may delete it too
	for _, id := range []string{text.file, image.file} {
		ts.check(t, 404, request{method: "GET", path: "/api/files/" + id, token: m.bob.Token})
		ts.check(t, 404, request{method: "GET", path: "/api/files/" + id + "/thumbnail", token: m.bob.Token})
	}
	if files := ts.filesIn(t); len(files) != 0 {
		t.Fatalf("files directory after the deletes: %v", files)
	}
	for _, s := range []string{textName, textBody, imageName} {
		if ts.dbHolds(t, s) {
			t.Fatalf("after the delete the bbolt file still holds %q", s)
		}
	}
	if n := countKind(ts.notifications(t, m.bob), backend.KindFile); n != 0 {
		t.Fatalf("bob still has %d file notifications about the deleted files", n)
	}
	hist := ts.list(t, m.bob, msgsPath(g))
	for _, msg := range hist.Messages {
		if !msg.Deleted || msg.Attachment != nil || msg.Content != "" {
			t.Fatalf("history after the deletes: %+v", msg)
		}
	}
	// The erased events: a replay of bob's stream has the tombstones and no file's name.
	replay := ts.openTeeStream(t, "/api/stream", m.bob.Token, before)
	ts.say(t, m.bob, g, "the fence")
	replay.await(t, "the fence", func(ev event) bool { return ev.Message != nil && ev.Message.Content == "the fence" })
	for _, s := range []string{textName, textBody, imageName, "preview"} {
		if bytes.Contains(replay.bytes(), []byte(s)) {
			t.Fatalf("the replay carries %q: %s", s, replay.bytes())
		}
	}
}

func countKind(ns []*backend.Notification, kind backend.NotificationKind) int {
	n := 0
	for _, x := range ns {
		if x.Type == kind {
			n++
		}
	}
	return n
}
