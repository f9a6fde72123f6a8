package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
)

// minuteKey is a monitor minute's key: its start, Unix ms, big endian, so keys sort by time.
func minuteKey(start int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(start)) }

// AppendMonitorMinute stores m (replacing a minute with the same start) and drops minutes older
// than backend.MonitorRetention before m, and the oldest beyond backend.MaxMonitorMinutes.
func (s *Store) AppendMonitorMinute(ctx context.Context, m backend.MonitorMinute) error {
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode monitor minute: %w", err)
	}
	return s.updateLocal(ctx, func(t *txn) error {
		b, meta := t.Bucket(bucketMonitor), t.Bucket(bucketMeta)
		n := uint64(0)
		if v := meta.Get(keyMonitorCount); len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		}
		if b.Get(minuteKey(m.Start)) == nil {
			n++
		}
		if err := b.Put(minuteKey(m.Start), v); err != nil {
			return fmt.Errorf("store monitor minute: %w", err)
		}
		oldest := m.Start - backend.MonitorRetention.Milliseconds()
		c := b.Cursor()
		for k, _ := c.First(); k != nil && n > 1; k, _ = c.First() {
			if int64(binary.BigEndian.Uint64(k)) >= oldest && n <= backend.MaxMonitorMinutes {
				break
			}
			if err := b.Delete(k); err != nil { // the loop seeks again
				return fmt.Errorf("prune monitor history: %w", err)
			}
			n--
		}
		return meta.Put(keyMonitorCount, binary.BigEndian.AppendUint64(nil, n))
	})
}

// keyMonitorCount is where bucketMeta keeps how many minutes bucketMonitor holds (uint64, big
// endian), so that bounding the history costs no scan.
var keyMonitorCount = []byte("monitorCount")

// MonitorMinutes returns the stored minutes from since (Unix ms) on, oldest first.
func (s *Store) MonitorMinutes(ctx context.Context, since int64) ([]backend.MonitorMinute, error) {
	out := []backend.MonitorMinute{}
	err := s.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketMonitor).Cursor()
		for k, v := c.Seek(minuteKey(max(since, 0))); k != nil; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var m backend.MonitorMinute
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("monitor minute %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// Size is the store file's size in bytes.
func (s *Store) Size() int64 {
	var n int64
	_ = s.view(func(tx *bbolt.Tx) error {
		n = tx.Size()
		return nil
	})
	return n
}

// Ping proves the store takes writes: an empty write through the committer (it joins the next
// group commit). For readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	return s.updateLocal(ctx, func(*txn) error { return nil })
}
