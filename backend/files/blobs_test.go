package files_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/files"
)

// memBlobs is a Blobs in memory, standing in for the cluster's object store (tested against
// NATS in natslog and teamserver). Get waits for gate when one is set.
type memBlobs struct {
	mu   sync.Mutex
	m    map[string][]byte
	gets int
	gate chan struct{}
}

func (b *memBlobs) Put(_ context.Context, name string, r io.ReadSeeker) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m[name] = data
	return nil
}

func (b *memBlobs) Get(ctx context.Context, name string, w io.Writer, limit int64) (int64, error) {
	b.mu.Lock()
	b.gets++
	data, ok := b.m[name]
	gate := b.gate
	b.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if !ok {
		return 0, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
	}
	if int64(len(data)) > limit {
		return 0, errors.New("too large")
	}
	n, err := w.Write(data)
	return int64(n), err
}

func (b *memBlobs) Delete(_ context.Context, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, name)
	return nil
}

func (b *memBlobs) has(name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.m[name]
	return ok
}

func newBlobProcessor(t *testing.T, blobs files.Blobs, maxSize int64) (*files.Processor, finished) {
	t.Helper()
	done := make(finished, 16)
	p, err := files.New(t.TempDir(), done, 2, 8, slog.New(slog.DiscardHandler), files.WithBlobs(blobs, maxSize))
	if err != nil {
		t.Fatal(err)
	}
	return p, done
}

