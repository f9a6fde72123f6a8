package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
)

// Blobs keeps copies of files' bytes beyond this node's disk: in a cluster, a replicated object
// store (teamserver wires one over NATS JetStream), so that every node can serve every file.
// Names are the ones the bytes have on disk: a file's id for the upload, id+".thumb.png" for
// its thumbnail. Implementations are safe for concurrent use; every call is bounded by its ctx.
type Blobs interface {
	// Put stores the bytes of r, read from its start, under name (replacing what was there) and
	// returns once the store holds them durably.
	Put(ctx context.Context, name string, r io.ReadSeeker) error
	// Get writes the bytes stored under name to w and returns how many it wrote. Nothing stored
	// under name is an error wrapping fs.ErrNotExist; more than limit bytes stored is an error,
	// before anything is written. A failure part way leaves w holding part of the bytes.
	Get(ctx context.Context, name string, w io.Writer, limit int64) (int64, error)
	// Delete removes what is stored under name; nothing stored is no error.
	Delete(ctx context.Context, name string) error
}

// Bounds of the work with Blobs.
const (
	// BlobTimeout bounds one Put, Get or Delete of the processor's (a 25 MB upload takes well
	// under a second on a LAN; a NATS leader election ~7 s).
	BlobTimeout = time.Minute
	// MaxFetches is how many fetches from Blobs one processor runs at once; more wait.
	MaxFetches = 4
	// maxThumbnailBytes bounds a fetched thumbnail, whatever the upload limit: a PNG of
	// ThumbnailSize² RGBA pixels of noise is ~410 KB.
	maxThumbnailBytes = 1 << 20
	thumbSuffix       = ".thumb.png"
)

// Option configures a Processor (New).
type Option func(*Processor)

// WithBlobs makes the processor put every processed upload's bytes and thumbnail into b before
// it hands the outcome to the store, fetch from b what a download finds missing on disk (and keep
// it there), and remove from b what Remove removes. maxSize bounds a fetched upload (bytes: the
// server's upload limit). Without it, or with a nil b, the processor uses its disk alone.
func WithBlobs(b Blobs, maxSize int64) Option {
	return func(p *Processor) { p.blobs, p.maxBlob = b, maxSize }
}

// Stats counts what a processor did since it started.
type Stats struct {
	Processed  uint64 // uploads processed
	Thumbnails uint64 // thumbnails made
	Fetched    uint64 // files and thumbnails fetched from Blobs into the disk
}

// Stats returns the processor's counters. Safe for concurrent use.
func (p *Processor) Stats() Stats {
	return Stats{Processed: p.processed.Load(), Thumbnails: p.thumbnails.Load(), Fetched: p.fetched.Load()}
}

// counters and the state of fetches, part of Processor.
type blobState struct {
	blobs   Blobs
	maxBlob int64

	processed, thumbnails, fetched atomic.Uint64

	fetchSlots chan struct{} // capacity MaxFetches: a token per fetch under way
	fetchMu    sync.Mutex
	fetching   map[string]*fetchCall // by name; guarded by fetchMu

	// used is when a download last opened each copy on disk (by name; the file's modification
	// time stands in for one not opened since the start), for Trim. Trim forgets the names that
	// are no longer on disk, so it holds at most one entry per file there.
	usedMu sync.Mutex
	used   map[string]time.Time
}

// fetchCall is one fetch of a name; whoever asks for the name meanwhile waits for it.
type fetchCall struct {
	done chan struct{} // closed when err is set
	err  error
}

// replicate puts f's bytes and thumbnail into the blobs. A failure fails the file: a record that
// says "ready" must name bytes every node can fetch.
func (p *Processor) replicate(f *backend.File) {
	names := []string{f.ID}
	if f.Thumbnail {
		names = append(names, f.ID+thumbSuffix)
	}
	for _, name := range names {
		if err := p.putBlob(name); err != nil {
			p.log.Error("put a processed file into the cluster's object store", "file", f.ID, "name", name, "err", err)
			f.Status, f.Error, f.Thumbnail = backend.FileFailed, "The file could not be stored in the cluster; upload it again.", false
			return
		}
	}
}

func (p *Processor) putBlob(name string) error {
	in, err := os.Open(filepath.Join(p.dir, name))
	if err != nil {
		return err
	}
	defer in.Close()
	ctx, cancel := context.WithTimeout(p.ctx, BlobTimeout)
	defer cancel()
	return p.blobs.Put(ctx, name, in)
}

// Open opens the upload's bytes for reading; the caller closes the file. With Blobs, bytes this
// node's disk lacks are fetched first and kept there: however many ask for the same file at
// once, it is fetched once, and at most MaxFetches fetches run at once (others wait, within ctx;
// a fetch under way takes at most BlobTimeout). Bytes that are nowhere — the file is not
// processed yet, or it was deleted — are an error wrapping fs.ErrNotExist.
func (p *Processor) Open(ctx context.Context, id string) (*os.File, error) {
	return p.open(ctx, id, p.maxBlob)
}

// OpenThumbnail is Open for the file's thumbnail (PNG).
func (p *Processor) OpenThumbnail(ctx context.Context, id string) (*os.File, error) {
	return p.open(ctx, id+thumbSuffix, max(p.maxBlob, maxThumbnailBytes))
}

func (p *Processor) open(ctx context.Context, name string, limit int64) (*os.File, error) {
	path := filepath.Join(p.dir, name)
	f, err := os.Open(path)
	if err == nil || p.blobs == nil || !errors.Is(err, fs.ErrNotExist) {
		if err == nil && p.blobs != nil {
			p.markUsed(name)
		}
		return f, err
	}
	if err := p.fetch(ctx, name, limit); err != nil {
		return nil, err
	}
	p.markUsed(name)
	return os.Open(path)
}

