package bolt_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
	"github.com/oklog/ulid/v2"
	bbolt "go.etcd.io/bbolt"
)

// TestGroupCommit has many writers post into one chat at once: every post succeeds and is
// readable, ids increase in publish order without duplicates, and commits are shared.
func TestGroupCommit(t *testing.T) {
	e := newEnv(t)
	us := e.users(1)
	// A chat of one, whose messages notify nobody: each post is exactly one event.
	chat := e.chat("busy", us[0])
	chatEvent := e.lastEventID()
	const writers, perWriter, total = 64, 20, 64 * 20

	commitsBefore, pubBefore := e.s.Commits(), e.pub.Len()
	returned := make([][]*backend.Message, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			author := us[0]
			for i := range perWriter {
				m, created, err := e.s.PostMessage(e.ctx, &backend.Message{
					ChatID: chat.ID, AuthorID: author.ID, Content: fmt.Sprintf("w%d #%d", w, i), ClientID: fmt.Sprintf("w%d-%d", w, i),
				})
				if err == nil && !created {
					err = errors.New("created = false for a new client id")
				}
				if err != nil {
					errs[w] = fmt.Errorf("writer %d post %d: %w", w, i, err)
					return
				}
				returned[w] = append(returned[w], m)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	commits := e.s.Commits() - commitsBefore
	t.Logf("%d posts by %d writers took %d commits", total, writers, commits)

	byID := map[string]*backend.Message{}
	for w, ms := range returned {
		// One writer's posts are sequential, so their ids increase.
		wantStrictlyIncreasing(t, messageIDs(ms), fmt.Sprintf("writer %d's messages", w))
		for _, m := range ms {
			if byID[m.ID] != nil {
				t.Fatalf("id %s returned twice", m.ID)
			}
			byID[m.ID] = m
		}
	}
	if len(byID) != total {
		t.Fatalf("%d distinct ids, want %d", len(byID), total)
	}

	published := e.pub.Events()[pubBefore:]
	if len(published) != total {
		t.Fatalf("published %d events, want %d", len(published), total)
	}
	wantStrictlyIncreasing(t, eventIDs(published), "published events")
	for _, ev := range published {
		m := byID[ev.ID]
		if m == nil || ev.Type != backend.EventNewMessage || !reflect.DeepEqual(ev.Message, m) {
			t.Fatalf("published event %s (%s) does not match a returned message (%v)", ev.ID, ev.Type, m)
		}
	}

	// Everything is readable, in the same order, from the messages and from the log.
	var stored []string
	page := backend.MessagePage{After: "0", Limit: backend.MaxPageLimit}
	for {
		ms, more, err := e.s.Messages(e.ctx, chat.ID, page)
		wantNoError(t, err, "Messages")
		stored = append(stored, messageIDs(ms)...)
		if !more {
			break
		}
		page.After = ms[len(ms)-1].ID
	}
	if !slices.Equal(stored, eventIDs(published)) {
		t.Errorf("stored messages (%d) differ from the published order (%d)", len(stored), len(published))
	}
	if logged := e.eventsAfter(chatEvent); !slices.Equal(eventIDs(logged), eventIDs(published)) {
		t.Errorf("the log (%d events) differs from the published order", len(logged))
	}
	if e.lastEventID() != published[total-1].ID {
		t.Errorf("LastEventID is not the last published event")
	}

	if commits >= total {
		t.Errorf("%d concurrent writes took %d commits: no group commit", total, commits)
	}
}

// A lone write does not wait for company: each sequential write is its own commit, returned as
// soon as it is durable.
func TestLoneWritesCommitAtOnce(t *testing.T) {
	e := newEnv(t)
	us := e.users(2)
	chat := e.chat("quiet", us[0], us[1])
	for i := range 50 {
		before := e.s.Commits()
		m := e.post(chat, us[i%2], fmt.Sprint(i))
		if got := e.s.Commits() - before; got != 1 {
			t.Fatalf("post %d: commits grew by %d, want 1", i, got)
		}
		before = e.s.Commits()
		wantNoError(t, e.s.MarkRead(e.ctx, us[(i+1)%2].ID, chat.ID, m.ID), "MarkRead")
		if got := e.s.Commits() - before; got != 1 {
			t.Fatalf("MarkRead %d: commits grew by %d, want 1", i, got)
		}
	}
}

func TestMaxBatchOneDisablesGroupCommit(t *testing.T) {
	for _, n := range []int{1, 0, -5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			e := newEnv(t, bolt.WithMaxBatch(n))
			us := e.users(1)
			chat := e.chat("c", us[0])
			before := e.s.Commits()
			ids := e.postConcurrently(chat, us[0], 80, 8)
			if got := e.s.Commits() - before; got != int64(len(ids)) {
				t.Fatalf("WithMaxBatch(%d): %d writes took %d commits, want one each", n, len(ids), got)
			}
		})
	}
}

