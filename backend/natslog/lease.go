package natslog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Lease is the writer's lease: one key in a JetStream key-value bucket whose entries expire TTL
// after they were written. The holder renews it well within TTL; when it stops (it died, or
// lost the NATS majority), the key expires and another node can take it. The lease alone does
// not fence a writer that lost it without noticing — the log's compare-and-set does.
type Lease struct {
	kv     jetstream.KeyValue
	bucket string
	key    string
	ttl    time.Duration

	rev uint64 // revision of our entry while we hold it; owned by the holder's goroutine
}

// ErrLeaseLost is returned by Renew when another node holds the lease (or none does).
var ErrLeaseLost = errors.New("writer lease lost")

// LeaseConfig names the bucket and key and sets the TTL.
type LeaseConfig struct {
	Bucket   string        // default "HERALD_LEASE"
	Key      string        // default "writer"
	TTL      time.Duration // default 5 s: how long a dead writer holds up writes, at most
	Replicas int           // default 3
}

// OpenLease creates the bucket unless it exists and returns the lease (not held).
func OpenLease(ctx context.Context, js jetstream.JetStream, cfg LeaseConfig) (*Lease, error) {
	if cfg.Bucket == "" {
		cfg.Bucket = "HERALD_LEASE"
	}
	if cfg.Key == "" {
		cfg.Key = "writer"
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 5 * time.Second
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 3
	}
	var kv jetstream.KeyValue
	err := retry(ctx, func(ctx context.Context) error {
		var err error
		kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: cfg.Bucket, TTL: cfg.TTL, Replicas: cfg.Replicas, History: 1, Storage: jetstream.FileStorage,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open lease bucket %s: %w", cfg.Bucket, err)
	}
	return &Lease{kv: kv, bucket: cfg.Bucket, key: cfg.Key, ttl: cfg.TTL}, nil
}

// TTL is how long an entry lives unless renewed.
func (l *Lease) TTL() time.Duration { return l.ttl }

// TryAcquire takes the lease with value (the holder's name and address) if nobody holds it,
// and reports whether it did.
func (l *Lease) TryAcquire(ctx context.Context, value []byte) (bool, error) {
	rev, err := l.kv.Create(ctx, l.key, value)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("acquire the lease: %w", err)
	}
	l.rev = rev
	return true, nil
}

// Renew writes the entry again, so that it lives another TTL; it fails with ErrLeaseLost if
// the entry is no longer ours.
func (l *Lease) Renew(ctx context.Context, value []byte) error {
	rev, err := l.kv.Update(ctx, l.key, value, l.rev)
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || errors.Is(err, jetstream.ErrKeyNotFound) {
		return ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("renew the lease: %w", err)
	}
	l.rev = rev
	return nil
}

// Release deletes the entry if it is still ours, so that another node need not wait out the TTL
// (a graceful shutdown).
func (l *Lease) Release(ctx context.Context) error {
	if err := l.kv.Delete(ctx, l.key, jetstream.LastRevision(l.rev)); err != nil {
		return fmt.Errorf("release the lease: %w", err)
	}
	return nil
}

// Holder returns the current holder's value, nil when nobody holds the lease.
func (l *Lease) Holder(ctx context.Context) ([]byte, error) {
	e, err := l.kv.Get(ctx, l.key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the lease: %w", err)
	}
	return e.Value(), nil
}