// markUsed notes that a download opened the copy name now: the last that Trim removes.
func (p *Processor) markUsed(name string) {
	p.usedMu.Lock()
	p.used[name] = time.Now()
	p.usedMu.Unlock()
}

// fetch brings name from the blobs onto the disk, or waits for the fetch of it under way.
func (p *Processor) fetch(ctx context.Context, name string, limit int64) error {
	p.fetchMu.Lock()
	c, waiting := p.fetching[name]
	if !waiting {
		c = &fetchCall{done: make(chan struct{})}
		p.fetching[name] = c
	}
	p.fetchMu.Unlock()
	if waiting {
		select {
		case <-c.done:
			return c.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// The fetch is the processor's, not the caller's: those waiting for it would fail with a
	// caller that went away.
	c.err = p.fetchOnce(name, limit)
	p.fetchMu.Lock()
	delete(p.fetching, name)
	p.fetchMu.Unlock()
	close(c.done)
	return c.err
}

func (p *Processor) fetchOnce(name string, limit int64) error {
	ctx, cancel := context.WithTimeout(p.ctx, BlobTimeout)
	defer cancel()
	select {
	case p.fetchSlots <- struct{}{}:
		defer func() { <-p.fetchSlots }()
	case <-ctx.Done():
		return fmt.Errorf("fetch %s: %w", name, ctx.Err())
	}
	path := filepath.Join(p.dir, name)
	if _, err := os.Stat(path); err == nil {
		return nil // a fetch that ended as this one was being set up brought it
	}
	tmp, err := os.CreateTemp(p.dir, "fetch-*.part")
	if err != nil {
		return fmt.Errorf("fetch %s: %w", name, err)
	}
	_, err = p.blobs.Get(ctx, name, tmp, limit)
	if err == nil {
		err = tmp.Sync() // a crash must not leave a cut-off copy under the file's name
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("fetch %s: %w", name, err)
	}
	p.fetched.Add(1)
	return nil
}

// Remove deletes the upload's bytes and thumbnail from this node's disk and, with Blobs, from
// the blobs (within BlobTimeout). What is not there is no error; the errors of the rest are
// joined. Other nodes' copies stay until their sweep (Evict) finds the file's record gone.
func (p *Processor) Remove(ctx context.Context, id string) error {
	var errs []error
	for _, name := range []string{id, id + thumbSuffix} {
		if err := os.Remove(filepath.Join(p.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		if p.blobs != nil {
			bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), BlobTimeout)
			if err := p.blobs.Delete(bctx, name); err != nil {
				errs = append(errs, fmt.Errorf("delete %s from the object store: %w", name, err))
			}
			cancel()
		}
	}
	return errors.Join(errs...)
}

// Trim keeps this node's copies of shared files within budget bytes: with Blobs, the disk is a
// cache of the object store, and Trim removes the least recently used copies (by modification
// time, or when a download last opened it) until the rest fit. It removes
// only the bytes and thumbnails of files ready reports as held by the blobs (their record says
// processed), and none younger than minAge; a download under way keeps its open file. It returns
// how many entries it removed and their bytes. Without Blobs it removes nothing: the disk is the
// only copy.
func (p *Processor) Trim(ctx context.Context, budget int64, minAge time.Duration, ready func(ctx context.Context, id string) (bool, error)) (int, int64, error) {
	if p.blobs == nil {
		return 0, 0, nil
	}
	entries, err := os.ReadDir(p.dir)
	if err != nil {
		return 0, 0, fmt.Errorf("trim files: %w", err)
	}
	p.usedMu.Lock()
	used := maps.Clone(p.used)
	p.usedMu.Unlock()
	type copyOnDisk struct {
		name string
		size int64
		used time.Time
	}
	var copies []copyOnDisk
	var total int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue // removed meanwhile, or not a file's
		}
		total += info.Size()
		id, _ := strings.CutSuffix(e.Name(), thumbSuffix)
		if _, err := ulid.ParseStrict(id); err != nil || len(id) != ulid.EncodedSize {
			continue // a temp file: an upload or a fetch under way
		}
		c := copyOnDisk{name: e.Name(), size: info.Size(), used: info.ModTime()}
		if t, ok := used[c.name]; ok {
			c.used = t
			delete(used, c.name)
		}
		copies = append(copies, c)
	}
	p.usedMu.Lock()
	for name := range used { // not on disk any more
		delete(p.used, name)
	}
	p.usedMu.Unlock()
	if total <= budget {
		return 0, 0, nil
	}
	slices.SortFunc(copies, func(a, b copyOnDisk) int { return a.used.Compare(b.used) })
	removed, freed := 0, int64(0)
	for _, c := range copies {
		if total <= budget {
			break
		}
		if err := ctx.Err(); err != nil {
			return removed, freed, err
		}
		if time.Since(c.used) < minAge {
			break // the rest are younger still
		}
		id, _ := strings.CutSuffix(c.name, thumbSuffix)
		ok, err := ready(ctx, id)
		if err != nil {
			return removed, freed, fmt.Errorf("trim files: %w", err)
		}
		if !ok {
			continue
		}
		if err := os.Remove(filepath.Join(p.dir, c.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, freed, fmt.Errorf("trim files: %w", err)
		}
		p.usedMu.Lock()
		delete(p.used, c.name)
		p.usedMu.Unlock()
		total -= c.size
		removed++
		freed += c.size
	}
	return removed, freed, nil
}
