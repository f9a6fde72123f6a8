package teamserver_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/teamserver"
)

// testGrace is the presence grace of the presence tests' clusters: short, yet longer than a
// status change takes to cross the cluster, so that "still online" means something.
const testGrace = 700 * time.Millisecond

// withGrace sets the presence grace of a cluster's nodes.
func withGrace(d time.Duration) func(*teamserver.Config) {
	return func(c *teamserver.Config) { c.PresenceGrace = d }
}

// member is an account of a presence test.
type member struct {
	id, token string
}

// presenceTeam registers alice (through one follower) and bob (through the writer, with
// alice's invite), who share a chat: each hears of the other's status.
func presenceTeam(t *testing.T, nodes []*clusterNode) (alice, bob member) {
	t.Helper()
	w, fol := writerOf(nodes), followersOf(nodes)
	type auth struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	var a, b auth
	if st := call(t, "POST", fol[0].url+"/api/auth/register", "", map[string]string{"username": "alice", "password": "password-alice"}, &a); st != 201 {
		t.Fatalf("register alice: %d", st)
	}
	var inv struct {
		Code string `json:"code"`
	}
	if st := call(t, "POST", fol[1].url+"/api/invites", a.Token, map[string]any{}, &inv); st != 201 {
		t.Fatalf("create an invite: %d", st)
	}
	if st := call(t, "POST", w.url+"/api/auth/register", "", map[string]string{"username": "bob", "password": "password-bob", "inviteCode": inv.Code}, &b); st != 201 {
		t.Fatalf("register bob: %d", st)
	}
	if st := call(t, "POST", fol[0].url+"/api/chats", a.Token, map[string]any{"name": "general", "memberIds": []string{b.User.ID}}, nil); st != 201 {
		t.Fatalf("create a chat: %d", st)
	}
	return member{a.User.ID, a.Token}, member{b.User.ID, b.Token}
}

// statusOn is userID's status as node n's people directory (GET /api/users) shows it.
func statusOn(t *testing.T, n *clusterNode, token, userID string) string {
	t.Helper()
	var dir struct {
		Users []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Online bool   `json:"online"`
		} `json:"users"`
	}
	if st := call(t, "GET", n.url+"/api/users", token, nil, &dir); st != 200 {
		t.Fatalf("GET /api/users on %s: %d", n.name, st)
	}
	for _, u := range dir.Users {
		if u.ID == userID {
			if u.Status == "" {
				return "offline"
			}
			return u.Status
		}
	}
	t.Fatalf("%s is not in %s's directory", userID, n.name)
	return ""
}

// everywhere reports whether every running node shows userID with status want.
func everywhere(t *testing.T, nodes []*clusterNode, token, userID, want string) func() bool {
	return func() bool {
		for _, n := range nodes {
			if n.srv != nil && statusOn(t, n, token, userID) != want {
				return false
			}
		}
		return true
	}
}

// holds fails the test unless cond stays true for d (a condition that must not change, which
// no event announces: polled).
func holds(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if !cond() {
			t.Fatalf("%s did not hold for %v", what, d)
		}
	}
}

func (s *stream) statusChanges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.statuses)
}

// A member is online while any node holds a stream of theirs, everywhere: a stream on a
// follower shows on every node and reaches a stream on another node as AGENT_STATUS_CHANGED;
// away reports cross nodes; closing one of two streams on different nodes keeps them online;
// closing the last takes them offline after the grace, on every node.
func TestClusterPresenceAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster takes seconds to form")
	}
	nodes := startCluster(t, withGrace(testGrace))
	w, fol := writerOf(nodes), followersOf(nodes)
	alice, bob := presenceTeam(t, nodes)
	watcher := openStream(t, w.url, bob.token, "") // bob, on the writer, hears of alice

	start := time.Now()
	s1 := openStream(t, fol[0].url, alice.token, "")
	waitUntil(t, 10*time.Second, "alice's stream on a follower to show her online on every node", everywhere(t, nodes, bob.token, alice.id, "online"))
	waitUntil(t, 10*time.Second, "bob's stream on the writer to hear alice is online", func() bool {
		return slices.Contains(watcher.statusChanges(), alice.id+":online")
	})
	t.Logf("online everywhere %v after a stream opened on a follower", time.Since(start).Round(time.Millisecond))

	// A second stream, on the other follower; an away report through it (forwarded to the
	// writer) shows everywhere, and another stream that opens ends it, as on a single server.
	s2 := openStream(t, fol[1].url, alice.token, "")
	// A stream reaches the writer's view through NATS, after it opened: one that counts after
	// the away report would end it (a stream opening ends away), as on a single server.
	waitUntil(t, 10*time.Second, "the writer to count alice's streams on two nodes", func() bool { return w.srv.PresenceHolders(alice.id) == 2 })
	var answer struct {
		Status string `json:"status"`
	}
	if st := call(t, "PUT", fol[1].url+"/api/me/presence", alice.token, map[string]bool{"away": true}, &answer); st != 200 || answer.Status != "away" {
		t.Fatalf("PUT /api/me/presence away through a follower: %d %q", st, answer.Status)
	}
	waitUntil(t, 10*time.Second, "alice away on every node", everywhere(t, nodes, bob.token, alice.id, "away"))
	s3 := openStream(t, fol[0].url, alice.token, "") // a second stream on a node that holds one
	waitUntil(t, 10*time.Second, "a stream that opens to end alice's away everywhere", everywhere(t, nodes, bob.token, alice.id, "online"))
	s3.close()

	// Her streams on fol[0] close; the one on fol[1] keeps her online past the grace.
	s1.close()
	waitUntil(t, 10*time.Second, "the writer to count alice's stream on one node", func() bool { return w.srv.PresenceHolders(alice.id) == 1 })
	holds(t, 3*testGrace, "alice online everywhere while a stream of hers is open on another node", everywhere(t, nodes, bob.token, alice.id, "online"))

	closed := time.Now()
	s2.close()
	waitUntil(t, testGrace+10*time.Second, "alice offline everywhere after her last stream closed", everywhere(t, nodes, bob.token, alice.id, "offline"))
	took := time.Since(closed)
	t.Logf("offline everywhere %v after the last stream closed (grace %v)", took.Round(time.Millisecond), testGrace)
	if took < testGrace {
		t.Fatalf("offline %v after the last stream closed, before the grace of %v", took, testGrace)
	}
	want := []string{alice.id + ":online", alice.id + ":away", alice.id + ":online", alice.id + ":offline"}
	waitUntil(t, 10*time.Second, "bob's stream to hear alice go offline", func() bool {
		return slices.Contains(watcher.statusChanges(), alice.id+":offline")
	})
	var heard []string
	for _, c := range watcher.statusChanges() {
		if c[:len(alice.id)] == alice.id {
			heard = append(heard, c)
		}
	}
	if !slices.Equal(heard, want) {
		t.Fatalf("bob heard %v of alice, want %v", heard, want)
	}
}

