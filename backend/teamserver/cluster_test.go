package teamserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/files"
	"github.com/herald-chat/herald/backend/httpapi"
	"github.com/herald-chat/herald/backend/internal/testnet"
	"github.com/herald-chat/herald/backend/internal/testwatch"
	"github.com/herald-chat/herald/backend/natslog"
	"github.com/herald-chat/herald/backend/sse"
	"github.com/herald-chat/herald/backend/teamserver"
)

// clusterNode is one herald-server of an in-process cluster: its own data dir, HTTP listener
// and embedded NATS node.
type clusterNode struct {
	name string
	url  string
	cfg  teamserver.Config
	srv  *teamserver.Server
	ln   net.Listener
	done chan struct{}
}

// startCluster starts three nodes on loopback, as three herald-servers with --nats-embedded,
// and waits until one of them writes. opts adjust each node's Config before it opens.
func startCluster(t *testing.T, opts ...func(*teamserver.Config)) []*clusterNode {
	t.Helper()
	natsPorts := testnet.FreePorts(t, 6)
	var routes []string
	for i := range 3 {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", natsPorts[3+i]))
	}
	nodes := make([]*clusterNode, 3)
	errs := make(chan error, 3)
	logLevel := slog.LevelError + 1 // NATS logs refused routes as errors while its peers start
	if testing.Verbose() {
		logLevel = slog.LevelInfo
	}
	for i := range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		n := &clusterNode{name: fmt.Sprintf("n%d", i+1), url: "http://" + ln.Addr().String(), ln: ln, done: make(chan struct{})}
		nodes[i] = n
		go func() {
			// The NATS nodes need each other to elect JetStream's leaders: all start at once.
			n.cfg = teamserver.Config{
				DataDir:  t.TempDir(),
				Messages: httpapi.Off, // 16 posters share one account
				Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel})).With("test_node", n.name),
				Cluster: &teamserver.ClusterConfig{
					NodeName: n.name, Advertise: n.url, LeaseTTL: 2 * time.Second,
					FoundingGrace: -1, // every store starts empty: the first to take the lease founds
					Embedded: &natslog.EmbeddedConfig{
						StoreDir:   t.TempDir(),
						ClientAddr: fmt.Sprintf("127.0.0.1:%d", natsPorts[i]), ClusterAddr: fmt.Sprintf("127.0.0.1:%d", natsPorts[3+i]),
						Routes: routes,
					},
				},
			}
			for _, o := range opts {
				o(&n.cfg)
			}
			srv, err := teamserver.Open(n.cfg)
			n.srv = srv
			errs <- err
		}()
	}
	var opened []error
	testwatch.Within(t, 3*time.Minute, "opening three nodes", func() {
		for range 3 {
			opened = append(opened, <-errs)
		}
	})
	if err := errors.Join(opened...); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		n.serve()
		t.Cleanup(func() { n.stop(t) })
	}
	waitUntil(t, 30*time.Second, "a node to take the writer's lease", func() bool { return writerOf(nodes) != nil })
	return nodes
}

func (n *clusterNode) serve() {
	n.done = make(chan struct{})
	go func() {
		defer close(n.done)
		_ = n.srv.Serve(n.ln)
	}()
}

// restart stops the node and starts it again on the same addresses, with an empty data dir when
// wipe is set (its NATS node keeps its own store).
func (n *clusterNode) restart(t *testing.T, wipe bool) {
	t.Helper()
	n.stop(t)
	if wipe {
		n.cfg.DataDir = t.TempDir()
	}
	ln, err := net.Listen("tcp", strings.TrimPrefix(n.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	n.ln = ln
	testwatch.Within(t, 3*time.Minute, "reopening "+n.name, func() { n.srv, err = teamserver.Open(n.cfg) })
	if err != nil {
		t.Fatal(err)
	}
	n.serve()
}

func (n *clusterNode) stop(t *testing.T) {
	if n.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	testwatch.Within(t, time.Minute, "shutting "+n.name+" down", func() {
		err = n.srv.Shutdown(ctx)
		<-n.done
	})
	if err != nil {
		t.Errorf("shutdown %s: %v", n.name, err)
	}
	n.srv = nil
}

// crash stops the node as SIGKILL would, as far as the cluster can tell (Server.Crash).
func (n *clusterNode) crash(t *testing.T) {
	t.Helper()
	testwatch.Within(t, time.Minute, "crashing "+n.name, func() {
		n.srv.Crash()
		<-n.done
	})
	n.srv = nil
}

func writerOf(nodes []*clusterNode) *clusterNode {
	for _, n := range nodes {
		if n.srv != nil && n.srv.Leading() {
			return n
		}
	}
	return nil
}

func followersOf(nodes []*clusterNode) []*clusterNode {
	var out []*clusterNode
	for _, n := range nodes {
		if n.srv != nil && !n.srv.Leading() {
			out = append(out, n)
		}
	}
	return out
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition of another process's making
	}
}

// testClient bounds a test's request: a node that never answers fails the test that asked.
var testClient = &http.Client{Timeout: time.Minute}

// call sends a JSON request and decodes a JSON answer; it returns the status.
func call(t *testing.T, method, url, token string, body, out any) int {
	t.Helper()
	return callWith(t, testClient, method, url, token, body, out)
}

// callWith is call through hc.
func callWith(t *testing.T, hc *http.Client, method, url, token string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, url, resp.StatusCode, data, err)
		}
	}
	if resp.StatusCode >= 300 && out != nil {
		t.Logf("%s %s: %d %s", method, url, resp.StatusCode, data)
	}
	return resp.StatusCode
}

