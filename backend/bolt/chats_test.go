package bolt_test

import (
	"slices"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
)

func TestCreateChat(t *testing.T) {
	e := newEnv(t)
	us := e.users(3)
	a, b, c := us[0], us[1], us[2]
	e.clock.Advance(time.Minute)

	tests := []struct {
		name    string
		creator *backend.User
		members []string
		want    []string
	}{
		{"creator only", a, nil, []string{a.ID}},
		{"others", a, []string{b.ID, c.ID}, []string{a.ID, b.ID, c.ID}},
		{"creator listed too", b, []string{a.ID, b.ID}, []string{b.ID, a.ID}},
		{"duplicates", a, []string{c.ID, b.ID, c.ID, a.ID, b.ID}, []string{a.ID, c.ID, b.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.in(t)
			before := e.pub.Len()
			chat := &backend.Chat{Name: tt.name, CreatedBy: tt.creator.ID, MemberIDs: slices.Clone(tt.members)}
			wantNoError(t, e.s.CreateChat(e.ctx, chat), "CreateChat")
			if _, err := ulid.ParseStrict(chat.ID); err != nil {
				t.Fatalf("chat id %q is not a ULID: %v", chat.ID, err)
			}
			if !slices.Equal(chat.MemberIDs, tt.want) {
				t.Errorf("MemberIDs = %v, want %v", chat.MemberIDs, tt.want)
			}
			if chat.CreatedAt != e.clock.Now().UnixMilli() {
				t.Errorf("CreatedAt = %d, want %d", chat.CreatedAt, e.clock.Now().UnixMilli())
			}
			got, err := e.s.Chat(e.ctx, chat.ID)
			wantNoError(t, err, "Chat")
			if got.Name != tt.name || got.CreatedBy != tt.creator.ID || !slices.Equal(got.MemberIDs, tt.want) || got.LastMessageID != "" {
				t.Errorf("Chat() = %+v, want name %q, creator %s, members %v, no last message", *got, tt.name, tt.creator.ID, tt.want)
			}
			for _, id := range tt.want {
				if _, ok := e.summaries(id)[chat.ID]; !ok {
					t.Errorf("ChatsOf(%s) lacks the new chat", id)
				}
			}

			evs := e.pub.Events()[before:]
			if len(evs) != 1 {
				t.Fatalf("CreateChat published %d events, want 1", len(evs))
			}
			ev := evs[0]
			if ev.Type != backend.EventChatUpdated || ev.ChatID != chat.ID || ev.Chat == nil || ev.Chat.ID != chat.ID ||
				!slices.Equal(ev.Chat.MemberIDs, tt.want) || !slices.Equal(ev.Recipients, tt.want) || ev.Personal {
				t.Errorf("event = %+v (chat %+v), want CHAT_UPDATED of %s to %v", *ev, ev.Chat, chat.ID, tt.want)
			}
			if ev.ID <= chat.ID {
				t.Errorf("event id %s is not after the chat id %s it announces", ev.ID, chat.ID)
			}
			if ev.ID != e.lastEventID() {
				t.Errorf("LastEventID = %s, want the CHAT_UPDATED event %s", e.lastEventID(), ev.ID)
			}
		})
	}
}

// The event carries a snapshot: changing the caller's chat afterwards does not change what
// subscribers were sent.
func TestCreateChatEventIsASnapshot(t *testing.T) {
	e := newEnv(t)
	us := e.users(2)
	chat := e.chat("snap", us[0], us[1])
	chat.MemberIDs[1] = "mutated"
	chat.Name = "mutated"
	ev := e.pub.Events()[0]
	if ev.Chat.Name != "snap" || !slices.Equal(ev.Chat.MemberIDs, []string{us[0].ID, us[1].ID}) ||
		!slices.Equal(ev.Recipients, []string{us[0].ID, us[1].ID}) {
		t.Fatalf("published event changed with the caller's chat: %+v, recipients %v", *ev.Chat, ev.Recipients)
	}
}

