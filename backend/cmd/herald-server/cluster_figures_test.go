package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/sse"
)

// TestClusterFigures measures a three-node cluster against one herald-server on the same
// machine, in one run (this machine is noisy: read the ratios): cross-node delivery latency,
// writes/s with 32 posters, the failover stall after SIGKILL of the writer, a wiped node's
// catch-up rate, and RSS per open stream. `make test-cluster` runs it; `make test` does not
// (HERALD_CLUSTER_FIGURES unset), it runs the short cluster tests instead.
func TestClusterFigures(t *testing.T) {
	if os.Getenv("HERALD_CLUSTER_FIGURES") == "" {
		t.Skip("the cluster's figures take minutes: make test-cluster")
	}
	flags := []string{"--message-rate", "0", "--max-streams-per-user", "0", "--max-conns-per-ip", "0"}
	single := startServer(t, t.TempDir(), flags...)
	nodes := startClusterProcs(t, flags...)
	waitUntil(t, "a writer", 30*time.Second, func() bool { return slices.ContainsFunc(nodes, (*clusterProc).leads) })
	wi := slices.IndexFunc(nodes, (*clusterProc).leads)
	writer := nodes[wi]
	waitUntil(t, "the streams' leaders to leave the writer's machine", 60*time.Second, func() bool {
		return strings.Contains(writer.logText(), "the log's and the lease's leaders are on other machines")
	})
	var fol []*clusterProc
	for i, n := range nodes {
		if i != wi {
			fol = append(fol, n)
		}
	}
	sTeam := setupTeam(t, single.URL)
	cTeam := setupTeam(t, fol[0].URL)

	// Delivery latency: posts through one node, received on another node's stream (the cluster)
	// or the same server's (single), 20 posts/s.
	const latencyPosts = 300
	sLat := deliveryLatency(t, single.URL, single.URL, sTeam, latencyPosts)
	cLat := deliveryLatency(t, fol[0].URL, fol[1].URL, cTeam, latencyPosts)

	// Writes/s with 32 posters (through the followers: every post is forwarded).
	const writers, each = 32, 40
	sRate := postRate(t, []string{single.URL}, sTeam, writers, each)
	cRate := postRate(t, []string{fol[0].URL, fol[1].URL}, cTeam, writers, each)

	// RSS per open stream: 1,000 streams on a follower and on the single server.
	const streams = 1000
	sRSS := rssPerStream(t, single, sTeam, streams)
	cRSS := rssPerStream(t, fol[1].process, cTeam, streams)

	// Catch-up: a follower's data dir is wiped and it starts again; it serves once it applied
	// the whole log.
	entries := clusterSeq(t, fol[1], cTeam.alice, "logSeq")
	fol[1].kill()
	fol[1].dataDir = t.TempDir()
	started := time.Now()
	if err := fol[1].start(); err != nil {
		t.Fatal(err)
	}
	restart := time.Since(started) // it listens once it applied the log
	logs := fol[1].logText()
	i := strings.Index(logs, `msg="caught up with the log"`)
	if i < 0 {
		t.Fatalf("the wiped node did not say it caught up:\n%s", heraldLines(logs))
	}
	var applied int
	var took time.Duration
	for _, f := range strings.Fields(strings.SplitN(logs[i:], "\n", 2)[0]) {
		if v, ok := strings.CutPrefix(f, "entries="); ok {
			applied, _ = strconv.Atoi(v)
		}
		if v, ok := strings.CutPrefix(f, "took="); ok {
			took, _ = time.ParseDuration(v)
		}
	}
	if got := clusterSeq(t, fol[1], cTeam.alice, "appliedSeq"); got < entries {
		t.Fatalf("the wiped node listens at log position %d, before %d", got, entries)
	}

	// Failover: the writer is killed; the longest silence between answered posts.
	stall := failoverStall(t, writer, fol, cTeam)

	rows := [][]string{
		{"delivery p50 (ms)", ms(sLat[0]), ms(cLat[0]), ratio(cLat[0], sLat[0])},
		{"delivery p99 (ms)", ms(sLat[1]), ms(cLat[1]), ratio(cLat[1], sLat[1])},
		{"writes/s, 32 posters", fmt.Sprintf("%.0f", sRate), fmt.Sprintf("%.0f", cRate), fmt.Sprintf("%.2f", cRate/sRate)},
		{"RSS per stream (KiB)", fmt.Sprintf("%.1f", sRSS), fmt.Sprintf("%.1f", cRSS), fmt.Sprintf("%.2f", cRSS/sRSS)},
		{"catch-up of a wiped node", "—", fmt.Sprintf("%d entries in %v (%.0f/s); listening %v after its start", applied, took, float64(applied)/took.Seconds(), restart.Round(time.Millisecond)), "—"},
		{"failover stall (SIGKILL of the writer)", "—", stall.Round(time.Millisecond).String(), "—"},
	}
	var b strings.Builder
	b.WriteString("| figure | single server | cluster of 3 | ratio |\n|---|---|---|---|\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	t.Logf("cluster figures:\n%s", b.String())
	if out := os.Getenv("HERALD_CLUSTER_FIGURES_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
	if stall > 10*time.Second {
		t.Errorf("writes stalled %v after the writer died, want within 10 s", stall)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func ratio(a, b time.Duration) string { return fmt.Sprintf("%.2f", float64(a)/float64(b)) }

// deliveryLatency posts n messages through post at 20/s and times each until it arrives on a
// stream of recv; it returns p50 and p99.
func deliveryLatency(t *testing.T, post, recv string, tm team, n int) [2]time.Duration {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", recv+"/api/stream", nil)
	req.Header.Set("Authorization", "Bearer "+tm.bob)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("stream: %v %v", err, resp)
	}
	var mu sync.Mutex
	arrived := map[string]time.Time{}
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
				Type    string
				Message struct{ Content string }
			}
			if !f.IsComment && json.Unmarshal([]byte(f.Data), &ev) == nil && ev.Type == "NEW_MESSAGE" {
				mu.Lock()
				arrived[ev.Message.Content] = time.Now()
				mu.Unlock()
			}
		}
	}()
	sent := map[string]time.Time{}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for i := range n {
		<-tick.C
		content := fmt.Sprintf("latency %s %d", recv, i)
		sent[content] = time.Now()
		mustCall(t, post, "POST", "/api/chats/"+tm.chat+"/messages", tm.alice, map[string]string{"content": content}, 201)
	}
	waitUntil(t, "every timed post to arrive", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(arrived) >= n
	})
	cancel()
	<-done
	var lat []time.Duration
	for c, at := range sent {
		lat = append(lat, arrived[c].Sub(at))
	}
	slices.Sort(lat)
	return [2]time.Duration{lat[len(lat)/2], lat[len(lat)*99/100]}
}

