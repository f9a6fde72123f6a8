package hub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/hub"
)

// ---- fan-out ----

func TestFanoutUserScopeReachesEverySubscriptionOfEachRecipient(t *testing.T) {
	h := newHub(t, nil)
	subsA := []backend.Subscription{subscribe(t, h, userScope("a"), ""), subscribe(t, h, userScope("a"), "")}
	subsB := []backend.Subscription{subscribe(t, h, userScope("b"), ""), subscribe(t, h, userScope("b"), ""),
		subscribe(t, h, userScope("b"), "")}
	subC := subscribe(t, h, userScope("c"), "")

	ev := chatEvent(t, "01", "chat1", "a", "b")
	h.Publish(ev)

	for i, sub := range append(subsA, subsB...) {
		got := pending(t, sub)
		if len(got) != 1 || got[0] != ev {
			t.Fatalf("subscription %d: got %s, want exactly the published *Event", i, describe(got))
		}
	}
	expectNone(t, subC, "user c (not a recipient)")
	if st := h.Stats(); st.Published != 1 || st.Delivered != 5 {
		t.Fatalf("stats %+v: want Published 1, Delivered 5", st)
	}
}

func TestFanoutChatScopeOnlyThatChatAndOnlyRecipients(t *testing.T) {
	h := newHub(t, nil)
	aChat1 := subscribe(t, h, chatScope("a", "chat1"), "")
	bChat1 := subscribe(t, h, chatScope("b", "chat1"), "")
	cChat1 := subscribe(t, h, chatScope("c", "chat1"), "") // watching chat1 but not a recipient
	aChat2 := subscribe(t, h, chatScope("a", "chat2"), "")
	aNotif := subscribe(t, h, notifScope("a"), "")
	aUser := subscribe(t, h, userScope("a"), "")

	ev := chatEvent(t, "01", "chat1", "a", "b")
	h.Publish(ev)

	expectEvents(t, aChat1, "a on chat1", ev)
	expectEvents(t, bChat1, "b on chat1", ev)
	expectNone(t, cChat1, "c on chat1 (not a recipient)")
	expectNone(t, aChat2, "a on chat2")
	expectNone(t, aNotif, "a's notifications (chat event is not personal)")
	expectEvents(t, aUser, "a's user stream", ev)

	// An ephemeral chat event follows the same routing: a TYPING by b is not echoed to b.
	ty := typing("chat1", "b", "a")
	h.Publish(ty)
	expectEvents(t, aChat1, "a on chat1, typing", ty)
	expectNone(t, bChat1, "typer b on chat1")
	expectNone(t, aNotif, "a's notifications, typing")
	expectEvents(t, aUser, "a's user stream, typing", ty)
}

func TestFanoutPersonalEvents(t *testing.T) {
	h := newHub(t, nil)
	aNotif := subscribe(t, h, notifScope("a"), "")
	aUser := subscribe(t, h, userScope("a"), "")
	aChat := subscribe(t, h, chatScope("a", "chat1"), "")
	bNotif := subscribe(t, h, notifScope("b"), "")
	bUser := subscribe(t, h, userScope("b"), "")

	// Personal, even though it names a chat (e.g. a mention): notification and user streams of
	// the recipient only, never the chat stream.
	p := personalEvent(t, "01", "chat1", "a")
	h.Publish(p)
	expectEvents(t, aNotif, "a's notifications", p)
	expectEvents(t, aUser, "a's user stream", p)
	expectNone(t, aChat, "a's chat1 stream (personal event)")
	expectNone(t, bNotif, "b's notifications")
	expectNone(t, bUser, "b's user stream")

	// Personal without a chat.
	p2 := personalEvent(t, "02", "", "a", "b")
	h.Publish(p2)
	expectEvents(t, aNotif, "a's notifications", p2)
	expectEvents(t, bNotif, "b's notifications", p2)
	expectEvents(t, aUser, "a's user stream", p2)
	expectEvents(t, bUser, "b's user stream", p2)
	expectNone(t, aChat, "a's chat1 stream")

	// A non-personal chat event never reaches notification streams.
	m := chatEvent(t, "03", "chat1", "a", "b")
	h.Publish(m)
	expectNone(t, aNotif, "a's notifications, chat message")
	expectNone(t, bNotif, "b's notifications, chat message")
	expectEvents(t, aChat, "a's chat1 stream", m)
}

