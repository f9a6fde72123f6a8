// Package files keeps uploaded files on disk and processes them in a bounded worker pool:
// SHA-256, the MIME type sniffed from the content, dimensions and a thumbnail for PNG, JPEG and
// GIF, a preview for text. The outcome goes to the store, which notifies the uploader. In a
// cluster (WithBlobs) the processed bytes also go to a replicated object store, from which the
// other nodes fetch them on their first download.
package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // image.Decode reads GIF
	_ "image/jpeg" // and JPEG
	"image/png"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
	"golang.org/x/image/draw"
)

// Limits of processing.
const (
	// ThumbnailSize is the longest side of a thumbnail (pixels).
	ThumbnailSize = 320
	// PreviewLen is how many characters of a text file make its preview.
	PreviewLen = 500
)

// ErrBusy: the processing queue is full; try again later.
var ErrBusy = errors.New("file processing queue is full")

// Finisher stores processing outcomes (the store).
type Finisher interface {
	FinishFile(ctx context.Context, f *backend.File) error
}

// Processor owns a directory of files (named by id, never by user input) and the workers that
// process them. Submit never blocks; Close waits for the jobs in progress.
type Processor struct {
	dir   string
	store Finisher
	log   *slog.Logger
	jobs  chan *backend.File
	wg    sync.WaitGroup
	ctx   context.Context
	stop  context.CancelFunc
	// decoding is shared by the workers: MaxDecodeBytes of decoded images at once.
	decoding *budget
	// Close and Resume's waits: quit closes first, then closed is set under closeMu, which a
	// Resume holds (read) while it sends, so that no send meets a closed jobs.
	quit    chan struct{}
	closeMu sync.RWMutex
	closed  bool
	blobState
}

// New starts workers over a queue of queue jobs; files live in dir (created 0700).
func New(dir string, store Finisher, workers, queue int, log *slog.Logger, opts ...Option) (*Processor, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("files dir: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	p := &Processor{dir: dir, store: store, log: log, jobs: make(chan *backend.File, queue), ctx: ctx, stop: stop, quit: make(chan struct{}),
		decoding: newBudget(MaxDecodeBytes)}
	p.fetchSlots, p.fetching, p.used = make(chan struct{}, MaxFetches), map[string]*fetchCall{}, map[string]time.Time{}
	for _, o := range opts {
		o(p)
	}
	for range max(1, workers) {
		p.wg.Add(1)
		go p.work()
	}
	return p, nil
}

// Path is where the file's bytes are.
func (p *Processor) Path(id string) string { return filepath.Join(p.dir, id) }

// ThumbnailPath is where the file's thumbnail (PNG) is.
func (p *Processor) ThumbnailPath(id string) string { return filepath.Join(p.dir, id+thumbSuffix) }

// TempFile creates a file for an upload in progress, in the same directory so that Keep can
// rename it into place.
func (p *Processor) TempFile() (*os.File, error) { return os.CreateTemp(p.dir, "upload-*.part") }

// Keep moves an uploaded temp file to the file's path.
func (p *Processor) Keep(tmp, id string) error { return os.Rename(tmp, p.Path(id)) }

// Submit queues f for processing, or returns ErrBusy when the queue is full.
func (p *Processor) Submit(f *backend.File) error {
	select {
	case p.jobs <- f:
		return nil
	default:
		return ErrBusy
	}
}

// InterruptedReason is a file's Error when its upload's bytes were lost before it was
// processed (the server, or a cluster's writer, died with them).
const InterruptedReason = "The upload was interrupted before it was processed; upload it again."

// Resume finishes the uploads a processor that went away left unfinished (pending: their
// records still say processing, Store.UnfinishedFiles): one whose bytes are on this disk is
// processed again, waiting for room in the queue within ctx; one whose bytes are not is
// recorded failed (InterruptedReason), so that its uploader sees it and can upload it again.
// It returns how many it queued and how many it failed.
func (p *Processor) Resume(ctx context.Context, pending []*backend.File) (queued, failed int, err error) {
	for _, f := range pending {
		if _, serr := os.Stat(p.Path(f.ID)); serr == nil {
			if err := p.requeue(ctx, f); err != nil {
				return queued, failed, err
			}
			queued++
			continue
		} else if !errors.Is(serr, fs.ErrNotExist) {
			return queued, failed, serr
		}
		f.Status, f.Error, f.Thumbnail = backend.FileFailed, InterruptedReason, false
		if err := p.store.FinishFile(ctx, f); err != nil && backend.ErrorCode(err) != backend.ENOTFOUND {
			return queued, failed, fmt.Errorf("record interrupted upload %s: %w", f.ID, err)
		}
		failed++
	}
	return queued, failed, nil
}

