package bolt_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/bolt"
	bbolt "go.etcd.io/bbolt"
)

// replica follows a store's commits the way a cluster node follows the log: every write set the
// store appends is encoded, decoded and applied to a second store that began as a copy of the
// first one's file. Every test that uses newEnv runs with one (benchmarks do not), and when the
// test ends the two files must hold the same data and the replica must have published the same
// events: a write the committer makes without recording it, or an event it publishes without
// logging it, fails the test that caused it.
type replica struct {
	t    testing.TB
	path string

	mu    sync.Mutex
	seq   uint64
	store *bolt.Store
	pub   *recorder // what the replica published
	// written is what the writer published, across its reopens.
	written recorder
}

// start makes the replica a copy of the file at path, which the writer has opened and not yet
// written to.
func (r *replica) start(path string) {
	r.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		r.t.Fatal(err)
	}
	r.path = path + ".replica"
	if err := os.WriteFile(r.path, data, 0o600); err != nil {
		r.t.Fatal(err)
	}
	s, err := bolt.Open(r.path)
	if err != nil {
		r.t.Fatalf("open the replica: %v", err)
	}
	r.store, r.pub = s, &recorder{}
	s.Follow()
	s.SetPublisher(r.pub)
}

func (r *replica) Append(ctx context.Context, ws *bolt.WriteSet) (uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	wire, err := ws.AppendBinary(nil)
	if err != nil {
		return 0, err
	}
	got, err := bolt.DecodeWriteSet(wire)
	if err != nil {
		return 0, err
	}
	if err := r.store.Apply(ctx, r.seq+1, got); err != nil {
		return 0, err
	}
	r.seq++
	return r.seq, nil
}

// check closes the replica and compares it with the writer's file, which is closed.
func (r *replica) check(writerPath string) {
	r.t.Helper()
	if err := r.store.Close(); err != nil {
		r.t.Fatalf("close the replica: %v", err)
	}
	want, got := dump(r.t, writerPath), dump(r.t, r.path)
	for _, k := range sortedKeys(want, got) {
		if !bytes.Equal(want[k], got[k]) {
			_, inWant := want[k]
			_, inGot := got[k]
			r.t.Errorf("replica differs at %s: writer %q (%v), replica %q (%v)", k, trim(want[k]), inWant, trim(got[k]), inGot)
		}
	}
	if r.t.Failed() {
		return
	}
	if len(r.pub.events) != len(r.written.events) {
		r.t.Fatalf("the replica published %d events, the writer %d", len(r.pub.events), len(r.written.events))
	}
	for i, ev := range r.written.events {
		if g := r.pub.events[i]; !bytes.Equal(g.Data(), ev.Data()) || g.Personal != ev.Personal ||
			!slices.Equal(g.Recipients, ev.Recipients) || !slices.Equal(g.Sessions, ev.Sessions) {
			r.t.Fatalf("event %d: the replica published %s %v %v %v, the writer %s %v %v %v", i,
				g.Data(), g.Personal, g.Recipients, g.Sessions, ev.Data(), ev.Personal, ev.Recipients, ev.Sessions)
		}
	}
}

// dump reads every key of every bucket but the per-node ones.
func dump(t testing.TB, path string) map[string][]byte {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string][]byte{}
	err = db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			out[fmt.Sprintf("bucket %s", name)] = nil
			return b.ForEach(func(k, v []byte) error {
				if bolt.IsLocal(name, k) {
					return nil
				}
				out[fmt.Sprintf("%s/%q", name, k)] = slices.Clone(v)
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedKeys(ms ...map[string][]byte) []string {
	var keys []string
	for _, m := range ms {
		for k := range m {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func trim(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}