// Publish's indexes must route exactly as Scope.Matches says, for any mix of events and scopes.
func TestFanoutAgreesWithScopeMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	users := []string{"u1", "u2", "u3", "u4"}
	chats := []string{"c1", "c2", "c3"}
	h := newHub(t, nil)
	type entry struct {
		scope backend.Scope
		sub   backend.Subscription
	}
	var subs []entry
	for _, u := range users {
		for range 2 {
			subs = append(subs, entry{userScope(u), subscribe(t, h, userScope(u), "")})
		}
		subs = append(subs, entry{notifScope(u), subscribe(t, h, notifScope(u), "")})
		for _, c := range chats {
			subs = append(subs, entry{chatScope(u, c), subscribe(t, h, chatScope(u, c), "")})
		}
	}
	var ids seq
	var published []*backend.Event
	for range 300 {
		var recipients []string
		for _, u := range users {
			if rng.IntN(2) == 0 {
				recipients = append(recipients, u)
			}
		}
		chatID := ""
		if rng.IntN(4) != 0 {
			chatID = chats[rng.IntN(len(chats))]
		}
		var ev *backend.Event
		switch rng.IntN(3) {
		case 0:
			ev = chatEvent(t, ids.next(), chatID, recipients...)
		case 1:
			ev = personalEvent(t, ids.next(), chatID, recipients...)
		default:
			ev = typing(chatID, "u9", recipients...)
		}
		published = append(published, ev)
		h.Publish(ev)
	}
	for _, e := range subs {
		var want []*backend.Event
		for _, ev := range published {
			if e.scope.Matches(ev) {
				want = append(want, ev)
			}
		}
		got := pending(t, e.sub)
		if !slices.Equal(got, want) {
			t.Errorf("scope %+v: got %d events %s, want %d %s", e.scope, len(got), describe(got), len(want), describe(want))
		}
	}
}

// Every subscriber gets the same sealed *Event, so its JSON is encoded once and shared.
func TestFanoutSharesOneEncoding(t *testing.T) {
	h := newHub(t, nil)
	var subs []backend.Subscription
	for _, u := range []string{"a", "b", "c"} {
		subs = append(subs, subscribe(t, h, userScope(u), ""), subscribe(t, h, chatScope(u, "chat1"), ""))
	}

	durable := chatEvent(t, "01JDQ7X3K9V2M4T8E6R5N0PZ1A", "chat1", "a", "b", "c")
	data := durable.Data()
	ty := typing("chat1", "z", "a", "b", "c") // not sealed by its publisher: the hub seals it
	h.Publish(durable, ty)
	tyData := ty.Data()
	if tyData == nil {
		t.Fatal("Publish did not seal the ephemeral event")
	}

	for i, sub := range subs {
		got := pending(t, sub)
		if len(got) != 2 || got[0] != durable || got[1] != ty {
			t.Fatalf("subscription %d: got %s, want the two published pointers", i, describe(got))
		}
		// Same backing array, not an equal copy: encoded once.
		if &got[0].Data()[0] != &data[0] || &got[1].Data()[0] != &tyData[0] {
			t.Fatalf("subscription %d: event was re-encoded", i)
		}
	}

	if want := `{"id":"01JDQ7X3K9V2M4T8E6R5N0PZ1A","type":"NEW_MESSAGE"`; !strings.HasPrefix(string(data), want) {
		t.Fatalf("durable data %s: want it to begin %s", data, want)
	}
	if bytes.Contains(tyData, []byte(`"id"`)) {
		t.Fatalf("ephemeral data %s carries an id", tyData)
	}
	var decoded struct {
		Type      string `json:"type"`
		Timestamp *int64 `json:"timestamp"`
		UserID    string `json:"userId"`
	}
	if err := json.Unmarshal(ty.Data(), &decoded); err != nil || decoded.Type != "TYPING" ||
		decoded.Timestamp == nil || decoded.UserID != "z" {
		t.Fatalf("ephemeral data %s: decoded %+v, err %v", ty.Data(), decoded, err)
	}
}