// requeue is Submit that waits for room in the queue, within ctx and until Close.
func (p *Processor) requeue(ctx context.Context, f *backend.File) error {
	p.closeMu.RLock()
	defer p.closeMu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	select {
	case p.jobs <- f:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.quit:
		return ErrClosed
	}
}

// ErrClosed is Resume's error once Close was called.
var ErrClosed = errors.New("file processor closed")

// Close stops taking jobs and waits for the workers; queued jobs are processed first. Fetches
// under way (Open) fail once it returns.
func (p *Processor) Close() {
	close(p.quit) // a Resume waiting for room lets go of closeMu
	p.closeMu.Lock()
	p.closed = true
	p.closeMu.Unlock()
	close(p.jobs)
	p.wg.Wait()
	p.stop()
}

func (p *Processor) work() {
	defer p.wg.Done()
	for f := range p.jobs {
		p.process(f)
		p.processed.Add(1)
		if p.blobs != nil {
			p.replicate(f) // before the record says processed: whoever reads it can fetch them
		}
		if err := p.store.FinishFile(p.ctx, f); err != nil {
			p.log.Error("store processed file", "file", f.ID, "err", err)
		}
	}
}

// process fills in f's metadata; a problem with the content makes it failed with a reason.
func (p *Processor) process(f *backend.File) {
	fail := func(reason string) {
		f.Status, f.Error = backend.FileFailed, reason
	}
	in, err := os.Open(p.Path(f.ID))
	if err != nil {
		p.log.Error("open upload", "file", f.ID, "err", err)
		fail("The file could not be read on the server.")
		return
	}
	defer in.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(in, head)
	head = head[:n]
	f.MIME = http.DetectContentType(head)
	h := sha256.New()
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		fail("The file could not be read on the server.")
		return
	}
	if _, err := io.Copy(h, in); err != nil {
		fail("The file could not be read on the server.")
		return
	}
	f.SHA256 = hex.EncodeToString(h.Sum(nil))
	f.Status = backend.FileReady
	switch {
	case f.MIME == "image/png" || f.MIME == "image/jpeg" || f.MIME == "image/gif":
		if reason := p.image(f, in); reason != "" {
			fail(reason)
		}
	case strings.HasPrefix(f.MIME, "text/plain"):
		f.Preview = preview(head)
	}
}

// image reads the dimensions and writes a thumbnail; it returns why that failed, or "".
func (p *Processor) image(f *backend.File, in io.ReadSeeker) string {
	kind := strings.TrimPrefix(f.MIME, "image/")
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return "The file could not be read on the server."
	}
	cfg, format, err := image.DecodeConfig(in)
	if err != nil {
		return fmt.Sprintf("Not a valid %s image: %v.", strings.ToUpper(kind), err)
	}
	f.Width, f.Height = cfg.Width, cfg.Height
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return fmt.Sprintf("The image is %d×%d pixels; it has no pixels to show.", cfg.Width, cfg.Height)
	}
	// A decompression bomb is a small file that decodes into a huge image: refuse it by the
	// memory its decoding needs, before decoding.
	size, err := decodeSize(in, format, cfg)
	if err != nil {
		return "The file could not be read on the server."
	}
	if size > MaxDecodeBytes {
		return fmt.Sprintf("The image is %d×%d pixels; decoding it would take %d MiB, more than the %d MiB this server decodes at once.",
			cfg.Width, cfg.Height, (size+1<<20-1)>>20, MaxDecodeBytes>>20)
	}
	thumb, reason := p.decodeThumbnail(in, kind, cfg, size)
	if reason != "" {
		return reason
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, thumb); err != nil {
		return "The thumbnail could not be made."
	}
	if err := os.WriteFile(p.ThumbnailPath(f.ID), buf.Bytes(), 0o600); err != nil {
		p.log.Error("write thumbnail", "file", f.ID, "err", err)
		return "The thumbnail could not be stored."
	}
	f.Thumbnail = true
	p.thumbnails.Add(1)
	return ""
}

