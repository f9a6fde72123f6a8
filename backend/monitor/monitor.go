// Package monitor watches a team server's health: every open stream (who, what, how much it
// carried), totals since start (connects and refusals by cause, disconnects by cause, delivery,
// fan-out, POST and commit latency, errors) and a one-minute history kept in the store. The admin
// API serves it as JSON and CSV, Prometheus scrapes it from /metrics, and an open dashboard hears
// it as MONITOR_TICK.
//
// The hot path costs atomic adds only: the per-stream record is written by the stream's own
// goroutine, counters and histograms are atomics, and the registry's lock is taken on connect and
// disconnect, never per event. Every method is safe on a nil *Monitor or *Stream (monitoring off).
package monitor

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-chat/herald/backend"
)

// Kind is which of the three streams a client holds.
type Kind string

const (
	KindStream        Kind = "stream"        // /api/stream: everything of the user
	KindChat          Kind = "chat"          // /api/chat/{chatId}/stream
	KindNotifications Kind = "notifications" // /api/notifications/{userId}/stream
)

// Refusal is why a stream was not opened.
type Refusal string

const (
	RefusedAuth      Refusal = "auth"       // no or a bad credential
	RefusedCap       Refusal = "cap"        // the user has the most streams allowed
	RefusedRateLimit Refusal = "rate_limit" // too many requests
	RefusedShutdown  Refusal = "shutdown"   // the server is stopping
	RefusedForbidden Refusal = "forbidden"  // not a member of the chat, another's notifications
	RefusedOther     Refusal = "other"      // a bad request or an internal error
)

// Refusals lists every Refusal, in the order reports show them.
var Refusals = []Refusal{RefusedAuth, RefusedCap, RefusedRateLimit, RefusedShutdown, RefusedForbidden, RefusedOther}

// End is why an open stream closed.
type End string

const (
	EndClientGone   End = "client_gone"   // the peer closed or its connection broke
	EndOverflow     End = "overflow"      // it fell behind on durable events
	EndLogout       End = "logout"        // its session ended (sign-out, password, revocation, deactivation)
	EndExpired      End = "expired"       // its session ran out
	EndRemoved      End = "removed"       // removed from the chat (chat streams)
	EndShutdown     End = "shutdown"      // the server stopped
	EndWriteTimeout End = "write_timeout" // a write did not finish in time: the peer stopped reading
	EndError        End = "error"         // reading the log failed
)

// Ends lists every End, in the order reports show them.
var Ends = []End{EndClientGone, EndOverflow, EndLogout, EndExpired, EndRemoved, EndShutdown, EndWriteTimeout, EndError}

// Client is what kind of program holds a stream, from its user agent.
type Client string

const (
	ClientBrowser Client = "browser"
	ClientDesktop Client = "desktop" // the Herald desktop app (its Go client)
	ClientBot     Client = "bot"
	ClientOther   Client = "other" // curl, scripts
)

// ClassifyClient names the client from the account and the User-Agent header.
func ClassifyClient(bot bool, userAgent string) Client {
	switch {
	case bot:
		return ClientBot
	case strings.HasPrefix(userAgent, "herald-client") || strings.Contains(userAgent, "Herald/"):
		return ClientDesktop
	case strings.HasPrefix(userAgent, "Mozilla/"):
		return ClientBrowser
	}
	return ClientOther
}

// StreamInfo describes a stream as it opens.
type StreamInfo struct {
	UserID, Username string
	Kind             Kind
	ChatID           string // chat streams
	Bot              bool
	UserAgent        string // cut to 200 bytes
	RemoteAddr       string
	// Resumed: the client sent a Last-Event-ID.
	Resumed bool
}

// Monitor is the health monitor of one server. Make it with New.
type Monitor struct {
	log     *slog.Logger
	now     func() time.Time
	started time.Time

	nextID  atomic.Uint64
	mu      sync.Mutex // guards live, dayPeak, day, errs and the rate samples
	live    map[uint64]*Stream
	open    atomic.Int64
	peak    atomic.Int64
	day     string // UTC date of dayPeak
	dayPeak int64

	connects    atomic.Int64
	refused     [6]atomic.Int64 // by refusalIndex
	disconnects [8]atomic.Int64 // by endIndex
	events      atomic.Int64
	bytes       atomic.Int64
	resumes     atomic.Int64
	backlog     atomic.Int64
	resyncs     atomic.Int64
	posts       atomic.Int64
	errorsN     atomic.Int64
	serverErrs  atomic.Int64

	polls     atomic.Int64 // GET history requests answered
	pollBytes atomic.Int64 // their bytes

	fanout   *Histogram
	post     *Histogram
	commit   *Histogram
	batch    *Histogram
	duration *Histogram

	errs errorLog

	broker    atomic.Pointer[func() backend.BrokerStats]
	storeSize atomic.Pointer[func() int64]
	followed  atomic.Pointer[func(ctx context.Context, userID string) int]
	cluster   atomic.Pointer[func() *backend.ClusterStatus] // nil for a single server

	rate rateSampler

	ticks      tickers
	follow     followedCache
	minutePeak atomic.Int64                // the most streams open at once this minute
	lastMin    atomic.Pointer[minuteState] // the counters at the current minute's start
	minuteMu   sync.Mutex
	minuteLog  []backend.MonitorMinute // the last hour, newest last, for the polling comparison
}

