package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
)

// Compile-time guards: the store implements every interface the API uses.
var (
	_ backend.Store     = (*bolt.Store)(nil)
	_ backend.EventLog  = (*bolt.Store)(nil)
	_ backend.Publisher = (*recorder)(nil)
)

// t0 is the default time of the test clock: a fixed instant, so that tests do not depend on when
// they run.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

var inviteSeq atomic.Int64

// clock is an injectable test clock, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *clock { return &clock{now: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// recorder is a Publisher that keeps every event it is handed, in order.
type recorder struct {
	mu     sync.Mutex
	events []*backend.Event
	// flush, when set, waits for the fan-out of every answered write (Store.FlushFanout):
	// Events and Len see what was published by the writes that returned before them.
	flush func()
	// also, when set, is handed every event too (the replica check's record of the writer's).
	also *recorder
}

func (r *recorder) Publish(events ...*backend.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, events...)
	if r.also != nil {
		r.also.Publish(events...)
	}
}

// Events returns a copy of the events published so far.
func (r *recorder) Events() []*backend.Event {
	if r.flush != nil {
		r.flush()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) Len() int {
	if r.flush != nil {
		r.flush()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// env is one open store on a file in t.TempDir, with its clock and a recording publisher.
type env struct {
	t     testing.TB
	path  string
	clock *clock
	pub   *recorder
	s     *bolt.Store
	ctx   context.Context
	// rep follows every commit (replica_test.go); nil in benchmarks and after noReplica.
	rep *replica
}

// newEnv opens a store on a new file. The store is closed when the test ends.
func newEnv(t testing.TB, opts ...bolt.Option) *env {
	t.Helper()
	_, bench := t.(*testing.B)
	return newEnvReplicated(t, !bench, opts...)
}

// newEnvReplicated is newEnv with the replica check on or off (off: a test of the commit log
// itself, which gives the store its own).
func newEnvReplicated(t testing.TB, replicated bool, opts ...bolt.Option) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "herald.db"), clock: newClock(t0), ctx: context.Background()}
	if replicated {
		e.rep = &replica{t: t}
		// Registered before the store's own Cleanup, so it runs after the store closed.
		t.Cleanup(func() {
			if e.rep != nil && e.rep.store != nil {
				e.rep.check(e.path)
			}
		})
	}
	e.open(opts...)
	return e
}

// noReplica stops the replica check, for a test that closed the store to change the file behind
// its back (an old schema, a corrupt record): no log could carry that.
func (e *env) noReplica() {
	if e.rep != nil && e.rep.store != nil {
		_ = e.rep.store.Close()
	}
	e.rep = nil
}

// in returns e for use by the subtest t, so that its helpers fail t rather than the parent test.
func (e *env) in(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

// open opens (or reopens) the store at e.path with e.clock and a fresh recorder.
func (e *env) open(opts ...bolt.Option) {
	e.t.Helper()
	// The store logs failed commits, which some tests cause on purpose.
	opts = append([]bolt.Option{bolt.WithClock(e.clock.Now), bolt.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	if e.rep != nil {
		opts = append(opts, bolt.WithCommitLog(e.rep))
	}
	s, err := bolt.Open(e.path, opts...)
	if err != nil {
		e.t.Fatalf("Open(%s): %v", e.path, err)
	}
	if e.rep != nil && e.rep.store == nil {
		e.rep.start(e.path)
	}
	e.pub = &recorder{flush: s.FlushFanout}
	if e.rep != nil {
		e.pub.also = &e.rep.written
	}
	s.SetPublisher(e.pub)
	e.s = s
	e.t.Cleanup(func() { _ = s.Close() })
}

// reopen closes the store and opens the same file again.
func (e *env) reopen(opts ...bolt.Option) {
	e.t.Helper()
	if err := e.s.Close(); err != nil {
		e.t.Fatalf("Close: %v", err)
	}
	e.open(opts...)
}

// admin registers the first user of the server.
func (e *env) admin(username string) *backend.User {
	e.t.Helper()
	u := &backend.User{Username: username, DisplayName: "Admin " + username, PasswordHash: "hash-of-" + username}
	if err := e.s.CreateUser(e.ctx, u, ""); err != nil {
		e.t.Fatalf("CreateUser(%s) as first user: %v", username, err)
	}
	return u
}

// invite stores a fresh invite code that expires in an hour of the test clock.
func (e *env) invite(createdBy string) string {
	e.t.Helper()
	code := fmt.Sprintf("invite-%s-%d", createdBy, inviteSeq.Add(1))
	e.inviteCode(code, createdBy, e.clock.Now().Add(time.Hour))
	return code
}

func (e *env) inviteCode(code, createdBy string, expires time.Time) {
	e.t.Helper()
	inv := backend.Invite{Code: code, CreatedBy: createdBy, CreatedAt: e.clock.Now().UnixMilli(), ExpiresAt: expires.UnixMilli()}
	if err := e.s.CreateInvite(e.ctx, inv); err != nil {
		e.t.Fatalf("CreateInvite: %v", err)
	}
}

// member registers a user with a fresh invite. The server must have its first user.
func (e *env) member(username string) *backend.User {
	e.t.Helper()
	users, err := e.s.Users(e.ctx)
	if err != nil || len(users) == 0 {
		e.t.Fatalf("member(%s) needs a first user: %d users, %v", username, len(users), err)
	}
	u := &backend.User{Username: username, DisplayName: "Member " + username, PasswordHash: "hash-of-" + username}
	if err := e.s.CreateUser(e.ctx, u, e.invite(users[0].ID)); err != nil {
		e.t.Fatalf("CreateUser(%s) with invite: %v", username, err)
	}
	return u
}

// users registers an admin and n-1 members named u0…u(n-1).
func (e *env) users(n int) []*backend.User {
	e.t.Helper()
	us := []*backend.User{e.admin("u0")}
	for i := 1; i < n; i++ {
		us = append(us, e.member(fmt.Sprintf("u%d", i)))
	}
	return us
}

// chat creates a chat of creator with the other members.
func (e *env) chat(name string, creator *backend.User, others ...*backend.User) *backend.Chat {
	e.t.Helper()
	c := &backend.Chat{Name: name, CreatedBy: creator.ID}
	for _, u := range others {
		c.MemberIDs = append(c.MemberIDs, u.ID)
	}
	if err := e.s.CreateChat(e.ctx, c); err != nil {
		e.t.Fatalf("CreateChat(%s): %v", name, err)
	}
	return c
}

// post posts a message without a client id and requires that it was created.
func (e *env) post(chat *backend.Chat, author *backend.User, content string) *backend.Message {
	e.t.Helper()
	m, created, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: author.ID, Content: content})
	if err != nil || !created {
		e.t.Fatalf("PostMessage(%q): created=%v err=%v", content, created, err)
	}
	return m
}

// postMany posts n messages into chat, sequentially, and returns their ids in order.
func (e *env) postMany(chat *backend.Chat, author *backend.User, n int) []string {
	e.t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = e.post(chat, author, fmt.Sprintf("message %d", i)).ID
	}
	return ids
}

