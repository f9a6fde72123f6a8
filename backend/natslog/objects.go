package natslog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ObjectsConfig names and shapes the object store that holds a cluster's files.
type ObjectsConfig struct {
	Bucket string // default "HERALD_FILES"
	// Replicas is how many NATS nodes hold each object (default 3, at most the cluster's
	// size); a Put returns once a majority holds every chunk.
	Replicas int
	// AttemptTimeout bounds one attempt of a Put or a Get (default 30 s: a 25 MB object to
	// three replicas on a LAN takes well under a second); they retry within their ctx.
	AttemptTimeout time.Duration
	// LookupTimeout bounds one attempt of a lookup, a List or a Delete (default 5 s): a request
	// lost to a stream leader's election is retried soon.
	LookupTimeout time.Duration
}

// Objects is a replicated store of named byte strings in a JetStream object store: chunked
// (128 KiB a message), each object's SHA-256 checked as it is read back. It knows nothing of
// what the objects hold. Safe for concurrent use.
type Objects struct {
	store jetstream.ObjectStore
	cfg   ObjectsConfig
}

// ErrObjectTooLarge is returned by Get for an object larger than the caller's limit.
var ErrObjectTooLarge = errors.New("object larger than the limit")

// OpenObjects creates the bucket unless it exists (retrying while JetStream elects its leaders
// after a start) and returns the store.
func OpenObjects(ctx context.Context, js jetstream.JetStream, cfg ObjectsConfig) (*Objects, error) {
	if cfg.Bucket == "" {
		cfg.Bucket = "HERALD_FILES"
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 3
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 30 * time.Second
	}
	if cfg.LookupTimeout <= 0 {
		cfg.LookupTimeout = 5 * time.Second
	}
	var store jetstream.ObjectStore
	err := retry(ctx, func(ctx context.Context) error {
		var err error
		store, err = js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: cfg.Bucket, Replicas: cfg.Replicas, Storage: jetstream.FileStorage,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open object store %s: %w", cfg.Bucket, err)
	}
	return &Objects{store: store, cfg: cfg}, nil
}

// Put stores r's bytes, read from its start, under name, replacing what was stored there, and
// returns once a majority of the replicas holds them. A failed attempt (a timeout, a leader
// election) is retried from r's start until ctx ends; its chunks are purged.
func (o *Objects) Put(ctx context.Context, name string, r io.ReadSeeker) error {
	return o.PutWithMetadata(ctx, name, nil, r)
}

// PutWithMetadata is Put that stores meta with the object (List returns it): a few short
// strings describing it.
func (o *Objects) PutWithMetadata(ctx context.Context, name string, meta map[string]string, r io.ReadSeeker) error {
	err := retryWithin(ctx, o.cfg.AttemptTimeout, func(ctx context.Context) error {
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return permanent{err}
		}
		_, err := o.store.Put(ctx, jetstream.ObjectMeta{Name: name, Metadata: meta}, r)
		return err
	})
	if err != nil {
		return fmt.Errorf("put object %s: %w", name, err)
	}
	return nil
}

// Get writes the bytes stored under name to w and returns how many. Nothing stored under name
// (or a deleted object) is an error wrapping fs.ErrNotExist; an object of more than limit bytes
// is ErrObjectTooLarge, before anything is written. The read itself is one attempt, bounded by
// ctx: a failure part way (the connection, a digest that does not match) leaves w holding part
// of the bytes.
func (o *Objects) Get(ctx context.Context, name string, w io.Writer, limit int64) (int64, error) {
	var info *jetstream.ObjectInfo
	err := retryWithin(ctx, o.cfg.LookupTimeout, func(ctx context.Context) error {
		var err error
		info, err = o.store.GetInfo(ctx, name)
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return permanent{fs.ErrNotExist}
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("get object %s: %w", name, err)
	}
	if info.Size > uint64(limit) {
		return 0, fmt.Errorf("get object %s: %d bytes, limit %d: %w", name, info.Size, limit, ErrObjectTooLarge)
	}
	res, err := o.store.Get(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		err = fs.ErrNotExist // deleted since the lookup
	}
	if err != nil {
		return 0, fmt.Errorf("get object %s: %w", name, err)
	}
	defer res.Close()
	// The object's size was checked, but an object replaced since may be larger: read one
	// byte past the limit to tell.
	n, err := io.Copy(w, io.LimitReader(res, limit+1))
	if err == nil && n > limit {
		err = ErrObjectTooLarge
	}
	if err != nil {
		return n, fmt.Errorf("get object %s: %w", name, err)
	}
	return n, nil
}

// Delete removes what is stored under name (its chunks are purged); nothing stored is no error.
func (o *Objects) Delete(ctx context.Context, name string) error {
	err := retryWithin(ctx, o.cfg.LookupTimeout, func(ctx context.Context) error {
		err := o.store.Delete(ctx, name)
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete object %s: %w", name, err)
	}
	return nil
}

// ObjectEntry describes one stored object.
type ObjectEntry struct {
	Name    string
	Size    uint64    // bytes
	ModTime time.Time // when it was stored, by the NATS server's clock
	// Metadata is what PutWithMetadata stored with it (nil: none).
	Metadata map[string]string
}

// List returns every stored object (deleted ones not), in the order they were stored. It reads
// the bucket's metadata, one message per object: bounded by the number of objects, each attempt
// by LookupTimeout.
func (o *Objects) List(ctx context.Context) ([]ObjectEntry, error) {
	var out []ObjectEntry
	err := retryWithin(ctx, o.cfg.LookupTimeout, func(ctx context.Context) error {
		infos, err := o.store.List(ctx)
		if errors.Is(err, jetstream.ErrNoObjectsFound) {
			out = nil
			return nil
		}
		if err != nil {
			return err
		}
		out = make([]ObjectEntry, 0, len(infos))
		for _, in := range infos {
			out = append(out, ObjectEntry{Name: in.Name, Size: in.Size, ModTime: in.ModTime, Metadata: in.Metadata})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	return out, nil
}
