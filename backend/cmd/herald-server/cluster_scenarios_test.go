package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// The follower crash: 100 streams open on one follower while 8 posters write through
// all three nodes; SIGKILL of that follower mid-run. Writes never stop (posts through it move
// on to the others); each of its 100 clients resumes on another node from its Last-Event-ID and
// gets every answered message exactly once, in id order, with no gap; the survivors' streams
// likewise; the killed node restarts and catches up.
func TestClusterSIGKILLOfAFollowerWith100Streams(t *testing.T) {
	nodes := startClusterProcs(t, "--message-rate", "0", "--max-streams-per-user", "0", "--max-conns-per-ip", "0")
	writer := writerOf(t, nodes)
	survivors := without(nodes, writer)
	victim := survivors[0]
	survivors[0] = writer // the writer survives this one
	tm := setupTeam(t, victim.URL)

	const clients = 100
	var onVictim []*collector
	for range clients {
		onVictim = append(onVictim, collect(t, victim.URL, tm.bob, ""))
	}
	streams := streamsOn(t, survivors, tm.bob)

	const total, posters = 240, 8
	var killedAt time.Time
	load := startLoad(t, nodes, tm, total, posters, killAfter(victim.cmd, total/3, &killedAt))
	want := load.wait()
	<-victim.done
	// Every answer after the kill came while the follower was dead: the writes went on.
	if n := load.answersSince(killedAt); n < total-total/3 {
		t.Fatalf("%d posts answered after the follower's death, want the remaining %d", n, total-total/3)
	}
	stall := load.stallSince(killedAt)
	// The follower's embedded NATS node died with it: when it led the log's stream (the writer
	// keeps the leaders off its own machine only), JetStream elects another (~7 s).
	t.Logf("the follower %s was killed after %d answers; writes paused for %v at most", victim.name, total/3, stall.Round(time.Millisecond))
	if stall > 10*time.Second {
		t.Errorf("writes paused %v after a follower died, want within 10 s", stall)
	}

	// Each of the dead node's clients reconnects to one of the others, half to each.
	var last string
	var after []string
	for i, c := range onVictim {
		to := survivors[i%2]
		resumed := resumeElsewhere(t, fmt.Sprintf("client %d of the dead %s, resumed on %s", i, victim.name, to.name), c, to.URL, tm.bob, want)
		if i == 0 {
			_, last = c.snapshot()
			after, _ = resumed.snapshot()
		}
	}
	for _, n := range survivors {
		awaitAll(t, n.name+"'s stream", streams[n.name], want)
	}
	if strings.Contains(writer.logText(), "panic") {
		t.Fatalf("the writer panicked:\n%s", heraldLines(writer.logText()))
	}
	restartAndCatchUp(t, victim, tm.bob, last, after)
}

// The NATS crash: three herald-servers on an external JetStream cluster of three
// nats-servers; SIGKILL of the nats-server that leads the log's stream while 8 posters write
// through all nodes. JetStream elects a new leader and writes resume (the stall is logged); no
// answered message is lost or doubled, and every node's stream carries each exactly once, in id
// order.
func TestClusterSIGKILLOfANATSServer(t *testing.T) {
	c := startClusterOnNATS(t, "--message-rate", "0")
	writer := writerOf(t, c.nodes)
	tm := setupTeam(t, c.nodes[0].URL)
	streams := streamsOn(t, c.nodes, tm.bob)
	logLeader := streamLeader(t, c.nats[0], "HERALD_LOG")
	leaseLeader := streamLeader(t, c.nats[0], "KV_HERALD_LEASE")
	victim := c.nats[slices.IndexFunc(c.nats, func(s *natsProc) bool { return s.name == logLeader })]

	const total, posters = 240, 8
	var killedAt time.Time
	load := startLoad(t, c.nodes, tm, total, posters, killAfter(victim.cmd, total/3, &killedAt))
	want := load.wait()
	<-victim.done
	stall := load.stallSince(killedAt)
	t.Logf("%s (leader of the log; the lease's: %s) was killed after %d answers; writes stalled for %v at most (writer %s)",
		victim.name, leaseLeader, total/3, stall.Round(time.Millisecond), writer.name)
	if stall > 15*time.Second {
		t.Errorf("writes stalled %v after a NATS server died (at %s), want within 15 s (a JetStream election takes ~7 s); slow attempts:\n%s",
			stall, killedAt.Format("15:04:05.000"), load.slowAttempts())
	}
	for _, n := range c.nodes {
		awaitAll(t, n.name+"'s stream", streams[n.name], want)
	}
	if again := streamLeader(t, c.nats[(slices.Index(c.nats, victim)+1)%3], "HERALD_LOG"); again == victim.name {
		t.Fatalf("the log's leader is still the dead %s", victim.name)
	}
}

