package httpapi_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/monitor"
)

// monitorView is GET /api/admin/monitor as a test reads it.
type monitorView struct {
	Totals  monitor.Totals         `json:"totals"`
	Streams []monitor.StreamRecord `json:"streams"`
	Total   int                    `json:"total"`
	HasMore bool                   `json:"hasMore"`
	Errors  struct {
		ByCategory map[string]int64      `json:"byCategory"`
		Recent     []monitor.ErrorRecord `json:"recent"`
	} `json:"errors"`
}

func (ts *testServer) monitorView(tb testing.TB, admin account, query string) monitorView {
	tb.Helper()
	r := ts.must(tb, http.StatusOK, request{method: "GET", path: "/api/admin/monitor" + query, token: admin.Token})
	var v monitorView
	if err := json.Unmarshal(r.Raw, &v); err != nil {
		tb.Fatal(err)
	}
	return v
}

// awaitMonitor polls the monitor until cond holds (stream ends and counters settle on other
// goroutines), failing after 5 s.
func (ts *testServer) awaitMonitor(tb testing.TB, admin account, what string, cond func(monitorView) bool) monitorView {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		v := ts.monitorView(tb, admin, "")
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			tb.Fatalf("monitor never showed %s: %+v", what, v.Totals)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The monitor follows real streams: who holds them, what they carried, how they ended, what
// was refused and why, and the latencies of what was posted.
func TestMonitorFollowsStreams(t *testing.T) {
	mon := monitor.New(nil, nil)
	ts := newTestServer(t, serverOptions{keepalive: time.Hour, monitor: mon})
	tm := ts.team(t)

	// Refusals, by cause: no credential, another's notifications, a chat one is not in.
	ts.openStream(t, "/api/stream", "", "")
	ts.openStream(t, "/api/notifications/"+tm.alice.ID+"/stream", tm.bob.Token, "")
	ts.openStream(t, "/api/chat/"+tm.chat+"/stream", tm.carol.Token, "")

	bob := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	chat := ts.openStream(t, "/api/chat/"+tm.chat+"/stream", tm.alice.Token, "")
	if bob.Status != 200 || chat.Status != 200 {
		t.Fatalf("streams: %d %d", bob.Status, chat.Status)
	}
	ts.post(t, tm.alice, tm.chat, "hello monitor")
	bob.nextOfType(t, "NEW_MESSAGE", 5*time.Second)
	mark := chat.nextOfType(t, "NEW_MESSAGE", 5*time.Second).ID

	v := ts.awaitMonitor(t, tm.alice, "bob's stream with the message", func(v monitorView) bool {
		for _, s := range v.Streams {
			if s.UserID == tm.bob.ID && s.Events >= 2 { // NEW_MESSAGE and its NOTIFICATION
				return true
			}
		}
		return false
	})
	if v.Total != 2 || v.Totals.Streams.Open != 2 || v.Totals.Streams.Peak < 2 || v.Totals.Streams.ByKind[monitor.KindStream] != 1 ||
		v.Totals.Streams.ByKind[monitor.KindChat] != 1 || len(v.Totals.Streams.ByChat) != 1 || v.Totals.Streams.ByChat[0].ChatID != tm.chat {
		t.Fatalf("streams: total %d, %+v", v.Total, v.Totals.Streams)
	}
	var rec monitor.StreamRecord
	for _, s := range v.Streams {
		if s.UserID == tm.bob.ID {
			rec = s
		}
	}
	if rec.Username != "bob" || rec.Kind != monitor.KindStream || rec.Client != monitor.ClientOther || rec.RemoteAddr != "127.0.0.1" ||
		rec.Bytes < int64(len("hello monitor")) || rec.ConnectedAt == 0 || rec.LastActivityAt < rec.ConnectedAt || rec.Resumed {
		t.Fatalf("bob's stream record %+v", rec)
	}
	if r := v.Totals.Connects.Refused; r[monitor.RefusedAuth] != 1 || r[monitor.RefusedForbidden] != 2 {
		t.Fatalf("refused %v, want 1 auth and 2 forbidden", r)
	}
	if v.Totals.FanoutLatency.Count < 3 || v.Totals.FanoutLatency.P99Ms <= 0 || v.Totals.PostLatency.Count == 0 {
		t.Fatalf("fan-out %+v, post %+v", v.Totals.FanoutLatency, v.Totals.PostLatency)
	}
	if v.Totals.Delivery.Events < 3 || v.Totals.Delivery.Bytes <= 0 || v.Totals.Broker.Published == 0 {
		t.Fatalf("delivery %+v, broker %+v", v.Totals.Delivery, v.Totals.Broker)
	}
	if v.Totals.Errors.ByCategory[backend.EUNAUTHORIZED] != 1 || len(v.Errors.Recent) != 3 || v.Errors.Recent[0].Path != "/api/chat/"+tm.chat+"/stream" {
		t.Fatalf("errors %v, recent %+v", v.Totals.Errors.ByCategory, v.Errors.Recent)
	}

	// A resume replays the backlog; an unknown id gets a RESYNC.
	ts.post(t, tm.alice, tm.chat, "while bob was away")
	back := ts.openStream(t, "/api/chat/"+tm.chat+"/stream", tm.bob.Token, mark)
	if ev := back.nextOfType(t, "NEW_MESSAGE", 5*time.Second); ev.Message.Content != "while bob was away" {
		t.Fatalf("replayed %+v", ev.Message)
	}
	lost := ts.openStream(t, "/api/stream", tm.bob.Token, "01AAAAAAAAAAAAAAAAAAAAAAAA")
	lost.nextOfType(t, "RESYNC", 5*time.Second)
	v = ts.awaitMonitor(t, tm.alice, "the resumes", func(v monitorView) bool {
		return v.Totals.Resumes.Count == 2 && v.Totals.Resumes.Resyncs == 1 && v.Totals.Resumes.BacklogEvents == 1
	})
	for _, s := range v.Streams {
		if s.Kind == monitor.KindChat && s.UserID == tm.bob.ID && (!s.Resumed || s.Backlog != 1) {
			t.Fatalf("the resumed chat stream's record %+v, want resumed with a backlog of 1", s)
		}
	}
	back.close()
	lost.close()

	// Ends, by cause: a client gone, a session signed out.
	bob.close()
	ts.must(t, http.StatusNoContent, request{method: "POST", path: "/api/auth/logout", token: tm.alice.Token})
	chat.waitEnd(t, 5*time.Second)
	alice := account{ID: tm.alice.ID, Token: ts.signIn(t, "alice", "test")}
	v = ts.awaitMonitor(t, alice, "the disconnects", func(v monitorView) bool {
		return v.Totals.Disconnects[monitor.EndLogout] == 1 && v.Totals.Disconnects[monitor.EndClientGone] == 3 && v.Totals.Streams.Open == 0
	})
	if v.Totals.ConnectionSeconds.Count != 4 || v.Total != 0 {
		t.Fatalf("connection durations %+v, %d live", v.Totals.ConnectionSeconds, v.Total)
	}
}

// /healthz and /readyz answer without auth; /metrics and the monitor's API are for admins
// (bearer or cookie), the rest get 401/403.
func TestMonitorEndpointsAuthorization(t *testing.T) {
	mon := monitor.New(nil, nil)
	ts := newTestServer(t, serverOptions{monitor: mon})
	tm := ts.team(t)
	if r := ts.do(t, request{method: "GET", path: "/healthz"}); r.Status != 200 || string(r.Raw) != "ok\n" {
		t.Fatalf("/healthz: %d %q", r.Status, r.Raw)
	}
	if r := ts.do(t, request{method: "GET", path: "/readyz"}); r.Status != 200 || string(r.Raw) != "ready\n" {
		t.Fatalf("/readyz: %d %q", r.Status, r.Raw)
	}
	for _, path := range []string{"/metrics", "/api/admin/monitor", "/api/admin/monitor/history", "/api/admin/monitor/streams.csv",
		"/api/admin/monitor/history.csv"} {
		if r := ts.do(t, request{method: "GET", path: path}); r.Status != 401 {
			t.Errorf("%s without auth: %d", path, r.Status)
		}
		if r := ts.do(t, request{method: "GET", path: path, token: tm.bob.Token}); r.Status != 403 || r.errorCode() != backend.EFORBIDDEN {
			t.Errorf("%s as a member: %d %s", path, r.Status, r.Raw)
		}
		if r := ts.do(t, request{method: "GET", path: path, token: tm.alice.Token}); r.Status != 200 {
			t.Errorf("%s as an admin: %d %s", path, r.Status, r.Raw)
		}
	}
	for _, m := range []string{"POST", "DELETE"} {
		if r := ts.do(t, request{method: m, path: "/api/admin/monitor/watch", token: tm.bob.Token}); r.Status != 403 {
			t.Errorf("%s watch as a member: %d", m, r.Status)
		}
	}
	cookie := map[string]string{"Cookie": "herald_session=" + tm.alice.Token}
	r := ts.must(t, 200, request{method: "GET", path: "/metrics", header: cookie})
	body := string(r.Raw)
	for _, want := range []string{"go_goroutines ", "process_", `herald_streams_open{kind="stream"} 0`, "herald_stream_connects_total ",
		`herald_stream_refused_total{cause="auth"}`, "herald_fanout_latency_seconds_bucket{le=", "herald_http_post_duration_seconds_count ",
		"herald_store_commit_duration_seconds_count ", `herald_http_errors_total{code="forbidden"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "herald_cluster_") {
		t.Error("a single server's /metrics has herald_cluster_* gauges")
	}
	if r := ts.must(t, 200, request{method: "GET", path: "/api/admin/monitor", token: tm.alice.Token}); strings.Contains(string(r.Raw), `"cluster"`) {
		t.Errorf("a single server's monitor has a cluster: %s", r.Raw)
	}
	for _, secret := range []string{tm.bob.ID, tm.alice.ID, tm.chat, "bob"} {
		if strings.Contains(body, secret) {
			t.Errorf("/metrics names %q: labels must not carry ids or names", secret)
		}
	}
	if r := ts.do(t, request{method: "GET", path: "/api/admin/monitor/history?range=1y", token: tm.alice.Token}); r.Status != 400 {
		t.Errorf("a bad range: %d", r.Status)
	}
	if r := ts.do(t, request{method: "GET", path: "/api/admin/monitor?offset=-1", token: tm.alice.Token}); r.Status != 400 {
		t.Errorf("a bad offset: %d", r.Status)
	}

	// Shutting down: not ready any more, still alive.
	if err := ts.API.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := ts.do(t, request{method: "GET", path: "/readyz"}); r.Status != 503 {
		t.Fatalf("/readyz while shutting down: %d", r.Status)
	}
	if r := ts.do(t, request{method: "GET", path: "/healthz"}); r.Status != 200 {
		t.Fatalf("/healthz while shutting down: %d", r.Status)
	}
}

// The CSVs are RFC 4180 with a header row and UTC ISO timestamps; a user-chosen cell that a
// spreadsheet would run as a formula is defused; the history holds the minutes closed.
func TestMonitorCSV(t *testing.T) {
	mon := monitor.New(nil, nil)
	ts := newTestServer(t, serverOptions{keepalive: time.Hour, monitor: mon})
	tm := ts.team(t)
	ts.openStream(t, "/api/stream", tm.bob.Token, "")
	evil := ts.register(t, "mallory", ts.invite(t, tm.alice))
	ts.openStreamWith(t, "/api/stream", evil.Token, "", map[string]string{"User-Agent": "=cmd|' /C calc'!A0"})
	ts.awaitMonitor(t, tm.alice, "two streams", func(v monitorView) bool { return v.Total == 2 })

	r := ts.must(t, 200, request{method: "GET", path: "/api/admin/monitor/streams.csv", token: tm.alice.Token})
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(r.Header.Get("Content-Disposition"), `attachment; filename="herald-streams-`) {
		t.Fatalf("headers %v", r.Header)
	}
	if !strings.Contains(string(r.Raw), "\r\n") {
		t.Fatal("rows must end in CRLF (RFC 4180)")
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.Raw))).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "id" || rows[0][2] != "username" {
		t.Fatalf("streams.csv: %v %q", err, rows)
	}
	for _, row := range rows[1:] {
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", row[8]); err != nil {
			t.Errorf("connected_at %q is not UTC ISO: %v", row[8], err)
		}
		if row[2] == "mallory" && row[6] != "'=cmd|' /C calc'!A0" {
			t.Errorf("mallory's user agent cell %q is not defused", row[6])
		}
	}

	ts.post(t, tm.alice, tm.chat, "counted")
	if _, err := mon.CloseMinute(context.Background(), ts.Store); err != nil {
		t.Fatal(err)
	}
	r = ts.must(t, 200, request{method: "GET", path: "/api/admin/monitor/history.csv?range=15m", token: tm.alice.Token})
	rows, err = csv.NewReader(strings.NewReader(string(r.Raw))).ReadAll()
	if err != nil || len(rows) != 2 || rows[0][0] != "minute" || rows[1][1] != "2" || rows[1][8] == "0" {
		t.Fatalf("history.csv: %v %q", err, rows)
	}
	var hist struct {
		Minutes []backend.MonitorMinute `json:"minutes"`
	}
	if err := json.Unmarshal(ts.must(t, 200, request{method: "GET", path: "/api/admin/monitor/history", token: tm.alice.Token}).Raw, &hist); err != nil ||
		len(hist.Minutes) != 1 || hist.Minutes[0].Streams != 2 || hist.Minutes[0].Posts < 1 || hist.Minutes[0].Connects != 2 {
		t.Fatalf("history: %v %+v", err, hist.Minutes)
	}
}

