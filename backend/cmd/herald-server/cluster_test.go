package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/internal/testnet"
)

// clusterProc is one herald-server of a three-node cluster with --nats-embedded.
type clusterProc struct {
	*process
	name, dataDir string
	args          []string
}

// startClusterProcs starts three herald-servers that form a cluster through their embedded NATS
// nodes, all at once (JetStream needs its peers to elect leaders).
func startClusterProcs(t *testing.T, extra ...string) []*clusterProc {
	t.Helper()
	ports := testnet.FreePorts(t, 9) // HTTP, NATS clients, NATS routes
	var routes []string
	for i := range 3 {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[6+i]))
	}
	nodes := make([]*clusterProc, 3)
	for i := range nodes {
		url := fmt.Sprintf("http://127.0.0.1:%d", ports[i])
		nodes[i] = &clusterProc{name: fmt.Sprintf("n%d", i+1), dataDir: t.TempDir(), args: append([]string{
			"--addr", strings.TrimPrefix(url, "http://"), "--node-name", fmt.Sprintf("n%d", i+1), "--advertise", url,
			"--nats-embedded", "--nats-addr", fmt.Sprintf("127.0.0.1:%d", ports[3+i]),
			"--nats-cluster-addr", fmt.Sprintf("127.0.0.1:%d", ports[6+i]), "--nats-routes", strings.Join(routes, ","),
		}, extra...)}
		if os.Getenv("HERALD_CLUSTER_LOGS") == "debug" {
			nodes[i].args = append(nodes[i].args, "--debug")
		}
	}
	errs := make(chan error, len(nodes))
	for _, n := range nodes {
		go func() { errs <- n.start() }()
	}
	for range nodes {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		t.Cleanup(func() {
			if n.process != nil {
				n.kill()
				if t.Failed() || os.Getenv("HERALD_CLUSTER_LOGS") != "" {
					t.Logf("%s logged:\n%s", n.name, heraldLines(n.logText()))
				}
			}
		})
	}
	return nodes
}

func (n *clusterProc) start() error {
	p, err := spawnServer(n.dataDir, n.args...)
	n.process = p
	return err
}

// leads reports whether the node said it took the writer's lease (and did not say it stopped).
func (n *clusterProc) leads() bool {
	logs := n.logText()
	took := strings.LastIndex(logs, "this node is the cluster's writer")
	return took >= 0 && strings.LastIndex(logs, "this node stopped writing") < took
}

