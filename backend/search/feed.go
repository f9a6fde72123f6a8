package search

import (
	"errors"
	"fmt"
	"os"
	"time"

	index "github.com/blevesearch/bleve_index_api"

	"github.com/herald-chat/herald/backend"
)

// feed is the feeder goroutine: it applies the log's events to the index batch by batch,
// rebuilds the index when it must, and waits for Notify when it has caught up. A failed round is
// logged and retried after a backoff that doubles (minBackoff to maxBackoff), so that a
// persistent error (a full disk) neither spins nor floods the log. It starts with a rebuild when
// Open found no usable index; stale is the path of one Open could not use, removed once a new
// one is live.
func (ix *Index) feed(rebuild bool, stale string) {
	defer ix.wg.Done()
	var backoff time.Duration
	var last time.Time // when the last round began
	for ix.ctx.Err() == nil {
		last = time.Now()
		more, err := ix.feedOnce(&rebuild, &stale)
		if err != nil {
			if ix.ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, ix.minBackoff), ix.maxBackoff)
			ix.log.Error("search index: feeding failed", "err", err, "retry_in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-ix.ctx.Done():
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		if more {
			continue
		}
		select {
		case <-ix.wake:
		case <-ix.ctx.Done():
			return
		}
		// A busy log gathers into batches of batchEvery; an event after a quiet spell goes in
		// at once.
		if wait := ix.batchEvery - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ix.ctx.Done():
				t.Stop()
				return
			}
		}
	}
}

// feedOnce does one round of the feeder: a rebuild, or one batch of events. more reports that
// there may be more to do at once.
func (ix *Index) feedOnce(rebuild *bool, stale *string) (more bool, err error) {
	if *rebuild {
		if err := ix.rebuild(*stale); err != nil {
			return false, err
		}
		*rebuild, *stale = false, ""
		return true, nil
	}
	h := ix.acquire()
	if h == nil { // closing
		return false, nil
	}
	defer h.release()
	cursor := ix.Cursor()
	if cursor == "" {
		// The index was built from an empty log, and EventsAfter needs an id the log holds: once
		// there is one, build again (as cheap as the log is short).
		last, err := ix.events.LastEventID(ix.ctx)
		if err != nil {
			return false, fmt.Errorf("read the last event id: %w", err)
		}
		*rebuild = last != ""
		return *rebuild, nil
	}
	events, err := ix.events.EventsAfter(ix.ctx, cursor, ix.batchSize)
	if errors.Is(err, backend.ErrEventNotFound) {
		ix.log.Warn("search index: the event log no longer holds the index's cursor; rebuilding from the messages", "cursor", cursor)
		*rebuild = true
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the event log after %s: %w", cursor, err)
	}
	if len(events) == 0 {
		return false, nil
	}
	if err := ix.apply(h, events); err != nil {
		return false, err
	}
	return len(events) == ix.batchSize, nil
}

// deletedSum marks, in apply's pending map, a document the batch removes.
const deletedSum = ""

