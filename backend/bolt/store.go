// Package bolt implements Herald's stores on one bbolt file: users, sessions, invites, chats,
// messages, read markers and the event log that streams resume from.
//
// Every write goes through one committer goroutine. It takes the writes that queued up while the
// previous commit was in flight and commits them together (group commit): a lone write commits at
// once, a busy server shares each fsync among many writes. Event ids are assigned inside that
// serialized step, and committed events are handed to the Publisher in commit order, so ids
// increase in the order events become visible. The hand-over runs on a goroutine of its own
// behind a bounded queue: a write is answered once it is durable, and the next commit starts
// while the last one is fanned out.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Bucket names.
var (
	bucketMeta      = []byte("meta")
	bucketUsers     = []byte("users")         // user id → userRecord JSON
	bucketUsernames = []byte("usernames")     // username → user id
	bucketSessions  = []byte("sessions")      // sha256(token) → sessionRecord JSON
	bucketInvites   = []byte("invites")       // sha256(code) → inviteRecord JSON
	bucketChats     = []byte("chats")         // chat id → Chat JSON
	bucketMembers   = []byte("members")       // user id + chat id → nothing
	bucketMessages  = []byte("messages")      // chat id + message id → Message JSON
	bucketClientIDs = []byte("clientids")     // chat id + author id + client id → message id
	bucketReads     = []byte("reads")         // user id + chat id → message id (read marker)
	bucketEvents    = []byte("events")        // event id → encoded event (see encodeLogRecord)
	bucketPrefs     = []byte("preferences")   // user id → Preferences JSON
	bucketNotes     = []byte("notifications") // user id + notification id → Notification JSON
	bucketTasks     = []byte("tasks")         // task id → Task JSON
	bucketFiles     = []byte("files")         // file id → File JSON
	bucketUploads   = []byte("uploads")       // user id + UploadDay → bytes uploaded that day (uint64, big endian)
	// bucketUserSessions indexes sessions by user: user id + sha256(token) → nothing.
	bucketUserSessions = []byte("usersessions")
	// bucketTimeline lists a chat's history: chat id + message id → nothing, for top-level
	// messages and replies sent also to the chat (bucketMessages holds every message).
	bucketTimeline = []byte("timeline")
	// bucketReplies lists each thread: chat id + parent id + reply id → nothing.
	bucketReplies = []byte("replies")
	// bucketFollowers lists who follows each thread: chat id + parent id + user id → nothing.
	bucketFollowers = []byte("followers")
	// bucketPins: chat id + message id → pinRecord JSON.
	bucketPins = []byte("pins")
	// bucketMsgEvents: chat id + message id → ranges of logged event ids (pairs of 26-byte ids,
	// concatenated) that hold the events other than its NEW_MESSAGE carrying the message's
	// content, for erasing it (see indexEvent).
	bucketMsgEvents = []byte("msgevents")
	// bucketChatNames: backend.ChatNameKey(name) → chat id, for channels and private chats.
	bucketChatNames = []byte("chatnames")
	// bucketDMs: backend.DMKey(members) → chat id, one DM per set of people.
	bucketDMs = []byte("dms")
	// bucketHidden: user id + chat id → nothing, for DMs the user hid until their next message.
	bucketHidden = []byte("hiddenchats")
	// bucketMonitor: minute start (Unix ms, uint64 big endian) → backend.MonitorMinute JSON.
	bucketMonitor = []byte("monitor")
	// bucketScopeEvents: the event log by stream ('c' + chat id, 'u' + user id, 'r' + removed
	// user id, then the event id), written with each event (see scopeindex.go).
	allBuckets = [][]byte{bucketMonitor, bucketMeta, bucketUsers, bucketUsernames, bucketSessions, bucketInvites,
		bucketChats, bucketMembers, bucketMessages, bucketClientIDs, bucketReads, bucketEvents, bucketPrefs, bucketNotes, bucketTasks, bucketFiles,
		bucketUploads, bucketUserSessions, bucketTimeline, bucketReplies, bucketFollowers, bucketPins, bucketMsgEvents,
		bucketChatNames, bucketDMs, bucketHidden, bucketResets, bucketAudit, bucketLastSeen, bucketScopeEvents}
)