func TestPublishKeepsOrderWithinAndAcrossCalls(t *testing.T) {
	h := newHub(t, nil)
	sub := subscribe(t, h, userScope("a"), "")
	var ids seq
	var want []*backend.Event
	for range 5 {
		batch := []*backend.Event{chatEvent(t, ids.next(), "c", "a"), typing("c", "b", "a"), chatEvent(t, ids.next(), "c", "a")}
		want = append(want, batch...)
		h.Publish(batch...)
	}
	h.Publish(chatEvent(t, ids.next(), "c", "b")) // not for a
	expectEvents(t, sub, "a", want...)
}

// A durable event arriving twice (same id) is delivered once; ids never go backwards.
func TestLiveDuplicateDurableEventIsDeliveredOnce(t *testing.T) {
	h := newHub(t, nil)
	sub := subscribe(t, h, userScope("a"), "")
	e1 := chatEvent(t, "01", "c", "a")
	e2 := chatEvent(t, "02", "c", "a")
	h.Publish(e1, e2)
	expectEvents(t, sub, "first", e1, e2)
	h.Publish(e2)
	expectNone(t, sub, "repeat of e2")
}

// ---- slow subscribers ----

func TestOverflowDropsEphemeralWhenQueueFull(t *testing.T) {
	const size = 4
	h := newHub(t, nil, hub.WithQueueSize(size))
	sub := subscribe(t, h, userScope("a"), "")
	var queued []*backend.Event
	for range size {
		ev := typing("c", "b", "a")
		queued = append(queued, ev)
		h.Publish(ev)
	}
	for range 10 {
		h.Publish(typing("c", "x", "a")) // no room: dropped
	}
	if st := h.Stats(); st.DroppedEphemeral != 10 || st.Overflows != 0 || st.Delivered != size {
		t.Fatalf("stats %+v: want 10 dropped, %d delivered, no overflow", st, size)
	}
	if isDone(sub.Done()) {
		t.Fatal("subscription ended on ephemeral overflow")
	}
	expectEvents(t, sub, "after drops", queued...)
	// Draining made room again.
	ev := typing("c", "b", "a")
	h.Publish(ev)
	expectEvents(t, sub, "after draining", ev)
}

func TestOverflowDurableEvictsOldestEphemeral(t *testing.T) {
	const size = 4
	h := newHub(t, nil, hub.WithQueueSize(size))
	sub := subscribe(t, h, userScope("a"), "")
	t1, t2, t3 := typing("c", "t1", "a"), typing("c", "t2", "a"), typing("c", "t3", "a")
	d1 := chatEvent(t, "01", "c", "a")
	h.Publish(t1, d1, t2, t3) // full
	d2 := chatEvent(t, "02", "c", "a")
	h.Publish(d2) // evicts t1, the oldest ephemeral
	d3 := chatEvent(t, "03", "c", "a")
	h.Publish(d3)                     // evicts t2
	h.Publish(typing("c", "t4", "a")) // full again: dropped

	st := h.Stats()
	if st.DroppedEphemeral != 3 || st.Overflows != 0 {
		t.Fatalf("stats %+v: want 3 dropped ephemeral, no overflow", st)
	}
	if isDone(sub.Done()) {
		t.Fatal("subscription ended although an ephemeral event could be evicted")
	}
	expectEvents(t, sub, "queue", d1, t3, d2, d3)
}

func TestOverflowDurableWithoutEphemeralEndsSubscription(t *testing.T) {
	const size = 4
	h := newHub(t, nil, hub.WithQueueSize(size))
	slow := subscribe(t, h, userScope("a"), "")
	fast := subscribe(t, h, userScope("a"), "")
	var ids seq

	// Park a reader in Next on the slow subscription after it fell behind: Done and Next must
	// both report the end.
	var all []*backend.Event
	for range size {
		ev := chatEvent(t, ids.next(), "c", "a")
		all = append(all, ev)
		h.Publish(ev)
	}
	expectEvents(t, fast, "fast subscriber keeps up", all...)
	if isDone(slow.Done()) {
		t.Fatal("Done closed before the queue overflowed")
	}
	over := chatEvent(t, ids.next(), "c", "a")
	h.Publish(over)
	if !isDone(slow.Done()) {
		t.Fatal("Done not closed after a durable event overflowed the queue")
	}
	if st := h.Stats(); st.Overflows != 1 {
		t.Fatalf("stats %+v: want 1 overflow", st)
	}
	if _, err := nextErr(t, slow); !errors.Is(err, backend.ErrOverflow) {
		t.Fatalf("Next after overflow: %v, want ErrOverflow", err)
	}
	if _, err := nextErr(t, slow); !errors.Is(err, backend.ErrOverflow) {
		t.Fatalf("second Next after overflow: %v, want ErrOverflow again", err)
	}
	// The other subscription of the same user is unaffected.
	expectEvents(t, fast, "fast subscriber", over)

	// Nothing more is queued for the ended subscription.
	before := h.Stats().Delivered
	h.Publish(chatEvent(t, ids.next(), "c", "a"), typing("c", "b", "a"))
	if d := h.Stats().Delivered - before; d != 2 { // both to fast only
		t.Fatalf("delivered %d copies after overflow, want 2 (fast subscriber only)", d)
	}
	if h.Stats().Overflows != 1 {
		t.Fatalf("overflow counted again for an ended subscription: %+v", h.Stats())
	}
	slow.Close()
	slow.Close()
}

