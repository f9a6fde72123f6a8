package bolt_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
)

// reply posts a reply to parent.
func (e *env) reply(chat *backend.Chat, author *backend.User, parent *backend.Message, content string, alsoToChat ...bool) *backend.Message {
	e.t.Helper()
	m, created, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: author.ID, Content: content,
		ParentID: parent.ID, AlsoToChat: len(alsoToChat) > 0 && alsoToChat[0]})
	if err != nil || !created {
		e.t.Fatalf("reply %q: created=%v err=%v", content, created, err)
	}
	return m
}

// personalOf returns the personal events of userID among evs.
func personalOf(evs []*backend.Event, userID string) []*backend.Event {
	var out []*backend.Event
	for _, ev := range evs {
		if ev.Personal && slices.Contains(ev.Recipients, userID) {
			out = append(out, ev)
		}
	}
	return out
}

func TestThreads(t *testing.T) {
	e := newEnv(t)
	ann, bob, cat, dan := e.admin("ann"), e.member("bob"), e.member("cat"), e.member("dan")
	chat := e.chat("ops", ann, bob, cat, dan)
	parent := e.post(chat, ann, "shall we ship?")
	mark := e.lastEventID()

	r1 := e.reply(chat, bob, parent, "yes, @cat can you check?")
	evs := e.eventsAfter(mark)
	if evs[0].Type != backend.EventNewMessage || evs[0].Message.ParentID != parent.ID || evs[1].Type != backend.EventMessageUpdated ||
		evs[1].Message.ID != parent.ID || evs[1].Message.ReplyCount != 1 || evs[1].Message.LastReplyAt != r1.CreatedAt {
		t.Fatalf("a reply emits %v, want NEW_MESSAGE of the reply then MESSAGE_UPDATED of the parent with its counts", eventTypes(evs))
	}
	// ann follows (she wrote the parent): a reply notification. cat is named: a mention.
	// dan neither follows nor is named: nothing, the reply is only in its thread.
	if p := personalOf(evs, ann.ID); len(p) != 1 || p[0].Notification.Type != backend.KindReply ||
		p[0].Notification.MessageID != r1.ID || p[0].Notification.ParentID != parent.ID || p[0].Notification.ActorID != bob.ID {
		t.Errorf("ann's events %+v, want one reply notification by bob", p)
	}
	if p := personalOf(evs, cat.ID); len(p) != 1 || p[0].Type != backend.EventMention || p[0].Notification.ActorID != bob.ID {
		t.Errorf("cat's events %v, want one MENTION", eventTypes(p))
	}
	if p := personalOf(evs, dan.ID); len(p) != 0 {
		t.Errorf("dan got %v for a thread-only reply", eventTypes(p))
	}
	if p := personalOf(evs, bob.ID); len(p) != 0 {
		t.Errorf("the replier got %v", eventTypes(p))
	}

	// cat replies too and follows; bob is told as a follower, ann too.
	mark = e.lastEventID()
	e.reply(chat, cat, parent, "checked")
	evs = e.eventsAfter(mark)
	for _, u := range []*backend.User{ann, bob} {
		if p := personalOf(evs, u.ID); len(p) != 1 || p[0].Notification.Type != backend.KindReply {
			t.Errorf("%s's events %v, want a reply notification", u.Username, eventTypes(p))
		}
	}
	// Sent also to the chat: it is in the history and dan is notified as for any message.
	mark = e.lastEventID()
	r3 := e.reply(chat, bob, parent, "shipping now", true)
	evs = e.eventsAfter(mark)
	if p := personalOf(evs, dan.ID); len(p) != 1 || p[0].Notification.Type != backend.KindMessage {
		t.Errorf("dan's events %v, want a message notification for a reply sent also to the chat", eventTypes(p))
	}
	history, _, err := e.s.Messages(e.ctx, chat.ID, backend.MessagePage{})
	wantNoError(t, err, "Messages")
	if got := messageIDs(history); !slices.Equal(got, []string{parent.ID, r3.ID}) {
		t.Errorf("history %v, want the parent and the reply sent also to the chat", got)
	}
	replies, more, err := e.s.Replies(e.ctx, chat.ID, parent.ID, backend.MessagePage{Limit: 2})
	wantNoError(t, err, "Replies")
	if len(replies) != 2 || !more || replies[1].ID != r3.ID {
		t.Errorf("newest replies page %v more=%v", messageIDs(replies), more)
	}
	replies, more, err = e.s.Replies(e.ctx, chat.ID, parent.ID, backend.MessagePage{Before: replies[0].ID})
	wantNoError(t, err, "Replies")
	if len(replies) != 1 || more || replies[0].ID != r1.ID {
		t.Errorf("older replies page %v more=%v", messageIDs(replies), more)
	}
	replies, more, err = e.s.Replies(e.ctx, chat.ID, parent.ID, backend.MessagePage{After: r1.ID, Limit: 1})
	wantNoError(t, err, "Replies")
	if len(replies) != 1 || !more || replies[0].ID == r3.ID {
		t.Errorf("replies after the first %v more=%v", messageIDs(replies), more)
	}
	// dan's unread counts the history only.
	if s := e.summaries(dan.ID)[chat.ID]; s.Unread != 2 || s.LastMessageID != r3.ID {
		t.Errorf("dan's summary %+v, want 2 unread and the last in the history", s)
	}

	// Deleting a reply: its tombstone stays in the thread, the parent counts one fewer.
	mark = e.lastEventID()
	_, err = e.s.DeleteMessage(e.ctx, chat.ID, r3.ID, bob)
	wantNoError(t, err, "DeleteMessage")
	p, err := e.s.Message(e.ctx, chat.ID, parent.ID)
	wantNoError(t, err, "Message")
	if p.ReplyCount != 2 {
		t.Errorf("parent after deleting a reply: %+v", p)
	}
	evs = e.eventsAfter(mark)
	if len(evs) != 2 || evs[0].Type != backend.EventMessageUpdated || evs[0].Message.ReplyCount != 2 ||
		evs[1].Type != backend.EventMessageDeleted || evs[1].ParentID != parent.ID {
		t.Errorf("deleting a reply emits %v", eventTypes(evs))
	}
	replies, _, _ = e.s.Replies(e.ctx, chat.ID, parent.ID, backend.MessagePage{})
	if len(replies) != 3 || !replies[2].Deleted {
		t.Errorf("thread after the delete: %+v", replies)
	}
	// Replying to a reply, to a deleted message, to another chat's message.
	_, _, err = e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: bob.ID, Content: "x", ParentID: r1.ID})
	wantCode(t, err, backend.EINVALID)
	_, _, err = e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: bob.ID, Content: "x", ParentID: r3.ID})
	wantCode(t, err, backend.EINVALID)
	other := e.chat("other", bob)
	_, _, err = e.s.PostMessage(e.ctx, &backend.Message{ChatID: other.ID, AuthorID: bob.ID, Content: "x", ParentID: parent.ID})
	wantCode(t, err, backend.ENOTFOUND)
	_, err = e.s.DeleteMessage(e.ctx, chat.ID, parent.ID, ann)
	wantNoError(t, err, "DeleteMessage of the parent")
	_, _, err = e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: bob.ID, Content: "x", ParentID: parent.ID})
	wantCode(t, err, backend.ECONFLICT)
	replies, _, _ = e.s.Replies(e.ctx, chat.ID, parent.ID, backend.MessagePage{})
	if len(replies) != 3 {
		t.Errorf("deleting the parent lost its replies: %v", messageIDs(replies))
	}
}

