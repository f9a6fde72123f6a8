package teamserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
	"github.com/herald-chat/herald/backend/natslog"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ClusterConfig makes Open start a node of a cluster (docs/CLUSTER.md): one node — the writer,
// holder of a lease in NATS — commits; it appends each commit's write set to a JetStream log
// before committing it, and every node applies the log to its own herald.db and fans the events
// out to its own streams. Writes that reach another node are forwarded to the writer.
type ClusterConfig struct {
	// NodeName names the node in the cluster (--node-name); unique.
	NodeName string
	// Advertise is where the other nodes reach this node's HTTP API (--advertise), e.g.
	// https://n1.example:8443: writes are forwarded to the writer's.
	Advertise string
	// NATS lists the URLs of an existing NATS JetStream deployment (--cluster); ignored with
	// Embedded.
	NATS []string
	// Embedded, when set, runs a NATS node inside this process (--nats-embedded).
	Embedded *natslog.EmbeddedConfig
	// Replicas is how many NATS nodes hold the log and the lease (default 3; 1 for a cluster
	// of one NATS node).
	Replicas int
	// LeaseTTL is how long a writer that stopped renewing (it died) holds up writes (default
	// 5 s); it renews every third of it.
	LeaseTTL time.Duration
	// PresenceTTL is how long a node that died still counts as holding its streams (default
	// twice LeaseTTL); it reports them every third of it (cluster_presence.go).
	PresenceTTL time.Duration
	// ForwardTimeout bounds a forwarded write, the wait for this node to apply it included
	// (default 15 s: a NATS leader election takes ~7 s).
	ForwardTimeout time.Duration
	// Transport carries forwarded writes to the writer (default: forwardTransport, which
	// keeps a connection per concurrent forwarded write); a cluster of self-signed nodes sets
	// one that trusts them, and should keep as many idle connections (MaxIdleConnsPerHost).
	Transport http.RoundTripper
	// SnapshotEntries is how many log entries the writer lets pass between two snapshots of
	// the store (default DefaultSnapshotEntries); the log keeps the entries after the older of
	// the two newest snapshots (cluster_snapshot.go).
	SnapshotEntries uint64
	// SnapshotCheck is how often the writer looks whether a snapshot is due (default 30 s).
	SnapshotCheck time.Duration
	// FoundingGrace is how long a node with an empty store that joins a new cluster (an empty
	// log) listens for a node founding it with a store that has accounts, whose snapshot it then
	// starts from (default 2 s; see foundingAnnounced). Negative: it does not listen.
	FoundingGrace time.Duration
	// RootCAs are the certificates a node trusts, in place of the system's, when it forwards a
	// write to the writer's https:// Advertise URL without a Transport: the nodes' own
	// self-signed certificates, or the private CA that issued theirs (herald-server's
	// --cluster-ca adds its file's to the system's). Nil: the system's.
	RootCAs *x509.CertPool
	// FileCacheBytes bounds this node's copies of the cluster's files on its disk (default
	// DefaultFileCacheBytes): the object store holds every file, and the files sweep removes
	// the least recently downloaded copies above it (files.Processor.Trim).
	FileCacheBytes int64
}

// DefaultFileCacheBytes is ClusterConfig.FileCacheBytes' default: 10 GiB.
const DefaultFileCacheBytes = 10 << 30

// HeaderLogSeq is the response header in which the writer tells a forwarding node the log
// position its answer depends on: the forwarding node answers once it has applied that far,
// so a client reads its own writes on the node it talks to.
const HeaderLogSeq = "X-Herald-Log-Seq"

// subjectEphemeral carries typing and upload progress between the nodes (not logged).
const subjectEphemeral = "herald.ephemeral"

// leaseHolder is the lease's value: who writes, and where to forward writes.
type leaseHolder struct {
	Node      string `json:"node"`
	Advertise string `json:"advertise"`
}

