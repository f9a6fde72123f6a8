package teamserver

import (
	"context"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
	"github.com/herald-chat/herald/backend/presence"
)

// Presence turns members' streams into their statuses: a presence.Tracker on a single server,
// a clusterPresence on a cluster node. Close stops it; statuses stay as stored.
type Presence interface {
	backend.Presence
	Close()
}

// openPresence starts the server's Presence: a single server's Tracker settles the statuses a
// previous run left; a cluster node's reports its streams to the cluster (at most
// clusterStartTimeout to open its bucket). Nothing of NATS runs without a cluster.
func openPresence(cfg Config, cluster *node, store *bolt.Store) (Presence, error) {
	if cluster == nil {
		t := presence.New(store, cfg.PresenceGrace, cfg.Logger)
		if err := t.Start(context.Background()); err != nil {
			t.Close()
			return nil, err
		}
		return t, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterStartTimeout)
	defer cancel()
	var ttl time.Duration
	if cfg.Cluster != nil {
		ttl = cfg.Cluster.PresenceTTL
	}
	cp, err := startClusterPresence(ctx, cluster, store, ttl, cfg.PresenceGrace, cfg.Logger)
	if err != nil {
		return nil, err
	}
	return cp, nil
}
