package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
	bbolt "go.etcd.io/bbolt"
)

// A log record is: one flags byte (bit 0: personal), a uvarint count of recipients followed by
// their 26-byte ids (personal events only: a chat event's recipients are the chat's members when
// it is read, and for CHAT_MEMBER_REMOVED the member it removed), then the event's JSON.
const flagPersonal = 1

func encodeLogRecord(ev *backend.Event) []byte {
	var recipients []string
	var flags byte
	if ev.Personal {
		flags |= flagPersonal
		recipients = ev.Recipients
	}
	b := make([]byte, 0, 1+binary.MaxVarintLen32+len(recipients)*ulid.EncodedSize+len(ev.Data()))
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(recipients)))
	for _, r := range recipients {
		b = append(b, r...)
	}
	return append(b, ev.Data()...)
}

func decodeLogRecord(v []byte) (*backend.Event, error) {
	return decodeLog(v, backend.DecodeEvent)
}

// decodeLogHead is decodeLogRecord for a replay: only the event's id and type are decoded, its
// JSON kept as sealed (backend.DecodeEventHead), and the routing flags.
func decodeLogHead(v []byte) (*backend.Event, error) {
	return decodeLog(v, backend.DecodeEventHead)
}

// logRecordData returns the event JSON of a log record, which follows its routing header.
func logRecordData(v []byte) ([]byte, error) {
	if len(v) < 2 {
		return nil, fmt.Errorf("log record of %d bytes", len(v))
	}
	n, w := binary.Uvarint(v[1:])
	if w <= 0 || n > uint64(len(v)-1-w)/ulid.EncodedSize {
		return nil, fmt.Errorf("log record: bad recipient count")
	}
	return v[1+w+int(n)*ulid.EncodedSize:], nil
}

func decodeLog(v []byte, decode func([]byte) (*backend.Event, error)) (*backend.Event, error) {
	if len(v) < 2 {
		return nil, fmt.Errorf("log record of %d bytes", len(v))
	}
	flags := v[0]
	n, w := binary.Uvarint(v[1:])
	if w <= 0 || n > uint64(len(v)-1-w)/ulid.EncodedSize {
		return nil, fmt.Errorf("log record: bad recipient count")
	}
	rest := v[1+w:]
	recipients := make([]string, n)
	for i := range recipients {
		recipients[i] = string(rest[:ulid.EncodedSize])
		rest = rest[ulid.EncodedSize:]
	}
	ev, err := decode(rest)
	if err != nil {
		return nil, err
	}
	ev.Personal = flags&flagPersonal != 0
	if ev.Personal {
		ev.Recipients = recipients
	}
	return ev, nil
}

func (s *Store) EventsAfter(ctx context.Context, afterID string, limit int) ([]*backend.Event, error) {
	var events []*backend.Event
	err := s.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		if k, _ := c.Seek([]byte(afterID)); k == nil || !bytes.Equal(k, []byte(afterID)) {
			return backend.ErrEventNotFound
		}
		members := map[string][]string{} // chat id → members, read once per call
		for k, v := c.Next(); k != nil && len(events) < limit; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			ev, err := decodeLogRecord(v)
			if err != nil {
				return fmt.Errorf("event %s: %w", k, err)
			}
			if err := restoreRecipients(tx, ev, members); err != nil {
				return fmt.Errorf("event %s: %w", k, err)
			}
			events = append(events, ev)
		}
		return nil
	})
	return events, err
}

func (s *Store) LastEventID(ctx context.Context) (string, error) {
	var id string
	err := s.view(func(tx *bbolt.Tx) error {
		if k, _ := tx.Bucket(bucketEvents).Cursor().Last(); k != nil {
			id = string(k)
		}
		return nil
	})
	return id, err
}

// PruneEvents deletes logged events older than olderThan, and the oldest ones beyond keep, at
// most batch per commit so that writers are not held up. Streams that resume from a pruned id
// get RESYNC. The newest event always stays, so that ids keep increasing across a restart. It
// returns how many events it deleted.
func (s *Store) PruneEvents(ctx context.Context, olderThan time.Time, keep, batch int) (int, error) {
	if batch <= 0 {
		return 0, fmt.Errorf("prune events: batch %d must be positive", batch)
	}
	// Counting walks the bucket: do it once, in a read transaction that does not hold up writers.
	var excess int
	if err := s.view(func(tx *bbolt.Tx) error {
		excess = tx.Bucket(bucketEvents).Stats().KeyN - max(keep, 1)
		return nil
	}); err != nil {
		return 0, err
	}
	cutoff := ulid.Timestamp(olderThan)
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n := 0
		err := s.update(ctx, func(t *txn) error {
			n = 0 // the function runs again if its batch has to be retried
			log := t.Bucket(bucketEvents)
			c := log.Cursor()
			idx := t.Bucket(bucketScopeEvents)
			newest, _ := c.Last()
			for k, v := c.First(); k != nil && n < batch && !bytes.Equal(k, newest); k, v = c.First() {
				id, err := ulid.ParseStrict(string(k))
				if err == nil && id.Time() >= cutoff && n >= excess {
					break
				}
				ev, err := decodeLogRecord(v)
				if err != nil {
					return fmt.Errorf("prune event %s: %w", k, err)
				}
				if err := deleteScopes(idx, ev); err != nil {
					return fmt.Errorf("prune: %w", err)
				}
				if err := log.Delete(k); err != nil { // the loop seeks again
					return fmt.Errorf("prune event %s: %w", k, err)
				}
				n++
			}
			return nil
		})
		total += n
		excess -= n
		if err != nil {
			return total, err
		}
		if n < batch {
			return total, nil
		}
	}
}
