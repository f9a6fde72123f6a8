package teamserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
	"github.com/herald-chat/herald/backend/files"
	"github.com/herald-chat/herald/backend/httpapi"
	"github.com/herald-chat/herald/backend/natslog"
)

// The cluster's object store holds every processed upload's bytes and thumbnail.
var _ files.Blobs = (*natslog.Objects)(nil)

// Bounds of the files' sweep on a cluster node.
const (
	// fileSweepEvery is how often a node drops the copies it fetched of files deleted since,
	// and the writer deletes objects no record names.
	fileSweepEvery = 5 * time.Minute
	// orphanObjectAge is how old an object must be before the writer's sweep may delete it for
	// lack of a record: younger ones may belong to a file recorded by a newer writer that this
	// node (a deposed writer that does not know it yet) has not applied.
	orphanObjectAge = 15 * time.Minute
)

// clusterFiles is a node's part in sharing files: the object store, and the sweep that the
// node's close stops. The writer's processor puts what it processed into the store before the
// record says so; every node's downloads fetch what its disk lacks (files.WithBlobs).
type clusterFiles struct {
	objects *natslog.Objects
	stop    context.CancelFunc // nil until sweep starts
	done    chan struct{}
}

// open opens the object store (replicated as the log is).
func (cf *clusterFiles) open(ctx context.Context, n *node) error {
	o, err := natslog.OpenObjects(ctx, n.js, natslog.ObjectsConfig{Replicas: n.cfg.Replicas})
	if err != nil {
		return err
	}
	cf.objects = o
	return nil
}

// fileOptions are the processor's options on this node: its blobs are the cluster's object
// store, a fetched upload bounded by maxUpload (Config.MaxUpload, 0 for the default).
func (n *node) fileOptions(maxUpload int64) []files.Option {
	if maxUpload <= 0 {
		maxUpload = httpapi.DefaultMaxUpload
	}
	return []files.Option{files.WithBlobs(n.files.objects, maxUpload)}
}

// sweepFiles starts the node's files sweep (every fileSweepEvery, until close): see sweepOnce.
func (n *node) sweepFiles(p *files.Processor) {
	ctx, cancel := context.WithCancel(context.Background())
	n.files.stop, n.files.done = cancel, make(chan struct{})
	go func() {
		defer close(n.files.done)
		t := time.NewTicker(fileSweepEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := n.sweepOnce(ctx, p); err != nil && ctx.Err() == nil {
				n.log.Error("sweeping the cluster's files", "err", err)
			}
		}
	}()
}

// sweepOnce drops this node's copies of files whose record is gone (deleted through the log,
// or by a writer that died before it removed them), trims its copies to FileCacheBytes, and on
// the writer deletes the objects that
// no record names and that are older than orphanObjectAge (a delete whose removal failed).
func (n *node) sweepOnce(ctx context.Context, p *files.Processor) error {
	known := func(ctx context.Context, id string) (bool, error) { return fileRecorded(ctx, n.store, id) }
	dropped, err := p.Evict(ctx, known)
	if err != nil {
		return err
	}
	if dropped > 0 {
		n.log.Info("dropped copies of deleted files", "count", dropped)
	}
	budget := n.cfg.FileCacheBytes
	if budget <= 0 {
		budget = DefaultFileCacheBytes
	}
	ready := func(ctx context.Context, id string) (bool, error) { return fileShared(ctx, n.store, id) }
	if k, freed, err := p.Trim(ctx, budget, orphanObjectAge, ready); err != nil {
		return err
	} else if k > 0 {
		n.log.Info("removed the least recently used copies of files above the cache's size", "count", k, "bytes", freed, "budget", budget)
	}
	if !n.leading.Load() {
		return nil
	}
	objs, err := n.files.objects.List(ctx)
	if err != nil {
		return err
	}
	var errs []error
	deleted := 0
	for _, o := range objs {
		if time.Since(o.ModTime) < orphanObjectAge {
			continue
		}
		id, _ := strings.CutSuffix(o.Name, ".thumb.png")
		ok, err := known(ctx, id)
		if err != nil {
			return err
		}
		if ok || !n.leading.Load() {
			continue
		}
		if err := n.files.objects.Delete(ctx, o.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		deleted++
	}
	if deleted > 0 {
		n.log.Info("deleted objects no file record names", "count", deleted)
	}
	return errors.Join(errs...)
}

// fileShared reports whether file id's bytes are in the object store for good: its record
// says ready (the writer's processor put them there before it said so).
func fileShared(ctx context.Context, store *bolt.Store, id string) (bool, error) {
	f, err := fileRecord(ctx, store, id)
	return f != nil && f.Status == backend.FileReady, err
}

// fileRecorded reports whether the store holds a record of file id.
func fileRecorded(ctx context.Context, store *bolt.Store, id string) (bool, error) {
	f, err := fileRecord(ctx, store, id)
	return f != nil, err
}

// fileRecord is the store's record of file id, nil when there is none.
func fileRecord(ctx context.Context, store *bolt.Store, id string) (*backend.File, error) {
	f, err := store.File(ctx, id)
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("file record %s: %w", id, err)
	}
	return f, nil
}

// close stops the sweep and waits for it.
func (cf *clusterFiles) close() {
	if cf.stop != nil {
		cf.stop()
		<-cf.done
	}
}
