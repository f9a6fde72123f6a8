package natslog

import (
	"bytes"
	"context"
	"crypto/sha256"
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
	// lost to a stream leader's election is retried soon. A Get that waits this long for a
	// chunk looks the object up again.
	LookupTimeout time.Duration
	// StallTimeout is how long a Get waits for a chunk of an object still stored before it
	// gives up with ErrObjectStalled (default 30 s: far longer than a leader's election).
	StallTimeout time.Duration
}

// Objects is a replicated store of named byte strings in a JetStream object store: chunked
// (128 KiB a message), each object's SHA-256 checked as it is read back. It knows nothing of
// what the objects hold. Safe for concurrent use.
type Objects struct {
	js    jetstream.JetStream
	store jetstream.ObjectStore
	cfg   ObjectsConfig
}

// ErrObjectTooLarge is returned by Get for an object larger than the caller's limit.
var ErrObjectTooLarge = errors.New("object larger than the limit")

// ErrObjectStalled is returned by Get when no chunk of an object still stored arrived for
// StallTimeout: a consumer that will not deliver; a new Get starts over.
var ErrObjectStalled = errors.New("no chunk of the object arrived for a while")

// ErrObjectGone is returned by Get for an object deleted or replaced while it was read; it
// wraps fs.ErrNotExist.
var ErrObjectGone = fmt.Errorf("deleted or replaced while it was read: %w", fs.ErrNotExist)

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
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = 30 * time.Second
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
	return &Objects{js: js, store: store, cfg: cfg}, nil
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
// — or an object deleted or replaced while it is read (a snapshot pruned during a long
// download) — is an error wrapping fs.ErrNotExist: the caller looks again. An object of more
// than limit bytes is ErrObjectTooLarge, before anything is written. The read itself is one
// attempt, bounded by ctx: a failure part way (the connection, a digest that does not match)
// leaves w holding part of the bytes. When no chunk arrives for LookupTimeout, Get looks the
// object up again and goes on waiting only while it is still there.
//
// It reads the chunks with an ordered consumer of its own rather than the object store's Get,
// which on a delete midway waits for ctx's deadline or reports a corrupt object.
func (o *Objects) Get(ctx context.Context, name string, w io.Writer, limit int64) (int64, error) {
	info, err := o.info(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("get object %s: %w", name, err)
	}
	if info.Size > uint64(limit) {
		return 0, fmt.Errorf("get object %s: %d bytes, limit %d: %w", name, info.Size, limit, ErrObjectTooLarge)
	}
	n, err := o.read(ctx, info, w)
	if err != nil {
		return n, fmt.Errorf("get object %s: %w", name, err)
	}
	return n, nil
}

// info looks name up, retrying within ctx; nothing stored (or a deleted object) is
// fs.ErrNotExist.
func (o *Objects) info(ctx context.Context, name string) (*jetstream.ObjectInfo, error) {
	var info *jetstream.ObjectInfo
	err := retryWithin(ctx, o.cfg.LookupTimeout, func(ctx context.Context) error {
		var err error
		info, err = o.store.GetInfo(ctx, name)
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return permanent{fs.ErrNotExist}
		}
		return err
	})
	if err == nil && info.NUID == "" {
		err = jetstream.ErrBadObjectMeta
	}
	return info, err
}

// read writes the chunks of the object info describes to w, checking their size and digest.
func (o *Objects) read(ctx context.Context, info *jetstream.ObjectInfo, w io.Writer) (int64, error) {
	if info.Size == 0 {
		return 0, nil
	}
	want, err := jetstream.DecodeObjectDigest(info.Digest)
	if err != nil {
		return 0, err
	}
	// replaced tells whether name no longer holds the object being read; cause is returned
	// when it still does.
	replaced := func(cause error) error {
		now, err := o.info(ctx, info.Name)
		switch {
		case errors.Is(err, fs.ErrNotExist) || err == nil && now.NUID != info.NUID:
			return ErrObjectGone
		case err != nil && cause != nil:
			return fmt.Errorf("%w (and looking it up again: %w)", cause, err)
		}
		return cause // nil after a quiet spell: wait on, within StallTimeout
	}
	cons, err := o.js.OrderedConsumer(ctx, "OBJ_"+o.cfg.Bucket, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"$O." + o.cfg.Bucket + ".C." + info.NUID},
	})
	if err != nil {
		return 0, err
	}
	// 4 MiB in flight: 32 chunks, enough to keep a LAN busy, and a bound on what one Get holds.
	msgs, err := cons.Messages(jetstream.PullMaxBytes(4 << 20))
	if err != nil {
		return 0, err
	}
	defer msgs.Stop()
	h := sha256.New()
	var n int64
	lastChunk := time.Now()
	for uint64(n) < info.Size {
		next, cancel := context.WithTimeout(ctx, o.cfg.LookupTimeout)
		msg, err := msgs.Next(jetstream.NextContext(next))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				return n, err
			}
			if err := replaced(nil); err != nil {
				return n, err
			}
			if time.Since(lastChunk) >= o.cfg.StallTimeout {
				return n, fmt.Errorf("%w: none for %v after %d of %d bytes", ErrObjectStalled,
					time.Since(lastChunk).Round(time.Second), n, info.Size)
			}
			continue // still there: a slow link, or a stream leader's election
		}
		lastChunk = time.Now()
		data := msg.Data()
		if uint64(n)+uint64(len(data)) > info.Size {
			return n, replaced(fmt.Errorf("more than its %d bytes: %w", info.Size, jetstream.ErrDigestMismatch))
		}
		k, err := w.Write(data)
		n += int64(k)
		if err != nil {
			return n, err
		}
		h.Write(data)
		if md, err := msg.Metadata(); err == nil && md.NumPending == 0 && uint64(n) < info.Size {
			// The last chunk there is, short of the object's size: purged midway.
			return n, replaced(fmt.Errorf("%d of its %d bytes stored: %w", n, info.Size, jetstream.ErrDigestMismatch))
		}
	}
	if !bytes.Equal(h.Sum(nil), want) {
		return n, replaced(jetstream.ErrDigestMismatch)
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
