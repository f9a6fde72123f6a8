package bolt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
)

// activity runs a mix of writes that emit events, writes that emit nothing and writes that fail.
func activity(e *env) (us []*backend.User, chats []*backend.Chat) {
	e.t.Helper()
	us = e.users(3)
	a, b, c := us[0], us[1], us[2]
	ab := e.chat("ab", a, b)
	bc := e.chat("bc", b, c)
	for i := range 4 {
		e.clock.Advance(time.Second)
		e.post(ab, us[i%2], fmt.Sprint("ab ", i))
		e.post(bc, us[1+i%2], fmt.Sprint("bc ", i))
	}
	if _, err := e.s.AddMember(e.ctx, ab.ID, a.ID, c.ID); err != nil {
		e.t.Fatalf("AddMember: %v", err)
	}
	if _, err := e.s.AddMember(e.ctx, ab.ID, a.ID, c.ID); err != nil { // no-op: already a member
		e.t.Fatalf("AddMember again: %v", err)
	}
	if _, _, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: bc.ID, AuthorID: a.ID}); backend.ErrorCode(err) != backend.EFORBIDDEN {
		e.t.Fatalf("post by a non-member: %v", err)
	}
	var last *backend.Message
	for i := range 2 { // created, then a retry that emits nothing
		m, created, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: ab.ID, AuthorID: c.ID, ClientID: "k"})
		if err != nil || created != (i == 0) {
			e.t.Fatalf("post %d with a client id: created=%v, %v", i, created, err)
		}
		last = m
	}
	if err := e.s.MarkRead(e.ctx, c.ID, ab.ID, last.ID); err != nil {
		e.t.Fatalf("MarkRead: %v", err)
	}
	return us, []*backend.Chat{ab, bc}
}

func TestPublishedEventsAreTheLog(t *testing.T) {
	e := newEnv(t)
	if id := e.lastEventID(); id != "" {
		t.Fatalf("LastEventID of an empty log = %q", id)
	}
	_, chats := activity(e)
	ab, bc := chats[0], chats[1]

	published := e.pub.Events()
	// 2 chats, 8 posts that each notify the other member, 1 added member (CHAT_UPDATED and
	// CHAT_MEMBER_ADDED), 1 post with a client id that notifies 2.
	if len(published) != 23 {
		t.Fatalf("published %d events, want 23", len(published))
	}
	wantStrictlyIncreasing(t, eventIDs(published), "published events")
	for _, ev := range published {
		if !ev.Type.Durable() {
			t.Errorf("store published ephemeral %s", ev.Type)
		}
		if _, err := ulid.ParseStrict(ev.ID); err != nil {
			t.Errorf("event id %q is not a ULID", ev.ID)
		}
		if !bytes.HasPrefix(ev.Data(), []byte(`{"id":"`+ev.ID+`","type":"`+string(ev.Type)+`"`)) || !json.Valid(ev.Data()) {
			t.Errorf("event %s is not sealed: %q", ev.ID, ev.Data())
		}
	}
	if got := e.lastEventID(); got != published[len(published)-1].ID {
		t.Errorf("LastEventID = %s, want the last published %s", got, published[len(published)-1].ID)
	}

	logged := e.eventsAfter(published[0].ID)
	if got, want := eventIDs(logged), eventIDs(published[1:]); !slices.Equal(got, want) {
		t.Fatalf("EventsAfter(first) = %v,\nwant the published %v", got, want)
	}
	members := map[string][]string{}
	for _, c := range []*backend.Chat{ab, bc} {
		cur, err := e.s.Chat(e.ctx, c.ID)
		wantNoError(t, err, "Chat")
		members[c.ID] = cur.MemberIDs
	}
	for i, ev := range logged {
		pub := published[i+1]
		if ev.Type != pub.Type || ev.ChatID != pub.ChatID || ev.Timestamp != pub.Timestamp || !bytes.Equal(ev.Data(), pub.Data()) {
			t.Errorf("logged event %s differs from the published one:\n%s\n%s", ev.ID, ev.Data(), pub.Data())
		}
		// Recipients of a chat event from the log are the chat's members as of the read; a personal
		// event keeps its addressees.
		if ev.Personal != pub.Personal || ev.Personal && !slices.Equal(ev.Recipients, pub.Recipients) {
			t.Errorf("logged event %s personal=%v recipients = %v, want the published %v", ev.ID, ev.Personal, ev.Recipients, pub.Recipients)
		}
		if !ev.Personal && !slices.Equal(ev.Recipients, members[ev.ChatID]) {
			t.Errorf("logged event %s recipients = %v, want the members %v", ev.ID, ev.Recipients, members[ev.ChatID])
		}
	}
}

