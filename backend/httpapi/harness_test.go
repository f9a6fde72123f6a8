package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
	"github.com/herald-chat/herald/backend/files"
	"github.com/herald-chat/herald/backend/httpapi"
	"github.com/herald-chat/herald/backend/hub"
	"github.com/herald-chat/herald/backend/monitor"
	"github.com/herald-chat/herald/backend/presence"
	"github.com/herald-chat/herald/backend/sse"
)

// testServer is the real stack — bbolt in a temp dir, hub, API — behind a real HTTP listener.
type testServer struct {
	URL      string
	Store    *bolt.Store
	Hub      *hub.Hub
	API      *httpapi.Handler
	Presence *presence.Tracker
	Files    *files.Processor
	FilesDir string               // where Files keeps uploads, in progress and kept
	DBPath   string               // the bbolt file behind Store
	Limiter  *httpapi.ConnLimiter // nil without serverOptions.maxConnsPerIP
	srv      *httptest.Server
	client   *http.Client
}

type serverOptions struct {
	keepalive  time.Duration
	queueSize  int
	maxBatch   int
	retry      time.Duration
	writeLimit time.Duration
	clock      backend.Clock
	// storeClock is the store's clock (timestamps and ids), default time.Now.
	storeClock backend.Clock
	maxUpload  int64
	sessionTTL time.Duration
	hubOpts    []hub.Option
	// bodyTimeout, publicURL, allowedHosts, tlsFingerprint and pinInvites go to the Config;
	// maxConnsPerIP installs an httpapi.ConnLimiter; tls serves HTTPS (with
	// httptest's certificate) and ts.do trusts it.
	bodyTimeout               time.Duration
	publicURL, tlsFingerprint string
	allowedHosts              []string
	maxConnsPerIP             int
	pinInvites, tls           bool
	// tune changes the API's Config before the server starts, e.g. its limits.
	tune func(*httpapi.Config)
	// noUserLimits turns the per-user message limit and upload quota off, for load and fault
	// tests of the pipeline that post far faster than a person would.
	noUserLimits bool
	// fileQueue is how many uploads wait for the one file worker (default 8, with 2 workers);
	// holdFiles, when set, holds the worker before it stores each outcome.
	fileQueue int
	holdFiles *fileGate
	// monitor reports to a health monitor (as teamserver wires one).
	monitor *monitor.Monitor
}