func TestEditNotifiesOnlyNewMentions(t *testing.T) {
	e := newEnv(t)
	ann, bob, cat := e.admin("ann"), e.member("bob"), e.member("cat")
	chat := e.chat("ops", ann, bob, cat)
	m := e.post(chat, ann, "hi @bob")
	mark := e.lastEventID()
	edited, err := e.s.EditMessage(e.ctx, chat.ID, m.ID, ann.ID, "hi @bob and @cat")
	wantNoError(t, err, "EditMessage")
	if edited.EditedAt == 0 || edited.Content != "hi @bob and @cat" {
		t.Errorf("edited %+v", edited)
	}
	evs := e.eventsAfter(mark)
	if evs[0].Type != backend.EventMessageUpdated || evs[0].Message.Content != edited.Content {
		t.Errorf("edit emits %v first", eventTypes(evs))
	}
	if p := personalOf(evs, bob.ID); len(p) != 0 {
		t.Errorf("bob, mentioned already, got %v", eventTypes(p))
	}
	if p := personalOf(evs, cat.ID); len(p) != 1 || p[0].Type != backend.EventMention || p[0].Message.Content != edited.Content {
		t.Errorf("cat, newly mentioned, got %v", eventTypes(p))
	}
	mark = e.lastEventID()
	_, err = e.s.EditMessage(e.ctx, chat.ID, m.ID, ann.ID, "hi @bob and @cat")
	wantNoError(t, err, "EditMessage unchanged")
	if evs := e.eventsAfter(mark); len(evs) != 0 {
		t.Errorf("an unchanged edit emitted %v", eventTypes(evs))
	}
	_, err = e.s.EditMessage(e.ctx, chat.ID, m.ID, bob.ID, "mine now")
	wantCode(t, err, backend.EFORBIDDEN)
}

