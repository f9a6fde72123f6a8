package main

import (
	"fmt"
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
	load := startLoad(t, nodes, tm, total, posters, killAfter(victim, total/3, &killedAt))
	want := load.wait()
	<-victim.done
	// Every answer after the kill came while the follower was dead: the writes went on.
	if n := load.answersSince(killedAt); n < total-total/3 {
		t.Fatalf("%d posts answered after the follower's death, want the remaining %d", n, total-total/3)
	}
	stall := load.stallSince(killedAt)
	t.Logf("the follower %s was killed after %d answers; writes paused for %v at most", victim.name, total/3, stall.Round(time.Millisecond))
	if stall > 2*time.Second {
		t.Errorf("writes paused %v after a follower died, want no stall (under 2 s)", stall)
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