// node is this process's part in a cluster. The role loop owns the transitions between
// follower and writer; the rest reads atomics.
type node struct {
	cfg   ClusterConfig
	log   *slog.Logger
	store *bolt.Store

	nats  *server.Server // the embedded NATS node, nil with an external one
	nc    *nats.Conn
	js    jetstream.JetStream
	nlog  *natslog.Log
	lease *natslog.Lease
	ephem *nats.Subscription
	files clusterFiles   // the object store of uploads, and its sweep (cluster_files.go)
	beat  *clusterStatus // heartbeats, and the monitor's view of the cluster

	writer atomic.Pointer[leaseHolder] // the current writer as last seen; nil: unknown
	// logged is the writer last logged, so that the log says each change once.
	loggedMu sync.Mutex
	logged   leaseHolder
	leading  atomic.Bool
	// refollow asks the role loop to start its follow loop again (capacity 1; the status
	// loop's checkFollowing sends).
	refollow chan struct{}
	// leadHook runs at each term's start (onLead); nil: nothing.
	leadHook atomic.Pointer[func(ctx context.Context)]
	epoch    atomic.Uint64 // counts this node's terms as writer, for entry ids
	proxy    *httputil.ReverseProxy
	// forwardConns is the proxy's transport when the node made it (no ClusterConfig.Transport):
	// close drops its idle connections.
	forwardConns *http.Transport

	// applied is closed and replaced each time the store applied an entry (or became writer):
	// forwarded requests wait on it for their log position.
	appliedMu sync.Mutex
	applied   chan struct{}
	pullMu    sync.Mutex // one pull at a time

	iso isolation // cut off from the cluster or not; the streams this node serves

	// forwardKey signs the client's address on forwarded writes (cluster_forward.go); set by
	// openNode. clientIP finds a request's client by this node's rules (its trusted proxies),
	// and trustPeer vouches for a forwarding node to the connection limiter; both set by the
	// server before it serves (nil: the peer's address, and no limiter).
	forwardKey []byte
	clientIP   func(*http.Request) string
	trustPeer  func(ip string, now time.Time)

	stepDown chan struct{}    // capacity 1: the log fenced this writer
	failed   chan error       // capacity 1: this node cannot go on (fail)
	dead     atomic.Bool      // fail was called
	snaps    *natslog.Objects // the store's snapshots (cluster_snapshot.go)
	dataDir  string           // where herald.db is: snapshots are staged beside it
	// startedEmpty says bootstrap found a store with nothing in it; foundsWithData, a single
	// server's store with accounts that is to found the cluster (found), until it did.
	startedEmpty   bool
	foundsWithData atomic.Bool
	stopAnnouncing func() // set by announceFounding; join and close call it
	stop           context.CancelFunc
	done           chan struct{}
	hubPub         backend.Publisher // the node's own fan-out: the hub (and index)
}

// dialNode starts a node's connection to the cluster (within ctx): the embedded NATS node if
// configured, the NATS connection, and the log, lease, files and snapshot stores. Nothing is
// written and no store is open yet: bootstrap may replace the store file first, then join
// attaches the opened store.
func dialNode(ctx context.Context, cfg ClusterConfig, log *slog.Logger) (*node, error) {
	if cfg.NodeName == "" || cfg.Advertise == "" {
		return nil, errors.New("a cluster node needs --node-name and --advertise")
	}
	adv, err := url.Parse(cfg.Advertise)
	if err != nil || adv.Host == "" || (adv.Scheme != "http" && adv.Scheme != "https") {
		return nil, fmt.Errorf("--advertise %q: want an http(s) URL", cfg.Advertise)
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 3
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 5 * time.Second
	}
	if cfg.ForwardTimeout <= 0 {
		cfg.ForwardTimeout = 15 * time.Second
	}
	if cfg.SnapshotEntries <= 0 {
		cfg.SnapshotEntries = DefaultSnapshotEntries
	}
	if cfg.SnapshotCheck <= 0 {
		cfg.SnapshotCheck = defaultSnapshotCheck
	}
	if cfg.FoundingGrace == 0 {
		cfg.FoundingGrace = 2 * heartbeatEvery
	}
	n := &node{cfg: cfg, log: log.With("node", cfg.NodeName), applied: make(chan struct{}),
		stepDown: make(chan struct{}, 1), done: make(chan struct{}), failed: make(chan error, 1),
		refollow: make(chan struct{}, 1)}
	urls := strings.Join(cfg.NATS, ",")
	if cfg.Embedded != nil {
		e := *cfg.Embedded
		if e.Name == "" {
			e.Name = cfg.NodeName
		}
		if n.nats, err = natslog.StartEmbedded(e, log); err != nil {
			return nil, err
		}
		urls = n.nats.ClientURL()
	}
	if urls == "" {
		n.close()
		return nil, errors.New("a cluster node needs --cluster URLs or --nats-embedded")
	}
	n.nc, err = nats.Connect(urls, nats.Name("herald "+cfg.NodeName), nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond), nats.RetryOnFailedConnect(true))
	if err != nil {
		n.close()
		return nil, fmt.Errorf("connect to NATS %s: %w", urls, err)
	}
	if n.js, err = jetstream.New(n.nc); err != nil {
		n.close()
		return nil, err
	}
	if n.nlog, err = natslog.OpenLog(ctx, n.js, natslog.LogConfig{Replicas: cfg.Replicas}); err != nil {
		n.close()
		return nil, err
	}
	if n.lease, err = natslog.OpenLease(ctx, n.js, natslog.LeaseConfig{TTL: cfg.LeaseTTL, Replicas: cfg.Replicas}); err != nil {
		n.close()
		return nil, err
	}
	if err := n.files.open(ctx, n); err != nil {
		n.close()
		return nil, err
	}
	if n.snaps, err = natslog.OpenObjects(ctx, n.js, natslog.ObjectsConfig{Bucket: snapshotBucket, Replicas: cfg.Replicas,
		AttemptTimeout: snapshotAttemptTimeout}); err != nil {
		n.close()
		return nil, err
	}
	if n.forwardKey, err = natslog.SharedSecret(ctx, n.js, natslog.SecretConfig{Key: forwardSecretKey, Replicas: cfg.Replicas}); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

