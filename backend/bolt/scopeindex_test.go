package bolt_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

// wantScopeReadsMatchTheLog compares, for every user, every scope and every resume point,
// ScopeEventsAfter (whole and in pages of 3) with EventsAfter filtered by Scope.Matches.
// points are resume ids: those the log no longer holds must give ErrEventNotFound from both.
func wantScopeReadsMatchTheLog(t *testing.T, e *env, points []string, users []*backend.User, chats []*backend.Chat) {
	t.Helper()
	for _, u := range users {
		scopes := []backend.Scope{{Kind: backend.ScopeUser, UserID: u.ID}, {Kind: backend.ScopeNotifications, UserID: u.ID}}
		for _, c := range chats {
			scopes = append(scopes, backend.Scope{Kind: backend.ScopeChat, UserID: u.ID, ChatID: c.ID})
		}
		for _, sc := range scopes {
			for _, p := range points {
				after, err := e.s.EventsAfter(e.ctx, p, 1<<30)
				if isEventNotFound(err) {
					if _, err := e.s.ScopeEventsAfter(e.ctx, sc, p, 10); !isEventNotFound(err) {
						t.Fatalf("scope %+v after pruned %s: %v, want ErrEventNotFound", sc, p, err)
					}
					continue
				}
				wantNoError(t, err, "EventsAfter")
				var want []string
				for _, ev := range after {
					if sc.Matches(ev) {
						want = append(want, ev.ID)
					}
				}
				got, err := e.s.ScopeEventsAfter(e.ctx, sc, p, 1<<30)
				wantNoError(t, err, "ScopeEventsAfter")
				if !slices.Equal(eventIDs(got), want) {
					t.Fatalf("scope %+v after %s: got %v, want %v", sc, p, eventIDs(got), want)
				}
				for i, ev := range got {
					full := after[slices.IndexFunc(after, func(a *backend.Event) bool { return a.ID == ev.ID })]
					if ev.Type != full.Type || !bytes.Equal(ev.Data(), full.Data()) || ev.Personal != full.Personal {
						t.Fatalf("scope %+v: event %d %s reads back differently", sc, i, ev.ID)
					}
				}
				var paged []string
				for cur := p; ; {
					page, err := e.s.ScopeEventsAfter(e.ctx, sc, cur, 3)
					wantNoError(t, err, "ScopeEventsAfter page")
					paged = append(paged, eventIDs(page)...)
					if len(page) < 3 {
						break
					}
					cur = page[len(page)-1].ID
				}
				if !slices.Equal(paged, want) {
					t.Fatalf("scope %+v after %s in pages: got %v, want %v", sc, p, paged, want)
				}
			}
		}
	}
}

func TestScopeEventsAfterEqualsTheFilteredLog(t *testing.T) {
	e := newEnv(t)
	users := e.users(6)
	admin := users[0]
	rng := rand.New(rand.NewPCG(1, 2))
	chats := []*backend.Chat{e.chat("first", admin)}
	start := e.lastEventID()
	for i := range 6 {
		chats = append(chats, e.chat(fmt.Sprintf("chat-%d", i), admin, users[1+i%5]))
	}
	var msgs []*backend.Message
	for step := range 300 {
		c := chats[rng.IntN(len(chats))]
		u := users[rng.IntN(len(users))]
		switch r := rng.IntN(10); {
		case r < 5:
			content := fmt.Sprintf("hello %d @%s", step, users[rng.IntN(len(users))].Username)
			m, _, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: c.ID, AuthorID: u.ID, Content: content})
			if err == nil {
				msgs = append(msgs, m)
			}
		case r < 7:
			_, _ = e.s.AddMember(e.ctx, c.ID, admin.ID, u.ID)
		case r < 8:
			_, _ = e.s.RemoveMember(e.ctx, c.ID, admin.ID, u.ID)
		case r < 9:
			_ = e.s.LeaveChat(e.ctx, c.ID, u.ID)
		default:
			if len(msgs) > 0 {
				m := msgs[rng.IntN(len(msgs))]
				_, _ = e.s.DeleteMessage(e.ctx, m.ChatID, m.ID, admin)
			}
		}
	}
	all, err := e.s.EventsAfter(e.ctx, start, 1<<30)
	wantNoError(t, err, "EventsAfter")
	// Every 15th event as a resume point (and the first): each point reads the whole log once
	// per scope for the comparison.
	points := []string{start}
	for i, ev := range all {
		if i%15 == 0 {
			points = append(points, ev.ID)
		}
	}
	wantScopeReadsMatchTheLog(t, e, points, users, chats)
	e.clock.Advance(time.Hour)
	n, err := e.s.PruneEvents(e.ctx, time.Time{}, 150, 7)
	wantNoError(t, err, "PruneEvents")
	if n == 0 {
		t.Fatalf("pruned nothing")
	}
	wantScopeReadsMatchTheLog(t, e, points, users, chats)
}
