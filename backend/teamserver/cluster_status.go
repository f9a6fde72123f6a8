package teamserver

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/nats-io/nats.go"
)

// The cluster's heartbeat: every node says who it is, what it does and how far it has applied
// the log on subjectHeartbeat every heartbeatEvery, so that each node's monitor can show the
// whole cluster. Plain NATS, not the log: a heartbeat missed is one of many.
const (
	subjectHeartbeat = "herald.cluster.heartbeat"
	heartbeatEvery   = time.Second
	// heartbeatExpiry is how long a node stays in the status after its last heartbeat: a node
	// that stopped (or lost NATS) ages out after it.
	heartbeatExpiry = 5 * time.Second
	// cutOffAfter is how long a node that neither hears another node's heartbeat nor can read
	// the log waits before it takes itself for cut off from the cluster (a partition, or NATS
	// gone): it then ends its streams and refuses new ones and writes (cluster.go) until it
	// hears from the cluster again. A JetStream election alone (the log unreadable for ~7 s)
	// does not cut a node off: the heartbeats, plain NATS, still arrive.
	cutOffAfter = heartbeatExpiry
)

// heartbeat is one node's message on subjectHeartbeat.
type heartbeat struct {
	Node       string              `json:"node"`
	Advertise  string              `json:"advertise"`
	Role       backend.ClusterRole `json:"role"`
	AppliedSeq uint64              `json:"appliedSeq"`
	// Founding: this node's store has accounts and is to found a cluster whose log is empty
	// (defersFounding).
	Founding bool `json:"founding,omitempty"`
	// Leaving: the node is shutting down; the others forget it at once rather than after
	// heartbeatExpiry (the monitor, and the writer's truncation of the log, see prune).
	Leaving bool `json:"leaving,omitempty"`
}

// clusterStatus keeps this node's view of the cluster: the other nodes' last heartbeats and the
// log's newest entry, both refreshed every heartbeatEvery by its loop, which also sends this
// node's heartbeat. report assembles the view from them and this node's own state.
type clusterStatus struct {
	n   *node
	now func() time.Time

	mu     sync.Mutex
	peers  map[string]peer // by node name, this node excluded
	logSeq uint64          // the log's newest entry when the loop last read it
	heard  time.Time       // when the loop last read the log, or heard another node

	sub  *nats.Subscription
	stop context.CancelFunc
	done chan struct{}

	// The follow loop's watch (checkFollowing, the loop's alone): the applied position last
	// seen behind the log, and since when it has not moved.
	behindAt    uint64
	behindSince time.Time
	pulling     atomic.Bool // a pull of checkFollowing's is under way
}

// followStallAfter is how long a follower's applied position may stay behind the log's newest
// entry without moving before the node reads the missing entries directly and starts its follow
// loop again: an ordered consumer that stopped delivering (its NATS server died) without an
// error would leave its streams silent.
const followStallAfter = 3 * time.Second

type peer struct {
	hb   heartbeat
	seen time.Time
}

// startStatus subscribes to the heartbeats and starts the loop that sends this node's; close
// stops both.
func startStatus(n *node) (*clusterStatus, error) {
	s := &clusterStatus{n: n, now: time.Now, peers: map[string]peer{}, done: make(chan struct{}), heard: time.Now()}
	var err error
	if s.sub, err = n.nc.Subscribe(subjectHeartbeat, s.receive); err != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", subjectHeartbeat, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go s.loop(ctx)
	return s, nil
}

func (s *clusterStatus) receive(m *nats.Msg) {
	var hb heartbeat
	if err := json.Unmarshal(m.Data, &hb); err != nil || hb.Node == "" {
		s.n.log.Debug("a heartbeat from the cluster could not be read", "err", err)
		return
	}
	if hb.Node == s.n.cfg.NodeName {
		return // report reads this node's state first-hand
	}
	s.mu.Lock()
	if hb.Leaving {
		delete(s.peers, hb.Node)
	} else {
		s.peers[hb.Node] = peer{hb: hb, seen: s.now()}
	}
	s.heard = s.now()
	s.mu.Unlock()
}

// loop sends this node's heartbeat and reads the log's newest entry every heartbeatEvery,
// until ctx ends. A read that fails (NATS is electing, or gone) keeps the last value.
func (s *clusterStatus) loop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		s.beat()
		rctx, cancel := context.WithTimeout(ctx, heartbeatEvery)
		last, err := s.n.nlog.Last(rctx)
		cancel()
		if err == nil {
			s.mu.Lock()
			s.logSeq = max(s.logSeq, last)
			s.heard = s.now()
			s.mu.Unlock()
			s.checkFollowing(ctx, last)
		} else if ctx.Err() == nil {
			s.n.log.Debug("the log's last entry could not be read", "err", err)
		}
		s.checkCutOff()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkFollowing restarts a follow loop that stopped applying while the log has more: after
