package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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
		nodes[i] = newClusterProc(t, i, ports[i], append([]string{
			"--nats-embedded", "--nats-addr", fmt.Sprintf("127.0.0.1:%d", ports[3+i]),
			"--nats-cluster-addr", fmt.Sprintf("127.0.0.1:%d", ports[6+i]), "--nats-routes", strings.Join(routes, ","),
		}, extra...)...)
	}
	startProcs(t, nodes)
	return nodes
}

// newClusterProc describes node i (named n1, n2, …) listening on port, with the cluster's args.
func newClusterProc(t *testing.T, i, port int, args ...string) *clusterProc {
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	n := &clusterProc{name: fmt.Sprintf("n%d", i+1), dataDir: t.TempDir(), args: append([]string{
		"--addr", strings.TrimPrefix(url, "http://"), "--node-name", fmt.Sprintf("n%d", i+1), "--advertise", url,
	}, args...)}
	if os.Getenv("HERALD_CLUSTER_LOGS") == "debug" {
		n.args = append(n.args, "--debug")
	}
	return n
}

// startProcs starts the nodes all at once and has the test's cleanup kill them (and show their
// logs when it failed, or with HERALD_CLUSTER_LOGS set).
func startProcs(t *testing.T, nodes []*clusterProc) {
	t.Helper()
	errs := make(chan error, len(nodes))
	for _, n := range nodes {
		go func() { errs <- n.start() }()
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
	var failed error
	for range nodes {
		if err := <-errs; err != nil && failed == nil {
			failed = err
		}
	}
	if failed != nil {
		t.Fatal(failed)
	}
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

// postLoad is the scenarios' writers: posters goroutines post total messages to the team's chat,
// post i with clientId client-i, each through the nodes in turn until one answers it (a client
// that retries on another node; 50 ms apart, at most 40 s). It records every answer.
type postLoad struct {
	t        *testing.T
	mu       sync.Mutex
	answered []string    // by post: the message's id
	times    []time.Time // when each answer came, in order
	slow     []string    // attempts that took over slowAttempt: when, where, how they ended
	wg       sync.WaitGroup
}

// slowAttempt is how long a post's attempt may take before the load notes it (slowAttempts), for
// a test that finds writes stalled to say where they waited.
const slowAttempt = 2 * time.Second

// slowAttempts lists the attempts that took over slowAttempt, one per line.
func (l *postLoad) slowAttempts() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.slow, "\n")
}

// startLoad starts the posters; onAnswer, when set, runs after each answer with the number
// answered so far, under the load's lock (keep it short: a kill, a cut).
func startLoad(t *testing.T, nodes []*clusterProc, tm team, total, posters int, onAnswer func(count int)) *postLoad {
	l := &postLoad{t: t, answered: make([]string, total)}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); l.wg.Wait() }) // a test that stopped early stops its posters
	post := func(base string, i int) bool {
		start := time.Now()
		status, out, err := call(ctx, base, "POST", "/api/chats/"+tm.chat+"/messages", tm.alice,
			map[string]string{"content": fmt.Sprint("m", i), "clientId": fmt.Sprint("client-", i)})
		if took := time.Since(start); took > slowAttempt {
			l.mu.Lock()
			l.slow = append(l.slow, fmt.Sprintf("post %d through %s: from %s for %v: %d %v %v",
				i, base, start.Format("15:04:05.000"), took.Round(time.Millisecond), status, err, out["error"]))
			l.mu.Unlock()
		}
		if err != nil || (status != 201 && status != 200) {
			return false // died in flight, or no writer at the moment (503): retried
		}
		id := field(out, "message", "id")
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.answered[i] != "" && l.answered[i] != id {
			t.Errorf("post %d answered as %s and as %s: stored twice", i, l.answered[i], id)
		}
		l.answered[i] = id
		l.times = append(l.times, time.Now())
		if onAnswer != nil {
			onAnswer(len(l.times))
		}
		return true
	}
	for p := range posters {
		l.wg.Go(func() {
			for i := p; i < total; i += posters {
				deadline := time.Now().Add(40 * time.Second)
				for try := 0; !post(nodes[(p+i+try)%len(nodes)].URL, i); try++ {
					if ctx.Err() != nil {
						return
					}
					if time.Now().After(deadline) {
						t.Errorf("post %d never answered", i)
						return
					}
					time.Sleep(50 * time.Millisecond) // a client's retry interval
				}
			}
		})
	}
	return l
}

// answersSince is how many posts were answered after at.
func (l *postLoad) answersSince(at time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, a := range l.times {
		if a.After(at) {
			n++
		}
	}
	return n
}

// wait waits for every post to be answered and returns the answered ids in id order (the order
// every stream must carry them in); the test stops if a post was never answered.
func (l *postLoad) wait() []string {
	l.t.Helper()
	l.wg.Wait()
	if l.t.Failed() {
		l.t.FailNow()
	}
	want := slices.Clone(l.answered)
	slices.Sort(want)
	return want
}

// stallSince is the longest silence between two answers from at on (at counts as an answer).
func (l *postLoad) stallSince(at time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var stall time.Duration
	prev := at
	for _, a := range l.times {
		if a.After(at) {
			stall = max(stall, a.Sub(prev))
			prev = a
		}
	}
	return stall
}

