package teamserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/bolt"
	"github.com/herald-chat/herald/backend/internal/testnet"
	"github.com/herald-chat/herald/backend/natslog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// logNode is a node with a log on one embedded NATS server (R1) and nothing else: enough for a
// fencedLog.
func logNode(t *testing.T) *node {
	t.Helper()
	port := testnet.FreePorts(t, 1)[0]
	srv, err := natslog.StartEmbedded(natslog.EmbeddedConfig{Name: "n1", StoreDir: t.TempDir(),
		ClientAddr: fmt.Sprintf("127.0.0.1:%d", port)}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := natslog.OpenLog(ctx, js, natslog.LogConfig{Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	return &node{cfg: ClusterConfig{ForwardTimeout: 10 * time.Second}, nlog: l, stepDown: make(chan struct{}, 1)}
}

// A writer's append that failed although its entry landed (the acknowledgement was lost past
// the timeout) left the log holding a write set the writer did not commit. The writer's next
// commit must be fenced, not told that its different write set is that entry: JetStream
// answers a publish whose id it already holds with the stored entry's sequence.
func TestFencedLogAfterAFailedAppendThatLanded(t *testing.T) {
	n := logNode(t)
	f := &fencedLog{n: n, term: context.Background(), prefix: "n1.1.1."}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	first := &bolt.WriteSet{Ops: []bolt.WriteOp{{Kind: bolt.OpPut, Bucket: []byte("meta"), Key: []byte("k"), Value: []byte("first")}}}
	payload, err := first.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	landedID := f.entryID()
	gone, stop := context.WithCancel(ctx)
	stop()
	if _, err := f.Append(gone, first); err == nil {
		t.Fatal("an append with an ended context succeeded")
	}
	// ... and its publish reached the log after all.
	if seq, err := n.nlog.Append(ctx, 0, landedID, payload); err != nil || seq != 1 {
		t.Fatalf("the landed entry: %d %v", seq, err)
	}

	second := &bolt.WriteSet{Ops: []bolt.WriteOp{{Kind: bolt.OpPut, Bucket: []byte("meta"), Key: []byte("k"), Value: []byte("second")}}}
	seq, err := f.Append(ctx, second)
	if !errors.Is(err, bolt.ErrNotWriter) {
		t.Fatalf("the next commit's append: %d %v, want it fenced (the log holds the failed commit at 1)", seq, err)
	}
	select {
	case <-n.stepDown:
	default:
		t.Fatal("the fenced writer was not told to step down")
	}

	// A writer that appends normally is not fenced: each call's id is new, its retries' the same.
	g := &fencedLog{n: n, term: context.Background(), after: 1, prefix: "n1.2.2."}
	for want := uint64(2); want <= 4; want++ {
		if seq, err := g.Append(ctx, second); err != nil || seq != want {
			t.Fatalf("append %d: %d %v", want, seq, err)
		}
	}
}
