package bolt_test

import (
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

// quietFor gives u quiet hours around t0 (03:04 UTC) and the break-through setting allow.
func (e *env) quietFor(u *backend.User, allow backend.BreakThrough) {
	e.t.Helper()
	p := backend.DefaultPreferences()
	p.QuietHours = &backend.QuietHours{Start: "22:00", End: "07:00", TimeZone: "UTC"}
	p.BreakThrough = allow
	wantNoError(e.t, e.s.SetPreferences(e.ctx, u.ID, p), "SetPreferences")
}

// postAnyway posts content with notify anyway and returns the notification each user got.
func (e *env) postAnyway(chat *backend.Chat, author *backend.User, content string) map[string]*backend.Notification {
	e.t.Helper()
	before := e.pub.Len()
	_, created, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: author.ID, Content: content, NotifyAnyway: true})
	if err != nil || !created {
		e.t.Fatalf("PostMessage: created=%v err=%v", created, err)
	}
	out := map[string]*backend.Notification{}
	for id, evs := range personal(e, before) {
		out[id] = evs[len(evs)-1].Notification
	}
	return out
}

// TestNotifyAnywayInTheStore: the store hands the post's flag, the chat's kind and the author to
// each recipient's decision, records the reason in their history, and counts earlier
// break-throughs by the same sender from the history itself — so the cap holds across restarts.
func TestNotifyAnywayInTheStore(t *testing.T) {
	e := newEnv(t)
	us := e.users(4)
	alice, bob, carol, dave := us[0], us[1], us[2], us[3]
	e.quietFor(bob, backend.BreakThroughDMs)
	e.quietFor(carol, backend.BreakThroughAlways)
	e.quietFor(dave, backend.BreakThroughOff)
	dm, _, err := e.s.CreateDM(e.ctx, alice.ID, []string{bob.ID})
	wantNoError(t, err, "CreateDM")
	ops := e.chat("ops", alice, bob, carol, dave)

	got := e.postAnyway(dm, alice, "the build is red")
	if n := got[bob.ID]; n == nil || !n.Notify || !n.BrokeThrough || n.Reason != "Admin u0 chose to notify you during your quiet hours" {
		t.Fatalf("Bob in the DM: %+v", n)
	}
	history, _, err := e.s.Notifications(e.ctx, bob.ID, backend.NotificationFilter{})
	wantNoError(t, err, "Notifications")
	if len(history) != 1 || history[0].Decision != got[bob.ID].Decision {
		t.Fatalf("Bob's history %+v", history)
	}

	got = e.postAnyway(ops, alice, "@u1 @u2 @u3 please look")
	for _, tt := range []struct {
		name   string
		user   *backend.User
		notify bool
	}{
		{"dms: a mention in a channel stays quiet", bob, false},
		{"always: a mention breaks through", carol, true},
		{"off: stays quiet", dave, false},
	} {
		n := got[tt.user.ID]
		if n == nil || n.Type != backend.KindMention || n.Notify != tt.notify || n.BrokeThrough != tt.notify {
			t.Errorf("%s: %+v", tt.name, n)
		}
	}
	if n := got[dave.ID]; n != nil && n.Reason != "quiet hours 22:00–07:00 (UTC); Admin u0 asked to notify you anyway" {
		t.Errorf("Dave's reason %q", n.Reason)
	}

	// A channel message without a mention never breaks through, whatever the setting.
	got = e.postAnyway(ops, alice, "everyone: lunch")
	if n := got[carol.ID]; n == nil || n.Notify || n.BrokeThrough {
		t.Errorf("Carol for a channel message: %+v", n)
	}

	// Bob had one break-through from Alice; two more pass, the fourth in the hour does not,
	// also after a restart (the count is read from the history).
	for i := 0; i < backend.MaxBreakThroughs-1; i++ {
		if n := e.postAnyway(dm, alice, "again")[bob.ID]; !n.BrokeThrough {
			t.Fatalf("break-through %d refused: %+v", i+2, n)
		}
	}
	e.reopen()
	n := e.postAnyway(dm, alice, "and again")[bob.ID]
	if n.Notify || n.BrokeThrough || n.Reason != "quiet hours 22:00–07:00 (UTC); Admin u0 asked to notify you anyway, more than 3 times in an hour" {
		t.Fatalf("over the cap: %+v", n)
	}
	// The cap is per sender: Carol still reaches Bob. An hour later Alice does again.
	carolBob, _, err := e.s.CreateDM(e.ctx, carol.ID, []string{bob.ID})
	wantNoError(t, err, "CreateDM")
	if n := e.postAnyway(carolBob, carol, "me too")[bob.ID]; !n.BrokeThrough || n.Reason != "Member u2 chose to notify you during your quiet hours" {
		t.Fatalf("another sender: %+v", n)
	}
	e.clock.Advance(backend.BreakThroughWindow + time.Second)
	if n := e.postAnyway(dm, alice, "an hour later")[bob.ID]; !n.BrokeThrough {
		t.Fatalf("after the window: %+v", n)
	}
}

// TestNotifyAnywayIsNotStored: the flag belongs to the post: the stored message, its event and
// the answer to a retry do not carry it.
func TestNotifyAnywayIsNotStored(t *testing.T) {
	e := newEnv(t)
	us := e.users(2)
	dm, _, err := e.s.CreateDM(e.ctx, us[0].ID, []string{us[1].ID})
	wantNoError(t, err, "CreateDM")
	_, _, err = e.s.PostMessage(e.ctx, &backend.Message{ChatID: dm.ID, AuthorID: us[0].ID, Content: "hi", ClientID: "c1", NotifyAnyway: true})
	wantNoError(t, err, "PostMessage")
	e.reopen()
	msgs, _, err := e.s.Messages(e.ctx, dm.ID, backend.MessagePage{})
	wantNoError(t, err, "Messages")
	if len(msgs) != 1 || msgs[0].NotifyAnyway {
		t.Fatalf("stored %+v", msgs)
	}
	again, created, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: dm.ID, AuthorID: us[0].ID, Content: "hi", ClientID: "c1", NotifyAnyway: true})
	wantNoError(t, err, "retry")
	if created || again.NotifyAnyway {
		t.Fatalf("retry created=%v %+v", created, again)
	}
}
