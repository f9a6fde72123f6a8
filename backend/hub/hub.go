// Package hub is Herald's in-process Broker: it fans committed and ephemeral events out to the
// subscribers of the three streams, each through a bounded queue, and resumes subscribers from
// the event log without a gap or a duplicate.
package hub

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-chat/herald/backend"
)

// Defaults.
const (
	// DefaultQueueSize is how many events a subscriber may have waiting before the overflow
	// policy applies.
	DefaultQueueSize = 1024
	// DefaultReplayPage is how many logged events a resume reads per call.
	DefaultReplayPage = 256
	// DefaultReplayConcurrency is how many resumes read the log at once. A resume from an old id
	// walks the log after it; the bound keeps many of them from taking every core.
	DefaultReplayConcurrency = 4
	// DefaultReplayPerUser is how many of those reads one user's resumes hold at once, so that
	// one user reconnecting many streams cannot take every slot.
	DefaultReplayPerUser = 1
	// DefaultReplayLimit is how many logged events one resume may examine before it gives up and
	// sends RESYNC (the client refetches over REST): the most one resume can cost.
	DefaultReplayLimit = 50_000
	// DefaultMaxStreamsPerUser is how many streams one user may hold open at once.
	DefaultMaxStreamsPerUser = 20
)

// Hub implements backend.Broker. Publish never blocks on a subscriber: it appends to each
// matching subscriber's bounded queue under a short lock. When a queue is full, an ephemeral
// event is dropped; a durable event first evicts the oldest queued ephemeral event, and if there
// is none the subscription ends with backend.ErrOverflow (the client resumes from the log).
type Hub struct {
	log           backend.EventLog
	now           backend.Clock
	queueSize     int
	replayPage    int
	replayLimit   int
	replayPerUser int
	maxPerUser    int           // streams one user may hold, 0: no bound
	replaySlot    chan struct{} // bounds concurrent log reads by replays

	mu        sync.RWMutex
	byUser    map[string]map[*subscription]struct{} // ScopeUser and ScopeNotifications, by subscriber
	byChat    map[string]map[*subscription]struct{} // ScopeChat, by chat
	bySession map[string]map[*subscription]struct{} // every scope, by Scope.SessionID
	perUser   map[string]int                        // streams of every scope, by subscriber
	closed    bool

	replayMu    sync.Mutex
	replayUsers map[string]*userSlots // log-read slots of users whose resumes are reading

	stats struct {
		subscribers, published, delivered, droppedEphemeral, overflows atomic.Int64
	}
}

var _ backend.Broker = (*Hub)(nil)

// Option configures a Hub.
type Option func(*Hub)

// WithQueueSize sets the per-subscriber queue bound (default DefaultQueueSize).
func WithQueueSize(n int) Option { return func(h *Hub) { h.queueSize = max(1, n) } }

// WithReplayPage sets how many logged events one replay read takes (default DefaultReplayPage).
func WithReplayPage(n int) Option { return func(h *Hub) { h.replayPage = max(1, n) } }

// WithReplayLimit sets how many of its scope's logged events one resume may read before it sends RESYNC
// instead (default DefaultReplayLimit; 0 or less: no limit).
func WithReplayLimit(n int) Option { return func(h *Hub) { h.replayLimit = n } }

// WithReplayPerUser sets how many log reads one user's resumes may hold at once (default
// DefaultReplayPerUser, at least 1).
func WithReplayPerUser(n int) Option { return func(h *Hub) { h.replayPerUser = max(1, n) } }

// WithMaxStreamsPerUser bounds the streams of every scope one user may hold open (default
// DefaultMaxStreamsPerUser; 0: no bound). Subscribe beyond it returns backend.ErrTooManyStreams.
func WithMaxStreamsPerUser(n int) Option { return func(h *Hub) { h.maxPerUser = max(0, n) } }

// WithClock sets the clock for the timestamps of the hub's own events (default time.Now).
func WithClock(c backend.Clock) Option { return func(h *Hub) { h.now = c } }