func newTestServer(tb testing.TB, o serverOptions) *testServer {
	tb.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	storeOpts := []bolt.Option{bolt.WithLogger(log)}
	if o.storeClock != nil {
		storeOpts = append(storeOpts, bolt.WithClock(o.storeClock))
	}
	if o.maxBatch > 0 {
		storeOpts = append(storeOpts, bolt.WithMaxBatch(o.maxBatch))
	}
	dbPath := filepath.Join(tb.TempDir(), "herald.db")
	store, err := bolt.Open(dbPath, storeOpts...)
	if err != nil {
		tb.Fatal(err)
	}
	hubOpts := o.hubOpts
	if o.queueSize > 0 {
		hubOpts = append(hubOpts, hub.WithQueueSize(o.queueSize))
	}
	h := hub.New(store, hubOpts...)
	store.SetPublisher(h)
	tracker := presence.New(store, time.Minute, log)
	filesDir := filepath.Join(tb.TempDir(), "files")
	workers, queue := 2, 8
	var finisher files.Finisher = store
	if o.fileQueue > 0 {
		workers, queue = 1, o.fileQueue
	}
	if o.holdFiles != nil {
		finisher = heldFinisher{store, o.holdFiles}
	}
	processor, err := files.New(filesDir, finisher, workers, queue, log)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := httpapi.Config{Reads: store, Writes: store, Broker: h, Presence: tracker, Files: processor, MaxUpload: o.maxUpload,
		Logger: log, Keepalive: o.keepalive,
		Retry: o.retry, WriteTimeout: o.writeLimit, Clock: o.clock, SessionTTL: o.sessionTTL,
		BodyTimeout: o.bodyTimeout, PublicURL: o.publicURL, AllowedHosts: o.allowedHosts,
		TLSFingerprint: o.tlsFingerprint, PinInvites: o.pinInvites}
	cfg.Monitor = o.monitor
	if o.noUserLimits {
		cfg.Messages, cfg.UploadQuota = httpapi.Off, -1
	}
	if o.tune != nil {
		o.tune(&cfg)
	}
	api := httpapi.New(cfg)
	srv := httptest.NewUnstartedServer(api)
	limiter := httpapi.NewConnLimiter(o.maxConnsPerIP)
	limiter.Install(srv.Config)
	if o.tls {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	ts := &testServer{URL: srv.URL, Store: store, Hub: h, API: api, Presence: tracker, Files: processor, FilesDir: filesDir, DBPath: dbPath, Limiter: limiter, srv: srv, client: srv.Client()}
	tb.Cleanup(ts.close)
	return ts
}

// fileGate holds the file worker after processing a file and before storing the outcome — a
// busy processor on demand. Each file the worker reaches the gate with is sent on arrived; the
// worker goes on once release is closed.
type fileGate struct {
	arrived chan string
	release chan struct{}
}

func newFileGate() *fileGate {
	return &fileGate{arrived: make(chan string, 64), release: make(chan struct{})}
}

// heldFinisher is the store behind a fileGate.
type heldFinisher struct {
	files.Finisher
	gate *fileGate
}

func (h heldFinisher) FinishFile(ctx context.Context, f *backend.File) error {
	h.gate.arrived <- f.ID
	<-h.gate.release
	return h.Finisher.FinishFile(ctx, f)
}

func (ts *testServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = ts.API.Shutdown(ctx)
	ts.srv.Close()
	ts.Files.Close()
	ts.Presence.Close()
	ts.Hub.Close()
	_ = ts.Store.Close()
}

// response is a decoded API answer.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

func (r response) errorCode() string {
	e, _ := r.Body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// str digs a string out of the body: str("message", "id").
func (r response) str(path ...string) string {
	var v any = r.Body
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

// request is one API call: JSON body (or raw bytes), bearer token, extra headers.
type request struct {
	method, path, token string
	body                any
	raw                 []byte
	header              map[string]string
}

func (ts *testServer) do(tb testing.TB, rq request) response {
	tb.Helper()
	var body io.Reader
	switch {
	case rq.raw != nil:
		body = bytes.NewReader(rq.raw)
	case rq.body != nil:
		b, err := json.Marshal(rq.body)
		if err != nil {
			tb.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(rq.method, ts.URL+rq.path, body)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if rq.token != "" {
		req.Header.Set("Authorization", "Bearer "+rq.token)
	}
	for k, v := range rq.header {
		if k == "Host" {
			req.Host = v // net/http sends req.Host, not a Host header
		}
		req.Header.Set(k, v)
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	r := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.Body); err != nil {
			tb.Fatalf("%s %s: answer is not JSON: %q", rq.method, rq.path, raw)
		}
	}
	return r
}

// must is do that insists on a status.
func (ts *testServer) must(tb testing.TB, want int, rq request) response {
	tb.Helper()
	r := ts.do(tb, rq)
	if r.Status != want {
		tb.Fatalf("%s %s = %d %s, want %d", rq.method, rq.path, r.Status, r.Raw, want)
	}
	return r
}

type account struct{ ID, Token string }

func (ts *testServer) register(tb testing.TB, username, invite string) account {
	tb.Helper()
	r := ts.must(tb, http.StatusCreated, request{method: "POST", path: "/api/auth/register",
		body: map[string]string{"username": username, "password": "password-" + username, "inviteCode": invite}})
	return account{ID: r.str("user", "id"), Token: r.str("token")}
}

func (ts *testServer) invite(tb testing.TB, admin account) string {
	tb.Helper()
	return ts.must(tb, http.StatusCreated, request{method: "POST", path: "/api/invites", token: admin.Token}).str("code")
}

// team is alice (admin), bob (member) and a chat "general" with both; carol is registered but
// in no chat.
type team struct {
	alice, bob, carol account
	chat              string
}

func (ts *testServer) team(tb testing.TB) team {
	tb.Helper()
	var t team
	t.alice = ts.register(tb, "alice", "")
	t.bob = ts.register(tb, "bob", ts.invite(tb, t.alice))
	t.carol = ts.register(tb, "carol", ts.invite(tb, t.alice))
	t.chat = ts.createChat(tb, t.alice, "general", t.bob.ID)
	return t
}

func (ts *testServer) createChat(tb testing.TB, by account, name string, members ...string) string {
	tb.Helper()
	if members == nil {
		members = []string{}
	}
	return ts.must(tb, http.StatusCreated, request{method: "POST", path: "/api/chats", token: by.Token,
		body: map[string]any{"name": name, "memberIds": members}}).str("chat", "id")
}

func (ts *testServer) post(tb testing.TB, by account, chat, content string) string {
	tb.Helper()
	return ts.must(tb, http.StatusCreated, request{method: "POST", path: "/api/chats/" + chat + "/messages", token: by.Token,
		body: map[string]string{"content": content}}).str("message", "id")
}

// streamClient reads one SSE stream in the background with the real parser.
type streamClient struct {
	Status int
	Header http.Header
	frames chan sse.Frame
	done   chan struct{}
	cancel context.CancelFunc
	reader *sse.Reader
	err    error
}

// openStream opens path with a bearer token and an optional Last-Event-ID header.
func (ts *testServer) openStream(tb testing.TB, path, token, lastID string) *streamClient {
	tb.Helper()
	return ts.openStreamWith(tb, path, token, lastID, nil)
}

// openStreamWith is openStream with extra request headers.
func (ts *testServer) openStreamWith(tb testing.TB, path, token, lastID string, header map[string]string) *streamClient {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := ts.client.Do(req) // the server's own client: over TLS it trusts the certificate and speaks HTTP/2
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	sc := &streamClient{Status: resp.StatusCode, Header: resp.Header, frames: make(chan sse.Frame, 4096),
		done: make(chan struct{}), cancel: cancel, reader: sse.NewReader(resp.Body)}
	tb.Cleanup(sc.close)
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		close(sc.frames)
		close(sc.done)
		return sc
	}
	go func() {
		defer close(sc.done)
		defer close(sc.frames)
		defer resp.Body.Close()
		for {
			f, err := sc.reader.Next()
			if err != nil {
				sc.err = err
				return
			}
			sc.frames <- f
		}
	}()
	return sc
}

func (sc *streamClient) close() {
	sc.cancel()
	<-sc.done
}

// next returns the next frame (comments included), failing after timeout. ok is false at the
// end of the stream.
func (sc *streamClient) next(tb testing.TB, timeout time.Duration) (sse.Frame, bool) {
	tb.Helper()
	select {
	case f, ok := <-sc.frames:
		return f, ok
	case <-time.After(timeout):
		tb.Fatalf("no frame within %s", timeout)
		return sse.Frame{}, false
	}
}

// event is a frame's data decoded.
type event struct {
	sse.Frame
	Type      string           `json:"type"`
	ID        string           `json:"id"`
	ChatID    string           `json:"chatId"`
	UserID    string           `json:"userId"`
	Timestamp int64            `json:"timestamp"`
	Message   *backend.Message `json:"message"`
	Chat      *backend.Chat    `json:"chat"`
	// Notification is set on personal events meant to notify.
	Notification *backend.Notification `json:"notification"`
}

// nextEvent skips comments and returns the next event.
func (sc *streamClient) nextEvent(tb testing.TB, timeout time.Duration) event {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f, ok := sc.next(tb, time.Until(deadline))
		if !ok {
			tb.Fatalf("stream ended (%v) while waiting for an event", sc.err)
		}
		if f.IsComment || f.Event == "keepalive" {
			continue
		}
		var ev event
		if err := json.Unmarshal([]byte(f.Data), &ev); err != nil {
			tb.Fatalf("frame data is not JSON: %q", f.Data)
		}
		ev.Frame = f
		return ev
	}
}

// nextEventExcept skips comments and events of the given types (e.g. presence changes that
// opening streams cause) and returns the next other event.
func (sc *streamClient) nextEventExcept(tb testing.TB, timeout time.Duration, skip ...string) event {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if ev := sc.nextEvent(tb, time.Until(deadline)); !slices.Contains(skip, ev.Type) {
			return ev
		}
	}
}

// nextOfType skips events of other types.
func (sc *streamClient) nextOfType(tb testing.TB, typ string, timeout time.Duration) event {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if ev := sc.nextEvent(tb, time.Until(deadline)); ev.Type == typ {
			return ev
		}
	}
}

// waitEnd reads until the stream ends and returns the frames on the way.
func (sc *streamClient) waitEnd(tb testing.TB, timeout time.Duration) []sse.Frame {
	tb.Helper()
	var frames []sse.Frame
	deadline := time.After(timeout)
	for {
		select {
		case f, ok := <-sc.frames:
			if !ok {
				return frames
			}
			frames = append(frames, f)
		case <-deadline:
			tb.Fatalf("stream did not end within %s", timeout)
		}
	}
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// Data is the event's raw JSON.
func (e event) Data() string { return e.Frame.Data }

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func jsonUnmarshal(data string, v any) error { return json.Unmarshal([]byte(data), v) }