// DefaultMaxBatch is how many queued writes one commit takes at most.
const DefaultMaxBatch = 512

// fanoutQueue is how many commits' events may wait for the Publisher.
const fanoutQueue = 64

// Store is the bbolt implementation of backend.Store. It is safe for concurrent use.
type Store struct {
	db       *bbolt.DB
	log      *slog.Logger
	now      backend.Clock
	maxBatch int
	// initialMmap is bbolt's InitialMmapSize (0: its default); tests set it (export_test.go).
	initialMmap int
	publisher   atomic.Pointer[publisherBox]
	// observeCommit, when set, hears of every commit (WithCommitObserver).
	observeCommit func(d time.Duration, writes int)
	// commitLog, when set, receives every commit's write set before the commit (WithCommitLog,
	// Lead); following says the store is a replica (Follow): it takes Apply and node-local
	// writes only. The committer reads both at the start of each commit.
	commitLog atomic.Pointer[commitLogBox]
	following atomic.Bool

	mu sync.RWMutex // held for reading while sending to requests; Close takes it to close requests
	// readers is held for reading by every read transaction and for writing by scrubFreePages,
	// which must run while no reader holds a page.
	readers sync.RWMutex
	// snapshots counts open Snapshot transactions, which do not hold readers (a backup may take
	// long, and the committer must not wait for it); scrubOwed says a scrub was put off for them.
	// Both are guarded by readers: Snapshot changes them holding it for reading, scrubFreePages
	// reads them holding it for writing.
	snapshots    atomic.Int32
	scrubOwed    atomic.Bool
	snapshotSlot chan struct{} // holds a token while a Snapshot runs
	closed       bool
	requests     chan *request
	loopDone     chan struct{}
	// fanout carries committed events, in commit order, from the committer to the goroutine
	// that hands them to the Publisher, so that the next commit does not wait for a fan-out.
	// It holds at most fanoutQueue commits: a fan-out slower than the commits holds the
	// committer up rather than growing memory.
	fanout     chan fanoutItem
	fanoutDone chan struct{}
	// testHookCommitted, set by this package's tests before the first write, runs on the
	// committer after each batch is committed and queued for fan-out, before it is answered.
	testHookCommitted func()

	ids   idGen          // owned by the committer goroutine
	cache committerCache // owned by the committer goroutine

	commits atomic.Int64 // number of bbolt commits, for tests and metrics
}

var (
	_ backend.Store    = (*Store)(nil)
	_ backend.EventLog = (*Store)(nil)
)

type publisherBox struct{ p backend.Publisher }

// Option configures a Store.
type Option func(*Store)

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// WithClock sets the clock used for ids and timestamps (default: time.Now).
func WithClock(c backend.Clock) Option { return func(s *Store) { s.now = c } }

// WithCommitObserver has observe called after every successful commit with how long the write
// transaction took and how many writes it carried (the health monitor). observe runs on the
// committer goroutine: it must be quick.
func WithCommitObserver(observe func(d time.Duration, writes int)) Option {
	return func(s *Store) { s.observeCommit = observe }
}

// WithMaxBatch sets how many queued writes one commit takes at most (default DefaultMaxBatch).
// 1 disables group commit, for comparison in benchmarks.
func WithMaxBatch(n int) Option { return func(s *Store) { s.maxBatch = max(1, n) } }