// New returns a Hub that resumes subscribers from log.
func New(log backend.EventLog, opts ...Option) *Hub {
	h := &Hub{
		log: log, now: time.Now, queueSize: DefaultQueueSize, replayPage: DefaultReplayPage,
		replayLimit: DefaultReplayLimit, replayPerUser: DefaultReplayPerUser, maxPerUser: DefaultMaxStreamsPerUser,
		replaySlot:  make(chan struct{}, DefaultReplayConcurrency),
		byUser:      map[string]map[*subscription]struct{}{},
		byChat:      map[string]map[*subscription]struct{}{},
		bySession:   map[string]map[*subscription]struct{}{},
		perUser:     map[string]int{},
		replayUsers: map[string]*userSlots{},
	}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Stats returns the hub's counters.
func (h *Hub) Stats() backend.BrokerStats {
	return backend.BrokerStats{
		Subscribers:      h.stats.subscribers.Load(),
		Published:        h.stats.published.Load(),
		Delivered:        h.stats.delivered.Load(),
		DroppedEphemeral: h.stats.droppedEphemeral.Load(),
		Overflows:        h.stats.overflows.Load(),
	}
}

// Publish queues events for every subscriber whose scope matches, in the order given. Durable
// events must come from the store's commit step, already in commit order; ephemeral events are
// sealed here if their publisher did not. SESSION_ENDED ends the streams of its sessions, and
// CHAT_MEMBER_REMOVED the removed member's streams of that chat, each as their last frame.
func (h *Hub) Publish(events ...*backend.Event) {
	published := time.Now().UnixNano()
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, ev := range events {
		if err := ev.Seal(); err != nil {
			continue // only unencodable payloads fail, and none of ours are
		}
		if ev.PublishedAt == 0 {
			ev.PublishedAt = published
		}
		h.stats.published.Add(1)
		if ev.Type == backend.EventSessionEnded {
			for _, id := range ev.Sessions {
				for sub := range h.bySession[id] {
					sub.finish(ev, backend.ErrSessionEnded)
				}
			}
			continue
		}
		for _, uid := range ev.Recipients {
			for sub := range h.byUser[uid] {
				if sub.scope.Kind == backend.ScopeUser || ev.Personal {
					sub.push(ev)
				}
			}
		}
		if !ev.Personal && ev.ChatID != "" {
			removed := ""
			if ev.Type == backend.EventChatMemberRemoved {
				removed = ev.UserID
			}
			for sub := range h.byChat[ev.ChatID] {
				switch {
				case sub.scope.UserID == removed:
					// The removed member's chat streams end with it: nothing of the chat
					// after it is theirs.
					sub.finish(ev, backend.ErrRemovedFromChat)
				case slices.Contains(ev.Recipients, sub.scope.UserID):
					sub.push(ev)
				}
			}
		}
	}
}

// Subscribe registers a subscription for scope at once, so nothing published from now on is
// missed; resuming after lastEventID happens in the subscription's first Next calls.
func (h *Hub) Subscribe(scope backend.Scope, lastEventID string) (backend.Subscription, error) {
	s := &subscription{
		hub: h, scope: scope, resumeAfter: lastEventID, replaying: lastEventID != "",
		ready: make(chan struct{}, 1), done: make(chan struct{}),
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, backend.ErrClosed
	}
	if h.maxPerUser > 0 && h.perUser[scope.UserID] >= h.maxPerUser {
		return nil, backend.ErrTooManyStreams
	}
	h.perUser[scope.UserID]++
	for index, key := range s.indexes() {
		if index[key] == nil {
			index[key] = map[*subscription]struct{}{}
		}
		index[key][s] = struct{}{}
	}
	h.stats.subscribers.Add(1)
	return s, nil
}

// indexes yields the index maps that hold s, with its key in each.
func (s *subscription) indexes() func(yield func(map[string]map[*subscription]struct{}, string) bool) {
	return func(yield func(map[string]map[*subscription]struct{}, string) bool) {
		h := s.hub
		index, key := h.byUser, s.scope.UserID
		if s.scope.Kind == backend.ScopeChat {
			index, key = h.byChat, s.scope.ChatID
		}
		if !yield(index, key) {
			return
		}
		if s.scope.SessionID != "" {
			yield(h.bySession, s.scope.SessionID)
		}
	}
}

func (h *Hub) unsubscribe(s *subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	registered := false
	for index, key := range s.indexes() {
		if _, ok := index[key][s]; !ok {
			continue
		}
		registered = true
		delete(index[key], s)
		if len(index[key]) == 0 {
			delete(index, key)
		}
	}
	if !registered {
		return
	}
	if h.perUser[s.scope.UserID]--; h.perUser[s.scope.UserID] <= 0 {
		delete(h.perUser, s.scope.UserID)
	}
	h.stats.subscribers.Add(-1)
}

// Online reports how many /api/stream and notification streams userID holds open.
func (h *Hub) Online(userID string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.byUser[userID])
}

// Close ends every subscription with backend.ErrClosed and refuses new ones.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, index := range []map[string]map[*subscription]struct{}{h.byUser, h.byChat} {
		for _, subs := range index {
			for s := range subs {
				s.end(backend.ErrClosed)
			}
		}
	}
}