var refusalIndex = map[Refusal]int{RefusedAuth: 0, RefusedCap: 1, RefusedRateLimit: 2, RefusedShutdown: 3, RefusedForbidden: 4, RefusedOther: 5}

var endIndex = map[End]int{EndClientGone: 0, EndOverflow: 1, EndLogout: 2, EndExpired: 3, EndRemoved: 4, EndShutdown: 5, EndWriteTimeout: 6, EndError: 7}

// New returns a monitor that starts counting now. log may be nil (slog.Default()); now is the
// clock (nil: time.Now).
func New(log *slog.Logger, now func() time.Time) *Monitor {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	m := &Monitor{log: log, now: now, started: now(), live: map[uint64]*Stream{},
		fanout: newHistogram(latencyBounds...), post: newHistogram(latencyBounds...), commit: newHistogram(latencyBounds...),
		batch: newHistogram(batchBounds...), duration: newHistogram(durationBounds...)}
	m.errs.init()
	return m
}

// SetBroker makes the broker's counters (published, delivered, dropped, overflows) part of the
// reports.
func (m *Monitor) SetBroker(stats func() backend.BrokerStats) {
	if m != nil {
		m.broker.Store(&stats)
	}
}

// SetStoreSize makes the store's size on disk (bytes) part of the reports.
func (m *Monitor) SetStoreSize(size func() int64) {
	if m != nil {
		m.storeSize.Store(&size)
	}
}

// SetFollowedChats tells the monitor how many chats a user's /api/stream follows (their chat
// count), for the polling comparison. Called at most once per user per minute.
func (m *Monitor) SetFollowedChats(f func(ctx context.Context, userID string) int) {
	if m != nil {
		m.followed.Store(&f)
	}
}

// Stream is one open stream's record. Its counters are written by the stream's goroutine and
// read by reports at any time.
type Stream struct {
	m           *Monitor
	id          uint64
	info        StreamInfo
	client      Client
	connectedAt time.Time
	dropped     func() int64

	lastActivity atomic.Int64 // Unix ms
	events       atomic.Int64
	bytes        atomic.Int64
	backlog      atomic.Int64 // events replayed from the log
	resyncs      atomic.Int64
	closed       atomic.Bool
}

// Open records a stream that has just been answered 200. dropped, if not nil, reads how many
// ephemeral events its subscription dropped. The caller must Close it.
func (m *Monitor) Open(info StreamInfo, dropped func() int64) *Stream {
	if m == nil {
		return nil
	}
	if len(info.UserAgent) > 200 {
		info.UserAgent = info.UserAgent[:200]
	}
	now := m.now()
	s := &Stream{m: m, id: m.nextID.Add(1), info: info, client: ClassifyClient(info.Bot, info.UserAgent), connectedAt: now, dropped: dropped}
	s.lastActivity.Store(now.UnixMilli())
	m.connects.Add(1)
	if info.Resumed {
		m.resumes.Add(1)
	}
	n := m.open.Add(1)
	raise(&m.peak, n)
	raise(&m.minutePeak, n)
	m.mu.Lock()
	m.live[s.id] = s
	if d := now.UTC().Format(time.DateOnly); d != m.day {
		m.day, m.dayPeak = d, 0
	}
	m.dayPeak = max(m.dayPeak, n)
	m.mu.Unlock()
	return s
}

// Refused counts a stream request that was not answered 200.
func (m *Monitor) Refused(r Refusal) {
	if m == nil {
		return
	}
	i, ok := refusalIndex[r]
	if !ok {
		i = refusalIndex[RefusedOther]
	}
	m.refused[i].Add(1)
}

