package hub_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/hub"
)

// waitLimit bounds every wait for something that must happen. It is a deadlock detector, never
// a performance threshold: healthy runs finish their waits in microseconds.
const waitLimit = 10 * time.Second

// newHub returns a hub over log that is closed when the test ends.
func newHub(t testing.TB, log backend.EventLog, opts ...hub.Option) *hub.Hub {
	t.Helper()
	if log == nil {
		log = &memLog{}
	}
	h := hub.New(log, opts...)
	t.Cleanup(h.Close)
	return h
}

// subscribe opens a subscription that is closed when the test ends.
func subscribe(t testing.TB, h *hub.Hub, scope backend.Scope, lastEventID string) backend.Subscription {
	t.Helper()
	sub, err := h.Subscribe(scope, lastEventID)
	if err != nil {
		t.Fatalf("Subscribe(%+v, %q): %v", scope, lastEventID, err)
	}
	t.Cleanup(sub.Close)
	return sub
}

func userScope(uid string) backend.Scope { return backend.Scope{Kind: backend.ScopeUser, UserID: uid} }
func notifScope(uid string) backend.Scope {
	return backend.Scope{Kind: backend.ScopeNotifications, UserID: uid}
}
func chatScope(uid, chatID string) backend.Scope {
	return backend.Scope{Kind: backend.ScopeChat, UserID: uid, ChatID: chatID}
}

// callNext calls sub.Next and fails the test if Next does not honour ctx by returning within
// waitLimit after ctx ends: a hub that ignores the context fails instead of hanging the suite.
func callNext(t testing.TB, sub backend.Subscription, ctx context.Context, buf []*backend.Event) ([]*backend.Event, error) {
	t.Helper()
	type result struct {
		evs []*backend.Event
		err error
	}
	ch := make(chan result, 1)
	go func() {
		evs, err := sub.Next(ctx, buf)
		ch <- result{evs, err}
	}()
	select {
	case r := <-ch:
		return r.evs, r.err
	case <-ctx.Done():
	}
	select {
	case r := <-ch:
		return r.evs, r.err
	case <-time.After(waitLimit):
		t.Fatalf("Next did not return within %v after its context ended", waitLimit)
		return nil, nil
	}
}

// pending returns what sub has queued right now without waiting: Publish queues synchronously,
// so once it has returned, a Next with an ended context reports exactly what was delivered.
func pending(t testing.TB, sub backend.Subscription) []*backend.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	evs, err := callNext(t, sub, ctx, nil)
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Next: unexpected error %v (events %s)", err, describe(evs))
	}
	if len(evs) > 0 && err != nil {
		t.Fatalf("Next returned events %s together with error %v", describe(evs), err)
	}
	return evs
}

// expectNone fails if sub has anything queued.
func expectNone(t testing.TB, sub backend.Subscription, what string) {
	t.Helper()
	if evs := pending(t, sub); len(evs) != 0 {
		t.Fatalf("%s: got %s, want nothing", what, describe(evs))
	}
}

// expectEvents fails unless sub has exactly want queued: the same *Event pointers, in order.
func expectEvents(t testing.TB, sub backend.Subscription, what string, want ...*backend.Event) {
	t.Helper()
	got := pending(t, sub)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %s, want %s", what, describe(got), describe(want))
	}
}

// nextWait waits for the next batch of events, failing on any error.
func nextWait(t testing.TB, sub backend.Subscription) []*backend.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	evs, err := callNext(t, sub, ctx, nil)
	if err != nil {
		t.Fatalf("Next: %v (events %s)", err, describe(evs))
	}
	return evs
}

// nextErr waits until Next returns an error and returns it with whatever events came before.
func nextErr(t testing.TB, sub backend.Subscription) ([]*backend.Event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	var all []*backend.Event
	for {
		evs, err := callNext(t, sub, ctx, nil)
		all = append(all, evs...)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Next did not end within %v (got %s)", waitLimit, describe(all))
			}
			return all, err
		}
	}
}