// subscription is one stream's queue. Publishers push under mu; the stream's goroutine calls Next.
type subscription struct {
	hub   *Hub
	scope backend.Scope

	// Owned by the Next goroutine.
	resumeAfter string // replay cursor: the last of the scope's logged ids read
	replaying   bool
	examined    int    // the scope's logged events read by the replay so far
	lastID      string // newest durable id delivered or skipped by replay; live events up to it are duplicates

	// idle is Next's keepalive timer (NextWithin), made on first use and re-armed per wait, so
	// a stream has one timer for its life rather than one per event.
	idle *time.Timer

	mu sync.Mutex
	// items is bounded by hub.queueSize. It and spare start empty and grow as events arrive
	// (an idle subscriber holds no queue memory); they keep their high-water capacity.
	items     []*backend.Event
	spare     []*backend.Event // swapped with items by Next, so draining does not allocate
	onEnd     func()           // AfterEnd's callback, run once when the broker ends the subscription
	ephemeral int              // ephemeral events in items
	dropped   atomic.Int64     // ephemeral events dropped or evicted from this queue
	err       error            // why the subscription ended, nil while it runs
	finishing error            // set by finish: err once the queued items are taken
	ready     chan struct{}    // capacity 1: something to take, or the end
	done      chan struct{}    // closed when err is set
	closeOnce sync.Once
}

func (s *subscription) push(ev *backend.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || s.finishing != nil {
		return
	}
	durable := ev.Type.Durable()
	if len(s.items) >= s.hub.queueSize {
		if !durable {
			s.hub.stats.droppedEphemeral.Add(1)
			s.dropped.Add(1)
			return
		}
		if s.ephemeral == 0 {
			s.hub.stats.overflows.Add(1)
			s.endLocked(backend.ErrOverflow)
			return
		}
		i := slices.IndexFunc(s.items, func(e *backend.Event) bool { return !e.Type.Durable() })
		s.items = slices.Delete(s.items, i, i+1)
		s.ephemeral--
		s.hub.stats.droppedEphemeral.Add(1)
		s.dropped.Add(1)
	}
	s.items = append(s.items, ev)
	if !durable {
		s.ephemeral++
	}
	s.hub.stats.delivered.Add(1)
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// finish queues last, the stream's final frame, and ends the subscription with err once what
// is queued before it has been taken. Nothing published later is queued. Unlike an overflow,
// Done is not closed: the stream writes what it has and then stops by itself.
func (s *subscription) finish(last *backend.Event, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || s.finishing != nil {
		return
	}
	s.finishing = err
	if len(s.items) >= s.hub.queueSize { // make room: the last frame matters more than the oldest
		if !s.items[0].Type.Durable() {
			s.ephemeral--
		}
		s.items = slices.Delete(s.items, 0, 1)
	}
	s.items = append(s.items, last)
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

func (s *subscription) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endLocked(err)
}

func (s *subscription) endLocked(err error) {
	if s.err != nil {
		return
	}
	s.err = err
	clear(s.items)
	s.items = s.items[:0]
	s.ephemeral = 0
	close(s.done)
	if s.onEnd != nil {
		go s.onEnd()
	}
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

func (s *subscription) Done() <-chan struct{} { return s.done }

// AfterEnd arranges for f to run in its own goroutine when the broker ends the subscription (as
// Done closes), at once if it has ended (backend.Subscription). It replaces an earlier f. The
// returned stop cancels it and reports whether it did so before f was started.
func (s *subscription) AfterEnd(f func()) (stop func() bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		go f()
		return func() bool { return false }
	}
	s.onEnd = f
	return func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		pending := s.onEnd != nil && s.err == nil
		s.onEnd = nil
		return pending
	}
}

// Dropped is how many ephemeral events this subscription's queue dropped (backend.DropCounter).
func (s *subscription) Dropped() int64 { return s.dropped.Load() }

func (s *subscription) Close() {
	s.closeOnce.Do(func() {
		s.hub.unsubscribe(s)
		s.end(backend.ErrClosed)
	})
}

func (s *subscription) Next(ctx context.Context, buf []*backend.Event) ([]*backend.Event, error) {
	return s.next(ctx, buf, 0)
}

// NextWithin is Next that gives up after d without events, returning backend.ErrIdle; the
// timer is the subscription's own, re-armed per wait (backend.Subscription).
func (s *subscription) NextWithin(ctx context.Context, buf []*backend.Event, d time.Duration) ([]*backend.Event, error) {
	return s.next(ctx, buf, d)
}

