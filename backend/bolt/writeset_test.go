package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
)

// capture is a CommitLog that keeps every write set it is given, encoded.
type capture struct {
	mu   sync.Mutex
	sets [][]byte
	fail error // when set, Append fails with it
}

func (c *capture) Append(_ context.Context, ws *bolt.WriteSet) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return 0, c.fail
	}
	b, err := ws.AppendBinary(nil)
	if err != nil {
		return 0, err
	}
	c.sets = append(c.sets, b)
	return uint64(len(c.sets)), nil
}

func (c *capture) decoded(t *testing.T) []*bolt.WriteSet {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*bolt.WriteSet
	for _, b := range c.sets {
		ws, err := bolt.DecodeWriteSet(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ws)
	}
	return out
}

// A post's write set holds its message, its event (the same bytes in the log and in Events,
// with the routing the hub needs) and the notification's; the log position lands in the file.
func TestWriteSetOfAPost(t *testing.T) {
	log := &capture{}
	e := newEnvReplicated(t, false, bolt.WithCommitLog(log))
	alice, bob := e.admin("alice"), e.member("bob")
	chat := e.chat("general", alice, bob)
	before := len(log.decoded(t))
	m, _, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: alice.ID, Content: "hello @bob"})
	wantNoError(t, err, "PostMessage")
	sets := log.decoded(t)
	if len(sets) != before+1 {
		t.Fatalf("%d write sets for one post, want 1", len(sets)-before)
	}
	ws := sets[len(sets)-1]
	buckets := map[string]int{}
	for _, op := range ws.Ops {
		buckets[string(op.Bucket)]++
		if op.Kind == bolt.OpPut && string(op.Bucket) == "messages" && !bytes.Contains(op.Value, []byte("hello @bob")) {
			t.Errorf("message put %q lacks the content", op.Value)
		}
	}
	for _, b := range []string{"messages", "events", "timeline", "notifications"} {
		if buckets[b] == 0 {
			t.Errorf("no write to %s in %v", b, buckets)
		}
	}
	var posted *backend.Event
	for _, ev := range ws.Events {
		if ev.Type == backend.EventNewMessage {
			posted = ev
		}
	}
	if posted == nil || posted.ID != m.ID || posted.Message == nil || posted.Message.Content != "hello @bob" || len(posted.Recipients) != 2 {
		t.Fatalf("the write set's NEW_MESSAGE: %+v", posted)
	}
	seq, err := e.s.LogSeq()
	wantNoError(t, err, "LogSeq")
	if seq != uint64(len(sets)) {
		t.Fatalf("LogSeq %d after %d appends", seq, len(sets))
	}
}

// A log that refuses a commit fails its writes and leaves nothing of them in the file.
func TestCommitLogFailureAbortsTheCommit(t *testing.T) {
	log := &capture{}
	e := newEnvReplicated(t, false, bolt.WithCommitLog(log))
	alice := e.admin("alice")
	chat := e.chat("general", alice)
	down := errors.New("log unreachable")
	log.mu.Lock()
	log.fail = down
	log.mu.Unlock()
	_, _, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: alice.ID, Content: "lost?"})
	if !errors.Is(err, down) {
		t.Fatalf("PostMessage with the log down: %v, want %v", err, down)
	}
	msgs, _, err := e.s.Messages(e.ctx, chat.ID, backend.MessagePage{Limit: 10})
	wantNoError(t, err, "Messages")
	if len(msgs) != 0 {
		t.Fatalf("the refused post is in the file: %+v", msgs[0])
	}
}

