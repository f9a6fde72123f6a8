package search

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Erasure.
//
// Removing a document from a scorch index only marks it deleted in the segment that holds it:
// the segment file keeps its terms until a merge rewrites the segment without it, and the old
// file stays until no persisted snapshot refers to it. The API promises that a deleted message
// leaves the index, and an edit's old words with it. So after each batch that removed or
// replaced documents, the eraser rewrites the index until no segment marks a document deleted
// and no segment file is left that the live snapshot does not use:
//
//  1. With deletions and fewer than two persisted segments it first writes a filler document
//     (which no search can find: it has no chat), because bleve's planner never merges a lone
//     segment; the filler replaces the last one, whose deletion the merge drops with the rest.
//  2. It asks scorch for a forced merge into one segment (mergeplan.SingleSegmentMergePlanOptions):
//     the merge copies only live documents, and a term left without any is dropped from the
//     new segment's dictionary.
//  3. The persister removes old files once a snapshot without them is persisted and nothing
//     holds them; each round without deletions writes a tiny batch (the nudge) and waits for its
//     persistence, which gives the persister a round to remove them in.
//
// It checks the condition, not the steps: the live snapshot's segments and the directory, each
// round, at most maxEraseRounds of them (an index that others keep writing to may take more; the
// eraser then backs off and starts again).
//
// The cost: a forced merge rewrites the whole index — about a second for 100,000 messages (a
// 40 MB index) on two cores (BenchmarkErase) — once per batch of removals — deletions and edits that come while a merge runs
// share the next one. Searches go on meanwhile (they read snapshots) and so does feeding; the
// eraser is a goroutine of its own, and the merge shares scorch's merger with the regular
// merges. The disk briefly holds the index twice. What the file system does with the freed
// blocks (an SSD's, a snapshotting file system's) is beyond the index.
//
// The flag keyErase is set in the batch that removes documents and cleared (only if no later
// batch set it again, see writeMu) once the index is clean, so that an erasure a crash or
// shutdown interrupted is done again at the next Open.

const fillerID = "\x00erasure-filler"

// keyNudge is the internal key of the nudge batch.
var keyNudge = []byte("herald.nudge")

func (ix *Index) wakeEraser() {
	select {
	case ix.erase <- struct{}{}:
	default:
	}
}

// eraseLoop is the eraser goroutine: it waits for wakeEraser and erases, retrying a failed
// erasure after a backoff (minBackoff doubling to maxBackoff).
func (ix *Index) eraseLoop() {
	defer ix.wg.Done()
	for {
		select {
		case <-ix.erase:
		case <-ix.ctx.Done():
			return
		}
		var backoff time.Duration
		for {
			err := ix.eraseOnce()
			if err == nil || ix.ctx.Err() != nil {
				break
			}
			backoff = min(max(2*backoff, ix.minBackoff), ix.maxBackoff)
			ix.log.Error("search index: erasure failed", "err", err, "retry_in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-ix.ctx.Done():
				t.Stop()
				return
			}
		}
	}
}

// eraseOnce erases what the batches applied so far removed or replaced.
func (ix *Index) eraseOnce() error {
	h := ix.acquire()
	if h == nil {
		return nil
	}
	defer h.release()
	ix.mu.Lock()
	gen, done := ix.eraseGen, ix.erasedGen
	ix.mu.Unlock()
	if gen == done {
		return nil
	}
	s, err := h.scorchOf()
	if err != nil {
		return err
	}
	start := time.Now()
	var st segmentState
	for round := 0; round < maxEraseRounds; round++ {
		if h.ctx.Err() != nil {
			return nil // retired: a rebuild replaced the index, and its directory goes
		}
		st, err = inspect(s, filepath.Join(h.path, "store"))
		if err != nil {
			return err
		}
		switch {
		case st.clean():
			return ix.erasureDone(h, gen, start)
		case st.deleted > 0:
			if st.persisted < 2 {
				b := h.idx.NewBatch()
				filler := document.NewDocument(fillerID)
				if err := b.IndexAdvanced(filler); err != nil {
					return fmt.Errorf("erasure filler: %w", err)
				}
				if err := h.idx.Batch(b); err != nil {
					return fmt.Errorf("write erasure filler: %w", err)
				}
			}
			opts := mergeplan.SingleSegmentMergePlanOptions
			if err := s.ForceMerge(h.ctx, &opts); err != nil {
				return fmt.Errorf("merge segments: %w", err)
			}
		default:
			b := h.idx.NewBatch()
			b.SetInternal(keyNudge, []byte{byte(round)})
			if err := h.idx.Batch(b); err != nil {
				return fmt.Errorf("write nudge: %w", err)
			}
		}
	}
	return fmt.Errorf("not erased after %d rounds: %s", maxEraseRounds, st)
}

// erasureDone records that everything up to gen is erased and clears the persisted flag unless
// a later batch set it again.
func (ix *Index) erasureDone(h *handle, gen uint64, start time.Time) error {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	ix.mu.Lock()
	latest := ix.eraseGen == gen
	ix.mu.Unlock()
	if latest {
		b := h.idx.NewBatch()
		b.DeleteInternal(keyErase)
		if err := h.idx.Batch(b); err != nil {
			return fmt.Errorf("clear the erasure flag: %w", err)
		}
	}
	ix.mu.Lock()
	ix.erasedGen = max(ix.erasedGen, gen)
	ix.stats.Erasures++
	close(ix.erased)
	ix.erased = make(chan struct{})
	ix.mu.Unlock()
	ix.log.Debug("search index: erased removed documents", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// segmentState is what inspect finds.
type segmentState struct {
	deleted   uint64 // documents marked deleted in the live snapshot's segments
	persisted int    // segments of the live snapshot that are files
	stray     []string
}

func (st segmentState) clean() bool { return st.deleted == 0 && len(st.stray) == 0 }

func (st segmentState) String() string {
	return fmt.Sprintf("%d deleted documents in %d segments, unused files %v", st.deleted, st.persisted, st.stray)
}

// inspect reads the live snapshot's segments and the segment files in dir (scorch's directory).
func inspect(s *scorch.Scorch, dir string) (segmentState, error) {
	var st segmentState
	r, err := s.Reader()
	if err != nil {
		return st, fmt.Errorf("read search index: %w", err)
	}
	defer r.Close()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return st, fmt.Errorf("search index reader is %T, not a scorch snapshot", r)
	}
	used := map[string]bool{}
	for _, ss := range snap.Segments() {
		if d := ss.Deleted(); d != nil {
			st.deleted += d.GetCardinality()
		}
		if p, ok := ss.Segment().(segment.PersistedSegment); ok {
			used[filepath.Base(p.Path())] = true
			st.persisted++
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return st, fmt.Errorf("read search index dir: %w", err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".zap") && !used[e.Name()] {
			st.stray = append(st.stray, e.Name())
		}
	}
	return st, nil
}
