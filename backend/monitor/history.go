package monitor

import (
	"context"
	"sync"
	"time"

	"github.com/herald-chat/herald/backend"
)

// HistoryStore keeps the monitor's minutes (the bolt store implements it).
type HistoryStore interface {
	// AppendMonitorMinute stores one minute, dropping those older than backend.MonitorRetention
	// and beyond backend.MaxMonitorMinutes.
	AppendMonitorMinute(ctx context.Context, m backend.MonitorMinute) error
	// MonitorMinutes returns the stored minutes that start at or after since (Unix ms), oldest
	// first.
	MonitorMinutes(ctx context.Context, since int64) ([]backend.MonitorMinute, error)
}

// Polling compares what the open streams cost with what 15-second polling would have cost the
// same clients for the same chats, from the running server's counters.
type Polling struct {
	// WindowSeconds is what the stream figures were measured over: the last hour, or since the
	// server started when that is shorter. They are scaled to an hour.
	WindowSeconds         int64   `json:"windowSeconds"`
	StreamRequestsPerHour float64 `json:"streamRequestsPerHour"` // stream connects
	StreamBytesPerHour    float64 `json:"streamBytesPerHour"`
	// FollowedChats is how many chats the open streams follow now: a chat stream one, a user's
	// /api/stream each of their chats, a notification stream one (the notification list).
	FollowedChats int64 `json:"followedChats"`
	// PollRequestsPerHour is FollowedChats × 240 (one poll every 15 s).
	PollRequestsPerHour float64 `json:"pollRequestsPerHour"`
	// MeanPollBytes is the measured mean size of a chat-history answer (GET …/messages) on this
	// server; 0 until one has been served, and then PollBytesPerHour is 0 too.
	MeanPollBytes    float64 `json:"meanPollBytes"`
	PollsMeasured    int64   `json:"pollsMeasured"`
	PollBytesPerHour float64 `json:"pollBytesPerHour"`
	// RequestRatio and ByteRatio are polling ÷ streams (0 when the streams cost nothing yet).
	RequestRatio float64 `json:"requestRatio"`
	ByteRatio    float64 `json:"byteRatio"`
}

// followedCache remembers users' chat counts for a minute.
type followedCache struct {
	mu sync.Mutex
	by map[string]followedEntry
}

type followedEntry struct {
	n  int
	at time.Time
}

// minuteState is the counters at the start of the current minute.
type minuteState struct {
	start                                  time.Time
	connects, refused, disconnects         int64
	events, bytes, posts, errs, serverErrs int64
	resyncs                                int64
	post, fanout                           HistogramSnapshot
}

func (m *Monitor) counters(start time.Time) *minuteState {
	st := &minuteState{start: start, connects: m.connects.Load(), events: m.events.Load(), bytes: m.bytes.Load(),
		posts: m.posts.Load(), errs: m.errorsN.Load(), serverErrs: m.serverErrs.Load(), resyncs: m.resyncs.Load(),
		post: m.post.Snapshot(), fanout: m.fanout.Snapshot()}
	for i := range m.refused {
		st.refused += m.refused[i].Load()
	}
	for i := range m.disconnects {
		st.disconnects += m.disconnects[i].Load()
	}
	return st
}

// followedChats counts the chats the live streams follow (Polling.FollowedChats).
func (m *Monitor) followedChats(ctx context.Context, now time.Time) int64 {
	f := m.followed.Load()
	m.mu.Lock()
	type key struct {
		user string
		kind Kind
	}
	streams := make([]key, 0, len(m.live))
	for _, s := range m.live {
		streams = append(streams, key{s.info.UserID, s.info.Kind})
	}
	m.mu.Unlock()
	var n int64
	for _, s := range streams {
		if s.kind != KindStream || f == nil {
			n++
			continue
		}
		m.follow.mu.Lock()
		e, ok := m.follow.by[s.user]
		m.follow.mu.Unlock()
		if !ok || now.Sub(e.at) >= time.Minute {
			e = followedEntry{(*f)(ctx, s.user), now}
			m.follow.mu.Lock()
			if m.follow.by == nil || len(m.follow.by) > 10_000 {
				m.follow.by = map[string]followedEntry{}
			}
			m.follow.by[s.user] = e
			m.follow.mu.Unlock()
		}
		n += int64(e.n)
	}
	return n
}

func (m *Monitor) meanPoll() (float64, int64) {
	n := m.polls.Load()
	if n == 0 {
		return 0, 0
	}
	return float64(m.pollBytes.Load()) / float64(n), n
}

