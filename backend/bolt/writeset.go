package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
	bbolt "go.etcd.io/bbolt"
)

// A WriteSet is what one commit changed, as data: every Put and Delete the committer's
// transaction made (events included), the events it handed to the Publisher, and whether it
// erased content. Applied in commit order to a copy of the file that held the same data before
// the commit, it leaves that copy holding the same data after it, and its events are what the
// copy's subscribers must see: the unit a cluster's log replicates (docs/CLUSTER.md). A write
// set is built by the committer alone; once handed to a CommitLog it is read-only.
type WriteSet struct {
	Ops []WriteOp
	// Events are the commit's events in the order they are published: durable ones (also among
	// Ops, in the events bucket) and signals such as SESSION_ENDED, which are not logged.
	Events []*backend.Event
	// Scrub says the commit erased content: a replica zeroes its file's free pages after
	// applying it, as the writer does.
	Scrub bool
}

// WriteOp is one change to a top-level bucket.
type WriteOp struct {
	Kind   WriteOpKind
	Bucket []byte
	Key    []byte // nil for OpCreateBucket
	Value  []byte // OpPut only
}

// WriteOpKind says what a WriteOp does.
type WriteOpKind byte

const (
	OpPut          WriteOpKind = 1
	OpDelete       WriteOpKind = 2
	OpCreateBucket WriteOpKind = 3 // CreateBucketIfNotExists
)

// CommitLog receives every commit's write set before the commit is made durable in the file
// (WithCommitLog). Append returns once the log holds ws durably, with the position the log gave
// it (increasing by one per commit); an error aborts the commit: its writes fail with that error
// and nothing of them reaches the file. Append runs on the committer goroutine, inside the write
// transaction: every write waits for it, so it should answer within milliseconds.
type CommitLog interface {
	Append(ctx context.Context, ws *WriteSet) (seq uint64, err error)
}

// WithCommitLog has every commit's write set appended to log before the commit (see CommitLog):
// the writer node of a cluster. Without it nothing is captured and nothing costs more.
func WithCommitLog(log CommitLog) Option {
	return func(s *Store) { s.commitLog.Store(&commitLogBox{log}) }
}

type commitLogBox struct{ l CommitLog }

// ErrNotWriter is the error of a write to a replica (Follow): a cluster node that is not the
// writer forwards writes, and one that turned replica while a write was queued fails it (503:
// the client retries, and reaches the writer).
var ErrNotWriter = backend.Errorf(backend.EUNAVAILABLE, "This server is not the cluster's writer at the moment; try again.")

// Follow makes the store a replica: from the next commit on, writes fail with ErrNotWriter and
// only Apply (and node-local writes) commit. A writer that lost its lease calls it.
func (s *Store) Follow() {
	s.following.Store(true)
	s.commitLog.Store(nil)
}

// Lead makes the store the cluster's writer: from the next commit on, writes commit again, each
// commit's write set appended to log first (nil: a single store, logging nothing). The caller
// has applied every entry of the log.
func (s *Store) Lead(log CommitLog) {
	if log == nil {
		s.commitLog.Store(nil) // a single store again
	} else {
		s.commitLog.Store(&commitLogBox{log})
	}
	s.following.Store(false)
}

// Following reports whether the store is a replica.
func (s *Store) Following() bool { return s.following.Load() }

// isLocal says whether a key is per node and not replicated: each node's health monitor keeps
// its own minutes (and their count in the meta bucket).
func isLocal(bucket, key []byte) bool {
	return bytes.Equal(bucket, bucketMonitor) || bytes.Equal(bucket, bucketMeta) && bytes.Equal(key, keyMonitorCount)
}

// metaLogSeq is the meta key holding the log position of the last write set this file holds
// (uint64, big endian): the writer sets it in the commit it appended, a replica in the commit
// that applied it. Absent: none.
var metaLogSeq = []byte("log_seq")

// writeSet collects a commit's changes; nil in a txn means nothing is captured. Keys and
// values are copied into one arena (bbolt's may not outlive the transaction) and sliced out of
// it by ops, once it stops growing.
type writeSet struct {
	recs  []writeRec
	arena []byte
}

type writeRec struct {
	kind   WriteOpKind
	bucket []byte
	start  int // the key is arena[start:mid], the value arena[mid:end]
	mid    int
	end    int
}

