package natslog

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// PresenceConfig names the bucket in which each node lists the users it holds streams of.
type PresenceConfig struct {
	Bucket   string        // default "HERALD_PRESENCE"
	TTL      time.Duration // how long an entry lives after its last put; required
	Replicas int           // default 3
}

// OpenPresence creates the presence bucket unless it exists (updating its TTL) and returns it.
// The bucket is kept in memory: presence need not outlive NATS, its nodes put it again. Each
// attempt is bounded (see retry); ctx bounds them all.
func OpenPresence(ctx context.Context, js jetstream.JetStream, cfg PresenceConfig) (jetstream.KeyValue, error) {
	if cfg.Bucket == "" {
		cfg.Bucket = "HERALD_PRESENCE"
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 3
	}
	if cfg.TTL <= 0 {
		return nil, fmt.Errorf("presence bucket %s: a TTL is required", cfg.Bucket)
	}
	var kv jetstream.KeyValue
	err := retry(ctx, func(ctx context.Context) error {
		var err error
		kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: cfg.Bucket, TTL: cfg.TTL, Replicas: cfg.Replicas, History: 1, Storage: jetstream.MemoryStorage,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open presence bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}
