package search_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	segment "github.com/blevesearch/scorch_segment_api/v2"
	"github.com/blevesearch/vellum"
	zapv17 "github.com/blevesearch/zapx/v17"
	"github.com/oklog/ulid/v2"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
	"github.com/herald-chat/herald/backend/search"
)

// Compile-time guards: the bolt store is what the index reads.
var (
	_ backend.EventLog     = (*bolt.Store)(nil)
	_ search.MessageSource = (*bolt.Store)(nil)
	_ backend.Searcher     = (*search.Index)(nil)
)

// waitTimeout bounds every wait of a test for the index: generous, as the race detector on two
// cores is slow, but a test that stalls fails instead of hanging.
const waitTimeout = 20 * time.Second

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// memLog is an event log and message source in memory, for what the bolt store cannot produce:
// messages of any createdAt (a month of history in a test, the benchmarks' corpus of 100,000
// messages without a commit each) and events written as a test needs them. Edits, deletions,
// reactions, pins and retention are tested against the real store (bolt_test.go). It does what
// the store promises: events in id order, EventsAfter only from an id it holds, a deleted
// message's logged events rewritten to carry its tombstone.
type memLog struct {
	mu       sync.Mutex
	events   []*backend.Event
	messages map[string]*backend.Message // by id
	order    []string                    // message ids in posting order
	entropy  io.Reader
	now      time.Time
	calls    int // EventsAfter calls
}

func newMemLog() *memLog {
	return &memLog{messages: map[string]*backend.Message{}, entropy: ulid.Monotonic(rand.Reader, 0),
		now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (l *memLog) EventsAfter(ctx context.Context, afterID string, limit int) ([]*backend.Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	i, ok := slices.BinarySearchFunc(l.events, afterID, func(e *backend.Event, id string) int {
		return cmpString(e.ID, id)
	})
	if !ok {
		return nil, backend.ErrEventNotFound
	}
	out := []*backend.Event{}
	for _, e := range l.events[i+1:] {
		if len(out) == limit {
			break
		}
		c := *e
		if e.Message != nil {
			c.Message = e.Message.Clone()
		}
		out = append(out, &c)
	}
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ScopeEventsAfter is part of backend.EventLog for the streams; the search feed reads
// EventsAfter only.
func (l *memLog) ScopeEventsAfter(ctx context.Context, scope backend.Scope, afterID string, limit int) ([]*backend.Event, error) {
	return nil, errors.New("memLog: the search feed must not read ScopeEventsAfter")
}

func (l *memLog) LastEventID(ctx context.Context) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) == 0 {
		return "", nil
	}
	return l.events[len(l.events)-1].ID, nil
}

func (l *memLog) AllMessages(ctx context.Context, fn func(*backend.Message) error) error {
	l.mu.Lock()
	var msgs []*backend.Message
	for _, id := range l.order {
		msgs = append(msgs, l.messages[id].Clone())
	}
	l.mu.Unlock()
	for _, m := range msgs {
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

// newID is the next event id; the log's clock moves a millisecond per id. The caller holds mu.
func (l *memLog) newID() string {
	l.now = l.now.Add(time.Millisecond)
	return ulid.MustNew(ulid.Timestamp(l.now), l.entropy).String()
}

// post appends a message and its NEW_MESSAGE; createdAt 0 takes the log's clock.
func (l *memLog) post(chatID, authorID, content string, createdAt int64) *backend.Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := l.newID()
	if createdAt == 0 {
		createdAt = l.now.UnixMilli()
	}
	m := &backend.Message{ID: id, ChatID: chatID, AuthorID: authorID, Content: content, CreatedAt: createdAt}
	l.messages[id] = m
	l.order = append(l.order, id)
	l.events = append(l.events, &backend.Event{ID: id, Type: backend.EventNewMessage, ChatID: chatID, Message: m.Clone()})
	return m.Clone()
}

// update appends a MESSAGE_UPDATED with change applied to the message, and returns its id.
func (l *memLog) update(id string, change func(*backend.Message)) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.messages[id]
	change(m)
	evID := l.newID()
	l.events = append(l.events, &backend.Event{ID: evID, Type: backend.EventMessageUpdated, ChatID: m.ChatID, Message: m.Clone()})
	return evID
}

// remove deletes a message as the store does: the message becomes its tombstone, so do the
// logged events that carried it, and MESSAGE_DELETED follows. It returns that event's id.
func (l *memLog) remove(id string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.messages[id]
	tomb := m.Tombstone()
	l.messages[id] = tomb
	for _, e := range l.events {
		if e.Message != nil && e.Message.ID == id {
			e.Message = tomb.Clone()
		}
	}
	evID := l.newID()
	l.events = append(l.events, &backend.Event{ID: evID, Type: backend.EventMessageDeleted, ChatID: m.ChatID, MessageID: id})
	return evID
}

// other appends an event that is not about messages (a chat update).
func (l *memLog) other(chatID string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := l.newID()
	l.events = append(l.events, &backend.Event{ID: id, Type: backend.EventChatUpdated, ChatID: chatID})
	return id
}

func (l *memLog) Calls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

func (l *memLog) last(t testing.TB) string {
	t.Helper()
	id, _ := l.LastEventID(context.Background())
	return id
}

// openIndex opens an index in dir that the test closes at its end (closing twice is no error).
func openIndex(t testing.TB, dir string, log backend.EventLog, src search.MessageSource, opts ...search.Option) *search.Index {
	t.Helper()
	ix, err := search.Open(dir, log, src, append([]search.Option{search.WithLogger(quietLogger())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ix.Close(); err != nil {
			t.Error(err)
		}
	})
	return ix
}

// caughtUp waits until ix holds every event up to id.
func caughtUp(t testing.TB, ix *search.Index, id string) {
	t.Helper()
	caughtUpWithin(t, ix, id, waitTimeout)
}

// caughtUpWithin is caughtUp with a timeout of its own, for the benchmarks' large indexes.
func caughtUpWithin(t testing.TB, ix *search.Index, id string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := ix.WaitFor(ctx, id); err != nil {
		t.Fatalf("WaitFor(%s): %v (cursor %s)", id, err, ix.Cursor())
	}
}

// erased waits until the index's files no longer hold what was removed.
func erased(t testing.TB, ix *search.Index) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := ix.WaitErased(ctx); err != nil {
		t.Fatalf("WaitErased: %v", err)
	}
}

// find returns the ids of every hit of q (all pages), failing on a duplicate.
func find(t testing.TB, ix *search.Index, q backend.SearchQuery) []string {
	t.Helper()
	var ids []string
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("more than 1000 pages")
		}
		hits, next, err := ix.Search(context.Background(), q)
		if err != nil {
			t.Fatalf("Search(%+v): %v", q, err)
		}
		for _, h := range hits {
			if seen[h.MessageID] {
				t.Fatalf("Search(%+v): %s twice", q, h.MessageID)
			}
			seen[h.MessageID] = true
			ids = append(ids, h.MessageID)
		}
		if next == "" {
			return ids
		}
		q.Cursor = next
	}
}