func (m *Monitor) polling(ctx context.Context, now time.Time) Polling {
	var p Polling
	var connects, bytes int64
	from := m.started
	m.minuteMu.Lock()
	for _, min := range m.minuteLog {
		connects += min.Connects
		bytes += min.Bytes
	}
	if len(m.minuteLog) >= 60 {
		from = time.UnixMilli(m.minuteLog[0].Start)
	}
	m.minuteMu.Unlock()
	if last := m.lastMin.Load(); last != nil {
		connects += m.connects.Load() - last.connects
		bytes += m.bytes.Load() - last.bytes
	} else {
		connects, bytes = m.connects.Load(), m.bytes.Load()
	}
	window := now.Sub(from)
	p.WindowSeconds = int64(window.Seconds())
	if window >= time.Second {
		scale := float64(time.Hour) / float64(window)
		p.StreamRequestsPerHour, p.StreamBytesPerHour = float64(connects)*scale, float64(bytes)*scale
	}
	p.FollowedChats = m.followedChats(ctx, now)
	p.PollRequestsPerHour = float64(p.FollowedChats) * 240
	p.MeanPollBytes, p.PollsMeasured = m.meanPoll()
	p.PollBytesPerHour = p.PollRequestsPerHour * p.MeanPollBytes
	if p.StreamRequestsPerHour > 0 {
		p.RequestRatio = p.PollRequestsPerHour / p.StreamRequestsPerHour
	}
	if p.StreamBytesPerHour > 0 {
		p.ByteRatio = p.PollBytesPerHour / p.StreamBytesPerHour
	}
	return p
}

// closeMinute turns the counters since the last minute into its record.
func (m *Monitor) closeMinute(ctx context.Context, now time.Time) backend.MonitorMinute {
	cur := m.counters(now)
	last := m.lastMin.Swap(cur)
	if last == nil {
		last = &minuteState{start: m.started}
	}
	post, fanout := cur.post.Sub(last.post), cur.fanout.Sub(last.fanout)
	followed := m.followedChats(ctx, now)
	mean, _ := m.meanPoll()
	rec := backend.MonitorMinute{
		Start: last.start.Truncate(time.Minute).UnixMilli(), Streams: m.open.Load(), PeakStreams: m.minutePeak.Swap(m.open.Load()),
		Connects: cur.connects - last.connects, Refused: cur.refused - last.refused, Disconnects: cur.disconnects - last.disconnects,
		Events: cur.events - last.events, Bytes: cur.bytes - last.bytes, Posts: cur.posts - last.posts,
		PostP50Ms: post.Quantile(0.5) * 1000, PostP99Ms: post.Quantile(0.99) * 1000,
		FanoutP50Ms: fanout.Quantile(0.5) * 1000, FanoutP99Ms: fanout.Quantile(0.99) * 1000,
		Errors: cur.errs - last.errs, ServerErrors: cur.serverErrs - last.serverErrs, Resyncs: cur.resyncs - last.resyncs,
		PollRequests: followed * 4, PollBytes: int64(float64(followed*4) * mean),
	}
	m.minuteMu.Lock()
	m.minuteLog = append(m.minuteLog, rec)
	if len(m.minuteLog) > 60 {
		m.minuteLog = m.minuteLog[len(m.minuteLog)-60:]
	}
	m.minuteMu.Unlock()
	return rec
}

// CloseMinute ends the current minute: its record (the counters since the last one) goes to
// history (if not nil) and the last hour kept for the polling comparison. Run calls it at every
// minute's end.
func (m *Monitor) CloseMinute(ctx context.Context, history HistoryStore) (backend.MonitorMinute, error) {
	if m == nil {
		return backend.MonitorMinute{}, nil
	}
	rec := m.closeMinute(ctx, m.now())
	if history == nil {
		return rec, nil
	}
	return rec, history.AppendMonitorMinute(context.WithoutCancel(ctx), rec)
}

// Run keeps the history until ctx ends: at every minute's end it records the minute and stores
// it in history (if not nil). It also drives MONITOR_TICK (every TickInterval while someone
// watches). Run it once.
func (m *Monitor) Run(ctx context.Context, history HistoryStore) {
	if m == nil {
		return
	}
	m.lastMin.CompareAndSwap(nil, m.counters(m.now()))
	tick := time.NewTicker(TickInterval)
	defer tick.Stop()
	next := m.now().Truncate(time.Minute).Add(time.Minute)
	minute := time.NewTimer(next.Sub(m.now()))
	defer minute.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-minute.C:
			if _, err := m.CloseMinute(ctx, history); err != nil {
				m.log.Warn("storing the monitor's minute failed", "err", err)
			}
			next = next.Add(time.Minute)
			if d := next.Sub(m.now()); d > 0 {
				minute.Reset(d)
			} else { // the machine slept: start again from now
				next = m.now().Truncate(time.Minute).Add(time.Minute)
				minute.Reset(next.Sub(m.now()))
			}
		case <-tick.C:
			m.tick(ctx)
		}
	}
}
