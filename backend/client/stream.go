package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/sse"
)

// State is the connection state of a Stream.
type State int

const (
	// Connecting is the first attempt, before the stream has ever been live.
	Connecting State = iota
	// Live: the server answered 200 and the stream is being read.
	Live
	// Reconnecting: the stream was lost or an attempt failed; it waits out the backoff and tries
	// again (or is trying again).
	Reconnecting
)

func (s State) String() string {
	switch s {
	case Connecting:
		return "Connecting"
	case Live:
		return "Live"
	case Reconnecting:
		return "Reconnecting"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Defaults of StreamOptions.
const (
	DefaultBackoffInitial = time.Second
	DefaultBackoffMax     = 30 * time.Second
	// DefaultKeepalive is assumed when GET /api/server does not say.
	DefaultKeepalive = 30 * time.Second
	// DefaultKickGrace: Kick keeps a connection attempt younger than this.
	DefaultKickGrace = 2 * time.Second
)

// Backoff spaces reconnection attempts: after the n-th consecutive failure (n = 0, 1, …) the
// delay is uniform in [0, min(Max, Initial·2ⁿ)] ("full jitter"), but at least the server's
// retry: delay (or a 429/503's Retry-After), capped at Max. A connection that went live resets n.
type Backoff struct {
	Initial time.Duration // default DefaultBackoffInitial
	Max     time.Duration // default DefaultBackoffMax
}

// StreamOptions configure a Stream. Callbacks run on the goroutine that calls Run, one at a time
// and in order; they must not block for long (the stream is not read meanwhile) and must not call
// Run. They may call Kick, State and LastEventID.
type StreamOptions struct {
	// LastEventID resumes after this event id (e.g. saved from a previous run); "" starts live.
	LastEventID string
	// OnEvent receives every event (the default SSE "message" event), replayed ones after a
	// resume like live ones, each exactly once. RESYNC is delivered too: the log could not fill
	// the gap, so refetch over REST. Keepalives are not delivered.
	OnEvent func(*backend.Event)
	// OnState hears each change of State, starting with Connecting when Run starts.
	OnState func(State)
	// OnError hears why each connection attempt failed or ended (for logs), before the wait;
	// also the error Run stops with.
	OnError func(error)
	Backoff Backoff
	// Keepalive is the server's keepalive interval; 0 asks GET /api/server. A connection that
	// receives no byte for 2 × Keepalive is considered dead and replaced.
	Keepalive time.Duration
	// KickGrace: Kick drops the current connection only if its attempt started at least this long
	// ago (wall-clock time, which also counts time asleep); a younger one was made after the
	// event that caused the Kick. Default DefaultKickGrace.
	KickGrace time.Duration
}

// Stream holds one GET /api/stream open for a Client, resuming with Last-Event-ID after every
// loss. Create it with Client.NewStream and call Run once.
type Stream struct {
	c      *Client
	opts   StreamOptions
	kick   chan struct{}
	jitter func(ceil time.Duration) time.Duration
	onWait func(time.Duration) // tests: hears each backoff delay before the wait

	// Only Run's goroutine writes these (retry also read by delay).
	keepalive time.Duration
	retry     time.Duration // the server's retry: field, 0 until it sends one

	mu           sync.Mutex
	running      bool
	state        State
	lastID       string
	attemptStart time.Time // wall clock (no monotonic reading): counts time asleep
	cancel       context.CancelCauseFunc
}

// NewStream returns a stream of c's user (not yet connected: call Run).
func (c *Client) NewStream(opts StreamOptions) *Stream {
	if opts.Backoff.Initial <= 0 {
		opts.Backoff.Initial = DefaultBackoffInitial
	}
	if opts.Backoff.Max <= 0 {
		opts.Backoff.Max = DefaultBackoffMax
	}
	if opts.Backoff.Max < opts.Backoff.Initial {
		opts.Backoff.Max = opts.Backoff.Initial
	}
	if opts.KickGrace <= 0 {
		opts.KickGrace = DefaultKickGrace
	}
	return &Stream{
		c: c, opts: opts, kick: make(chan struct{}, 1), lastID: opts.LastEventID, keepalive: opts.Keepalive,
		jitter: func(ceil time.Duration) time.Duration { return rand.N(ceil + 1) },
	}
}

// Errors that end one connection attempt from outside it.
var (
	errKicked = errors.New("herald: reconnecting at once (kick)")
	errSilent = errors.New("herald: the stream went silent (no keepalive)")
)

// ErrAlreadyRunning is returned by a second concurrent Run.
var ErrAlreadyRunning = errors.New("herald: stream is already running")

// Run connects and keeps the stream connected until ctx ends (it returns ctx.Err()) or the
// server rejects it for good: a 401 (the session is gone: IsUnauthorized) or another 4xx other
// than 408/429 is returned as its *APIError. Everything else (unreachable server, 5xx, a dropped
// or silent connection, the server's shutdown) is retried with backoff. Run uses only the
// calling goroutine.
func (s *Stream) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return ErrAlreadyRunning
	}
	s.running = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()

	s.report(Connecting, true)
	failures := 0
	for {
		select { // a Kick before this attempt has been served by it
		case <-s.kick:
		default:
		}
		live, err := s.connect(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if live {
			failures = 0
		}
		if s.opts.OnError != nil {
			s.opts.OnError(err)
		}
		var ae *APIError
		if errors.As(err, &ae) && !ae.retryable() {
			return err
		}
		s.report(Reconnecting, false)
		if errors.Is(err, errKicked) {
			continue
		}
		var floor time.Duration
		if ae != nil {
			floor = ae.RetryAfter
		}
		d := s.delay(failures, floor)
		failures++
		if s.onWait != nil {
			s.onWait(d)
		}
		wait := time.NewTimer(d)
		select {
		case <-ctx.Done():
			wait.Stop()
			return ctx.Err()
		case <-s.kick:
			wait.Stop()
		case <-wait.C:
		}
	}
}

// delay is the wait after the n-th consecutive failure (see Backoff); floor is a Retry-After.
func (s *Stream) delay(n int, floor time.Duration) time.Duration {
	b := s.opts.Backoff
	ceil := b.Initial
	for i := 0; i < n && ceil < b.Max; i++ {
		ceil *= 2
	}
	ceil = min(ceil, b.Max)
	d := s.jitter(ceil)
	floor = min(max(floor, s.retry), b.Max)
	return max(d, floor)
}

// Kick asks for a connection now: it ends a pending backoff wait at once and, if the current
// connection (or connection attempt) started at least KickGrace ago, drops it and reconnects
// (resuming from the last event id, so nothing is lost or repeated). It also closes the HTTP
// client's idle connections, which may be dead too. Call it on wake from sleep and on network
// changes. Safe to call from any goroutine, at any time.
func (s *Stream) Kick() {
	s.c.httpClient().CloseIdleConnections()
	s.mu.Lock()
	var cancel context.CancelCauseFunc
	if s.cancel != nil && time.Now().Round(0).Sub(s.attemptStart) >= s.opts.KickGrace {
		cancel = s.cancel
	}
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	if cancel != nil {
		cancel(errKicked)
	}
}

// State is the current connection state.
func (s *Stream) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// LastEventID is the id of the last event received (or StreamOptions.LastEventID before any):
// what the next connection resumes after. Save it to resume in a later run.
func (s *Stream) LastEventID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastID
}