// Open opens (creating if needed) the bbolt file at path and starts the committer. A new file
// gets SchemaVersion; an older one is migrated in one transaction before anything else (see
// SchemaVersion); a newer one is refused with an error that wraps ErrSchemaTooNew. Open waits at
// most 2 s for the file's lock, which another process holding the file keeps (ErrLocked).
func Open(path string, opts ...Option) (*Store, error) {
	s := &Store{log: slog.Default(), now: time.Now, maxBatch: DefaultMaxBatch, snapshotSlot: make(chan struct{}, 1)}
	for _, o := range opts {
		o(s)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 2 * time.Second, InitialMmapSize: s.initialMmap})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s.db = db
	var from int
	err = db.Update(func(tx *bbolt.Tx) error {
		var err error
		if from, err = migrate(tx, path); err != nil {
			return err
		}
		// Every id ever issued is the last key of one of these buckets (message ids are event
		// ids): the generator continues above the largest.
		for _, b := range [][]byte{bucketEvents, bucketUsers, bucketChats} {
			k, _ := tx.Bucket(b).Cursor().Last()
			if k == nil {
				continue
			}
			last, err := ulid.ParseStrict(string(k))
			if err != nil {
				return fmt.Errorf("last id of %s %q: %w", b, k, err)
			}
			if last.Compare(s.ids.last) > 0 {
				s.ids.last = last
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("initialize %s: %w", path, err)
	}
	if from != 0 && from != SchemaVersion {
		s.log.Info("migrated the store", "path", path, "from_version", from, "to_version", SchemaVersion)
	}
	s.ids.entropy = ulid.Monotonic(ulidEntropy{}, 0)
	s.cache.reset()
	s.requests = make(chan *request, s.maxBatch)
	s.loopDone = make(chan struct{})
	s.fanout = make(chan fanoutItem, fanoutQueue)
	s.fanoutDone = make(chan struct{})
	go s.fanoutLoop()
	go s.commitLoop()
	return s, nil
}

// SetPublisher sets who receives committed events (default: nobody). Call it before the first
// write; the hub needs the store to exist before it can be built.
func (s *Store) SetPublisher(p backend.Publisher) { s.publisher.Store(&publisherBox{p}) }

// Commits returns how many bbolt write transactions the store has committed.
func (s *Store) Commits() int64 { return s.commits.Load() }

// Close waits for queued writes to commit and closes the file. Writes after Close fail with
// backend.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.requests)
	s.mu.Unlock()
	<-s.loopDone
	close(s.fanout)
	<-s.fanoutDone
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.db.Path(), err)
	}
	return nil
}

// txn is what one write sees inside the shared transaction. A write function must do its
// checks before its first Put: when it returns a *backend.Error, the transaction goes on with
// the other writes of the batch and must not hold half of this one.
type txn struct {
	// Tx is for reads. Writes go through Bucket and CreateBucketIfNotExists (writeset.go), which
	// record them when the commit's write set is captured.
	Tx     *bbolt.Tx
	ws     *writeSet // nil: not captured (no CommitLog)
	now    time.Time
	ids    *idGen
	cache  *committerCache
	events []*backend.Event
	// msgEvents collects indexEvent's entries until the write function returns.
	msgEvents map[string][]byte
	// scrub asks for scrubFreePages after the commit (a message's content was erased).
	scrub bool
}

// committerCache memoizes what the committer decodes for every member on every post: each user's
// preferences and whether they are quiet (a bot or deactivated: no notifications). It is owned by the committer goroutine (like ids), kept
// current by the writes that change those records, and dropped whole when a commit fails (its
// writes were rolled back). Reads outside the committer go to the database.
type committerCache struct {
	prefs map[string]*backend.Preferences
	quiet map[string]bool
	// chats holds decoded chat records (LastMessageID left out) for txn.chat and
	// txn.sharedChat, so that neither a post nor a status change decodes a chat's member list;
	// putChat drops an entry it changes.
	chats map[string]*backend.Chat
}

// maxCachedChats bounds committerCache.chats; past it the map starts over.
const maxCachedChats = 4096

func (c *committerCache) reset() {
	c.prefs, c.quiet, c.chats = map[string]*backend.Preferences{}, map[string]bool{}, map[string]*backend.Chat{}
}

// newID returns a ULID greater than every id issued before, on this run or an earlier one.
func (t *txn) newID() string { return t.ids.next(t.now).String() }

