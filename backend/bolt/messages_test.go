package bolt_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
)

func TestPostMessage(t *testing.T) {
	e := newEnv(t)
	us := e.users(2)
	a, b := us[0], us[1]
	chat := e.chat("ab", a, b)
	e.clock.Advance(time.Minute)

	in := &backend.Message{ChatID: chat.ID, AuthorID: b.ID, Content: "hi there", ClientID: "c-1"}
	m, created, err := e.s.PostMessage(e.ctx, in)
	wantNoError(t, err, "PostMessage")
	if !created {
		t.Errorf("created = false for a new message")
	}
	if _, err := ulid.ParseStrict(m.ID); err != nil {
		t.Errorf("message id %q is not a ULID: %v", m.ID, err)
	}
	want := backend.Message{ID: m.ID, ChatID: chat.ID, AuthorID: b.ID, Content: "hi there", ClientID: "c-1", CreatedAt: e.clock.Now().UnixMilli()}
	if !reflect.DeepEqual(*m, want) {
		t.Errorf("PostMessage returned %+v, want %+v", *m, want)
	}
	page, more, err := e.s.Messages(e.ctx, chat.ID, backend.MessagePage{})
	wantNoError(t, err, "Messages")
	if len(page) != 1 || !reflect.DeepEqual(*page[0], want) || more {
		t.Errorf("Messages = %v (hasMore %v), want just %+v", page, more, want)
	}
}

func TestPostMessageRefused(t *testing.T) {
	e := newEnv(t)
	us := e.users(3)
	a, b, c := us[0], us[1], us[2]
	chat := e.chat("ab", a, b)
	for _, tt := range []struct {
		name string
		m    backend.Message
		want string
	}{
		{"not a member", backend.Message{ChatID: chat.ID, AuthorID: c.ID, Content: "x"}, backend.EFORBIDDEN},
		{"unknown author", backend.Message{ChatID: chat.ID, AuthorID: ulid.Make().String(), Content: "x"}, backend.EFORBIDDEN},
		{"unknown chat", backend.Message{ChatID: ulid.Make().String(), AuthorID: a.ID, Content: "x"}, backend.ENOTFOUND},
		{"empty chat id", backend.Message{AuthorID: a.ID, Content: "x"}, backend.ENOTFOUND},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := e.in(t)
			before, lastEvent := e.pub.Len(), e.lastEventID()
			m, created, err := e.s.PostMessage(e.ctx, &tt.m)
			wantCode(t, err, tt.want)
			if m != nil || created {
				t.Errorf("a refused post returned %v, created=%v", m, created)
			}
			if e.pub.Len() != before || e.lastEventID() != lastEvent {
				t.Errorf("a refused post emitted an event")
			}
		})
	}
	page, _, err := e.s.Messages(e.ctx, chat.ID, backend.MessagePage{})
	wantNoError(t, err, "Messages")
	if len(page) != 0 {
		t.Errorf("refused posts stored %d messages", len(page))
	}
}

