package teamserver

import (
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

// view: the log is at least what anyone applied, lag is counted from it, and a node unheard of
// for longer than heartbeatExpiry is forgotten.
func TestClusterView(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	s := &clusterStatus{logSeq: 10, peers: map[string]peer{
		"n2": {hb: heartbeat{Node: "n2", Role: backend.RoleWriter, AppliedSeq: 12}, seen: now.Add(-time.Second)},
		"n3": {hb: heartbeat{Node: "n3", Role: backend.RoleReplica, AppliedSeq: 4}, seen: now.Add(-heartbeatExpiry)},
		"n4": {hb: heartbeat{Node: "n4", Role: backend.RoleReplica, AppliedSeq: 1}, seen: now.Add(-heartbeatExpiry - time.Millisecond)},
	}}
	v := s.view(heartbeat{Node: "n1", Role: backend.RoleReplica, AppliedSeq: 9}, "n2", now)
	if v.Node != "n1" || v.Writer != "n2" || v.LogSeq != 12 || v.AppliedSeq != 9 || v.Lag != 3 {
		t.Fatalf("view: %+v", v)
	}
	want := []backend.ClusterNode{
		{Name: "n1", Role: backend.RoleReplica, AppliedSeq: 9, Lag: 3, LastSeenAt: now.UnixMilli()},
		{Name: "n2", Role: backend.RoleWriter, AppliedSeq: 12, Lag: 0, LastSeenAt: now.Add(-time.Second).UnixMilli()},
		{Name: "n3", Role: backend.RoleReplica, AppliedSeq: 4, Lag: 8, LastSeenAt: now.Add(-heartbeatExpiry).UnixMilli()},
	}
	if len(v.Nodes) != len(want) {
		t.Fatalf("nodes: %+v", v.Nodes)
	}
	for i := range want {
		if v.Nodes[i] != want[i] {
			t.Errorf("node %d: %+v, want %+v", i, v.Nodes[i], want[i])
		}
	}
	if _, ok := s.peers["n4"]; ok {
		t.Error("a node past heartbeatExpiry is still remembered")
	}
}
