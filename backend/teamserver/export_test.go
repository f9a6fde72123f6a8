package teamserver

import (
	"context"
	"net/http"
	"time"
)

// Crash stops the server as SIGKILL would, as far as the cluster can tell: its NATS node and
// connection go first, so that it can neither give its lease back nor append, then the rest
// shuts down.
func (s *Server) Crash() {
	if n := s.cluster; n != nil {
		n.nc.Close()
		if n.nats != nil {
			n.nats.Shutdown()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Shutdown(ctx)
}

// StreamLeaders names the NATS servers leading the log's and the lease's streams, and this
// node's own NATS server.
func (s *Server) StreamLeaders(ctx context.Context) (log, lease, self string, err error) {
	n := s.cluster
	for i, name := range []string{n.nlog.StreamName(), n.lease.StreamName()} {
		st, err := n.js.Stream(ctx, name)
		if err != nil {
			return "", "", "", err
		}
		info, err := st.Info(ctx)
		if err != nil {
			return "", "", "", err
		}
		leader := ""
		if info.Cluster != nil {
			leader = info.Cluster.Leader
		}
		if i == 0 {
			log = leader
		} else {
			lease = leader
		}
	}
	return log, lease, n.nats.Name(), nil
}

// ClusterSnapshots returns the log positions of the stored snapshots, oldest first, and the
// number of the log's oldest entry.
func (s *Server) ClusterSnapshots(ctx context.Context) (snaps []uint64, first uint64, err error) {
	n := s.cluster
	stored, err := n.snapshots(ctx)
	if err != nil {
		return nil, 0, err
	}
	for _, sn := range stored {
		snaps = append(snaps, sn.seq)
	}
	first, err = n.nlog.First(ctx)
	return snaps, first, err
}

// SignForward signs req as this node signs a write it forwards for client.
func (s *Server) SignForward(req *http.Request, client string) {
	s.cluster.signForward(req, client, time.Now())
}
