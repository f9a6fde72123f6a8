package teamserver

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
	"github.com/herald-chat/herald/backend/natslog"
	"github.com/nats-io/nats.go"
)

// Snapshots of the store in the cluster's object store (docs/CLUSTER.md). The writer puts one
// when it starts on a cluster that has none, and after every SnapshotEntries log entries; the
// two newest are kept. A node whose store is empty, or needs entries the log no longer holds,
// starts from the newest snapshot and applies the log after it. The log keeps the entries from
// the older kept snapshot on, and every entry a live node still has to apply.
const (
	snapshotBucket = "HERALD_SNAPSHOTS"
	// DefaultSnapshotEntries is ClusterConfig.SnapshotEntries' default: with it a new node
	// applies at most ~100,000 entries after its snapshot (a minute or so) and the log holds
	// at most ~200,000.
	DefaultSnapshotEntries = 100_000
	defaultSnapshotCheck   = 30 * time.Second
	snapshotsKept          = 2
	// maxSnapshotBytes bounds a snapshot's download (the store file's size), as a restore's
	// --max-gb does.
	maxSnapshotBytes = 64 << 30
	// snapshotAttemptTimeout bounds one attempt to put or get a snapshot.
	snapshotAttemptTimeout = 30 * time.Minute
	// staleListFor is how long bootstrap reads a list of snapshots again that cannot be right.
	staleListFor = 30 * time.Second
)

// openNode dials the cluster and, before the store opens, starts this node from a snapshot when
// its store needs one (bootstrap).
func openNode(cfg ClusterConfig, dataDir string, log *slog.Logger) (*node, error) {
	ctx, cancel := context.WithTimeout(context.Background(), clusterStartTimeout)
	n, err := dialNode(ctx, cfg, log)
	cancel()
	if err != nil {
		return nil, err
	}
	n.dataDir = dataDir
	ctx, cancel = context.WithTimeout(context.Background(), clusterBootstrapTimeout)
	defer cancel()
	if err := n.bootstrap(ctx); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

// storedSnapshot is one snapshot in the object store; its name is its log position.
type storedSnapshot struct {
	name string
	seq  uint64 // the log position the copied store held
	size uint64 // bytes
	// lastEventID is the newest event id the copy holds (its metadata "lastEventId"): with
	// the position it tells one store from another.
	lastEventID string
}

func snapshotName(seq uint64) string { return fmt.Sprintf("%020d", seq) }

// snapshots lists the stored snapshots, oldest first; objects of other names are skipped.
func (n *node) snapshots(ctx context.Context) ([]storedSnapshot, error) {
	objs, err := n.snaps.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []storedSnapshot
	for _, o := range objs {
		seq, err := strconv.ParseUint(o.Name, 10, 64)
		if err != nil || o.Name != snapshotName(seq) {
			continue
		}
		out = append(out, storedSnapshot{name: o.Name, seq: seq, size: o.Size, lastEventID: o.Metadata["lastEventId"]})
	}
	slices.SortFunc(out, func(a, b storedSnapshot) int { return cmp.Compare(a.seq, b.seq) })
	return out, nil
}

// localStore is what bootstrap knows of the store file before it opens it.
type localStore struct {
	exists      bool
	seq         uint64 // its log position
	hasData     bool   // it holds an account
	lastEventID string // the newest event id it holds
}

func inspectStore(path string) (localStore, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return localStore{}, nil
	}
	f, err := bolt.OpenFile(path, 2*time.Second)
	if err != nil {
		return localStore{}, err
	}
	defer f.Close()
	ls := localStore{exists: true}
	err = f.Snapshot(context.Background(), func(info backend.SnapshotInfo, _ int64, _ io.WriterTo) error {
		ls.seq, ls.hasData, ls.lastEventID = info.LogSeq, info.Counts["users"] > 0, info.LastEventID
		return nil
	})
	return ls, err
}