func TestReactionsAndPins(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.admin("ann"), e.member("bob")
	chat := e.chat("ops", ann, bob)
	m := e.post(chat, ann, "deploy done")
	for _, u := range []*backend.User{ann, bob, bob} {
		_, err := e.s.React(e.ctx, chat.ID, m.ID, u.ID, "🎉", true)
		wantNoError(t, err, "React")
	}
	got, _ := e.s.Message(e.ctx, chat.ID, m.ID)
	if len(got.Reactions) != 1 || got.Reactions[0].Count != 2 || !slices.Equal(got.Reactions[0].UserIDs, []string{ann.ID, bob.ID}) {
		t.Fatalf("reactions %+v", got.Reactions)
	}
	mark := e.lastEventID()
	_, err := e.s.React(e.ctx, chat.ID, m.ID, ann.ID, "🚀", false) // not there: nothing
	wantNoError(t, err, "React off")
	if evs := e.eventsAfter(mark); len(evs) != 0 {
		t.Errorf("removing an absent reaction emitted %v", eventTypes(evs))
	}
	for i := 1; i < backend.MaxReactions; i++ {
		_, err := e.s.React(e.ctx, chat.ID, m.ID, bob.ID, string(rune(0x1F600+i)), true)
		wantNoError(t, err, "React")
	}
	_, err = e.s.React(e.ctx, chat.ID, m.ID, bob.ID, "🦄", true)
	wantCode(t, err, backend.ECONFLICT)
	_, err = e.s.React(e.ctx, chat.ID, m.ID, ann.ID, "🎉", true) // an existing emoji still takes people
	wantNoError(t, err, "React on an existing emoji")

	var pinned []string
	for i := range 3 {
		m := e.post(chat, bob, fmt.Sprintf("pin me %d", i))
		e.clock.Advance(time.Second)
		_, err := e.s.Pin(e.ctx, chat.ID, m.ID, ann.ID, true)
		wantNoError(t, err, "Pin")
		pinned = append(pinned, m.ID)
	}
	_, err = e.s.Pin(e.ctx, chat.ID, pinned[0], ann.ID, true) // again: nothing changes, no reorder
	wantNoError(t, err, "Pin again")
	pins, err := e.s.Pins(e.ctx, chat.ID)
	wantNoError(t, err, "Pins")
	if got := messageIDs(pins); !slices.Equal(got, []string{pinned[2], pinned[1], pinned[0]}) || !pins[0].Pinned {
		t.Errorf("pins %v, want most recently pinned first", got)
	}
	_, err = e.s.Pin(e.ctx, chat.ID, pinned[1], bob.ID, false)
	wantNoError(t, err, "Unpin")
	pins, _ = e.s.Pins(e.ctx, chat.ID)
	if len(pins) != 2 {
		t.Errorf("pins after unpinning: %v", messageIDs(pins))
	}
}