// next is Next, bounded by idle when it is positive.
func (s *subscription) next(ctx context.Context, buf []*backend.Event, idle time.Duration) ([]*backend.Event, error) {
	buf = buf[:0]
	for {
		if s.replaying {
			var err error
			if buf, err = s.replay(ctx, buf); err != nil {
				return buf, err
			}
			if len(buf) > 0 {
				return buf, nil
			}
			continue
		}
		s.mu.Lock()
		items, err := s.items, s.err
		s.items, s.spare = s.spare[:0], items
		s.ephemeral = 0
		if s.finishing != nil && err == nil {
			// What it had is in items: the next call reports the end. Done stays open, so
			// that the stream's last frames are written rather than interrupted.
			s.err = s.finishing
		}
		s.mu.Unlock()
		for i, ev := range items {
			items[i] = nil
			if ev.ID != "" {
				if ev.ID <= s.lastID {
					continue // replayed from the log already
				}
				s.lastID = ev.ID
			}
			buf = append(buf, ev)
		}
		if len(buf) > 0 {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if idle <= 0 {
			select {
			case <-s.ready:
			case <-ctx.Done():
				return buf, ctx.Err()
			}
			continue
		}
		if s.idle == nil {
			s.idle = time.NewTimer(idle)
		} else {
			s.idle.Reset(idle) // since Go 1.23 no stale tick survives a Reset
		}
		select {
		case <-s.ready:
			// The timer stays armed: the next wait's Reset re-arms it, and one that fires
			// meanwhile is dropped by that Reset (Go 1.23 timers), which is cheaper than a Stop
			// per event.
		case <-ctx.Done():
			s.idle.Stop()
			return buf, ctx.Err()
		case <-s.idle.C:
			return buf, backend.ErrIdle
		}
	}
}

// userSlots bounds the log reads of one user's resumes; refs counts the resumes that use it, so
// that it is forgotten when none does.
type userSlots struct {
	ch   chan struct{}
	refs int
}

// acquireReplay takes one of the user's log-read slots and one of the hub's, waiting for both
// (or ctx). The returned release gives them back.
func (h *Hub) acquireReplay(ctx context.Context, userID string) (release func(), err error) {
	h.replayMu.Lock()
	us := h.replayUsers[userID]
	if us == nil {
		us = &userSlots{ch: make(chan struct{}, h.replayPerUser)}
		h.replayUsers[userID] = us
	}
	us.refs++
	h.replayMu.Unlock()
	forget := func() {
		h.replayMu.Lock()
		if us.refs--; us.refs == 0 {
			delete(h.replayUsers, userID)
		}
		h.replayMu.Unlock()
	}
	if !take(ctx, us.ch) {
		forget()
		return nil, ctx.Err()
	}
	if !take(ctx, h.replaySlot) {
		<-us.ch
		forget()
		return nil, ctx.Err()
	}
	return func() {
		<-h.replaySlot
		<-us.ch
		forget()
	}, nil
}

// take puts a token into slots, waiting for room or ctx; a free slot is taken even when ctx has
// ended. It reports whether it took one.
func take(ctx context.Context, slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
	}
	select {
	case slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// replay appends the next page of the scope's logged events (EventLog.ScopeEventsAfter). When
// the log has no more, the subscription turns live; when it cannot serve the resume id, or the
// resume has read the hub's replay limit of the scope's events and the log has more, the result
// is RESYNC.
func (s *subscription) replay(ctx context.Context, buf []*backend.Event) ([]*backend.Event, error) {
	if s.ending() {
		s.replaying = false // Next reports the end
		return buf, nil
	}
	release, err := s.hub.acquireReplay(ctx, s.scope.UserID)
	if err != nil {
		return buf, err
	}
	events, err := s.hub.log.ScopeEventsAfter(ctx, s.scope, s.resumeAfter, s.hub.replayPage)
	release()
	if errors.Is(err, backend.ErrEventNotFound) {
		return s.resync(ctx, buf)
	}
	if err != nil {
		return buf, err
	}
	for _, ev := range events {
		s.resumeAfter = ev.ID
		buf = append(buf, ev) // the log returns only the scope's events
	}
	s.examined += len(events)
	if len(events) < s.hub.replayPage {
		s.replaying = false
		s.lastID = s.resumeAfter
	} else if limit := s.hub.replayLimit; limit > 0 && s.examined >= limit {
		return s.resync(ctx, buf)
	}
	return buf, nil
}

// resync ends the replay with RESYNC carrying the log's newest id: the client refetches over
// REST and resumes from there; live events up to that id are dropped as already covered.
func (s *subscription) resync(ctx context.Context, buf []*backend.Event) ([]*backend.Event, error) {
	head, err := s.hub.log.LastEventID(ctx)
	if err != nil {
		return buf, err // still replaying: the next call tries again and still sends RESYNC
	}
	ev := &backend.Event{ID: head, Type: backend.EventResync, Timestamp: s.hub.now().UnixMilli()}
	if err := ev.Seal(); err != nil {
		return buf, err
	}
	s.replaying = false
	s.lastID = head
	return append(buf, ev), nil
}

// ending reports whether the subscription ended or is finishing.
func (s *subscription) ending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err != nil || s.finishing != nil
}