func (w *writeSet) add(kind WriteOpKind, bucket, key, value []byte) {
	r := writeRec{kind: kind, bucket: bucket, start: len(w.arena)}
	w.arena = append(w.arena, key...)
	r.mid = len(w.arena)
	w.arena = append(w.arena, value...)
	r.end = len(w.arena)
	w.recs = append(w.recs, r)
}

// ops returns the recorded changes, in order; the write set must not be added to after.
func (w *writeSet) ops() []WriteOp {
	ops := make([]WriteOp, len(w.recs))
	for i, r := range w.recs {
		ops[i] = WriteOp{Kind: r.kind, Bucket: r.bucket}
		if r.kind == OpCreateBucket {
			continue
		}
		ops[i].Key = w.arena[r.start:r.mid:r.mid]
		if r.kind == OpPut {
			ops[i].Value = w.arena[r.mid:r.end:r.end]
		}
	}
	return ops
}

// readBucket is what read helpers need of a bucket, a *bbolt.Bucket in a view or a bucket in
// a write.
type readBucket interface {
	Get(key []byte) []byte
	Cursor() *bbolt.Cursor
}

// bucket is a top-level bucket as a write function sees it: reads go to bbolt, writes too and
// are recorded in the commit's write set when one is captured.
type bucket struct {
	b    *bbolt.Bucket
	name []byte
	ws   *writeSet // nil: not captured
}

// Bucket returns the named top-level bucket; one that does not exist is not ok (and its methods
// panic). A bucket is a value: handing it around allocates nothing.
func (t *txn) Bucket(name []byte) bucket {
	return bucket{b: t.Tx.Bucket(name), name: name, ws: t.ws}
}

// ok reports whether the bucket exists.
func (b bucket) ok() bool { return b.b != nil }

// CreateBucketIfNotExists creates the named top-level bucket unless it exists, and returns it.
func (t *txn) CreateBucketIfNotExists(name []byte) (bucket, error) {
	if _, err := t.Tx.CreateBucketIfNotExists(name); err != nil {
		return bucket{}, err
	}
	if t.ws != nil && !isLocal(name, nil) {
		t.ws.add(OpCreateBucket, name, nil, nil)
	}
	return t.Bucket(name), nil
}

func (b bucket) Get(key []byte) []byte { return b.b.Get(key) }

func (b bucket) Put(key, value []byte) error {
	if err := b.b.Put(key, value); err != nil {
		return err
	}
	if b.ws != nil && !isLocal(b.name, key) {
		b.ws.add(OpPut, b.name, key, value)
	}
	return nil
}

func (b bucket) Delete(key []byte) error {
	if err := b.b.Delete(key); err != nil {
		return err
	}
	if b.ws != nil && !isLocal(b.name, key) {
		b.ws.add(OpDelete, b.name, key, nil)
	}
	return nil
}

// Cursor returns a read cursor: deleting goes through the bucket.
func (b bucket) Cursor() *bbolt.Cursor { return b.b.Cursor() }

func (b bucket) ForEach(fn func(k, v []byte) error) error { return b.b.ForEach(fn) }

// Stats is bbolt's, for the few callers that count keys.
func (b bucket) Stats() bbolt.BucketStats { return b.b.Stats() }

// errNotReplica is Apply's error on a store that leads.
var errNotReplica = backend.Errorf(backend.EUNAVAILABLE, "This store writes; it applies no log entries.")

// ErrLogGap is returned by Apply for a write set that does not follow the last one applied.
var ErrLogGap = errors.New("write set out of order")

// LogSeq returns the log position of the last write set the file holds (0: none).
func (s *Store) LogSeq() (uint64, error) {
	var seq uint64
	err := s.view(func(tx *bbolt.Tx) error {
		seq = logSeq(tx)
		return nil
	})
	return seq, err
}

func logSeq(tx *bbolt.Tx) uint64 {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0 // a file of schema version 1, or a new one
	}
	if v := meta.Get(metaLogSeq); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func putLogSeq(tx *bbolt.Tx, seq uint64) error {
	return tx.Bucket(bucketMeta).Put(metaLogSeq, binary.BigEndian.AppendUint64(nil, seq))
}