func TestCreateChatRejectsUnknownUsers(t *testing.T) {
	unknown := ulid.Make().String()
	tests := []struct {
		name    string
		chat    func(a, b *backend.User) *backend.Chat
		wantErr string
	}{
		{"unknown member", func(a, b *backend.User) *backend.Chat {
			return &backend.Chat{Name: "x", CreatedBy: a.ID, MemberIDs: []string{b.ID, unknown}}
		}, backend.ENOTFOUND},
		{"unknown creator", func(a, b *backend.User) *backend.Chat {
			return &backend.Chat{Name: "x", CreatedBy: unknown, MemberIDs: []string{a.ID}}
		}, backend.ENOTFOUND},
		{"no creator", func(a, b *backend.User) *backend.Chat {
			return &backend.Chat{Name: "x", MemberIDs: []string{a.ID, b.ID}}
		}, backend.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			us := e.users(2)
			lastEvent := e.lastEventID()
			chat := tt.chat(us[0], us[1])
			members := slices.Clone(chat.MemberIDs)
			wantCode(t, e.s.CreateChat(e.ctx, chat), tt.wantErr)
			if chat.ID != "" || !slices.Equal(chat.MemberIDs, members) {
				t.Errorf("a refused CreateChat changed the caller's chat: %+v", *chat)
			}
			for _, u := range us {
				if n := len(e.summaries(u.ID)); n != 0 {
					t.Errorf("ChatsOf(%s) = %d chats after a refused CreateChat", u.Username, n)
				}
			}
			if n := e.pub.Len(); n != 0 {
				t.Errorf("a refused CreateChat published %d events", n)
			}
			if got := e.lastEventID(); got != lastEvent {
				t.Errorf("a refused CreateChat logged event %s", got)
			}
		})
	}
}

func TestCreateChatMemberLimit(t *testing.T) {
	e := newEnv(t)
	a := e.admin("a")
	members := make([]string, backend.MaxChatMembers) // all distinct, none is the creator
	for i := range members {
		members[i] = ulid.Make().String()
	}
	wantCode(t, e.s.CreateChat(e.ctx, &backend.Chat{Name: "big", CreatedBy: a.ID, MemberIDs: members}), backend.EINVALID)
}

