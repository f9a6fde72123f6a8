package bolt_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/herald-chat/herald/backend"
)

// personal returns the personal events published since before, by recipient.
func personal(e *env, before int) map[string][]*backend.Event {
	out := map[string][]*backend.Event{}
	for _, ev := range e.pub.Events()[before:] {
		if ev.Personal && len(ev.Recipients) == 1 {
			out[ev.Recipients[0]] = append(out[ev.Recipients[0]], ev)
		}
	}
	return out
}

func TestMessageNotifiesEachMemberWithTheirOwnDecision(t *testing.T) {
	e := newEnv(t)
	us := e.users(4)
	author, muter, mentioned, plain := us[0], us[1], us[2], us[3]
	bot := &backend.User{Username: "deploybot", DisplayName: "Deploy bot"}
	wantNoError(t, e.s.CreateBot(e.ctx, bot), "CreateBot")
	chat := e.chat("ops", author, muter, mentioned, plain, bot)
	p := backend.DefaultPreferences()
	p.MutedChats = []string{chat.ID}
	wantNoError(t, e.s.SetPreferences(e.ctx, muter.ID, p), "SetPreferences")

	before := e.pub.Len()
	m := e.post(chat, author, "deploying now @u2")
	got := personal(e, before)

	tests := []struct {
		name       string
		user       *backend.User
		wantType   backend.EventType
		wantKind   backend.NotificationKind
		wantNotify bool
		wantReason string
	}{
		{"a member who muted the chat is told silently", muter, backend.EventNotification, backend.KindMessage, false, "chat #ops is muted"},
		{"a mentioned member gets the mention, not a second notification", mentioned, backend.EventMention, backend.KindMention, true, "notifications are on"},
		{"any other member is notified", plain, backend.EventNotification, backend.KindMessage, true, "notifications are on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := got[tt.user.ID]
			if len(evs) != 1 {
				t.Fatalf("%d personal events, want 1", len(evs))
			}
			ev, n := evs[0], evs[0].Notification
			if ev.Type != tt.wantType || n == nil || n.Type != tt.wantKind || n.Notify != tt.wantNotify || n.Reason != tt.wantReason {
				t.Fatalf("event %s notification %+v, want %s %s notify=%v %q", ev.Type, n, tt.wantType, tt.wantKind, tt.wantNotify, tt.wantReason)
			}
			if n.ID != ev.ID || ev.ID <= m.ID || ev.ChatID != chat.ID || n.Link != "/chats/"+chat.ID+"?message="+m.ID || n.MessageID != m.ID || n.Body != m.Content ||
				n.Title == "" || n.ActorID != author.ID {
				t.Errorf("notification %+v of event %s (message %s)", n, ev.ID, m.ID)
			}
			history, _, err := e.s.Notifications(e.ctx, tt.user.ID, backend.NotificationFilter{})
			wantNoError(t, err, "Notifications")
			if len(history) != 1 || history[0].ID != ev.ID || history[0].Decision != n.Decision {
				t.Errorf("history %v, want the event's notification", history)
			}
		})
	}
	for _, u := range []*backend.User{author, bot} {
		if evs := got[u.ID]; len(evs) != 0 {
			t.Errorf("%s got %d personal events for the message", u.Username, len(evs))
		}
	}
}

func TestLargeChatsNotifyOnlyMentions(t *testing.T) {
	e := newEnv(t)
	us := e.users(backend.MessageNotifyLimit + 1)
	chat := e.chat("everyone", us[0], us[1:]...)
	before := e.pub.Len()
	e.post(chat, us[0], "hello all")
	if got := personal(e, before); len(got) != 0 {
		t.Fatalf("a message in a chat of %d notified %d members", len(us), len(got))
	}
	before = e.pub.Len()
	e.post(chat, us[0], "@u7 see this")
	got := personal(e, before)
	if len(got) != 1 || len(got[us[7].ID]) != 1 || got[us[7].ID][0].Type != backend.EventMention {
		t.Fatalf("a mention in a large chat notified %v, want u7's MENTION", got)
	}

	small := e.chat("small", us[0], us[1:backend.MessageNotifyLimit]...) // exactly the limit
	before = e.pub.Len()
	e.post(small, us[0], "hi")
	if got := personal(e, before); len(got) != backend.MessageNotifyLimit-1 {
		t.Fatalf("a message in a chat of %d notified %d members, want %d", backend.MessageNotifyLimit, len(got), backend.MessageNotifyLimit-1)
	}
}

