package bolt

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mathrand "math/rand"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
)

var base = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

type constReader byte

func (c constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

func TestIDGenStrictlyIncreasing(t *testing.T) {
	entropies := []struct {
		name string
		r    io.Reader
	}{
		{"crypto, as the store uses it", ulid.Monotonic(ulidEntropy{}, 0)},
		// Entropy starts at its maximum, so every increment within a millisecond overflows.
		{"all ones", ulid.Monotonic(constReader(0xff), 1)},
		// Every id of a millisecond comes out the same.
		{"all zeros", ulid.Monotonic(constReader(0), 1)},
		{"deterministic", ulid.Monotonic(mathrand.New(mathrand.NewSource(1)), 0)},
	}
	clocks := []struct {
		name string
		at   func(i int) time.Time
	}{
		{"same millisecond", func(int) time.Time { return base }},
		{"advancing", func(i int) time.Time { return base.Add(time.Duration(i) * 100 * time.Microsecond) }},
		{"steps back every 100 calls", func(i int) time.Time {
			return base.Add(time.Duration(i%100)*time.Millisecond - time.Duration(i/100)*time.Hour)
		}},
		{"far in the past", func(i int) time.Time { return base.Add(-time.Duration(i) * 24 * time.Hour) }},
	}
	for _, en := range entropies {
		for _, cl := range clocks {
			t.Run(en.name+"/"+cl.name, func(t *testing.T) {
				g := idGen{entropy: en.r}
				var prev ulid.ULID
				for i := range 5000 {
					now := cl.at(i)
					id := g.next(now)
					if id.Compare(prev) <= 0 {
						t.Fatalf("call %d: id %s is not greater than %s", i, id, prev)
					}
					if g.last != id {
						t.Fatalf("call %d: last = %s, want the issued %s", i, g.last, id)
					}
					if id.Time() < ulid.Timestamp(now) {
						t.Fatalf("call %d: id time %d is before the clock %d", i, id.Time(), ulid.Timestamp(now))
					}
					prev = id
				}
			})
		}
	}
}

// After a restart the generator is seeded with the last logged id; even if the clock is in the
// same millisecond or earlier, the next id is greater.
func TestIDGenSeededFromEarlierRun(t *testing.T) {
	for _, offset := range []time.Duration{-time.Hour, -time.Millisecond, 0, time.Millisecond} {
		t.Run(offset.String(), func(t *testing.T) {
			for range 200 {
				last := ulid.MustNew(ulid.Timestamp(base), rand.Reader)
				g := idGen{last: last, entropy: ulid.Monotonic(ulidEntropy{}, 0)}
				if id := g.next(base.Add(offset)); id.Compare(last) <= 0 {
					t.Fatalf("next after seed %s = %s", last, id)
				}
			}
			// The largest possible id in that millisecond forces the next one.
			var last ulid.ULID
			_ = last.SetTime(ulid.Timestamp(base))
			_ = last.SetEntropy(bytes.Repeat([]byte{0xff}, 10))
			g := idGen{last: last, entropy: ulid.Monotonic(ulidEntropy{}, 0)}
			if id := g.next(base.Add(offset)); id.Compare(last) <= 0 || id.Time() <= last.Time() {
				t.Fatalf("next after the last id of a millisecond = %s (last %s)", id, last)
			}
		})
	}
}

func TestLogRecordRoundTrip(t *testing.T) {
	r1, r2 := ulid.Make().String(), ulid.Make().String()
	msg := &backend.Message{ID: ulid.Make().String(), ChatID: ulid.Make().String(), AuthorID: r1, Content: "hi \"there\"\n", CreatedAt: 42}
	tests := []struct {
		name string
		ev   *backend.Event
	}{
		{"chat event", &backend.Event{ID: msg.ID, Type: backend.EventNewMessage, ChatID: msg.ChatID, Message: msg, Timestamp: 42, Recipients: []string{r1, r2}}},
		{"personal event", &backend.Event{ID: ulid.Make().String(), Type: backend.EventSystemNotification, Personal: true, Recipients: []string{r1, r2}, Timestamp: 7}},
		{"personal, one recipient", &backend.Event{ID: ulid.Make().String(), Type: backend.EventTaskCompleted, Personal: true, Recipients: []string{r2}}},
		{"personal, no recipients", &backend.Event{ID: ulid.Make().String(), Type: backend.EventTaskCompleted, Personal: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.ev.Seal(); err != nil {
				t.Fatal(err)
			}
			got, err := decodeLogRecord(encodeLogRecord(tt.ev))
			if err != nil {
				t.Fatalf("decodeLogRecord: %v", err)
			}
			if got.ID != tt.ev.ID || got.Type != tt.ev.Type || got.ChatID != tt.ev.ChatID || got.Timestamp != tt.ev.Timestamp ||
				got.Personal != tt.ev.Personal || !bytes.Equal(got.Data(), tt.ev.Data()) {
				t.Errorf("round trip = %+v, want %+v", *got, *tt.ev)
			}
			if tt.ev.Message != nil && (got.Message == nil || !reflect.DeepEqual(got.Message, tt.ev.Message)) {
				t.Errorf("message = %+v, want %+v", got.Message, tt.ev.Message)
			}
			// Personal recipients are stored; a chat event's are the members at read time.
			wantRecipients := tt.ev.Recipients
			if !tt.ev.Personal {
				wantRecipients = nil
			}
			if len(got.Recipients) != len(wantRecipients) || !slices.Equal(got.Recipients, wantRecipients) {
				t.Errorf("recipients = %v, want %v", got.Recipients, wantRecipients)
			}
		})
	}
}

func TestDecodeLogRecordRejectsCorruption(t *testing.T) {
	ev := &backend.Event{ID: ulid.Make().String(), Type: backend.EventTaskCompleted, Personal: true, Recipients: []string{ulid.Make().String()}}
	if err := ev.Seal(); err != nil {
		t.Fatal(err)
	}
	good := encodeLogRecord(ev)
	tests := []struct {
		name string
		rec  []byte
	}{
		{"empty", nil},
		{"one byte", []byte{0}},
		{"bad varint", append([]byte{1}, bytes.Repeat([]byte{0xff}, 11)...)},
		{"too many recipients", []byte{1, 5, 'x', 'y'}},
		{"huge recipient count", append([]byte{1}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
		// n*26 wraps around 2^64 to 10: a size check done by multiplication passes.
		{"recipient count that overflows the size check", append(binary.AppendUvarint([]byte{1}, (1<<64-1)/ulid.EncodedSize+1), good[2:]...)},
		{"truncated recipient", good[:2+ulid.EncodedSize-1]},
		{"truncated json", good[:len(good)-1]},
		{"not json", []byte{0, 0, 'n', 'o'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := decodeSafely(tt.rec)
			if err == nil {
				t.Fatalf("decodeLogRecord(%q) = %+v, want an error", tt.rec, ev)
			}
			if strings.HasPrefix(err.Error(), "panic: ") {
				t.Fatalf("decodeLogRecord of a corrupt record %v, want an error", err)
			}
		})
	}
}

// decodeSafely turns a panic of decodeLogRecord into an error starting with "panic: ".
func decodeSafely(rec []byte) (ev *backend.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return decodeLogRecord(rec)
}

// gate is a Publisher that records what is published; armed, it holds up the committer
// goroutine (its testHookCommitted) after the next commit until released, so that a test can
// queue writes behind it and have them committed as one batch.
type gate struct {
	mu      sync.Mutex
	armed   bool
	entered chan struct{}
	release chan struct{}
	calls   [][]*backend.Event
}

func newGate() *gate { return &gate{entered: make(chan struct{}), release: make(chan struct{})} }

func (g *gate) Publish(events ...*backend.Event) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, events)
}

// committed is the store's testHookCommitted.
func (g *gate) committed() {
	g.mu.Lock()
	armed := g.armed
	g.armed = false
	g.mu.Unlock()
	if armed {
		close(g.entered)
		<-g.release
	}
}

func (g *gate) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed = true
}