// signal hands an ephemeral event (SESSION_ENDED) to the publisher after the commit, in commit
// order with the durable events; it is not logged.
func (t *txn) signal(ev *backend.Event) error {
	ev.Timestamp = t.now.UnixMilli()
	if err := ev.Seal(); err != nil {
		return err
	}
	t.events = append(t.events, ev)
	return nil
}

// emit seals a durable event and writes it to the log; publication happens after the commit. It
// assigns the next id unless the caller drew one with newID just before (a message shares its
// event's id).
func (t *txn) emit(ev *backend.Event) error {
	if ev.ID == "" {
		ev.ID = t.newID()
	}
	ev.Timestamp = t.now.UnixMilli()
	if err := ev.Seal(); err != nil {
		return err
	}
	if err := t.Bucket(bucketEvents).Put([]byte(ev.ID), encodeLogRecord(ev)); err != nil {
		return fmt.Errorf("log event %s: %w", ev.ID, err)
	}
	if err := putScopes(t.Bucket(bucketScopeEvents), ev); err != nil {
		return err
	}
	t.events = append(t.events, ev)
	return nil
}

type request struct {
	// local requests run on a replica too: Apply, and writes of node-local keys only (isLocal).
	local  bool
	fn     func(*txn) error
	done   chan error
	events []*backend.Event
	scrub  bool
}

// update runs fn inside the next group commit and returns once it is durable. A request that
// was queued is committed even if ctx ends meanwhile: the caller learns the outcome.
func (s *Store) update(ctx context.Context, fn func(*txn) error) error {
	return s.enqueue(ctx, &request{fn: fn, done: make(chan error, 1)})
}

// updateLocal is update for a request that a replica runs too (request.local).
func (s *Store) updateLocal(ctx context.Context, fn func(*txn) error) error {
	return s.enqueue(ctx, &request{local: true, fn: fn, done: make(chan error, 1)})
}

func (s *Store) enqueue(ctx context.Context, r *request) error {
	if err := s.submit(ctx, r); err != nil {
		return err
	}
	return <-r.done
}