// apply writes events to h in one batch, with the cursor moved to the last of them: the
// documents and the cursor are persisted together or not at all. NEW_MESSAGE and
// MESSAGE_UPDATED (re)index their message, or remove it when it is a tombstone; MESSAGE_DELETED
// removes it; an update that leaves the content as indexed (a reaction, a pin, a reply count)
// writes nothing. Removing or replacing a document marks an erasure due, in the same batch.
func (ix *Index) apply(h *handle, events []*backend.Event) error {
	s, err := h.scorchOf()
	if err != nil {
		return err
	}
	r, err := s.Reader()
	if err != nil {
		return fmt.Errorf("read search index: %w", err)
	}
	defer r.Close()
	pending := map[string]string{} // message id → content sum of what this batch indexes, or deletedSum
	indexedSum := func(id string) (sum string, exists bool, err error) {
		if sum, ok := pending[id]; ok {
			return sum, sum != deletedSum, nil
		}
		doc, err := r.Document(id)
		if err != nil || doc == nil {
			return "", false, err
		}
		doc.VisitFields(func(f index.Field) {
			if f.Name() == fieldSum {
				sum = string(f.Value())
			}
		})
		return sum, true, nil
	}
	b := h.idx.NewBatch()
	var indexed, removed int64
	erase := false
	remove := func(id string) error {
		_, exists, err := indexedSum(id)
		if err != nil || !exists {
			return err
		}
		b.Delete(id)
		pending[id] = deletedSum
		removed++
		erase = true
		return nil
	}
	put := func(m *backend.Message) error {
		if m.Deleted {
			return remove(m.ID)
		}
		sum := contentSum(m)
		old, exists, err := indexedSum(m.ID)
		if err != nil || exists && old == sum {
			return err
		}
		if err := b.IndexAdvanced(newDocument(m, ix.text, ix.kw)); err != nil {
			return fmt.Errorf("index message %s: %w", m.ID, err)
		}
		pending[m.ID] = sum
		indexed++
		erase = erase || exists
		return nil
	}
	for _, ev := range events {
		var err error
		switch ev.Type {
		case backend.EventNewMessage, backend.EventMessageUpdated:
			if ev.Message != nil {
				err = put(ev.Message)
			}
		case backend.EventMessageDeleted:
			err = remove(ev.MessageID)
		}
		if err != nil {
			return fmt.Errorf("apply event %s: %w", ev.ID, err)
		}
	}
	last := events[len(events)-1].ID
	b.SetInternal(keyCursor, cursorValue(last))
	if erase {
		b.SetInternal(keyErase, []byte{1})
	}
	ix.writeMu.Lock()
	err = h.idx.Batch(b)
	if err == nil {
		ix.mu.Lock()
		ix.cursor = last
		if erase {
			ix.eraseGen++
		}
		ix.stats.Batches++
		ix.stats.Indexed += indexed
		ix.stats.Removed += removed
		ix.broadcast()
		ix.mu.Unlock()
	}
	ix.writeMu.Unlock()
	if err != nil {
		return fmt.Errorf("write search batch up to %s: %w", last, err)
	}
	if erase {
		ix.wakeEraser()
	}
	return nil
}

// rebuild builds a new index from every message in the store, beside the live one (or in place
// of from, an index Open could not use), and swaps it in. It takes the log's last event id
// before reading the first message and continues from it: whatever changes while it reads comes
// again as events. A rebuild that fails or is interrupted leaves its directory behind, which
// the next attempt or Open removes; the old index serves searches meanwhile.
func (ix *Index) rebuild(from string) error {
	start := time.Now()
	if h := ix.acquire(); h != nil {
		from = h.path
		h.release()
	}
	last, err := ix.events.LastEventID(ix.ctx)
	if err != nil {
		return fmt.Errorf("read the last event id: %w", err)
	}
	path := nextIndexPath(ix.dir, from)
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("remove unfinished %s: %w", path, err)
	}
	idx, err := ix.createBleve(path)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			_ = idx.Close()
			_ = os.RemoveAll(path)
		}
	}()
	b := idx.NewBatch()
	n := 0
	err = ix.messages.AllMessages(ix.ctx, func(m *backend.Message) error {
		if m.Deleted {
			return nil
		}
		if err := b.IndexAdvanced(newDocument(m, ix.text, ix.kw)); err != nil {
			return fmt.Errorf("index message %s: %w", m.ID, err)
		}
		n++
		if b.Size() < ix.batchSize {
			return nil
		}
		if err := idx.Batch(b); err != nil {
			return fmt.Errorf("write search batch: %w", err)
		}
		b.Reset()
		return nil
	})
	if err != nil {
		return fmt.Errorf("rebuild search index: %w", err)
	}
	b.SetInternal(keyVersion, []byte(mappingVersion))
	b.SetInternal(keyCursor, cursorValue(last))
	if err := idx.Batch(b); err != nil {
		return fmt.Errorf("write search batch: %w", err)
	}
	if err := writeCurrent(ix.dir, path); err != nil {
		return err
	}
	done = true
	ix.mu.Lock()
	old := ix.handle
	ix.handle = newHandle(idx, path)
	ix.cursor = last
	ix.stats.Rebuilds++
	ix.broadcast()
	ix.mu.Unlock()
	ix.log.Info("search index built from the messages", "messages", n, "cursor", last, "took", time.Since(start).Round(time.Millisecond))
	if old != nil {
		old.cancel()
		old.refs.Wait()
		if err := old.idx.Close(); err != nil {
			ix.log.Warn("search index: close the replaced index", "dir", old.path, "err", err)
		}
	} else if from != "" {
		old = &handle{path: from}
	}
	if old != nil {
		// Its files held whatever it had not erased yet: they go, and so does that debt.
		if err := os.RemoveAll(old.path); err != nil {
			ix.log.Error("search index: remove the replaced index", "dir", old.path, "err", err)
			return nil
		}
	}
	ix.mu.Lock()
	ix.erasedGen = ix.eraseGen
	close(ix.erased)
	ix.erased = make(chan struct{})
	ix.mu.Unlock()
	return nil
}