func TestAddMember(t *testing.T) {
	e := newEnv(t)
	us := e.users(4)
	a, b, c, d := us[0], us[1], us[2], us[3]
	chat := e.chat("team", a, b)
	m := e.post(chat, a, "hello")

	t.Run("refused", func(t *testing.T) {
		for _, tt := range []struct {
			name                  string
			chatID, actor, target string
			want                  string
		}{
			{"actor not a member", chat.ID, c.ID, d.ID, backend.EFORBIDDEN},
			{"actor not a member adds self", chat.ID, c.ID, c.ID, backend.EFORBIDDEN},
			{"unknown actor", chat.ID, ulid.Make().String(), c.ID, backend.EFORBIDDEN},
			{"unknown chat", ulid.Make().String(), a.ID, c.ID, backend.ENOTFOUND},
			{"unknown user", chat.ID, a.ID, ulid.Make().String(), backend.ENOTFOUND},
		} {
			t.Run(tt.name, func(t *testing.T) {
				before := e.pub.Len()
				got, err := e.s.AddMember(e.ctx, tt.chatID, tt.actor, tt.target)
				wantCode(t, err, tt.want)
				if got != nil {
					t.Errorf("AddMember returned a chat with its error: %+v", *got)
				}
				if e.pub.Len() != before {
					t.Errorf("a refused AddMember published an event")
				}
			})
		}
		stored, err := e.s.Chat(e.ctx, chat.ID)
		wantNoError(t, err, "Chat")
		if !slices.Equal(stored.MemberIDs, []string{a.ID, b.ID}) {
			t.Errorf("members after refused adds = %v", stored.MemberIDs)
		}
	})

	t.Run("new member", func(t *testing.T) {
		e := e.in(t)
		before := e.pub.Len()
		e.clock.Advance(time.Second)
		got, err := e.s.AddMember(e.ctx, chat.ID, b.ID, c.ID) // any member may add
		wantNoError(t, err, "AddMember")
		want := []string{a.ID, b.ID, c.ID}
		if !slices.Equal(got.MemberIDs, want) || got.ID != chat.ID || got.LastMessageID != m.ID {
			t.Errorf("AddMember returned %+v, want members %v and last message %s", *got, want, m.ID)
		}
		stored, err := e.s.Chat(e.ctx, chat.ID)
		wantNoError(t, err, "Chat")
		if !slices.Equal(stored.MemberIDs, want) || stored.CreatedAt != chat.CreatedAt || stored.Name != chat.Name {
			t.Errorf("stored chat = %+v", *stored)
		}
		if _, ok := e.summaries(c.ID)[chat.ID]; !ok {
			t.Errorf("ChatsOf(new member) lacks the chat")
		}
		evs := e.pub.Events()[before:]
		if len(evs) != 2 {
			t.Fatalf("AddMember published %d events, want 2", len(evs))
		}
		if added := evs[1]; added.Type != backend.EventChatMemberAdded || added.UserID != c.ID || !slices.Equal(added.Recipients, want) {
			t.Errorf("second event = %+v, want CHAT_MEMBER_ADDED of %s to %v", *added, c.ID, want)
		}
		ev := evs[0]
		if ev.Type != backend.EventChatUpdated || ev.ChatID != chat.ID || !slices.Equal(ev.Recipients, want) ||
			ev.Chat == nil || !slices.Equal(ev.Chat.MemberIDs, want) {
			t.Errorf("event = %+v, want CHAT_UPDATED to %v", *ev, want)
		}
		if ev.Timestamp != e.clock.Now().UnixMilli() {
			t.Errorf("event timestamp = %d, want %d", ev.Timestamp, e.clock.Now().UnixMilli())
		}
	})

	t.Run("existing member", func(t *testing.T) {
		e := e.in(t)
		before, lastEvent := e.pub.Len(), e.lastEventID()
		for _, target := range []string{a.ID, c.ID} {
			got, err := e.s.AddMember(e.ctx, chat.ID, a.ID, target)
			wantNoError(t, err, "AddMember(existing)")
			if !slices.Equal(got.MemberIDs, []string{a.ID, b.ID, c.ID}) {
				t.Errorf("AddMember(existing) returned members %v", got.MemberIDs)
			}
		}
		if e.pub.Len() != before || e.lastEventID() != lastEvent {
			t.Errorf("adding an existing member emitted an event")
		}
	})
}