// Writes that fail, whether with a domain error or with an error that aborts their
// transaction, fail alone: the writes committed with them succeed.
func TestFailingWritesDoNotFailTheirBatch(t *testing.T) {
	e := newEnv(t)
	us := e.users(3)
	a, b, outsider := us[0], us[1], us[2]
	chat := e.chat("ab", a, b)
	unknownChat := ulid.Make().String()
	hugeClientID := strings.Repeat("k", 40<<10) // longer than bbolt's maximum key size

	type outcome struct {
		kind string
		msg  *backend.Message
		err  error
	}
	const writers, rounds = 32, 8
	results := make([][]outcome, writers)
	pubBefore := e.pub.Len()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range rounds {
				kind := []string{"good", "unknown chat", "good", "not a member", "good", "internal"}[(w+i)%6]
				m := &backend.Message{ChatID: chat.ID, AuthorID: us[w%2].ID, Content: fmt.Sprintf("%d/%d", w, i)}
				switch kind {
				case "unknown chat":
					m.ChatID = unknownChat
				case "not a member":
					m.AuthorID = outsider.ID
				case "internal":
					m.ClientID = hugeClientID
				}
				msg, _, err := e.s.PostMessage(e.ctx, m)
				results[w] = append(results[w], outcome{kind, msg, err})
			}
		})
	}
	wg.Wait()

	var good []string
	wantCodes := map[string]string{"good": "", "unknown chat": backend.ENOTFOUND, "not a member": backend.EFORBIDDEN, "internal": backend.EINTERNAL}
	for w, rs := range results {
		for i, r := range rs {
			if got := backend.ErrorCode(r.err); got != wantCodes[r.kind] {
				t.Errorf("writer %d round %d (%s): error %v, want code %q", w, i, r.kind, r.err, wantCodes[r.kind])
			}
			if r.kind == "good" && r.err == nil {
				good = append(good, r.msg.ID)
			}
		}
	}
	slices.Sort(good)
	// Each good post is a NEW_MESSAGE and the other member's NOTIFICATION; failed ones left nothing.
	newMessages := func(evs []*backend.Event) []string {
		var ids []string
		notes := 0
		for _, ev := range evs {
			switch ev.Type {
			case backend.EventNewMessage:
				ids = append(ids, ev.ID)
			case backend.EventNotification:
				notes++
			default:
				t.Errorf("unexpected %s event", ev.Type)
			}
		}
		if notes != len(ids) {
			t.Errorf("%d NOTIFICATION events for %d messages", notes, len(ids))
		}
		return ids
	}
	wantStrictlyIncreasing(t, eventIDs(e.pub.Events()[pubBefore:]), "published events")
	published := newMessages(e.pub.Events()[pubBefore:])
	wantStrictlyIncreasing(t, published, "published events")
	if !slices.Equal(published, good) {
		t.Errorf("published %d events, want exactly the %d good posts", len(published), len(good))
	}
	stored, _, err := e.s.Messages(e.ctx, chat.ID, backend.MessagePage{After: "0", Limit: backend.MaxPageLimit})
	wantNoError(t, err, "Messages")
	if !slices.Equal(messageIDs(stored), good) {
		t.Errorf("stored %d messages, want exactly the %d good posts", len(stored), len(good))
	}
	if logged := newMessages(e.eventsAfter(e.pub.Events()[pubBefore-1].ID)); !slices.Equal(logged, good) {
		t.Errorf("the log holds %d new events, want exactly the %d good posts", len(logged), len(good))
	}
}

