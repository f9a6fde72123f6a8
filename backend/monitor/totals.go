package monitor

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/herald-chat/herald/backend"
)

// MaxErrorLog is how many recent error answers the monitor keeps.
const MaxErrorLog = 100

// ErrorRecord is one error answer.
type ErrorRecord struct {
	At       int64  `json:"at"` // Unix ms
	Category string `json:"category"`
	Status   int    `json:"status"`
	Method   string `json:"method"`
	Path     string `json:"path"`
	Message  string `json:"message"`
}

type errorLog struct {
	mu     sync.Mutex
	counts map[string]int64
	ring   []ErrorRecord // newest last, at most MaxErrorLog
}

func (l *errorLog) init() { l.counts = map[string]int64{} }

// Error records an error answer: category is its error code (backend.EINVALID, …), path the
// request's path without its query. Messages are the ones the client was shown, never secrets.
func (m *Monitor) Error(category string, status int, method, path, message string) {
	if m == nil {
		return
	}
	m.errorsN.Add(1)
	if status >= 500 {
		m.serverErrs.Add(1)
	}
	if len(path) > 200 {
		path = path[:200]
	}
	if len(message) > 300 {
		message = message[:300]
	}
	l := &m.errs
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, known := l.counts[category]; known || len(l.counts) < 64 {
		l.counts[category]++
	} else {
		l.counts["other"]++
	}
	if len(l.ring) == MaxErrorLog {
		copy(l.ring, l.ring[1:])
		l.ring = l.ring[:MaxErrorLog-1]
	}
	l.ring = append(l.ring, ErrorRecord{At: m.now().UnixMilli(), Category: category, Status: status, Method: method, Path: path, Message: message})
}

// Errors returns the counts by category and the recent errors, newest first.
func (m *Monitor) Errors() (map[string]int64, []ErrorRecord) {
	if m == nil {
		return map[string]int64{}, []ErrorRecord{}
	}
	l := &m.errs
	l.mu.Lock()
	defer l.mu.Unlock()
	counts := make(map[string]int64, len(l.counts))
	for k, v := range l.counts {
		counts[k] = v
	}
	recent := make([]ErrorRecord, len(l.ring))
	for i, e := range l.ring {
		recent[len(l.ring)-1-i] = e
	}
	return counts, recent
}

// rateSampler turns counters into per-second rates over the last few seconds.
type rateSampler struct {
	mu                    sync.Mutex
	at                    time.Time
	events, bytes         int64
	eventsRate, bytesRate float64
}

// sample updates the rates if at least a second passed since the last sample.
func (r *rateSampler) sample(now time.Time, events, bytes int64) (float64, float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at.IsZero() {
		r.at, r.events, r.bytes = now, events, bytes
		return 0, 0
	}
	if dt := now.Sub(r.at).Seconds(); dt >= 1 {
		r.eventsRate, r.bytesRate = float64(events-r.events)/dt, float64(bytes-r.bytes)/dt
		r.at, r.events, r.bytes = now, events, bytes
	}
	return r.eventsRate, r.bytesRate
}

// Latency is a latency histogram summarized in milliseconds.
type Latency struct {
	Count  uint64  `json:"count"`
	MeanMs float64 `json:"meanMs"`
	P50Ms  float64 `json:"p50Ms"`
	P95Ms  float64 `json:"p95Ms"`
	P99Ms  float64 `json:"p99Ms"`
}

func latencyOf(s HistogramSnapshot) Latency {
	return Latency{Count: s.Count, MeanMs: s.Mean() * 1000, P50Ms: s.Quantile(0.5) * 1000, P95Ms: s.Quantile(0.95) * 1000, P99Ms: s.Quantile(0.99) * 1000}
}

// Totals is the monitor's summary: what the dashboard's Overview shows and MONITOR_TICK carries.
type Totals struct {
	Now           int64 `json:"now"`       // Unix ms
	StartedAt     int64 `json:"startedAt"` // Unix ms
	UptimeSeconds int64 `json:"uptimeSeconds"`

	Streams struct {
		Open      int64            `json:"open"`
		Peak      int64            `json:"peak"`      // since start
		PeakToday int64            `json:"peakToday"` // since 00:00 UTC (or start)
		ByKind    map[Kind]int64   `json:"byKind"`
		ByClient  map[Client]int64 `json:"byClient"`
		// ByChat counts the chat streams per chat, the 20 busiest.
		ByChat []ChatStreams `json:"byChat"`
	} `json:"streams"`
	Connects struct {
		Succeeded int64             `json:"succeeded"`
		Refused   map[Refusal]int64 `json:"refused"`
	} `json:"connects"`
	Disconnects map[End]int64 `json:"disconnects"`
	// ConnectionSeconds summarizes how long closed streams lasted.
	ConnectionSeconds struct {
		Count  uint64  `json:"count"`
		Mean   float64 `json:"mean"`
		Median float64 `json:"median"`
		P95    float64 `json:"p95"`
	} `json:"connectionSeconds"`
	Delivery struct {
		Events          int64   `json:"events"`
		Bytes           int64   `json:"bytes"`
		EventsPerSecond float64 `json:"eventsPerSecond"`
		BytesPerSecond  float64 `json:"bytesPerSecond"`
	} `json:"delivery"`
	Resumes struct {
		Count         int64 `json:"count"`
		BacklogEvents int64 `json:"backlogEvents"`
		Resyncs       int64 `json:"resyncs"`
	} `json:"resumes"`
	Broker backend.BrokerStats `json:"broker"`
	// FanoutLatency is publish → written to the socket, per event copy.
	FanoutLatency Latency `json:"fanoutLatency"`
	PostLatency   Latency `json:"postLatency"`
	CommitLatency Latency `json:"commitLatency"`
	CommitBatch   struct {
		Mean float64 `json:"mean"`
		P99  float64 `json:"p99"`
	} `json:"commitBatch"`
	Errors struct {
		Total        int64            `json:"total"`
		ServerErrors int64            `json:"serverErrors"`
		ByCategory   map[string]int64 `json:"byCategory"`
		// PerMinute is the error answers of the last full minute.
		PerMinute int64 `json:"perMinute"`
	} `json:"errors"`
	StoreBytes int64   `json:"storeBytes"`
	Polling    Polling `json:"polling"`
}