func TestChatsOfListsOnlyOwnChatsInIDOrder(t *testing.T) {
	e := newEnv(t)
	us := e.users(4)
	a, b, c, d := us[0], us[1], us[2], us[3]
	ab := e.chat("ab", a, b)
	ac := e.chat("ac", c, a) // created by c
	bc := e.chat("bc", b, c)
	abc := e.chat("abc", a, b, c)

	for _, tt := range []struct {
		user *backend.User
		want []*backend.Chat
	}{
		{a, []*backend.Chat{ab, ac, abc}},
		{b, []*backend.Chat{ab, bc, abc}},
		{c, []*backend.Chat{ac, bc, abc}},
		{d, nil},
	} {
		t.Run(tt.user.Username, func(t *testing.T) {
			sums, err := e.s.ChatsOf(e.ctx, tt.user.ID)
			wantNoError(t, err, "ChatsOf")
			var got, want []string
			for _, s := range sums {
				got = append(got, s.ID)
				if !s.HasMember(tt.user.ID) {
					t.Errorf("ChatsOf(%s) lists %s whose members are %v", tt.user.Username, s.Name, s.MemberIDs)
				}
			}
			for _, c := range tt.want {
				want = append(want, c.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("ChatsOf(%s) = %v, want %v", tt.user.Username, got, want)
			}
		})
	}
	sums, err := e.s.ChatsOf(e.ctx, ulid.Make().String())
	if err != nil || len(sums) != 0 {
		t.Errorf("ChatsOf(unknown user) = %d chats, %v; want none", len(sums), err)
	}
}

func TestUnreadFollowsMarkReadAndPosts(t *testing.T) {
	e := newEnv(t)
	us := e.users(3)
	a, b, c := us[0], us[1], us[2]
	chat := e.chat("team", a, b, c)
	other := e.chat("other", a, b) // traffic elsewhere must not count

	type want struct {
		unread   int
		lastRead string
	}
	check := func(step string, wants map[*backend.User]want) {
		t.Helper()
		for u, w := range wants {
			s, ok := e.summaries(u.ID)[chat.ID]
			if !ok {
				t.Fatalf("%s: ChatsOf(%s) lacks the chat", step, u.Username)
			}
			if s.Unread != w.unread || s.LastReadID != w.lastRead {
				t.Errorf("%s: %s sees unread=%d lastRead=%q, want unread=%d lastRead=%q",
					step, u.Username, s.Unread, s.LastReadID, w.unread, w.lastRead)
			}
		}
	}
	check("empty chat", map[*backend.User]want{a: {0, ""}, b: {0, ""}, c: {0, ""}})

	m1 := e.post(chat, a, "1")
	m2 := e.post(chat, a, "2")
	m3 := e.post(chat, a, "3")
	e.post(other, b, "elsewhere")
	check("a posted three", map[*backend.User]want{a: {0, m3.ID}, b: {3, ""}, c: {3, ""}})

	wantNoError(t, e.s.MarkRead(e.ctx, b.ID, chat.ID, m2.ID), "MarkRead")
	check("b read m2", map[*backend.User]want{a: {0, m3.ID}, b: {1, m2.ID}, c: {3, ""}})

	wantNoError(t, e.s.MarkRead(e.ctx, b.ID, chat.ID, m1.ID), "MarkRead backwards")
	check("b read m1 (backwards)", map[*backend.User]want{b: {1, m2.ID}})

	wantNoError(t, e.s.MarkRead(e.ctx, b.ID, chat.ID, m2.ID), "MarkRead same")
	check("b read m2 again", map[*backend.User]want{b: {1, m2.ID}})

	m4 := e.post(chat, b, "4") // the author's own post moves their marker
	check("b posted", map[*backend.User]want{a: {1, m3.ID}, b: {0, m4.ID}, c: {4, ""}})

	wantNoError(t, e.s.MarkRead(e.ctx, c.ID, chat.ID, m4.ID), "MarkRead")
	wantNoError(t, e.s.MarkRead(e.ctx, a.ID, chat.ID, m4.ID), "MarkRead")
	check("all read", map[*backend.User]want{a: {0, m4.ID}, b: {0, m4.ID}, c: {0, m4.ID}})

	wantNoError(t, e.s.MarkRead(e.ctx, c.ID, chat.ID, m3.ID), "MarkRead backwards")
	check("c read m3 (backwards)", map[*backend.User]want{c: {0, m4.ID}})

	// Markers survive a restart.
	e.reopen()
	check("after reopen", map[*backend.User]want{a: {0, m4.ID}, b: {0, m4.ID}, c: {0, m4.ID}})

	// MarkRead emits nothing.
	if n := e.pub.Len(); n != 0 {
		t.Errorf("MarkRead published %d events", n)
	}
}

func TestMarkReadErrors(t *testing.T) {
	e := newEnv(t)
	us := e.users(3)
	a, b, c := us[0], us[1], us[2]
	chat := e.chat("ab", a, b)
	other := e.chat("ac", a, c)
	m := e.post(chat, a, "in ab")
	elsewhere := e.post(other, a, "in ac")

	for _, tt := range []struct {
		name                    string
		user, chatID, messageID string
		want                    string
	}{
		{"not a member", c.ID, chat.ID, m.ID, backend.EFORBIDDEN},
		{"unknown chat", a.ID, ulid.Make().String(), m.ID, backend.ENOTFOUND},
		{"unknown message", b.ID, chat.ID, ulid.Make().String(), backend.ENOTFOUND},
		{"message of another chat", b.ID, chat.ID, elsewhere.ID, backend.ENOTFOUND},
		{"empty message id", b.ID, chat.ID, "", backend.ENOTFOUND},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, e.s.MarkRead(e.ctx, tt.user, tt.chatID, tt.messageID), tt.want)
		})
	}
	if s := e.summaries(b.ID)[chat.ID]; s.LastReadID != "" || s.Unread != 1 {
		t.Errorf("refused MarkReads moved b's marker: %+v", *s)
	}
}