// bootstrap decides, before the store opens, whether this node starts from a snapshot: when
// its store is empty (or missing) and the cluster has entries, or when the log no longer holds
// the entries after the store's position. Then it downloads the newest snapshot beside
// herald.db, adopts it (bolt.AdoptSnapshot), drops the search index (rebuilt from the store) and
// puts the copy in herald.db's place. The cluster's first writer puts a snapshot before any
// entry but an empty first one (found), so a log with entries and no snapshot is one being
// founded: an empty store waits for its snapshot. A store with accounts but no log position is a
// single server's: it may found an empty cluster, and join no other.
func (n *node) bootstrap(ctx context.Context) error {
	path := filepath.Join(n.dataDir, "herald.db")
	local, err := inspectStore(path)
	if err != nil {
		return fmt.Errorf("read the store before joining: %w", err)
	}
	awaitFounder := false // a node announced it founds the cluster with its accounts
	// The list of snapshots may come from this node's own copy of their stream, which lags
	// after a restart (it may miss the newest, or name one deleted since): a list that cannot
	// be right is read again for a while.
	trustAfter := time.Now().Add(staleListFor)
	stale := func(why string) error {
		if time.Now().After(trustAfter) {
			return errors.New(why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
			return nil
		}
	}
	stalls := 0 // downloads that stalled (natslog.ErrObjectStalled), each started over
	for waited := false; ; waited = true {
		first, err := n.nlog.First(ctx)
		if err != nil {
			return err
		}
		last, err := n.nlog.Last(ctx)
		if err != nil {
			return err
		}
		snaps, err := n.snapshots(ctx)
		if err != nil {
			return err
		}
		var newest *storedSnapshot
		if len(snaps) > 0 {
			newest = &snaps[len(snaps)-1]
		}
		n.startedEmpty = local.seq == 0 && !local.hasData
		if n.startedEmpty && last == 0 && newest == nil && !waited {
			// A node starting beside this one may be about to found the cluster with its
			// accounts: listen, then look again.
			awaitFounder = n.foundingAnnounced(ctx)
			continue
		}
		switch {
		case local.seq == 0 && local.hasData && len(snaps) > 0 && snaps[0].seq == 0 && snaps[0].lastEventID == local.lastEventID:
			return nil // the founding store itself, or a copy of it: it follows from entry 1
		case local.seq == 0 && local.hasData:
			if last > 0 || newest != nil {
				return fmt.Errorf("%s holds accounts but no position in this cluster's log, which has %d entries: "+
					"it is another server's store; start this node with an empty --data-dir", path, last)
			}
			// Its snapshot at position 0 comes first: nodes starting beside this one with empty
			// stores start from it, and whichever node writes then writes on top of it.
			f, err := bolt.OpenFile(path, 2*time.Second)
			if err != nil {
				return err
			}
			_, err = n.putSnapshot(ctx, f)
			f.Close()
			if err != nil {
				return fmt.Errorf("put the founding store's snapshot: %w", err)
			}
			n.log.Info("this node's store founds the cluster: the other nodes start from its snapshot")
			n.foundsWithData.Store(true)
			n.announceFounding()
			return nil
		case local.seq == 0 && newest != nil, last > local.seq && local.seq+1 < first:
			// An empty store, or one that needs entries the log no longer holds.
			if newest == nil || newest.seq+1 < first {
				if err := stale(fmt.Sprintf("the log starts at entry %d, this store is at %d, and no snapshot holds what is between (snapshots: %v)",
					first, local.seq, snaps)); err != nil {
					return err
				}
				continue
			}
			err := n.startFromSnapshot(ctx, path, *newest, local)
			if errors.Is(err, natslog.ErrObjectGone) {
				// Pruned while it downloaded (the writer put two newer ones meanwhile): the
				// list to read again is a new one.
				n.log.Info("the snapshot was deleted while it downloaded: starting from a newer one", "log_seq", newest.seq)
				trustAfter = time.Now().Add(staleListFor)
			}
			if errors.Is(err, fs.ErrNotExist) { // deleted since it was listed
				if err := stale(err.Error()); err != nil {
					return err
				}
				continue
			}
			if errors.Is(err, natslog.ErrObjectStalled) && stalls < 3 {
				stalls++
				n.log.Warn("the snapshot's download stalled; starting it over", "log_seq", newest.seq, "err", err)
				continue
			}
			n.startedEmpty = n.startedEmpty && err != nil
			return err
		case local.seq == 0 && (last > 0 || awaitFounder):
			if !waited {
				n.log.Info("the cluster is being founded: waiting for its first snapshot")
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for the cluster's first snapshot: %w", ctx.Err())
			case <-time.After(time.Second):
			}
			continue
		}
		return nil
	}
}

// found makes sure the cluster has a snapshot before this writer's term begins: on a log with
// no snapshot (a new cluster) it appends an empty first entry if the log is empty, applies it,
// and puts a snapshot of the store at that position, so that every entry to come follows a
// snapshot a new node can start from. Called by the writer after its catch-up, before its store
// leads; last is the store's position, and found returns the new one. A node that started empty
// must not write on a cluster founded by a store with accounts it does not have: it fails.
func (n *node) found(ctx context.Context, last uint64) (uint64, error) {
	snaps, err := n.snapshots(ctx)
	if err != nil {
		return last, err
	}
	if len(snaps) > 0 {
		if last == 0 && snaps[0].seq == 0 && n.startedEmpty {
			err := errors.New("the cluster was founded by a store with accounts, which this node must start from")
			n.fail(err)
			return 0, err
		}
		n.foundsWithData.Store(false) // a founder that leads: entry 1 will be its own
		return last, nil
	}
	if last == 0 {
		empty, err := (&bolt.WriteSet{}).AppendBinary(nil)
		if err != nil {
			return 0, err
		}
		id := fmt.Sprintf("%s.%d.found", n.cfg.NodeName, time.Now().UnixNano())
		if last, err = n.nlog.Append(ctx, 0, id, empty); err != nil {
			return 0, fmt.Errorf("append the cluster's first entry: %w", err)
		}
		ws, _ := bolt.DecodeWriteSet(empty)
		if err := n.store.Apply(ctx, last, ws); err != nil {
			return 0, fmt.Errorf("apply the cluster's first entry: %w", err)
		}
	}
	if _, err := n.putSnapshot(ctx, n.store); err != nil {
		return 0, fmt.Errorf("put the cluster's first snapshot: %w", err)
	}
	return last, nil
}

// startFromSnapshot puts the snapshot snap in the place of the store file at path.
func (n *node) startFromSnapshot(ctx context.Context, path string, snap storedSnapshot, local localStore) error {
	started := time.Now()
	n.log.Info("starting from a snapshot of the store", "log_seq", snap.seq, "bytes", snap.size,
		"store_log_seq", local.seq, "store_exists", local.exists)
	tmp, err := os.CreateTemp(n.dataDir, "herald.db.snapshot-*")
	if err != nil {
		return fmt.Errorf("stage the snapshot: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone by then when it was put in place
	progress := &progressWriter{w: tmp, total: snap.size, log: n.log, every: 10 * time.Second, last: started}
	if _, err := n.snaps.Get(ctx, snap.name, progress, maxSnapshotBytes); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("download the snapshot at %d: %w", snap.seq, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("stage the snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("stage the snapshot: %w", err)
	}
	seq, err := bolt.AdoptSnapshot(tmp.Name())
	if err != nil {
		return err
	}
	if seq != snap.seq {
		return fmt.Errorf("the snapshot named %s holds log position %d", snap.name, seq)
	}
	// The index describes the old store: the feeder builds it again from the new one.
	if err := os.RemoveAll(filepath.Join(n.dataDir, "search")); err != nil {
		return fmt.Errorf("remove the old search index: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("put the snapshot in place: %w", err)
	}
	if d, err := os.Open(n.dataDir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	n.log.Info("started from a snapshot of the store", "log_seq", seq, "bytes", progress.n,
		"took", time.Since(started).Round(time.Millisecond))
	return nil
}

// progressWriter counts what goes through it and logs how far it got every so often.
type progressWriter struct {
	w     io.Writer
	n     uint64
	total uint64
	log   *slog.Logger
	every time.Duration
	last  time.Time
}

func (p *progressWriter) Write(b []byte) (int, error) {
	k, err := p.w.Write(b)
	p.n += uint64(k)
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		p.log.Info("downloading the snapshot", "bytes", p.n, "of", p.total)
	}
	return k, err
}

// snapshotLoop is the writer's: at the start of its term a snapshot unless one exists, then one
// whenever SnapshotEntries entries passed since the newest, checked every SnapshotCheck, until
// ctx (the term) ends; each check also prunes old snapshots and truncates the log (prune).
func (n *node) snapshotLoop(ctx context.Context, since time.Time) {
	t := time.NewTicker(n.cfg.SnapshotCheck)
	defer t.Stop()
	var truncated uint64 // the log was truncated below this in this term
	for {
		if err := n.snapshotIfDue(ctx, since, &truncated); err != nil && ctx.Err() == nil {
			n.log.Warn("snapshotting the store failed; trying again later", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// snapshotIfDue takes a snapshot when SnapshotEntries entries passed since the newest one, then
// prunes; since is when this node's term began and truncated where it last truncated the log.
func (n *node) snapshotIfDue(ctx context.Context, since time.Time, truncated *uint64) error {
	snaps, err := n.snapshots(ctx)
	if err != nil {
		return err
	}
	seq, err := n.store.LogSeq()
	if err != nil {
		return err
	}
	if len(snaps) == 0 || seq >= snaps[len(snaps)-1].seq+n.cfg.SnapshotEntries {
		snap, err := n.putSnapshot(ctx, n.store)
		if err != nil {
			return err
		}
		snaps = append(snaps, snap)
	}
	return n.prune(ctx, snaps, since, truncated)
}

// putSnapshot copies the store (one read transaction of src: the open store, or its file before
// it opens) into a file beside it and puts the file in the object store under its log position.
func (n *node) putSnapshot(ctx context.Context, src backend.Snapshotter) (storedSnapshot, error) {
	started := time.Now()
	tmp, err := os.CreateTemp(n.dataDir, "herald.db.snapshot-*")
	if err != nil {
		return storedSnapshot{}, err
	}
	defer func() {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
	}()
	var snap storedSnapshot
	err = src.Snapshot(ctx, func(info backend.SnapshotInfo, size int64, db io.WriterTo) error {
		snap = storedSnapshot{name: snapshotName(info.LogSeq), seq: info.LogSeq, size: uint64(size), lastEventID: info.LastEventID}
		_, err := db.WriteTo(tmp)
		return err
	})
	if err != nil {
		return storedSnapshot{}, fmt.Errorf("copy the store: %w", err)
	}
	if err := n.snaps.PutWithMetadata(ctx, snap.name, map[string]string{"lastEventId": snap.lastEventID}, tmp); err != nil {
		return storedSnapshot{}, err
	}
	n.log.Info("put a snapshot of the store", "log_seq", snap.seq, "bytes", snap.size,
		"took", time.Since(started).Round(time.Millisecond))
	return snap, nil
}

// prune deletes all but the snapshotsKept newest of snaps (oldest first) and truncates the log
// below the oldest kept one — or below the first entry a live node (one heard from within
// heartbeatExpiry) has yet to apply, when that is older. A term younger than heartbeatExpiry
// truncates nothing: its writer may not have heard every live node yet. A node that was down
// meanwhile starts from a snapshot when it returns (bootstrap).
func (n *node) prune(ctx context.Context, snaps []storedSnapshot, since time.Time, truncated *uint64) error {
	if len(snaps) > snapshotsKept {
		for _, s := range snaps[:len(snaps)-snapshotsKept] {
			if err := n.snaps.Delete(ctx, s.name); err != nil {
				return err
			}
		}
		snaps = snaps[len(snaps)-snapshotsKept:]
	}
	if len(snaps) < snapshotsKept || time.Since(since) < heartbeatExpiry {
		return nil
	}
	keep := snaps[0].seq
	for _, p := range n.beat.live() {
		keep = min(keep, p.AppliedSeq+1)
	}
	if keep <= max(1, *truncated) {
		return nil
	}
	if err := n.nlog.Truncate(ctx, keep); err != nil {
		return err
	}
	*truncated = keep
	n.log.Info("truncated the log", "before", keep)
	return nil
}

// fail stops this node for good: it cannot go on serving (err says why). Server.Failed reports
// the first such error; herald-server exits on it, and a restart starts the node over.
func (n *node) fail(err error) {
	if n.dead.Swap(true) {
		return
	}
	n.log.Error("this node cannot go on; restart it", "err", err)
	n.failed <- err // capacity 1, sent once
}

// checkFounding is asked before the log's first entry is applied. A node that was to found the
// cluster with its store's accounts and finds another node's first entry fails: those accounts
// are in no other node, and following would hide that. A node that started with an empty store
// fails if the cluster was founded by a store with accounts (its snapshot at position 0, which
// the log alone does not hold): a restart starts it from that snapshot.
func (n *node) checkFounding(ctx context.Context) error {
	if n.foundsWithData.Load() {
		err := errors.New("another node founded the cluster before this one, whose store has accounts that are in no other node: " +
			"stop every node and start this one first, or start this one with an empty --data-dir")
		n.fail(err)
		return err
	}
	if !n.startedEmpty {
		return nil
	}
	snaps, err := n.snapshots(ctx)
	if err != nil {
		return err
	}
	if len(snaps) > 0 && snaps[0].seq == 0 {
		err := errors.New("the cluster was founded by a store with accounts, which this node must start from")
		n.fail(err)
		return err
	}
	return nil
}

// foundingAnnounced listens to the cluster's heartbeats for FoundingGrace (at most ctx) and
// reports whether a node says it founds the cluster with a store that has accounts: then this
// empty node waits for that store's snapshot rather than join with nothing. Three nodes started
// together — one of them a single server's store turned into a cluster — so all hold the
// founder's accounts.
func (n *node) foundingAnnounced(ctx context.Context) bool {
	if n.cfg.FoundingGrace < 0 {
		return false
	}
	seen := make(chan struct{}, 1)
	sub, err := n.nc.Subscribe(subjectHeartbeat, func(m *nats.Msg) {
		var hb heartbeat
		if json.Unmarshal(m.Data, &hb) == nil && hb.Founding {
			select {
			case seen <- struct{}{}:
			default:
			}
		}
	})
	if err != nil {
		n.log.Warn("the cluster's heartbeats could not be read", "err", err)
		return false
	}
	defer func() { _ = sub.Unsubscribe() }()
	t := time.NewTimer(n.cfg.FoundingGrace)
	defer t.Stop()
	select {
	case <-seen:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// announceFounding sends a founding heartbeat every heartbeatEvery from now until join starts
// the node's own (which says the same while it founds): empty nodes starting beside this one
// listen for it (foundingAnnounced) before they open their stores.
func (n *node) announceFounding() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	n.stopAnnouncing = func() { cancel(); <-done }
	data, _ := json.Marshal(heartbeat{Node: n.cfg.NodeName, Advertise: n.cfg.Advertise, Role: backend.RoleReplica, Founding: true})
	go func() {
		defer close(done)
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			if err := n.nc.Publish(subjectHeartbeat, data); err != nil {
				n.log.Debug("the founding heartbeat could not be sent", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// defersFounding says whether this node leaves the writer's lease alone for now: its store
// started empty, the log is still empty, and a live node says it founds the cluster with a
// store that has accounts. Without it an empty node could take the lease first and found the
// cluster without them.
func (n *node) defersFounding() bool {
	if !n.startedEmpty {
		return false
	}
	if seq, err := n.store.LogSeq(); err != nil || seq > 0 {
		return false
	}
	for _, p := range n.beat.live() {
		if p.Founding {
			return true
		}
	}
	return false
}

// failIfTruncated fails the node when err says the log no longer holds an entry its store
// needs: only a start from a snapshot helps, which a restart does (bootstrap).
// It reports whether it did.
func (n *node) failIfTruncated(err error) bool {
	var t *natslog.TruncatedError
	if errors.As(err, &t) {
		n.fail(fmt.Errorf("this node fell behind what the cluster's log keeps: %w", err))
		return true
	}
	return false
}
