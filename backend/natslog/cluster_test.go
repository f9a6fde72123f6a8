package natslog_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/internal/testnet"
	"github.com/herald-chat/herald/backend/natslog"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// cluster is three embedded NATS nodes with JetStream on loopback, as three herald-servers run
// them with --nats-embedded.
type cluster struct {
	t     *testing.T
	nodes []*server.Server
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{t: t}
	ports := testnet.FreePorts(t, 6)
	var routes []string
	for i := range 3 {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[3+i]))
	}
	c.nodes = make([]*server.Server, 3)
	errs := make(chan error, 3)
	for i := range 3 {
		go func() {
			// Every node names every route, itself included (NATS skips its own), as the
			// herald-servers of a cluster all get the same --nats-routes.
			s, err := natslog.StartEmbedded(natslog.EmbeddedConfig{
				Name: fmt.Sprintf("n%d", i+1), StoreDir: t.TempDir(),
				ClientAddr:  fmt.Sprintf("127.0.0.1:%d", ports[i]),
				ClusterAddr: fmt.Sprintf("127.0.0.1:%d", ports[3+i]), Routes: routes,
			}, slog.New(slog.DiscardHandler))
			c.nodes[i] = s
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range c.nodes {
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	}
	return c
}

// js connects a client to node i.
func (c *cluster) js(i int) jetstream.JetStream {
	c.t.Helper()
	nc, err := nats.Connect(c.nodes[i].ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		c.t.Fatal(err)
	}
	return js
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Entries appended through one node are read back through another in order and without a gap;
// an append that expects an older end is fenced; a retried append is stored once.
func TestLogAppendFollowAndFence(t *testing.T) {
	c := newCluster(t)
	ctx := ctxFor(t, 60*time.Second)
	w, err := natslog.OpenLog(ctx, c.js(0), natslog.LogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	for i := range n {
		seq, err := w.Append(ctx, uint64(i), fmt.Sprintf("w1-%d", i+1), []byte(fmt.Sprint("entry ", i+1)))
		if err != nil || seq != uint64(i+1) {
			t.Fatalf("Append %d: %d, %v", i+1, seq, err)
		}
	}
	// A retry of the last append (its acknowledgement lost) is the same entry, not a new one.
	if seq, err := w.Append(ctx, n-1, fmt.Sprintf("w1-%d", n), []byte(fmt.Sprint("entry ", n))); err != nil || seq != n {
		t.Fatalf("retried Append: %d, %v; want %d", seq, err, n)
	}
	// A writer that missed entries cannot append.
	other, err := natslog.OpenLog(ctx, c.js(1), natslog.LogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Append(ctx, n-5, "w2-1", []byte("stale")); !errorsIs(err, natslog.ErrFenced) {
		t.Fatalf("stale Append: %v, want ErrFenced", err)
	}
	if last, err := other.Last(ctx); err != nil || last != n {
		t.Fatalf("Last: %d, %v; want %d", last, err, n)
	}

	r, err := natslog.OpenLog(ctx, c.js(2), natslog.LogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	var got []string
	err = r.Follow(fctx, 41, func(seq uint64, payload []byte) error {
		if want := uint64(41 + len(got)); seq != want {
			t.Fatalf("entry %d, want %d", seq, want)
		}
		got = append(got, string(payload))
		if len(got) == n-40 {
			stop()
		}
		return nil
	})
	if err != context.Canceled {
		t.Fatalf("Follow: %v", err)
	}
	if got[0] != "entry 41" || got[len(got)-1] != fmt.Sprint("entry ", n) {
		t.Fatalf("followed %q … %q", got[0], got[len(got)-1])
	}
}

// Truncate removes the entries below a number and keeps the rest under their numbers: reading or
// following a removed one says the log was truncated (a store that needs it starts from a
// snapshot), appends go on after the end, and the newest entry is never removed.
func TestLogTruncate(t *testing.T) {
	c := newCluster(t)
	ctx := ctxFor(t, 60*time.Second)
	w, err := natslog.OpenLog(ctx, c.js(0), natslog.LogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := w.Append(ctx, uint64(i), fmt.Sprint("e", i+1), []byte(fmt.Sprint("entry ", i+1))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Truncate(ctx, 11); err != nil {
		t.Fatal(err)
	}
	r, err := natslog.OpenLog(ctx, c.js(1), natslog.LogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if first, err := r.First(ctx); err != nil || first != 11 {
		t.Fatalf("First after Truncate(11): %d, %v", first, err)
	}
	var trunc *natslog.TruncatedError
	if _, err := r.Get(ctx, 10); !errors.As(err, &trunc) || trunc.Seq != 10 {
		t.Fatalf("Get(10) after Truncate(11): %v, want a TruncatedError for 10", err)
	}
	if b, err := r.Get(ctx, 11); err != nil || string(b) != "entry 11" {
		t.Fatalf("Get(11): %q, %v", b, err)
	}
	if _, err := r.Get(ctx, 21); !errors.Is(err, natslog.ErrNotFound) {
		t.Fatalf("Get(21) past the end: %v, want ErrNotFound", err)
	}
	err = r.Follow(ctx, 5, func(seq uint64, payload []byte) error {
		t.Fatalf("Follow from a removed entry applied %d", seq)
		return nil
	})
	if !errors.As(err, &trunc) || trunc.Seq != 5 {
		t.Fatalf("Follow from 5 after Truncate(11): %v, want a TruncatedError for 5", err)
	}
	if seq, err := w.Append(ctx, 20, "e21", []byte("entry 21")); err != nil || seq != 21 {
		t.Fatalf("Append after Truncate: %d, %v", seq, err)
	}
	// Past the end: the newest entry stays.
	if err := w.Truncate(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	if last, err := r.Last(ctx); err != nil || last != 21 {
		t.Fatalf("Last after truncating past the end: %d, %v", last, err)
	}
	if first, err := r.First(ctx); err != nil || first != 21 {
		t.Fatalf("First after truncating past the end: %d, %v", first, err)
	}
}

// The lease has one holder; when it stops renewing, another node takes it after the TTL and the
// first one's renewal fails.
func TestLeaseTakeover(t *testing.T) {
	c := newCluster(t)
	ctx := ctxFor(t, 60*time.Second)
	cfg := natslog.LeaseConfig{TTL: time.Second}
	a, err := natslog.OpenLease(ctx, c.js(0), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := natslog.OpenLease(ctx, c.js(1), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := a.TryAcquire(ctx, []byte("n1")); !ok || err != nil {
		t.Fatalf("first TryAcquire: %v, %v", ok, err)
	}
	if ok, err := b.TryAcquire(ctx, []byte("n2")); ok || err != nil {
		t.Fatalf("TryAcquire of a held lease: %v, %v", ok, err)
	}
	// Renewed within the TTL, the lease stays a's for several TTLs.
	until := time.Now().Add(3 * time.Second)
	for time.Now().Before(until) {
		if err := a.Renew(ctx, []byte("n1")); err != nil {
			t.Fatalf("Renew: %v", err)
		}
		if ok, _ := b.TryAcquire(ctx, []byte("n2")); ok {
			t.Fatal("b took a lease a kept renewing")
		}
		time.Sleep(200 * time.Millisecond) // the renewal period under test, well within the TTL
	}
	// a stops renewing (it died): b gets the lease once the entry expired.
	start := time.Now()
	for {
		ok, err := b.TryAcquire(ctx, []byte("n2"))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("b never took the expired lease")
		}
		time.Sleep(50 * time.Millisecond) // a follower's acquisition poll
	}
	t.Logf("takeover %v after the last renewal (TTL %v)", time.Since(start), cfg.TTL)
	if holder, err := b.Holder(ctx); err != nil || string(holder) != "n2" {
		t.Fatalf("Holder: %q, %v", holder, err)
	}
	if err := a.Renew(ctx, []byte("n1")); !errorsIs(err, natslog.ErrLeaseLost) {
		t.Fatalf("Renew after losing: %v, want ErrLeaseLost", err)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	// The release is a delete marker; a replica that has not got it yet answers for the key
	// (KV reads are direct gets), so a take right after may see the lease still held.
	for start := time.Now(); ; {
		ok, err := a.TryAcquire(ctx, []byte("n1"))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("the released lease could not be taken within 10 s")
		}
		time.Sleep(50 * time.Millisecond) // a follower's acquisition poll
	}
}