func TestUnreadIsCapped(t *testing.T) {
	e := newEnv(t)
	us := e.users(2)
	chat := e.chat("busy", us[0], us[1])
	e.postConcurrently(chat, us[0], backend.MaxUnreadCount+5, 32)
	if got := e.summaries(us[1].ID)[chat.ID].Unread; got != backend.MaxUnreadCount {
		t.Fatalf("unread = %d, want the cap %d", got, backend.MaxUnreadCount)
	}
}

func TestLastMessageIDStaysWithinItsChat(t *testing.T) {
	e := newEnv(t)
	us := e.users(2)
	a, b := us[0], us[1]
	first := e.chat("first", a, b)
	middle := e.chat("middle", a, b)
	last := e.chat("last", a, b)

	lastMessage := func(c *backend.Chat) string {
		t.Helper()
		got, err := e.s.Chat(e.ctx, c.ID)
		wantNoError(t, err, "Chat")
		if s := e.summaries(a.ID)[c.ID]; s.LastMessageID != got.LastMessageID {
			t.Errorf("ChatsOf says last message %q, Chat says %q", s.LastMessageID, got.LastMessageID)
		}
		return got.LastMessageID
	}

	// Messages in the neighbouring chats (lower and higher ids) must not leak into the middle one.
	e.post(first, a, "f")
	e.post(last, a, "l")
	if got := lastMessage(middle); got != "" {
		t.Fatalf("LastMessageID of an empty chat = %q", got)
	}
	m1 := e.post(middle, b, "m1")
	e.post(last, a, "l2")
	e.post(first, a, "f2")
	if got := lastMessage(middle); got != m1.ID {
		t.Errorf("LastMessageID = %q, want %q", got, m1.ID)
	}
	m2 := e.post(middle, a, "m2")
	if got := lastMessage(middle); got != m2.ID {
		t.Errorf("LastMessageID = %q, want %q", got, m2.ID)
	}
	l3 := e.post(last, b, "l3")
	if got := lastMessage(last); got != l3.ID {
		t.Errorf("LastMessageID of the last chat = %q, want %q", got, l3.ID)
	}
}

// A chat summary counts the member's unread mentions there; reading the chat clears its count
// and leaves the other chat's.
func TestChatsOfCountsUnreadMentions(t *testing.T) {
	e := newEnv(t)
	us := e.users(2)
	alice, bob := us[0], us[1]
	a := e.chat("alpha", alice, bob)
	b := e.chat("beta", alice, bob)
	e.post(a, alice, "@u1 look")
	e.post(a, alice, "no mention here")
	last := e.post(a, alice, "@u1 again")
	e.post(b, alice, "@u1 over here")
	counts := func() map[string]int {
		sums, err := e.s.ChatsOf(e.ctx, bob.ID)
		wantNoError(t, err, "ChatsOf")
		out := map[string]int{}
		for _, s := range sums {
			out[s.Name] = s.Mentions
		}
		return out
	}
	if got := counts(); got["alpha"] != 2 || got["beta"] != 1 {
		t.Fatalf("mentions before reading: %v", got)
	}
	wantNoError(t, e.s.MarkRead(e.ctx, bob.ID, a.ID, last.ID), "MarkRead")
	if got := counts(); got["alpha"] != 0 || got["beta"] != 1 {
		t.Fatalf("mentions after reading alpha: %v", got)
	}
	if sums, _ := e.s.ChatsOf(e.ctx, alice.ID); sums[0].Mentions != 0 || sums[1].Mentions != 0 {
		t.Fatalf("alice has mentions: %+v", sums)
	}
}
