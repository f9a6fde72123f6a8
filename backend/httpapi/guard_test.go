package httpapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/httpapi"
)

// rawConn dials the test server and sends head (a request without its body).
func (ts *testServer) rawConn(tb testing.TB, head string) net.Conn {
	tb.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	if head != "" {
		if _, err := io.WriteString(c, head); err != nil {
			tb.Fatal(err)
		}
	}
	return c
}

// readAnswer reads one HTTP answer from c, failing after timeout.
func readAnswer(tb testing.TB, c net.Conn, timeout time.Duration) *http.Response {
	tb.Helper()
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		tb.Fatalf("no answer within %s: %v", timeout, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}

// Requests that announce a body and never send it are answered 408 once the body timeout has
// passed — all of them, each on its own — rather than held for as long as the client likes.
func TestStalledBodiesAreCutOff(t *testing.T) {
	const conns = 50
	ts := newTestServer(t, serverOptions{bodyTimeout: 300 * time.Millisecond})
	alice := ts.register(t, "alice", "")
	head := "POST /api/chats HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + alice.Token +
		"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name"
	start := time.Now()
	var wg sync.WaitGroup
	statuses := make(chan int, conns)
	for range conns {
		c := ts.rawConn(t, head)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				statuses <- 0
				return
			}
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	held := time.Since(start)
	for st := range statuses {
		if st != http.StatusRequestTimeout {
			t.Fatalf("a stalled body got %d, want 408", st)
		}
	}
	t.Logf("%d stalled bodies answered 408 after %s (body timeout 300ms)", conns, held)
	if held > 5*time.Second {
		t.Fatalf("the stalled bodies were held %s", held)
	}
}

// An upload on a slow but steady link takes longer than the body timeout and still arrives:
// its deadline moves with its progress. One that stops moving is cut off.
func TestSlowUploadKeepsGoingWhileItMoves(t *testing.T) {
	ts := newTestServer(t, serverOptions{bodyTimeout: 300 * time.Millisecond})
	tm := ts.team(t)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	part, _ := mw.CreateFormFile("file", "notes.txt")
	_, _ = part.Write(bytes.Repeat([]byte("slow and steady\n"), 4096))
	_ = mw.Close()
	upload := func(stallAfter int) *http.Response {
		head := fmt.Sprintf("POST /api/chats/%s/files HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: %s\r\nContent-Length: %d\r\n\r\n", tm.chat, tm.alice.Token, mw.FormDataContentType(), form.Len())
		c := ts.rawConn(t, head)
		body := form.Bytes()
		chunk := len(body)/8 + 1
		for i := 0; i*chunk < len(body); i++ {
			if i == stallAfter {
				break
			}
			time.Sleep(100 * time.Millisecond) // the slow link under test, not a wait for a condition
			if _, err := c.Write(body[i*chunk : min(len(body), (i+1)*chunk)]); err != nil {
				t.Fatal(err)
			}
		}
		return readAnswer(t, c, 10*time.Second)
	}
	start := time.Now()
	if resp := upload(-1); resp.StatusCode != http.StatusAccepted {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("a slow upload: %d %s", resp.StatusCode, body)
	}
	if took := time.Since(start); took < 600*time.Millisecond {
		t.Fatalf("the upload took %s: not slower than the body timeout, so it proves nothing", took)
	}
	if resp := upload(3); resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("a stalled upload: %d", resp.StatusCode)
	}
}

// One address holds at most the configured number of connections; the next is answered 503 in
// the JSON error shape at once (not queued), and closing one makes room.
func TestConnectionsPerIPAreCapped(t *testing.T) {
	const perIP = 8
	ts := newTestServer(t, serverOptions{maxConnsPerIP: perIP})
	var held []net.Conn
	for range perIP {
		held = append(held, ts.rawConn(t, ""))
	}
	over := ts.rawConn(t, "")
	resp := readAnswer(t, over, 5*time.Second)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), `"code":"unavailable"`) {
		t.Fatalf("connection %d: %d %v %s", perIP+1, resp.StatusCode, resp.Header, body)
	}
	held[0].Close()
	waitFor(t, "the closed connection to make room", func() bool {
		c := ts.rawConn(t, "GET /api/server HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		r, err := http.ReadResponse(bufio.NewReader(c), nil)
		return err == nil && r.StatusCode == 200
	})
}