// join attaches the opened store to the cluster: it makes the store a replica, catches it up
// with the log (at most ctx) and starts the role loop, which follows the log and takes the
// writer's lease when it is free. local receives ephemeral events from every node. On an error
// the caller closes the node.
func (n *node) join(ctx context.Context, store *bolt.Store, local backend.Publisher) error {
	n.store, n.hubPub = store, local
	store.Follow() // before anything else can write
	var err error
	if n.ephem, err = n.nc.Subscribe(subjectEphemeral, n.receiveEphemeral); err != nil {
		return fmt.Errorf("subscribe to %s: %w", subjectEphemeral, err)
	}
	if n.stopAnnouncing != nil {
		n.stopAnnouncing() // the status loop's heartbeats take over
		n.stopAnnouncing = nil
	}
	if n.beat, err = startStatus(n); err != nil {
		return err
	}
	before, _ := store.LogSeq()
	caughtFrom := time.Now()
	if err := n.catchUp(ctx); err != nil {
		return err
	}
	if after, err := store.LogSeq(); err == nil && after > before {
		took := time.Since(caughtFrom)
		n.log.Info("caught up with the log", "entries", after-before, "took", took.Round(time.Millisecond),
			"per_second", int(float64(after-before)/took.Seconds()))
	}
	transport := n.cfg.Transport
	if transport == nil {
		n.forwardConns = forwardTransport(n.cfg.RootCAs)
		transport = n.forwardConns
	}
	n.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			// The writer the handler chose: the node's view may change meanwhile.
			w := r.In.Context().Value(forwardTo{}).(*leaseHolder)
			target, _ := url.Parse(w.Advertise) // checked when it was stored
			r.SetURL(target)
			r.Out.Host = r.In.Host // the writer checks the Host the client named, as this node would
			r.SetXForwarded()
			n.signForward(r.Out, n.forwardClient(r.In), time.Now())
		},
		Transport:      transport,
		ModifyResponse: n.awaitForwarded,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			n.log.WarnContext(r.Context(), "forwarding a write to the writer failed", "err", err)
			// The writer may be gone: the next write reads the lease again.
			n.writer.CompareAndSwap(r.Context().Value(forwardTo{}).(*leaseHolder), nil)
			writeUnavailable(w, "The cluster's writer could not be reached; try again.")
		},
	}
	rctx, cancel := context.WithCancel(context.Background())
	n.stop = cancel
	go n.roleLoop(rctx)
	return nil
}

// forwardIdleConns is how many idle connections to the writer a node keeps for forwarded
// writes. Every concurrent forwarded write holds a connection; with net/http's default of 2
// idle connections per host, all but two of them were closed after each answer and dialed
// anew for the next write (a new TCP connection and a new server goroutine on the writer per
// forwarded write under load).
const forwardIdleConns = 256

// forwardMaxConns bounds the connections a node holds to the writer: beyond, a forwarded write
// waits for one (within ForwardTimeout). The writer lets a vouched-for node past its
// per-address bound (cluster_forward.go), so the bound is this one.
const forwardMaxConns = 2 * forwardIdleConns

// forwardTransport is http.DefaultTransport keeping forwardIdleConns idle connections to the
// writer, and at most forwardMaxConns in all. Idle ones close after the default's 90 s.
func forwardTransport(roots *x509.CertPool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if roots != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	t.MaxIdleConns = forwardIdleConns
	t.MaxIdleConnsPerHost = forwardIdleConns
	t.MaxConnsPerHost = forwardMaxConns
	return t
}

// catchUp applies every entry the log holds beyond the store's position.
func (n *node) catchUp(ctx context.Context) error {
	last, err := n.nlog.Last(ctx)
	if err != nil {
		return err
	}
	return n.pull(ctx, last)
}

// pull applies the entries after the store's position up to upTo, reading each from the log's
// leader: no consumer to create (which needs JetStream's meta leader) and no dependence on this
// node's own copy of the stream (which may lag), so a forwarded write's answer and a new
// writer's catch-up do not wait for the follow loop's consumer to recover. It may run beside
// the follow loop: Apply takes each entry once.
func (n *node) pull(ctx context.Context, upTo uint64) error {
	n.pullMu.Lock() // one pull reads at a time; another waiting one then finds little to do
	defer n.pullMu.Unlock()
	have, err := n.store.LogSeq()
	if err != nil {
		return err
	}
	if upTo <= have {
		return nil
	}
	// Up to pullWindow reads are under way at once, applied in order as they arrive: a
	// catch-up costs a round trip to the log's leader per window rather than per entry.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the reads ahead when an entry fails
	type read struct {
		payload []byte
		err     error
	}
	reads := make(chan chan read, pullWindow-1) // in log order; one more is being applied
	go func() {
		defer close(reads)
		for seq := have + 1; seq <= upTo; seq++ {
			r := make(chan read, 1)
			select {
			case reads <- r:
			case <-rctx.Done():
				return
			}
			go func() {
				payload, err := n.readEntry(rctx, seq)
				r <- read{payload, err}
			}()
		}
	}()
	p := n.newPipeline(ctx)
	next := have + 1
	for r := range reads {
		got := <-r
		if got.err != nil {
			_ = p.close()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			n.failIfTruncated(got.err)
			return fmt.Errorf("read log entry %d: %w", next, got.err)
		}
		if err := p.add(next, got.payload); err != nil {
			_ = p.close()
			return err
		}
		next++
	}
	if next <= upTo { // the reads stopped with ctx
		_ = p.close()
		return ctx.Err()
	}
	return p.close()
}