// Apply makes the file hold what the write set at log position seq wrote, in one commit
// through the committer, and publishes its events: a replica following the log. seq must be
// the one after LogSeq; one at or below it was applied already and is ignored (a redelivery),
// one further on fails with ErrLogGap and changes nothing. A store that leads (Lead, or a
// single store) refuses it: the writer's own commits are the log.
func (s *Store) Apply(ctx context.Context, seq uint64, ws *WriteSet) error {
	return s.updateLocal(ctx, s.applyFn(seq, ws))
}

// ApplyAsync is Apply that returns once the write set is queued (or could not be): its outcome
// arrives on the channel. Write sets queued one after another from one goroutine apply in that
// order, many in one commit — a replica catching up pays one fsync per batch, not per entry.
func (s *Store) ApplyAsync(ctx context.Context, seq uint64, ws *WriteSet) <-chan error {
	r := &request{local: true, fn: s.applyFn(seq, ws), done: make(chan error, 1)}
	if err := s.submit(ctx, r); err != nil {
		r.done <- err
	}
	return r.done
}

func (s *Store) applyFn(seq uint64, ws *WriteSet) func(*txn) error {
	return func(t *txn) error {
		if !s.following.Load() {
			// The writer appends; a follow loop that has not stopped yet must not apply.
			return errNotReplica
		}
		last := logSeq(t.Tx)
		switch {
		case seq <= last:
			return nil
		case seq != last+1:
			return fmt.Errorf("apply %d after %d: %w", seq, last, ErrLogGap)
		}
		for _, op := range ws.Ops {
			if err := applyOp(t.Tx, op); err != nil {
				return err
			}
			// The generator continues above every id the writer issued, should this node write.
			if op.Kind == OpPut && (bytes.Equal(op.Bucket, bucketEvents) || bytes.Equal(op.Bucket, bucketUsers) || bytes.Equal(op.Bucket, bucketChats)) {
				if id, err := ulid.ParseStrict(string(op.Key)); err == nil && id.Compare(t.ids.last) > 0 {
					t.ids.last = id
				}
			}
		}
		if err := putLogSeq(t.Tx, seq); err != nil {
			return err
		}
		// What the committer cached describes the file before these writes.
		t.cache.reset()
		t.events = append(t.events, ws.Events...)
		t.scrub = ws.Scrub
		return nil
	}
}

func applyOp(tx *bbolt.Tx, op WriteOp) error {
	if op.Kind == OpCreateBucket {
		_, err := tx.CreateBucketIfNotExists(op.Bucket)
		return err
	}
	b := tx.Bucket(op.Bucket)
	if b == nil {
		return fmt.Errorf("apply: no bucket %q", op.Bucket)
	}
	switch op.Kind {
	case OpPut:
		return b.Put(op.Key, op.Value)
	case OpDelete:
		return b.Delete(op.Key)
	}
	return fmt.Errorf("apply: op kind %d", op.Kind)
}

// flagInLog marks an encoded event whose JSON is the one of the events-bucket put it names.
const flagInLog = 1 << 7

// writeSetVersion is the first byte of an encoded write set; a reader refuses others.
const writeSetVersion = 1

// maxWriteSetField bounds one decoded field (a key, a value, an event): no commit writes a
// value near it (uploads are files on disk, not values), and a corrupt length cannot make the
// decoder allocate more.
const maxWriteSetField = 64 << 20

// AppendBinary appends the write set's encoding to b: a version byte, the ops, the events
// (each its JSON and routing: personal flag, recipients, sessions) and the scrub flag, every
// variable part length-prefixed (uvarint).
func (ws *WriteSet) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, writeSetVersion)
	b = binary.AppendUvarint(b, uint64(len(ws.Ops)))
	for _, op := range ws.Ops {
		b = append(b, byte(op.Kind))
		b = appendField(b, op.Bucket)
		if op.Kind == OpCreateBucket {
			continue
		}
		b = appendField(b, op.Key)
		if op.Kind == OpPut {
			b = appendField(b, op.Value)
		}
	}
	// A durable event's JSON is in its put to the events bucket: it is named by that op's
	// index rather than carried twice (a post to ten members writes ten events).
	logged := map[string]int{}
	for i, op := range ws.Ops {
		if op.Kind == OpPut && bytes.Equal(op.Bucket, bucketEvents) {
			logged[string(op.Key)] = i
		}
	}
	b = binary.AppendUvarint(b, uint64(len(ws.Events)))
	for _, ev := range ws.Events {
		if ev.Data() == nil {
			return nil, fmt.Errorf("encode write set: event %s %s is not sealed", ev.Type, ev.ID)
		}
		var flags byte
		if ev.Personal {
			flags |= flagPersonal
		}
		op, inLog := logged[ev.ID]
		if inLog && ev.ID != "" {
			flags |= flagInLog
		}
		b = append(b, flags)
		b = appendStrings(b, ev.Recipients)
		b = appendStrings(b, ev.Sessions)
		if flags&flagInLog != 0 {
			b = binary.AppendUvarint(b, uint64(op))
		} else {
			b = appendField(b, ev.Data())
		}
	}
	if ws.Scrub {
		return append(b, 1), nil
	}
	return append(b, 0), nil
}

