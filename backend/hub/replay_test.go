package hub_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
	"github.com/herald-chat/herald/backend/hub"
	"github.com/oklog/ulid/v2"
)

// world is a real bbolt store publishing into a hub: events really go log → commit → publish.
type world struct {
	store *bolt.Store
	hub   *hub.Hub
	users map[string]string // username → id
	n     int               // invites issued
}

func newWorld(t testing.TB, opts ...hub.Option) *world {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(store, opts...)
	store.SetPublisher(h)
	t.Cleanup(func() {
		h.Close()
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	})
	return &world{store: store, hub: h, users: map[string]string{}}
}

// user registers username (the first without an invite) and returns its id.
func (w *world) user(t testing.TB, username string) string {
	t.Helper()
	ctx := context.Background()
	code := ""
	if len(w.users) > 0 {
		w.n++
		code = fmt.Sprintf("invite-%d", w.n)
		inv := backend.Invite{Code: code, CreatedBy: "test", CreatedAt: time.Now().UnixMilli(),
			ExpiresAt: time.Now().Add(24 * time.Hour).UnixMilli()}
		if err := w.store.CreateInvite(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	u := &backend.User{Username: username, PasswordHash: "x"}
	if err := w.store.CreateUser(ctx, u, code); err != nil {
		t.Fatalf("CreateUser %s: %v", username, err)
	}
	w.users[username] = u.ID
	return u.ID
}

func (w *world) chat(t testing.TB, name, creator string, members ...string) *backend.Chat {
	t.Helper()
	c := &backend.Chat{Name: name, CreatedBy: creator, MemberIDs: members}
	if err := w.store.CreateChat(context.Background(), c); err != nil {
		t.Fatalf("CreateChat %s: %v", name, err)
	}
	return c
}

func (w *world) post(t testing.TB, chatID, author, content string) *backend.Message {
	t.Helper()
	m, created, err := w.store.PostMessage(context.Background(), &backend.Message{ChatID: chatID, AuthorID: author, Content: content})
	if err != nil || !created {
		t.Fatalf("PostMessage: created %v, %v", created, err)
	}
	return m
}

// logAfter is everything the log holds after afterID that scope covers, in log order.
func (w *world) logAfter(t testing.TB, scope backend.Scope, afterID string) []string {
	t.Helper()
	evs, err := w.store.EventsAfter(context.Background(), afterID, 1<<20)
	if err != nil {
		t.Fatalf("EventsAfter(%s): %v", afterID, err)
	}
	var out []string
	for _, ev := range evs {
		if scope.Matches(ev) {
			out = append(out, ev.ID)
		}
	}
	return out
}

// collect reads sub until it has seen the durable event stop, returning every durable id in
// the order received. It fails on errors, ids that do not increase, and RESYNC.
func collect(t testing.TB, sub backend.Subscription, stop string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	var got []string
	var buf []*backend.Event
	for {
		var err error
		buf, err = callNext(t, sub, ctx, buf)
		if err != nil {
			t.Fatalf("Next after %d events (last %v): %v", len(got), got[max(0, len(got)-1):], err)
		}
		for _, ev := range buf {
			if ev.Type == backend.EventResync {
				t.Fatalf("unexpected RESYNC after %d events", len(got))
			}
			if ev.ID == "" {
				continue
			}
			if n := len(got); n > 0 && ev.ID <= got[n-1] {
				t.Fatalf("id %s after %s: not strictly increasing (duplicate or reordered)", ev.ID, got[n-1])
			}
			got = append(got, ev.ID)
			if ev.ID == stop {
				return got
			}
		}
	}
}

func diffIDs(got, want []string) string {
	var b strings.Builder
	gs, ws := map[string]bool{}, map[string]bool{}
	for _, id := range got {
		gs[id] = true
	}
	for _, id := range want {
		ws[id] = true
		if !gs[id] {
			fmt.Fprintf(&b, " missing %s;", id)
		}
	}
	for _, id := range got {
		if !ws[id] {
			fmt.Fprintf(&b, " unexpected %s;", id)
		}
	}
	return fmt.Sprintf("got %d ids, want %d:%s", len(got), len(want), b.String())
}

// ---- replay → live ----

// A resuming subscriber, while others keep posting, gets exactly the ids after its resume point:
// strictly increasing, none twice, none missing. Replay spans several small pages, and live
// events pile up (and are deduplicated) while it runs.
func TestReplayToLiveNoGapNoDuplicate(t *testing.T) {
	const (
		iterations = 20
		before     = 12 // N: messages logged before the subscriber resumes
		k          = 4  // resume after the k-th of them
		during     = 24 // M: messages posted concurrently with the resume
		posters    = 3
	)
	for it := range iterations {
		ok := t.Run(fmt.Sprint(it), func(t *testing.T) {
			w := newWorld(t, hub.WithReplayPage(3))
			a := w.user(t, "alice")
			b := w.user(t, "bob")
			c := w.user(t, "carol")
			ab := w.chat(t, "ab", a, b)
			bc := w.chat(t, "bc", b, c) // alice is not in it
			var msgs []*backend.Message
			for i := range before {
				msgs = append(msgs, w.post(t, ab.ID, a, fmt.Sprint("m", i)))
				w.post(t, bc.ID, b, fmt.Sprint("other", i))
			}
			resume := msgs[k-1].ID

			// Posters start first; the subscriptions open while they run.
			start := make(chan struct{})
			var wg sync.WaitGroup
			for p := range posters {
				wg.Go(func() {
					<-start
					for i := range during / posters {
						chat, author := ab.ID, b
						if i%2 == 1 {
							chat, author = bc.ID, c
						}
						if _, _, err := w.store.PostMessage(context.Background(),
							&backend.Message{ChatID: chat, AuthorID: author, Content: fmt.Sprint("live", p, i)}); err != nil {
							t.Error(err)
						}
					}
				})
			}
			close(start)
			scopes := []backend.Scope{userScope(a), chatScope(a, ab.ID), userScope(b), chatScope(c, bc.ID)}
			subs := make([]backend.Subscription, len(scopes))
			for i, sc := range scopes {
				subs[i] = subscribe(t, w.hub, sc, resume)
			}
			wg.Wait()
			// A last message that every scope above sees tells the readers where to stop; it
			// also proves that no stray event (e.g. a late duplicate) comes before it.
			stopAB := w.post(t, ab.ID, a, "stop ab")
			stopBC := w.post(t, bc.ID, b, "stop bc")
			stops := []string{stopAB.ID, stopAB.ID, stopBC.ID, stopBC.ID}

			for i, sub := range subs {
				want := w.logAfter(t, scopes[i], resume)
				want = want[:slices.Index(want, stops[i])+1]
				got := collect(t, sub, stops[i])
				if !slices.Equal(got, want) {
					t.Fatalf("scope %+v: %s", scopes[i], diffIDs(got, want))
				}
			}
			// The premise: alice's part of the log after the resume point starts with messages
			// k+1..N of ab (bc's are not hers), so the replay above really spanned pages.
			got := w.logAfter(t, userScope(a), resume)
			for i := k; i < before; i++ {
				if got[i-k] != msgs[i].ID {
					t.Fatalf("alice's replay position %d is %s, want message %d (%s)", i-k, got[i-k], i, msgs[i].ID)
				}
			}
		})
		if !ok {
			break // one failure says enough; don't wait out the others
		}
	}
}

// With a tiny queue the resuming subscriber overflows while it replays under load; resuming
// again from the last id it received must still lose nothing and repeat nothing.
func TestReplayOverflowThenResumeLosesNothing(t *testing.T) {
	const (
		queue   = 4
		posters = 4
		each    = 15
	)
	w := newWorld(t, hub.WithReplayPage(3), hub.WithQueueSize(queue))
	a := w.user(t, "alice")
	b := w.user(t, "bob")
	chat := w.chat(t, "ab", a, b)
	first := w.post(t, chat.ID, a, "first")
	for i := range 20 {
		w.post(t, chat.ID, a, fmt.Sprint("m", i))
	}

	// The first connection registers, then sits idle until more live durable events than its
	// queue holds are published: it must overflow at least once.
	sub := subscribe(t, w.hub, userScope(a), first.ID)
	var posted sync.WaitGroup
	posted.Add(queue + 1)
	var wg sync.WaitGroup
	for p := range posters {
		wg.Go(func() {
			for i := range each {
				if _, _, err := w.store.PostMessage(context.Background(),
					&backend.Message{ChatID: chat.ID, AuthorID: b, Content: fmt.Sprint("live", p, i)}); err != nil {
					t.Error(err)
				}
				if p == 0 && i <= queue {
					posted.Done()
				}
			}
		})
	}
	posted.Wait()
	stopped := make(chan string, 1)
	go func() {
		wg.Wait()
		m, _, err := w.store.PostMessage(context.Background(), &backend.Message{ChatID: chat.ID, AuthorID: a, Content: "stop"})
		if err != nil {
			t.Error(err)
			stopped <- ""
			return
		}
		stopped <- m.ID
	}()

	var got []string
	last := first.ID
	overflows := 0
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	for {
		if overflows > 1000 {
			t.Fatal("no progress after 1000 reconnects")
		}
		var err error
		var buf []*backend.Event
		stop := false
		for err == nil && !stop {
			buf, err = callNext(t, sub, ctx, buf)
			for _, ev := range buf {
				if ev.Type == backend.EventResync {
					t.Fatal("unexpected RESYNC")
				}
				if ev.ID == "" {
					continue
				}
				if ev.ID <= last {
					t.Fatalf("id %s after %s: duplicate or reordered", ev.ID, last)
				}
				got = append(got, ev.ID)
				last = ev.ID
				// A replayed event carries its payload only in its JSON (the log decodes id and
				// type alone), a live one also decoded: read the JSON either way.
				full, err := backend.DecodeEvent(ev.Data())
				if err != nil {
					t.Fatal(err)
				}
				stop = full.Message != nil && full.Message.Content == "stop"
			}
		}
		sub.Close()
		if stop {
			break
		}
		if !errors.Is(err, backend.ErrOverflow) {
			t.Fatalf("Next: %v, want only ErrOverflow (received %d after %d overflows, stats %+v)",
				err, len(got), overflows, w.hub.Stats())
		}
		overflows++
		sub = subscribe(t, w.hub, userScope(a), last) // the client resumes from its last id
	}
	stopID := <-stopped
	if last != stopID {
		t.Fatalf("stopped at %s, want the stop message %s", last, stopID)
	}
	want := w.logAfter(t, userScope(a), first.ID)
	if !slices.Equal(got, want) {
		t.Fatalf("after %d overflows: %s", overflows, diffIDs(got, want))
	}
	if overflows == 0 || w.hub.Stats().Overflows < 1 {
		t.Fatalf("the idle first connection did not overflow (stats %+v)", w.hub.Stats())
	}
	t.Logf("%d events across %d overflow reconnects", len(got), overflows)
}

// Resuming from the newest id replays nothing and goes live at once.
func TestReplayFromHeadGoesLive(t *testing.T) {
	w := newWorld(t, hub.WithReplayPage(2))
	a := w.user(t, "alice")
	chat := w.chat(t, "solo", a)
	m := w.post(t, chat.ID, a, "hello")
	sub := subscribe(t, w.hub, userScope(a), m.ID)
	expectNone(t, sub, "resumed from the head")
	live := w.post(t, chat.ID, a, "live")
	if got := collect(t, sub, live.ID); !slices.Equal(got, []string{live.ID}) {
		t.Fatalf("got %v, want only %s", got, live.ID)
	}
}

// A replay page whose size matches the remaining log exactly must still turn live.
func TestReplayPageBoundaries(t *testing.T) {
	for _, page := range []int{1, 2, 3, 4, 5, 100} {
		t.Run(fmt.Sprint("page", page), func(t *testing.T) {
			w := newWorld(t, hub.WithReplayPage(page))
			a := w.user(t, "alice")
			chat := w.chat(t, "solo", a)
			first := w.post(t, chat.ID, a, "first")
			var want []string
			for i := range 4 {
				want = append(want, w.post(t, chat.ID, a, fmt.Sprint(i)).ID)
			}
			sub := subscribe(t, w.hub, userScope(a), first.ID)
			live := w.post(t, chat.ID, a, "live") // queued while nothing has replayed yet
			want = append(want, live.ID)
			if got := collect(t, sub, live.ID); !slices.Equal(got, want) {
				t.Fatalf("%s", diffIDs(got, want))
			}
			after := w.post(t, chat.ID, a, "after")
			if got := collect(t, sub, after.ID); !slices.Equal(got, []string{after.ID}) {
				t.Fatalf("after going live: got %v", got)
			}
		})
	}
}

// ---- scope filtering during replay ----

func TestReplayFiltersByScope(t *testing.T) {
	w := newWorld(t, hub.WithReplayPage(2))
	a := w.user(t, "alice")
	b := w.user(t, "bob")
	c := w.user(t, "carol")
	head, err := w.store.LastEventID(context.Background())
	if err != nil || head != "" {
		t.Fatalf("users must not log events: head %q, %v", head, err)
	}
	// A first chat's CHAT_UPDATED is the resume point, then a mix of chats.
	w.chat(t, "start", a, b, c)
	startID, err := w.store.LastEventID(context.Background())
	if err != nil || startID == "" {
		t.Fatalf("head %q, %v", startID, err)
	}
	ab := w.chat(t, "ab", a, b)
	bc := w.chat(t, "bc", b, c)
	ac := w.chat(t, "ac", a, c)
	var inAB, inBC, inAC []string
	for i := range 5 {
		inAB = append(inAB, w.post(t, ab.ID, a, fmt.Sprint("ab", i)).ID)
		inBC = append(inBC, w.post(t, bc.ID, b, fmt.Sprint("bc", i)).ID)
		inAC = append(inAC, w.post(t, ac.ID, c, fmt.Sprint("ac", i)).ID)
	}

	// alice's user stream: the CHAT_UPDATED of ab and ac, and their messages, never bc.
	aliceUser := subscribe(t, w.hub, userScope(a), startID)
	aliceChatAB := subscribe(t, w.hub, chatScope(a, ab.ID), startID)
	bobChatBC := subscribe(t, w.hub, chatScope(b, bc.ID), startID)
	carolNotif := subscribe(t, w.hub, notifScope(c), startID)

	// Live events after the replay, so each stream has a known last event.
	liveAB := w.post(t, ab.ID, b, "live ab")
	liveBC := w.post(t, bc.ID, c, "live bc")

	gotAlice := collect(t, aliceUser, liveAB.ID)
	if want := w.logAfter(t, userScope(a), startID); !slices.Equal(gotAlice, want[:slices.Index(want, liveAB.ID)+1]) {
		t.Fatalf("alice's user stream: %s", diffIDs(gotAlice, want))
	}
	for _, id := range inBC {
		if slices.Contains(gotAlice, id) {
			t.Fatalf("alice's user stream replayed %s of chat bc she is not in", id)
		}
	}
	for _, id := range append(slices.Clone(inAB), inAC...) {
		if !slices.Contains(gotAlice, id) {
			t.Fatalf("alice's user stream is missing %s", id)
		}
	}
	// 2 CHAT_UPDATED, the messages of ab and ac, a NOTIFICATION for each of carol's in ac, and
	// the live one.
	if want := 2 + len(inAB) + 2*len(inAC) + 1; len(gotAlice) != want {
		t.Fatalf("alice's user stream: %d events, want %d", len(gotAlice), want)
	}

	gotAB := collect(t, aliceChatAB, liveAB.ID)
	if want := append(append([]string{}, inAB...), liveAB.ID); !slices.Equal(gotAB[1:], want) {
		t.Fatalf("alice's ab stream: %s", diffIDs(gotAB, want))
	}
	if len(gotAB) != len(inAB)+2 { // + ab's CHAT_UPDATED
		t.Fatalf("alice's ab stream has %d events, want %d", len(gotAB), len(inAB)+2)
	}

	gotBC := collect(t, bobChatBC, liveBC.ID)
	if want := append(append([]string{}, inBC...), liveBC.ID); !slices.Equal(gotBC[1:], want) {
		t.Fatalf("bob's bc stream: %s", diffIDs(gotBC, want))
	}

	// carol's personal events: a NOTIFICATION for each of bob's messages in bc, nothing else.
	wantCarol := w.logAfter(t, notifScope(c), startID)
	if len(wantCarol) != len(inBC) {
		t.Fatalf("carol's notifications in the log: %d, want %d", len(wantCarol), len(inBC))
	}
	if got := collect(t, carolNotif, wantCarol[len(wantCarol)-1]); !slices.Equal(got, wantCarol) {
		t.Fatalf("carol's notification stream: %s", diffIDs(got, wantCarol))
	}
}

// Personal events replay to notification and user streams, never to chat streams, even when
// they name the chat. The store logs none yet, so this uses a log of hand-built events.
func TestReplayPersonalEventsByScope(t *testing.T) {
	var ids seq
	e0 := chatEvent(t, ids.next(), "c1", "a", "b")
	m1 := chatEvent(t, ids.next(), "c1", "a", "b")
	p1 := personalEvent(t, ids.next(), "c1", "a") // e.g. a mention of a in c1
	m2 := chatEvent(t, ids.next(), "c2", "b")
	p2 := personalEvent(t, ids.next(), "", "b")
	p3 := personalEvent(t, ids.next(), "", "a", "b")

	for _, tc := range []struct {
		scope backend.Scope
		want  []*backend.Event
	}{
		{userScope("a"), []*backend.Event{m1, p1, p3}},
		{notifScope("a"), []*backend.Event{p1, p3}},
		{chatScope("a", "c1"), []*backend.Event{m1}},
		{userScope("b"), []*backend.Event{m1, m2, p2, p3}},
		{notifScope("b"), []*backend.Event{p2, p3}},
		{chatScope("b", "c2"), []*backend.Event{m2}},
		{chatScope("b", "c3"), nil},
	} {
		log := &memLog{}
		log.add(e0, m1, p1, m2, p2, p3)
		h := newHub(t, log, hub.WithReplayPage(2))
		sub := subscribe(t, h, tc.scope, e0.ID)
		live := personalEvent(t, ids.next(), "", tc.scope.UserID)
		liveChat := chatEvent(t, ids.next(), tc.scope.ChatID, tc.scope.UserID)
		log.add(live, liveChat)
		h.Publish(live, liveChat)
		want := slices.Clone(tc.want)
		for _, ev := range []*backend.Event{live, liveChat} {
			if tc.scope.Matches(ev) {
				want = append(want, ev)
			}
		}
		var got []*backend.Event
		for {
			evs := pending(t, sub)
			if len(evs) == 0 {
				break
			}
			got = append(got, evs...)
		}
		if !slices.EqualFunc(got, want, func(x, y *backend.Event) bool { return x.ID == y.ID }) {
			t.Errorf("scope %+v: got %s, want %s", tc.scope, describe(got), describe(want))
		}
	}
}

// ---- RESYNC ----

func TestResyncWhenResumeIDUnknown(t *testing.T) {
	neverIssuedOld := ulid.MustNew(1, strings.NewReader(strings.Repeat("\x01", 16))).String()
	neverIssuedNew := ulid.MustNew(ulid.MaxTime(), strings.NewReader(strings.Repeat("\x02", 16))).String()
	for _, tc := range []struct{ name, resume string }{
		{"older than the log", neverIssuedOld},
		{"newer than the log", neverIssuedNew},
		{"malformed", "not-a-ulid"},
		{"lower case ulid", strings.ToLower(neverIssuedOld)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, hub.WithReplayPage(2))
			a := w.user(t, "alice")
			chat := w.chat(t, "solo", a)
			for i := range 3 {
				w.post(t, chat.ID, a, fmt.Sprint(i))
			}
			sub := subscribe(t, w.hub, userScope(a), tc.resume)
			// Published after the subscription registered but before the resume is served: it is
			// at or below the head that RESYNC reports, so it must not arrive as well.
			racing := w.post(t, chat.ID, a, "racing")
			head, err := w.store.LastEventID(context.Background())
			if err != nil || head != racing.ID {
				t.Fatalf("head %q, %v; want %s", head, err, racing.ID)
			}

			evs := nextWait(t, sub)
			if evs[0].Type != backend.EventResync {
				t.Fatalf("first event %s, want RESYNC", describe(evs))
			}
			if evs[0].ID != head {
				t.Fatalf("RESYNC id %q, want the log's head %q", evs[0].ID, head)
			}
			if !strings.HasPrefix(string(evs[0].Data()), `{"id":"`+head+`",`) {
				t.Fatalf("RESYNC %s lacks the head's id", evs[0].Data())
			}
			if evs[0].Timestamp == 0 {
				t.Fatal("RESYNC without timestamp")
			}
			for _, ev := range evs[1:] {
				t.Fatalf("event %s after RESYNC at or below its head", describe([]*backend.Event{ev}))
			}
			live := w.post(t, chat.ID, a, "live")
			if got := collect(t, sub, live.ID); !slices.Equal(got, []string{live.ID}) {
				t.Fatalf("after RESYNC: got %v, want only %s", got, live.ID)
			}
		})
	}
}