func TestReopenKeepsDataAndIDsKeepIncreasing(t *testing.T) {
	e := newEnv(t)
	us := e.users(2)
	a, b := us[0], us[1]
	chat := e.chat("ab", a, b)
	msgs := e.postMany(chat, a, 5)
	wantNoError(t, e.s.MarkRead(e.ctx, b.ID, chat.ID, msgs[2]), "MarkRead")
	wantNoError(t, e.s.CreateSession(e.ctx, "tok", backend.Session{UserID: b.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}), "CreateSession")
	code := e.invite(a.ID)
	published := eventIDs(e.pub.Events())
	last := e.lastEventID()
	usersBefore, err := e.s.Users(e.ctx)
	wantNoError(t, err, "Users")

	for round, back := range []time.Duration{24 * time.Hour, 10 * 365 * 24 * time.Hour} {
		// The clock went backwards while the server was down.
		e.clock.Set(t0.Add(-back))
		e.reopen()

		usersAfter, err := e.s.Users(e.ctx)
		wantNoError(t, err, "Users")
		if !slices.Equal(userIDs(usersAfter), userIDs(usersBefore)) {
			t.Errorf("round %d: users after reopen = %v, want %v", round, userIDs(usersAfter), userIDs(usersBefore))
		}
		got, err := e.s.Chat(e.ctx, chat.ID)
		wantNoError(t, err, "Chat")
		if !slices.Equal(got.MemberIDs, chat.MemberIDs) || got.Name != chat.Name || got.LastMessageID != msgs[len(msgs)-1] {
			t.Errorf("round %d: chat after reopen = %+v", round, *got)
		}
		page, _, err := e.s.Messages(e.ctx, chat.ID, backend.MessagePage{})
		wantNoError(t, err, "Messages")
		if !slices.Equal(messageIDs(page), msgs) {
			t.Errorf("round %d: messages after reopen = %v, want %v", round, messageIDs(page), msgs)
		}
		if s := e.summaries(b.ID)[chat.ID]; s.LastReadID != msgs[2] || s.Unread != len(msgs)-3 {
			t.Errorf("round %d: b's summary after reopen = unread %d, last read %s", round, s.Unread, s.LastReadID)
		}
		if s, err := e.s.Session(e.ctx, "tok"); err != nil || s.UserID != b.ID {
			t.Errorf("round %d: session after reopen = %v, %v", round, s, err)
		}
		if got := e.lastEventID(); got != last {
			t.Errorf("round %d: LastEventID after reopen = %s, want %s", round, got, last)
		}
		if logged := e.eventsAfter(published[0]); !slices.Equal(eventIDs(logged), published[1:]) {
			t.Errorf("round %d: log after reopen = %v, want %v", round, eventIDs(logged), published[1:])
		}

		// New ids follow every earlier one although the clock now reads an earlier time.
		m := e.post(chat, a, fmt.Sprint("after reopen ", round))
		if m.ID <= last {
			t.Fatalf("round %d: new message id %s is not after the last event %s from before the restart", round, m.ID, last)
		}
		if m.CreatedAt != e.clock.Now().UnixMilli() {
			t.Errorf("round %d: CreatedAt = %d, want the clock's %d", round, m.CreatedAt, e.clock.Now().UnixMilli())
		}
		c2 := e.chat(fmt.Sprint("new ", round), b)
		if c2.ID <= m.ID || e.lastEventID() <= c2.ID {
			t.Errorf("round %d: ids not increasing: message %s, chat %s, event %s", round, m.ID, c2.ID, e.lastEventID())
		}
		// The message, b's NOTIFICATION of it, the new chat.
		if logged := e.eventsAfter(last); len(logged) != 3 || logged[0].ID != m.ID || logged[1].Type != backend.EventNotification {
			t.Errorf("round %d: EventsAfter(last before restart) = %v, want the new message first", round, eventIDs(logged))
		}
		msgs = append(msgs, m.ID)
		published = append(published, eventIDs(e.pub.Events())...)
		last = e.lastEventID()
	}
	// The invite issued before the restarts is still good (its expiry is an hour after t0).
	wantNoError(t, e.s.CreateUser(e.ctx, &backend.User{Username: "late"}, code), "CreateUser with an invite from before the restart")
}