func TestMessagesAround(t *testing.T) {
	e := newEnv(t)
	ann := e.admin("ann")
	chat := e.chat("ops", ann)
	ids := e.postMany(chat, ann, 20)
	for _, tt := range []struct {
		at, limit    int
		from, to     int // the page is ids[from:to]
		older, newer bool
	}{
		{at: 10, limit: 5, from: 8, to: 13, older: true, newer: true},
		{at: 0, limit: 5, from: 0, to: 3, older: false, newer: true},
		{at: 19, limit: 5, from: 17, to: 20, older: true, newer: false},
		{at: 10, limit: 1, from: 10, to: 11, older: true, newer: true},
		{at: 0, limit: 1, from: 0, to: 1, older: false, newer: true},
		{at: 5, limit: 200, from: 0, to: 20, older: false, newer: false},
	} {
		msgs, older, newer, err := e.s.MessagesAround(e.ctx, chat.ID, ids[tt.at], tt.limit)
		wantNoError(t, err, "MessagesAround")
		if got := messageIDs(msgs); !slices.Equal(got, ids[tt.from:tt.to]) || older != tt.older || newer != tt.newer {
			t.Errorf("around %d limit %d: %d messages from %d, older=%v newer=%v; want ids[%d:%d] older=%v newer=%v",
				tt.at, tt.limit, len(got), slices.Index(ids, firstOr(got)), older, newer, tt.from, tt.to, tt.older, tt.newer)
		}
	}
	parent, _ := e.s.Message(e.ctx, chat.ID, ids[7])
	r := e.reply(chat, ann, parent, "in the thread")
	msgs, _, _, err := e.s.MessagesAround(e.ctx, chat.ID, r.ID, 3)
	wantNoError(t, err, "MessagesAround a reply")
	if got := messageIDs(msgs); !slices.Equal(got, ids[6:9]) {
		t.Errorf("around a thread-only reply: %v, want the page around its parent", got)
	}
	_, _, _, err = e.s.MessagesAround(e.ctx, chat.ID, "01ARZ3NDEKTSV4RRFFQ69G5FAV", 3)
	wantCode(t, err, backend.ENOTFOUND)
}

func firstOr(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

// Reading a chat tells the reader's other devices and marks the notifications about what was
// read; reading what was read already changes nothing.
func TestMarkReadEmitsReadMarker(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.admin("ann"), e.member("bob")
	chat := e.chat("ops", ann, bob)
	m1 := e.post(chat, ann, "one @bob")
	m2 := e.post(chat, ann, "two")
	m3 := e.post(chat, ann, "three")
	r := e.reply(chat, ann, m1, "a reply @bob")
	mark := e.lastEventID()
	wantNoError(t, e.s.MarkRead(e.ctx, bob.ID, chat.ID, m2.ID), "MarkRead")
	evs := e.eventsAfter(mark)
	if len(evs) != 1 || evs[0].Type != backend.EventReadMarker || evs[0].MessageID != m2.ID || !evs[0].Personal ||
		!slices.Equal(evs[0].Recipients, []string{bob.ID}) {
		t.Fatalf("MarkRead emitted %+v", evs)
	}
	notes, _, _ := e.s.Notifications(e.ctx, bob.ID, backend.NotificationFilter{})
	for _, n := range notes {
		want := n.MessageID <= m2.ID && n.Type != backend.KindReply && n.ParentID == ""
		if n.Read != want {
			t.Errorf("notification about %s (%s) read=%v, want %v", n.MessageID, n.Type, n.Read, want)
		}
	}
	if len(notes) != 4 {
		t.Errorf("bob has %d notifications, want 4 (mention, message, message, mention in the reply)", len(notes))
	}
	mark = e.lastEventID()
	wantNoError(t, e.s.MarkRead(e.ctx, bob.ID, chat.ID, m1.ID), "MarkRead backwards")
	if evs := e.eventsAfter(mark); len(evs) != 0 {
		t.Errorf("a marker that did not move emitted %v", eventTypes(evs))
	}
	_ = m3
	_ = r
}

// A file written before threads existed gets its history index on Open.
func TestOpenIndexesTheHistoryOfAnOlderFile(t *testing.T) {
	e := newEnv(t)
	ann := e.admin("ann")
	chat := e.chat("ops", ann)
	ids := e.postMany(chat, ann, 5)
	e.s.Close()
	db, err := bbolt.Open(e.path, 0o600, nil)
	wantNoError(t, err, "bbolt.Open")
	wantNoError(t, db.Update(func(tx *bbolt.Tx) error {
		// Files of that time had no schema version (version 1: Open migrates them).
		if err := tx.Bucket([]byte("meta")).Delete([]byte("schemaVersion")); err != nil {
			return err
		}
		return tx.DeleteBucket([]byte("timeline"))
	}), "drop the index")
	wantNoError(t, db.Close(), "Close")
	e.open()
	msgs, _, err := e.s.Messages(e.ctx, chat.ID, backend.MessagePage{})
	wantNoError(t, err, "Messages")
	if !slices.Equal(messageIDs(msgs), ids) {
		t.Errorf("history after the migration: %v, want %v", messageIDs(msgs), ids)
	}
	if s := e.summaries(ann.ID)[chat.ID]; s.LastMessageID != ids[4] {
		t.Errorf("summary %+v", s)
	}
}