// ChatStreams is how many chat streams one chat has open.
type ChatStreams struct {
	ChatID string `json:"chatId"`
	Open   int64  `json:"open"`
}

// Totals summarizes the monitor now.
func (m *Monitor) Totals(ctx context.Context) Totals {
	var t Totals
	if m == nil {
		return t
	}
	now := m.now()
	t.Now, t.StartedAt, t.UptimeSeconds = now.UnixMilli(), m.started.UnixMilli(), int64(now.Sub(m.started).Seconds())
	t.Streams.Open, t.Streams.Peak = m.open.Load(), m.peak.Load()
	t.Streams.ByKind, t.Streams.ByClient = map[Kind]int64{}, map[Client]int64{}
	byChat := map[string]int64{}
	m.mu.Lock()
	if m.day == now.UTC().Format(time.DateOnly) {
		t.Streams.PeakToday = m.dayPeak
	} else {
		t.Streams.PeakToday = m.open.Load()
	}
	for _, s := range m.live {
		t.Streams.ByKind[s.info.Kind]++
		t.Streams.ByClient[s.client]++
		if s.info.Kind == KindChat {
			byChat[s.info.ChatID]++
		}
	}
	m.mu.Unlock()
	t.Streams.ByChat = topChats(byChat, 20)
	t.Connects.Succeeded = m.connects.Load()
	t.Connects.Refused = map[Refusal]int64{}
	for _, r := range Refusals {
		t.Connects.Refused[r] = m.refused[refusalIndex[r]].Load()
	}
	t.Disconnects = map[End]int64{}
	for _, e := range Ends {
		t.Disconnects[e] = m.disconnects[endIndex[e]].Load()
	}
	d := m.duration.Snapshot()
	t.ConnectionSeconds.Count, t.ConnectionSeconds.Mean, t.ConnectionSeconds.Median, t.ConnectionSeconds.P95 = d.Count, d.Mean(), d.Quantile(0.5), d.Quantile(0.95)
	t.Delivery.Events, t.Delivery.Bytes = m.events.Load(), m.bytes.Load()
	t.Delivery.EventsPerSecond, t.Delivery.BytesPerSecond = m.rate.sample(now, t.Delivery.Events, t.Delivery.Bytes)
	t.Resumes.Count, t.Resumes.BacklogEvents, t.Resumes.Resyncs = m.resumes.Load(), m.backlog.Load(), m.resyncs.Load()
	if f := m.broker.Load(); f != nil {
		t.Broker = (*f)()
	}
	t.FanoutLatency, t.PostLatency, t.CommitLatency = latencyOf(m.fanout.Snapshot()), latencyOf(m.post.Snapshot()), latencyOf(m.commit.Snapshot())
	b := m.batch.Snapshot()
	t.CommitBatch.Mean, t.CommitBatch.P99 = b.Mean(), b.Quantile(0.99)
	t.Errors.Total, t.Errors.ServerErrors = m.errorsN.Load(), m.serverErrs.Load()
	t.Errors.ByCategory, _ = m.Errors()
	m.minuteMu.Lock()
	if n := len(m.minuteLog); n > 0 {
		t.Errors.PerMinute = m.minuteLog[n-1].Errors
	}
	m.minuteMu.Unlock()
	if f := m.storeSize.Load(); f != nil {
		t.StoreBytes = (*f)()
	}
	t.Polling = m.polling(ctx, now)
	return t
}

func topChats(byChat map[string]int64, n int) []ChatStreams {
	out := make([]ChatStreams, 0, len(byChat))
	for id, c := range byChat {
		out = append(out, ChatStreams{id, c})
	}
	// Most streams first, then by id, so that the list is stable.
	slices.SortFunc(out, func(a, b ChatStreams) int {
		return cmp.Or(cmp.Compare(b.Open, a.Open), cmp.Compare(a.ChatID, b.ChatID))
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