func TestIDsKeepIncreasingAfterPruningAndRestart(t *testing.T) {
	e, _, young, _ := pruneFixture(t)
	newest := young[len(young)-1]
	chatID := e.pub.Events()[0].ChatID
	n, err := e.s.PruneEvents(e.ctx, t0.Add(365*24*time.Hour), 0, 100)
	if err != nil || n != 6 {
		t.Fatalf("PruneEvents = %d, %v; want 6 deleted", n, err)
	}
	e.clock.Set(t0.Add(-time.Hour))
	e.reopen()
	users, err := e.s.Users(e.ctx)
	wantNoError(t, err, "Users")
	m, _, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: chatID, AuthorID: users[0].ID, Content: "after"})
	wantNoError(t, err, "PostMessage")
	if m.ID <= newest {
		t.Fatalf("message id %s after prune and restart is not after the newest event %s", m.ID, newest)
	}
	if logged := e.eventsAfter(newest); len(logged) != 1 || logged[0].ID != m.ID {
		t.Errorf("EventsAfter(newest before restart) = %v, want [%s]", eventIDs(logged), m.ID)
	}
}

// Users are listed "ordered by id (registration order)", and newID promises ids greater than
// every id issued before, on this run or an earlier one. Users emit no events, so a restart
// with a clock that went backwards must not let a later registration sort before an earlier one.
func TestUserIDsKeepRegistrationOrderAcrossRestart(t *testing.T) {
	tests := []struct {
		name   string
		before func(e *env) // registrations before the restart
	}{
		{"no events logged", func(e *env) {
			e.admin("first")
			e.clock.Advance(time.Hour)
			e.member("second")
		}},
		{"users registered after the last event", func(e *env) {
			a := e.admin("first")
			e.chat("c", a) // logs an event at t0
			e.clock.Advance(time.Hour)
			e.member("second")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tt.before(e)
			e.clock.Set(t0) // the clock steps back an hour while the server is down
			e.reopen()
			later := e.member("third")
			users, err := e.s.Users(e.ctx)
			wantNoError(t, err, "Users")
			var names []string
			for _, u := range users {
				names = append(names, u.Username)
			}
			if want := []string{"first", "second", "third"}; !slices.Equal(names, want) {
				t.Errorf("Users() after restart = %v, want registration order %v", names, want)
			}
			for _, u := range users {
				if u != nil && u.Username != later.Username && u.ID >= later.ID {
					t.Errorf("user id %s issued after the restart is not greater than %s (%s) issued before it", later.ID, u.ID, u.Username)
				}
			}
		})
	}
}