func TestResyncOnEmptyLogHasNoID(t *testing.T) {
	now := time.UnixMilli(1_764_201_600_000)
	w := newWorld(t, hub.WithClock(func() time.Time { return now }))
	sub := subscribe(t, w.hub, userScope("nobody-yet"), ulid.Make().String())
	evs := nextWait(t, sub)
	if len(evs) != 1 || evs[0].Type != backend.EventResync {
		t.Fatalf("got %s, want one RESYNC", describe(evs))
	}
	if evs[0].ID != "" || strings.Contains(string(evs[0].Data()), `"id"`) {
		t.Fatalf("RESYNC on an empty log carries an id: %q %s", evs[0].ID, evs[0].Data())
	}
	if evs[0].Timestamp != now.UnixMilli() {
		t.Fatalf("RESYNC timestamp %d, want the hub clock's %d", evs[0].Timestamp, now.UnixMilli())
	}

	// Live events still arrive afterwards.
	a := w.user(t, "alice")
	sub2 := subscribe(t, w.hub, userScope(a), "bogus")
	if evs := nextWait(t, sub2); evs[0].Type != backend.EventResync || evs[0].ID != "" {
		t.Fatalf("got %s, want RESYNC without id", describe(evs))
	}
	chat := w.chat(t, "solo", a)
	m := w.post(t, chat.ID, a, "hi")
	// chat's CHAT_UPDATED, then the message.
	if got := collect(t, sub2, m.ID); len(got) != 2 || got[1] != m.ID {
		t.Fatalf("after RESYNC: got %v, want CHAT_UPDATED and %s", got, m.ID)
	}
}