// An admin who watches gets MONITOR_TICK on their stream every 2 s, live totals in it; a member
// never does.
func TestMonitorTickReachesWatchers(t *testing.T) {
	mon := monitor.New(nil, nil)
	ts := newTestServer(t, serverOptions{keepalive: time.Hour, monitor: mon})
	tm := ts.team(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); mon.Run(ctx, ts.Store) }()
	t.Cleanup(func() { cancel(); <-done })

	admin := ts.openStream(t, "/api/stream", tm.alice.Token, "")
	member := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	r := ts.must(t, 200, request{method: "POST", path: "/api/admin/monitor/watch", token: tm.alice.Token})
	if until, _ := r.Body["until"].(float64); int64(until) < time.Now().Add(50*time.Second).UnixMilli() {
		t.Fatalf("watch answer %s", r.Raw)
	}
	ev := admin.nextOfType(t, "MONITOR_TICK", 5*time.Second)
	var tick struct {
		ID      string         `json:"id"`
		Monitor monitor.Totals `json:"monitor"`
	}
	if err := json.Unmarshal([]byte(ev.Data()), &tick); err != nil || tick.ID != "" || tick.Monitor.Streams.Open != 2 || ev.Frame.ID != "" {
		t.Fatalf("tick %v %+v (frame id %q): want an ephemeral tick counting 2 streams", err, tick.Monitor.Streams, ev.Frame.ID)
	}
	ts.must(t, 204, request{method: "DELETE", path: "/api/admin/monitor/watch", token: tm.alice.Token})
	ts.post(t, tm.alice, tm.chat, "after")
	// bob's stream carries the message and, in order, nothing of the monitor before it.
	for {
		e := member.nextEvent(t, 5*time.Second)
		if e.Type == "MONITOR_TICK" {
			t.Fatal("a member got MONITOR_TICK")
		}
		if e.Type == "NEW_MESSAGE" {
			break
		}
	}
}