// stream is a /api/stream read by a real SSE parser; it collects NEW_MESSAGE ids and
// AGENT_STATUS_CHANGED as "agentId:status".
type stream struct {
	t        *testing.T
	cancel   context.CancelFunc
	mu       sync.Mutex
	ids      []string
	statuses []string
	last     string
	done     chan struct{}
}

func openStream(t *testing.T, base, token, lastID string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	noAnswer := time.AfterFunc(time.Minute, cancel) // a stream's headers come at once
	resp, err := http.DefaultClient.Do(req)
	noAnswer.Stop()
	if err != nil || resp.StatusCode != 200 {
		cancel()
		t.Fatalf("open stream on %s: %v %v", base, err, resp)
	}
	s := &stream{t: t, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer resp.Body.Close()
		r := sse.NewReader(resp.Body)
		for {
			f, err := r.Next()
			if err != nil {
				return
			}
			if f.IsComment {
				continue
			}
			var ev struct {
				ID    string `json:"id"`
				Type  string `json:"type"`
				Agent struct {
					ID string `json:"id"`
				} `json:"agent"`
				Status string `json:"status"`
			}
			if json.Unmarshal([]byte(f.Data), &ev) != nil {
				continue
			}
			s.mu.Lock()
			if ev.ID != "" {
				s.last = ev.ID
			}
			switch ev.Type {
			case "NEW_MESSAGE":
				s.ids = append(s.ids, ev.ID)
			case "AGENT_STATUS_CHANGED":
				s.statuses = append(s.statuses, ev.Agent.ID+":"+ev.Status)
			}
			s.mu.Unlock()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *stream) close() {
	s.cancel()
	<-s.done
}

func (s *stream) snapshot() ([]string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ids), s.last
}

// A cluster of three: writes through any node reach the writer, every node's streams carry every
// message exactly once in id order, a stream resumes on another node from its Last-Event-ID,
// and a node that was down catches up.
func TestClusterDeliversEverywhereExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster takes seconds to form")
	}
	nodes := startCluster(t)
	fol := followersOf(nodes)
	if len(fol) != 2 {
		t.Fatalf("%d followers, want 2", len(fol))
	}
	// The first account registers through a follower: the write is forwarded, and the follower
	// answers once it holds the account itself — signing in there works at once.
	var reg struct {
		Token string `json:"token"`
	}
	if st := call(t, "POST", fol[0].url+"/api/auth/register", "", map[string]string{"username": "alice", "password": "password-alice"}, &reg); st != 201 {
		t.Fatalf("register through a follower: %d", st)
	}
	var me map[string]any
	if st := call(t, "GET", fol[0].url+"/api/me", reg.Token, nil, &me); st != 200 {
		t.Fatalf("GET /api/me on the follower that forwarded the registration: %d", st)
	}
	var chat struct {
		Chat struct {
			ID string `json:"id"`
		} `json:"chat"`
	}
	if st := call(t, "POST", fol[1].url+"/api/chats", reg.Token, map[string]any{"name": "general", "memberIds": []string{}}, &chat); st != 201 {
		t.Fatalf("create a chat through the other follower: %d", st)
	}
	streams := make([]*stream, len(nodes))
	for i, n := range nodes {
		streams[i] = openStream(t, n.url, reg.Token, "")
	}

	// 16 posters spread over the three nodes.
	const posters, each = 16, 12
	var mu sync.Mutex
	var answered []string
	var wg sync.WaitGroup
	for p := range posters {
		wg.Go(func() {
			base := nodes[p%len(nodes)].url
			for i := range each {
				var posted struct {
					Message struct {
						ID string `json:"id"`
					} `json:"message"`
				}
				body := map[string]string{"content": fmt.Sprintf("p%d m%d", p, i), "clientId": fmt.Sprintf("p%d-m%d", p, i)}
				if st := call(t, "POST", base+"/api/chats/"+chat.Chat.ID+"/messages", reg.Token, body, &posted); st != 201 && st != 200 {
					t.Errorf("post through %s: %d", base, st)
					return
				}
				mu.Lock()
				answered = append(answered, posted.Message.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(answered)
	if len(slices.Compact(slices.Clone(answered))) != posters*each {
		t.Fatalf("%d distinct answers for %d posts", len(slices.Compact(slices.Clone(answered))), posters*each)
	}
	for i, s := range streams {
		waitUntil(t, 20*time.Second, fmt.Sprintf("node %s's stream to carry every message", nodes[i].name), func() bool {
			ids, _ := s.snapshot()
			return len(ids) >= len(answered)
		})
		ids, _ := s.snapshot()
		if !slices.Equal(ids, answered) {
			t.Fatalf("node %s's stream: %d messages, not exactly the %d answered in id order", nodes[i].name, len(ids), len(answered))
		}
	}

	// A stream of node 3 goes away; the client resumes on node 1 from its last id and gets
	// exactly what it missed.
	_, last := streams[2].snapshot()
	streams[2].close()
	var missed []string
	for i := range 5 {
		var posted struct {
			Message struct {
				ID string `json:"id"`
			} `json:"message"`
		}
		call(t, "POST", nodes[1].url+"/api/chats/"+chat.Chat.ID+"/messages", reg.Token, map[string]string{"content": fmt.Sprint("while away ", i)}, &posted)
		missed = append(missed, posted.Message.ID)
	}
	resumed := openStream(t, nodes[0].url, reg.Token, last)
	waitUntil(t, 20*time.Second, "the resumed stream to catch up", func() bool {
		ids, _ := resumed.snapshot()
		return len(ids) >= len(missed)
	})
	if ids, _ := resumed.snapshot(); !slices.Equal(ids, missed) {
		t.Fatalf("resumed on another node: %v, want %v", ids, missed)
	}
}

// The writer dies: another node takes the lease and writes within seconds; nothing answered is
// lost, and a post retried with the same clientId after the failover is the same message.
func TestClusterWriterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster takes seconds to form")
	}
	nodes := startCluster(t)
	w := writerOf(nodes)
	fol := followersOf(nodes)
	// The writer moves the log's and the lease's leaders off its machine, so that its death
	// needs no election of them.
	waitUntil(t, 20*time.Second, "the streams' leaders to leave the writer's NATS node", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		log, lease, self, err := w.srv.StreamLeaders(ctx)
		return err == nil && log != "" && lease != "" && log != self && lease != self
	})
	tm := setUpTeam(t, nodes) // through a follower
	s0, s1 := openStream(t, fol[0].url, tm.token, ""), openStream(t, fol[1].url, tm.token, "")
	type posted struct {
		Message struct {
			ID string `json:"id"`
		} `json:"message"`
	}
	post := func(base, content, clientID string) (int, string) {
		var p posted
		st := call(t, "POST", base+"/api/chats/"+tm.chat+"/messages", tm.token, map[string]string{"content": content, "clientId": clientID}, &p)
		return st, p.Message.ID
	}
	var answered []string
	for i := range 10 {
		st, id := post(fol[i%2].url, fmt.Sprint("before ", i), fmt.Sprint("before-", i))
		if st != 201 {
			t.Fatalf("post before the failover: %d", st)
		}
		answered = append(answered, id)
	}

	// An upload the writer recorded but never processed: its bytes die with it.
	chat, err := w.srv.Store.Chat(context.Background(), tm.chat)
	if err != nil {
		t.Fatal(err)
	}
	stuck := &backend.File{ChatID: tm.chat, UploaderID: chat.CreatedBy, Name: "lost.pdf", Size: 5}
	if err := w.srv.Store.CreateFile(context.Background(), stuck); err != nil {
		t.Fatal(err)
	}

	crashed := time.Now()
	w.crash(t)
	// Posts through the survivors: refused (503) or forwarded into the void until a new writer
	// holds the lease, then answered.
	var stall time.Duration
	for i := 0; ; i++ {
		st, id := post(fol[i%2].url, "after", "after-0")
		if st == 201 {
			stall = time.Since(crashed)
			answered = append(answered, id)
			break
		}
		if time.Since(crashed) > 30*time.Second {
			t.Fatalf("no write was answered within 30 s of the writer's death (last status %d)", st)
		}
		time.Sleep(100 * time.Millisecond) // a client's retry interval
	}
	t.Logf("writes resumed %v after the writer died", stall.Round(time.Millisecond))
	if nw := writerOf(nodes); nw == nil || nw == w {
		t.Fatal("no new writer")
	}
	// The new writer records the dead writer's unprocessed upload failed, on every node: its
	// uploader sees it and can upload it again.
	for _, n := range fol {
		waitUntil(t, 20*time.Second, n.name+" to record the interrupted upload failed", func() bool {
			f, err := n.srv.Store.File(context.Background(), stuck.ID)
			return err == nil && f.Status == backend.FileFailed && f.Error == files.InterruptedReason
		})
	}
	// The client did not hear back about its last post before the failover and retries it on
	// the other node: the same message, not a second one.
	st, id := post(fol[1].url, "before 9", "before-9")
	if st != 200 || id != answered[9] {
		t.Fatalf("a retried post after the failover: %d %s, want 200 %s", st, id, answered[9])
	}
	for _, s := range []*stream{s0, s1} {
		waitUntil(t, 20*time.Second, "the survivors' streams to carry every answered message", func() bool {
			ids, _ := s.snapshot()
			return len(ids) >= len(answered)
		})
		if ids, _ := s.snapshot(); !slices.Equal(ids, answered) {
			t.Fatalf("a survivor's stream: %v, want exactly %v", ids, answered)
		}
	}
}

// Typing through one node reaches a member's stream on another; a replica whose data dir was
// wiped rejoins and rebuilds everything from the log.
func TestClusterTypingAndAWipedReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster takes seconds to form")
	}
	nodes := startCluster(t)
	fol := followersOf(nodes)
	var alice, bob struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if st := call(t, "POST", fol[0].url+"/api/auth/register", "", map[string]string{"username": "alice", "password": "password-alice"}, &alice); st != 201 {
		t.Fatalf("register alice: %d", st)
	}
	var inv struct {
		Code string `json:"code"`
	}
	if st := call(t, "POST", fol[0].url+"/api/invites", alice.Token, nil, &inv); st != 201 {
		t.Fatalf("invite: %d", st)
	}
	if st := call(t, "POST", fol[1].url+"/api/auth/register", "", map[string]string{"username": "bob", "password": "password-bob", "inviteCode": inv.Code}, &bob); st != 201 {
		t.Fatalf("register bob: %d", st)
	}
	var chat struct {
		Chat struct {
			ID string `json:"id"`
		} `json:"chat"`
	}
	if st := call(t, "POST", fol[0].url+"/api/chats", alice.Token, map[string]any{"name": "general", "memberIds": []string{bob.User.ID}}, &chat); st != 201 {
		t.Fatalf("create a chat: %d", st)
	}
	typing := openTypingStream(t, fol[1].url, bob.Token)
	if st := call(t, "POST", fol[0].url+"/api/chats/"+chat.Chat.ID+"/typing", alice.Token, map[string]any{}, nil); st != 204 && st != 200 {
		t.Fatalf("typing: %d", st)
	}
	select {
	case who := <-typing:
		if who != alice.User.ID {
			t.Fatalf("TYPING from %s, want alice %s", who, alice.User.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("alice's typing through one node did not reach bob's stream on another")
	}

	for i := range 20 {
		if st := call(t, "POST", fol[0].url+"/api/chats/"+chat.Chat.ID+"/messages", alice.Token, map[string]string{"content": fmt.Sprint("m", i)}, nil); st != 201 {
			t.Fatalf("post: %d", st)
		}
	}
	wiped := fol[1]
	wiped.restart(t, true)
	var page struct {
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
	}
	waitUntil(t, 30*time.Second, "the wiped replica to hold the history again", func() bool {
		return call(t, "GET", wiped.url+"/api/chats/"+chat.Chat.ID+"/messages?limit=50", bob.Token, nil, &page) == 200 && len(page.Messages) == 20
	})
}

// openTypingStream reads /api/stream and sends the userId of every TYPING event.
func openTypingStream(t *testing.T, base, token string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	noAnswer := time.AfterFunc(time.Minute, cancel) // a stream's headers come at once
	resp, err := http.DefaultClient.Do(req)
	noAnswer.Stop()
	if err != nil || resp.StatusCode != 200 {
		cancel()
		t.Fatalf("open stream on %s: %v %v", base, err, resp)
	}
	out := make(chan string, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer resp.Body.Close()
		r := sse.NewReader(resp.Body)
		for {
			f, err := r.Next()
			if err != nil {
				return
			}
			var ev struct {
				Type   string `json:"type"`
				UserID string `json:"userId"`
			}
			if !f.IsComment && json.Unmarshal([]byte(f.Data), &ev) == nil && ev.Type == "TYPING" {
				select {
				case out <- ev.UserID:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return out
}
