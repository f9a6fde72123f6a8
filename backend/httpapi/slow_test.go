package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/sse"
)

// A subscriber that never reads must not slow publishers or grow the server's memory; once the
// server cuts it off, it resumes from the log and gets every durable event exactly once.
func TestSlowSubscriberIsCutOffAndResumesWithoutLoss(t *testing.T) {
	// A load test: 3,000 posts by one user in a few seconds, with the per-user limits off.
	ts := newTestServer(t, serverOptions{queueSize: 64, noUserLimits: true})
	tm := ts.team(t)

	conn, req := ts.stuckStream(t, tm.bob)

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	// 3,000 messages of 8,000 bytes (24 MB of frames) from 8 concurrent posters: far more than
	// the socket buffers and the 64-event queue hold.
	const total, posters = 3000, 8
	content := strings.Repeat("x", 8000)
	ids := make([]string, total)
	var wg sync.WaitGroup
	for p := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p; i < total; i += posters {
				r := ts.do(t, request{method: "POST", path: "/api/chats/" + tm.chat + "/messages", token: tm.alice.Token,
					body: map[string]string{"content": content, "clientId": fmt.Sprint("m", i)}})
				if r.Status != 201 {
					t.Errorf("post %d: %d %s", i, r.Status, r.Raw)
					return
				}
				ids[i] = r.str("message", "id")
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	waitFor(t, "the server to cut the stuck stream off", func() bool { return ts.Hub.Stats().Overflows == 1 })

	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapInuse) - int64(before.HeapInuse)
	if growth > 8<<20 {
		t.Fatalf("heap grew by %d MB while 24 MB of frames went to a stuck subscriber: not bounded", growth>>20)
	}
	t.Logf("heap growth with a stuck subscriber: %d KB", growth>>10)

	// Now the client reads what reached it before the cut, then resumes from its last id.
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var order []string
	collect := func(r *sse.Reader, until int) {
		for len(order) < until {
			f, err := r.Next()
			if err != nil {
				return
			}
			var ev event
			if f.IsComment || json.Unmarshal([]byte(f.Data), &ev) != nil || ev.Type != "NEW_MESSAGE" {
				continue
			}
			seen[ev.Message.ID]++
			order = append(order, ev.Message.ID)
		}
	}
	stuck := sse.NewReader(resp.Body)
	collect(stuck, total)
	resp.Body.Close()
	if len(order) == total {
		t.Fatal("the stuck stream received everything: the test did not overflow it")
	}
	t.Logf("%d messages reached the stuck client before the cut, resuming after %s", len(order), stuck.LastEventID())

	resumed := ts.openStream(t, "/api/stream", tm.bob.Token, stuck.LastEventID())
	for len(order) < total {
		ev := resumed.nextOfType(t, "NEW_MESSAGE", wait)
		seen[ev.Message.ID]++
		order = append(order, ev.Message.ID)
	}
	for i, id := range order {
		if seen[id] != 1 {
			t.Fatalf("message %s arrived %d times", id, seen[id])
		}
		if i > 0 && id <= order[i-1] {
			t.Fatalf("message %s after %s: out of order", id, order[i-1])
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Fatalf("answered message %s never arrived", id)
		}
	}
}

// waitFor polls cond until it holds, failing after 10 s.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// A peer that stops reading cannot hold up a graceful shutdown: its stream gets a short grace
// period to say goodbye, then its writes are interrupted.
func TestShutdownIsNotHeldUpByAStuckStream(t *testing.T) {
	// A fault test that fills a stuck stream with 1,000 posts at once: per-user limits off.
	ts := newTestServer(t, serverOptions{writeLimit: time.Minute, noUserLimits: true})
	tm := ts.team(t)
	ts.stuckStream(t, tm.bob)
	content := strings.Repeat("x", 8000)
	for i := range 1000 { // 8 MB: more than the socket buffers hold, less than the queue
		ts.must(t, 201, request{method: "POST", path: "/api/chats/" + tm.chat + "/messages", token: tm.alice.Token,
			body: map[string]string{"content": content, "clientId": fmt.Sprint(i)}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	if err := ts.API.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v after %s", err, time.Since(start))
	}
	// The write timeout is a minute; the grace period is 2 s.
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("shutdown waited %s for a stuck stream", took)
	}
}

// stuckStream opens /api/stream for who on a raw connection that sends its request and then
// reads nothing, and waits until the server has subscribed it. The connection closes with t.
func (ts *testServer) stuckStream(t *testing.T, who account) (net.Conn, *http.Request) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req, _ := http.NewRequest("GET", ts.URL+"/api/stream", nil)
	req.Header.Set("Authorization", "Bearer "+who.Token)
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stuck stream to subscribe", func() bool { return ts.Hub.Online(who.ID) == 1 })
	return conn, req
}