// checkExact fails the test unless ids are exactly want: every answered message once, in id
// order, nothing else.
func checkExact(t *testing.T, name string, ids, want []string) {
	t.Helper()
	if slices.Equal(ids, want) {
		return
	}
	i := 0
	for i < len(ids) && i < len(want) && ids[i] == want[i] {
		i++
	}
	var at string
	switch {
	case i < len(ids) && i < len(want):
		at = fmt.Sprintf("at %d it has %s where %s was due", i, ids[i], want[i])
	case i < len(ids):
		at = fmt.Sprintf("%d more after the last answered one, first %s", len(ids)-i, ids[i])
	default:
		at = fmt.Sprintf("it stops at %d, before %s", i, want[i])
	}
	t.Fatalf("%s: %d messages, not exactly the %d answered in id order: %s", name, len(ids), len(want), at)
}

// awaitAll waits until c carried n messages (or its stream ended short of them) and checks that
// they are exactly want.
func awaitAll(t *testing.T, name string, c *collector, want []string) {
	t.Helper()
	waitUntil(t, name+" to carry every message", 30*time.Second, func() bool {
		ids, _ := c.snapshot()
		return len(ids) >= len(want) || isDone(c.ended)
	})
	ids, _ := c.snapshot()
	checkExact(t, name, ids, want)
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// resumeElsewhere waits for c's stream to end (its node died) and resumes it on base from the
// last id it received, as the client would; it checks that what c received before and what the
// resumed stream brings are exactly want, and returns the resumed stream.
func resumeElsewhere(t *testing.T, name string, c *collector, base, token string, want []string) *collector {
	t.Helper()
	select {
	case <-c.ended:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: the stream did not end with its node", name)
	}
	before, last := c.snapshot()
	resumed := collect(t, base, token, last)
	waitUntil(t, name+" to catch up", 30*time.Second, func() bool {
		ids, _ := resumed.snapshot()
		return len(before)+len(ids) >= len(want)
	})
	after, _ := resumed.snapshot()
	checkExact(t, name, append(before, after...), want)
	return resumed
}

// writerOf waits for one of nodes to say it writes and returns it.
func writerOf(t *testing.T, nodes []*clusterProc) *clusterProc {
	t.Helper()
	waitUntil(t, "a writer", 30*time.Second, func() bool { return slices.ContainsFunc(nodes, (*clusterProc).leads) })
	return nodes[slices.IndexFunc(nodes, (*clusterProc).leads)]
}

// without is nodes less n.
func without(nodes []*clusterProc, n *clusterProc) []*clusterProc {
	return slices.DeleteFunc(slices.Clone(nodes), func(m *clusterProc) bool { return m == n })
}

// The failover test: three herald-servers, posts spread over all of them by 16 posters,
// SIGKILL of the writer mid-run. Clients of the dead node resume elsewhere; every answered
// message arrives exactly once and in order on every surviving node's streams; a post retried
// by clientId after the failover is not stored twice; the killed node restarts and catches up.
func TestClusterSIGKILLOfTheWriter(t *testing.T) {
	nodes := startClusterProcs(t, "--message-rate", "0")
	writer := writerOf(t, nodes)
	// The writer moves the log's and the lease's leaders off its machine (so that its death
	// needs no election of them); the test kills it once it has.
	waitUntil(t, "the streams' leaders to leave the writer's machine", 60*time.Second, func() bool {
		return strings.Contains(writer.logText(), "the log's and the lease's leaders are on other machines")
	})
	survivors := without(nodes, writer)
	tm := setupTeam(t, survivors[0].URL) // forwarded to the writer
	streams := streamsOn(t, nodes, tm.bob)

	const total, posters = 320, 16
	var killedAt time.Time
	load := startLoad(t, nodes, tm, total, posters, killAfter(writer.cmd, total/2, &killedAt))
	want := load.wait()
	<-writer.done
	for _, n := range survivors {
		if strings.Contains(n.logText(), "panic") {
			t.Errorf("%s panicked:\n%s", n.name, heraldLines(n.logText()))
		}
	}
	stall := load.stallSince(killedAt)
	t.Logf("the writer %s was killed after %d answers; writes stalled for %v at most", writer.name, total/2, stall.Round(time.Millisecond))
	if stall > 10*time.Second {
		t.Errorf("writes stalled %v after the writer died, want within 10 s", stall)
	}

	// The dead node's stream ended; its client resumes on a survivor from its last id.
	_, last := streams[writer.name].snapshot()
	resumed := resumeElsewhere(t, "the dead node's client, resumed on "+survivors[1].name, streams[writer.name], survivors[1].URL, tm.bob, want)
	for _, n := range survivors {
		awaitAll(t, n.name+"'s stream", streams[n.name], want)
	}

	// The killed node starts again on its data and catches up: its history holds everything.
	after, _ := resumed.snapshot()
	restartAndCatchUp(t, writer, tm.bob, last, after)
}

// streamsOn opens a stream of token's user on each node, by node name.
func streamsOn(t *testing.T, nodes []*clusterProc, token string) map[string]*collector {
	streams := map[string]*collector{}
	for _, n := range nodes {
		streams[n.name] = collect(t, n.URL, token, "")
	}
	return streams
}

// killAfter is a load's onAnswer that SIGKILLs the process once count posts were answered, and
// sets *at to that moment.
func killAfter(p *exec.Cmd, count int, at *time.Time) func(int) {
	return func(answered int) {
		if answered == count {
			*at = time.Now()
			_ = p.Process.Signal(syscall.SIGKILL)
		}
	}
}

// restartAndCatchUp starts the killed node n again on its data and checks that a stream resuming
// there from last brings exactly after.
func restartAndCatchUp(t *testing.T, n *clusterProc, token, last string, after []string) {
	t.Helper()
	n.process = nil
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	awaitAll(t, "the restarted "+n.name+"'s stream resuming from "+last, collect(t, n.URL, token, last), after)
}