// Published recipients are the members as of the commit, and stay so; the log answers with the
// members as of the read.
func TestRecipientsAsOfCommitAndAsOfRead(t *testing.T) {
	e := newEnv(t)
	us := e.users(3)
	a, b, c := us[0], us[1], us[2]
	chat := e.chat("ab", a, b)
	first := e.lastEventID()
	m := e.post(chat, a, "before c joined")
	if _, err := e.s.AddMember(e.ctx, chat.ID, b.ID, c.ID); err != nil {
		t.Fatal(err)
	}

	pub := e.pub.Events()
	var msgEv *backend.Event
	for _, ev := range pub {
		if ev.ID == m.ID {
			msgEv = ev
		}
	}
	if msgEv == nil || !slices.Equal(msgEv.Recipients, []string{a.ID, b.ID}) {
		t.Fatalf("published NEW_MESSAGE recipients = %v, want %v", msgEv.Recipients, []string{a.ID, b.ID})
	}
	if created := pub[0]; !slices.Equal(created.Recipients, []string{a.ID, b.ID}) {
		t.Errorf("published CHAT_UPDATED recipients changed to %v after AddMember", created.Recipients)
	}
	logged := slices.DeleteFunc(e.eventsAfter(first), func(ev *backend.Event) bool { return ev.Personal })
	if len(logged) != 3 || logged[0].ID != m.ID { // the message, CHAT_UPDATED, CHAT_MEMBER_ADDED
		t.Fatalf("EventsAfter = %v", eventIDs(logged))
	}
	for _, ev := range logged {
		if !slices.Equal(ev.Recipients, []string{a.ID, b.ID, c.ID}) {
			t.Errorf("logged %s recipients = %v, want the current members", ev.Type, ev.Recipients)
		}
	}
}

func TestEventsAfterUnknownID(t *testing.T) {
	e := newEnv(t)
	us, chats := activity(e)
	published := e.pub.Events()
	// A ULID that sorts between two logged events but was never issued.
	between := ulid.MustParse(published[3].ID)
	between[15]-- // lower the last entropy byte: still after published[2]
	for _, tt := range []struct{ name, id string }{
		{"empty", ""},
		{"garbage", "not-an-id"},
		{"never issued", ulid.Make().String()},
		{"between two events", between.String()},
		{"lower-case form of a logged id", string(bytes.ToLower([]byte(published[2].ID)))},
		{"a user id", us[1].ID},
		{"a chat id", chats[0].ID},
		{"before every event", "00000000000000000000000000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := e.s.EventsAfter(e.ctx, tt.id, 100)
			if !isEventNotFound(err) {
				t.Fatalf("EventsAfter(%q) = %d events, %v; want ErrEventNotFound", tt.id, len(evs), err)
			}
		})
	}
	if e.eventsAfter(published[len(published)-1].ID) != nil {
		t.Errorf("EventsAfter(newest) returned events")
	}
}

func TestEventsAfterPaging(t *testing.T) {
	e := newEnv(t)
	activity(e)
	all := eventIDs(e.pub.Events())
	for _, limit := range []int{1, 2, 5, 11, 12, 100} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			got := []string{all[0]}
			for range len(all) {
				evs, err := e.s.EventsAfter(e.ctx, got[len(got)-1], limit)
				wantNoError(t, err, "EventsAfter")
				if len(evs) > limit {
					t.Fatalf("EventsAfter returned %d events with limit %d", len(evs), limit)
				}
				if remaining := len(all) - len(got); len(evs) != min(limit, remaining) {
					t.Fatalf("EventsAfter returned %d events, want %d", len(evs), min(limit, remaining))
				}
				if len(evs) == 0 {
					break
				}
				got = append(got, eventIDs(evs)...)
			}
			if !slices.Equal(got, all) {
				t.Errorf("paged events = %v,\nwant %v", got, all)
			}
		})
	}
	evs, err := e.s.EventsAfter(e.ctx, all[0], 0)
	if err != nil || len(evs) != 0 {
		t.Errorf("EventsAfter(limit 0) = %d events, %v", len(evs), err)
	}
}

func TestEventsAfterHonoursContext(t *testing.T) {
	e := newEnv(t)
	activity(e)
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	_, err := e.s.EventsAfter(ctx, e.pub.Events()[0].ID, 100)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("EventsAfter with a cancelled context: %v", err)
	}
}

