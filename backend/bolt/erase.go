package bolt

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
	bbolt "go.etcd.io/bbolt"
)

func (s *Store) DeleteMessage(ctx context.Context, chatID, messageID string, by *backend.User) (string, error) {
	var fileID string
	err := s.update(ctx, func(t *txn) error {
		fileID = ""
		chat, err := t.memberChat(chatID, by.ID)
		if err != nil {
			return err
		}
		m, err := getMessage(t.Tx, chatID, messageID)
		if err != nil {
			return err
		}
		if err := backend.MayDelete(m, by); err != nil {
			return err
		}
		if m.Deleted {
			return nil
		}
		tomb := m.Tombstone()
		if err := putMessage(t, tomb); err != nil {
			return err
		}
		if m.Attachment != nil {
			fileID = m.Attachment.ID
			if err := t.Bucket(bucketFiles).Delete([]byte(fileID)); err != nil {
				return fmt.Errorf("delete file record %s: %w", fileID, err)
			}
		}
		if err := t.Bucket(bucketPins).Delete(concat(chatID, messageID)); err != nil {
			return fmt.Errorf("unpin: %w", err)
		}
		if err := t.eraseEvents(m, tomb); err != nil {
			return err
		}
		if m.ParentID != "" {
			if err := t.removeReply(chat, m); err != nil {
				return err
			}
		}
		t.scrub = true
		return t.emit(&backend.Event{Type: backend.EventMessageDeleted, ChatID: chatID, MessageID: messageID,
			ParentID: m.ParentID, Recipients: slices.Clone(chat.MemberIDs)})
	})
	return fileID, err
}

// removeReply takes a deleted reply out of its parent's counts: ReplyCount counts the replies
// that are not deleted, LastReplyAt is the newest of them. The tombstone stays in the thread.
func (t *txn) removeReply(chat *backend.Chat, reply *backend.Message) error {
	parent, err := getMessage(t.Tx, chat.ID, reply.ParentID)
	if err != nil {
		return fmt.Errorf("parent of %s: %w", reply.ID, err)
	}
	parent.ReplyCount = max(0, parent.ReplyCount-1)
	parent.LastReplyAt = 0
	prefix := concat(chat.ID, parent.ID)
	c := t.Bucket(bucketReplies).Cursor()
	for k, _ := lastWithPrefix(c, prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
		id := string(k[len(prefix):])
		if id == reply.ID {
			continue
		}
		r, err := getMessage(t.Tx, chat.ID, id)
		if err != nil {
			return fmt.Errorf("reply %s: %w", id, err)
		}
		if !r.Deleted {
			parent.LastReplyAt = r.CreatedAt
			break
		}
	}
	if err := putMessage(t, parent); err != nil {
		return err
	}
	return t.emitUpdated(chat, parent)
}

// erasedNotification is what a notification about a deleted message becomes in the log: its
// kind and place, none of the message's words, read and silent.
func erasedNotification(n *backend.Notification) *backend.Notification {
	return &backend.Notification{
		ID: n.ID, Type: n.Type, Title: "A message was deleted", ChatID: n.ChatID, MessageID: n.MessageID,
		ParentID: n.ParentID, CreatedAt: n.CreatedAt, Read: true,
		Decision: backend.Decision{Notify: false, Reason: "the message was deleted"},
	}
}

