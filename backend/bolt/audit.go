package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
	bbolt "go.etcd.io/bbolt"
)

// keyAuditCount is where bucketMeta keeps how many entries bucketAudit holds (uint64, big
// endian), so that bounding the log costs no scan.
var keyAuditCount = []byte("auditCount")

func (s *Store) RecordAudit(ctx context.Context, e backend.AuditEntry) error {
	return s.update(ctx, func(t *txn) error {
		e.ID = t.newID()
		e.CreatedAt = t.now.UnixMilli()
		b, meta := t.Bucket(bucketAudit), t.Bucket(bucketMeta)
		if err := putJSON(b, e.ID, e); err != nil {
			return err
		}
		n := uint64(0)
		if v := meta.Get(keyAuditCount); len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		}
		n++
		// Drop the oldest entries beyond MaxAuditEntries or AuditRetention; the keys are ULIDs, so
		// the first is the oldest.
		oldest := ulid.Timestamp(t.now.Add(-backend.AuditRetention))
		c := b.Cursor()
		var drop [][]byte
		for k, _ := c.First(); k != nil && n-uint64(len(drop)) > 1; k, _ = c.Next() {
			id, err := ulid.ParseStrict(string(k))
			if n-uint64(len(drop)) <= backend.MaxAuditEntries && err == nil && id.Time() >= oldest {
				break
			}
			drop = append(drop, slices.Clone(k))
		}
		for _, k := range drop {
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("prune audit log: %w", err)
			}
		}
		n -= uint64(len(drop))
		return meta.Put(keyAuditCount, binary.BigEndian.AppendUint64(nil, n))
	})
}

func (s *Store) Audit(ctx context.Context, before string, limit int) ([]*backend.AuditEntry, bool, error) {
	out := []*backend.AuditEntry{}
	more := false
	err := s.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		var k, v []byte
		if before == "" {
			k, v = c.Last()
		} else {
			if sk, _ := c.Seek([]byte(before)); sk == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		}
		for ; k != nil; k, v = c.Prev() {
			if len(out) == limit {
				more = true
				return nil
			}
			var e backend.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode audit entry %s: %w", k, err)
			}
			out = append(out, &e)
		}
		return nil
	})
	return out, more, err
}