// A follower dies as SIGKILL would (no goodbye to NATS): its members' streams stop counting
// within the presence TTL, and they go offline a grace later; a member with a stream on a
// survivor stays online.
func TestClusterPresenceFollowerCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster takes seconds to form")
	}
	nodes := startCluster(t, withGrace(testGrace))
	w, fol := writerOf(nodes), followersOf(nodes)
	alice, bob := presenceTeam(t, nodes)
	openStream(t, fol[0].url, alice.token, "")
	openStream(t, w.url, bob.token, "")
	waitUntil(t, 10*time.Second, "alice online everywhere", everywhere(t, nodes, bob.token, alice.id, "online"))
	waitUntil(t, 10*time.Second, "bob online everywhere", everywhere(t, nodes, alice.token, bob.id, "online"))

	crashed := time.Now()
	fol[0].crash(t)
	// The bound: the presence TTL (twice the 2 s lease), a check, the grace; slack for -race.
	bound := 4*time.Second + 250*time.Millisecond + testGrace + 6*time.Second
	waitUntil(t, bound, "alice offline on the survivors after her node died", everywhere(t, nodes, bob.token, alice.id, "offline"))
	t.Logf("offline %v after the node holding her stream died (TTL 4 s, grace %v)", time.Since(crashed).Round(time.Millisecond), testGrace)
	if got := statusOn(t, w, bob.token, bob.id); got != "online" {
		t.Fatalf("bob, whose stream is on a survivor: %s", got)
	}
}

// The writer dies: the new writer settles the statuses — a member only the dead node held goes
// offline, one with a stream on a survivor stays online — and writes statuses from then on.
func TestClusterPresenceWriterCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster takes seconds to form")
	}
	nodes := startCluster(t, withGrace(testGrace))
	w, fol := writerOf(nodes), followersOf(nodes)
	alice, bob := presenceTeam(t, nodes)
	openStream(t, w.url, alice.token, "")
	openStream(t, fol[0].url, bob.token, "")
	waitUntil(t, 10*time.Second, "alice online everywhere", everywhere(t, nodes, bob.token, alice.id, "online"))
	waitUntil(t, 10*time.Second, "bob online everywhere", everywhere(t, nodes, alice.token, bob.id, "online"))

	crashed := time.Now()
	w.crash(t)
	waitUntil(t, 30*time.Second, "a new writer", func() bool { return writerOf(nodes) != nil })
	took := time.Since(crashed)
	waitUntil(t, 20*time.Second, "alice, whom only the dead writer held, offline on the survivors", everywhere(t, nodes, bob.token, alice.id, "offline"))
	t.Logf("new writer %v after the writer died; alice offline %v after it", took.Round(time.Millisecond), time.Since(crashed).Round(time.Millisecond))
	if got := statusOn(t, fol[1], alice.token, bob.id); got != "online" {
		t.Fatalf("bob, whose stream is on a survivor: %s", got)
	}
	// The new writer writes presence: alice comes back on the other survivor.
	openStream(t, fol[1].url, alice.token, "")
	waitUntil(t, 10*time.Second, fmt.Sprintf("alice online again through %s", fol[1].name), everywhere(t, nodes, bob.token, alice.id, "online"))
}
