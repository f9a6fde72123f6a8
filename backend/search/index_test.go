package search_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/search"
)

const (
	chatA = "01JCHATA000000000000000000"
	chatB = "01JCHATB000000000000000000"
	chatC = "01JCHATC000000000000000000"
	userA = "01JUSERA000000000000000000"
	userB = "01JUSERB000000000000000000"
)

func TestSearchTerms(t *testing.T) {
	l := newMemLog()
	m1 := l.post(chatA, userA, "Deploying the release on Friday", 0)
	m2 := l.post(chatA, userB, "the release notes are drafted", 0)
	m3 := l.post(chatA, userA, "notes on the release, and a deployment checklist", 0)
	m4 := l.post(chatA, userB, "Send an e-mail to Zoë about 東京", 0)
	reply := l.post(chatA, userB, "replying in the thread: release notes again", 0)
	l.update(reply.ID, func(m *backend.Message) { m.ParentID = m1.ID })
	ix := openIndex(t, t.TempDir(), l, l)
	caughtUp(t, ix, l.last(t))

	for _, tc := range []struct {
		q    string
		want []*backend.Message // newest first
	}{
		{"release", []*backend.Message{reply, m3, m2, m1}},
		{"RELEASE notes", []*backend.Message{reply, m3, m2}},
		{`"release notes"`, []*backend.Message{reply, m2}},
		{`"notes release"`, nil},
		{"deploy*", []*backend.Message{m3, m1}},
		{"deploy", nil}, // no stemming: a word is a word
		{"release deploy*", []*backend.Message{m3, m1}},
		{"friday", []*backend.Message{m1}},
		{"zoë", []*backend.Message{m4}},
		{"ZOË", []*backend.Message{m4}},
		{"e-mail", []*backend.Message{m4}},
		{"mail", []*backend.Message{m4}},
		{"東京", []*backend.Message{m4}},
		{"the", []*backend.Message{reply, m3, m2, m1}}, // no stop words
		{`"on the release"`, []*backend.Message{m3}},
		{"release zzzz", nil},
	} {
		var want []string
		for _, m := range tc.want {
			want = append(want, m.ID)
		}
		got := find(t, ix, backend.SearchQuery{Terms: terms(t, tc.q), ChatIDs: []string{chatA}})
		if !slices.Equal(got, want) {
			t.Errorf("%s: found %v, want %v", tc.q, got, want)
		}
	}
}

func TestSearchOnlyGivenChats(t *testing.T) {
	l := newMemLog()
	a := l.post(chatA, userA, "budget meeting", 0)
	b := l.post(chatB, userA, "budget review", 0)
	c := l.post(chatC, userB, "budget secret", 0)
	ix := openIndex(t, t.TempDir(), l, l)
	caughtUp(t, ix, l.last(t))
	q := backend.SearchQuery{Terms: terms(t, "budget")}
	for _, tc := range []struct {
		chats []string
		want  []string
	}{
		{nil, nil},
		{[]string{}, nil},
		{[]string{chatA}, []string{a.ID}},
		{[]string{chatA, chatB}, []string{b.ID, a.ID}},
		{[]string{chatC, chatA, chatB}, []string{c.ID, b.ID, a.ID}},
		{[]string{"01JNOSUCHCHAT0000000000000"}, nil},
	} {
		q.ChatIDs = tc.chats
		if got := find(t, ix, q); !slices.Equal(got, tc.want) {
			t.Errorf("chats %v: found %v, want %v", tc.chats, got, tc.want)
		}
	}
}

func TestSearchFromBeforeAfter(t *testing.T) {
	l := newMemLog()
	day := func(d int) int64 { return time.Date(2030, 3, d, 12, 0, 0, 0, time.UTC).UnixMilli() }
	m1 := l.post(chatA, userA, "standup notes", day(1))
	m2 := l.post(chatA, userB, "standup notes", day(2))
	m3 := l.post(chatA, userA, "standup notes", day(3))
	m4 := l.post(chatA, userB, "standup notes", day(4))
	ix := openIndex(t, t.TempDir(), l, l)
	caughtUp(t, ix, l.last(t))
	q := func(from string, before, after int64) []string {
		return find(t, ix, backend.SearchQuery{Terms: terms(t, "standup"), ChatIDs: []string{chatA}, From: from, Before: before, After: after})
	}
	ids := func(ms ...*backend.Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	for name, tc := range map[string]struct{ got, want []string }{
		"all":                {q("", 0, 0), ids(m4, m3, m2, m1)},
		"from a":             {q(userA, 0, 0), ids(m3, m1)},
		"from b":             {q(userB, 0, 0), ids(m4, m2)},
		"from nobody":        {q("01JNOBODY00000000000000000", 0, 0), nil},
		"before day 3":       {q("", day(3), 0), ids(m2, m1)},
		"before is strict":   {q("", day(3)+1, 0), ids(m3, m2, m1)},
		"after day 2":        {q("", 0, day(2)), ids(m4, m3)},
		"after is strict":    {q("", 0, day(2)-1), ids(m4, m3, m2)},
		"between":            {q("", day(4), day(1)), ids(m3, m2)},
		"between, from a":    {q(userA, day(4), day(1)), ids(m3)},
		"empty range":        {q("", day(2), day(2)), nil},
		"after the last one": {q("", 0, day(4)), nil},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: found %v, want %v", name, tc.got, tc.want)
		}
	}
}