// pullWindow is how many log entries pull reads at once.
const pullWindow = 32

// readEntry reads log entry seq from the log's leader. Not stored yet as far as the leader
// answering knows (a new leader may be behind its predecessor for a moment) is asked again
// every 20 ms until ctx ends: the entry is known to exist.
func (n *node) readEntry(ctx context.Context, seq uint64) ([]byte, error) {
	for {
		payload, err := n.nlog.Get(ctx, seq)
		if !errors.Is(err, natslog.ErrNotFound) {
			return payload, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// pipelineDepth is how many log entries may wait for their commit at once: the committer takes
// them in one group commit, so catching up costs one fsync per batch rather than per entry.
const pipelineDepth = 256

// pipeline applies log entries in the order added without waiting for each one's commit. Owned
// by the goroutine that adds; a drainer waits for the outcomes in order and signals each.
type pipeline struct {
	n     *node
	ctx   context.Context
	queue chan pipelined
	done  chan struct{}
	mu    sync.Mutex
	err   error // the first failure; later adds return it
}

type pipelined struct {
	seq  uint64
	done <-chan error
}

func (n *node) newPipeline(ctx context.Context) *pipeline {
	p := &pipeline{n: n, ctx: ctx, queue: make(chan pipelined, pipelineDepth), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for x := range p.queue {
			if err := <-x.done; err != nil {
				p.fail(fmt.Errorf("apply log entry %d: %w", x.seq, err))
				continue
			}
			n.signalApplied()
		}
	}()
	return p
}

func (p *pipeline) fail(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
}

func (p *pipeline) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// add queues entry seq for applying; it waits only while pipelineDepth entries are in flight.
func (p *pipeline) add(seq uint64, payload []byte) error {
	if err := p.failed(); err != nil {
		return err
	}
	ws, err := bolt.DecodeWriteSet(payload)
	if err != nil {
		return fmt.Errorf("log entry %d: %w", seq, err)
	}
	if seq == 1 {
		if err := p.n.checkFounding(p.ctx); err != nil {
			return err
		}
	}
	select {
	case p.queue <- pipelined{seq: seq, done: p.n.store.ApplyAsync(p.ctx, seq, ws)}:
		return nil
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

// close waits for every queued entry and returns the first failure.
func (p *pipeline) close() error {
	close(p.queue)
	<-p.done
	return p.failed()
}

func (n *node) signalApplied() {
	n.appliedMu.Lock()
	close(n.applied)
	n.applied = make(chan struct{})
	n.appliedMu.Unlock()
}

// waitApplied returns once the store holds log position seq, or ctx ends. The follow loop
// normally gets there within milliseconds; past pullAfter the entries are read directly.
func (n *node) waitApplied(ctx context.Context, seq uint64) error {
	pulled := false
	pullTimer := time.NewTimer(pullAfter)
	defer pullTimer.Stop()
	// Becoming cut off ends the wait, a pull in progress too: the entry may not come for long.
	lost := n.iso.lostCh()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-lost:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		n.appliedMu.Lock()
		ch := n.applied
		n.appliedMu.Unlock()
		have, err := n.store.LogSeq()
		if err != nil {
			return err
		}
		if have >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if n.iso.cutOff() {
				return errCutOff
			}
			return ctx.Err()
		case <-pullTimer.C:
			if !pulled {
				pulled = true
				if err := n.pull(ctx, seq); err != nil {
					if n.iso.cutOff() {
						return errCutOff
					}
					return err
				}
			}
		}
	}
}

// pullAfter is how long a forwarded write's answer waits for the follow loop before its
// entries are read directly.
const pullAfter = 250 * time.Millisecond

// roleLoop follows the log while another node writes, and takes the lease when it is free.
func (n *node) roleLoop(ctx context.Context) {
	defer close(n.done)
	me, _ := json.Marshal(leaseHolder{Node: n.cfg.NodeName, Advertise: n.cfg.Advertise})
	poll := n.cfg.LeaseTTL / 10 // how soon after the lease expires a follower takes it
term:
	for ctx.Err() == nil {
		// Follower: apply the log in the background while watching the lease.
		fctx, stopFollowing := context.WithCancel(ctx)
		followed := make(chan error, 1)
		go func() {
			from, err := n.store.LogSeq()
			if err == nil {
				p := n.newPipeline(fctx)
				err = n.nlog.Follow(fctx, from+1, p.add)
				if perr := p.close(); perr != nil && fctx.Err() == nil {
					err = perr
				}
			}
			followed <- err
		}()
		acquired := false
		for !acquired && ctx.Err() == nil {
			if n.defersFounding() {
				select {
				case <-ctx.Done():
				case <-time.After(poll):
				}
				continue
			}
			ok, err := n.lease.TryAcquire(ctx, me)
			switch {
			case err != nil:
				n.log.Warn("the writer's lease could not be read", "err", err)
			case ok:
				acquired = true
				continue
			default:
				n.noteWriter(ctx)
			}
			select {
			case <-ctx.Done():
			case <-n.refollow: // the status loop found the follow loop stuck
				// Not waited for (see lead): Apply takes each entry once.
				stopFollowing()
				continue term
			case err := <-followed:
				if n.failIfTruncated(err) {
					stopFollowing()
					return // the node waits to be restarted
				}
				if ctx.Err() == nil {
					n.log.Error("following the log stopped; starting again", "err", err)
				}
				stopFollowing()
				continue term
			case <-time.After(poll):
			}
		}
		stopFollowing()
		if ctx.Err() != nil {
			<-followed
			return
		}
		// The term starts now: the lease is renewed from this moment, while the follow loop
		// winds down (a consumer being made waits out its attempt) and the store catches up.
		n.lead(ctx, me, followed)
	}
}

// noteWriter records the current lease holder, for forwarding.
func (n *node) noteWriter(ctx context.Context) {
	v, err := n.lease.Holder(ctx)
	if err != nil || v == nil {
		return
	}
	var h leaseHolder
	if json.Unmarshal(v, &h) != nil {
		return
	}
	if u, err := url.Parse(h.Advertise); err != nil || u.Host == "" {
		return
	}
	n.writer.Store(&h)
	n.loggedMu.Lock()
	defer n.loggedMu.Unlock()
	if n.logged != h {
		n.logged = h
		n.log.Info("the cluster's writer", "writer", h.Node, "advertise", h.Advertise)
	}
}

// onLead has f run at the start of every term of this node's as writer, on a goroutine, with
// a ctx that ends with the term — and now, if a term is under way (it may run twice then).
func (n *node) onLead(f func(ctx context.Context)) {
	n.leadHook.Store(&f)
	if n.leading.Load() {
		go f(context.Background())
	}
}

// lead is the node's term as writer: it catches up with the log while it already renews the
// lease (a catch-up may wait out a stream leader's election), then lets the store write, and
// renews the lease until it cannot (or the log fenced it); then the store turns replica again.
func (n *node) lead(ctx context.Context, me []byte, followed <-chan error) {
	caught := make(chan error, 1)
	acquired := time.Now()
	var caughtUp time.Duration
	go func() {
		// The follow loop is not waited for: stopping it can take seconds (its consumer may
		// be re-made after a node died), and pull needs none. Once the store leads it refuses
		// the loop's late applies.
		err := n.catchUp(ctx)
		caughtUp = time.Since(acquired)
		caught <- err
	}()
	go func() {
		<-followed
		n.log.Debug("the follow loop stopped", "after", time.Since(acquired))
	}()
	renew := time.NewTicker(n.cfg.LeaseTTL / 3)
	defer renew.Stop()
	lastRenewed := time.Now()
	leading := false
	// The term's own work ends with it: snapshots, and appends (one that waits on a NATS that
	// is gone would hold up the writes queued behind it long after another node took over).
	termCtx, endTerm := context.WithCancel(ctx)
	var termWork sync.WaitGroup
	defer termWork.Wait() // after endTerm (deferred below, so run first) stopped it
	defer endTerm()
	end := func(why string) {
		endTerm()
		if leading {
			n.endTerm(why)
		} else {
			n.log.Warn("this node did not start writing", "why", why)
		}
	}
	for renewals := 0; ; {
		select {
		case err := <-caught:
			caught = nil
			if err != nil {
				end("catching up with the log failed: " + err.Error())
				_ = n.lease.Release(context.WithoutCancel(ctx))
				return
			}
			last, err := n.store.LogSeq()
			if err != nil {
				end("reading the log position failed: " + err.Error())
				_ = n.lease.Release(context.WithoutCancel(ctx))
				return
			}
			if last, err = n.found(ctx, last); err != nil {
				end("founding the cluster failed: " + err.Error())
				_ = n.lease.Release(context.WithoutCancel(ctx))
				return
			}
			term := n.epoch.Add(1)
			n.store.Lead(&fencedLog{n: n, term: termCtx, after: last, prefix: fmt.Sprintf("%s.%d.%d.", n.cfg.NodeName, time.Now().UnixNano(), term)})
			leading = true
			n.leading.Store(true)
			n.writer.Store(&leaseHolder{Node: n.cfg.NodeName, Advertise: n.cfg.Advertise})
			n.signalApplied()
			n.log.Info("this node is the cluster's writer", "log_seq", last, "caught_up", caughtUp.Round(time.Millisecond))
			if n.nats != nil {
				go n.moveLeadersOff(ctx)
			}
			termWork.Go(func() { n.snapshotLoop(termCtx, acquired) })
			if f := n.leadHook.Load(); f != nil {
				termWork.Go(func() { (*f)(termCtx) })
			}
			continue
		case <-ctx.Done():
			end("shutting down")
			_ = n.lease.Release(context.Background())
			return
		case <-n.stepDown:
			end("the log has entries of another writer")
			// Given back at once: whoever holds the newest entries (or this node, once it has
			// caught up) can take it without waiting out the TTL.
			_ = n.lease.Release(context.WithoutCancel(ctx))
			return
		case <-renew.C:
		}
		rctx, cancel := context.WithTimeout(ctx, n.cfg.LeaseTTL/3)
		err := n.lease.Renew(rctx, me)
		cancel()
		switch {
		case err == nil:
			lastRenewed = time.Now()
			// The streams' leaders may come back to this machine (an election after another
			// node restarted): look again now and then.
			if renewals++; leading && n.nats != nil && renewals%6 == 0 {
				go n.moveLeadersOff(ctx)
			}
		case errors.Is(err, natslog.ErrLeaseLost):
			end("the lease went to another node")
			return
		case time.Since(lastRenewed) > n.cfg.LeaseTTL*2/3:
			// Past this another node may take the lease at any moment: stop before it does.
			end("the lease could not be renewed: " + err.Error())
			return
		}
	}
}

// moveLeadersOff has the log's and the lease's stream leaders move off this node's NATS server,
// asking again until they are elsewhere (at most a minute, or until ctx ends); failing only
// costs a slower failover, so it is logged.
func (n *node) moveLeadersOff(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	streams := []string{n.nlog.StreamName(), n.lease.StreamName()}
	var err error
	for len(streams) > 0 {
		var left []string
		for _, stream := range streams {
			mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			var elsewhere bool
			elsewhere, err = natslog.MoveLeaderOff(mctx, n.js, stream, n.nats.Name())
			cancel()
			if !elsewhere {
				left = append(left, stream)
			}
		}
		if streams = left; len(streams) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			n.log.Warn("a stream leader stays on the writer's machine", "streams", streams, "err", err)
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
	n.log.Info("the log's and the lease's leaders are on other machines")
}

func (n *node) endTerm(why string) {
	n.store.Follow()
	n.leading.Store(false)
	n.writer.Store(nil)
	select {
	case <-n.stepDown: // a fence noticed as the term ended for another reason
	default:
	}
	n.log.Warn("this node stopped writing", "why", why)
}

// fencedLog is the writer's CommitLog: each write set goes to the log after the entry the
// writer last appended (or applied); an entry of another writer there fences this one.
// Owned by the store's committer goroutine.
type fencedLog struct {
	n      *node
	term   context.Context // ends with the writer's term
	after  uint64
	prefix string // entry ids: node, term start and number, then the entry's position and the call
	// calls counts Append calls. Each call's entry id is its own: JetStream answers a publish
	// whose id it holds with the entry stored under that id, before it checks the expected
	// last sequence. Had a failed call's entry landed after all (its acknowledgement lost past
	// the timeout), a later commit reusing the id would be told it was stored at after+1
	// while the log holds the failed commit's write set there; with its own id it is fenced,
	// and the node catches up with what the log holds.
	calls uint64
}

// entryID is the id under which the next Append stores its entry (its retries within the call
// share it, so that a retry after a lost acknowledgement is stored once).
func (f *fencedLog) entryID() string {
	return f.prefix + strconv.FormatUint(f.after+1, 10) + "." + strconv.FormatUint(f.calls+1, 10)
}

func (f *fencedLog) Append(ctx context.Context, ws *bolt.WriteSet) (uint64, error) {
	id := f.entryID()
	f.calls++
	payload, err := ws.AppendBinary(nil)
	if err != nil {
		return 0, err
	}
	actx, cancel := context.WithTimeout(ctx, f.n.cfg.ForwardTimeout)
	defer cancel()
	defer context.AfterFunc(f.term, cancel)()
	seq, err := f.n.nlog.Append(actx, f.after, id, payload)
	if err != nil && f.term.Err() != nil {
		// The term ended while the entry was on its way: it may still land in the log (this
		// node then applies it as a replica), but nobody is told it was stored.
		return 0, bolt.ErrNotWriter
	}
	if errors.Is(err, natslog.ErrFenced) {
		select {
		case f.n.stepDown <- struct{}{}:
		default:
		}
		return 0, bolt.ErrNotWriter
	}
	if err != nil {
		return 0, err
	}
	f.after = seq
	return seq, nil
}

// forwards reports whether r is a write this node must forward: any request but a read or a
// stream, while another node writes.
func (n *node) forwards(r *http.Request) bool {
	return !n.leading.Load() && !isRead(r) && strings.HasPrefix(r.URL.Path, "/api/")
}

// isRead reports whether r only reads (streams included).
func isRead(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// handler forwards writes to the writer and serves everything else with next. A node cut off
// from the cluster (cluster_status.go) refuses streams and writes: it would serve a view that
// no longer changes, and could not apply the writes it forwards.
func (n *node) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = n.fromPeer(r, time.Now())
		if isStream(r) {
			ctx, end, ok := n.iso.addStream(r.Context())
			if !ok {
				writeUnavailable(w, msgCutOff)
				return
			}
			defer end()
			r = r.WithContext(ctx)
		}
		if n.leading.Load() {
			if isRead(r) {
				next.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(&logSeqWriter{ResponseWriter: w, store: n.store}, r)
			return
		}
		if !n.forwards(r) {
			n.serveRead(w, r, next)
			return
		}
		if n.iso.cutOff() {
			writeUnavailable(w, msgCutOff)
			return
		}
		writer := n.writer.Load()
		if writer == nil {
			// The role loop polls; a write need not wait for it, nor long for NATS.
			nctx, cancel := context.WithTimeout(r.Context(), time.Second)
			n.noteWriter(nctx)
			cancel()
			writer = n.writer.Load()
		}
		// Never forward to this node itself (the lease still names it for a while after it
		// stopped writing), nor a write another node forwarded here (the two would forward it
		// to each other until ForwardTimeout): the client's retry finds the new writer.
		if writer == nil || writer.Node == n.cfg.NodeName || forwardedHere(r) {
			writeUnavailable(w, "The cluster has no writer at the moment; try again.")
			return
		}
		ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), forwardTo{}, writer), n.cfg.ForwardTimeout)
		defer cancel()
		n.proxy.ServeHTTP(w, r.WithContext(ctx))
	})
}

