package httpapi

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/monitor"
)

// Pinger is a store that can prove it is writable (the bolt store commits an empty write);
// /readyz asks Config.Writes.
type Pinger interface {
	Ping(ctx context.Context) error
}

// readyCache keeps /readyz's answer for a second, so that probes cannot make the store commit
// more than once a second.
type readyCache struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// sizer is a store that knows its size on disk (the bolt store).
type sizer interface{ Size() int64 }

// minuteReader is a store that keeps the monitor's history (monitor.HistoryStore, which the
// bolt store is): the handler only reads it.
type minuteReader interface {
	MonitorMinutes(ctx context.Context, since int64) ([]backend.MonitorMinute, error)
}

// chatCounter is a store that counts a user's chats without reading them (the bolt store).
type chatCounter interface {
	ChatCount(ctx context.Context, userID string) (int, error)
}

// wireMonitor connects the monitor to what the handler knows: the broker's counters, the
// store's size, users' chat counts (for the polling comparison), and MONITOR_TICK through the
// broker.
func (h *Handler) wireMonitor() {
	mon := h.cfg.Monitor
	if mon == nil {
		return
	}
	mon.SetBroker(h.broker.Stats)
	if s, ok := h.reads.(sizer); ok {
		mon.SetStoreSize(s.Size)
	}
	mon.SetFollowedChats(func(ctx context.Context, userID string) int {
		if c, ok := h.reads.(chatCounter); ok { // counting keys, not decoding every chat
			n, err := c.ChatCount(ctx, userID)
			if err != nil {
				return 0
			}
			return n
		}
		chats, err := h.reads.ChatsOf(ctx, userID)
		if err != nil {
			return 0
		}
		return len(chats)
	})
	mon.SetTickPublisher(func(_ context.Context, recipients []string, t monitor.Totals) {
		data, err := json.Marshal(t)
		if err != nil {
			h.log.Error("encoding MONITOR_TICK", "err", err)
			return
		}
		h.broker.Publish(&backend.Event{Type: backend.EventMonitorTick, Personal: true, Recipients: recipients, Monitor: data,
			Timestamp: h.now().UnixMilli()})
	})
}

// monitorRoutes are /healthz, /readyz, /metrics and the admin monitor API.
func (h *Handler) monitorRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	m.HandleFunc("GET /readyz", h.readyz)
	if h.cfg.Monitor == nil {
		return
	}
	metrics := monitor.MetricsHandler(h.cfg.Monitor.Registry())
	m.Handle("GET /metrics", h.authed(func(w http.ResponseWriter, r *http.Request, u *backend.User) error {
		if err := h.requireAdmin(w, u, "read the metrics", false); err != nil {
			return err
		}
		metrics.ServeHTTP(w, r)
		return nil
	}))
	m.Handle("GET /api/admin/monitor", h.authed(h.monitorJSON))
	m.Handle("GET /api/admin/monitor/history", h.authed(h.monitorHistory))
	m.Handle("GET /api/admin/monitor/streams.csv", h.authed(h.monitorStreamsCSV))
	m.Handle("GET /api/admin/monitor/history.csv", h.authed(h.monitorHistoryCSV))
	m.Handle("POST /api/admin/monitor/watch", h.authed(h.monitorWatch))
	m.Handle("DELETE /api/admin/monitor/watch", h.authed(h.monitorUnwatch))
}

// readyz answers 200 while the store takes writes and the server is not shutting down, 503
// otherwise; no details, no auth.
func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	h.streamsMu.Lock()
	down := h.shuttingDown
	h.streamsMu.Unlock()
	err := errors.New("shutting down")
	if !down {
		err = h.ready(r.Context())
	}
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

func (h *Handler) ready(ctx context.Context) error {
	p, ok := h.writes.(Pinger)
	if !ok {
		return nil
	}
	c := &h.readyz1
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.at) >= time.Second {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		c.at, c.err = now, p.Ping(ctx)
	}
	return c.err
}

