package bolt_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

func TestPruneNotificationsByAgeAndCount(t *testing.T) {
	e := newEnv(t)
	alice := e.admin("alice")
	bob := e.member("bob")
	send := func(to *backend.User, title string) {
		t.Helper()
		_, err := e.s.SendSystemNotification(e.ctx, backend.Notification{Title: title}, []string{to.ID})
		wantNoError(t, err, "SendSystemNotification")
	}
	for i := range 5 { // alice: one a day for five days
		send(alice, fmt.Sprint("a", i))
		e.clock.Advance(24 * time.Hour)
	}
	send(bob, "b0")
	titles := func(u *backend.User) []string {
		t.Helper()
		page, _, err := e.s.Notifications(e.ctx, u.ID, backend.NotificationFilter{Limit: 100})
		wantNoError(t, err, "Notifications")
		var out []string
		for _, n := range page {
			out = append(out, n.Title)
		}
		return out
	}

	// Older than 3.5 days goes (a0, a1 — a2 is 3 days old), then at most 2 per user stay.
	n, err := e.s.PruneNotifications(e.ctx, e.clock.Now().Add(-84*time.Hour), 2, 1)
	wantNoError(t, err, "PruneNotifications")
	if n != 3 {
		t.Fatalf("pruned %d, want 3", n)
	}
	if got := fmt.Sprint(titles(alice), titles(bob)); got != "[a4 a3] [b0]" {
		t.Fatalf("after pruning: %s", got)
	}
	if n, _ := e.s.PruneNotifications(e.ctx, e.clock.Now().Add(-84*time.Hour), 2, 10); n != 0 {
		t.Fatalf("a second prune deleted %d", n)
	}
}
