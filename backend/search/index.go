// Package search is Herald's full-text search of messages: a bleve (scorch) index in a
// directory of its own, fed from the event log, that answers backend.Searcher.
//
// The index holds each message's words, chat, author and time under the message's id, and none
// of its content: results are loaded from the store, which has the last word on what a message
// says and whether it still exists. One goroutine (the feeder) reads the log after a cursor that
// the index keeps with its documents, in the same bleve batch, so that after a crash the index
// resumes exactly where its documents end. When the log no longer holds the cursor (retention
// pruned it) or the index is missing, damaged or of another layout, the feeder builds a new one
// from every message in the store beside the old and swaps it in. A second goroutine (the eraser)
// rewrites the index's segment files after deletions and edits, so that the words of a deleted
// message or of an edit's old text do not stay on disk.
package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/herald-chat/herald/backend"
)

// MessageSource hands out every message the store holds, for a rebuild (bolt.Store implements
// it). fn's error ends the walk and is returned.
type MessageSource interface {
	AllMessages(ctx context.Context, fn func(*backend.Message) error) error
}

// Defaults of the options.
const (
	// DefaultBatchSize is how many logged events the feeder reads and applies in one bleve
	// batch, and how many messages a rebuild indexes per batch. Each batch costs one fsync of a
	// new segment and of the index's root file.
	DefaultBatchSize = 1000
	// DefaultMinBackoff and DefaultMaxBackoff bound the wait after a failed feeder or eraser
	// round; it doubles from the first to the second while the failures go on.
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
	// DefaultBatchEvery is the shortest time between two feeder batches of a busy log: each
	// batch is a bleve segment that later merges cost CPU for, so a log that grows 50 events
	// a second is applied 2 batches a second rather than 50. An event after a quiet spell is
	// applied at once.
	DefaultBatchEvery = 500 * time.Millisecond
	// maxEraseRounds bounds one erasure: rounds of merging or of waiting for the persister to
	// remove the files that held the erased documents. It takes two or three when nothing else
	// writes to the index.
	maxEraseRounds = 50
)

// Option configures an Index.
type Option func(*Index)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(ix *Index) { ix.log = l } }

// WithBatchSize sets how many events (and, in a rebuild, messages) one batch takes (default
// DefaultBatchSize; at least 1).
func WithBatchSize(n int) Option { return func(ix *Index) { ix.batchSize = max(1, n) } }

// WithBatchEvery sets the shortest time between two feeder batches (default
// DefaultBatchEvery; 0: none, every wake reads the log at once).
func WithBatchEvery(d time.Duration) Option { return func(ix *Index) { ix.batchEvery = max(0, d) } }

// WithBackoff sets the bounds of the wait after a failed round (defaults DefaultMinBackoff,
// DefaultMaxBackoff).
func WithBackoff(min, max time.Duration) Option {
	return func(ix *Index) { ix.minBackoff, ix.maxBackoff = min, max }
}

// Index is the search index of one team server. Search and WaitFor are safe for concurrent use;
// the index's own goroutines (the feeder and the eraser) stop in Close.
type Index struct {
	dir        string
	events     backend.EventLog
	messages   MessageSource
	log        *slog.Logger
	batchSize  int
	batchEvery time.Duration
	minBackoff time.Duration
	maxBackoff time.Duration

	mapping  *mapping.IndexMappingImpl
	text, kw analysis.Analyzer

	ctx    context.Context // ends in Close
	cancel context.CancelFunc
	wake   chan struct{} // the feeder's: buffered 1, Notify never blocks
	erase  chan struct{} // the eraser's: buffered 1
	wg     sync.WaitGroup
	once   sync.Once

	writeMu sync.Mutex // orders the feeder's and the eraser's batches (see eraseGen)

	mu        sync.Mutex
	handle    *handle       // the live index; nil until the first build is done
	cursor    string        // the last event applied; "" for none (an empty log)
	changed   chan struct{} // closed and replaced when cursor or handle changes
	eraseGen  uint64        // batches that removed or replaced documents
	erasedGen uint64        // of those, the ones whose old documents are gone from disk
	erased    chan struct{} // closed and replaced when erasedGen changes
	stats     Stats
}

// Stats are an index's counters since Open.
type Stats struct {
	Batches  int64 // feeder batches applied
	Indexed  int64 // documents added or replaced by the feeder
	Removed  int64 // documents removed by the feeder
	Rebuilds int64 // indexes built from the store's messages
	Erasures int64 // erasures completed (segments rewritten and old files removed)
}

// handle is one bleve index in its directory, shared by the feeder, the eraser and searches.
// Its users hold refs while they use it; retire waits for them before closing it.
type handle struct {
	idx    bleve.Index
	path   string
	ctx    context.Context // ends at retire: an erasure of a retired index stops
	cancel context.CancelFunc
	refs   sync.WaitGroup
}