// Apply takes write sets in order: a redelivered one changes nothing, one past a gap is
// refused; a replica promoted to writer issues ids above every id it applied.
func TestApplyInOrderAndWriteAfter(t *testing.T) {
	log := &capture{}
	w := newEnvReplicated(t, false, bolt.WithCommitLog(log))
	replica := newEnvReplicated(t, false) // a new file, like the writer's before its first write
	replica.s.Follow()
	alice := w.admin("alice")
	chat := w.chat("general", alice)
	var last *backend.Message
	for i := range 3 {
		var err error
		last, _, err = w.s.PostMessage(w.ctx, &backend.Message{ChatID: chat.ID, AuthorID: alice.ID, Content: fmt.Sprint("m", i)})
		wantNoError(t, err, "PostMessage")
	}
	sets := log.decoded(t)
	if err := replica.s.Apply(w.ctx, 2, sets[1]); !errors.Is(err, bolt.ErrLogGap) {
		t.Fatalf("Apply(2) first: %v, want ErrLogGap", err)
	}
	for i, ws := range sets {
		wantNoError(t, replica.s.Apply(w.ctx, uint64(i+1), ws), "Apply")
	}
	wantNoError(t, replica.s.Apply(w.ctx, 1, sets[0]), "Apply of a redelivery")
	if seq, _ := replica.s.LogSeq(); seq != uint64(len(sets)) {
		t.Fatalf("replica LogSeq %d, want %d", seq, len(sets))
	}
	msgs, _, err := replica.s.Messages(w.ctx, chat.ID, backend.MessagePage{Limit: 10})
	wantNoError(t, err, "Messages on the replica")
	if len(msgs) != 3 {
		t.Fatalf("replica holds %d messages, want 3 (a redelivery must not add one)", len(msgs))
	}
	// Promoted (a single store again here), with its clock behind the writer's: its ids must
	// still come after.
	replica.s.Lead(nil)
	replica.clock.Set(t0.Add(-time.Hour))
	m, _, err := replica.s.PostMessage(w.ctx, &backend.Message{ChatID: chat.ID, AuthorID: alice.ID, Content: "promoted"})
	wantNoError(t, err, "PostMessage on the promoted replica")
	if m.ID <= last.ID {
		t.Fatalf("the promoted replica issued %s, not after the applied %s", m.ID, last.ID)
	}
}

// Truncated and corrupted encodings are refused, never a panic or a huge allocation.
func FuzzDecodeWriteSet(f *testing.F) {
	ev := &backend.Event{ID: "01J00000000000000000000000", Type: backend.EventNewMessage, ChatID: "c",
		Personal: true, Recipients: []string{"u1", "u2"}, Sessions: []string{"s"}}
	if err := ev.Seal(); err != nil {
		f.Fatal(err)
	}
	ws := &bolt.WriteSet{Ops: []bolt.WriteOp{
		{Kind: bolt.OpPut, Bucket: []byte("messages"), Key: []byte("k"), Value: []byte("v")},
		{Kind: bolt.OpDelete, Bucket: []byte("reads"), Key: []byte("k2")},
		{Kind: bolt.OpCreateBucket, Bucket: []byte("avatars")},
	}, Events: []*backend.Event{ev}, Scrub: true}
	good, err := ws.AppendBinary(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := bolt.DecodeWriteSet(b)
		if err != nil {
			return
		}
		again, err := got.AppendBinary(nil)
		if err != nil {
			t.Fatalf("re-encoding a decoded write set: %v", err)
		}
		if _, err := bolt.DecodeWriteSet(again); err != nil {
			t.Fatalf("a re-encoded write set does not decode: %v", err)
		}
	})
}

// The round trip keeps every op and every event's routing.
func TestWriteSetRoundTrip(t *testing.T) {
	ev := &backend.Event{ID: "01J00000000000000000000000", Type: backend.EventSessionEnded, Reason: "logout",
		Personal: true, Recipients: []string{"u1"}, Sessions: []string{"s1", "s2"}}
	wantNoError(t, ev.Seal(), "Seal")
	ws := &bolt.WriteSet{Ops: []bolt.WriteOp{
		{Kind: bolt.OpPut, Bucket: []byte("members"), Key: []byte("uc"), Value: []byte{}},
		{Kind: bolt.OpDelete, Bucket: []byte("sessions"), Key: []byte{0, 1, 2}},
	}, Events: []*backend.Event{ev}}
	b, err := ws.AppendBinary(nil)
	wantNoError(t, err, "AppendBinary")
	got, err := bolt.DecodeWriteSet(b)
	wantNoError(t, err, "DecodeWriteSet")
	if len(got.Ops) != 2 || got.Ops[0].Kind != bolt.OpPut || got.Ops[0].Value == nil || len(got.Ops[0].Value) != 0 ||
		got.Ops[1].Kind != bolt.OpDelete || !bytes.Equal(got.Ops[1].Key, []byte{0, 1, 2}) || got.Scrub {
		t.Fatalf("ops %+v scrub %v", got.Ops, got.Scrub)
	}
	g := got.Events[0]
	if g.Type != backend.EventSessionEnded || g.Reason != "logout" || !g.Personal || len(g.Sessions) != 2 || g.Recipients[0] != "u1" {
		t.Fatalf("event %+v", g)
	}
	if _, err := bolt.DecodeWriteSet(append(b, 0)); err == nil {
		t.Fatal("trailing bytes accepted")
	}
}