// isDone reports whether ch is closed, without waiting.
func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func describe(evs []*backend.Event) string {
	s := make([]string, len(evs))
	for i, ev := range evs {
		s[i] = fmt.Sprintf("%s/%s", ev.Type, ev.ID)
		if ev.ID == "" && ev.UserID != "" {
			s[i] = fmt.Sprintf("%s/by:%s", ev.Type, ev.UserID)
		}
	}
	return fmt.Sprintf("%v", s)
}

// seq hands out synthetic durable ids that sort in issue order, like the store's ULIDs.
type seq struct{ n int }

func (s *seq) next() string { s.n++; return fmt.Sprintf("%026d", s.n) }

// chatEvent is a sealed durable NEW_MESSAGE in chatID for recipients.
func chatEvent(t testing.TB, id, chatID string, recipients ...string) *backend.Event {
	t.Helper()
	ev := &backend.Event{ID: id, Type: backend.EventNewMessage, ChatID: chatID, Timestamp: 1,
		Message:    &backend.Message{ID: id, ChatID: chatID, Content: "hi " + id},
		Recipients: recipients}
	if err := ev.Seal(); err != nil {
		t.Fatal(err)
	}
	return ev
}

// personalEvent is a sealed durable personal event for recipients; chatID may be "".
func personalEvent(t testing.TB, id, chatID string, recipients ...string) *backend.Event {
	t.Helper()
	ev := &backend.Event{ID: id, Type: backend.EventSystemNotification, ChatID: chatID, Timestamp: 1,
		Personal: true, Recipients: recipients}
	if err := ev.Seal(); err != nil {
		t.Fatal(err)
	}
	return ev
}

// typing is an unsealed ephemeral TYPING event, as a publisher hands it to the hub.
func typing(chatID, typer string, recipients ...string) *backend.Event {
	return &backend.Event{Type: backend.EventTyping, ChatID: chatID, UserID: typer, Timestamp: 1,
		Recipients: recipients}
}

// memLog is a minimal in-memory backend.EventLog for tests that need no store. It can be told
// to fail its next calls, as a log that honours a Next deadline would.
type memLog struct {
	mu              sync.Mutex
	events          []*backend.Event
	failEventsAfter []error // returned, in turn, by the next EventsAfter calls
	failLastEventID []error // returned, in turn, by the next LastEventID calls
}

var _ backend.EventLog = (*memLog)(nil)

// add appends sealed durable events to the log, as a commit would.
func (l *memLog) add(evs ...*backend.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, evs...)
}

func (l *memLog) EventsAfter(ctx context.Context, afterID string, limit int) ([]*backend.Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failEventsAfter) > 0 {
		err := l.failEventsAfter[0]
		l.failEventsAfter = l.failEventsAfter[1:]
		return nil, err
	}
	i := slices.IndexFunc(l.events, func(ev *backend.Event) bool { return ev.ID == afterID })
	if i < 0 {
		return nil, backend.ErrEventNotFound
	}
	rest := l.events[i+1:]
	return slices.Clone(rest[:min(limit, len(rest))]), nil
}

// ScopeEventsAfter filters EventsAfter by scope, as the store's index does, and fails like it.
func (l *memLog) ScopeEventsAfter(ctx context.Context, scope backend.Scope, afterID string, limit int) ([]*backend.Event, error) {
	all, err := l.EventsAfter(ctx, afterID, 1<<30)
	if err != nil {
		return nil, err
	}
	var out []*backend.Event
	for _, ev := range all {
		if len(out) < limit && scope.Matches(ev) {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (l *memLog) LastEventID(ctx context.Context) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failLastEventID) > 0 {
		err := l.failLastEventID[0]
		l.failLastEventID = l.failLastEventID[1:]
		return "", err
	}
	if len(l.events) == 0 {
		return "", nil
	}
	return l.events[len(l.events)-1].ID, nil
}