// Close commits what is queued: every write that succeeded before or during Close is in the file,
// and every other write fails with ErrClosed.
func TestCloseCommitsQueuedWrites(t *testing.T) {
	e := newEnv(t)
	us := e.users(1)
	chat := e.chat("c", us[0])
	const writers = 16
	var (
		started sync.WaitGroup
		wg      sync.WaitGroup
		mu      sync.Mutex
		ok      []string
		errs    []error
	)
	started.Add(writers)
	for w := range writers {
		wg.Go(func() {
			for i := range 10000 {
				m, _, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: us[0].ID, Content: fmt.Sprint(w, i)})
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					ok = append(ok, m.ID)
				}
				mu.Unlock()
				if i == 2 {
					started.Done()
				}
				if err != nil {
					if i < 2 {
						started.Done()
					}
					return
				}
			}
		})
	}
	started.Wait() // every writer has written; most are in the middle of another write
	wantNoError(t, e.s.Close(), "Close")
	wg.Wait()
	wantNoError(t, e.s.Close(), "second Close")

	if len(errs) != writers {
		t.Errorf("%d writers stopped with %d errors", writers, len(errs))
	}
	for _, err := range errs {
		if !errors.Is(err, backend.ErrClosed) {
			t.Errorf("a write during Close failed with %v, want ErrClosed", err)
		}
	}
	slices.Sort(ok)
	if published := eventIDs(e.pub.Events()[1:]); !slices.Equal(published, ok) {
		t.Errorf("published %d messages, %d writes succeeded", len(published), len(ok))
	}

	e.open()
	var stored []string
	page := backend.MessagePage{After: "0", Limit: backend.MaxPageLimit}
	for {
		ms, more, err := e.s.Messages(e.ctx, chat.ID, page)
		wantNoError(t, err, "Messages")
		stored = append(stored, messageIDs(ms)...)
		if !more {
			break
		}
		page.After = ms[len(ms)-1].ID
	}
	if !slices.Equal(stored, ok) {
		t.Errorf("after reopen the file holds %d messages; %d writes succeeded", len(stored), len(ok))
	}
}

func TestWritesAfterCloseFail(t *testing.T) {
	e := newEnv(t)
	us := e.users(2)
	a, b := us[0], us[1]
	chat := e.chat("ab", a)
	m := e.post(chat, a, "x")
	wantNoError(t, e.s.Close(), "Close")
	wantNoError(t, e.s.Close(), "Close again")

	for _, tt := range []struct {
		name  string
		write func() error
	}{
		{"CreateUser", func() error { return e.s.CreateUser(e.ctx, &backend.User{Username: "z"}, "") }},
		{"CreateSession", func() error {
			return e.s.CreateSession(e.ctx, "t", backend.Session{UserID: a.ID, ExpiresAt: t0.Add(time.Hour)})
		}},
		{"DeleteSession", func() error { return e.s.DeleteSession(e.ctx, "t", backend.SessionSignedOut) }},
		{"CreateInvite", func() error {
			return e.s.CreateInvite(e.ctx, backend.Invite{Code: "c", ExpiresAt: t0.Add(time.Hour).UnixMilli()})
		}},
		{"CreateChat", func() error { return e.s.CreateChat(e.ctx, &backend.Chat{Name: "n", CreatedBy: a.ID}) }},
		{"AddMember", func() error { _, err := e.s.AddMember(e.ctx, chat.ID, a.ID, b.ID); return err }},
		{"PostMessage", func() error {
			_, _, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: a.ID, Content: "y"})
			return err
		}},
		{"MarkRead", func() error { return e.s.MarkRead(e.ctx, a.ID, chat.ID, m.ID) }},
		{"PruneEvents", func() error { _, err := e.s.PruneEvents(e.ctx, t0, 0, 10); return err }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.write(); !errors.Is(err, backend.ErrClosed) {
				t.Fatalf("%s after Close: %v, want ErrClosed", tt.name, err)
			}
		})
	}
}

func TestOpenFailures(t *testing.T) {
	dir := t.TempDir()
	notBolt := filepath.Join(dir, "not-bolt.db")
	if err := os.WriteFile(notBolt, []byte(strings.Repeat("this is not a bbolt file\n", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	badEventKey := filepath.Join(dir, "bad-event-key.db")
	db, err := bbolt.Open(badEventKey, 0o600, nil)
	wantNoError(t, err, "bbolt.Open")
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("events"))
		if err != nil {
			return err
		}
		return b.Put([]byte("not-a-ulid"), []byte{0, 0, '{', '}'})
	})
	wantNoError(t, err, "write a bad event key")
	wantNoError(t, db.Close(), "bbolt Close")

	for _, path := range []string{filepath.Join(dir, "missing", "dir", "herald.db"), notBolt, badEventKey} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			s, err := bolt.Open(path)
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open(%s) succeeded", path)
			}
		})
	}
}
