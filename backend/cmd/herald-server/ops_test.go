package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// --metrics-addr serves /metrics without auth on its own listener, while the main listener's
// /metrics wants an admin; --log-format json writes one JSON object per line, the lines of a
// request carry its request_id (which its error body and X-Request-Id name too), streams log
// their lifecycle at info, and nothing secret — passwords, tokens, invite codes — is logged.
func TestMetricsAddrAndJSONLogs(t *testing.T) {
	p := startServer(t, t.TempDir(), "--metrics-addr", "127.0.0.1:0", "--log-format", "json", "--debug")
	metricsURL := p.stdoutLine(t, "herald-server metrics on ")
	resp, err := http.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "herald_streams_open") || !strings.Contains(string(body), "go_goroutines") {
		t.Fatalf("%s: %d %.200s", metricsURL, resp.StatusCode, body)
	}
	if status, _, err := call(context.Background(), p.URL, "GET", "/metrics", "", nil); err != nil || status != 401 {
		t.Fatalf("/metrics on the main listener without auth: %d %v", status, err)
	}

	tm := setupTeam(t, p.URL)
	inv := mustCall(t, p.URL, "POST", "/api/invites", tm.alice, nil, 201)
	if status, _, _ := call(context.Background(), p.URL, "GET", "/metrics", tm.bob, nil); status != 403 {
		t.Fatalf("/metrics as a member: %d", status)
	}
	// A stream opens and closes; a refused request names its id.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", p.URL+"/api/stream", nil)
	req.Header.Set("Authorization", "Bearer "+tm.bob)
	stream, err := http.DefaultClient.Do(req)
	if err != nil || stream.StatusCode != 200 {
		t.Fatalf("stream: %v %v", stream, err)
	}
	if _, err := bufio.NewReader(stream.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cancel()
	stream.Body.Close()
	bad, _ := http.NewRequest("POST", p.URL+"/api/chats/"+tm.chat+"/messages", strings.NewReader("{"))
	bad.Header.Set("Authorization", "Bearer "+tm.bob)
	bad.Header.Set("Content-Type", "application/json")
	bad.Header.Set("X-Request-Id", "trace-42")
	br, err := http.DefaultClient.Do(bad)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Error struct{ Code, RequestID string }
	}
	_ = json.NewDecoder(br.Body).Decode(&e)
	br.Body.Close()
	if br.StatusCode != 400 || br.Header.Get("X-Request-Id") != "trace-42" || e.Error.RequestID != "trace-42" {
		t.Fatalf("a bad post: %d %q %+v", br.StatusCode, br.Header.Get("X-Request-Id"), e)
	}

	var closed map[string]any
	waitUntil(t, "the stream's closing log line", 10*time.Second, func() bool {
		for _, line := range strings.Split(strings.TrimSpace(p.logText()), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("a log line is not JSON: %q", line)
			}
			if rec["msg"] == "stream closed" {
				closed = rec
				return true
			}
		}
		return false
	})
	if closed["level"] != "INFO" || closed["cause"] != "client_gone" || closed["kind"] != "stream" || len(closed["request_id"].(string)) != 16 {
		t.Fatalf("stream closed line %v", closed)
	}
	logs := p.logText()
	if !strings.Contains(logs, `"msg":"stream opened"`) {
		t.Fatal("no stream opened line")
	}
	for name, secret := range map[string]string{"alice's password": "correct-horse-9", "bob's password": "battery-staple-7",
		"alice's token": tm.alice, "bob's token": tm.bob, "the invite code": field(inv, "code")} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log names %s", name)
		}
	}
}

// docs/DEPLOY.md's flag table names every flag `serve --help` lists, and no other.
func TestDeployGuideListsEveryFlag(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/DEPLOY.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `--([a-z0-9-]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	_, fs := newFlags(io.Discard)
	fs.VisitAll(func(f *flag.Flag) {
		if !documented[f.Name] {
			t.Errorf("--%s is not in docs/DEPLOY.md's table", f.Name)
		}
		delete(documented, f.Name)
	})
	for name := range documented {
		t.Errorf("docs/DEPLOY.md lists --%s, which serve does not have", name)
	}
}