func TestOverflowWakesBlockedNext(t *testing.T) {
	h := newHub(t, nil, hub.WithQueueSize(1))
	sub := subscribe(t, h, userScope("a"), "")
	res := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		for {
			if _, err := sub.Next(ctx, nil); err != nil {
				res <- err
				return
			}
		}
	}()
	<-started
	var ids seq
	// Publish until the reader, however fast, falls behind a queue of one; the subscription
	// must then end and the reader must learn why, whether it was waiting or not.
	for i := 0; !isDone(sub.Done()); i++ {
		if i == 100_000 {
			t.Fatal("a queue of one absorbed 200k durable events without overflowing")
		}
		h.Publish(chatEvent(t, ids.next(), "c", "a"), chatEvent(t, ids.next(), "c", "a"))
	}
	if err := <-res; !errors.Is(err, backend.ErrOverflow) {
		t.Fatalf("blocked Next returned %v, want ErrOverflow", err)
	}
}

// Publish must not block on a subscriber that never reads, and memory for it stays bounded.
func TestPublishNeverBlocksOnStalledSubscriber(t *testing.T) {
	const (
		size = 4
		n    = 100_000
	)
	h := newHub(t, nil, hub.WithQueueSize(size))
	stalledDurable := subscribe(t, h, chatScope("a", "c1"), "")
	stalledEphemeral := subscribe(t, h, chatScope("a", "c2"), "")

	durable := make([]*backend.Event, n)
	var ids seq
	for i := range durable {
		durable[i] = chatEvent(t, ids.next(), "c1", "a")
	}
	ephemeral := typing("c2", "b", "a")

	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := range n {
			h.Publish(durable[i], ephemeral)
		}
	}()
	select {
	case <-published:
	case <-time.After(waitLimit): // deadlock detector only
		t.Fatalf("Publish blocked on a subscriber that does not read")
	}

	st := h.Stats()
	if st.Published != 2*n {
		t.Fatalf("published %d, want %d", st.Published, 2*n)
	}
	// Bounded: each stalled subscriber got at most a queue's worth; nothing after that.
	if st.Delivered != 2*size {
		t.Fatalf("stats %+v: %d copies queued, want %d (the two queue bounds)", st, st.Delivered, 2*size)
	}
	if st.Overflows != 1 || !isDone(stalledDurable.Done()) {
		t.Fatalf("stats %+v: the stalled durable subscriber must have ended by overflow", st)
	}
	if st.DroppedEphemeral != n-size {
		t.Fatalf("stats %+v: want %d ephemeral drops", st, n-size)
	}
	if isDone(stalledEphemeral.Done()) {
		t.Fatal("a subscriber that only falls behind on ephemeral events must not end")
	}
	if got := pending(t, stalledEphemeral); len(got) != size {
		t.Fatalf("stalled ephemeral subscriber holds %d events, want the queue bound %d", len(got), size)
	}
	if _, err := nextErr(t, stalledDurable); !errors.Is(err, backend.ErrOverflow) {
		t.Fatalf("stalled durable subscriber: %v, want ErrOverflow", err)
	}
}

// ---- Next, Close, Online ----

