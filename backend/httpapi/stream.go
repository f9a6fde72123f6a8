package httpapi

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/monitor"
)

func (h *Handler) userStream(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	return h.serveStream(w, r, backend.Scope{Kind: backend.ScopeUser, UserID: u.ID})
}

// errSessionExpired is the cause with which a stream's context ends when its session expires.
var errSessionExpired = errors.New("session expired")

func (h *Handler) chatStream(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	chat, err := h.memberChat(r, u)
	if err != nil {
		return err
	}
	return h.serveStream(w, r, backend.Scope{Kind: backend.ScopeChat, UserID: u.ID, ChatID: chat.ID})
}

func (h *Handler) notificationStream(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if r.PathValue("userId") != u.ID {
		return backend.Errorf(backend.EFORBIDDEN, "You can only open your own notification stream.")
	}
	return h.serveStream(w, r, backend.Scope{Kind: backend.ScopeNotifications, UserID: u.ID})
}

// serveStream writes the scope's events as SSE until the client goes away, the broker ends the
// subscription (the client then resumes from the log), or the server shuts down (the client is
// told when to come back). Errors before the 200 are rendered as JSON; after it, the stream just
// ends.
//
// The stream's goroutine lives as long as the stream, and the deepest it ever reached stays
// allocated as its stack until a GC finds it using a quarter of that. So the work done once
// (authentication happened before; subscribing, the header, the monitor, the log line) runs in
// openStream, whose big frame is gone by the time the stream waits, and the loop (pump) keeps
// a small one: a parked stream fits in 8 KiB of stack rather than 16.
func (h *Handler) serveStream(w http.ResponseWriter, r *http.Request, scope backend.Scope) error {
	var st *stream
	err := onOwnStack(func() (err error) {
		st, err = h.openStream(w, r, scope)
		return err
	})
	if st == nil {
		return err
	}
	defer st.close()
	_ = onOwnStack(func() error {
		st.pump()
		return nil
	})
	return nil
}

// onOwnStack runs f on a goroutine of its own and waits for it. The stream's work happens on
// such goroutines while the handler's waits: each stack then holds only what its own part
// needs — the setup's depth is given back when it ends, and the long-lived loop's stays small.
// The response is used by one goroutine at a time. A panic in f is raised again on the
// handler's goroutine, where net/http's recovery (and http.ErrAbortHandler) work as before.
func onOwnStack(f func() error) error {
	type outcome struct {
		err      error
		panicked bool
		value    any
	}
	done := make(chan outcome, 1)
	go func() {
		o := outcome{panicked: true}
		defer func() {
			if o.panicked {
				o.value = recover()
			}
			done <- o
		}()
		o.err = f()
		o.panicked = false
	}()
	o := <-done
	if o.panicked {
		panic(o.value)
	}
	return o.err
}

// stream is one open stream, from openStream to close. Owned by the handler's goroutine.
type stream struct {
	h     *Handler
	r     *http.Request
	scope backend.Scope
	cred  *credential // nil for a stream opened without a session (the desktop app's)
	sub   backend.Subscription
	out   *streamWriter
	rec   *monitor.Stream
	ctx   context.Context
	end   monitor.End // why it ended, for the monitor and the log
	undo  []func()    // run by close, last first
	buf   []*backend.Event
}

// later has close run f (last registered, first run).
func (st *stream) later(f func()) { st.undo = append(st.undo, f) }

// close undoes what openStream did, in reverse.
func (st *stream) close() {
	for i := len(st.undo) - 1; i >= 0; i-- {
		st.undo[i]()
	}
	st.undo = nil
}

