package natslog

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// SecretConfig names where a cluster's shared secret lives.
type SecretConfig struct {
	Bucket   string // default "HERALD_SECRETS"
	Key      string // required: which secret
	Size     int    // bytes of a new secret; default 32
	Replicas int    // default 3
}

// SharedSecret returns the secret cfg names, shared by every node of the cluster: the first node
// to ask makes a random one and creates the key with it (KeyValue.Create, so two first nodes
// cannot both win); every other node, and later starts, read that one. The secret is as private
// as the NATS account the nodes share: anyone who can read the bucket can read it.
func SharedSecret(ctx context.Context, js jetstream.JetStream, cfg SecretConfig) ([]byte, error) {
	if cfg.Key == "" {
		return nil, errors.New("a shared secret needs a key")
	}
	if cfg.Bucket == "" {
		cfg.Bucket = "HERALD_SECRETS"
	}
	if cfg.Size <= 0 {
		cfg.Size = 32
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 3
	}
	var secret []byte
	err := retry(ctx, func(ctx context.Context) error {
		kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: cfg.Bucket, Replicas: cfg.Replicas, History: 1, Storage: jetstream.FileStorage,
		})
		if err != nil {
			return err
		}
		fresh := make([]byte, cfg.Size)
		_, _ = rand.Read(fresh) // crypto/rand.Read never fails
		_, err = kv.Create(ctx, cfg.Key, fresh)
		if err == nil {
			secret = fresh
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return err
		}
		e, err := kv.Get(ctx, cfg.Key)
		if err != nil {
			return err
		}
		secret = e.Value()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("shared secret %s in %s: %w", cfg.Key, cfg.Bucket, err)
	}
	if len(secret) < 16 {
		return nil, fmt.Errorf("shared secret %s in %s: %d bytes is too short", cfg.Key, cfg.Bucket, len(secret))
	}
	return secret, nil
}