func TestNextHonoursContext(t *testing.T) {
	h := newHub(t, nil)
	sub := subscribe(t, h, userScope("a"), "")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	evs, err := callNext(t, sub, ctx, nil)
	if !errors.Is(err, context.DeadlineExceeded) || len(evs) != 0 {
		t.Fatalf("Next with deadline: %s, %v; want nothing and DeadlineExceeded", describe(evs), err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if evs, err := callNext(t, sub, ctx, nil); !errors.Is(err, context.Canceled) || len(evs) != 0 {
		t.Fatalf("Next with canceled ctx: %s, %v; want nothing and Canceled", describe(evs), err)
	}

	// Cancelling while Next waits.
	ctx, cancel = context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { _, err := sub.Next(ctx, nil); res <- err }()
	cancel()
	select {
	case err := <-res:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Next cancelled while waiting: %v, want Canceled", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Next did not return after its context was cancelled")
	}

	// The subscription is still usable after a timeout, and a queued event wins over an ended ctx.
	ev := chatEvent(t, "01", "c", "a")
	h.Publish(ev)
	expectEvents(t, sub, "after timeouts", ev)
}

func TestNextWakesOnPublish(t *testing.T) {
	h := newHub(t, nil)
	sub := subscribe(t, h, userScope("a"), "")
	got := make(chan []*backend.Event, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		evs, _ := sub.Next(ctx, nil)
		got <- evs
	}()
	ev := chatEvent(t, "01", "c", "a")
	h.Publish(ev) // before or after the reader blocks: it must get it either way
	if evs := <-got; len(evs) != 1 || evs[0] != ev {
		t.Fatalf("got %s, want the published event", describe(evs))
	}
}

func TestNextReusesBuffer(t *testing.T) {
	h := newHub(t, nil)
	sub := subscribe(t, h, userScope("a"), "")
	buf := make([]*backend.Event, 3, 16)
	buf[0] = chatEvent(t, "00", "c", "a") // stale content must not be returned
	ev := chatEvent(t, "01", "c", "a")
	h.Publish(ev)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	out, err := callNext(t, sub, ctx, buf)
	if err != nil || len(out) != 1 || out[0] != ev {
		t.Fatalf("Next: %s, %v; want only the new event", describe(out), err)
	}
	if &out[:1][0] != &buf[:1][0] {
		t.Fatal("Next did not append to buf[:0]")
	}
}

func TestSubscriptionClose(t *testing.T) {
	h := newHub(t, nil)
	sub := subscribe(t, h, userScope("a"), "")
	other := subscribe(t, h, userScope("a"), "")
	chatSub := subscribe(t, h, chatScope("a", "c"), "")
	if n := h.Online("a"); n != 2 {
		t.Fatalf("Online(a) = %d, want 2", n)
	}
	if n := h.Stats().Subscribers; n != 3 {
		t.Fatalf("Subscribers = %d, want 3", n)
	}

	// A reader parked in Next is released by Close.
	res := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		_, err := sub.Next(ctx, nil)
		res <- err
	}()
	sub.Close()
	if err := <-res; !errors.Is(err, backend.ErrClosed) {
		t.Fatalf("Next blocked during Close: %v, want ErrClosed", err)
	}
	sub.Close() // twice is fine
	chatSub.Close()
	if n := h.Online("a"); n != 1 {
		t.Fatalf("Online(a) after Close = %d, want 1", n)
	}
	if n := h.Stats().Subscribers; n != 1 {
		t.Fatalf("Subscribers after Close = %d, want 1", n)
	}

	before := h.Stats().Delivered
	ev := chatEvent(t, "01", "c", "a")
	h.Publish(ev)
	if d := h.Stats().Delivered - before; d != 1 {
		t.Fatalf("delivered %d copies, want 1 (the open subscription only)", d)
	}
	if evs, err := nextErr(t, sub); len(evs) != 0 || !errors.Is(err, backend.ErrClosed) {
		t.Fatalf("Next after Close: %s, %v; want nothing and ErrClosed", describe(evs), err)
	}
	expectEvents(t, other, "the other subscription", ev)

	other.Close()
	if n := h.Online("a"); n != 0 {
		t.Fatalf("Online(a) after closing all = %d, want 0", n)
	}
}