// pruneFixture logs 4 events at t0 and 3 an hour later (times come from the injected clock).
func pruneFixture(t testing.TB) (e *env, old, young []string, msgs []string) {
	t.Helper()
	e = newEnv(t)
	// A chat of one, so that its messages notify nobody and each post logs one event.
	us := e.users(1)
	chat := e.chat("c", us[0])
	msgs = append(msgs, e.postMany(chat, us[0], 3)...)
	e.clock.Advance(time.Hour)
	msgs = append(msgs, e.postMany(chat, us[0], 3)...)
	all := eventIDs(e.pub.Events())
	if len(all) != 7 {
		t.Fatalf("fixture logged %d events, want 7", len(all))
	}
	return e, all[:4], all[4:], msgs
}

func TestPruneEvents(t *testing.T) {
	tests := []struct {
		name      string
		olderThan time.Duration // relative to t0
		keep      int
		batch     int
		wantKept  int // the newest events that remain
	}{
		{"nothing to prune", -time.Hour, 100, 100, 7},
		{"by age", 30 * time.Minute, 100, 100, 3},
		{"age cutoff is exclusive", 0, 100, 100, 7},
		{"by count", -time.Hour, 5, 100, 5},
		{"by count to one", -time.Hour, 1, 100, 1},
		{"keep 0 still keeps the newest", -time.Hour, 0, 100, 1},
		{"age and count, count wins", 30 * time.Minute, 2, 100, 2},
		{"age and count, age wins", 30 * time.Minute, 5, 100, 3},
		{"everything is old", 24 * time.Hour, 100, 100, 1},
		{"small batches", 24 * time.Hour, 0, 2, 1},
		{"batch of one", 30 * time.Minute, 100, 1, 3},
		{"batch equals deletions", 30 * time.Minute, 100, 4, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, old, young, msgs := pruneFixture(t)
			all := append(slices.Clone(old), young...)
			last := e.lastEventID()
			n, err := e.s.PruneEvents(e.ctx, t0.Add(tt.olderThan), tt.keep, tt.batch)
			wantNoError(t, err, "PruneEvents")
			if want := len(all) - tt.wantKept; n != want {
				t.Errorf("PruneEvents deleted %d, want %d", n, want)
			}
			if got := e.lastEventID(); got != last {
				t.Errorf("LastEventID = %s after pruning, want the newest %s", got, last)
			}
			kept := all[len(all)-tt.wantKept:]
			if got := e.eventsAfter(kept[0]); !slices.Equal(eventIDs(got), kept[1:]) {
				t.Errorf("EventsAfter(oldest kept) = %v, want %v", eventIDs(got), kept[1:])
			}
			for _, id := range all[:len(all)-tt.wantKept] {
				if _, err := e.s.EventsAfter(e.ctx, id, 10); !isEventNotFound(err) {
					t.Errorf("EventsAfter(pruned %s) = %v, want ErrEventNotFound", id, err)
				}
			}
			// Pruning the log never touches messages.
			page, _, err := e.s.Messages(e.ctx, e.pub.Events()[0].ChatID, backend.MessagePage{})
			wantNoError(t, err, "Messages")
			if !slices.Equal(messageIDs(page), msgs) {
				t.Errorf("messages after pruning = %v, want %v", messageIDs(page), msgs)
			}
		})
	}
}

func TestPruneEventsEmptyLog(t *testing.T) {
	e := newEnv(t)
	e.users(2)
	n, err := e.s.PruneEvents(e.ctx, t0.Add(time.Hour), 0, 10)
	if err != nil || n != 0 {
		t.Fatalf("PruneEvents on an empty log = %d, %v", n, err)
	}
}

// PruneEvents must terminate whatever batch it is given. A batch of 0 can never make progress; it
// must not spin committing empty transactions until the context ends (the deadline only bounds
// the failure: a correct store answers at once).
func TestPruneEventsZeroBatchTerminates(t *testing.T) {
	e, _, _, _ := pruneFixture(t)
	ctx, cancel := context.WithTimeout(e.ctx, time.Second)
	defer cancel()
	commits := e.s.Commits()
	_, err := e.s.PruneEvents(ctx, t0.Add(24*time.Hour), 0, 0)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PruneEvents(batch 0) spun until the deadline, committing %d empty transactions", e.s.Commits()-commits)
	}
}