func TestBotStatusNotifiesPeopleWhoShareAChat(t *testing.T) {
	e := newEnv(t)
	us := e.users(3)
	alice, bob, stranger := us[0], us[1], us[2]
	bot := &backend.User{Username: "ci", DisplayName: "CI bot"}
	other := &backend.User{Username: "otherbot", DisplayName: "Other bot"}
	wantNoError(t, e.s.CreateBot(e.ctx, bot), "CreateBot")
	wantNoError(t, e.s.CreateBot(e.ctx, other), "CreateBot")
	e.chat("builds", alice, bob, bot, other)
	e.chat("elsewhere", stranger)
	p := backend.DefaultPreferences()
	p.Kinds = map[backend.NotificationKind]bool{backend.KindAgent: false}
	wantNoError(t, e.s.SetPreferences(e.ctx, bob.ID, p), "SetPreferences")

	for i, status := range []backend.AgentStatus{backend.StatusBusy, backend.StatusBusy, backend.StatusOffline} {
		before := e.pub.Len()
		changed, err := e.s.SetStatus(e.ctx, bot.ID, status)
		wantNoError(t, err, "SetStatus")
		got := personal(e, before)
		if !changed {
			if e.pub.Len() != before {
				t.Fatalf("step %d: an unchanged status published events", i)
			}
			continue
		}
		for id, evs := range got {
			if id != alice.ID && id != bob.ID {
				t.Errorf("step %d: %s got %d NOTIFICATION events", i, id, len(evs))
			}
		}
		want := map[string]backend.Decision{
			alice.ID: {Notify: true, Reason: "notifications are on"},
			bob.ID:   {Notify: false, Reason: "agent notifications are turned off"},
		}
		for id, d := range want {
			evs := got[id]
			if len(evs) != 1 || evs[0].Type != backend.EventNotification || evs[0].Notification.Type != backend.KindAgent ||
				evs[0].Notification.Decision != d || evs[0].Notification.Title != fmt.Sprintf("CI bot is %s", status) ||
				evs[0].Notification.ActorID != bot.ID {
				t.Errorf("step %d: %s got %v, want one agent NOTIFICATION with %+v", i, id, evs, d)
			}
		}
	}

	// A person's presence updates co-members' UI but notifies nobody.
	before := e.pub.Len()
	changed, err := e.s.SetStatus(e.ctx, bob.ID, backend.StatusOnline)
	wantNoError(t, err, "SetStatus")
	evs := e.pub.Events()[before:]
	if !changed || len(evs) != 1 || evs[0].Type != backend.EventAgentStatusChanged ||
		!slices.Contains(evs[0].Recipients, alice.ID) {
		t.Fatalf("bob going online published %v", evs)
	}
}

// The committer keeps members' preferences in memory between posts: a change must take effect on
// the very next post.
func TestNotificationDecisionFollowsAPreferenceChangeAtOnce(t *testing.T) {
	e := newEnv(t)
	us := e.users(2)
	chat := e.chat("c", us[0], us[1])
	decision := func() backend.Decision {
		t.Helper()
		before := e.pub.Len()
		e.post(chat, us[0], "hello")
		evs := personal(e, before)[us[1].ID]
		if len(evs) != 1 {
			t.Fatalf("%d notifications", len(evs))
		}
		return evs[0].Notification.Decision
	}
	if d := decision(); !d.Notify {
		t.Fatalf("default preferences: %+v", d)
	}
	p := backend.DefaultPreferences()
	p.MutedChats = []string{chat.ID}
	wantNoError(t, e.s.SetPreferences(e.ctx, us[1].ID, p), "SetPreferences")
	if d := decision(); d.Notify || d.Reason != "chat #c is muted" {
		t.Fatalf("after muting: %+v", d)
	}
	e.reopen() // a fresh committer reads them from the file
	if d := decision(); d.Notify {
		t.Fatalf("after reopening: %+v", d)
	}
	wantNoError(t, e.s.SetPreferences(e.ctx, us[1].ID, backend.DefaultPreferences()), "SetPreferences")
	if d := decision(); !d.Notify {
		t.Fatalf("after unmuting: %+v", d)
	}
}

// A deactivated member gets no notification of the chat's messages (their history would fill
// for nobody); reactivated, they are notified again — the committer's cache follows both.
func TestDeactivatedMembersAreNotNotified(t *testing.T) {
	e := newEnv(t)
	admin := e.admin("admin")
	bob := e.member("bob")
	chat := e.chat("ops", admin, bob)
	before := e.pub.Len()
	e.post(chat, admin, "first") // caches bob as one to notify
	if got := personal(e, before); len(got[bob.ID]) != 1 {
		t.Fatalf("bob, active: %d notifications, want 1", len(got[bob.ID]))
	}
	_, err := e.s.SetDeactivated(e.ctx, admin.ID, bob.ID, true)
	wantNoError(t, err, "deactivate")
	before = e.pub.Len()
	e.post(chat, admin, "while bob is away")
	if got := personal(e, before); len(got[bob.ID]) != 0 {
		t.Fatalf("bob, deactivated: %d notifications, want none", len(got[bob.ID]))
	}
	_, err = e.s.SetDeactivated(e.ctx, admin.ID, bob.ID, false)
	wantNoError(t, err, "reactivate")
	before = e.pub.Len()
	e.post(chat, admin, "welcome back")
	if got := personal(e, before); len(got[bob.ID]) != 1 {
		t.Fatalf("bob, reactivated: %d notifications, want 1", len(got[bob.ID]))
	}
}