// terms parses a query.
func terms(t testing.TB, q string) backend.SearchTerms {
	t.Helper()
	ts, err := backend.ParseSearchQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// onDisk returns where under dir token is stored: in any file's raw bytes, or — decoded, since
// segment files compress what they store and encode their term dictionaries as automata, so that
// a raw grep misses them — in a segment's term dictionary of any field or in any of its
// documents' stored fields, deleted documents included. An empty answer is what erasure means.
func onDisk(t testing.TB, dir, token string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while we walk: an index being replaced
		}
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if bytes.Contains(data, []byte(token)) {
			found = append(found, rel+": raw bytes")
		}
		if filepath.Ext(path) == ".zap" {
			found = append(found, segmentHolds(t, path, rel, token)...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// segmentHolds decodes one segment file. A file that does not open may be one that scorch's
// merger is still writing: it is tried again until it opens or is gone, for waitTimeout.
func segmentHolds(t testing.TB, path, rel, token string) []string {
	t.Helper()
	var seg segment.Segment
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(10 * time.Millisecond) {
		var err error
		seg, err = openSegment(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("open segment %s: %v", rel, err)
		}
	}
	defer seg.Close()
	var found []string
	for _, field := range seg.Fields() {
		dict, err := seg.Dictionary(field)
		if err != nil {
			t.Fatalf("%s: dictionary of %s: %v", rel, field, err)
		}
		it := dict.AutomatonIterator(&vellum.AlwaysMatch{}, nil, nil)
		for {
			e, err := it.Next()
			if err != nil {
				t.Fatalf("%s: terms of %s: %v", rel, field, err)
			}
			if e == nil {
				break
			}
			if strings.Contains(e.Term, token) {
				found = append(found, fmt.Sprintf("%s: term %q of field %s", rel, e.Term, field))
			}
		}
	}
	for n := range seg.Count() {
		err := seg.VisitStoredFields(n, func(field string, _ byte, value []byte, _ []uint64) bool {
			if bytes.Contains(value, []byte(token)) {
				found = append(found, fmt.Sprintf("%s: stored field %s of document %d", rel, field, n))
			}
			return true
		})
		if err != nil {
			t.Fatalf("%s: stored fields of %d: %v", rel, n, err)
		}
	}
	return found
}

// openSegment opens a segment file; a file zap cannot make sense of (a partial one) is an error,
// even when zap panics on it.
func openSegment(path string) (seg segment.Segment, err error) {
	defer func() {
		if r := recover(); r != nil {
			seg, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return (&zapv17.ZapPlugin{}).Open(path)
}

// boltTeam is a real store with two users (alice, the admin, and bob) and chats.
type boltTeam struct {
	store      *bolt.Store
	alice, bob *backend.User
	chats      []string // alice and bob are in every one
}

func openStore(t testing.TB, path string) *bolt.Store {
	t.Helper()
	store, err := bolt.Open(path, bolt.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

// newBoltTeam opens a store at path and makes alice, bob and n chats of both.
func newBoltTeam(t testing.TB, path string, n int) *boltTeam {
	t.Helper()
	ctx := context.Background()
	bt := &boltTeam{store: openStore(t, path)}
	bt.alice = &backend.User{Username: "alice", DisplayName: "Alice", PasswordHash: "x"}
	if err := bt.store.CreateUser(ctx, bt.alice, ""); err != nil {
		t.Fatal(err)
	}
	code := "invite-bob"
	if err := bt.store.CreateInvite(ctx, backend.Invite{Code: code, CreatedBy: bt.alice.ID, CreatedAt: time.Now().UnixMilli(),
		ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	bt.bob = &backend.User{Username: "bob", DisplayName: "Bob", PasswordHash: "x"}
	if err := bt.store.CreateUser(ctx, bt.bob, code); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		c := &backend.Chat{Name: "chat " + string(rune('a'+i)), CreatedBy: bt.alice.ID, MemberIDs: []string{bt.bob.ID}}
		if err := bt.store.CreateChat(ctx, c); err != nil {
			t.Fatal(err)
		}
		bt.chats = append(bt.chats, c.ID)
	}
	return bt
}

func (bt *boltTeam) post(t testing.TB, chatID string, by *backend.User, content string) *backend.Message {
	t.Helper()
	m, _, err := bt.store.PostMessage(context.Background(), &backend.Message{ChatID: chatID, AuthorID: by.ID, Content: content})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// reply posts a reply to parent (a message of chatID).
func (bt *boltTeam) reply(t testing.TB, chatID, parentID string, by *backend.User, content string) *backend.Message {
	t.Helper()
	m, _, err := bt.store.PostMessage(context.Background(), &backend.Message{ChatID: chatID, AuthorID: by.ID, Content: content, ParentID: parentID})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// edit changes the content of m (by its author).
func (bt *boltTeam) edit(t testing.TB, m *backend.Message, by *backend.User, content string) {
	t.Helper()
	if _, err := bt.store.EditMessage(context.Background(), m.ChatID, m.ID, by.ID, content); err != nil {
		t.Fatal(err)
	}
}

// remove deletes m (by its author or an admin).
func (bt *boltTeam) remove(t testing.TB, m *backend.Message, by *backend.User) {
	t.Helper()
	if _, err := bt.store.DeleteMessage(context.Background(), m.ChatID, m.ID, by); err != nil {
		t.Fatal(err)
	}
}

// eventsAfter returns every logged event after id.
func (bt *boltTeam) eventsAfter(t testing.TB, id string) []*backend.Event {
	t.Helper()
	events, err := bt.store.EventsAfter(context.Background(), id, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func (bt *boltTeam) last(t testing.TB) string {
	t.Helper()
	id, err := bt.store.LastEventID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// sorted returns a sorted copy.
func sorted(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// logRecorder is a slog handler that keeps the messages logged.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Message)
	return nil
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

func (r *logRecorder) count(msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if m == msg {
			n++
		}
	}
	return n
}