// A peer the cluster vouched for (TrustPeer) opens connections past the bound while it is
// trusted; its exempt connections are not counted when they close, so once the trust lapses the
// bound applies with exactly its room again.
func TestTrustedPeersPassTheConnectionBound(t *testing.T) {
	const perIP = 4
	ts := newTestServer(t, serverOptions{maxConnsPerIP: perIP})
	answered := func(c net.Conn) bool {
		if _, err := io.WriteString(c, "GET /api/server HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
			return false
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		r, err := http.ReadResponse(bufio.NewReader(c), nil)
		return err == nil && r.StatusCode == 200
	}
	// Each answered, so the server has accepted (and counted) it before the trust begins.
	var counted []net.Conn
	for i := range perIP {
		c := ts.rawConn(t, "")
		if !answered(c) {
			t.Fatalf("connection %d within the bound was not answered", i+1)
		}
		counted = append(counted, c)
	}
	ts.Limiter.TrustPeer("127.0.0.1", time.Now())
	var exempt []net.Conn
	for i := range 3 * perIP {
		c := ts.rawConn(t, "")
		if !answered(c) {
			t.Fatalf("peer connection %d past the bound was not answered", i+1)
		}
		exempt = append(exempt, c)
	}
	for _, c := range append(exempt, counted[0]) {
		c.Close()
	}
	// Trust lapses: vouched for longer ago than PeerTrust.
	ts.Limiter.TrustPeer("127.0.0.1", time.Now().Add(-httpapi.PeerTrust-time.Second))
	waitFor(t, "the closed counted connection to make room for one", func() bool {
		c := ts.rawConn(t, "")
		if !answered(c) {
			c.Close()
			return false
		}
		counted = append(counted, c)
		return true
	})
	over := ts.rawConn(t, "")
	if resp := readAnswer(t, over, 5*time.Second); resp.StatusCode != 503 {
		t.Fatalf("past the bound once trust lapsed: %d", resp.StatusCode)
	}
}

// A Host header that names some other host is refused with 421 before any handler runs: a DNS
// rebinding page (foreign Host, matching Origin) cannot claim a fresh server's admin account.
// Loopback, the configured public URL and extra hosts are answered.
func TestForeignHostIsRefused(t *testing.T) {
	ts := newTestServer(t, serverOptions{publicURL: "https://chat.example.com", allowedHosts: []string{"herald.internal"}})
	send := func(host, origin string) response {
		req, err := http.NewRequest("POST", ts.URL+"/api/auth/register", strings.NewReader(`{"username":"mallory","password":"mallory-pw-1"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return response{Status: resp.StatusCode, Raw: raw}
	}
	for _, host := range []string{"attacker.example", "attacker.example:80", "chat.example.com.attacker.example", "10.11.12.13"} {
		r := send(host, "http://"+host)
		if r.Status != 421 || !strings.Contains(string(r.Raw), `"code":"misdirected"`) {
			t.Fatalf("Host %s: %d %s", host, r.Status, r.Raw)
		}
	}
	if info := ts.must(t, 200, request{method: "GET", path: "/api/server"}); info.Body["needsSetup"] != true {
		t.Fatalf("a refused request created an account: %s", info.Raw)
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(ts.URL, "http://"))
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST.:" + port, "[::1]:" + port, "chat.example.com", "herald.internal:443"} {
		req, _ := http.NewRequest("GET", ts.URL+"/api/server", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("Host %s: %d", host, resp.StatusCode)
		}
	}
	if r := send("127.0.0.1:"+port, ""); r.Status != 201 {
		t.Fatalf("register on loopback: %d %s", r.Status, r.Raw)
	}
}

// A request refused before its body was read (here: not signed in) is answered and its
// connection closed at once, instead of net/http waiting for the rest of a body that never
// comes until the body timeout.
func TestRefusalBeforeTheBodyClosesAtOnce(t *testing.T) {
	ts := newTestServer(t, serverOptions{bodyTimeout: 20 * time.Second})
	start := time.Now()
	c := ts.rawConn(t, "POST /api/chats HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"na")
	resp := readAnswer(t, c, 5*time.Second)
	if resp.StatusCode != 401 || !resp.Close {
		t.Fatalf("answer %d, Connection: close %v", resp.StatusCode, resp.Close)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after the answer: %d bytes, %v; want the connection closed", n, err)
	}
	if held := time.Since(start); held > 5*time.Second {
		t.Fatalf("held %s", held)
	}
}
