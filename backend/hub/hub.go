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
	// walks the whole log after it; the bound keeps many of them from taking every core.
	DefaultReplayConcurrency = 4
)

// Hub implements backend.Broker. Publish never blocks on a subscriber: it appends to each
// matching subscriber's bounded queue under a short lock. When a queue is full, an ephemeral
// event is dropped; a durable event first evicts the oldest queued ephemeral event, and if there
// is none the subscription ends with backend.ErrOverflow (the client resumes from the log).
type Hub struct {
	log        backend.EventLog
	now        backend.Clock
	queueSize  int
	replayPage int
	replaySlot chan struct{} // bounds concurrent log reads by replays

	mu     sync.RWMutex
	byUser map[string]map[*subscription]struct{} // ScopeUser and ScopeNotifications, by subscriber
	byChat map[string]map[*subscription]struct{} // ScopeChat, by chat
	closed bool

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

// WithClock sets the clock for the timestamps of the hub's own events (default time.Now).
func WithClock(c backend.Clock) Option { return func(h *Hub) { h.now = c } }

// New returns a Hub that resumes subscribers from log.
func New(log backend.EventLog, opts ...Option) *Hub {
	h := &Hub{
		log: log, now: time.Now, queueSize: DefaultQueueSize, replayPage: DefaultReplayPage,
		replaySlot: make(chan struct{}, DefaultReplayConcurrency),
		byUser:     map[string]map[*subscription]struct{}{},
		byChat:     map[string]map[*subscription]struct{}{},
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
// sealed here if their publisher did not.
func (h *Hub) Publish(events ...*backend.Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, ev := range events {
		if err := ev.Seal(); err != nil {
			continue // only unencodable payloads fail, and none of ours are
		}
		h.stats.published.Add(1)
		for _, uid := range ev.Recipients {
			for sub := range h.byUser[uid] {
				if sub.scope.Kind == backend.ScopeUser || ev.Personal {
					sub.push(ev)
				}
			}
		}
		if !ev.Personal && ev.ChatID != "" {
			for sub := range h.byChat[ev.ChatID] {
				if slices.Contains(ev.Recipients, sub.scope.UserID) {
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
		items: make([]*backend.Event, 0, h.queueSize), spare: make([]*backend.Event, 0, h.queueSize),
		ready: make(chan struct{}, 1), done: make(chan struct{}),
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, backend.ErrClosed
	}
	index, key := h.byUser, scope.UserID
	if scope.Kind == backend.ScopeChat {
		index, key = h.byChat, scope.ChatID
	}
	if index[key] == nil {
		index[key] = map[*subscription]struct{}{}
	}
	index[key][s] = struct{}{}
	h.stats.subscribers.Add(1)
	return s, nil
}

func (h *Hub) unsubscribe(s *subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	index, key := h.byUser, s.scope.UserID
	if s.scope.Kind == backend.ScopeChat {
		index, key = h.byChat, s.scope.ChatID
	}
	if _, ok := index[key][s]; !ok {
		return
	}
	delete(index[key], s)
	if len(index[key]) == 0 {
		delete(index, key)
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
	resumeAfter string // replay cursor: the last logged id examined
	replaying   bool
	lastID      string // newest durable id delivered or skipped by replay; live events up to it are duplicates

	mu        sync.Mutex
	items     []*backend.Event // bounded by hub.queueSize
	spare     []*backend.Event // swapped with items by Next, so draining does not allocate
	ephemeral int              // ephemeral events in items
	err       error            // why the subscription ended, nil while it runs
	ready     chan struct{}    // capacity 1: something to take, or the end
	done      chan struct{}    // closed when err is set
	closeOnce sync.Once
}

func (s *subscription) push(ev *backend.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	durable := ev.Type.Durable()
	if len(s.items) == cap(s.items) {
		if !durable {
			s.hub.stats.droppedEphemeral.Add(1)
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
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

func (s *subscription) Done() <-chan struct{} { return s.done }

func (s *subscription) Close() {
	s.closeOnce.Do(func() {
		s.hub.unsubscribe(s)
		s.end(backend.ErrClosed)
	})
}

func (s *subscription) Next(ctx context.Context, buf []*backend.Event) ([]*backend.Event, error) {
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
		select {
		case <-s.ready:
		case <-ctx.Done():
			return buf, ctx.Err()
		}
	}
}

// replay appends the next page of logged events that the scope matches. When the log has no
// more, the subscription turns live; when it cannot serve the resume id, the result is RESYNC.
func (s *subscription) replay(ctx context.Context, buf []*backend.Event) ([]*backend.Event, error) {
	select {
	case <-s.done:
		s.replaying = false // Next reports the end
		return buf, nil
	default:
	}
	select {
	case s.hub.replaySlot <- struct{}{}:
	default: // all taken: wait for one, or for ctx
		select {
		case s.hub.replaySlot <- struct{}{}:
		case <-ctx.Done():
			return buf, ctx.Err()
		}
	}
	events, err := s.hub.log.EventsAfter(ctx, s.resumeAfter, s.hub.replayPage)
	<-s.hub.replaySlot
	if errors.Is(err, backend.ErrEventNotFound) {
		head, err := s.hub.log.LastEventID(ctx)
		if err != nil {
			return buf, err // still replaying: the next call tries again and still sends RESYNC
		}
		resync := &backend.Event{ID: head, Type: backend.EventResync, Timestamp: s.hub.now().UnixMilli()}
		if err := resync.Seal(); err != nil {
			return buf, err
		}
		s.replaying = false
		s.lastID = head
		return append(buf, resync), nil
	}
	if err != nil {
		return buf, err
	}
	for _, ev := range events {
		s.resumeAfter = ev.ID
		if s.scope.Matches(ev) {
			buf = append(buf, ev)
		}
	}
	if len(events) < s.hub.replayPage {
		s.replaying = false
		s.lastID = s.resumeAfter
	}
	return buf, nil
}
