package teamserver_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

// clusterMonitor reads GET /api/admin/monitor's cluster on node n (nil when absent).
func clusterMonitor(t *testing.T, n *clusterNode, token string) *backend.ClusterStatus {
	t.Helper()
	var page struct {
		Cluster *backend.ClusterStatus `json:"cluster"`
	}
	if st := call(t, "GET", n.url+"/api/admin/monitor?limit=1", token, nil, &page); st != 200 {
		t.Fatalf("GET /api/admin/monitor on %s: %d", n.name, st)
	}
	return page.Cluster
}

// nodeNames are the names of the nodes a status lists, in its order.
func nodeNames(s *backend.ClusterStatus) []string {
	var names []string
	for _, n := range s.Nodes {
		names = append(names, n.Name)
	}
	return names
}

// settled reports whether s is node n's view of a cluster of exactly want (names, sorted) in
// which writer writes and nobody lags.
func settled(s *backend.ClusterStatus, n *clusterNode, writer string, want []string) bool {
	if s == nil || s.Node != n.name || s.Writer != writer || s.Lag != 0 || s.AppliedSeq != s.LogSeq || s.LogSeq == 0 ||
		!slices.Equal(nodeNames(s), want) {
		return false
	}
	if (s.Role == backend.RoleWriter) != (n.name == writer) {
		return false
	}
	for _, node := range s.Nodes {
		if node.Lag != 0 || node.AppliedSeq != s.LogSeq || (node.Role == backend.RoleWriter) != (node.Name == writer) {
			return false
		}
	}
	return true
}

// metrics scrapes node n's --metrics-addr handler and returns the herald_cluster_* samples.
func metrics(t *testing.T, n *clusterNode) map[string]float64 {
	t.Helper()
	h := n.srv.MetricsHandler()
	if h == nil {
		t.Fatalf("%s has no metrics handler", n.name)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics on %s: %d", n.name, rec.Code)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(name, "herald_cluster_") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("/metrics on %s: %q", n.name, sc.Text())
		}
		out[name] = v
	}
	return out
}

type clusterTeam struct {
	token, chat string
}

// setUpTeam registers alice (the first account: an admin) and a chat through a follower (or
// through the one node, a single server).
func setUpTeam(t *testing.T, nodes []*clusterNode) clusterTeam {
	t.Helper()
	via := nodes[0]
	if fol := followersOf(nodes); len(fol) > 0 {
		via = fol[0]
	}
	var reg struct {
		Token string `json:"token"`
	}
	if st := call(t, "POST", via.url+"/api/auth/register", "", map[string]string{"username": "alice", "password": "password-alice"}, &reg); st != 201 {
		t.Fatalf("register: %d", st)
	}
	var chat struct {
		Chat struct {
			ID string `json:"id"`
		} `json:"chat"`
	}
	if st := call(t, "POST", via.url+"/api/chats", reg.Token, map[string]any{"name": "general", "memberIds": []string{}}, &chat); st != 201 {
		t.Fatalf("create a chat: %d", st)
	}
	return clusterTeam{token: reg.Token, chat: chat.Chat.ID}
}

func (tm clusterTeam) post(t *testing.T, n *clusterNode, content string) string {
	t.Helper()
	var posted struct {
		Message struct {
			ID string `json:"id"`
		} `json:"message"`
	}
	if st := call(t, "POST", n.url+"/api/chats/"+tm.chat+"/messages", tm.token, map[string]string{"content": content}, &posted); st != 201 {
		t.Fatalf("post through %s: %d", n.name, st)
	}
	return posted.Message.ID
}

// search returns the ids of the messages GET /api/search?q finds on node n.
func (tm clusterTeam) search(t *testing.T, n *clusterNode, q string) []string {
	t.Helper()
	var page struct {
		Results []struct {
			Message struct {
				ID string `json:"id"`
			} `json:"message"`
		} `json:"results"`
	}
	if st := call(t, "GET", n.url+"/api/search?"+url.Values{"q": {q}}.Encode(), tm.token, nil, &page); st != 200 {
		t.Fatalf("search on %s: %d", n.name, st)
	}
	var ids []string
	for _, r := range page.Results {
		ids = append(ids, r.Message.ID)
	}
	return ids
}