// A Next that ends on its deadline (the stream handler's keepalive timer) in the middle of
// serving an unknown resume id must not lose the RESYNC: the client would otherwise go live
// silently with a hole. The log here honours the deadline in LastEventID, as the EventLog
// interface allows.
func TestResyncSurvivesLogErrorWhileResolvingHead(t *testing.T) {
	log := &memLog{}
	var ids seq
	old := chatEvent(t, ids.next(), "c", "a")
	log.add(old)
	h := newHub(t, log)
	sub := subscribe(t, h, userScope("a"), "unknown")

	log.failLastEventID = []error{context.DeadlineExceeded}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	evs, err := sub.Next(ctx, nil)
	if err == nil {
		t.Fatalf("Next: %s, want the log's error", describe(evs))
	}
	// The handler treats DeadlineExceeded as a keepalive and calls Next again; meanwhile
	// something was posted.
	live := chatEvent(t, ids.next(), "c", "a")
	log.add(live)
	h.Publish(live)

	evs = nextWait(t, sub)
	if evs[0].Type != backend.EventResync {
		t.Fatalf("after a failed LastEventID, the next Next returned %s: a silent resume without RESYNC", describe(evs))
	}
}

// The same for EventsAfter: a replay page that fails is retried, not skipped.
func TestReplaySurvivesLogErrorMidReplay(t *testing.T) {
	log := &memLog{}
	var ids seq
	var all []*backend.Event
	for range 6 {
		all = append(all, chatEvent(t, ids.next(), "c", "a"))
	}
	log.add(all...)
	h := newHub(t, log, hub.WithReplayPage(2))
	sub := subscribe(t, h, userScope("a"), all[0].ID)

	first := nextWait(t, sub)
	if !slices.Equal(first, all[1:3]) {
		t.Fatalf("first page %s, want %s", describe(first), describe(all[1:3]))
	}
	log.mu.Lock()
	log.failEventsAfter = []error{context.DeadlineExceeded}
	log.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if evs, err := callNext(t, sub, ctx, nil); !errors.Is(err, context.DeadlineExceeded) || len(evs) != 0 {
		t.Fatalf("Next: %s, %v; want the log's DeadlineExceeded", describe(evs), err)
	}
	live := chatEvent(t, ids.next(), "c", "a")
	log.add(live)
	h.Publish(live)
	var got []*backend.Event
	for len(got) == 0 || got[len(got)-1] != live {
		got = append(got, nextWait(t, sub)...)
	}
	want := append(slices.Clone(all[3:]), live)
	if !slices.EqualFunc(got, want, func(x, y *backend.Event) bool { return x.ID == y.ID }) {
		t.Fatalf("after the failed page: got %s, want %s", describe(got), describe(want))
	}
}
