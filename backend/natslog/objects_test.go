package natslog_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io/fs"
	"slices"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/natslog"
)

// An object put through one node reads back byte for byte through the others (several chunks
// of it); a limit below its size refuses it before writing anything; once deleted it is gone
// from every node, and deleting it again is no error.
func TestObjectsPutGetDelete(t *testing.T) {
	c := newCluster(t)
	ctx := ctxFor(t, 60*time.Second)
	stores := make([]*natslog.Objects, 3)
	for i := range stores {
		o, err := natslog.OpenObjects(ctx, c.js(i), natslog.ObjectsConfig{})
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = o
	}
	data := make([]byte, 600<<10) // five chunks of 128 KiB
	rand.Read(data)
	start := time.Now()
	if err := stores[0].Put(ctx, "01J0000000000000000000000A", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	t.Logf("put %d KiB to three replicas in %v", len(data)>>10, time.Since(start).Round(time.Millisecond))
	if err := stores[0].Put(ctx, "01J0000000000000000000000A.thumb.png", bytes.NewReader([]byte("thumb"))); err != nil {
		t.Fatal(err)
	}
	for i, o := range stores {
		var got bytes.Buffer
		n, err := o.Get(ctx, "01J0000000000000000000000A", &got, int64(len(data)))
		if err != nil || n != int64(len(data)) || !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("node %d: Get: %d bytes, %v; equal %v", i, n, err, bytes.Equal(got.Bytes(), data))
		}
	}
	var got bytes.Buffer
	if _, err := stores[1].Get(ctx, "01J0000000000000000000000A", &got, int64(len(data))-1); !errors.Is(err, natslog.ErrObjectTooLarge) || got.Len() != 0 {
		t.Fatalf("Get beyond the limit: %v, %d bytes written", err, got.Len())
	}
	if _, err := stores[2].Get(ctx, "nothing", &got, 1<<20); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Get of nothing: %v, want fs.ErrNotExist", err)
	}
	list, err := stores[2].List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name)
		if e.ModTime.IsZero() || e.ModTime.After(time.Now().Add(time.Minute)) {
			t.Errorf("%s: ModTime %v", e.Name, e.ModTime)
		}
	}
	if want := []string{"01J0000000000000000000000A", "01J0000000000000000000000A.thumb.png"}; !slices.Equal(names, want) {
		t.Fatalf("List: %v, want %v", names, want)
	}

	if err := stores[1].Delete(ctx, "01J0000000000000000000000A"); err != nil {
		t.Fatal(err)
	}
	for i, o := range stores {
		if _, err := o.Get(ctx, "01J0000000000000000000000A", &got, int64(len(data))); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("node %d: Get after Delete: %v, want fs.ErrNotExist", i, err)
		}
	}
	if err := stores[2].Delete(ctx, "01J0000000000000000000000A"); err != nil {
		t.Fatalf("Delete of a deleted object: %v", err)
	}
	if err := stores[2].Delete(ctx, "never stored"); err != nil {
		t.Fatalf("Delete of nothing: %v", err)
	}
	if list, err := stores[0].List(ctx); err != nil || len(list) != 1 || list[0].Name != "01J0000000000000000000000A.thumb.png" {
		t.Fatalf("List after Delete: %v, %v", list, err)
	}
}

// blockingWriter holds its first Write until release is closed, after closing started.
type blockingWriter struct {
	buf     bytes.Buffer
	started chan struct{}
	release chan struct{}
	once    bool
}

func (w *blockingWriter) Write(b []byte) (int, error) {
	if !w.once {
		w.once = true
		close(w.started)
		<-w.release
	}
	return w.buf.Write(b)
}

// An object deleted while it is being read (a snapshot pruned while a node downloads it) is
// reported as gone — fs.ErrNotExist, which a caller answers by reading the list again — not as
// a corrupt object.
func TestObjectsGetOfAnObjectDeletedMidway(t *testing.T) {
	c := newCluster(t)
	ctx := ctxFor(t, 60*time.Second)
	o, err := natslog.OpenObjects(ctx, c.js(0), natslog.ObjectsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 16<<20) // 128 chunks: more than Get has in flight
	rand.Read(data)
	if err := o.Put(ctx, "snap", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	w := &blockingWriter{started: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := o.Get(ctx, "snap", w, int64(len(data)))
		done <- err
	}()
	select {
	case <-w.started:
	case err := <-done:
		t.Fatalf("Get ended before writing: %v", err)
	}
	if err := o.Delete(ctx, "snap"); err != nil {
		t.Fatal(err)
	}
	close(w.release)
	if err = <-done; !errors.Is(err, natslog.ErrObjectGone) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Get of an object deleted midway: %v after %d of %d bytes, want fs.ErrNotExist", err, w.buf.Len(), len(data))
	}
}