func TestSearchPaging(t *testing.T) {
	l := newMemLog()
	var want []string
	chatOf := map[string]string{}
	for i := range 57 {
		// Runs of messages share a millisecond: the id orders them.
		m := l.post([]string{chatA, chatB}[i%2], userA, fmt.Sprintf("paging word %d", i), int64(1_900_000_000_000+i/5))
		want = append(want, m.ID)
		chatOf[m.ID] = m.ChatID
	}
	slices.Reverse(want)
	ix := openIndex(t, t.TempDir(), l, l)
	caughtUp(t, ix, l.last(t))
	for _, limit := range []int{1, 7, 10, 20, 50} {
		q := backend.SearchQuery{Terms: terms(t, "paging"), ChatIDs: []string{chatA, chatB}, Limit: limit}
		var got []string
		pages := 0
		for {
			hits, next, err := ix.Search(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(hits) > limit || next != "" && len(hits) != limit {
				t.Fatalf("limit %d: a page of %d, next %q", limit, len(hits), next)
			}
			for _, h := range hits {
				got = append(got, h.MessageID)
				if h.ChatID != chatOf[h.MessageID] {
					t.Fatalf("hit %+v: the message is in chat %s", h, chatOf[h.MessageID])
				}
			}
			if next == "" {
				break
			}
			q.Cursor = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: %d hits in %d pages, want all %d once, newest first:\n got %v\nwant %v", limit, len(got), pages, len(want), got, want)
		}
		if wantPages := (len(want) + limit - 1) / limit; pages != wantPages {
			t.Errorf("limit %d: %d pages, want %d", limit, pages, wantPages)
		}
	}
	// The default page is DefaultSearchLimit.
	hits, next, err := ix.Search(context.Background(), backend.SearchQuery{Terms: terms(t, "paging"), ChatIDs: []string{chatA, chatB}})
	if err != nil || len(hits) != backend.DefaultSearchLimit || next == "" {
		t.Errorf("default limit: %d hits, next %q, %v", len(hits), next, err)
	}
	for _, tc := range []backend.SearchQuery{
		{Terms: terms(t, "paging"), ChatIDs: []string{chatA}, Limit: backend.MaxSearchLimit + 1},
		{Terms: terms(t, "paging"), ChatIDs: []string{chatA}, Limit: -1},
		{Terms: terms(t, "paging"), ChatIDs: []string{chatA}, Cursor: "not a cursor!"},
		{Terms: terms(t, "paging"), ChatIDs: []string{chatA}, Cursor: "WyJhIl0"}, // ["a"]
		{Terms: terms(t, "paging"), ChatIDs: []string{chatA}, Cursor: strings.Repeat("A", 300)},
		{Terms: nil, ChatIDs: []string{chatA}},
	} {
		if _, _, err := ix.Search(context.Background(), tc); backend.ErrorCode(err) != backend.EINVALID {
			t.Errorf("Search(%+v) = %v, want EINVALID", tc, err)
		}
	}
}

func TestWaitFor(t *testing.T) {
	l := newMemLog()
	first := l.post(chatA, userA, "first", 0)
	ix := openIndex(t, t.TempDir(), l, l)
	caughtUp(t, ix, first.ID)
	caughtUp(t, ix, "") // an empty id: the index is built

	// Events that are not about messages move the cursor too.
	id := l.other(chatA)
	caughtUp(t, ix, id)
	if ix.Cursor() != id {
		t.Errorf("cursor %s, want %s", ix.Cursor(), id)
	}

	// An id the log has not issued yet: WaitFor waits for it, and returns once it is applied —
	// woken by Notify from the publisher, not by polling.
	next := make(chan error, 1)
	future := "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := ix.WaitFor(ctx, future); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFor a future id = %v, want the context's deadline", err)
	}
	m := l.post(chatA, userA, "second", 0)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		next <- ix.WaitFor(ctx, m.ID)
	}()
	ix.Publish(&backend.Event{ID: m.ID, Type: backend.EventNewMessage})
	if err := <-next; err != nil {
		t.Fatalf("WaitFor(%s) = %v", m.ID, err)
	}
	if got := find(t, ix, backend.SearchQuery{Terms: terms(t, "second"), ChatIDs: []string{chatA}}); !slices.Equal(got, []string{m.ID}) {
		t.Errorf("after WaitFor: %v", got)
	}

	// Closing ends a wait.
	waiting := make(chan error, 1)
	go func() { waiting <- ix.WaitFor(context.Background(), future) }()
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-waiting; !errors.Is(err, backend.ErrClosed) {
		t.Errorf("WaitFor across Close = %v, want ErrClosed", err)
	}
	if err := ix.WaitFor(context.Background(), m.ID); err != nil && !errors.Is(err, backend.ErrClosed) {
		t.Errorf("WaitFor after Close = %v", err)
	}
}