func TestPostMessageClientIDIsIdempotent(t *testing.T) {
	e := newEnv(t)
	us := e.users(2)
	a, b := us[0], us[1]
	chat := e.chat("ab", a, b)
	other := e.chat("other", a, b)

	post := func(chatID string, author *backend.User, clientID, content string) (*backend.Message, bool) {
		t.Helper()
		m, created, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: chatID, AuthorID: author.ID, ClientID: clientID, Content: content})
		wantNoError(t, err, "PostMessage")
		return m, created
	}

	first, created := post(chat.ID, a, "k1", "original")
	if !created {
		t.Fatalf("first post with a client id was not created")
	}
	events := e.pub.Len()

	e.clock.Advance(time.Minute)
	again, created := post(chat.ID, a, "k1", "retry with other content")
	if created {
		t.Errorf("retry with the same client id: created = true")
	}
	if !reflect.DeepEqual(again, first) {
		t.Errorf("retry returned %+v, want the original %+v", *again, *first)
	}
	if e.pub.Len() != events {
		t.Errorf("a retry published an event")
	}

	// The same key by another author, or in another chat, is another message.
	byB, created := post(chat.ID, b, "k1", "b's own")
	if !created || byB.ID == first.ID {
		t.Errorf("same client id by another author: created=%v id=%s (first %s)", created, byB.ID, first.ID)
	}
	inOther, created := post(other.ID, a, "k1", "elsewhere")
	if !created || inOther.ID == first.ID {
		t.Errorf("same client id in another chat: created=%v id=%s", created, inOther.ID)
	}
	// Without a client id every post is new.
	n1, c1 := post(chat.ID, a, "", "no key")
	n2, c2 := post(chat.ID, a, "", "no key")
	if !c1 || !c2 || n1.ID == n2.ID {
		t.Errorf("posts without a client id were merged")
	}

	page, _, err := e.s.Messages(e.ctx, chat.ID, backend.MessagePage{})
	wantNoError(t, err, "Messages")
	if got, want := messageIDs(page), []string{first.ID, byB.ID, n1.ID, n2.ID}; !slices.Equal(got, want) {
		t.Errorf("chat holds %v, want %v", got, want)
	}

	// The key outlives a restart.
	e.reopen()
	again, created = post(chat.ID, a, "k1", "after restart")
	if created || again.ID != first.ID {
		t.Errorf("retry after reopen: created=%v id=%s, want the original %s", created, again.ID, first.ID)
	}
	// A retry does not move the author's read marker back or forward.
	if s := e.summaries(a.ID)[chat.ID]; s.LastReadID != n2.ID {
		t.Errorf("a's read marker = %s, want %s", s.LastReadID, n2.ID)
	}
}

func TestMessageIDIsItsEventID(t *testing.T) {
	e := newEnv(t)
	us := e.users(3)
	chat := e.chat("abc", us[0], us[1], us[2])
	before := e.pub.Len()
	var msgs []*backend.Message
	for i := range 5 {
		msgs = append(msgs, e.post(chat, us[i%3], fmt.Sprint(i)))
	}
	var evs []*backend.Event
	notified := map[string][]string{} // message id → who got a NOTIFICATION for it
	for _, ev := range e.pub.Events()[before:] {
		switch ev.Type {
		case backend.EventNewMessage:
			evs = append(evs, ev)
		case backend.EventNotification:
			n := ev.Notification
			if n == nil || n.Type != backend.KindMessage || !ev.Personal || len(ev.Recipients) != 1 || n.ID != ev.ID ||
				len(evs) == 0 || ev.ChatID != chat.ID || !n.Notify {
				t.Fatalf("unexpected NOTIFICATION %+v (%+v)", *ev, n)
			}
			last := evs[len(evs)-1].ID
			notified[last] = append(notified[last], ev.Recipients[0])
		default:
			t.Fatalf("a post published %s", ev.Type)
		}
	}
	if len(evs) != len(msgs) {
		t.Fatalf("%d posts published %d NEW_MESSAGE events", len(msgs), len(evs))
	}
	members := []string{us[0].ID, us[1].ID, us[2].ID}
	for i, m := range msgs {
		// Every member but the author is notified, right after the message, in the same commit.
		want := slices.DeleteFunc(slices.Clone(members), func(id string) bool { return id == m.AuthorID })
		if got := notified[m.ID]; !slices.Equal(got, want) {
			t.Errorf("message %d notified %v, want %v", i, got, want)
		}
	}
	for i, ev := range evs {
		m := msgs[i]
		if ev.Type != backend.EventNewMessage || ev.ID != m.ID || ev.ChatID != chat.ID || ev.Message == nil ||
			!reflect.DeepEqual(ev.Message, m) || ev.Timestamp != m.CreatedAt || ev.Personal || !slices.Equal(ev.Recipients, members) {
			t.Errorf("event %d = %+v (message %+v), want NEW_MESSAGE %s of %+v to %v", i, *ev, ev.Message, m.ID, *m, members)
		}
	}
}

