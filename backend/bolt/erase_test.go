package bolt_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
)

// fileHolds reports whether the store's file holds token anywhere, live or free pages alike.
func fileHolds(t *testing.T, path, token string) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return bytes.Contains(data, []byte(token))
}

// checkFile runs bbolt's consistency check on a closed store file.
func checkFile(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("bbolt check: %v", err)
	}
}

// A deleted message's words are nowhere in the file once DeleteMessage returns: not in the
// message, the log (NEW_MESSAGE, MESSAGE_UPDATED, MENTION, NOTIFICATION), the notification
// histories, nor in the free pages bbolt left behind from every commit that touched them.
func TestDeleteErasesTheContentFromTheFile(t *testing.T) {
	e := newEnv(t)
	ann, bob, cat := e.admin("ann"), e.member("bob"), e.member("cat")
	chat := e.chat("ops", ann, bob, cat)
	start := e.lastEventID()
	for i := range 200 { // pages to free and reuse around the secret
		e.post(chat, bob, fmt.Sprintf("filler message %d with some words to fill pages", i))
	}
	const secret = "zqx-secret-7731"
	m := e.post(chat, ann, "the password is "+secret+" @bob")
	_, err := e.s.EditMessage(e.ctx, chat.ID, m.ID, ann.ID, "the password is "+secret+" @bob @cat")
	wantNoError(t, err, "EditMessage")
	_, err = e.s.React(e.ctx, chat.ID, m.ID, bob.ID, "👀", true)
	wantNoError(t, err, "React")
	_, err = e.s.Pin(e.ctx, chat.ID, m.ID, cat.ID, true)
	wantNoError(t, err, "Pin")
	reply := e.reply(chat, bob, m, "don't paste "+secret+" here")
	for i := range 50 {
		e.post(chat, cat, fmt.Sprintf("later message %d", i))
	}
	if !fileHolds(t, e.path, secret) {
		t.Fatal("the secret is not in the file before the delete: the test proves nothing")
	}
	before := e.lastEventID()

	for _, id := range []string{reply.ID, m.ID} {
		if _, err := e.s.DeleteMessage(e.ctx, chat.ID, id, ann); err != nil { // ann is admin: also bob's reply
			t.Fatalf("DeleteMessage(%s): %v", id, err)
		}
	}
	if fileHolds(t, e.path, secret) {
		t.Fatal("the secret survives in the file after DeleteMessage")
	}
	// Every log entry from the start replays without it.
	for _, ev := range e.eventsAfter(start) {
		if strings.Contains(string(ev.Data()), secret) {
			t.Fatalf("logged %s %s still carries the secret: %s", ev.Type, ev.ID, ev.Data())
		}
	}
	evs := e.eventsAfter(before)
	if len(evs) == 0 || evs[len(evs)-1].Type != backend.EventMessageDeleted || evs[len(evs)-1].MessageID != m.ID {
		t.Fatalf("events after the deletes end in %v, want MESSAGE_DELETED of %s", eventTypes(evs), m.ID)
	}
	for _, u := range []*backend.User{ann, bob, cat} {
		notes, _, err := e.s.Notifications(e.ctx, u.ID, backend.NotificationFilter{Limit: 200})
		wantNoError(t, err, "Notifications")
		for _, n := range notes {
			if n.MessageID == m.ID || n.MessageID == reply.ID {
				t.Errorf("%s still has notification %+v about a deleted message", u.Username, n)
			}
		}
	}
	pins, err := e.s.Pins(e.ctx, chat.ID)
	wantNoError(t, err, "Pins")
	if len(pins) != 0 {
		t.Errorf("pins after deleting the pinned message: %v", messageIDs(pins))
	}
	got, err := e.s.Message(e.ctx, chat.ID, m.ID)
	wantNoError(t, err, "Message")
	if !got.Deleted || got.Content != "" || got.Reactions != nil || got.Pinned || got.ReplyCount != 0 {
		t.Errorf("tombstone = %+v", got)
	}
	e.s.Close()
	checkFile(t, e.path)
	if fileHolds(t, e.path, secret) {
		t.Fatal("the secret is back in the file after Close")
	}
}