// TestEmptyLog: a server's first start, with no events yet, builds an empty index that waits
// for the first message.
func TestEmptyLog(t *testing.T) {
	l := newMemLog()
	ix := openIndex(t, t.TempDir(), l, l)
	caughtUp(t, ix, "")
	hits, next, err := ix.Search(context.Background(), backend.SearchQuery{Terms: terms(t, "anything"), ChatIDs: []string{chatA}})
	if err != nil || len(hits) != 0 || next != "" {
		t.Fatalf("empty index: %v %q %v", hits, next, err)
	}
	m := l.post(chatA, userA, "hello world", 0)
	ix.Notify()
	caughtUp(t, ix, m.ID)
	if got := find(t, ix, backend.SearchQuery{Terms: terms(t, "hello"), ChatIDs: []string{chatA}}); !slices.Equal(got, []string{m.ID}) {
		t.Errorf("first message: %v", got)
	}
	m2 := l.post(chatA, userA, "hello again", 0)
	caughtUp(t, ix, m2.ID)
	if got := find(t, ix, backend.SearchQuery{Terms: terms(t, "hello"), ChatIDs: []string{chatA}}); !slices.Equal(got, []string{m2.ID, m.ID}) {
		t.Errorf("second message: %v", got)
	}
}

// failingLog fails every read, and records when.
type failingLog struct {
	*memLog
	calls chan time.Time
}

func (f *failingLog) EventsAfter(ctx context.Context, afterID string, limit int) ([]*backend.Event, error) {
	select {
	case f.calls <- time.Now():
	default:
	}
	return nil, errors.New("disk on fire")
}

