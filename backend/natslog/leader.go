package natslog

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// MoveLeaderOff asks the JetStream stream's leader to step down if it is the NATS server named
// server. It reports whether the leader is known to be elsewhere now: false when it asked (the
// election takes a moment: ask again to know) or when the stream has no leader or no other
// replica yet. A writer calls it for the log and the lease with its own embedded NATS node's
// name: when the writer's machine dies, the streams then need no election (~7 s) before another
// node can take the lease and append — their leaders were elsewhere. Stepping down costs the
// stream a moment's pause, not data.
func MoveLeaderOff(ctx context.Context, js jetstream.JetStream, stream, server string) (bool, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return false, fmt.Errorf("stream %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return false, fmt.Errorf("stream %s: %w", stream, err)
	}
	if info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) == 0 {
		return false, nil
	}
	if info.Cluster.Leader != server {
		return true, nil
	}
	timeout := 2 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	msg, err := js.Conn().Request(fmt.Sprintf("$JS.API.STREAM.LEADER.STEPDOWN.%s", stream), nil, timeout)
	if err != nil {
		return false, fmt.Errorf("step down the leader of %s: %w", stream, err)
	}
	var resp struct {
		Error *struct {
			Description string `json:"description"`
		} `json:"error"`
	}
	if json.Unmarshal(msg.Data, &resp) == nil && resp.Error != nil {
		return false, fmt.Errorf("step down the leader of %s: %s", stream, resp.Error.Description)
	}
	return false, nil
}

// StreamName is the log's stream.
func (l *Log) StreamName() string { return l.cfg.Stream }

// StreamName is the JetStream stream behind the lease's bucket.
func (l *Lease) StreamName() string { return "KV_" + l.bucket }
