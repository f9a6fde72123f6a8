package teamserver_test

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/httpapi"
	"github.com/herald-chat/herald/backend/internal/testwatch"
	"github.com/herald-chat/herald/backend/teamserver"
)

// snapshotEvery10 makes the writer snapshot the store every 10 log entries, looking every 50 ms.
func snapshotEvery10(c *teamserver.Config) {
	c.Cluster.SnapshotEntries = 10
	c.Cluster.SnapshotCheck = 50 * time.Millisecond
}

// postRetrying posts as a client with an outbox does: with a clientId, again after a 503 (a
// stream leader's election after a node stopped holds up writes for a moment), until 201 or
// 20 s; it returns the message's id.
func (tm clusterTeam) postRetrying(t *testing.T, n *clusterNode, content string) string {
	t.Helper()
	var posted struct {
		Message struct {
			ID string `json:"id"`
		} `json:"message"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := call(t, "POST", n.url+"/api/chats/"+tm.chat+"/messages", tm.token, map[string]string{"content": content, "clientId": strings.ReplaceAll(content, " ", "-")}, &posted)
		switch {
		case st == 201:
			return posted.Message.ID
		case st != 503 || time.Now().After(deadline):
			t.Fatalf("post %q through %s: %d", content, n.name, st)
		}
	}
}

// messagesOn returns the contents of the chat's messages, sorted, as node n serves them (pages of
// 200, newest first).
func (tm clusterTeam) messagesOn(t *testing.T, n *clusterNode) []string {
	t.Helper()
	var out []string
	for before := ""; ; {
		var page struct {
			Messages []struct {
				ID      string `json:"id"`
				Content string `json:"content"`
			} `json:"messages"`
			HasMore bool `json:"hasMore"`
		}
		if st := call(t, "GET", n.url+"/api/chats/"+tm.chat+"/messages?limit=200&before="+before, tm.token, nil, &page); st != 200 {
			return nil
		}
		for _, m := range page.Messages {
			out = append(out, m.Content)
		}
		if !page.HasMore || len(page.Messages) == 0 {
			break
		}
		before = slices.MinFunc(page.Messages, func(a, b struct {
			ID      string `json:"id"`
			Content string `json:"content"`
		}) int {
			return cmp.Compare(a.ID, b.ID)
		}).ID
	}
	slices.Sort(out)
	return out
}

// The writer snapshots the store every SnapshotEntries entries and keeps two; the log keeps the
// entries from the older one on. A node that was down while the log moved past its position,
// and a node whose data dir was wiped, start from the newest snapshot and the log after it: they
// serve the whole history, search it (the index is rebuilt), and replay a stream from an id
// older than the truncation exactly.
func TestClusterSnapshotsTruncateTheLog(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster takes seconds to form")
	}
	nodes := startCluster(t, snapshotEvery10)
	tm := setUpTeam(t, nodes)
	writer, fol := writerOf(nodes), followersOf(nodes)
	var posted, want []string
	post := func(via *clusterNode, content string) {
		posted = append(posted, tm.postRetrying(t, via, content))
		want = append(want, content)
	}
	for i := range 40 {
		post(fol[i%2], fmt.Sprint("before ", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var snaps []uint64
	var first uint64
	// The writer looks every 50 ms: posts that outrun it leave fewer snapshots than posts/10,
	// so more posts follow until there are two after the first (at entry 1), and the log is
	// truncated once the writer's term is older than heartbeatExpiry.
	waitUntil(t, 30*time.Second, "two snapshots and a truncated log", func() bool {
		var err error
		snaps, first, err = writer.srv.ClusterSnapshots(ctx)
		if err == nil && len(snaps) == 2 && first > 1 {
			return true
		}
		if err == nil && (len(snaps) < 2 || snaps[0] <= 1) { // the writer's term must age, too (5 s)
			post(fol[0], fmt.Sprint("more before ", len(posted)))
		}
		return false
	})
	if first > snaps[0] || snaps[1] < snaps[0]+10 {
		t.Fatalf("snapshots at %v, log from %d: want snapshots ≥ 10 entries apart and the log holding everything after the older", snaps, first)
	}

	down := fol[1]
	downAt, err := down.srv.Store.LogSeq()
	if err != nil {
		t.Fatal(err)
	}
	down.stop(t)
	// Posts until two snapshots later than the stopped node's position let the log go past it
	// (snapshots are at least 10 entries apart, more when posts outrun the writer's check) —
	// and the writer no longer counts the stopped node as live: at once when its leaving
	// heartbeat arrived, heartbeatExpiry (5 s) after its last one when that was lost with its
	// NATS server's shutdown.
	postingSince := time.Now()
	for i := 0; first <= downAt+1; i++ {
		if time.Since(postingSince) > 40*time.Second {
			t.Fatalf("after %d posts in %v the log still starts at %d (snapshots %v), the stopped node is at %d",
				i, time.Since(postingSince).Round(time.Second), first, snaps, downAt)
		}
		post(fol[0], fmt.Sprint("while down ", i))
		if i%10 == 9 {
			waitUntil(t, 10*time.Second, "the next snapshot", func() bool {
				var err error
				before := snaps
				snaps, first, err = writer.srv.ClusterSnapshots(ctx)
				return err == nil && !slices.Equal(snaps, before)
			})
		}
	}
	down.restart(t, false)
	slices.Sort(want)
	if got := tm.messagesOn(t, down); !slices.Equal(got, want) {
		t.Fatalf("the node that was down serves %d messages, want %d", len(got), len(want))
	}
	waitUntil(t, 30*time.Second, "the restarted node's search to find a message from before the truncation", func() bool {
		return slices.Contains(tm.search(t, down, `"before 3"`), posted[3])
	})
	// A stream on it resumes from an id older than the log's oldest entry: the events are the
	// store's, from the snapshot.
	s := openStream(t, down.url, tm.token, posted[9])
	waitUntil(t, 10*time.Second, "the resumed stream to replay every later message", func() bool {
		ids, _ := s.snapshot()
		return len(ids) >= len(posted)-10
	})
	if ids, _ := s.snapshot(); !slices.Equal(ids, posted[10:]) {
		t.Fatalf("replay from message 10 on the restarted node: %d ids, want the %d after it, in order", len(ids), len(posted)-10)
	}
	post(writer, "after the restart")
	waitUntil(t, 10*time.Second, "the restarted node's stream to carry a new message", func() bool {
		ids, _ := s.snapshot()
		return len(ids) == len(posted)-10 && ids[len(ids)-1] == posted[len(posted)-1]
	})

	wiped := fol[0]
	wiped.restart(t, true)
	slices.Sort(want)
	if got := tm.messagesOn(t, wiped); !slices.Equal(got, want) {
		t.Fatalf("the wiped node serves %d messages, want %d", len(got), len(want))
	}
	for _, n := range nodes {
		select {
		case err := <-n.srv.Failed():
			t.Fatalf("%s failed: %v", n.name, err)
		default:
		}
	}
}

// A single server's store founds a cluster: started together with two empty nodes, its node
// takes the lease (the empty ones wait for its snapshot), and every node serves its accounts and
// history. A store with accounts of its own cannot join a cluster that has entries.
func TestClusterFoundedByASingleServersStore(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster takes seconds to form")
	}
	single, tm, history := singleServerWithHistory(t)
	nodes := startCluster(t, func(c *teamserver.Config) {
		c.Cluster.FoundingGrace = 3 * time.Second
		if c.Cluster.NodeName == "n2" {
			c.DataDir = single
		}
	})
	// Whichever node writes, it writes on top of the founding store (an empty node that took
	// the lease first steps back and starts from its snapshot when it restarts).
	for _, n := range nodes {
		if got := tm.messagesOn(t, n); !slices.Equal(got, history) {
			t.Fatalf("%s serves %d messages of the founding store's %d", n.name, len(got), len(history))
		}
	}
	tm.post(t, nodes[0], "in the cluster")
	want := slices.Sorted(slices.Values(append(slices.Clone(history), "in the cluster")))
	for _, n := range nodes {
		waitUntil(t, 10*time.Second, n.name+" to serve the new message", func() bool { return slices.Equal(tm.messagesOn(t, n), want) })
	}

	other, _, _ := singleServerWithHistory(t)
	n3 := nodes[2]
	n3.stop(t)
	cfg := n3.cfg
	cfg.DataDir = other
	var err error
	testwatch.Within(t, 3*time.Minute, "opening a store with accounts in a cluster with entries", func() {
		var srv *teamserver.Server
		if srv, err = teamserver.Open(cfg); err == nil {
			_ = srv.Shutdown(context.Background())
		}
	})
	if err == nil || !strings.Contains(err.Error(), "another server's store") {
		t.Fatalf("a store with accounts joining a cluster with entries: %v, want it refused as another server's store", err)
	}
}

// singleServerWithHistory runs a single server in a new data dir long enough to register alice,
// make a chat and post 5 messages, and returns the dir, the team and the contents (sorted).
func singleServerWithHistory(t *testing.T) (string, clusterTeam, []string) {
	t.Helper()
	dir := t.TempDir()
	srv, err := teamserver.Open(teamserver.Config{DataDir: dir, Messages: httpapi.Off})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &clusterNode{name: "single", url: "http://" + ln.Addr().String(), ln: ln, srv: srv}
	n.serve()
	tm := setUpTeam(t, []*clusterNode{n})
	var history []string
	for i := range 5 {
		content := fmt.Sprint("single ", i)
		tm.post(t, n, content)
		history = append(history, content)
	}
	n.stop(t)
	slices.Sort(history)
	return dir, tm, history
}