// submit queues r for the committer; its outcome arrives on r.done.
func (s *Store) submit(ctx context.Context, r *request) error {
	if !r.local && s.following.Load() {
		return ErrNotWriter
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return backend.ErrClosed
	}
	select {
	case s.requests <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// view runs fn in a read transaction, which runs beside the committer's writes.
func (s *Store) view(fn func(*bbolt.Tx) error) error {
	s.readers.RLock()
	err := s.db.View(fn)
	s.readers.RUnlock()
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return backend.ErrClosed
	}
	return err
}

func (s *Store) commitLoop() {
	defer close(s.loopDone)
	batch := make([]*request, 0, s.maxBatch)
	for r := range s.requests {
		batch = append(batch[:0], r)
	drain:
		for len(batch) < s.maxBatch {
			select {
			case r, ok := <-s.requests:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.commitBatch(batch)
	}
}

// commitBatch commits the batch in one transaction. If the transaction fails as a whole, each
// request is retried alone so that one bad write cannot fail the others.
func (s *Store) commitBatch(batch []*request) {
	errs := make([]error, len(batch))
	err := s.commit(batch, errs)
	if err != nil && len(batch) > 1 {
		for i, r := range batch {
			if err := s.commit(batch[i:i+1], errs[i:i+1]); err != nil {
				errs[i] = err
			} else if errs[i] == nil {
				s.publish(r.events)
			}
		}
	} else if err != nil {
		errs[0] = err
	} else {
		var all []*backend.Event
		for _, r := range batch {
			all = append(all, r.events...)
		}
		s.publish(all)
	}
	for i, r := range batch {
		if r.scrub && errs[i] == nil {
			// The request's answer waits for the scrub: once a delete returns, no copy of the
			// content is left in the file. A failed scrub is logged; the next one catches up.
			if n, err := s.scrubFreePages(); err != nil {
				s.log.Error("scrubbing free pages failed", "err", err)
			} else {
				s.log.Debug("scrubbed free pages", "bytes", n)
			}
			break
		}
	}
	if s.testHookCommitted != nil {
		s.testHookCommitted()
	}
	for i, r := range batch {
		r.done <- errs[i]
	}
}

// commit runs the requests in one write transaction. Per-request domain errors land in errs;
// any other error aborts the transaction and is returned.
func (s *Store) commit(batch []*request, errs []error) error {
	saved := s.ids.last
	now := s.now()
	began := time.Now()
	var ws *writeSet
	log := s.commitLog.Load()
	if log != nil {
		ws = &writeSet{}
	}
	following := s.following.Load()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for i, r := range batch {
			if following && !r.local {
				// Queued before the store turned replica: what it would write could reach
				// no log.
				errs[i], r.events = ErrNotWriter, nil
				continue
			}
			t := &txn{Tx: tx, ws: ws, now: now, ids: &s.ids, cache: &s.cache}
			err := r.fn(t)
			if err == nil {
				err = t.flushMsgEvents()
			}
			var domainErr *backend.Error
			switch {
			case errors.As(err, &domainErr):
				errs[i] = err
				r.events = nil
			case err != nil:
				return err
			default:
				errs[i] = nil
				r.events, r.scrub = t.events, t.scrub
			}
		}
		if ws != nil {
			return s.appendToLog(tx, log.l, ws, batch)
		}
		return nil
	})
	if err != nil {
		s.ids.last = saved
		s.cache.reset()
		for _, r := range batch {
			r.events = nil
		}
		s.log.Error("commit failed", "writes", len(batch), "err", err)
		return fmt.Errorf("commit: %w", err)
	}
	s.commits.Add(1)
	if s.observeCommit != nil {
		s.observeCommit(time.Since(began), len(batch))
	}
	return nil
}

// appendToLog hands the commit's write set to the CommitLog, the last step before bbolt commits
// tx, and records the log position it got in the same transaction. A commit that changed nothing
// and published nothing is not logged.
func (s *Store) appendToLog(tx *bbolt.Tx, log CommitLog, w *writeSet, batch []*request) error {
	set := &WriteSet{Ops: w.ops()}
	for _, r := range batch {
		set.Events = append(set.Events, r.events...)
		set.Scrub = set.Scrub || r.scrub
	}
	if len(set.Ops) == 0 && len(set.Events) == 0 {
		return nil
	}
	seq, err := log.Append(context.Background(), set)
	if err != nil {
		return fmt.Errorf("append to the log: %w", err)
	}
	return putLogSeq(tx, seq)
}

// publish queues a commit's events for the Publisher. It runs on the committer before the
// commit's writes are answered: a write's events are always on their way, in commit order, by
// the time its caller learns it is durable, and reach subscribers a moment after.
func (s *Store) publish(events []*backend.Event) {
	if len(events) == 0 {
		return
	}
	s.fanout <- fanoutItem{events: events}
}

// fanoutItem is one commit's events, or (flushed not nil) a marker that FlushFanout waits for.
type fanoutItem struct {
	events  []*backend.Event
	flushed chan struct{}
}

// fanoutLoop hands queued events to the Publisher until Close.
func (s *Store) fanoutLoop() {
	defer close(s.fanoutDone)
	for item := range s.fanout {
		if b := s.publisher.Load(); b != nil && b.p != nil && len(item.events) > 0 {
			b.p.Publish(item.events...)
		}
		if item.flushed != nil {
			close(item.flushed)
		}
	}
}

// FlushFanout returns once the events of every write answered before it was called have been
// handed to the Publisher (tests wait on it; a write's answer may come before its fan-out).
func (s *Store) FlushFanout() {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return
	}
	// An answered write's events were queued before its answer, so before this marker; Close
	// cannot close the queue while the read lock is held.
	item := fanoutItem{flushed: make(chan struct{})}
	s.fanout <- item
	s.mu.RUnlock()
	<-item.flushed
}
