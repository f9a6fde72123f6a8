package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrLocked: another process has the file open (a running server holds its lock).
var ErrLocked = errors.New("the store is open in another process")

var _ backend.Snapshotter = (*Store)(nil)

// Snapshot calls fn with a consistent copy of the whole file as of now, from one read
// transaction (bbolt's Tx.WriteTo): writes go on meanwhile and are not in the copy. size is the
// copy's length in bytes; db writes it, once.
//
// What an open snapshot costs the server: bbolt keeps every page the copy needs until it ends,
// so the file may grow by what is written meanwhile; a commit that must grow bbolt's memory map
// waits for it (rare: the map doubles, up to 1 GiB steps); and the scrub of free pages that
// follows a message's deletion is put off until the last snapshot ends (the delete is answered
// at once; the copy holds the message as of its start anyway). Snapshots run one at a time; a
// second waits for the first (or ctx).
func (s *Store) Snapshot(ctx context.Context, fn func(info backend.SnapshotInfo, size int64, db io.WriterTo) error) error {
	// One at a time: a copy holds the file's free pages too, so a snapshot must not begin while
	// a scrub is owed to deletes during an earlier one (their words are in free pages until it
	// runs). The earlier snapshot runs that scrub before it lets the next one in.
	select {
	case s.snapshotSlot <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.snapshotSlot }()
	s.readers.RLock()
	s.snapshots.Add(1)
	tx, err := s.db.Begin(false)
	s.readers.RUnlock()
	defer func() {
		s.readers.RLock() // against a scrub that is deciding to put itself off
		owed := s.snapshots.Add(-1) == 0 && s.scrubOwed.Swap(false)
		s.readers.RUnlock()
		if owed {
			// Run the scrub that deletes during the snapshot put off: an empty write whose
			// commit scrubs. A closed store has nothing to scrub for.
			if err := s.update(context.WithoutCancel(ctx), func(t *txn) error { t.scrub = true; return nil }); err != nil && !errors.Is(err, backend.ErrClosed) {
				s.log.Error("scrubbing free pages after a snapshot", "err", err)
			}
		}
	}()
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return backend.ErrClosed
	}
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	return snapshotTx(ctx, tx, fn)
}

func snapshotTx(ctx context.Context, tx *bbolt.Tx, fn func(info backend.SnapshotInfo, size int64, db io.WriterTo) error) error {
	v, err := fileVersion(tx)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	info := backend.SnapshotInfo{SchemaVersion: v, Counts: map[string]int{}, LogSeq: logSeq(tx)}
	for name, b := range map[string][]byte{"users": bucketUsers, "chats": bucketChats, "messages": bucketMessages,
		"events": bucketEvents, "files": bucketFiles} {
		if err := ctx.Err(); err != nil {
			return err
		}
		if bk := tx.Bucket(b); bk != nil {
			info.Counts[name] = bk.Stats().KeyN
		}
	}
	if b := tx.Bucket(bucketEvents); b != nil {
		if k, _ := b.Cursor().Last(); k != nil {
			info.LastEventID = string(k)
		}
	}
	return fn(info, tx.Size(), &txWriter{ctx: ctx, tx: tx})
}

// txWriter writes the transaction's file and stops when ctx ends.
type txWriter struct {
	ctx context.Context
	tx  *bbolt.Tx
}

func (w *txWriter) WriteTo(dst io.Writer) (int64, error) {
	return w.tx.WriteTo(ctxWriter{w.ctx, dst})
}

type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// File is a store file opened for reading only, without a committer and without migrating it:
// for backing up a store that no server has open. Close it soon: while it is open, a server
// cannot open the file (bbolt's shared lock keeps out its exclusive one).
type File struct {
	db *bbolt.DB
}

var _ backend.Snapshotter = (*File)(nil)

// OpenFile opens the existing store file at path read-only. It waits at most timeout for the
// lock, which a running server holds: then the error wraps ErrLocked. A file of a newer schema
// version than this code is ErrSchemaTooNew.
func OpenFile(path string, timeout time.Duration) (*File, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.View(func(tx *bbolt.Tx) error {
		v, err := fileVersion(tx)
		if err != nil {
			return err
		}
		return checkVersion(path, v)
	})
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &File{db: db}, nil
}

// Snapshot is Store.Snapshot for a file that nothing writes.
func (f *File) Snapshot(ctx context.Context, fn func(info backend.SnapshotInfo, size int64, db io.WriterTo) error) error {
	return f.db.View(func(tx *bbolt.Tx) error { return snapshotTx(ctx, tx, fn) })
}

// Close releases the file.
func (f *File) Close() error { return f.db.Close() }

// Check runs bbolt's consistency check over the whole file and returns the first problem.
func (f *File) Check() error {
	return f.db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("check %s: %w", f.db.Path(), err)
		}
		return nil
	})
}

// AdoptSnapshot makes the store file at path — a snapshot of another cluster node's store,
// downloaded whole — this node's own, in place: it checks bbolt's consistency and the schema
// version (a newer one is ErrSchemaTooNew), and clears what is per node and not replicated (the
// health monitor's minutes, see isLocal), so this node's monitor starts empty rather than with
// the copied node's history. It returns the log position the file holds (backend.SnapshotInfo's
// LogSeq). The file is changed in one commit and synced; on an error it is not fit to open.
func AdoptSnapshot(path string) (seq uint64, err error) {
	// bbolt panics on some damaged files (a freelist page past the end) rather than failing:
	// a copy cut short must be an error here, not the node's crash.
	defer func() {
		if p := recover(); p != nil {
			seq, err = 0, fmt.Errorf("adopt snapshot %s: damaged file: %v", path, p)
		}
	}()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return 0, fmt.Errorf("open snapshot %s: %w", path, err)
	}
	defer func() { _ = db.Close() }()
	err = db.Update(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("check: %w", err)
		}
		v, err := fileVersion(tx)
		if err != nil {
			return err
		}
		if err := checkVersion(path, v); err != nil {
			return err
		}
		if tx.Bucket(bucketMonitor) != nil {
			if err := tx.DeleteBucket(bucketMonitor); err != nil {
				return err
			}
		}
		if meta := tx.Bucket(bucketMeta); meta != nil {
			if err := meta.Delete(keyMonitorCount); err != nil {
				return err
			}
		}
		seq = logSeq(tx)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("adopt snapshot %s: %w", path, err)
	}
	return seq, db.Close()
}
