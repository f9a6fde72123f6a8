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