func TestMessagesPaging(t *testing.T) {
	e := newEnv(t)
	us := e.users(2)
	a, b := us[0], us[1]
	// Neighbouring chats with lower and higher ids get messages in between, so a page that
	// crosses its chat's key range would show.
	lower := e.chat("lower", a, b)
	chat := e.chat("target", a, b)
	higher := e.chat("higher", a, b)
	const n = 25
	ids := make([]string, n)
	var foreign []string
	for i := range ids {
		ids[i] = e.post(chat, us[i%2], fmt.Sprintf("m%d", i)).ID
		if i%5 == 0 {
			foreign = append(foreign, e.post(lower, a, "x").ID, e.post(higher, b, "y").ID)
		}
	}
	const maxULID = "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"

	tests := []struct {
		name     string
		page     backend.MessagePage
		want     []string
		wantMore bool
	}{
		{"newest", backend.MessagePage{Limit: 10}, ids[15:], true},
		{"newest, default limit", backend.MessagePage{}, ids, false},
		{"newest, limit equals count", backend.MessagePage{Limit: n}, ids, false},
		{"newest, limit 1", backend.MessagePage{Limit: 1}, ids[n-1:], true},
		{"before", backend.MessagePage{Before: ids[15], Limit: 10}, ids[5:15], true},
		{"before, exactly to the start", backend.MessagePage{Before: ids[10], Limit: 10}, ids[:10], false},
		{"before, short page", backend.MessagePage{Before: ids[5], Limit: 10}, ids[:5], false},
		{"before the first", backend.MessagePage{Before: ids[0], Limit: 10}, nil, false},
		{"before an id past the end", backend.MessagePage{Before: maxULID, Limit: 3}, ids[n-3:], true},
		{"before a foreign id", backend.MessagePage{Before: foreign[3], Limit: 50}, idsBelow(ids, foreign[3]), false},
		{"after", backend.MessagePage{After: ids[9], Limit: 10}, ids[10:20], true},
		{"after, exactly to the end", backend.MessagePage{After: ids[14], Limit: 10}, ids[15:], false},
		{"after, short page", backend.MessagePage{After: ids[20], Limit: 10}, ids[21:], false},
		{"after the last", backend.MessagePage{After: ids[n-1], Limit: 10}, nil, false},
		{"after an id before the start", backend.MessagePage{After: "0", Limit: 4}, ids[:4], true},
		{"after a foreign id", backend.MessagePage{After: foreign[3], Limit: 50}, idsAbove(ids, foreign[3]), false},
		{"range", backend.MessagePage{After: ids[4], Before: ids[10], Limit: 10}, ids[5:10], false},
		{"range, limited", backend.MessagePage{After: ids[4], Before: ids[20], Limit: 10}, ids[5:15], true},
		{"range, exactly filled", backend.MessagePage{After: ids[4], Before: ids[15], Limit: 10}, ids[5:15], false},
		{"empty range", backend.MessagePage{After: ids[4], Before: ids[5], Limit: 10}, nil, false},
		{"inverted range", backend.MessagePage{After: ids[10], Before: ids[5], Limit: 10}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := e.s.Messages(e.ctx, chat.ID, tt.page)
			wantNoError(t, err, "Messages")
			if !slices.Equal(messageIDs(got), tt.want) || more != tt.wantMore {
				t.Errorf("Messages(%+v) = %v hasMore=%v,\nwant %v hasMore=%v", tt.page, messageIDs(got), more, tt.want, tt.wantMore)
			}
			for _, m := range got {
				if m.ChatID != chat.ID {
					t.Errorf("page holds message %s of chat %s", m.ID, m.ChatID)
				}
			}
		})
	}

	for _, limit := range []int{1, 3, 7, 10, n, n + 1} {
		t.Run(fmt.Sprintf("walk backwards by %d", limit), func(t *testing.T) {
			var all []string
			page := backend.MessagePage{Limit: limit}
			for range n + 1 {
				got, more, err := e.s.Messages(e.ctx, chat.ID, page)
				wantNoError(t, err, "Messages")
				if len(got) == 0 || len(got) > limit {
					t.Fatalf("page of %d messages with limit %d", len(got), limit)
				}
				all = append(messageIDs(got), all...)
				if wantMore := all[0] != ids[0]; more != wantMore {
					t.Fatalf("page before %q: hasMore = %v, want %v", page.Before, more, wantMore)
				}
				if !more {
					break
				}
				page.Before = got[0].ID
			}
			if !slices.Equal(all, ids) {
				t.Errorf("walking backwards gave %v,\nwant %v", all, ids)
			}
		})
		t.Run(fmt.Sprintf("walk forwards by %d", limit), func(t *testing.T) {
			var all []string
			page := backend.MessagePage{After: "0", Limit: limit}
			for range n + 1 {
				got, more, err := e.s.Messages(e.ctx, chat.ID, page)
				wantNoError(t, err, "Messages")
				if len(got) == 0 || len(got) > limit {
					t.Fatalf("page of %d messages with limit %d", len(got), limit)
				}
				all = append(all, messageIDs(got)...)
				if wantMore := all[len(all)-1] != ids[n-1]; more != wantMore {
					t.Fatalf("page after %q: hasMore = %v, want %v", page.After, more, wantMore)
				}
				if !more {
					break
				}
				page.After = got[len(got)-1].ID
			}
			if !slices.Equal(all, ids) {
				t.Errorf("walking forwards gave %v,\nwant %v", all, ids)
			}
		})
	}
}