// The partition of a node, a follower and then the writer: the node is cut off from
// every NATS server (its proxies hold the traffic both ways) while 8 posters write through all
// three nodes, and healed later.
//
// While cut off, the node's streams get nothing new and nothing wrong: they end, so that their
// clients reconnect to a node that is not cut off, and the node refuses new ones (503) rather
// than serve a stale view with no sign of it. The writes through the others go on; a cut-off
// writer stops writing (its lease expires) and another node takes over within 10 s, and nothing
// it answered before the cut is lost. After the heal the node's clients resume on it from their
// Last-Event-ID and get exactly every answered message.
func TestClusterPartitionedNode(t *testing.T) {
	for _, role := range []string{"follower", "writer"} {
		t.Run(role, func(t *testing.T) {
			c := startClusterOnNATS(t, "--message-rate", "0")
			writer := writerOf(t, c.nodes)
			cutOff := without(c.nodes, writer)[0]
			if role == "writer" {
				cutOff = writer
			}
			others := without(c.nodes, cutOff)
			tm := setupTeam(t, others[0].URL)
			streams := streamsOn(t, c.nodes, tm.bob)

			const total, posters = 240, 8
			cut := make(chan time.Time, 1)
			load := startLoad(t, c.nodes, tm, total, posters, func(count int) {
				if count == total/4 {
					c.cut(cutOff)
					cut <- time.Now()
				}
			})
			cutAt := <-cut
			if role == "writer" {
				waitUntil(t, "another node to take over from the cut-off writer", 10*time.Second, func() bool {
					return slices.ContainsFunc(others, (*clusterProc).leads)
				})
				t.Logf("%s took over %v after the writer %s was cut off", writerOf(t, others).name, time.Since(cutAt).Round(time.Millisecond), cutOff.name)
				if cutOff.leads() {
					t.Fatalf("the cut-off %s still says it writes", cutOff.name)
				}
			}
			tookOver := time.Now()
			// The cut-off node's stream ends; what it carried came before the cut.
			s := streams[cutOff.name]
			waitUntil(t, "the cut-off "+cutOff.name+"'s stream to end", 15*time.Second, func() bool { return isDone(s.ended) })
			if at := s.lastArrival(); at.After(cutAt.Add(time.Second)) {
				t.Errorf("the cut-off %s's stream got a message %v after the cut", cutOff.name, at.Sub(cutAt))
			}
			if st, err := streamStatus(cutOff.URL, tm.bob); err != nil || st != 503 {
				t.Errorf("a stream opened on the cut-off %s: %d %v, want 503", cutOff.name, st, err)
			}
			waitUntil(t, "writes through the others to go on", 20*time.Second, func() bool { return load.answersSince(tookOver) >= 20 })

			c.heal(cutOff)
			want := load.wait()
			stall := load.stallSince(cutAt)
			t.Logf("the %s %s was cut off after %d answers; writes stalled for %v at most", role, cutOff.name, total/4, stall.Round(time.Millisecond))
			if stall > 10*time.Second {
				t.Errorf("writes stalled %v after the %s was cut off, want within 10 s", stall, role)
			}
			for _, n := range others {
				awaitAll(t, n.name+"'s stream", streams[n.name], want)
			}
			waitUntil(t, "the healed "+cutOff.name+" to take streams again", 20*time.Second, func() bool {
				st, _ := streamStatus(cutOff.URL, tm.bob)
				return st == 200
			})
			resumeElsewhere(t, "the cut-off node's client, resumed on it after the heal", s, cutOff.URL, tm.bob, want)
		})
	}
}

// streamStatus opens /api/stream on base and returns the status of its answer (the stream, if
// opened, is closed at once).
func streamStatus(base, token string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/stream", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