// Open opens the index in dir (created 0700 if missing; the team server passes
// <data-dir>/search) and starts its goroutines: the feeder, which applies the events of log
// after the index's cursor and is woken by Notify, and the eraser. An index that is missing,
// unreadable or of another mapping version is rebuilt in the background from messages; until
// the first one is built Search is EUNAVAILABLE and WaitFor waits. Open fails only when dir
// cannot be made or read.
func Open(dir string, log backend.EventLog, messages MessageSource, opts ...Option) (*Index, error) {
	ix := &Index{dir: dir, events: log, messages: messages, log: slog.Default(), batchSize: DefaultBatchSize,
		batchEvery: DefaultBatchEvery, minBackoff: DefaultMinBackoff, maxBackoff: DefaultMaxBackoff,
		wake: make(chan struct{}, 1), erase: make(chan struct{}, 1),
		changed: make(chan struct{}), erased: make(chan struct{})}
	for _, o := range opts {
		o(ix)
	}
	m, err := newMapping()
	if err != nil {
		return nil, err
	}
	ix.mapping, ix.text, ix.kw = m, m.AnalyzerNamed(textAnalyzer), m.AnalyzerNamed("keyword")
	if ix.text == nil || ix.kw == nil {
		return nil, errors.New("search: the mapping lacks its analyzers")
	}
	current, err := prepareDir(dir)
	if err != nil {
		return nil, err
	}
	var stale string // an index that could not be used, removed once its successor is live
	if current != "" {
		h, cursor, erasePending, err := ix.openExisting(current)
		if err != nil {
			ix.log.Warn("search index unusable; rebuilding it from the messages", "dir", current, "err", err)
			stale = current
		} else {
			ix.handle, ix.cursor = h, cursor
			if erasePending {
				ix.eraseGen = 1
				ix.erase <- struct{}{}
			}
		}
	}
	ix.ctx, ix.cancel = context.WithCancel(context.Background())
	ix.wg.Add(2)
	go ix.feed(ix.handle == nil, stale)
	go ix.eraseLoop()
	return ix, nil
}

// Notify wakes the feeder to read the log. It never blocks: wakes that arrive while the feeder
// is busy fold into one.
func (ix *Index) Notify() {
	select {
	case ix.wake <- struct{}{}:
	default:
	}
}

// Publish is backend.Publisher: chained after the hub in the store's publisher, it wakes the
// feeder after each commit. The events themselves are read from the log.
func (ix *Index) Publish(...*backend.Event) { ix.Notify() }

var _ backend.Publisher = (*Index)(nil)

// WaitFor blocks until the index holds every event up to eventID ("" for an empty log: until
// the first index is built), or ctx ends (ctx.Err()), or the index closes (backend.ErrClosed).
// It wakes the feeder first, so it works without a publisher too.
func (ix *Index) WaitFor(ctx context.Context, eventID string) error {
	ix.Notify()
	for {
		ix.mu.Lock()
		ok := ix.handle != nil && ix.cursor >= eventID
		ch := ix.changed
		ix.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-ix.ctx.Done():
			return backend.ErrClosed
		}
	}
}

// WaitErased blocks until the words of every document removed or replaced before the call are
// gone from the index's files (or ctx ends, or the index closes): the erasure the API promises.
func (ix *Index) WaitErased(ctx context.Context) error {
	ix.mu.Lock()
	target := ix.eraseGen
	ix.mu.Unlock()
	for {
		ix.mu.Lock()
		ok := ix.erasedGen >= target
		ch := ix.erased
		ix.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-ix.ctx.Done():
			return backend.ErrClosed
		}
	}
}

// Cursor returns the id of the last event the index holds ("" for none).
func (ix *Index) Cursor() string {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.cursor
}

// Stats returns the index's counters.
func (ix *Index) Stats() Stats {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.stats
}

// Close stops the feeder and the eraser (a batch in flight completes; a rebuild or merge in
// flight is abandoned, to be done again at the next Open) and closes the index. Safe to call
// more than once.
func (ix *Index) Close() error {
	var err error
	ix.once.Do(func() {
		ix.cancel()
		ix.wg.Wait()
		ix.mu.Lock()
		h := ix.handle
		ix.handle = nil
		ix.mu.Unlock()
		if h != nil {
			h.cancel()
			h.refs.Wait()
			if cerr := h.idx.Close(); cerr != nil {
				err = fmt.Errorf("close search index %s: %w", h.path, cerr)
			}
		}
	})
	return err
}

// acquire returns the live index with a reference the caller must release, nil while there is
// none.
func (ix *Index) acquire() *handle {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.handle != nil {
		ix.handle.refs.Add(1)
	}
	return ix.handle
}

func (h *handle) release() { h.refs.Done() }

// scorchOf returns the scorch index under h's bleve index.
func (h *handle) scorchOf() (*scorch.Scorch, error) {
	adv, err := h.idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("search index %s: %w", h.path, err)
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil, fmt.Errorf("search index %s is %T, not scorch", h.path, adv)
	}
	return s, nil
}

// broadcast wakes WaitFor's callers. The caller holds mu.
func (ix *Index) broadcast() {
	close(ix.changed)
	ix.changed = make(chan struct{})
}