// eraseEvents rewrites, in place, every logged event that carried message m (its NEW_MESSAGE,
// whose id is the message's, and those in the ranges bucketMsgEvents holds for it) to carry tomb
// instead, and deletes the notifications about it from their recipients' histories. An event in
// a range that names neither the message nor its attachment is left as it is; events pruned
// meanwhile are skipped.
func (t *txn) eraseEvents(m, tomb *backend.Message) error {
	index := t.Bucket(bucketMsgEvents)
	key := concat(m.ChatID, m.ID)
	if len(t.msgEvents[string(key)]) > 0 {
		return fmt.Errorf("message %s has unindexed events in this commit", m.ID)
	}
	ranges := [][2]string{{m.ID, m.ID}}
	for v := index.Get(key); len(v) >= 2*ulid.EncodedSize; v = v[2*ulid.EncodedSize:] {
		ranges = append(ranges, [2]string{string(v[:ulid.EncodedSize]), string(v[ulid.EncodedSize : 2*ulid.EncodedSize])})
	}
	fileID := ""
	if m.Attachment != nil {
		fileID = m.Attachment.ID
	}
	names := func(ev *backend.Event) bool {
		return ev.Message != nil && ev.Message.ID == m.ID ||
			ev.Notification != nil && ev.Notification.MessageID == m.ID ||
			ev.File != nil && fileID != "" && ev.File.ID == fileID
	}
	log := t.Bucket(bucketEvents)
	type rewrite struct {
		key []byte
		ev  *backend.Event
	}
	var rewrites []rewrite
	c := log.Cursor()
	for _, r := range ranges {
		for k, v := c.Seek([]byte(r[0])); k != nil && string(k) <= r[1]; k, v = c.Next() {
			ev, err := decodeLogRecord(v)
			if err != nil {
				return fmt.Errorf("event %s: %w", k, err)
			}
			if names(ev) {
				rewrites = append(rewrites, rewrite{slices.Clone(k), ev})
			}
		}
	}
	for _, rw := range rewrites {
		ev := rw.ev
		erased := ev.Unsealed()
		if erased.Message != nil && erased.Message.ID == m.ID {
			erased.Message = tomb
		}
		if f := erased.File; f != nil && f.ID == fileID {
			erased.File = &backend.File{ID: f.ID, ChatID: f.ChatID, UploaderID: f.UploaderID, Status: f.Status, CreatedAt: f.CreatedAt}
		}
		if n := erased.Notification; n != nil && (n.MessageID == m.ID || ev.Type == backend.EventFileProcessed) {
			erased.Notification = erasedNotification(n)
			for _, r := range ev.Recipients {
				if err := t.Bucket(bucketNotes).Delete(concat(r, ev.ID)); err != nil {
					return fmt.Errorf("remove notification %s: %w", ev.ID, err)
				}
			}
		}
		if err := erased.Seal(); err != nil {
			return err
		}
		if err := log.Put(rw.key, encodeLogRecord(erased)); err != nil {
			return fmt.Errorf("rewrite event %s: %w", ev.ID, err)
		}
	}
	if err := index.Delete(key); err != nil {
		return fmt.Errorf("drop message events: %w", err)
	}
	return nil
}

// scrubFreePages overwrites with zeros every page of the file that bbolt holds free. bbolt never
// writes over a page it frees — the old versions of every page a commit changed stay in the file
// until reused — so without this a deleted message's words would survive in the file. It runs in
// the committer (no write transaction beside it) with every reader held off: a free page is then
// referenced by no transaction, and a reader that starts during the scrub would see the last
// committed state, which references no free page either. While a Snapshot is open it zeroes
// nothing (the snapshot's transaction may read pages that are free to writers) and leaves the
// scrub to the snapshot's end. It returns how many bytes it zeroed.
//
// Cost: a read of every free page, a write of those not already zero, one fsync — about the size
// of the free pages, which is small unless much was deleted at once.
func (s *Store) scrubFreePages() (int64, error) {
	s.readers.Lock()
	defer s.readers.Unlock()
	if s.snapshots.Load() > 0 {
		s.scrubOwed.Store(true) // the last snapshot to end asks for the scrub
		return 0, nil
	}
	f, err := os.OpenFile(s.db.Path(), os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("scrub: %w", err)
	}
	defer f.Close()
	var zeroed int64
	err = s.db.Update(func(tx *bbolt.Tx) error {
		if n := s.db.Stats().OpenTxN; n != 0 {
			return fmt.Errorf("scrub: %d read transactions open", n)
		}
		pageSize := int64(s.db.Info().PageSize)
		pages := int(tx.Size() / pageSize)
		buf := make([]byte, pageSize)
		zero := make([]byte, pageSize)
		for id := 2; id < pages; id++ { // pages 0 and 1 are the meta pages
			info, err := tx.Page(id)
			if err != nil {
				return fmt.Errorf("scrub: page %d: %w", id, err)
			}
			if info == nil || info.Type != "free" {
				continue
			}
			off := int64(id) * pageSize
			if _, err := f.ReadAt(buf, off); err != nil {
				return fmt.Errorf("scrub: read page %d: %w", id, err)
			}
			if bytes.Equal(buf, zero) {
				continue
			}
			if _, err := f.WriteAt(zero, off); err != nil {
				return fmt.Errorf("scrub: zero page %d: %w", id, err)
			}
			zeroed += pageSize
		}
		if zeroed > 0 {
			if err := f.Sync(); err != nil {
				return fmt.Errorf("scrub: sync: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return zeroed, err
	}
	return zeroed, nil
}