// TestFeederBacksOff: a log that keeps failing is retried after a wait that doubles, not in a
// loop, and each failure is logged.
func TestFeederBacksOff(t *testing.T) {
	l := newMemLog()
	l.post(chatA, userA, "one", 0)
	f := &failingLog{memLog: l, calls: make(chan time.Time, 100)}
	rec := &logRecorder{}
	ix, err := search.Open(t.TempDir(), f, l, search.WithLogger(slog.New(rec)), search.WithBackoff(10*time.Millisecond, 40*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var at []time.Time
	for len(at) < 6 {
		select {
		case c := <-f.calls:
			at = append(at, c)
		case <-time.After(waitTimeout):
			t.Fatalf("only %d reads", len(at))
		}
	}
	// Waits of 10, 20, 40, 40, 40 ms at least between the six reads.
	if d := at[5].Sub(at[0]); d < 150*time.Millisecond {
		t.Errorf("six failing reads within %s: the feeder does not back off", d)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if n := rec.count("search index: feeding failed"); n < 5 {
		t.Errorf("%d failures logged, want each of them", n)
	}
}

// TestRebuildWhenUnusable: an index that cannot be opened, or is of another mapping version, is
// rebuilt from the messages, and the broken one removed.
func TestRebuildWhenUnusable(t *testing.T) {
	for name, damage := range map[string]func(t *testing.T, index string){
		"index meta garbled": func(t *testing.T, index string) {
			if err := os.WriteFile(filepath.Join(index, "index_meta.json"), []byte("{garbage"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"root file garbled": func(t *testing.T, index string) {
			if err := os.WriteFile(filepath.Join(index, "store", "root.bolt"), []byte("not a bolt file at all"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"index directory gone": func(t *testing.T, index string) {
			if err := os.RemoveAll(index); err != nil {
				t.Fatal(err)
			}
		},
		"older mapping version": func(t *testing.T, index string) {
			if err := search.SetMappingVersion(index, "0"); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			l := newMemLog()
			dir := t.TempDir()
			m := l.post(chatA, userA, "survivor message", 0)
			ix := openIndex(t, dir, l, l)
			caughtUp(t, ix, l.last(t))
			if err := ix.Close(); err != nil {
				t.Fatal(err)
			}
			current, err := os.ReadFile(filepath.Join(dir, "CURRENT"))
			if err != nil {
				t.Fatal(err)
			}
			damage(t, filepath.Join(dir, strings.TrimSpace(string(current))))
			m2 := l.post(chatA, userA, "survivor too", 0)
			ix = openIndex(t, dir, l, l)
			caughtUp(t, ix, m2.ID)
			if got := find(t, ix, backend.SearchQuery{Terms: terms(t, "survivor"), ChatIDs: []string{chatA}}); !slices.Equal(got, []string{m2.ID, m.ID}) {
				t.Errorf("found %v", got)
			}
			if st := ix.Stats(); st.Rebuilds != 1 {
				t.Errorf("stats %+v, want one rebuild", st)
			}
			if err := ix.Close(); err != nil { // the broken index is removed after the swap
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 2 {
				t.Errorf("the search dir holds %v, want CURRENT and the new index", entries)
			}
		})
	}
}

// gatedSource holds a rebuild's walk of the messages until released.
type gatedSource struct {
	search.MessageSource
	entered chan struct{}
	release chan struct{}
}

func (g *gatedSource) AllMessages(ctx context.Context, fn func(*backend.Message) error) error {
	close(g.entered)
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.MessageSource.AllMessages(ctx, fn)
}

// TestSearchWhileBuilding: until the first index is built, searches are EUNAVAILABLE and WaitFor
// waits; once closed, searches are ErrClosed.
func TestSearchWhileBuilding(t *testing.T) {
	l := newMemLog()
	m := l.post(chatA, userA, "built at last", 0)
	g := &gatedSource{MessageSource: l, entered: make(chan struct{}), release: make(chan struct{})}
	ix := openIndex(t, t.TempDir(), l, g)
	<-g.entered
	q := backend.SearchQuery{Terms: terms(t, "built"), ChatIDs: []string{chatA}}
	if _, _, err := ix.Search(context.Background(), q); backend.ErrorCode(err) != backend.EUNAVAILABLE {
		t.Errorf("while building: %v, want EUNAVAILABLE", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := ix.WaitFor(ctx, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFor while building = %v", err)
	}
	close(g.release)
	caughtUp(t, ix, m.ID)
	if got := find(t, ix, q); !slices.Equal(got, []string{m.ID}) {
		t.Errorf("built: %v", got)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ix.Search(context.Background(), q); !errors.Is(err, backend.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

// TestCloseDuringRebuild: closing abandons a rebuild in flight, which the next Open does again.
func TestCloseDuringRebuild(t *testing.T) {
	l := newMemLog()
	m := l.post(chatA, userA, "interrupted build", 0)
	dir := t.TempDir()
	g := &gatedSource{MessageSource: l, entered: make(chan struct{}), release: make(chan struct{})}
	ix := openIndex(t, dir, l, g)
	<-g.entered
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("an abandoned rebuild left %v", entries)
	}
	ix = openIndex(t, dir, l, l)
	caughtUp(t, ix, m.ID)
	if got := find(t, ix, backend.SearchQuery{Terms: terms(t, "interrupted"), ChatIDs: []string{chatA}}); !slices.Equal(got, []string{m.ID}) {
		t.Errorf("found %v", got)
	}
}

// A busy log is applied in batches at most every batchEvery, not one per event: 30 events
// posted 10 ms apart (paced, the way a busy chat posts) within a 1 s interval take at most two
// batches after the first; fed one by one they would take about 30.
func TestFeederGathersABusyLogIntoBatches(t *testing.T) {
	log := newMemLog()
	first := log.post("c", "u", "first", 0)
	ix := openIndex(t, t.TempDir(), log, log, search.WithBatchEvery(time.Second))
	caughtUp(t, ix, first.ID)
	start := ix.Stats().Batches
	var last string
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := range 30 {
		<-tick.C
		last = log.post("c", "u", fmt.Sprintf("message %d", i), 0).ID
		ix.Notify()
	}
	caughtUp(t, ix, last)
	if n := ix.Stats().Batches - start; n > 2 {
		t.Fatalf("30 events 10 ms apart took %d batches, want at most 2", n)
	}
}