// BenchmarkCommitLog posts from 32 writers into a 10-member chat with no log (single-node
// mode), and with a log that captures and encodes every commit's write set and drops it: the
// difference is what a writer node pays before it talks to the network. Compare the two within
// one run.
//
//	go test -run '^$' -bench CommitLog -count 3 ./backend/bolt/
func BenchmarkCommitLog(b *testing.B) {
	for _, mode := range []string{"none", "encode"} {
		b.Run("log="+mode, func(b *testing.B) {
			var opts []bolt.Option
			var bytesOut atomic.Int64
			if mode == "encode" {
				opts = append(opts, bolt.WithCommitLog(discard{&bytesOut}))
			}
			e := newEnv(b, opts...)
			us := e.users(10)
			chat := e.chat("bench", us[0], us[1:]...)
			var n atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					author := us[int(n.Add(1))%len(us)]
					if _, _, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: author.ID, Content: "benchmark message"}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			if mode == "encode" {
				b.ReportMetric(float64(bytesOut.Load())/float64(b.N), "log-B/msg")
			}
		})
	}
}

type discard struct{ n *atomic.Int64 }

var discardSeq atomic.Uint64

func (d discard) Append(_ context.Context, ws *bolt.WriteSet) (uint64, error) {
	b, err := ws.AppendBinary(nil)
	d.n.Add(int64(len(b)))
	return discardSeq.Add(1), err
}

// A replica refuses writes (503) but takes Apply, node-local writes and pings; led again, it
// writes, each commit logged.
func TestFollowAndLead(t *testing.T) {
	log := &capture{}
	w := newEnvReplicated(t, false, bolt.WithCommitLog(log))
	alice := w.admin("alice")
	chat := w.chat("general", alice)
	r := newEnvReplicated(t, false)
	r.s.Follow()
	for i, ws := range log.decoded(t) {
		wantNoError(t, r.s.Apply(r.ctx, uint64(i+1), ws), "Apply")
	}
	_, _, err := r.s.PostMessage(r.ctx, &backend.Message{ChatID: chat.ID, AuthorID: alice.ID, Content: "on a replica"})
	if !errors.Is(err, bolt.ErrNotWriter) || backend.ErrorCode(err) != backend.EUNAVAILABLE {
		t.Fatalf("a write to a replica: %v, want ErrNotWriter (unavailable)", err)
	}
	wantNoError(t, r.s.Ping(r.ctx), "Ping on a replica")
	wantNoError(t, r.s.AppendMonitorMinute(r.ctx, backend.MonitorMinute{Start: t0.UnixMilli()}), "a node-local write on a replica")
	if !r.s.Following() {
		t.Fatal("Following is false on a replica")
	}
	applied := len(log.decoded(t))
	r.s.Lead(log)
	if err := r.s.Apply(r.ctx, uint64(applied+1), &bolt.WriteSet{}); backend.ErrorCode(err) != backend.EUNAVAILABLE {
		t.Fatalf("Apply on a store that leads: %v, want refused", err)
	}
	m, _, err := r.s.PostMessage(r.ctx, &backend.Message{ChatID: chat.ID, AuthorID: alice.ID, Content: "led"})
	wantNoError(t, err, "PostMessage after Lead")
	sets := log.decoded(t)
	if len(sets) != applied+1 {
		t.Fatalf("%d write sets after one post, want 1", len(sets)-applied)
	}
	found := false
	for _, ev := range sets[len(sets)-1].Events {
		found = found || ev.ID == m.ID
	}
	if !found {
		t.Fatal("the post's event is not in its write set")
	}
}