func idsBelow(ids []string, bound string) []string {
	return slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id >= bound })
}

func idsAbove(ids []string, bound string) []string {
	return slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id <= bound })
}

func TestMessagesLimitBounds(t *testing.T) {
	e := newEnv(t)
	us := e.users(1)
	chat := e.chat("big", us[0])
	n := backend.MaxPageLimit + 10
	ids := e.postConcurrently(chat, us[0], n, 16)

	for _, tt := range []struct {
		limit int
		want  int
	}{
		{-1, backend.DefaultPageLimit},
		{0, backend.DefaultPageLimit},
		{1, 1},
		{backend.DefaultPageLimit + 1, backend.DefaultPageLimit + 1},
		{backend.MaxPageLimit, backend.MaxPageLimit},
		{backend.MaxPageLimit + 1, -1}, // anything from 1 to MaxPageLimit
		{1 << 30, -1},
	} {
		t.Run(fmt.Sprint(tt.limit), func(t *testing.T) {
			for _, dir := range []struct {
				name string
				page backend.MessagePage
				want func(k int) []string
			}{
				{"newest", backend.MessagePage{Limit: tt.limit}, func(k int) []string { return ids[n-k:] }},
				{"after", backend.MessagePage{After: "0", Limit: tt.limit}, func(k int) []string { return ids[:k] }},
			} {
				got, more, err := e.s.Messages(e.ctx, chat.ID, dir.page)
				wantNoError(t, err, "Messages")
				k := len(got)
				if tt.want >= 0 && k != tt.want || k < 1 || k > backend.MaxPageLimit {
					t.Errorf("%s: limit %d gave %d messages, want %d (at most %d)", dir.name, tt.limit, k, tt.want, backend.MaxPageLimit)
				}
				if !more || !slices.Equal(messageIDs(got), dir.want(k)) {
					t.Errorf("%s: limit %d: wrong page (hasMore %v)", dir.name, tt.limit, more)
				}
			}
		})
	}
}

func TestMessagesOfEmptyAndUnknownChats(t *testing.T) {
	e := newEnv(t)
	us := e.users(1)
	empty := e.chat("empty", us[0])
	busy := e.chat("busy", us[0])
	ids := e.postMany(busy, us[0], 3)
	pages := []backend.MessagePage{
		{}, {Limit: 5}, {After: "0"}, {Before: "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"}, {After: ids[0]}, {Before: ids[2]}, {After: "0", Before: ids[2]},
	}
	for _, p := range pages {
		got, more, err := e.s.Messages(e.ctx, empty.ID, p)
		if err != nil || len(got) != 0 || more {
			t.Errorf("Messages(empty chat, %+v) = %d messages, hasMore %v, err %v", p, len(got), more, err)
		}
		_, _, err = e.s.Messages(e.ctx, ulid.Make().String(), p)
		wantCode(t, err, backend.ENOTFOUND)
	}
}

func TestMessageContentRoundTrips(t *testing.T) {
	e := newEnv(t)
	us := e.users(1)
	chat := e.chat("c", us[0])
	contents := []string{
		"plain",
		"multi\nline\ttext",
		`quotes " and \ backslashes`,
		"unicode: héllo 👋 世界",
		"<script>alert(1)</script>",
		strings.Repeat("x", backend.MaxContentLen),
	}
	for _, c := range contents {
		e.post(chat, us[0], c)
	}
	got, _, err := e.s.Messages(e.ctx, chat.ID, backend.MessagePage{})
	wantNoError(t, err, "Messages")
	for i, m := range got {
		if m.Content != contents[i] {
			t.Errorf("message %d content = %q, want %q", i, m.Content, contents[i])
		}
	}
}