// DecodeWriteSet decodes what AppendBinary encoded. The ops' keys and values are slices of b,
// which the caller must not change while the write set is in use; the events are decoded and
// sealed.
func DecodeWriteSet(b []byte) (*WriteSet, error) {
	d := decoder{b: b}
	if v := d.byte(); v != writeSetVersion {
		return nil, fmt.Errorf("write set version %d, want %d", v, writeSetVersion)
	}
	ws := &WriteSet{}
	n := d.count(3) // each op takes at least 3 bytes
	if n > 0 {
		ws.Ops = make([]WriteOp, 0, n)
	}
	for range n {
		op := WriteOp{Kind: WriteOpKind(d.byte()), Bucket: d.field()}
		switch op.Kind {
		case OpPut:
			op.Key, op.Value = d.field(), d.field()
			if op.Value == nil {
				op.Value = []byte{}
			}
		case OpDelete:
			op.Key = d.field()
		case OpCreateBucket:
		default:
			d.fail(fmt.Errorf("op kind %d", op.Kind))
		}
		ws.Ops = append(ws.Ops, op)
	}
	n = d.count(4)
	for range n {
		flags := d.byte()
		recipients, sessions := d.strings(), d.strings()
		var data []byte
		if flags&flagInLog != 0 {
			i := d.uvarint()
			if d.err != nil {
				break
			}
			if i >= uint64(len(ws.Ops)) || ws.Ops[i].Kind != OpPut || !bytes.Equal(ws.Ops[i].Bucket, bucketEvents) {
				return nil, fmt.Errorf("decode write set: event names op %d, not a logged event", i)
			}
			var err error
			if data, err = logRecordData(ws.Ops[i].Value); err != nil {
				return nil, fmt.Errorf("decode write set: %w", err)
			}
		} else {
			data = d.field()
		}
		if d.err != nil {
			break
		}
		ev, err := backend.DecodeEvent(data)
		if err != nil {
			return nil, fmt.Errorf("write set: %w", err)
		}
		ev.Personal, ev.Recipients, ev.Sessions = flags&flagPersonal != 0, recipients, sessions
		ws.Events = append(ws.Events, ev)
	}
	ws.Scrub = d.byte() == 1
	if d.err == nil && len(d.b) != 0 {
		d.fail(fmt.Errorf("%d bytes after the end", len(d.b)))
	}
	if d.err != nil {
		return nil, fmt.Errorf("decode write set: %w", d.err)
	}
	return ws, nil
}

func appendField(b, f []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(f))), f...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = append(binary.AppendUvarint(b, uint64(len(s))), s...)
	}
	return b
}

// decoder reads an encoded write set; the first error sticks and later reads return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail(errors.New("truncated"))
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errors.New("bad length"))
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads how many items follow, each at least min bytes long: a count the rest cannot
// hold is an error, so that no corrupt count makes the decoder allocate.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/min) {
		d.fail(fmt.Errorf("count %d in %d bytes", n, len(d.b)))
		return 0
	}
	return int(n)
}

func (d *decoder) field() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) || n > maxWriteSetField {
		d.fail(fmt.Errorf("field of %d bytes in %d", n, len(d.b)))
		return nil
	}
	f := d.b[:n:n]
	d.b = d.b[n:]
	return f
}

func (d *decoder) strings() []string {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = string(d.field())
	}
	return ss
}