// msgCutOff is the 503's message of a node cut off from the cluster.
const msgCutOff = "This node is cut off from the cluster; try another node."

// isolation is whether a node is cut off from the cluster (cluster_status.go decides), and the
// streams it serves. While cut off the node refuses new streams and writes, and becoming cut
// off ends the open streams (their clients reconnect, to a node that is not) and the forwarded
// writes waiting to be applied here. Safe for concurrent use.
type isolation struct {
	mu      sync.Mutex
	cut     bool
	lost    chan struct{} // closed while cut off; nil until first needed
	next    uint64
	streams map[uint64]context.CancelFunc
}

// addStream registers a stream whose request has context ctx: it returns the context to serve
// it with (cancelled when the node becomes cut off) and the function to call when it ends; ok
// is false, and nothing registered, while the node is cut off.
func (o *isolation) addStream(ctx context.Context) (_ context.Context, end func(), ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cut {
		return nil, nil, false
	}
	if o.streams == nil {
		o.streams = map[uint64]context.CancelFunc{}
	}
	ctx, cancel := context.WithCancel(ctx)
	id := o.next
	o.next++
	o.streams[id] = cancel
	return ctx, func() {
		o.mu.Lock()
		delete(o.streams, id)
		o.mu.Unlock()
		cancel()
	}, true
}

