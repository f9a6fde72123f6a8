package hub_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/hub"
)

// A resume with more of its scope's events than the replay limit allows sends RESYNC (with the
// log's head) instead of going on: what one resume costs is bounded. Live events above the head
// still arrive, once. Events of other scopes do not count: the log reads only the scope's.
func TestReplayLimitEndsALongResumeWithResync(t *testing.T) {
	var ids seq
	log := &memLog{}
	start := chatEvent(t, ids.next(), "c", "a")
	log.add(start)
	for range 100 {
		log.add(chatEvent(t, ids.next(), "other", "b")) // busy elsewhere: not a's, not counted
	}
	mine := chatEvent(t, ids.next(), "c", "a")
	log.add(mine)
	h := newHub(t, log, hub.WithReplayPage(10), hub.WithReplayLimit(30))
	sub := subscribe(t, h, userScope("a"), start.ID)
	if got := nextWait(t, sub); !slices.Equal(got, []*backend.Event{mine}) {
		t.Fatalf("busy elsewhere: got %s, want only %s", describe(got), mine.ID)
	}

	var own []*backend.Event
	for range 40 {
		ev := chatEvent(t, ids.next(), "c", "a")
		own = append(own, ev)
		log.add(ev)
	}
	head := own[len(own)-1]
	sub = subscribe(t, h, userScope("a"), start.ID)
	// Pages within the limit are delivered; the one that reaches it ends with RESYNC.
	var got []*backend.Event
	for len(got) == 0 || got[len(got)-1].Type != backend.EventResync {
		got = append(got, nextWait(t, sub)...)
	}
	want := append([]*backend.Event{mine}, own[:29]...)
	if !slices.Equal(got[:len(got)-1], want) || got[len(got)-1].ID != head.ID {
		t.Fatalf("got %s, want %s then RESYNC at %s", describe(got), describe(want), head.ID)
	}
	live := chatEvent(t, ids.next(), "c", "a")
	log.add(live)
	h.Publish(live)
	expectEvents(t, sub, "live after RESYNC", live)

	// Within the limit, the same resume replays normally.
	h = newHub(t, log, hub.WithReplayPage(10), hub.WithReplayLimit(0))
	sub = subscribe(t, h, userScope("a"), start.ID)
	want = append(append([]*backend.Event{mine}, own...), live)
	got = nil
	for len(got) < len(want) {
		got = append(got, nextWait(t, sub)...)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("without a limit: got %s", describe(got))
	}
}

// blockingLog holds every ScopeEventsAfter call until released, counting how many wait at once per
// subscriber (the caller's user is named by the resume id).
type blockingLog struct {
	memLog
	mu      sync.Mutex
	inside  int
	maxSeen int
	entered chan struct{}
	release chan struct{}
}

func (l *blockingLog) ScopeEventsAfter(ctx context.Context, scope backend.Scope, afterID string, limit int) ([]*backend.Event, error) {
	l.mu.Lock()
	l.inside++
	l.maxSeen = max(l.maxSeen, l.inside)
	l.mu.Unlock()
	l.entered <- struct{}{}
	<-l.release
	l.mu.Lock()
	l.inside--
	l.mu.Unlock()
	return l.memLog.ScopeEventsAfter(ctx, scope, afterID, limit)
}

// One user's resumes read the log one at a time, however many streams they reconnect, so they
// cannot take every replay slot; another user's resume is not held up behind them.
func TestReplayOfOneUserHoldsOneLogReadAtATime(t *testing.T) {
	var ids seq
	log := &blockingLog{entered: make(chan struct{}, 16), release: make(chan struct{})}
	first := chatEvent(t, ids.next(), "c", "a", "b")
	log.add(first, chatEvent(t, ids.next(), "c", "a", "b"))
	h := newHub(t, log)
	var wg sync.WaitGroup
	resume := func(user string) {
		sub := subscribe(t, h, userScope(user), first.ID)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := sub.Next(context.Background(), nil); err != nil {
				t.Errorf("Next: %v", err)
			}
		}()
	}
	for range 3 {
		resume("a")
	}
	<-log.entered // one of alice's three is reading
	resume("b")
	<-log.entered // bob's is reading beside it, though alice has two more waiting
	log.mu.Lock()
	inside := log.inside
	log.mu.Unlock()
	if inside != 2 {
		t.Fatalf("%d log reads at once, want alice's one and bob's one", inside)
	}
	close(log.release)
	wg.Wait()
	if log.maxSeen != 2 {
		t.Fatalf("at most %d log reads at once, want 2", log.maxSeen)
	}
}

// A user holds at most WithMaxStreamsPerUser subscriptions of every scope together; closing one
// makes room, and other users are not counted against them.
func TestMaxStreamsPerUser(t *testing.T) {
	h := newHub(t, nil, hub.WithMaxStreamsPerUser(3))
	var subs []backend.Subscription
	for _, scope := range []backend.Scope{userScope("a"), notifScope("a"), chatScope("a", "c")} {
		subs = append(subs, subscribe(t, h, scope, ""))
	}
	if _, err := h.Subscribe(chatScope("a", "d"), ""); !errors.Is(err, backend.ErrTooManyStreams) {
		t.Fatalf("a fourth stream: %v, want ErrTooManyStreams", err)
	}
	subscribe(t, h, userScope("b"), "")
	subs[2].Close()
	subs[2].Close() // twice: counted once
	subscribe(t, h, chatScope("a", "d"), "")
	if _, err := h.Subscribe(userScope("a"), ""); !errors.Is(err, backend.ErrTooManyStreams) {
		t.Fatalf("a fourth stream after the swap: %v", err)
	}
	if h.Stats().Subscribers != 4 {
		t.Fatalf("%d subscribers, want 4", h.Stats().Subscribers)
	}
}

// SESSION_ENDED reaches every subscription of the sessions it names, of every scope, after what
// was queued before it; then the subscription ends with ErrSessionEnded and takes nothing more.
// Done stays open (the stream writes its last frames rather than being interrupted). Other
// sessions of the same user go on.
func TestSessionEndedEndsThatSessionsSubscriptions(t *testing.T) {
	var ids seq
	h := newHub(t, nil)
	scoped := func(s backend.Scope, session string) backend.Scope { s.SessionID = session; return s }
	user := subscribe(t, h, scoped(userScope("a"), "s1"), "")
	chat := subscribe(t, h, scoped(chatScope("a", "c"), "s1"), "")
	other := subscribe(t, h, scoped(userScope("a"), "s2"), "")
	before := chatEvent(t, ids.next(), "c", "a")
	ended := &backend.Event{Type: backend.EventSessionEnded, Reason: backend.SessionSignedOut, Personal: true,
		Recipients: []string{"a"}, Sessions: []string{"s1"}}
	after := chatEvent(t, ids.next(), "c", "a")
	h.Publish(before, ended, after)
	for name, sub := range map[string]backend.Subscription{"user": user, "chat": chat} {
		evs, err := nextErr(t, sub)
		if !errors.Is(err, backend.ErrSessionEnded) || !slices.Equal(evs, []*backend.Event{before, ended}) {
			t.Fatalf("%s scope: %s then %v", name, describe(evs), err)
		}
		if isDone(sub.Done()) {
			t.Fatalf("%s scope: Done closed", name)
		}
	}
	expectEvents(t, other, "the other session", before, after)
}
