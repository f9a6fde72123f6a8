package teamserver

import (
	"context"
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