// decodeThumbnail decodes the image, within size bytes of the decoding budget (waiting for
// them), and scales it down to a thumbnail; it returns why that failed, or "".
func (p *Processor) decodeThumbnail(in io.ReadSeeker, kind string, cfg image.Config, size int64) (*image.RGBA, string) {
	p.decoding.acquire(size)
	defer p.decoding.release(size)
	thumb, reason := decodeScaled(in, kind, cfg)
	if size >= MaxDecodeBytes/4 {
		// The decoded image is garbage now, but the collector's goal has grown with it: collect
		// before the next decode may start, or two of them would be in memory at once.
		runtime.GC()
	}
	return thumb, reason
}

func decodeScaled(in io.ReadSeeker, kind string, cfg image.Config) (*image.RGBA, string) {
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return nil, "The file could not be read on the server."
	}
	img, _, err := image.Decode(in)
	if err != nil {
		return nil, fmt.Sprintf("Not a valid %s image: %v.", strings.ToUpper(kind), err)
	}
	w, h := thumbnailSize(cfg.Width, cfg.Height)
	thumb := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(thumb, thumb.Bounds(), img, img.Bounds(), draw.Over, nil)
	return thumb, ""
}

func thumbnailSize(w, h int) (int, int) {
	if w <= ThumbnailSize && h <= ThumbnailSize {
		return w, h
	}
	if w >= h {
		return ThumbnailSize, max(1, h*ThumbnailSize/w)
	}
	return max(1, w*ThumbnailSize/h), ThumbnailSize
}

// preview is the start of a text: at most PreviewLen characters of valid UTF-8.
func preview(head []byte) string {
	s := strings.ToValidUTF8(string(head), "")
	if utf8.RuneCountInString(s) > PreviewLen {
		s = string([]rune(s)[:PreviewLen])
	}
	return s
}

// Sweep removes from the directory what no file record names: a temp file of an upload or a
// fetch left by a crash, and the bytes and thumbnail of a file whose record is gone (a deleted
// message's, when the process died between the commit and the removal). known reports whether a
// file record with that id exists. Call it before serving, while no upload is in flight. It
// returns how many entries it removed.
func (p *Processor) Sweep(ctx context.Context, known func(ctx context.Context, id string) (bool, error)) (int, error) {
	return p.sweep(ctx, known, true)
}

// Evict is Sweep without the temp files: it removes the bytes and thumbnails of files whose
// record is gone — on a cluster's replica, the copies it fetched of files deleted since. Safe
// while serving: a file's bytes get its name only after its record exists.
func (p *Processor) Evict(ctx context.Context, known func(ctx context.Context, id string) (bool, error)) (int, error) {
	return p.sweep(ctx, known, false)
}

func (p *Processor) sweep(ctx context.Context, known func(ctx context.Context, id string) (bool, error), temps bool) (int, error) {
	entries, err := os.ReadDir(p.dir)
	if err != nil {
		return 0, fmt.Errorf("sweep files: %w", err)
	}
	removed := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		name := e.Name()
		id, _ := strings.CutSuffix(name, thumbSuffix)
		temp := (strings.HasPrefix(name, "upload-") || strings.HasPrefix(name, "fetch-")) && strings.HasSuffix(name, ".part")
		orphan := temps && temp
		if !temp && len(id) == ulid.EncodedSize {
			if _, err := ulid.ParseStrict(id); err == nil {
				ok, err := known(ctx, id)
				if err != nil {
					return removed, fmt.Errorf("sweep files: %w", err)
				}
				orphan = !ok
			}
		}
		if !orphan {
			continue
		}
		if err := os.Remove(filepath.Join(p.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("sweep files: %w", err)
		}
		removed++
	}
	return removed, nil
}
