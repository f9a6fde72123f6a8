package teamserver_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/teamserver"
)

// clientFrom is an HTTP client whose connections come from the loopback address ip
// (127.0.0.2, …): to the nodes, another machine than the nodes themselves (127.0.0.1).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// A write forwarded by a follower counts against its client's address on the writer, not the
// follower's, with no --trusted-proxies anywhere: the session a registration through a follower
// makes records the client's address. Forward headers a client makes up are not believed, at the
// writer or at a follower. And once a follower's signed forward arrived, the writer lets that
// node's address past --max-conns-per-ip.
func TestClusterForwardedWritesKeepTheirClientsAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster takes seconds to form")
	}
	const perIP = 6
	nodes := startCluster(t, func(c *teamserver.Config) { c.MaxConnsPerIP = perIP })
	writer, fol := writerOf(nodes), followersOf(nodes)

	// Before any forward, the writer bounds 127.0.0.1 like any address.
	var held []net.Conn
	for i := range perIP {
		held = append(held, answeredConn(t, writer.url, fmt.Sprintf("connection %d within the bound", i+1)))
	}
	if refusedConn(t, writer.url) != 503 {
		t.Fatal("past the bound before any forward: not refused")
	}
	for _, c := range held {
		c.Close()
	}

	type session struct {
		IP      string `json:"ip"`
		Current bool   `json:"current"`
	}
	sessionIP := func(hc *http.Client, base, token string) string {
		t.Helper()
		var got struct {
			Sessions []session `json:"sessions"`
		}
		if st := callWith(t, hc, "GET", base+"/api/sessions", token, nil, &got); st != 200 {
			t.Fatalf("GET /api/sessions: %d", st)
		}
		for _, s := range got.Sessions {
			if s.Current {
				return s.IP
			}
		}
		t.Fatalf("no current session in %+v", got.Sessions)
		return ""
	}

	// Through a follower, with made-up forward headers that it must replace.
	client := clientFrom("127.0.0.2")
	req, _ := http.NewRequest("POST", fol[0].url+"/api/auth/register",
		strings.NewReader(`{"username":"alice","password":"password-alice"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Herald-Forward-Client", "203.0.113.9")
	req.Header.Set("X-Herald-Forward-Time", strconv.FormatInt(time.Now().UnixMilli(), 10))
	req.Header.Set("X-Herald-Forward-Signature", "made-up")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		Token string `json:"token"`
	}
	decodeJSON(t, resp, 201, &reg)
	if ip := sessionIP(client, fol[0].url, reg.Token); ip != "127.0.0.2" {
		t.Fatalf("the session of a registration forwarded by %s records %q, want the client's 127.0.0.2", fol[0].name, ip)
	}

	// Straight to the writer, with made-up headers: the peer's own address is recorded.
	other := clientFrom("127.0.0.3")
	req, _ = http.NewRequest("POST", writer.url+"/api/auth/login", strings.NewReader(`{"username":"alice","password":"password-alice"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Herald-Forward-Client", "203.0.113.9")
	req.Header.Set("X-Herald-Forward-Time", strconv.FormatInt(time.Now().UnixMilli(), 10))
	req.Header.Set("X-Herald-Forward-Signature", "made-up")
	if resp, err = other.Do(req); err != nil {
		t.Fatal(err)
	}
	var login struct {
		Token string `json:"token"`
	}
	decodeJSON(t, resp, 200, &login)
	if ip := sessionIP(other, writer.url, login.Token); ip != "127.0.0.3" {
		t.Fatalf("a sign-in with made-up forward headers records %q, want its peer 127.0.0.3", ip)
	}

	// A write another node forwarded, arriving at a node that does not write, is not forwarded
	// again (two nodes that each take the other for the writer would pass it back and forth
	// until ForwardTimeout): 503, and the client retries.
	body := `{"content":"hello","clientId":"forwarded-twice"}`
	var chat struct {
		Chat struct {
			ID string `json:"id"`
		} `json:"chat"`
	}
	if st := call(t, "POST", writer.url+"/api/chats", reg.Token, map[string]any{"kind": "channel", "name": "forwards"}, &chat); st != 201 {
		t.Fatalf("create a chat: %d", st)
	}
	req, _ = http.NewRequest("POST", fol[1].url+"/api/chats/"+chat.Chat.ID+"/messages", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+reg.Token)
	req.Host = strings.TrimPrefix(fol[1].url, "http://")
	fol[0].srv.SignForward(req, "127.0.0.2")
	if resp, err = testClient.Do(req); err != nil {
		t.Fatal(err)
	}
	var refusal struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	decodeJSON(t, resp, 503, &refusal)
	if refusal.Error.Code != "unavailable" {
		t.Fatalf("a forwarded write at a follower: %+v", refusal)
	}

	// The follower's forward vouched for 127.0.0.1 (every node's address here): past the bound now.
	for i := range 2 * perIP {
		held = append(held, answeredConn(t, writer.url, fmt.Sprintf("a node's connection %d past the bound", i+1)))
	}
}

// answeredConn opens a connection to base from 127.0.0.1 and has one request answered on it,
// so that the server has accepted and counted it; the connection stays open.
func answeredConn(t *testing.T, base, what string) net.Conn {
	t.Helper()
	c, st := rawRequest(t, base)
	if st != 200 {
		t.Fatalf("%s: %d", what, st)
	}
	return c
}

// refusedConn is the status of one request on a fresh connection to base (0: none came).
func refusedConn(t *testing.T, base string) int {
	t.Helper()
	c, st := rawRequest(t, base)
	c.Close()
	return st
}

func rawRequest(t *testing.T, base string) (net.Conn, int) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	host := strings.TrimPrefix(base, "http://")
	if _, err := fmt.Fprintf(c, "GET /api/server HTTP/1.1\r\nHost: %s\r\n\r\n", host); err != nil {
		return c, 0
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return c, 0
	}
	resp.Body.Close()
	return c, resp.StatusCode
}

// decodeJSON reads resp's JSON body into out, failing unless its status is want.
func decodeJSON(t *testing.T, resp *http.Response, want int, out any) {
	t.Helper()
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, data, want)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
}