// report sets the state and tells OnState if it changed (or always, for the first report).
func (s *Stream) report(st State, always bool) {
	s.mu.Lock()
	changed := s.state != st
	s.state = st
	s.mu.Unlock()
	if (changed || always) && s.opts.OnState != nil {
		s.opts.OnState(st)
	}
}

// silence is how long a connection may go without a byte.
func (s *Stream) silence() time.Duration {
	k := s.keepalive
	if k <= 0 {
		k = DefaultKeepalive
	}
	return 2 * k
}

// connect makes one connection and reads it until it ends. live reports whether it got as far as
// a 200; err (never nil) says why it ended.
func (s *Stream) connect(ctx context.Context) (live bool, err error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.mu.Lock()
	s.attemptStart, s.cancel = time.Now().Round(0), cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.cancel = nil
		s.mu.Unlock()
	}()
	// One timer watches the whole attempt: the connect, the answer and every read.
	timer := time.AfterFunc(s.silence(), func() { cancel(errSilent) })
	defer timer.Stop()
	// cause prefers why the attempt was cancelled (kick, silence) to the error that it caused.
	cause := func(err error) error {
		if c := context.Cause(actx); c != nil && ctx.Err() == nil && (errors.Is(c, errKicked) || errors.Is(c, errSilent)) {
			return c
		}
		return err
	}

	if s.keepalive <= 0 {
		info, err := s.c.Server(actx)
		if err != nil {
			return false, cause(err)
		}
		if k := info.Keepalive(); k > 0 {
			s.keepalive = k
			timer.Reset(s.silence())
		}
	}

	req, err := http.NewRequestWithContext(actx, http.MethodGet, s.c.url("/api/stream", nil), nil)
	if err != nil {
		return false, fmt.Errorf("herald: stream request: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	s.c.authorize(req)
	if id := s.LastEventID(); id != "" {
		req.Header.Set("Last-Event-ID", id)
	}
	resp, err := s.c.httpClient().Do(req)
	if err != nil {
		return false, cause(&NetworkError{Op: "GET /api/stream", Err: err})
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, cause(decodeError(resp))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return false, fmt.Errorf("herald: GET /api/stream answered %q, not an event stream", resp.Header.Get("Content-Type"))
	}
	silence := s.silence()
	timer.Reset(silence)
	select { // a Kick while this connection was being made is served by it
	case <-s.kick:
	default:
	}
	s.report(Live, false)

	rd := sse.NewReader(&watchedBody{r: resp.Body, timer: timer, silence: silence})
	for {
		f, err := rd.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = ErrStreamEnded
			} else {
				err = &NetworkError{Op: "GET /api/stream", Err: err}
			}
			return true, cause(err)
		}
		if ms := rd.Retry(); ms > 0 {
			s.retry = time.Duration(ms) * time.Millisecond
		}
		if id := rd.LastEventID(); id != "" {
			s.mu.Lock()
			s.lastID = id
			s.mu.Unlock()
		}
		// Comments and the named keepalive event only prove the connection alive (the watched
		// body has already reset the timer); other named events are not ours.
		if f.IsComment || f.Event != "" && f.Event != "message" {
			continue
		}
		ev, err := backend.DecodeEvent([]byte(f.Data))
		if err != nil {
			if s.opts.OnError != nil {
				s.opts.OnError(fmt.Errorf("herald: skipped an event (id %q): %w", f.ID, err))
			}
			continue
		}
		if s.opts.OnEvent != nil {
			s.opts.OnEvent(ev)
		}
	}
}

// watchedBody restarts the silence timer on every byte that arrives.
type watchedBody struct {
	r       io.Reader
	timer   *time.Timer
	silence time.Duration
}

func (w *watchedBody) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.timer.Reset(w.silence)
	}
	return n, err
}
