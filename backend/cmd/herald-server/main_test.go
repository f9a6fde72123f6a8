package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/httpapi"
	"github.com/herald-chat/herald/backend/sse"
	"github.com/herald-chat/herald/backend/teamserver"
)

var serverBin string

// TestMain builds the real herald-server, statically (CGO_ENABLED=0) as it ships.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "herald-server-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "herald-server")
	build := exec.Command("go", "build", "-o", serverBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build herald-server: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// process is a running herald-server.
type process struct {
	cmd *exec.Cmd
	URL string
	// Fingerprint is the certificate line's fingerprint, "" for plain HTTP.
	Fingerprint string
	logs        *bytes.Buffer // read it with logText while the server runs
	errw        *lockedWriter
	done        chan error
	outMu       sync.Mutex
	out         []string // stdout lines after the listening (and certificate) line
}

// stdoutLine waits for a stdout line that starts with prefix and returns the rest of it.
func (p *process) stdoutLine(tb testing.TB, prefix string) string {
	tb.Helper()
	var rest string
	waitUntil(tb, "the line "+prefix, 10*time.Second, func() bool {
		p.outMu.Lock()
		defer p.outMu.Unlock()
		for _, l := range p.out {
			if strings.HasPrefix(l, prefix) {
				rest = strings.TrimPrefix(l, prefix)
				return true
			}
		}
		return false
	})
	return rest
}

func startServer(tb testing.TB, dataDir string, extra ...string) *process {
	tb.Helper()
	p, err := spawnServer(dataDir, extra...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.kill)
	return p
}

// kill ends the process (SIGKILL) unless it exited, and waits for it.
func (p *process) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// spawnServer starts herald-server and returns once it printed its listening line; the caller
// kills it. It may run on any goroutine (cluster nodes start at once).
func spawnServer(dataDir string, extra ...string) (*process, error) {
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, extra...)
	cmd := exec.Command(serverBin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // a test binary killed by its timeout takes it along
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	p.errw = &lockedWriter{w: p.logs}
	cmd.Stderr = p.errw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "herald-server listening on ") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("no listening line: %q (stderr %s)", lines.Text(), p.logText())
	}
	p.URL = strings.TrimPrefix(lines.Text(), "herald-server listening on ")
	if strings.HasPrefix(p.URL, "https://") {
		if !lines.Scan() || !strings.HasPrefix(lines.Text(), "herald-server certificate sha256 ") {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, fmt.Errorf("no certificate line: %q (stderr %s)", lines.Text(), p.logText())
		}
		p.Fingerprint = strings.TrimPrefix(lines.Text(), "herald-server certificate sha256 ")
	}
	go func() {
		for lines.Scan() {
			p.outMu.Lock()
			p.out = append(p.out, lines.Text())
			p.outMu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.done <- cmd.Wait()
	}()
	return p, nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// logText is what the server logged so far.
func (p *process) logText() string {
	p.errw.mu.Lock()
	defer p.errw.mu.Unlock()
	return p.logs.String()
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// call is one API request; it returns the status and the decoded body, or the transport error.
func call(ctx context.Context, base, method, path, token string, body any) (int, map[string]any, error) {
	return callWith(ctx, http.DefaultClient, base, method, path, token, body)
}

// callWith is call through hc.
func callWith(ctx context.Context, hc *http.Client, base, method, path, token string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil && err != io.EOF {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, out, nil
}

func mustCall(tb testing.TB, base, method, path, token string, body any, want int) map[string]any {
	tb.Helper()
	return mustCallWith(tb, http.DefaultClient, base, method, path, token, body, want)
}

func mustCallWith(tb testing.TB, hc *http.Client, base, method, path, token string, body any, want int) map[string]any {
	tb.Helper()
	status, out, err := callWith(context.Background(), hc, base, method, path, token, body)
	if err != nil || status != want {
		tb.Fatalf("%s %s: %d %v %v, want %d", method, path, status, out, err, want)
	}
	return out
}

func field(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		mm, _ := v.(map[string]any)
		v = mm[p]
	}
	s, _ := v.(string)
	return s
}

type team struct{ alice, bob, chat string }

func setupTeam(tb testing.TB, base string) team {
	tb.Helper()
	return setupTeamWith(tb, http.DefaultClient, base)
}

func setupTeamWith(tb testing.TB, hc *http.Client, base string) team {
	tb.Helper()
	a := mustCallWith(tb, hc, base, "POST", "/api/auth/register", "", map[string]string{"username": "alice", "password": "correct-horse-9"}, 201)
	inv := mustCallWith(tb, hc, base, "POST", "/api/invites", field(a, "token"), nil, 201)
	b := mustCallWith(tb, hc, base, "POST", "/api/auth/register", "", map[string]string{"username": "bob", "password": "battery-staple-7", "inviteCode": field(inv, "code")}, 201)
	c := mustCallWith(tb, hc, base, "POST", "/api/chats", field(a, "token"), map[string]any{"name": "general", "memberIds": []string{field(b, "user", "id")}}, 201)
	return team{alice: field(a, "token"), bob: field(b, "token"), chat: field(c, "chat", "id")}
}

// collector reads /api/stream and records NEW_MESSAGE ids and contents in arrival order.
type collector struct {
	mu       sync.Mutex
	ids      []string
	contents []string
	lastID   string
	lastAt   time.Time // when the last NEW_MESSAGE came
	ended    chan struct{}
	cancel   context.CancelFunc
}

func collect(tb testing.TB, base, token, lastID string) *collector {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		cancel()
		tb.Fatalf("open stream: %v %v", err, resp)
	}
	c := &collector{ended: make(chan struct{}), cancel: cancel, lastID: lastID}
	tb.Cleanup(func() { cancel(); <-c.ended })
	go func() {
		defer close(c.ended)
		defer resp.Body.Close()
		r := sse.NewReader(resp.Body)
		for {
			f, err := r.Next()
			if err != nil {
				return
			}
			var ev struct {
				Type    string `json:"type"`
				Message struct{ ID, Content string }
			}
			if f.IsComment || json.Unmarshal([]byte(f.Data), &ev) != nil {
				continue
			}
			c.mu.Lock()
			c.lastID = r.LastEventID()
			if ev.Type == "NEW_MESSAGE" {
				c.ids = append(c.ids, ev.Message.ID)
				c.contents = append(c.contents, ev.Message.Content)
				c.lastAt = time.Now()
			}
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *collector) snapshot() (ids []string, lastID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.ids...), c.lastID
}

// lastArrival is when the last NEW_MESSAGE came (zero: none yet).
func (c *collector) lastArrival() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastAt
}

func waitUntil(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

// The crash test: 200 messages, SIGKILL halfway, restart on the same data, resume with
// the last id received. Every answered message arrives exactly once and in order.
func TestSIGKILLLosesNoAnsweredMessage(t *testing.T) {
	dataDir := t.TempDir()
	// A fault test of the pipeline: one user posts 200 messages as fast as 4 connections go, so
	// the per-user message limit is off (--message-rate 0), before and after the crash.
	srv := startServer(t, dataDir, "--message-rate", "0")
	tm := setupTeam(t, srv.URL)
	bob := collect(t, srv.URL, tm.bob, "")

	const total, posters = 200, 4
	answered := make([]string, total) // message id per index, "" until answered
	var mu sync.Mutex
	var answeredCount int
	killed := make(chan struct{})
	var killOnce sync.Once
	post := func(base string, i int) bool {
		status, out, err := call(context.Background(), base, "POST", "/api/chats/"+tm.chat+"/messages", tm.alice,
			map[string]string{"content": fmt.Sprint("m", i), "clientId": fmt.Sprint("client-", i)})
		if err != nil {
			return false // the server died with this request in flight: unanswered
		}
		if status != 201 && status != 200 {
			t.Errorf("post %d: %d %v", i, status, out)
			return false
		}
		mu.Lock()
		answered[i] = field(out, "message", "id")
		answeredCount++
		if answeredCount == total/2 {
			killOnce.Do(func() {
				_ = srv.cmd.Process.Signal(syscall.SIGKILL)
				close(killed)
			})
		}
		mu.Unlock()
		return true
	}
	var wg sync.WaitGroup
	for p := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p; i < total; i += posters {
				select {
				case <-killed:
					return
				default:
				}
				post(srv.URL, i)
			}
		}()
	}
	wg.Wait()
	<-srv.done
	<-bob.ended
	beforeIDs, lastID := bob.snapshot()
	t.Logf("killed after %d answered; bob had %d, resumes after %s", answeredCount, len(beforeIDs), lastID)

	srv = startServer(t, dataDir, "--message-rate", "0")
	bob2 := collect(t, srv.URL, tm.bob, lastID)
	for i := range total {
		if answered[i] == "" && !post(srv.URL, i) {
			t.Fatalf("post %d failed after the restart", i)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	waitUntil(t, "bob to receive all 200", 15*time.Second, func() bool {
		ids, _ := bob2.snapshot()
		return len(beforeIDs)+len(ids) >= total
	})
	afterIDs, _ := bob2.snapshot()
	all := append(beforeIDs, afterIDs...)
	seen := map[string]int{}
	for i, id := range all {
		seen[id]++
		if seen[id] > 1 {
			t.Fatalf("message %s arrived twice", id)
		}
		if i > 0 && id <= all[i-1] {
			t.Fatalf("message %s arrived after %s: out of order", id, all[i-1])
		}
	}
	for i, id := range answered {
		if seen[id] != 1 {
			t.Fatalf("answered message %d (%s) did not arrive", i, id)
		}
	}
	if len(all) != total {
		t.Fatalf("%d messages arrived, want %d", len(all), total)
	}
}

func TestSIGTERMShutsDownGracefully(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, dataDir, "--keepalive", "1s")
	tm := setupTeam(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/stream", nil)
	req.Header.Set("Authorization", "Bearer "+tm.bob)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := sse.NewReader(resp.Body)
	if f, err := r.Next(); err != nil || f.Comment != "connected" {
		t.Fatalf("first frame %+v %v", f, err)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := r.Next(); err != nil {
			break
		}
	}
	if r.Retry() < 3000 || r.Retry() > 8000 {
		t.Fatalf("goodbye retry %d ms, want a staggered 3–8 s", r.Retry())
	}
	select {
	case err := <-srv.done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, srv.logs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("herald-server did not exit within 10 s of SIGTERM")
	}
	if !strings.Contains(srv.logs.String(), "msg=stopped") {
		t.Fatalf("no clean stop in the log:\n%s", srv.logs)
	}
	// The store was closed cleanly: a new server opens it at once and has the data.
	srv = startServer(t, dataDir)
	mustCall(t, srv.URL, "GET", "/api/me", tm.alice, nil, 200)
}

func TestRunRejectsBadArguments(t *testing.T) {
	for _, args := range [][]string{{}, {"bogus"}, {"serve", "--keepalive", "1ms"}, {"serve", "--nope"},
		{"serve", "--tls-cert", "c.pem"}, {"serve", "--tls-key", "k.pem"},
		{"serve", "--tls-self-signed", "--tls-cert", "c.pem", "--tls-key", "k.pem"},
		{"serve", "--public-url", "https://chat.example.com/herald"}, {"serve", "--public-url", "chat.example.com"},
		{"serve", "--data-dir", t.TempDir(), "--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"},
		// Cluster flags that do not make a node: each is refused before anything starts.
		{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--node-name", "n1"},
		{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--node-name", "n1", "--advertise", "http://127.0.0.1:1"},
		{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--node-name", "n1", "--advertise", "http://127.0.0.1:1", "--nats-embedded"},
		{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--node-name", "n1", "--advertise", "http://127.0.0.1:1",
			"--cluster", "nats://127.0.0.1:1", "--nats-embedded", "--nats-addr", "127.0.0.1:1", "--nats-cluster-addr", "127.0.0.1:2", "--nats-routes", "nats://127.0.0.1:2"},
		{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--node-name", "n1", "--advertise", "http://127.0.0.1:1",
			"--cluster", "nats://127.0.0.1:1", "--cluster-replicas", "2"},
		{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--node-name", "n1", "--advertise", "not a url",
			"--cluster", "nats://127.0.0.1:1", "--cluster-replicas", "1"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("run %v succeeded", args)
		}
	}
}

// A cache of the cluster's files below 0.1 GiB is refused before the node dials NATS.
func TestRunRejectsATinyFileCache(t *testing.T) {
	args := []string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--node-name", "n1", "--advertise", "http://127.0.0.1:1",
		"--cluster", "nats://127.0.0.1:1", "--cluster-file-cache-gb", "0"}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--cluster-file-cache-gb 0") {
		t.Fatalf("run %v: %v, want the flag named", args, err)
	}
}

// A --cluster-ca that is missing or holds no PEM certificate is refused before the node dials
// NATS, naming the flag.
func TestRunRejectsABadClusterCA(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{filepath.Join(t.TempDir(), "missing.pem"), notPEM} {
		args := []string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--node-name", "n1", "--advertise", "https://127.0.0.1:1",
			"--cluster", "nats://127.0.0.1:1", "--cluster-ca", file}
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--cluster-ca") {
			t.Fatalf("run with --cluster-ca %s: %v, want the flag named", file, err)
		}
	}
}

// limitFlagDefaults are the abuse limits' flags with their defaults as --help shows them.
var limitFlagDefaults = map[string]string{
	"signin-ip-burst": "20", "signin-ip-every": "3s",
	"signin-account-burst": "10", "signin-account-every": "30s",
	"register-ip-burst": "20", "register-ip-every": "3s",
	"message-rate": "10", "message-burst": "30", "upload-quota-mb": "1024", "reaction-rate": "10", "reaction-burst": "60",
	"search-rate": "5", "search-burst": "20",
	"chat-burst": "30", "chat-every": "2s",
	"max-streams-per-user": "20", "max-conns-per-ip": "128", "body-timeout": "30s", "replay-limit": "50000",
}

func TestHelpListsTheLimits(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"serve", "--help"}, &out, &errOut); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	help := errOut.String()
	for name, def := range limitFlagDefaults {
		i := strings.Index(help, "-"+name+" ")
		if i < 0 {
			t.Fatalf("--help does not list --%s:\n%s", name, help)
		}
		entry, _, _ := strings.Cut(help[i:], "\n  -")
		if !strings.Contains(entry, "(default "+def+")") {
			t.Errorf("--%s: want default %s in %q", name, def, entry)
		}
	}
	done, cancel := context.WithCancel(context.Background())
	cancel() // should a bad value start the server after all, it stops at once
	for _, args := range [][]string{{"--signin-ip-burst", "-1"}, {"--register-ip-every", "-3s"}, {"--message-rate", "-1"},
		{"--message-burst", "-5"}, {"--upload-quota-mb", "-1"}, {"--reaction-rate", "-1"}, {"--reaction-burst", "-2"},
		{"--search-rate", "-1"}, {"--search-burst", "-3"}, {"--chat-burst", "-1"}} {
		if err := run(done, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, args...), &out, &errOut); err == nil {
			t.Errorf("serve %v succeeded", args)
		}
	}
}