// set records whether the node is cut off, ending the open streams and waits when it becomes
// so; it reports whether that changed.
func (o *isolation) set(cut bool) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cut == cut {
		return false
	}
	o.cut = cut
	if cut {
		for _, cancel := range o.streams {
			cancel()
		}
		if o.lost == nil {
			o.lost = make(chan struct{})
		}
		close(o.lost)
	} else {
		o.lost = make(chan struct{})
	}
	return true
}

func (o *isolation) cutOff() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cut
}

// lostCh is closed once the node is cut off (at once if it is now).
func (o *isolation) lostCh() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.lost == nil {
		o.lost = make(chan struct{})
	}
	return o.lost
}

// errCutOff ends a forwarded write's wait for its entry when the node is cut off.
var errCutOff = errors.New("this node is cut off from the cluster")

// readCatchUp bounds how long a read on a replica waits to catch up with the log before it is
// answered anyway (from what the replica holds).
const readCatchUp = 2 * time.Second

// serveRead serves a read on a replica. The replica may be milliseconds behind a write the
// client made through another node; where that would mislead the client it catches up first: a
// stream resuming from an id (which this node may not hold yet: RESYNC instead of the events
// after it), and a request whose credentials are not known here yet (401 would sign the client
// out) — that one is answered again after the catch-up.
func (n *node) serveRead(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if isStream(r) && (r.Header.Get("Last-Event-ID") != "" || r.URL.Query().Get("lastEventId") != "") {
		n.catchUpFor(r)
		next.ServeHTTP(w, r)
		return
	}
	if r.Header.Get("Authorization") == "" && len(r.Cookies()) == 0 {
		next.ServeHTTP(w, r)
		return
	}
	probe := &unauthorizedProbe{w: w, header: http.Header{}}
	next.ServeHTTP(probe, r)
	if !probe.unauthorized {
		return
	}
	n.catchUpFor(r)
	next.ServeHTTP(w, r)
}