// The processor puts what it processed (the upload and its thumbnail) into the blobs before it
// hands the outcome on; another processor sharing them fetches each once, however many open it
// at once, keeps it, and refuses one beyond its size bound; Remove takes the blobs away too, and
// Evict drops a copy whose record is gone.
func TestProcessorSharesThroughBlobs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		blobs := &memBlobs{m: map[string][]byte{}}
		writer, done := newBlobProcessor(t, blobs, 1<<20)
		defer writer.Close()
		const id = "01J00000000000000000000000"
		img := pngOf(t, 640, 480)
		f := process(t, writer, done, map[string][]byte{id: img})[id]
		if f.Status != backend.FileReady || !f.Thumbnail {
			t.Fatalf("processed: %+v", f)
		}
		if !blobs.has(id) || !blobs.has(id+".thumb.png") {
			t.Fatal("the upload or its thumbnail is not in the blobs when the outcome is handed on")
		}
		if s := writer.Stats(); s.Processed != 1 || s.Thumbnails != 1 || s.Fetched != 0 {
			t.Fatalf("writer stats %+v", s)
		}

		replica, _ := newBlobProcessor(t, blobs, 1<<20)
		defer replica.Close()
		blobs.gate = make(chan struct{})
		var wg sync.WaitGroup
		got := make([][]byte, 16)
		for i := range got {
			wg.Go(func() {
				in, err := replica.Open(t.Context(), id)
				if err != nil {
					t.Errorf("Open: %v", err)
					return
				}
				defer in.Close()
				got[i], _ = io.ReadAll(in)
			})
		}
		synctest.Wait() // all sixteen wait: one in Get, the others for it
		close(blobs.gate)
		wg.Wait()
		for i, b := range got {
			if !bytes.Equal(b, img) {
				t.Fatalf("reader %d got %d bytes, want the upload's %d", i, len(b), len(img))
			}
		}
		if blobs.gets != 1 || replica.Stats().Fetched != 1 {
			t.Fatalf("%d gets, %d fetched for sixteen opens at once; want one", blobs.gets, replica.Stats().Fetched)
		}
		if in, err := replica.OpenThumbnail(t.Context(), id); err != nil {
			t.Fatal(err)
		} else {
			in.Close()
		}
		if _, err := os.Stat(replica.ThumbnailPath(id)); err != nil {
			t.Fatalf("the fetched thumbnail is not kept: %v", err)
		}
		if _, err := replica.Open(t.Context(), "01J00000000000000000000001"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open of bytes that are nowhere: %v, want fs.ErrNotExist", err)
		}

		small, _ := newBlobProcessor(t, blobs, int64(len(img)-1))
		defer small.Close()
		if _, err := small.Open(t.Context(), id); err == nil {
			t.Fatal("a fetch beyond the size bound succeeded")
		}

		if err := writer.Remove(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		if blobs.has(id) || blobs.has(id+".thumb.png") {
			t.Fatal("Remove left the blobs")
		}
		n, err := replica.Evict(t.Context(), func(context.Context, string) (bool, error) { return false, nil })
		if err != nil || n != 2 {
			t.Fatalf("Evict: %d, %v; want the copies of the upload and its thumbnail", n, err)
		}
	})
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{200, 30, 30, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Trim keeps a cluster node's copies within a budget: the least recently used go first (an
// open counts as a use), never a file not yet held by the blobs, nor a temp file, nor a copy
// younger than the minimum age; without blobs it removes nothing.
func TestTrimKeepsTheCopiesWithinABudget(t *testing.T) {
	blobs := &memBlobs{m: map[string][]byte{}}
	ids := []string{"01J0000000000000000000000A", "01J0000000000000000000000B", "01J0000000000000000000000C", "01J0000000000000000000000D"}
	for _, id := range ids {
		blobs.m[id] = bytes.Repeat([]byte{'x'}, 1000)
	}
	p, _ := newBlobProcessor(t, blobs, 1<<20)
	defer p.Close()
	open := func(id string) {
		t.Helper()
		in, err := p.Open(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		in.Close()
	}
	for _, id := range ids {
		open(id)
	}
	open(ids[0]) // A is the most recently used now: B, C, D, A
	if err := os.WriteFile(filepath.Join(filepath.Dir(p.Path(ids[0])), "fetch-1.part"), make([]byte, 500), 0o600); err != nil {
		t.Fatal(err)
	}
	ready := func(_ context.Context, id string) (bool, error) { return id != ids[3], nil } // D is processing
	present := func() (out []string) {
		for _, id := range ids {
			if _, err := os.Stat(p.Path(id)); err == nil {
				out = append(out, id[len(id)-1:])
			}
		}
		return out
	}

	if n, freed, err := p.Trim(t.Context(), 2500, time.Hour, ready); err != nil || n != 0 {
		t.Fatalf("Trim of copies younger than the minimum age: %d removed (%d bytes), %v", n, freed, err)
	}
	if n, freed, err := p.Trim(t.Context(), 2500, 0, ready); err != nil || n != 2 || freed != 2000 {
		t.Fatalf("Trim to 2,500 of 4,500 bytes: %d removed (%d bytes), %v; want B and C", n, freed, err)
	}
	if got := present(); !slices.Equal(got, []string{"A", "D"}) {
		t.Fatalf("after Trim to 2,500 bytes the copies of %v are on disk, want A and D", got)
	}
	if n, _, err := p.Trim(t.Context(), 0, 0, ready); err != nil || n != 1 {
		t.Fatalf("Trim to nothing: %d removed, %v; want A alone (D is processing, the temp file in use)", n, err)
	}
	if got := present(); !slices.Equal(got, []string{"D"}) {
		t.Fatalf("after Trim to nothing the copies of %v are on disk, want D", got)
	}
	open(ids[0]) // fetched again when asked for
	if blobs.gets != 5 {
		t.Fatalf("%d gets, want 5: four fetches and A's again", blobs.gets)
	}

	done := make(finished, 1)
	alone, err := files.New(t.TempDir(), done, 1, 1, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer alone.Close()
	if err := os.WriteFile(alone.Path(ids[0]), make([]byte, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	if n, _, err := alone.Trim(t.Context(), 0, 0, ready); err != nil || n != 0 {
		t.Fatalf("Trim without blobs: %d removed, %v; the disk is the only copy", n, err)
	}
}