// heraldLines keeps Herald's log lines and leaves out the embedded NATS node's.
func heraldLines(logs string) string {
	var keep []string
	for _, l := range strings.Split(logs, "\n") {
		if (!strings.Contains(l, "component=nats") || !strings.Contains(l, "route")) && !strings.Contains(l, "msg=\"stream ") &&
			!strings.Contains(l, "forwarding a write to the writer failed") && !strings.Contains(l, "presence not stored") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// The failover test: three herald-servers, posts spread over all of them by 16 posters,
// SIGKILL of the writer mid-run. Clients of the dead node resume elsewhere; every answered
// message arrives exactly once and in order on every surviving node's streams; a post retried
// by clientId after the failover is not stored twice; the killed node restarts and catches up.
func TestClusterSIGKILLOfTheWriter(t *testing.T) {
	nodes := startClusterProcs(t, "--message-rate", "0")
	waitUntil(t, "a writer", 30*time.Second, func() bool {
		return slices.ContainsFunc(nodes, (*clusterProc).leads)
	})
	wi := slices.IndexFunc(nodes, (*clusterProc).leads)
	writer := nodes[wi]
	// The writer moves the log's and the lease's leaders off its machine (so that its death
	// needs no election of them); the test kills it once it has.
	waitUntil(t, "the streams' leaders to leave the writer's machine", 60*time.Second, func() bool {
		return strings.Contains(writer.logText(), "the log's and the lease's leaders are on other machines")
	})
	var survivors []*clusterProc
	for i, n := range nodes {
		if i != wi {
			survivors = append(survivors, n)
		}
	}
	tm := setupTeam(t, survivors[0].URL) // forwarded to the writer
	streams := map[string]*collector{}
	for _, n := range nodes {
		streams[n.name] = collect(t, n.URL, tm.bob, "")
	}

	const total, posters = 320, 16
	answered := make([]string, total)
	var mu sync.Mutex
	count := 0
	killed := make(chan struct{})
	var killedAt time.Time
	var answerTimes []time.Time // when each answer came, in order
	post := func(base string, i int) bool {
		status, out, err := call(context.Background(), base, "POST", "/api/chats/"+tm.chat+"/messages", tm.alice,
			map[string]string{"content": fmt.Sprint("m", i), "clientId": fmt.Sprint("client-", i)})
		if err != nil || (status != 201 && status != 200) {
			return false // died in flight, or no writer at the moment (503): retried
		}
		mu.Lock()
		defer mu.Unlock()
		if answered[i] != "" && answered[i] != field(out, "message", "id") {
			t.Errorf("post %d answered as %s and as %s: stored twice", i, answered[i], field(out, "message", "id"))
		}
		answered[i] = field(out, "message", "id")
		count++
		answerTimes = append(answerTimes, time.Now())
		select {
		case <-killed:
		default:
			if count == total/2 {
				killedAt = time.Now()
				_ = writer.cmd.Process.Signal(syscall.SIGKILL)
				close(killed)
			}
		}
		return true
	}
	var wg sync.WaitGroup
	for p := range posters {
		wg.Go(func() {
			for i := p; i < total; i += posters {
				deadline := time.Now().Add(40 * time.Second)
				for try := 0; !post(nodes[(p+try)%len(nodes)].URL, i); try++ {
					if time.Now().After(deadline) {
						t.Errorf("post %d never answered", i)
						return
					}
					time.Sleep(50 * time.Millisecond) // a client's retry interval
				}
			}
		})
	}
	wg.Wait()
	<-writer.done
	if t.Failed() {
		t.FailNow()
	}
	for _, n := range survivors {
		if strings.Contains(n.logText(), "panic") {
			t.Errorf("%s panicked:\n%s", n.name, heraldLines(n.logText()))
		}
	}
	// The stall: the longest silence between two answers from the kill on.
	var stall time.Duration
	prev := killedAt
	for _, at := range answerTimes {
		if at.After(killedAt) {
			stall = max(stall, at.Sub(prev))
			prev = at
		}
	}
	t.Logf("the writer %s was killed after %d answers; writes stalled for %v at most", writer.name, total/2, stall.Round(time.Millisecond))
	if stall > 10*time.Second {
		t.Errorf("writes stalled %v after the writer died, want within 10 s", stall)
	}
	want := slices.Clone(answered)
	slices.Sort(want)

	// The dead node's stream ended; its client resumes on a survivor from its last id.
	dead := streams[writer.name]
	<-dead.ended
	before, last := dead.snapshot()
	resumed := collect(t, survivors[1].URL, tm.bob, last)
	check := func(name string, ids []string) {
		t.Helper()
		if !slices.Equal(ids, want) {
			t.Fatalf("%s: %d messages, not exactly the %d answered in id order", name, len(ids), len(want))
		}
	}
	for _, n := range survivors {
		c := streams[n.name]
		waitUntil(t, n.name+"'s stream to carry every message", 30*time.Second, func() bool {
			ids, _ := c.snapshot()
			return len(ids) >= total
		})
		ids, _ := c.snapshot()
		check(n.name+"'s stream", ids)
	}
	waitUntil(t, "the resumed stream to catch up", 30*time.Second, func() bool {
		ids, _ := resumed.snapshot()
		return len(before)+len(ids) >= total
	})
	after, _ := resumed.snapshot()
	check("the dead node's client, resumed on "+survivors[1].name, append(before, after...))

	// The killed node starts again on its data and catches up: its history holds everything.
	writer.process = nil
	if err := writer.start(); err != nil {
		t.Fatal(err)
	}
	back := collect(t, writer.URL, tm.bob, last)
	waitUntil(t, "the restarted node to catch up", 30*time.Second, func() bool {
		ids, _ := back.snapshot()
		return len(ids) >= len(after)
	})
	if ids, _ := back.snapshot(); !slices.Equal(ids, after) {
		t.Fatalf("the restarted node resumed %d messages after %s, want %d", len(ids), last, len(after))
	}
}