// catchUpFor brings the store up to the log's end, within readCatchUp.
func (n *node) catchUpFor(r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readCatchUp)
	defer cancel()
	if err := n.catchUp(ctx); err != nil && r.Context().Err() == nil {
		n.log.WarnContext(r.Context(), "a read was answered before this node caught up with the log", "err", err)
	}
}

func isStream(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") && strings.HasSuffix(r.URL.Path, "/stream")
}

// unauthorizedProbe passes a response through unless its status is 401, which it swallows
// (headers and body) for the request to be answered again. Headers go to their own map until
// the status is known.
type unauthorizedProbe struct {
	w            http.ResponseWriter
	header       http.Header
	wrote        bool
	unauthorized bool
}

func (p *unauthorizedProbe) Header() http.Header { return p.header }

func (p *unauthorizedProbe) WriteHeader(code int) {
	if p.wrote {
		return
	}
	p.wrote = true
	if code == http.StatusUnauthorized {
		p.unauthorized = true
		return
	}
	for k, v := range p.header {
		p.w.Header()[k] = v
	}
	p.w.WriteHeader(code)
}

func (p *unauthorizedProbe) Write(b []byte) (int, error) {
	if !p.wrote {
		p.WriteHeader(http.StatusOK)
	}
	if p.unauthorized {
		return len(b), nil
	}
	return p.w.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (a stream flushes and sets
// deadlines).
func (p *unauthorizedProbe) Unwrap() http.ResponseWriter { return p.w }

// Flush is for callers that ask for http.Flusher rather than use a ResponseController.
func (p *unauthorizedProbe) Flush() { _ = http.NewResponseController(p.w).Flush() }

// forwardTo is the context key of the writer a forwarded request goes to (*leaseHolder).
type forwardTo struct{}

// awaitForwarded holds the writer's answer until this node has applied what it depends on.
func (n *node) awaitForwarded(resp *http.Response) error {
	v := resp.Header.Get(HeaderLogSeq)
	if v == "" {
		return nil
	}
	seq, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return fmt.Errorf("bad %s %q", HeaderLogSeq, v)
	}
	start := time.Now()
	err = n.waitApplied(resp.Request.Context(), seq)
	if took := time.Since(start); took > slowApply {
		have, _ := n.store.LogSeq()
		n.log.Warn("a forwarded write's answer waited long for this node to apply its entry",
			"entry", seq, "applied", have, "took", took.Round(time.Millisecond), "err", err)
	}
	return err
}

// slowApply is how long a forwarded write's wait for its entry may take before it is logged.
const slowApply = 2 * time.Second

// logSeqWriter adds the store's log position to a writer's answers, as the answer is written:
// by then the request's writes are committed.
type logSeqWriter struct {
	http.ResponseWriter
	store   *bolt.Store
	written bool
}

func (w *logSeqWriter) WriteHeader(code int) {
	if !w.written {
		w.written = true
		if seq, err := w.store.LogSeq(); err == nil {
			w.Header().Set(HeaderLogSeq, strconv.FormatUint(seq, 10))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *logSeqWriter) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes, deadlines).
func (w *logSeqWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush is for callers that ask for http.Flusher rather than use a ResponseController.
func (w *logSeqWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

func writeUnavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": backend.EUNAVAILABLE, "message": msg}})
}

// clusterBroker is the API's broker on a cluster node: ephemeral chat events (typing, upload
// progress) go to every node through NATS; everything else is this node's.
type clusterBroker struct {
	backend.Broker
	n *node
}

func (b clusterBroker) Publish(events ...*backend.Event) {
	var shared []*backend.Event
	for _, ev := range events {
		switch ev.Type {
		case backend.EventTyping, backend.EventFileUploadProgress:
			shared = append(shared, ev)
		default:
			b.Broker.Publish(ev)
		}
	}
	if len(shared) == 0 {
		return
	}
	for _, ev := range shared {
		if err := ev.Seal(); err != nil {
			return
		}
	}
	payload, err := (&bolt.WriteSet{Events: shared}).AppendBinary(nil)
	if err == nil {
		err = b.n.nc.Publish(subjectEphemeral, payload)
	}
	if err != nil {
		b.n.log.Warn("an ephemeral event did not reach the other nodes", "err", err)
		b.Broker.Publish(shared...)
	}
}

// receiveEphemeral hands another node's (or this one's) ephemeral events to the local hub.
func (n *node) receiveEphemeral(m *nats.Msg) {
	ws, err := bolt.DecodeWriteSet(m.Data)
	if err != nil || len(ws.Ops) > 0 {
		n.log.Warn("an ephemeral event from the cluster could not be read", "err", err)
		return
	}
	n.hubPub.Publish(ws.Events...)
}

// close stops the node: the role loop (a writer gives its lease back), the NATS connection and
// the embedded NATS node.
func (n *node) close() {
	if n.stopAnnouncing != nil {
		n.stopAnnouncing()
	}
	if n.stop != nil {
		n.stop()
		<-n.done
	}
	n.files.close()
	if n.forwardConns != nil {
		n.forwardConns.CloseIdleConnections()
	}
	if n.beat != nil {
		n.beat.close()
	}
	if n.ephem != nil {
		_ = n.ephem.Unsubscribe()
	}
	if n.nc != nil {
		_ = n.nc.Drain()
		n.nc.Close()
	}
	if n.nats != nil {
		natslog.StopEmbedded(n.nats)
	}
}
