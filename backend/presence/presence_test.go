package presence_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
	"github.com/herald-chat/herald/backend/presence"
)

// recorder keeps the AGENT_STATUS_CHANGED events the store publishes.
type recorder struct {
	mu     sync.Mutex
	events []*backend.Event
	store  *bolt.Store // statuses waits for the fan-out of the writes answered before it
}

func (r *recorder) Publish(evs ...*backend.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range evs {
		if ev.Type == backend.EventAgentStatusChanged {
			r.events = append(r.events, ev)
		}
	}
}

// statuses lists "name:status" per change so far.
func (r *recorder) statuses() []string {
	r.store.FlushFanout()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.events {
		out = append(out, ev.Agent.Name+":"+string(ev.Status))
	}
	return out
}

type team struct {
	store      *bolt.Store
	rec        *recorder
	alice, bob *backend.User
}

func newTeam(t *testing.T, path string) *team {
	t.Helper()
	store, err := bolt.Open(path, bolt.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	rec := &recorder{store: store}
	store.SetPublisher(rec)
	tm := &team{store: store, rec: rec}
	ctx := context.Background()
	users, _ := store.Users(ctx)
	if len(users) == 2 {
		tm.alice, tm.bob = users[0], users[1]
		return tm
	}
	tm.alice = &backend.User{Username: "alice", DisplayName: "Alice", PasswordHash: "x"}
	tm.bob = &backend.User{Username: "bob", DisplayName: "Bob", PasswordHash: "x"}
	if err := store.CreateUser(ctx, tm.alice, ""); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateInvite(ctx, backend.Invite{Code: "c", CreatedBy: tm.alice.ID, ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateUser(ctx, tm.bob, "c"); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateChat(ctx, &backend.Chat{Name: "general", CreatedBy: tm.alice.ID, MemberIDs: []string{tm.bob.ID}}); err != nil {
		t.Fatal(err)
	}
	return tm
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOnlineWhileConnectedOfflineAfterGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tm := newTeam(t, filepath.Join(t.TempDir(), "herald.db"))
		tr := presence.New(tm.store, 30*time.Second, slog.New(slog.DiscardHandler))
		defer tr.Close()

		tr.Connected(tm.bob.ID)
		tr.Connected(tm.bob.ID) // a second tab: no second event
		if got := tm.rec.statuses(); !equal(got, []string{"Bob:online"}) {
			t.Fatalf("after connecting: %v", got)
		}
		tm.rec.mu.Lock()
		ev := tm.rec.events[0]
		tm.rec.mu.Unlock()
		if !ev.Personal || len(ev.Recipients) != 2 || ev.Agent.Kind != backend.AgentUser {
			t.Fatalf("event %+v: want a personal event to bob and alice, who share a chat", ev)
		}

		tr.Disconnected(tm.bob.ID)
		tr.Disconnected(tm.bob.ID)
		time.Sleep(29 * time.Second)
		synctest.Wait()
		tr.Connected(tm.bob.ID) // a reload within the grace period: no flicker
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := tm.rec.statuses(); !equal(got, []string{"Bob:online"}) {
			t.Fatalf("after a reconnect within the grace period: %v", got)
		}

		tr.Disconnected(tm.bob.ID)
		time.Sleep(30*time.Second + time.Millisecond)
		synctest.Wait()
		if got := tm.rec.statuses(); !equal(got, []string{"Bob:online", "Bob:offline"}) {
			t.Fatalf("30 s after the last stream closed: %v", got)
		}
		u, err := tm.store.User(context.Background(), tm.bob.ID)
		if err != nil || u.Status != backend.StatusOffline {
			t.Fatalf("stored status %q, %v", u.Status, err)
		}
	})
}

func TestStartSettlesUsersLeftOnlineByAStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "herald.db")
		tm := newTeam(t, path)
		tr := presence.New(tm.store, 30*time.Second, slog.New(slog.DiscardHandler))
		tr.Connected(tm.alice.ID)
		tr.Connected(tm.bob.ID)
		tr.Close() // the server stops with both connected: both stay stored online
		if err := tm.store.Close(); err != nil {
			t.Fatal(err)
		}

		tm = newTeam(t, path)
		tr = presence.New(tm.store, 30*time.Second, slog.New(slog.DiscardHandler))
		defer tr.Close()
		if err := tr.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		tr.Connected(tm.alice.ID) // alice comes back, bob does not
		time.Sleep(31 * time.Second)
		synctest.Wait()
		if got := tm.rec.statuses(); !equal(got, []string{"Bob:offline"}) {
			t.Fatalf("after a restart: %v, want only bob going offline", got)
		}
	})
}

// Many users connecting at once (a restart's reconnects) have their statuses written
// concurrently, so that they share the store's group commits: far fewer commits than users.
func TestConcurrentConnectsShareCommits(t *testing.T) {
	tm := newTeam(t, filepath.Join(t.TempDir(), "herald.db"))
	ctx := context.Background()
	if err := tm.store.CreateInvite(ctx, backend.Invite{Code: "many", CreatedBy: tm.alice.ID, MaxUses: 100,
		ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	const n = 64
	users := make([]*backend.User, n)
	for i := range users {
		users[i] = &backend.User{Username: fmt.Sprintf("u%d", i), PasswordHash: "x"}
		if err := tm.store.CreateUser(ctx, users[i], "many"); err != nil {
			t.Fatal(err)
		}
	}
	tr := presence.New(tm.store, 30*time.Second, slog.New(slog.DiscardHandler))
	defer tr.Close()
	before := tm.store.Commits()
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() { tr.Connected(u.ID) })
	}
	wg.Wait()
	if got := len(tm.rec.statuses()); got != n {
		t.Fatalf("%d status changes, want %d", got, n)
	}
	if commits := tm.store.Commits() - before; commits > n/2 {
		t.Fatalf("%d users connecting at once took %d commits, want them to share commits", n, commits)
	}
}