// postRate posts writers×each messages from writers goroutines spread over bases; messages/s.
func postRate(t *testing.T, bases []string, tm team, writers, each int) float64 {
	t.Helper()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				st, _, err := call(context.Background(), bases[w%len(bases)], "POST", "/api/chats/"+tm.chat+"/messages", tm.alice,
					map[string]string{"content": fmt.Sprintf("rate %d %d", w, i)})
				if err != nil || st != 201 {
					t.Errorf("post: %d %v", st, err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(writers*each) / time.Since(start).Seconds()
}

// rssPerStream opens n streams on p and returns the growth of its RSS per stream (KiB).
func rssPerStream(t *testing.T, p *process, tm team, n int) float64 {
	t.Helper()
	before := rssKiB(t, p.cmd.Process.Pid)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: 0}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var bodies []*http.Response
	for range n {
		req, _ := http.NewRequestWithContext(ctx, "GET", p.URL+"/api/stream", nil)
		req.Header.Set("Authorization", "Bearer "+tm.bob)
		resp, err := hc.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("stream: %v %v", err, resp)
		}
		// The first frame says the stream is set up on the server.
		if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, resp)
	}
	after := rssKiB(t, p.cmd.Process.Pid)
	for _, b := range bodies {
		b.Body.Close()
	}
	return float64(after-before) / float64(n)
}

func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// clusterSeq is a log position the node's health monitor reports: field logSeq (the log's
// last) or appliedSeq (what the node applied).
func clusterSeq(t *testing.T, n *clusterProc, adminToken, field string) int {
	t.Helper()
	m := mustCall(t, n.URL, "GET", "/api/admin/monitor", adminToken, nil, 200)
	c, _ := m["cluster"].(map[string]any)
	seq, _ := c[field].(float64)
	if seq == 0 {
		t.Fatalf("no cluster.%s in the monitor: %v", field, m["cluster"])
	}
	return int(seq)
}

// failoverStall kills the writer while 8 posters keep posting through the followers, and returns
// the longest silence between two answers from the kill on.
func failoverStall(t *testing.T, writer *clusterProc, fol []*clusterProc, tm team) time.Duration {
	t.Helper()
	var mu sync.Mutex
	var answers []time.Time
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for p := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				st, _, err := call(context.Background(), fol[(p+i)%len(fol)].URL, "POST", "/api/chats/"+tm.chat+"/messages", tm.alice,
					map[string]string{"content": fmt.Sprintf("failover %d %d", p, i), "clientId": fmt.Sprintf("failover-%d-%d", p, i)})
				if err == nil && (st == 201 || st == 200) {
					mu.Lock()
					answers = append(answers, time.Now())
					mu.Unlock()
				} else {
					time.Sleep(50 * time.Millisecond) // a client's retry interval
				}
			}
		})
	}
	time.Sleep(time.Second) // posts flowing before the kill: the load under which it happens
	killedAt := time.Now()
	_ = writer.cmd.Process.Signal(syscall.SIGKILL)
	waitUntil(t, "writes to resume after the kill", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, a := range answers {
			if a.After(killedAt.Add(time.Second)) {
				n++
			}
		}
		return n >= 50
	})
	close(stop)
	wg.Wait()
	var stall time.Duration
	prev := killedAt
	for _, a := range answers {
		if a.After(killedAt) {
			stall = max(stall, a.Sub(prev))
			prev = a
		}
	}
	return stall
}