// The sign-in limit flags reach the server: a burst of 2 per account, then nothing; and 0 turns
// both sign-in limits off.
func TestSignInLimitFlagsTakeEffect(t *testing.T) {
	attempt := func(base string) int {
		status, _, err := call(context.Background(), base, "POST", "/api/auth/login", "", map[string]string{"username": "nobody", "password": "wrong-password"})
		if err != nil {
			t.Fatal(err)
		}
		return status
	}
	tight := startServer(t, t.TempDir(), "--signin-account-burst", "2", "--signin-account-every", "1h")
	for i, want := range []int{401, 401, 429} {
		if got := attempt(tight.URL); got != want {
			t.Fatalf("attempt %d with a burst of 2: %d, want %d", i, got, want)
		}
	}
	off := startServer(t, t.TempDir(), "--signin-account-burst", "0", "--signin-ip-burst", "0")
	for i := range 25 { // beyond both default bursts (10 per account, 20 per IP)
		if got := attempt(off.URL); got != 401 {
			t.Fatalf("attempt %d with the limits off: %d", i, got)
		}
	}
}

// The message and upload flags reach the server: a burst of 2 messages, then nothing; 0 turns
// the message limit off; a quota of 1 MiB refuses a 1.5 MiB upload until midnight UTC.
func TestMessageAndUploadFlagsTakeEffect(t *testing.T) {
	post := func(base string, tm team) int {
		status, _, err := call(context.Background(), base, "POST", "/api/chats/"+tm.chat+"/messages", tm.alice, map[string]string{"content": "hi"})
		if err != nil {
			t.Fatal(err)
		}
		return status
	}
	tight := startServer(t, t.TempDir(), "--message-burst", "2", "--message-rate", "0.001", "--upload-quota-mb", "1")
	tm := setupTeam(t, tight.URL)
	for i, want := range []int{201, 201, 429} {
		if got := post(tight.URL, tm); got != want {
			t.Fatalf("post %d with a burst of 2: %d, want %d", i, got, want)
		}
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("file", "big.txt")
	part.Write(bytes.Repeat([]byte("x"), 3<<19))
	mw.Close()
	req, _ := http.NewRequest("POST", tight.URL+"/api/chats/"+tm.chat+"/files", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tm.bob)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("1.5 MiB with a quota of 1 MiB: %d Retry-After=%q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	off := startServer(t, t.TempDir(), "--message-rate", "0")
	tm = setupTeam(t, off.URL)
	for i := range 2 * 30 { // twice the default burst, at once
		if got := post(off.URL, tm); got != 201 {
			t.Fatalf("post %d with --message-rate 0: %d", i, got)
		}
	}
}

func TestZeroTurnsLimitsOff(t *testing.T) {
	var cfg teamserver.Config
	l := limitFlags{signInIPEvery: time.Second, messageRate: 10}
	if err := l.apply(&cfg); err != nil {
		t.Fatal(err)
	}
	for name, lim := range map[string]httpapi.Limit{"signin-ip": cfg.SignInIP, "signin-account": cfg.SignInAccount,
		"register-ip": cfg.RegisterIP, "message": cfg.Messages, "reaction": cfg.Reactions, "search": cfg.Searches} {
		if lim != httpapi.Off {
			t.Errorf("%s: %+v, want off", name, lim)
		}
	}
	if cfg.UploadQuota >= 0 {
		t.Errorf("--upload-quota-mb 0 gives UploadQuota %d, want negative (off)", cfg.UploadQuota)
	}
}

// The search flags reach the server: a burst of 2 searches, then 429 with Retry-After; their
// defaults are httpapi's (a burst of 20, then 5 per second).
func TestSearchFlagsTakeEffect(t *testing.T) {
	o, fs := newFlags(io.Discard)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	var cfg teamserver.Config
	if err := o.limits.apply(&cfg); err != nil {
		t.Fatal(err)
	}
	if want := (httpapi.Limit{Burst: 20, Every: time.Second / 5}); cfg.Searches != want {
		t.Errorf("default Searches %+v, want %+v", cfg.Searches, want)
	}

	tight := startServer(t, t.TempDir(), "--search-burst", "2", "--search-rate", "0.001")
	tm := setupTeam(t, tight.URL)
	search := func() *http.Response {
		req, _ := http.NewRequest("GET", tight.URL+"/api/search?q=anything", nil)
		req.Header.Set("Authorization", "Bearer "+tm.bob)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i, want := range []int{200, 200, 429} {
		resp := search()
		if resp.StatusCode != want {
			t.Fatalf("search %d with a burst of 2: %d, want %d", i, resp.StatusCode, want)
		}
		if want == 429 && resp.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
	}
}