// postConcurrently posts n messages into chat from workers goroutines and returns their ids in
// id order. It is the quick way to fill a chat: concurrent posts share commits.
func (e *env) postConcurrently(chat *backend.Chat, author *backend.User, n, workers int) []string {
	e.t.Helper()
	var (
		mu   sync.Mutex
		ids  []string
		errs []error
		wg   sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				m, _, err := e.s.PostMessage(e.ctx, &backend.Message{ChatID: chat.ID, AuthorID: author.ID, Content: fmt.Sprintf("bulk %d", i)})
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					ids = append(ids, m.ID)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		e.t.Fatalf("postConcurrently: %d errors, first: %v", len(errs), errs[0])
	}
	slices.Sort(ids)
	return ids
}

// lastEventID returns the newest id of the log.
func (e *env) lastEventID() string {
	e.t.Helper()
	id, err := e.s.LastEventID(e.ctx)
	if err != nil {
		e.t.Fatalf("LastEventID: %v", err)
	}
	return id
}

// eventsAfter returns every event after id.
func (e *env) eventsAfter(id string) []*backend.Event {
	e.t.Helper()
	evs, err := e.s.EventsAfter(e.ctx, id, 1<<20)
	if err != nil {
		e.t.Fatalf("EventsAfter(%s): %v", id, err)
	}
	return evs
}

// summaries returns ChatsOf(userID) keyed by chat id.
func (e *env) summaries(userID string) map[string]*backend.ChatSummary {
	e.t.Helper()
	sums, err := e.s.ChatsOf(e.ctx, userID)
	if err != nil {
		e.t.Fatalf("ChatsOf(%s): %v", userID, err)
	}
	m := make(map[string]*backend.ChatSummary, len(sums))
	for _, s := range sums {
		m[s.ID] = s
	}
	return m
}

// wantCode fails the test unless err carries the backend error code want.
func wantCode(t testing.TB, err error, want string) {
	t.Helper()
	if got := backend.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (err %v), want %q", got, err, want)
	}
}

// wantNoError fails the test on err.
func wantNoError(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func mapIDs[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func eventIDs(evs []*backend.Event) []string {
	return mapIDs(evs, func(e *backend.Event) string { return e.ID })
}

func messageIDs(ms []*backend.Message) []string {
	return mapIDs(ms, func(m *backend.Message) string { return m.ID })
}

func userIDs(us []*backend.User) []string {
	return mapIDs(us, func(u *backend.User) string { return u.ID })
}

// wantStrictlyIncreasing fails the test unless ids increase strictly.
func wantStrictlyIncreasing(t testing.TB, ids []string, what string) {
	t.Helper()
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("%s: id %d %s is not greater than id %d %s", what, i, ids[i], i-1, ids[i-1])
		}
	}
}

// isEventNotFound reports whether err is backend.ErrEventNotFound.
func isEventNotFound(err error) bool { return errors.Is(err, backend.ErrEventNotFound) }