func TestOnlineCountsUserAndNotificationStreams(t *testing.T) {
	h := newHub(t, nil)
	subscribe(t, h, userScope("a"), "")
	subscribe(t, h, userScope("a"), "")
	n := subscribe(t, h, notifScope("a"), "")
	subscribe(t, h, chatScope("a", "c1"), "") // chat streams are not counted
	subscribe(t, h, userScope("b"), "")
	for _, tc := range []struct {
		user string
		want int
	}{{"a", 3}, {"b", 1}, {"c", 0}} {
		if got := h.Online(tc.user); got != tc.want {
			t.Errorf("Online(%s) = %d, want %d", tc.user, got, tc.want)
		}
	}
	n.Close()
	if got := h.Online("a"); got != 2 {
		t.Errorf("Online(a) after closing the notification stream = %d, want 2", got)
	}
}

func TestHubCloseEndsEverySubscription(t *testing.T) {
	h := hub.New(&memLog{})
	subs := []backend.Subscription{
		subscribe(t, h, userScope("a"), ""),
		subscribe(t, h, notifScope("a"), ""),
		subscribe(t, h, chatScope("a", "c"), ""),
		subscribe(t, h, userScope("b"), ""),
	}
	h.Publish(chatEvent(t, "01", "c", "a", "b"))

	// Readers parked in Next on every subscription.
	var wg sync.WaitGroup
	errs := make([]error, len(subs))
	for i, sub := range subs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			for errs[i] == nil {
				_, errs[i] = sub.Next(ctx, nil)
			}
		})
	}
	h.Close()
	wg.Wait()
	for i, sub := range subs {
		if !errors.Is(errs[i], backend.ErrClosed) {
			t.Errorf("subscription %d: Next ended with %v, want ErrClosed", i, errs[i])
		}
		if !isDone(sub.Done()) {
			t.Errorf("subscription %d: Done not closed by Hub.Close", i)
		}
	}
	if _, err := h.Subscribe(userScope("a"), ""); !errors.Is(err, backend.ErrClosed) {
		t.Fatalf("Subscribe after Close: %v, want ErrClosed", err)
	}
	if _, err := h.Subscribe(userScope("z"), "01"); !errors.Is(err, backend.ErrClosed) {
		t.Fatalf("resuming Subscribe after Close: %v, want ErrClosed", err)
	}
	h.Publish(chatEvent(t, "02", "c", "a", "b")) // harmless
	h.Close()                                    // twice is fine
	for _, sub := range subs {
		sub.Close()
	}
	if n := h.Online("a"); n != 0 {
		t.Fatalf("Online(a) after every stream closed = %d, want 0", n)
	}
}

// Concurrent publishers, readers, subscribers coming and going, and Online callers: a smoke
// test for the race detector that also checks the bookkeeping adds up afterwards.
func TestConcurrentPublishSubscribeClose(t *testing.T) {
	h := newHub(t, nil, hub.WithQueueSize(64))
	var ids seq
	durable := make([]*backend.Event, 3000)
	for i := range durable {
		durable[i] = personalEvent(t, ids.next(), "", "a", "b")
	}
	var publishers, churn sync.WaitGroup
	for p := range 3 {
		publishers.Go(func() {
			for i := p; i < len(durable); i += 3 {
				h.Publish(typing("c", "x", "a", "b"), durable[i])
				_ = h.Online("a")
			}
		})
	}
	for range 4 {
		churn.Go(func() {
			for range 200 {
				sub, err := h.Subscribe(userScope("a"), "")
				if err != nil {
					t.Error(err)
					return
				}
				c, stop := context.WithCancel(context.Background())
				stop()
				_, _ = sub.Next(c, nil)
				sub.Close()
			}
		})
	}
	// A steady reader; with three publishers racing, its ids may arrive in any order across
	// publishers, but each one at most once.
	reader := subscribe(t, h, notifScope("b"), "")
	readerErr := make(chan error, 1)
	seen := map[string]bool{}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		var buf []*backend.Event
		for {
			var err error
			if buf, err = reader.Next(ctx, buf); err != nil {
				readerErr <- err
				return
			}
			for _, ev := range buf {
				if seen[ev.ID] {
					readerErr <- errors.New("duplicate " + ev.ID)
					return
				}
				seen[ev.ID] = true
			}
		}
	}()
	allDone := make(chan struct{})
	go func() { publishers.Wait(); churn.Wait(); close(allDone) }()
	select {
	case <-allDone:
	case <-time.After(waitLimit):
		t.Fatal("publishers or subscribers deadlocked")
	}
	reader.Close()
	if err := <-readerErr; !errors.Is(err, backend.ErrClosed) && !errors.Is(err, backend.ErrOverflow) {
		t.Fatalf("reader: %v", err)
	}
	if n := h.Online("a"); n != 0 {
		t.Fatalf("Online(a) = %d after every subscription closed", n)
	}
	if st := h.Stats(); st.Subscribers != 0 || st.Published != 2*int64(len(durable)) {
		t.Fatalf("stats %+v: want 0 subscribers, %d published", st, 2*len(durable))
	}
}