// Every node's monitor shows the cluster — the three nodes, the one writer, the log's sequence
// and each node's lag, which comes back to 0 after posts through every node — and its /metrics
// the herald_cluster_* gauges. A message posted through one node is found by search on each.
func TestClusterStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster takes seconds to form")
	}
	nodes := startCluster(t)
	writer := writerOf(nodes).name
	all := []string{"n1", "n2", "n3"}
	tm := setUpTeam(t, nodes)
	for i := range 9 {
		tm.post(t, nodes[i%3], fmt.Sprint("warming up ", i))
	}
	for _, n := range nodes {
		var s *backend.ClusterStatus
		waitUntil(t, 20*time.Second, n.name+"'s monitor to show the cluster settled", func() bool {
			s = clusterMonitor(t, n, tm.token)
			return settled(s, n, writer, all)
		})
		for _, node := range s.Nodes {
			if node.LastSeenAt <= 0 || node.Advertise == "" {
				t.Errorf("%s's view of %s: %+v", n.name, node.Name, node)
			}
		}

		m := metrics(t, n)
		isWriter := 0.0
		if n.name == writer {
			isWriter = 1
		}
		if m["herald_cluster_nodes"] != 3 || m["herald_cluster_writer"] != isWriter || m["herald_cluster_lag"] != 0 ||
			m["herald_cluster_log_seq"] < float64(s.LogSeq) || m["herald_cluster_applied_seq"] != m["herald_cluster_log_seq"] {
			t.Errorf("%s's /metrics: %v (monitor: log %d)", n.name, m, s.LogSeq)
		}
	}
	// The API's own /metrics (admins) is a read: each node answers it itself.
	req, _ := http.NewRequest("GET", followersOf(nodes)[0].url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+tm.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	var writerGauge string
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "herald_cluster_writer "); ok {
			writerGauge = v
		}
	}
	resp.Body.Close()
	if writerGauge != "0" {
		t.Errorf("a follower's /metrics through the API: herald_cluster_writer %q, want 0", writerGauge)
	}

	// Search is each node's own index, fed by the log its store applied.
	for _, via := range nodes {
		word := "zebra" + via.name
		id := tm.post(t, via, "a "+word+" crossing, posted through "+via.name)
		for _, n := range nodes {
			// The node that took the post answers once it applied it; the others apply it soon.
			waitUntil(t, 10*time.Second, fmt.Sprintf("search on %s to find the message posted through %s", n.name, via.name), func() bool {
				return slices.Equal(tm.search(t, n, word), []string{id})
			})
		}
		if got := tm.search(t, via, word); !slices.Equal(got, []string{id}) {
			t.Errorf("search on %s, which took the post: %v", via.name, got)
		}
	}
}

// The writer crashes: the survivors' monitors name the new writer, the dead node ages out of
// them, and their lag comes back to 0 after a post.
func TestClusterStatusAfterWriterCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster takes seconds to form")
	}
	nodes := startCluster(t)
	tm := setUpTeam(t, nodes)
	old := writerOf(nodes)
	for _, n := range nodes {
		waitUntil(t, 20*time.Second, n.name+"'s monitor to show three nodes", func() bool {
			return settled(clusterMonitor(t, n, tm.token), n, old.name, []string{"n1", "n2", "n3"})
		})
	}
	old.crash(t)
	var survivors []string
	for _, n := range nodes {
		if n != old {
			survivors = append(survivors, n.name)
		}
	}
	waitUntil(t, 30*time.Second, "a new writer", func() bool { return writerOf(nodes) != nil })
	nw := writerOf(nodes)
	// A follower may still forward to the dead writer once (503), then reads the lease again.
	waitUntil(t, 20*time.Second, "a post through the surviving follower", func() bool {
		return call(t, "POST", followersOf(nodes)[0].url+"/api/chats/"+tm.chat+"/messages", tm.token,
			map[string]string{"content": "after the crash", "clientId": "after-the-crash"}, nil) < 300
	})
	for _, n := range nodes {
		if n == old {
			continue
		}
		waitUntil(t, 20*time.Second, fmt.Sprintf("%s's monitor to name %s the writer, without %s", n.name, nw.name, old.name), func() bool {
			return settled(clusterMonitor(t, n, tm.token), n, nw.name, survivors)
		})
		if m := metrics(t, n); m["herald_cluster_nodes"] != 2 {
			t.Errorf("%s's /metrics after the crash: %v", n.name, m)
		}
	}
}