// monitorJSON is GET /api/admin/monitor ?offset&limit (streams, oldest first): the totals, a
// page of the live streams, the recent errors, and on a cluster node the cluster's status.
func (h *Handler) monitorJSON(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if err := h.requireAdmin(w, u, "see the monitor", false); err != nil {
		return err
	}
	limit, err := adminPageLimit(r)
	if err != nil {
		return err
	}
	offset := 0
	if v := r.URL.Query().Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return backend.Errorf(backend.EINVALID, "offset must be a whole number, 0 or more.")
		}
	}
	mon := h.cfg.Monitor
	all := mon.Streams()
	page := all[min(offset, len(all)):min(offset+limit, len(all))]
	byCategory, recent := mon.Errors()
	body := map[string]any{
		"totals": mon.Totals(r.Context()), "streams": page, "total": len(all), "hasMore": offset+len(page) < len(all),
		"errors": map[string]any{"byCategory": byCategory, "recent": recent},
	}
	if c := mon.Cluster(); c != nil {
		body["cluster"] = c
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// historyRange reads ?range=15m|24h|7d (default 24h) as the start of the window.
func (h *Handler) historyRange(r *http.Request) (int64, error) {
	d := 24 * time.Hour
	switch v := r.URL.Query().Get("range"); v {
	case "", "24h":
	case "15m":
		d = 15 * time.Minute
	case "1h":
		d = time.Hour
	case "7d":
		d = backend.MonitorRetention
	default:
		return 0, backend.Errorf(backend.EINVALID, "range must be 15m, 1h, 24h or 7d.")
	}
	return h.now().Add(-d).UnixMilli(), nil
}

func (h *Handler) minutes(w http.ResponseWriter, r *http.Request, u *backend.User) ([]backend.MonitorMinute, error) {
	if err := h.requireAdmin(w, u, "see the monitor", false); err != nil {
		return nil, err
	}
	since, err := h.historyRange(r)
	if err != nil {
		return nil, err
	}
	hs, ok := h.reads.(minuteReader)
	if !ok {
		return []backend.MonitorMinute{}, nil
	}
	return hs.MonitorMinutes(r.Context(), since)
}

// monitorHistory is GET /api/admin/monitor/history ?range → {minutes}, oldest first.
func (h *Handler) monitorHistory(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	minutes, err := h.minutes(w, r, u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"minutes": minutes})
	return nil
}

// csvHeaders starts a CSV download called name.
func csvHeaders(w http.ResponseWriter, name string) *csv.Writer {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/csv; charset=utf-8; header=present")
	hdr.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // RFC 4180
	return cw
}

// isoMillis is a Unix ms time as UTC ISO 8601 with milliseconds; "" for 0.
func isoMillis(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

func (h *Handler) monitorStreamsCSV(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if err := h.requireAdmin(w, u, "see the monitor", false); err != nil {
		return err
	}
	cw := csvHeaders(w, "herald-streams-"+h.now().UTC().Format("20060102T150405Z")+".csv")
	_ = cw.Write([]string{"id", "user_id", "username", "kind", "chat_id", "client", "user_agent", "remote_addr",
		"connected_at", "last_activity_at", "events", "bytes", "dropped_ephemeral", "resumed", "backlog", "resyncs"})
	for _, s := range h.cfg.Monitor.Streams() {
		_ = cw.Write([]string{strconv.FormatUint(s.ID, 10), s.UserID, csvSafe(s.Username), string(s.Kind), s.ChatID, string(s.Client),
			csvSafe(s.UserAgent), s.RemoteAddr, isoMillis(s.ConnectedAt), isoMillis(s.LastActivityAt), itoa(s.Events), itoa(s.Bytes),
			itoa(s.Dropped), strconv.FormatBool(s.Resumed), itoa(s.Backlog), itoa(s.Resyncs)})
	}
	cw.Flush()
	return nil
}

func (h *Handler) monitorHistoryCSV(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	minutes, err := h.minutes(w, r, u)
	if err != nil {
		return err
	}
	cw := csvHeaders(w, "herald-history-"+h.now().UTC().Format("20060102T150405Z")+".csv")
	_ = cw.Write([]string{"minute", "streams", "peak_streams", "connects", "refused", "disconnects", "events", "bytes", "posts",
		"post_p50_ms", "post_p99_ms", "fanout_p50_ms", "fanout_p99_ms", "errors", "server_errors", "resyncs", "poll_requests", "poll_bytes"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	for _, m := range minutes {
		_ = cw.Write([]string{isoMillis(m.Start), itoa(m.Streams), itoa(m.PeakStreams), itoa(m.Connects), itoa(m.Refused), itoa(m.Disconnects),
			itoa(m.Events), itoa(m.Bytes), itoa(m.Posts), f(m.PostP50Ms), f(m.PostP99Ms), f(m.FanoutP50Ms), f(m.FanoutP99Ms),
			itoa(m.Errors), itoa(m.ServerErrors), itoa(m.Resyncs), itoa(m.PollRequests), itoa(m.PollBytes)})
	}
	cw.Flush()
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// csvSafe keeps a spreadsheet from running a cell that a user chose (a username, a user agent)
// as a formula: a leading = + - @ gets a ' before it (OWASP's CSV injection advice).
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

// monitorWatch is POST /api/admin/monitor/watch → {until}: MONITOR_TICK goes to the admin's
// streams every 2 s until then (monitor.WatchLease); an open dashboard renews it.
func (h *Handler) monitorWatch(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if err := h.requireAdmin(w, u, "watch the monitor", false); err != nil {
		return err
	}
	until, ok := h.cfg.Monitor.Watch(u.ID)
	if !ok {
		return backend.Errorf(backend.ERATELIMIT, "Too many admins watch the monitor at once.")
	}
	writeJSON(w, http.StatusOK, map[string]any{"until": until.UnixMilli(), "intervalMs": monitor.TickInterval.Milliseconds()})
	return nil
}

func (h *Handler) monitorUnwatch(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if err := h.requireAdmin(w, u, "watch the monitor", false); err != nil {
		return err
	}
	h.cfg.Monitor.Unwatch(u.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