// NextWithin returns ErrIdle after its bound with nothing queued, and events as soon as they
// come; its one timer is re-armed wait after wait.
func TestNextWithinIdlesAndDelivers(t *testing.T) {
	h := newHub(t, nil)
	sub := subscribe(t, h, userScope("a"), "")
	var ids seq
	for round := range 3 {
		start := time.Now()
		evs, err := sub.NextWithin(context.Background(), nil, 20*time.Millisecond)
		if !errors.Is(err, backend.ErrIdle) || len(evs) != 0 {
			t.Fatalf("round %d idle: %s, %v; want nothing and ErrIdle", round, describe(evs), err)
		}
		if d := time.Since(start); d < 20*time.Millisecond {
			t.Fatalf("round %d: ErrIdle after %v, before the bound", round, d)
		}
		ev := chatEvent(t, ids.next(), "c", "a")
		got := make(chan []*backend.Event, 1)
		go func() {
			evs, err := sub.NextWithin(context.Background(), nil, waitLimit)
			if err != nil {
				t.Errorf("round %d: NextWithin: %v", round, err)
			}
			got <- evs
		}()
		h.Publish(ev)
		if evs := <-got; len(evs) != 1 || evs[0] != ev {
			t.Fatalf("round %d: got %s, want the published event", round, describe(evs))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sub.NextWithin(ctx, nil, waitLimit); !errors.Is(err, context.Canceled) {
		t.Fatalf("NextWithin with a cancelled ctx: %v, want Canceled", err)
	}
}

// AfterEnd's callback runs when the broker ends the subscription (an overflow here), once; a
// stopped one never runs; one registered after the end runs at once.
func TestAfterEndRunsWhenTheBrokerEndsTheSubscription(t *testing.T) {
	h := newHub(t, nil, hub.WithQueueSize(1))
	var ids seq
	overflow := func(sub backend.Subscription) {
		h.Publish(chatEvent(t, ids.next(), "c", "a"), chatEvent(t, ids.next(), "c", "a"))
		if !isDone(sub.Done()) {
			t.Fatal("two durable events into a queue of one did not end the subscription")
		}
	}

	sub := subscribe(t, h, userScope("a"), "")
	ran := make(chan struct{}, 2)
	sub.AfterEnd(func() { ran <- struct{}{} })
	overflow(sub)
	select {
	case <-ran:
	case <-time.After(waitLimit):
		t.Fatal("AfterEnd's callback did not run after the overflow")
	}
	sub.Close()

	stopped := subscribe(t, h, userScope("b"), "")
	stop := stopped.AfterEnd(func() { t.Error("a stopped AfterEnd callback ran") })
	if !stop() {
		t.Fatal("stop before the end reported the callback as already started")
	}
	stopped.Close() // ends it: the stopped callback must stay silent

	late := subscribe(t, h, userScope("a"), "")
	overflow(late)
	late.AfterEnd(func() { ran <- struct{}{} })
	select {
	case <-ran:
	case <-time.After(waitLimit):
		t.Fatal("AfterEnd registered after the end did not run")
	}
}

// An idle subscriber holds no queue: the queue grows with what arrives, up to the bound.
func TestIdleSubscriptionsHoldNoQueue(t *testing.T) {
	h := newHub(t, nil)
	const n = 2000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	subs := make([]backend.Subscription, n)
	for i := range subs {
		subs[i] = subscribe(t, h, userScope(fmt.Sprintf("u%d", i)), "")
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	// A queue of DefaultQueueSize pointers made up front is 8 KiB, two of them 16 KiB.
	if per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n; per > 2048 {
		t.Fatalf("%d B of heap per idle subscription, want well under one preallocated queue", per)
	}
	for _, s := range subs {
		s.Close()
	}
}