func (g *gate) published() [][]*backend.Event {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.calls)
}

type fixture struct {
	s          *Store
	g          *gate
	ctx        context.Context
	a, outside *backend.User
	chat       *backend.Chat
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "herald.db"), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	f := &fixture{s: s, g: newGate(), ctx: context.Background()}
	s.SetPublisher(f.g)
	s.testHookCommitted = f.g.committed // before the first write, which orders it for the committer
	f.a = &backend.User{Username: "a"}
	if err := s.CreateUser(f.ctx, f.a, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateInvite(f.ctx, backend.Invite{Code: "inv", ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	f.outside = &backend.User{Username: "outside"}
	if err := s.CreateUser(f.ctx, f.outside, "inv"); err != nil {
		t.Fatal(err)
	}
	f.chat = &backend.Chat{Name: "c", CreatedBy: f.a.ID}
	if err := s.CreateChat(f.ctx, f.chat); err != nil {
		t.Fatal(err)
	}
	return f
}

// published is every Publish call so far, once the answered writes' events are out.
func (f *fixture) published() [][]*backend.Event {
	f.s.FlushFanout()
	return f.g.published()
}

// holdCommitter blocks the committer after committing one write, and returns a
// function that waits until n further writes are queued and then lets them all go.
func (f *fixture) holdCommitter(t testing.TB) (releaseWhenQueued func(n int)) {
	t.Helper()
	f.g.arm()
	done := make(chan error, 1)
	go func() {
		_, _, err := f.s.PostMessage(f.ctx, &backend.Message{ChatID: f.chat.ID, AuthorID: f.a.ID, Content: "blocker"})
		done <- err
	}()
	<-f.g.entered
	return func(n int) {
		t.Helper()
		for len(f.s.requests) < n {
			runtime.Gosched()
		}
		close(f.g.release)
		if err := <-done; err != nil {
			t.Fatalf("blocker post: %v", err)
		}
	}
}

// TestBatchIsolatesFailingWrite queues good and failing writes behind a held commit, so that they
// are committed in one batch, and checks that the failing one fails alone.
func TestBatchIsolatesFailingWrite(t *testing.T) {
	tests := []struct {
		name        string
		bad         func(f *fixture) *backend.Message
		wantCode    string
		wantCommits func(good int) int64
	}{
		{"domain error: unknown chat", func(f *fixture) *backend.Message {
			return &backend.Message{ChatID: ulid.Make().String(), AuthorID: f.a.ID, Content: "x"}
		}, backend.ENOTFOUND, func(int) int64 { return 1 }},
		{"domain error: not a member", func(f *fixture) *backend.Message {
			return &backend.Message{ChatID: f.chat.ID, AuthorID: f.outside.ID, Content: "x"}
		}, backend.EFORBIDDEN, func(int) int64 { return 1 }},
		// An error that aborts the shared transaction: the batch is retried one write at a time.
		{"transaction error: key too large", func(f *fixture) *backend.Message {
			return &backend.Message{ChatID: f.chat.ID, AuthorID: f.a.ID, Content: "x", ClientID: strings.Repeat("k", 40<<10)}
		}, backend.EINTERNAL, func(good int) int64 { return int64(good) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			const good = 20
			release := f.holdCommitter(t)
			commits := f.s.Commits()
			calls := len(f.published())

			type result struct {
				msg *backend.Message
				err error
			}
			results := make([]result, good+1)
			var wg sync.WaitGroup
			for i := range results {
				wg.Go(func() {
					m := &backend.Message{ChatID: f.chat.ID, AuthorID: f.a.ID, Content: fmt.Sprint(i), ClientID: fmt.Sprint("c", i)}
					if i == good {
						m = tt.bad(f)
					}
					msg, _, err := f.s.PostMessage(f.ctx, m)
					results[i] = result{msg, err}
				})
			}
			release(len(results))
			wg.Wait()

			if got, want := f.s.Commits()-commits, tt.wantCommits(good); got != want {
				t.Errorf("commits = %d, want %d", got, want)
			}
			if code := backend.ErrorCode(results[good].err); code != tt.wantCode || errors.Is(results[good].err, backend.ErrClosed) {
				t.Errorf("failing write: %v, want code %q", results[good].err, tt.wantCode)
			}
			var ids []string
			for i, r := range results[:good] {
				if r.err != nil {
					t.Fatalf("good write %d failed with its batch: %v", i, r.err)
				}
				ids = append(ids, r.msg.ID)
			}
			slices.Sort(ids)
			var published []string
			for _, call := range f.published()[calls:] {
				for _, ev := range call {
					published = append(published, ev.ID)
				}
			}
			if !slices.Equal(published, ids) {
				t.Errorf("published %v,\nwant the good writes in id order %v", published, ids)
			}
			msgs, _, err := f.s.Messages(f.ctx, f.chat.ID, backend.MessagePage{Limit: backend.MaxPageLimit})
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != good+1 { // the good ones and the blocker
				t.Errorf("chat holds %d messages, want %d", len(msgs), good+1)
			}
		})
	}
}

// A batch's events reach the publisher together, in id order, after its one commit.
func TestBatchPublishesOnceInCommitOrder(t *testing.T) {
	f := newFixture(t)
	release := f.holdCommitter(t)
	calls := len(f.published())
	const n = 30
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, _, err := f.s.PostMessage(f.ctx, &backend.Message{ChatID: f.chat.ID, AuthorID: f.a.ID, Content: fmt.Sprint(i)}); err != nil {
				t.Error(err)
			}
		})
	}
	release(n)
	wg.Wait()
	got := f.published()[calls:]
	if len(got) != 1 || len(got[0]) != n {
		t.Fatalf("publisher got %d calls, want 1 call with %d events", len(got), n)
	}
	for i := 1; i < n; i++ {
		if got[0][i].ID <= got[0][i-1].ID {
			t.Fatalf("event %d (%s) is not after %s", i, got[0][i].ID, got[0][i-1].ID)
		}
	}
}

// blockingPublisher holds every Publish until released.
type blockingPublisher struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (p *blockingPublisher) Publish(...*backend.Event) {
	p.once.Do(func() { close(p.entered) })
	<-p.release
}

// A write is answered once it is durable, without waiting for its fan-out: a Publisher that is
// stuck holds up neither the answer nor the next commits, up to the fan-out queue's bound.
func TestAnswersDoNotWaitForFanout(t *testing.T) {
	f := newFixture(t)
	p := &blockingPublisher{entered: make(chan struct{}), release: make(chan struct{})}
	f.s.SetPublisher(p)
	defer close(p.release)
	for i := range fanoutQueue / 2 {
		if _, _, err := f.s.PostMessage(f.ctx, &backend.Message{ChatID: f.chat.ID, AuthorID: f.a.ID, Content: fmt.Sprint(i)}); err != nil {
			t.Fatalf("post %d with the publisher stuck: %v", i, err)
		}
		if i == 0 {
			<-p.entered // the first fan-out is under way, and stuck
		}
	}
}