// openStream subscribes, answers 200 with the stream's first frame and arranges how it ends.
// It returns nil and the error to render when the stream is refused, nil and nil when the peer
// went away before the first frame was written.
func (h *Handler) openStream(w http.ResponseWriter, r *http.Request, scope backend.Scope) (*stream, error) {
	lastID, err := parseLastEventID(r.Header.Get("Last-Event-ID"), r.URL.Query().Get("lastEventId"))
	if err != nil {
		lastID = unknownEventID // RESYNC, like an id the log does not hold
	}
	st := &stream{h: h, r: r, scope: scope, end: monitor.EndClientGone}
	st.cred, _ = r.Context().Value(credentialKey).(*credential)
	if st.cred != nil {
		st.scope.SessionID = st.cred.session.ID
	}
	scope = st.scope
	if !h.streamStarted() {
		return nil, backend.ErrClosed
	}
	st.later(h.streams.Done)
	refuse := func(err error) (*stream, error) {
		st.close()
		return nil, err
	}
	sub, err := h.broker.Subscribe(scope, lastID)
	if errors.Is(err, backend.ErrTooManyStreams) {
		w.Header().Set("Retry-After", strconv.Itoa(streamsRetryAfter))
		return refuse(backend.Errorf(backend.ERATELIMIT, "You have the most streams one user may open at once; "+
			"close another tab or device, or try again in %d s.", streamsRetryAfter))
	}
	if err != nil {
		return refuse(err)
	}
	st.sub = sub
	st.later(sub.Close)
	if scope.Kind == backend.ScopeChat {
		// Checked again now that the subscription is live: a removal committed after the
		// first check reaches it as CHAT_MEMBER_REMOVED, one before is seen here.
		chat, err := h.reads.Chat(r.Context(), scope.ChatID)
		if err != nil {
			return refuse(err)
		}
		if !chat.HasMember(scope.UserID) {
			return refuse(backend.Errorf(backend.EFORBIDDEN, "You are not a member of this chat."))
		}
	}
	if st.cred != nil && !st.cred.user.IsBot() { // a bot sets its own status
		h.cfg.Presence.Connected(scope.UserID)
		st.later(func() { h.cfg.Presence.Disconnected(scope.UserID) })
	}

	hdr := w.Header()
	for _, name := range documentHeaders {
		hdr.Del(name) // an event stream is never rendered: what governs documents is bytes per connect
	}
	hdr.Set("Content-Type", "text/event-stream; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	out := &streamWriter{w: w, rc: http.NewResponseController(w), timeout: h.cfg.WriteTimeout}
	st.out = out
	retry := h.cfg.Retry + time.Duration(rand.Int64N(int64(h.cfg.Retry/2)+1))
	out.printf("retry: %d\n: connected\n\n", retry.Milliseconds())
	if err := out.flush(); err != nil {
		st.close()
		return nil, nil
	}
	info := monitor.StreamInfo{UserID: scope.UserID, Kind: monitorKind[scope.Kind], ChatID: scope.ChatID,
		UserAgent: r.UserAgent(), RemoteAddr: h.clientIP(r), Resumed: lastID != ""}
	if st.cred != nil {
		info.Username, info.Bot = st.cred.user.Username, st.cred.user.IsBot()
	}
	var dropped func() int64
	if dc, ok := sub.(backend.DropCounter); ok {
		dropped = dc.Dropped
	}
	st.rec = h.cfg.Monitor.Open(info, dropped)
	st.rec.Wrote(nil, out.take())
	opened := time.Now()
	h.log.InfoContext(r.Context(), "stream opened", "user", scope.UserID, "kind", info.Kind, "chat", scope.ChatID,
		"client", monitor.ClassifyClient(info.Bot, info.UserAgent), "remote", info.RemoteAddr, "resumed", info.Resumed)
	st.later(func() {
		st.rec.Close(st.end)
		h.log.InfoContext(r.Context(), "stream closed", "user", scope.UserID, "kind", info.Kind, "cause", st.end,
			"duration", time.Since(opened).Round(time.Millisecond))
	})

	// A writer blocked on a peer that stopped reading is interrupted when the broker gives up
	// on it, rather than after the write timeout; on shutdown the stream gets a grace period to
	// say goodbye, then its writes are interrupted too, so one dead peer cannot hold up the
	// server's shutdown. A session that ends early (logout, password change, revocation) ends
	// its streams through the broker (SESSION_ENDED); one that runs out ends them here, at its
	// expiry. None of this keeps a goroutine per stream: each is a callback that runs when it
	// happens (AfterEnd, context.AfterFunc, time.AfterFunc), and the writer ignores callbacks
	// that come after the handler returned — from then on the response must not be touched
	// (HTTP/2's SetWriteDeadline on a finished response panics).
	ctx, cancel := context.WithCancelCause(r.Context())
	st.ctx = ctx
	st.later(func() { cancel(nil) })
	st.later(out.finish) // runs before cancel: a callback racing the return is turned away
	if st.cred != nil {
		t := time.AfterFunc(st.cred.session.ExpiresAt.Sub(h.now()), func() { cancel(errSessionExpired) })
		st.later(func() { t.Stop() })
	}
	stopInterrupt := sub.AfterEnd(out.interrupt)
	st.later(func() { stopInterrupt() })
	// The grace timer is armed by the shutdown callback, which may still be running when the
	// stream closes (stopShutdown then returns false): closed keeps it from arming one after.
	var (
		graceMu sync.Mutex
		grace   *time.Timer
		closed  bool
	)
	stopShutdown := context.AfterFunc(h.shutdownCtx, func() {
		cancel(nil)
		graceMu.Lock()
		defer graceMu.Unlock()
		if !closed {
			grace = time.AfterFunc(shutdownGrace, out.interrupt)
		}
	})
	st.later(func() { stopShutdown() })
	st.later(func() {
		graceMu.Lock()
		defer graceMu.Unlock()
		closed = true
		if grace != nil {
			grace.Stop()
		}
	})
	return st, nil
}

// next waits for the stream's next events, at most a jittered keepalive interval (ErrIdle).
func (st *stream) next() error {
	var err error
	st.buf, err = st.sub.NextWithin(st.ctx, st.buf, st.h.jitteredKeepalive())
	return err
}

// pump writes the stream's events until it ends, and says why in st.end.
func (st *stream) pump() {
	for {
		err := st.next()
		st.out.arm()
		st.out.events(st.buf...)
		if err != nil && !errors.Is(err, backend.ErrIdle) {
			st.end = st.ending(err)
			return
		}
		if err != nil { // idle
			// The comment keeps proxies and the contract's readers content; EventSource hides
			// comments from pages, so a named event lets a page see that the stream is alive
			// without touching onmessage handlers that switch on type.
			st.out.printf(": keepalive\nevent: keepalive\ndata: {\"timestamp\":%d}\n\n", st.h.now().UnixMilli())
			if st.cred != nil {
				st.h.seeSession(st.r, st.cred) // an open stream keeps its session's lastSeenAt current
			}
		}
		if err := st.out.flush(); err != nil {
			st.end = st.h.writeEnd(err) // the peer is gone, or stopped reading
			return
		}
		st.rec.Wrote(st.buf, st.out.take())
	}
}

// ending writes the stream's last frames for why Next ended (err) and returns the cause.
func (st *stream) ending(err error) monitor.End {
	h, out, rec, buf := st.h, st.out, st.rec, st.buf
	switch {
	case errors.Is(context.Cause(st.ctx), errSessionExpired):
		ev := &backend.Event{Type: backend.EventSessionEnded, Reason: backend.SessionExpired, Timestamp: h.now().UnixMilli()}
		if ev.Seal() == nil {
			out.events(ev)
		}
		return h.finish(out, rec, buf, monitor.EndExpired)
	case errors.Is(err, backend.ErrSessionEnded):
		return h.finish(out, rec, buf, monitor.EndLogout) // its SESSION_ENDED frame is written
	case errors.Is(err, backend.ErrRemovedFromChat):
		return h.finish(out, rec, buf, monitor.EndRemoved) // its CHAT_MEMBER_REMOVED frame is written
	case st.ctx.Err() != nil && isShutdown(h.shutdown):
		stagger := h.cfg.Retry + time.Duration(rand.Int64N(int64(5*time.Second)))
		out.printf("retry: %d\n\n", stagger.Milliseconds())
		return h.finish(out, rec, buf, monitor.EndShutdown)
	}
	cause := monitor.EndClientGone
	switch {
	case errors.Is(err, backend.ErrOverflow):
		cause = monitor.EndOverflow
		h.log.WarnContext(st.r.Context(), "stream closed: subscriber fell behind", "user", st.scope.UserID)
	case errors.Is(err, backend.ErrClosed):
		cause = monitor.EndShutdown
	case !errors.Is(err, context.Canceled):
		cause = monitor.EndError
		h.log.ErrorContext(st.r.Context(), "stream failed", "user", st.scope.UserID, "err", err)
	}
	return h.finish(out, rec, buf, cause)
}

// documentHeaders are the security headers (headers.go) that govern how a browser renders a
// document or frames it; a stream's answer leaves them out (X-Content-Type-Options stays).
var documentHeaders = []string{"Content-Security-Policy", "X-Frame-Options", "Referrer-Policy", "Permissions-Policy", "Cross-Origin-Opener-Policy"}

// monitorKind names a scope's stream for the monitor.
var monitorKind = map[backend.ScopeKind]monitor.Kind{
	backend.ScopeUser: monitor.KindStream, backend.ScopeChat: monitor.KindChat, backend.ScopeNotifications: monitor.KindNotifications,
}

// finish flushes a stream's last frames and says why it ended: cause, or why the flush failed.
func (h *Handler) finish(out *streamWriter, rec *monitor.Stream, buf []*backend.Event, cause monitor.End) monitor.End {
	if err := out.flush(); err != nil {
		return h.writeEnd(err)
	}
	rec.Wrote(buf, out.take())
	return cause
}

// writeEnd names why a write or flush failed: a deadline (the peer stopped reading), an
// interrupt (the broker gave up on it, or shutdown's grace ran out), or a peer gone.
func (h *Handler) writeEnd(err error) monitor.End {
	switch {
	case errors.Is(err, errInterrupted) && isShutdown(h.shutdown):
		return monitor.EndShutdown
	case errors.Is(err, errInterrupted):
		return monitor.EndOverflow
	case errors.Is(err, os.ErrDeadlineExceeded):
		return monitor.EndWriteTimeout
	}
	return monitor.EndClientGone
}

func isShutdown(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (h *Handler) jitteredKeepalive() time.Duration {
	k := h.cfg.Keepalive
	return k - k/10 + time.Duration(rand.Int64N(int64(k/5)+1))
}

// streamWriter batches writes to one stream and flushes them with a write deadline. The
// Wails AssetServer's writer supports neither flushing nor deadlines: its writes go straight
// through, so ErrNotSupported is ignored.
//
// The deadline is armed per batch (arm), and only when the one armed before has used up a
// quarter of the timeout: a busy stream touches its connection's timer a few times per
// timeout, not per frame, and a blocked write still fails between 3/4 and 1 timeout after it
// began.
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	err     error
	written int       // bytes written since the last take
	armed   time.Time // when the current deadline was set; zero: none yet

	mu          sync.Mutex  // orders arming the deadline against interrupt and finish
	interrupted atomic.Bool // interrupt was called: writes fail; set under mu
	done        bool        // the handler returned: interrupt must not touch the response
}

// errInterrupted ends a stream whose writes were interrupted.
var errInterrupted = errors.New("stream interrupted")

// arm sets the write deadline for the writes that follow, unless the one set recently still
// covers them.
func (s *streamWriter) arm() {
	if s.err != nil {
		return
	}
	now := time.Now()
	if !s.armed.IsZero() && now.Sub(s.armed) < s.timeout/4 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.interrupted.Load() {
		s.err = errInterrupted
		return
	}
	if err := s.rc.SetWriteDeadline(now.Add(s.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.err = err
		return
	}
	s.armed = now
}

func (s *streamWriter) write(b []byte) {
	if s.err != nil {
		return
	}
	if s.armed.IsZero() {
		s.arm()
		if s.err != nil {
			return
		}
	}
	if s.interrupted.Load() {
		s.err = errInterrupted
		return
	}
	var n int
	n, s.err = s.w.Write(b)
	s.written += n
}

// events writes the frames of sealed events (AppendEventFrame). They are built in a buffer
// from framePool, at most about frameBatch bytes of them per write, and the buffer goes back to
// the pool: a stream holds no buffer between batches, and one event fanned out to thousands of
// streams costs each a copy of its JSON into a buffer it borrows, not an allocation or an
// encoding.
func (s *streamWriter) events(evs ...*backend.Event) {
	bp := framePool.Get().(*[]byte)
	b := (*bp)[:0]
	for _, ev := range evs {
		b = AppendEventFrame(b, ev)
		if len(b) >= frameBatch {
			s.write(b)
			b = b[:0]
		}
	}
	if len(b) > 0 {
		s.write(b)
	}
	if cap(b) <= maxPooledFrame { // a buffer grown for a huge event is left to the GC
		*bp = b
		framePool.Put(bp)
	}
}

// framePool holds the buffers streamWriter.events builds frames in (*[]byte, so that Put does
// not allocate). Shared by every stream; a buffer is held only during one events call.
var framePool = sync.Pool{New: func() any {
	b := make([]byte, 0, 2*frameBatch)
	return &b
}}

const (
	// frameBatch is how many bytes of frames events gathers before it writes them: net/http's
	// response buffers 2 KiB before it chunks, so larger writes go through.
	frameBatch = 4 << 10
	// maxPooledFrame is the largest buffer framePool keeps (bytes).
	maxPooledFrame = 64 << 10
)

// take returns the bytes written since the last take.
func (s *streamWriter) take() int {
	n := s.written
	s.written = 0
	return n
}

func (s *streamWriter) printf(format string, args ...any) { s.write(fmt.Appendf(nil, format, args...)) }

func (s *streamWriter) flush() error {
	if s.err != nil {
		return s.err
	}
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.err = err
	}
	return s.err
}

// interrupt makes a blocked write fail now, and every later one. It may be called from
// another goroutine, also after finish (then it does nothing).
func (s *streamWriter) interrupt() {
	if hook := testHookInterrupt.Load(); hook != nil {
		(*hook)()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.interrupted.Store(true)
	_ = s.rc.SetWriteDeadline(time.Now())
}

// finish marks the response as no longer the stream's: later interrupts leave it alone.
func (s *streamWriter) finish() {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
}

// testHookInterrupt, when set (by tests only), runs as a stream's interrupt begins: a test
// delays it to widen the window in which a stream's end and the broker's (or shutdown's)
// interrupt race. Atomic: an interrupt callback of an earlier test's stream may still be
// running when the next test sets it.
var testHookInterrupt atomic.Pointer[func()]

// streamsRetryAfter is the Retry-After (s) of a stream refused for too many streams.
const streamsRetryAfter = 30

// shutdownGrace is how long a stream may take to write its goodbye on shutdown before its writes
// are interrupted.
const shutdownGrace = 2 * time.Second