// followStallAfter without progress it pulls up to last (bounded by heartbeatExpiry) and has
// the role loop follow again from the new position.
func (s *clusterStatus) checkFollowing(ctx context.Context, last uint64) {
	applied, err := s.n.store.LogSeq()
	if err != nil || s.n.leading.Load() || applied >= last || applied != s.behindAt {
		s.behindAt, s.behindSince = applied, s.now()
		return
	}
	if s.now().Sub(s.behindSince) < followStallAfter {
		return
	}
	if !s.pulling.CompareAndSwap(false, true) {
		return // the last one is still reading
	}
	s.n.log.Warn("the follow loop stopped applying the log: reading the entries directly and following again",
		"applied", applied, "log_seq", last, "for", s.now().Sub(s.behindSince).Round(time.Millisecond))
	s.behindAt, s.behindSince = 0, s.now()
	select {
	case s.n.refollow <- struct{}{}:
	default: // one is pending
	}
	// Not on the loop: its heartbeats must go on meanwhile.
	go func() {
		defer s.pulling.Store(false)
		pctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := s.n.pull(pctx, last); err != nil && ctx.Err() == nil {
			s.n.log.Warn("reading the log's entries directly failed", "err", err)
		}
	}()
}

// checkCutOff tells the node's streams whether it is cut off from the cluster: nothing heard
// (no log read, no other node's heartbeat) for cutOffAfter.
func (s *clusterStatus) checkCutOff() {
	s.mu.Lock()
	silent := s.now().Sub(s.heard)
	s.mu.Unlock()
	cut := silent > cutOffAfter
	if !s.n.iso.set(cut) {
		return
	}
	if cut {
		s.n.log.Warn("this node is cut off from the cluster: it ends its streams and refuses new ones and writes until it hears from the cluster again",
			"silent", silent.Round(time.Millisecond))
	} else {
		s.n.log.Info("this node hears from the cluster again: it takes streams and writes")
	}
}

// beat sends this node's heartbeat.
func (s *clusterStatus) beat() {
	applied, _ := s.n.store.LogSeq()
	data, _ := json.Marshal(heartbeat{Node: s.n.cfg.NodeName, Advertise: s.n.cfg.Advertise, Role: s.n.role(), AppliedSeq: applied,
		Founding: s.n.foundsWithData.Load()})
	if err := s.n.nc.Publish(subjectHeartbeat, data); err != nil {
		s.n.log.Debug("the heartbeat could not be sent", "err", err)
	}
}

// report is the node's view of the cluster now (monitor.SetCluster).
func (s *clusterStatus) report() *backend.ClusterStatus {
	applied, err := s.n.store.LogSeq()
	if err != nil {
		s.n.log.Warn("the store's log position could not be read", "err", err)
	}
	var writer string
	if w := s.n.writer.Load(); w != nil {
		writer = w.Node
	}
	self := heartbeat{Node: s.n.cfg.NodeName, Advertise: s.n.cfg.Advertise, Role: s.n.role(), AppliedSeq: applied}
	return s.view(self, writer, s.now())
}

// live returns the last heartbeats of the other nodes heard from within heartbeatExpiry.
func (s *clusterStatus) live() []heartbeat {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []heartbeat
	for _, p := range s.peers {
		if now.Sub(p.seen) <= heartbeatExpiry {
			out = append(out, p.hb)
		}
	}
	return out
}

// view assembles the status from self, the writer's name and the peers heard from within
// heartbeatExpiry of now; peers heard of before that are forgotten.
func (s *clusterStatus) view(self heartbeat, writer string, now time.Time) *backend.ClusterStatus {
	s.mu.Lock()
	// The log holds at least what any node applied: a read a heartbeat old may be behind.
	logSeq := max(s.logSeq, self.AppliedSeq)
	nodes := []backend.ClusterNode{{Name: self.Node, Advertise: self.Advertise, Role: self.Role, AppliedSeq: self.AppliedSeq, LastSeenAt: now.UnixMilli()}}
	for name, p := range s.peers {
		if now.Sub(p.seen) > heartbeatExpiry {
			delete(s.peers, name)
			continue
		}
		logSeq = max(logSeq, p.hb.AppliedSeq)
		nodes = append(nodes, backend.ClusterNode{Name: p.hb.Node, Advertise: p.hb.Advertise, Role: p.hb.Role, AppliedSeq: p.hb.AppliedSeq,
			LastSeenAt: p.seen.UnixMilli()})
	}
	s.mu.Unlock()
	for i := range nodes {
		nodes[i].Lag = logSeq - nodes[i].AppliedSeq
	}
	slices.SortFunc(nodes, func(a, b backend.ClusterNode) int { return cmp.Compare(a.Name, b.Name) })
	return &backend.ClusterStatus{Node: self.Node, Role: self.Role, Writer: writer, LogSeq: logSeq, AppliedSeq: self.AppliedSeq,
		Lag: logSeq - self.AppliedSeq, Nodes: nodes}
}

func (s *clusterStatus) close() {
	s.stop()
	<-s.done
	_ = s.sub.Unsubscribe()
	data, _ := json.Marshal(heartbeat{Node: s.n.cfg.NodeName, Advertise: s.n.cfg.Advertise, Leaving: true})
	if err := s.n.nc.Publish(subjectHeartbeat, data); err == nil {
		_ = s.n.nc.Flush() // before the connection drains and closes
	}
}

// role is what this node does now.
func (n *node) role() backend.ClusterRole {
	if n.leading.Load() {
		return backend.RoleWriter
	}
	return backend.RoleReplica
}