// Wrote records one batch written to the stream and flushed: its events (nil for a keepalive)
// and bytes. Events the hub published carry their publish time: their fan-out latency (publish
// → written) is observed; events read from the log are the resume's backlog.
func (s *Stream) Wrote(events []*backend.Event, bytes int) {
	if s == nil {
		return
	}
	now := s.m.now()
	s.lastActivity.Store(now.UnixMilli())
	s.bytes.Add(int64(bytes))
	s.m.bytes.Add(int64(bytes))
	if len(events) == 0 {
		return
	}
	s.events.Add(int64(len(events)))
	s.m.events.Add(int64(len(events)))
	nanos := now.UnixNano()
	for _, ev := range events {
		switch {
		case ev.Type == backend.EventResync:
			s.resyncs.Add(1)
			s.m.resyncs.Add(1)
		case ev.PublishedAt > 0:
			s.m.fanout.Observe(float64(nanos-ev.PublishedAt) / 1e9)
		case ev.ID != "":
			s.backlog.Add(1)
			s.m.backlog.Add(1)
		}
	}
}

// Close records the stream's end; later calls do nothing.
func (s *Stream) Close(cause End) {
	if s == nil || !s.closed.CompareAndSwap(false, true) {
		return
	}
	m := s.m
	i, ok := endIndex[cause]
	if !ok {
		i = endIndex[EndError]
	}
	m.disconnects[i].Add(1)
	m.duration.ObserveDuration(m.now().Sub(s.connectedAt))
	m.open.Add(-1)
	m.mu.Lock()
	delete(m.live, s.id)
	m.mu.Unlock()
}

// ObservePost records how long a POST request took to answer.
func (m *Monitor) ObservePost(d time.Duration) {
	if m == nil {
		return
	}
	m.posts.Add(1)
	m.post.ObserveDuration(d)
}

// ObserveCommit records one store commit: how long it took and how many writes it carried.
func (m *Monitor) ObserveCommit(d time.Duration, batch int) {
	if m == nil {
		return
	}
	m.commit.ObserveDuration(d)
	m.batch.Observe(float64(batch))
}

// ObservePoll records one answered GET of a chat's history: its size is what a polling client
// would download each time, the measure of the polling comparison.
func (m *Monitor) ObservePoll(bytes int) {
	if m == nil {
		return
	}
	m.polls.Add(1)
	m.pollBytes.Add(int64(bytes))
}

// StreamRecord is a live stream as reports show it.
type StreamRecord struct {
	ID             uint64 `json:"id"`
	UserID         string `json:"userId"`
	Username       string `json:"username"`
	Kind           Kind   `json:"kind"`
	ChatID         string `json:"chatId,omitempty"`
	Client         Client `json:"client"`
	UserAgent      string `json:"userAgent"`
	RemoteAddr     string `json:"remoteAddr"`
	ConnectedAt    int64  `json:"connectedAt"`    // Unix ms
	LastActivityAt int64  `json:"lastActivityAt"` // Unix ms: the last frame or keepalive written
	Events         int64  `json:"events"`
	Bytes          int64  `json:"bytes"`
	Dropped        int64  `json:"droppedEphemeral"`
	Resumed        bool   `json:"resumed"`
	Backlog        int64  `json:"backlog"` // events replayed from the log on resume
	Resyncs        int64  `json:"resyncs"`
}

func (s *Stream) record() StreamRecord {
	r := StreamRecord{ID: s.id, UserID: s.info.UserID, Username: s.info.Username, Kind: s.info.Kind, ChatID: s.info.ChatID,
		Client: s.client, UserAgent: s.info.UserAgent, RemoteAddr: s.info.RemoteAddr, ConnectedAt: s.connectedAt.UnixMilli(),
		LastActivityAt: s.lastActivity.Load(), Events: s.events.Load(), Bytes: s.bytes.Load(), Resumed: s.info.Resumed,
		Backlog: s.backlog.Load(), Resyncs: s.resyncs.Load()}
	if s.dropped != nil {
		r.Dropped = s.dropped()
	}
	return r
}

// Streams lists the live streams, oldest first.
func (m *Monitor) Streams() []StreamRecord {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	live := make([]*Stream, 0, len(m.live))
	for _, s := range m.live {
		live = append(live, s)
	}
	m.mu.Unlock()
	out := make([]StreamRecord, len(live))
	for i, s := range live {
		out[i] = s.record()
	}
	slices.SortFunc(out, func(a, b StreamRecord) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// raise sets a to n if n is larger.
func raise(a *atomic.Int64, n int64) {
	for p := a.Load(); n > p && !a.CompareAndSwap(p, n); p = a.Load() {
	}
}
