// Package presence turns stream connections into members' status: online while at least one of
// their streams is open, offline a grace period after the last one closed (so a reload or a
// reconnect does not flicker). Each change is stored and announced by the store.
package presence

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/herald-chat/herald/backend"
)

// DefaultGrace is how long a user stays online after their last stream closed.
const DefaultGrace = 30 * time.Second

// StatusStore is what the tracker needs from storage.
type StatusStore interface {
	SetStatus(ctx context.Context, userID string, status backend.AgentStatus) (bool, error)
	Users(ctx context.Context) ([]*backend.User, error)
}

// Tracker implements backend.Presence. Connected and Disconnected are cheap and safe for
// concurrent use; status changes are written one at a time, each recomputed from the current
// connection count, so the stored status always ends at the latest state.
type Tracker struct {
	store StatusStore
	grace time.Duration
	log   *slog.Logger

	mu     sync.Mutex
	conns  map[string]int
	away   map[string]bool        // connected users whose client reported them idle
	timers map[string]*time.Timer // pending offline, by user
	closed bool
	// fired counts offline timers that were armed and neither stopped nor done: Close waits
	// for it, so no timer's status write runs after Close returned (on a closed store).
	fired sync.WaitGroup

	// apply serializes each user's status writes (a stripe per hash of the user id): one
	// user's writes go one at a time, so the stored status ends at the latest state, while
	// different users' writes run concurrently and share the store's group commits — a
	// restart's thousand reconnects are a few commits, not a thousand.
	apply [applyStripes]sync.Mutex
	ctx   context.Context
	stop  context.CancelFunc
}

var _ backend.Presence = (*Tracker)(nil)

// New returns a tracker; grace <= 0 means DefaultGrace.
func New(store StatusStore, grace time.Duration, log *slog.Logger) *Tracker {
	if grace <= 0 {
		grace = DefaultGrace
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Tracker{store: store, grace: grace, log: log, conns: map[string]int{}, away: map[string]bool{}, timers: map[string]*time.Timer{}, ctx: ctx, stop: stop}
}

// Start schedules users stored as online (the server stopped while they were connected) to go
// offline after the grace period unless they connect again.
func (t *Tracker) Start(ctx context.Context) error {
	users, err := t.store.Users(ctx)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, u := range users {
		if (u.Status == backend.StatusOnline || u.Status == backend.StatusAway) && t.conns[u.ID] == 0 {
			t.scheduleOfflineLocked(u.ID)
		}
	}
	return nil
}

func (t *Tracker) Connected(userID string) {
	t.mu.Lock()
	t.conns[userID]++
	first := t.conns[userID] == 1
	if timer := t.timers[userID]; timer != nil {
		t.stopLocked(userID, timer)
	}
	// A stream that opens is a client that (re)loaded: its user is active, not away.
	wasAway := t.away[userID]
	delete(t.away, userID)
	t.mu.Unlock()
	if first || wasAway {
		_ = t.update(userID)
	}
}

func (t *Tracker) Disconnected(userID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conns[userID] == 0 {
		return
	}
	t.conns[userID]--
	if t.conns[userID] == 0 {
		delete(t.conns, userID)
		delete(t.away, userID)
		t.scheduleOfflineLocked(userID)
	}
}

// SetAway records that one of the user's clients saw them idle (away) or active again, and
// stores the status that calls for: away while they are connected and idle, online when active.
// A user with no open stream stays as they are (offline, or online in their grace period) and
// the report is dropped. A stream that opens (a reload, another device) and the last stream
// closing both forget it, so the next stream starts online. It returns the status stored.
func (t *Tracker) SetAway(userID string, away bool) backend.AgentStatus {
	t.mu.Lock()
	if t.conns[userID] > 0 {
		if away {
			t.away[userID] = true
		} else {
			delete(t.away, userID)
		}
	}
	t.mu.Unlock()
	return t.update(userID)
}

func (t *Tracker) scheduleOfflineLocked(userID string) {
	if t.closed || t.timers[userID] != nil {
		return
	}
	t.fired.Add(1)
	var timer *time.Timer
	timer = time.AfterFunc(t.grace, func() {
		defer t.fired.Done()
		t.mu.Lock()
		if t.timers[userID] != timer || t.closed {
			// Stopped too late: a stream opened (and maybe closed again, arming a newer
			// timer) or the tracker closed while this one was firing.
			t.mu.Unlock()
			return
		}
		delete(t.timers, userID)
		t.mu.Unlock()
		_ = t.update(userID)
	})
	t.timers[userID] = timer
}

// stopLocked forgets the user's pending offline timer; one already firing sees it is no longer
// theirs and does nothing.
func (t *Tracker) stopLocked(userID string, timer *time.Timer) {
	if timer.Stop() {
		t.fired.Done()
	}
	delete(t.timers, userID)
}

// update writes the status the user's connection count (and away report) calls for now, and
// returns it.
func (t *Tracker) update(userID string) backend.AgentStatus {
	stripe := &t.apply[stripeOf(userID)]
	stripe.Lock()
	defer stripe.Unlock()
	t.mu.Lock()
	status := backend.StatusOffline
	switch {
	case t.conns[userID] > 0 && t.away[userID]:
		status = backend.StatusAway
	case t.conns[userID] > 0 || t.timers[userID] != nil:
		status = backend.StatusOnline
	}
	t.mu.Unlock()
	if _, err := t.store.SetStatus(t.ctx, userID, status); err != nil && t.ctx.Err() == nil {
		t.log.Warn("presence not stored", "user", userID, "status", status, "err", err)
	}
	return status
}

// Close stops pending offline timers and waits for any that is firing; statuses stay as stored
// (Start settles them on the next run).
func (t *Tracker) Close() {
	t.mu.Lock()
	t.closed = true
	for id, timer := range t.timers {
		t.stopLocked(id, timer)
	}
	t.mu.Unlock()
	t.fired.Wait()
	t.stop()
	for i := range t.apply {
		t.apply[i].Lock()
		//lint:ignore SA2001 taking the lock waits for a status write in progress; nothing else to do under it
		t.apply[i].Unlock()
	}
}

// applyStripes is how many users' status writes may run at once.
const applyStripes = 64

// stripeOf picks userID's stripe of Tracker.apply (FNV-1a).
func stripeOf(userID string) int {
	h := uint32(2166136261)
	for i := 0; i < len(userID); i++ {
		h = (h ^ uint32(userID[i])) * 16777619
	}
	return int(h % applyStripes)
}