// The scrub zeroes free pages while reads and writes go on: readers never see a damaged page
// and the file stays consistent.
func TestScrubBesideReadersAndWriters(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.admin("ann"), e.member("bob")
	chat := e.chat("ops", ann, bob)
	var ids []string
	for i := range 300 {
		ids = append(ids, e.post(chat, bob, fmt.Sprintf("message %d %s", i, strings.Repeat("x", i%97))).ID)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 3 { // readers: every page of history decodes and holds what was posted
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				msgs, _, err := e.s.Messages(e.ctx, chat.ID, backend.MessagePage{Limit: 200})
				if err != nil {
					errs <- err
					return
				}
				for _, m := range msgs {
					if !m.Deleted && !strings.HasPrefix(m.Content, "message ") && !strings.HasPrefix(m.Content, "new ") {
						errs <- fmt.Errorf("message %s reads %q", m.ID, m.Content)
						return
					}
				}
				if _, err := e.s.EventsAfter(e.ctx, ids[0], 500); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // a writer beside the deletes
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, _, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: ann.ID, Content: fmt.Sprintf("new %d", i)}); err != nil {
				errs <- err
				return
			}
		}
	}()
	for i := 0; i < len(ids); i += 3 {
		if _, err := e.s.DeleteMessage(e.ctx, chat.ID, ids[i], bob); err != nil {
			t.Fatalf("DeleteMessage: %v", err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, id := range ids {
		m, err := e.s.Message(e.ctx, chat.ID, id)
		wantNoError(t, err, "Message")
		if m.Deleted != (i%3 == 0) {
			t.Errorf("message %d deleted=%v", i, m.Deleted)
		}
	}
	e.s.Close()
	checkFile(t, e.path)
}

// Deleting twice, or a message of someone else as a plain member, or as a non-member.
func TestDeleteRules(t *testing.T) {
	e := newEnv(t)
	ann, bob, cat, dan := e.admin("ann"), e.member("bob"), e.member("cat"), e.member("dan")
	chat := e.chat("ops", bob, ann, cat)
	m := e.post(chat, bob, "hello")
	_, err := e.s.DeleteMessage(e.ctx, chat.ID, m.ID, cat)
	wantCode(t, err, backend.EFORBIDDEN)
	_, err = e.s.DeleteMessage(e.ctx, chat.ID, m.ID, dan)
	wantCode(t, err, backend.EFORBIDDEN)
	_, err = e.s.DeleteMessage(e.ctx, chat.ID, "01ARZ3NDEKTSV4RRFFQ69G5FAV", bob)
	wantCode(t, err, backend.ENOTFOUND)
	_, err = e.s.DeleteMessage(e.ctx, chat.ID, m.ID, bob)
	wantNoError(t, err, "DeleteMessage by the author")
	n := e.pub.Len()
	_, err = e.s.DeleteMessage(e.ctx, chat.ID, m.ID, ann)
	wantNoError(t, err, "DeleteMessage of a tombstone")
	if e.pub.Len() != n {
		t.Errorf("deleting a tombstone emitted %v", eventTypes(e.pub.Events()[n:]))
	}
	_, err = e.s.EditMessage(e.ctx, chat.ID, m.ID, bob.ID, "again")
	wantCode(t, err, backend.ECONFLICT)
	_, err = e.s.React(e.ctx, chat.ID, m.ID, bob.ID, "👍", true)
	wantCode(t, err, backend.ECONFLICT)
	_, err = e.s.Pin(e.ctx, chat.ID, m.ID, bob.ID, true)
	wantCode(t, err, backend.ECONFLICT)
	sums := e.summaries(cat.ID)
	if sums[chat.ID].Unread != 1 || sums[chat.ID].LastMessageID != m.ID {
		t.Errorf("cat's summary %+v: the tombstone still counts as unread and last", sums[chat.ID])
	}
}

func eventTypes(evs []*backend.Event) []backend.EventType {
	var types []backend.EventType
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	return types
}
