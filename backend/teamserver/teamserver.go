// Package teamserver assembles a complete Herald team server from its parts (bbolt store, hub,
// HTTP API) so that herald-server and the desktop app's host mode run the same thing.
package teamserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/bolt"
	"github.com/herald-chat/herald/backend/files"
	"github.com/herald-chat/herald/backend/httpapi"
	"github.com/herald-chat/herald/backend/hub"
	"github.com/herald-chat/herald/backend/monitor"
	"github.com/herald-chat/herald/backend/search"
	"github.com/herald-chat/herald/backend/tlscert"
)

// Defaults of Config.
const (
	DefaultRetention     = 30 * 24 * time.Hour
	DefaultRetentionKeep = 1_000_000
	// DefaultNotificationRetention and DefaultNotificationKeep bound each user's history.
	DefaultNotificationRetention = 90 * 24 * time.Hour
	DefaultNotificationKeep      = 1_000
	pruneInterval                = time.Hour
	pruneBatch                   = 1_000 // ~12 ms of the committer per batch; writers queue meanwhile
	fileWorkers                  = 2     // processing is CPU-bound (hashing, decoding, scaling)
	fileQueue                    = 64    // uploads waiting for a worker; beyond it uploads get 503
	// clusterStartTimeout bounds connecting to a cluster: NATS, and its streams and buckets.
	clusterStartTimeout = 2 * time.Minute
	// clusterBootstrapTimeout bounds starting a node from a snapshot: downloading it (a store
	// of gigabytes on a LAN takes a minute or two) and adopting it.
	clusterBootstrapTimeout = time.Hour
	// maxResumedUploads bounds the unfinished uploads one start (or term) resumes: at most the
	// processing queue and its workers' at a crash, more only after many crashes in a row.
	maxResumedUploads = 10_000
	// clusterCatchUpTimeout bounds a joining node's catch-up with the log: at most
	// SnapshotEntries and what came since, at a thousand and more entries a second.
	clusterCatchUpTimeout = 10 * time.Minute
)

// Config configures a team server. Zero fields take the defaults of the packages they go to.
type Config struct {
	// NoMonitor turns the health monitor off (benchmarks compare with and without it): no
	// /metrics, no /api/admin/monitor, no history.
	NoMonitor bool
	// DataDir holds herald.db and the search index (search/); it is created (0700) if missing.
	DataDir   string
	Logger    *slog.Logger
	WebClient fs.FS
	// Keepalive is the mean interval of stream keepalive comments (default 30 s).
	Keepalive time.Duration
	// QueueSize bounds each stream subscriber's queue (default hub.DefaultQueueSize).
	QueueSize int
	// Retention is how long the event log keeps events for resuming streams (default 30 days);
	// RetentionKeep is how many it keeps at most (default 1,000,000). Messages are kept forever.
	Retention     time.Duration
	RetentionKeep int
	// NotificationRetention is how long a user's notification history keeps entries (default
	// 90 days); NotificationKeep how many per user at most (default 1,000).
	NotificationRetention time.Duration
	NotificationKeep      int
	// MaxUpload bounds one uploaded file (bytes, default httpapi.DefaultMaxUpload).
	MaxUpload int64
	// PresenceGrace is how long a member stays online after their last stream closed
	// (default presence.DefaultGrace, 30 s).
	PresenceGrace time.Duration
	// Certificate, when set, makes Serve answer HTTPS only (TLS 1.2 or later, HTTP/2 and
	// HTTP/1.1) with this certificate; nil serves plain HTTP. SelfSigned says that nothing but
	// its fingerprint vouches for it (tlscert.SelfSigned): invite links then carry the
	// fingerprint (#sha256=…) for clients to pin.
	Certificate *tls.Certificate
	SelfSigned  bool
	// PublicURL is the base URL people use to reach the server (invite links are built from
	// it), e.g. https://chat.example.com; DefaultPublicURL derives one from a listener. ""
	// builds links from the address each connection arrived on, never from its Host header.
	PublicURL string

	// Bounds on what clients can make the server hold. For each: 0 takes the default, a negative
	// value turns the bound off (herald-server's flags say 0 for that).
	//
	// MaxStreamsPerUser: streams one user may hold open (default hub.DefaultMaxStreamsPerUser).
	MaxStreamsPerUser int
	// ReplayLimit: logged events one resume may examine before it gets RESYNC (default
	// hub.DefaultReplayLimit).
	ReplayLimit int
	// MaxConnsPerIP: connections one client address may hold (default
	// httpapi.DefaultMaxConnsPerIP).
	MaxConnsPerIP int
	// BodyTimeout: how long a request body may take to arrive (default
	// httpapi.DefaultBodyTimeout).
	BodyTimeout time.Duration
	// AllowedHosts are host names besides loopback, the machine's own names and addresses (and
	// the public URL's host) that Host headers may name.
	AllowedHosts []string
	// TrustedProxies are reverse proxies in front of the server: their X-Forwarded-For names the
	// client, and their connections are not bounded by MaxConnsPerIP.
	TrustedProxies httpapi.TrustedProxies

	// Abuse limits, as in httpapi.Config (which documents them and their defaults): a zero field
	// takes httpapi's default, httpapi.Off turns a limit off.
	SignInIP, SignInAccount, RegisterIP httpapi.Limit
	// Messages limits each user's posts and uploads; UploadQuota bounds each user's uploaded
	// bytes per UTC day (negative: no quota).
	Messages    httpapi.Limit
	UploadQuota int64
	// Reactions limits each user's reactions, pins and message deletes.
	Reactions httpapi.Limit
	// Searches limits each user's searches.
	Searches httpapi.Limit
	// Chats limits each user's chat creations, DMs, joins, leaves and membership changes.
	Chats httpapi.Limit

	// BackupEvery, when positive, writes a backup into the data dir's BackupsDir at this
	// interval (see Server.backupLoop); 0 schedules none. BackupKeep is how many backups
	// BackupsDir keeps, the newest (default DefaultBackupKeep).
	BackupEvery time.Duration
	BackupKeep  int

	// Cluster, when set, makes this server a node of a cluster (cluster.go, docs/CLUSTER.md);
	// nil is a single server, which runs no NATS code at all.
	Cluster *ClusterConfig
}

// limit resolves a Config bound: 0 is def, negative is off (0 for the packages below).
func limit(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// DefaultPublicURL is the base URL of a server listening on addr: https when it terminates TLS,
// addr's host — for an unspecified one (0.0.0.0, ::) the LANAddress — and addr's port.
func DefaultPublicURL(addr net.Addr, https bool) string {
	scheme := "http"
	if https {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = LANAddress()
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// The store records uploads against the daily quota.
var _ httpapi.UploadStore = (*bolt.Store)(nil)

// Server is a running team server: open store, hub and API. Serve it on any number of
// listeners; Shutdown ends it.
type Server struct {
	cfg      Config
	log      *slog.Logger
	Store    *bolt.Store
	Hub      *hub.Hub
	API      *httpapi.Handler
	Presence Presence
	Files    *files.Processor
	Search   *search.Index
	http     *http.Server
	// fingerprint is the TLS certificate's (tlscert.Fingerprint), "" for plain HTTP.
	fingerprint string
	// Monitor is the health monitor (nil with Config.NoMonitor).
	Monitor     *monitor.Monitor
	stopBG      context.CancelFunc
	bgDone      chan struct{}
	monitorDone chan struct{} // closed when the monitor's loop returns
	statusDone  chan struct{} // closed when statusLoop returns
	backupDone  chan struct{} // closed when backupLoop returns (at once without BackupEvery)

	backups      backups
	backupHTTP   *http.Server // on BackupSocket; nil when it could not listen
	backupSocket string

	cluster *node // nil for a single server
}

// Open opens the data directory and assembles the server. It listens only on the data dir's
// BackupSocket (for `herald-server backup`); nothing listens on the network yet. With
// Config.BackupEvery it also starts the backup schedule.
func Open(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.RetentionKeep <= 0 {
		cfg.RetentionKeep = DefaultRetentionKeep
	}
	if cfg.NotificationRetention <= 0 {
		cfg.NotificationRetention = DefaultNotificationRetention
	}
	if cfg.NotificationKeep <= 0 {
		cfg.NotificationKeep = DefaultNotificationKeep
	}
	if cfg.BackupKeep <= 0 {
		cfg.BackupKeep = DefaultBackupKeep
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	var mon *monitor.Monitor
	if !cfg.NoMonitor {
		mon = monitor.New(cfg.Logger, nil)
	}
	var cluster *node
	if cfg.Cluster != nil {
		var err error
		if cluster, err = openNode(*cfg.Cluster, cfg.DataDir, cfg.Logger); err != nil {
			return nil, fmt.Errorf("join the cluster: %w", err)
		}
	}
	store, err := bolt.Open(filepath.Join(cfg.DataDir, "herald.db"), bolt.WithLogger(cfg.Logger), bolt.WithCommitObserver(mon.ObserveCommit))
	if err != nil {
		if cluster != nil {
			cluster.close()
		}
		return nil, err
	}
	if cfg.Cluster != nil {
		store.Follow() // a replica until the node takes the writer's lease: nothing writes before
	}
	hubOpts := []hub.Option{
		hub.WithMaxStreamsPerUser(limit(cfg.MaxStreamsPerUser, hub.DefaultMaxStreamsPerUser)),
		hub.WithReplayLimit(limit(cfg.ReplayLimit, hub.DefaultReplayLimit)),
	}
	if cfg.QueueSize > 0 {
		hubOpts = append(hubOpts, hub.WithQueueSize(cfg.QueueSize))
	}
	h := hub.New(store, hubOpts...)
	index, err := search.Open(filepath.Join(cfg.DataDir, "search"), store, store, search.WithLogger(cfg.Logger))
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	// The hub fans each commit out; the index only wakes its feeder, which reads the log.
	local := publishers{h, index}
	store.SetPublisher(local)
	var broker backend.Broker = h
	if cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), clusterCatchUpTimeout)
		err = cluster.join(ctx, store, h)
		cancel()
		if err != nil {
			cluster.close()
			_ = index.Close()
			_ = store.Close()
			return nil, fmt.Errorf("join the cluster: %w", err)
		}
		broker = clusterBroker{Broker: h, n: cluster}
		mon.SetCluster(cluster.beat.report) // before httpapi.New: its /metrics registry gets the gauges
		if u, err := url.Parse(cfg.Cluster.Advertise); err == nil {
			cfg.AllowedHosts = append(cfg.AllowedHosts, u.Hostname())
		}
	}
	closeCluster := func() {
		if cluster != nil {
			cluster.close()
		}
	}
	tracker, err := openPresence(cfg, cluster, store)
	if err != nil {
		closeCluster()
		_ = index.Close()
		_ = store.Close()
		return nil, fmt.Errorf("start presence: %w", err)
	}
	var fileOpts []files.Option
	if cluster != nil {
		fileOpts = cluster.fileOptions(cfg.MaxUpload) // bytes shared through the object store
	}
	processor, err := files.New(filepath.Join(cfg.DataDir, "files"), store, fileWorkers, fileQueue, cfg.Logger, fileOpts...)
	if err != nil {
		tracker.Close()
		closeCluster()
		_ = index.Close()
		_ = store.Close()
		return nil, err
	}
	// Bytes a crash left behind — a temp upload, a deleted message's file whose removal did not
	// happen — go before anything is served.
	if n, err := processor.Sweep(context.Background(), func(ctx context.Context, id string) (bool, error) {
		_, err := store.File(ctx, id)
		if backend.ErrorCode(err) == backend.ENOTFOUND {
			return false, nil
		}
		return err == nil, err
	}); err != nil {
		cfg.Logger.Error("sweeping the files directory", "err", err)
	} else if n > 0 {
		cfg.Logger.Info("removed files no record names", "count", n)
	}
	// Uploads a crash (or a cluster's writer that died) left processing: processed again when
	// their bytes are here, else recorded failed. A cluster's writer does it at each term's start.
	resumeUploads := func(ctx context.Context) {
		pending, err := store.UnfinishedFiles(ctx, maxResumedUploads)
		if err == nil && len(pending) > 0 {
			var queued, failed int
			queued, failed, err = processor.Resume(ctx, pending)
			cfg.Logger.Info("resumed the uploads left unprocessed", "queued", queued, "failed", failed)
		}
		if err != nil && ctx.Err() == nil && !errors.Is(err, files.ErrClosed) {
			cfg.Logger.Error("resuming the uploads left unprocessed", "err", err)
		}
	}
	if cluster != nil {
		cluster.sweepFiles(processor)
		cluster.onLead(resumeUploads)
	} else {
		resumeUploads(context.Background())
	}
	var fingerprint string
	if cfg.Certificate != nil {
		if len(cfg.Certificate.Certificate) == 0 {
			processor.Close()
			tracker.Close()
			closeCluster()
			_ = index.Close()
			_ = store.Close()
			return nil, errors.New("the TLS certificate is empty")
		}
		fingerprint = tlscert.Fingerprint(cfg.Certificate.Certificate[0])
	}
	api := httpapi.New(httpapi.Config{
		Reads: store, Writes: store, Broker: broker, Presence: tracker, Files: processor, MaxUpload: cfg.MaxUpload,
		Logger: cfg.Logger, WebClient: cfg.WebClient, Keepalive: cfg.Keepalive,
		BodyTimeout: cfg.BodyTimeout, AllowedHosts: cfg.AllowedHosts,
		PublicURL: cfg.PublicURL, TLSFingerprint: fingerprint, PinInvites: cfg.SelfSigned,
		SignInIP: cfg.SignInIP, SignInAccount: cfg.SignInAccount, RegisterIP: cfg.RegisterIP,
		Messages: cfg.Messages, Reactions: cfg.Reactions, Searches: cfg.Searches, Chats: cfg.Chats, UploadQuota: cfg.UploadQuota, Uploads: store, Search: index,
		Monitor: mon, TrustedProxies: cfg.TrustedProxies,
	})
	s := &Server{cfg: cfg, log: cfg.Logger, Store: store, Hub: h, API: api, cluster: cluster, Presence: tracker, Files: processor,
		Search: index, Monitor: mon, fingerprint: fingerprint, bgDone: make(chan struct{}), statusDone: make(chan struct{}),
		monitorDone: make(chan struct{}), backupDone: make(chan struct{})}
	var handler http.Handler = api
	if cluster != nil {
		handler = cluster.handler(api)
	}
	s.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	cl := httpapi.NewConnLimiter(limit(cfg.MaxConnsPerIP, httpapi.DefaultMaxConnsPerIP))
	if cl != nil {
		cl.OnRefuse = func() { mon.Refused(monitor.RefusedRateLimit) }
		cl.Trusted = cfg.TrustedProxies
		cl.Install(s.http)
	}
	if cluster != nil {
		cluster.clientIP = cfg.TrustedProxies.ClientIP
		cluster.trustPeer = cl.TrustPeer // a nil cl's is a no-op
	}
	if cfg.Certificate != nil {
		// ServeTLS adds "h2" and "http/1.1" to NextProtos: HTTP/2 lifts the browsers' limit of
		// six connections per origin, which a stream per tab would otherwise eat into.
		s.http.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*cfg.Certificate}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopBG = cancel
	go s.pruneLoop(ctx)
	go s.statusLoop(ctx)
	go func() {
		defer close(s.monitorDone)
		mon.Run(ctx, store)
	}()
	// Leftovers of a backup that died with its process go first: removed later, they could be
	// the temp file of the schedule's first backup, already under way.
	s.removeBackupLeftovers()
	if cfg.BackupEvery > 0 {
		go s.backupLoop(ctx)
	} else {
		close(s.backupDone)
	}
	s.serveBackupSocket()
	return s, nil
}

// MetricsHandler serves the Prometheus metrics without authentication, for a listener of its
// own on a private interface (--metrics-addr); nil when the monitor is off.
func (s *Server) MetricsHandler() http.Handler {
	if s.Monitor == nil {
		return nil
	}
	m := http.NewServeMux()
	m.Handle("GET /metrics", monitor.MetricsHandler(s.Monitor.Registry()))
	return m
}

// Handler is the server's http.Handler, for serving on a listener of one's own (teamservertest).
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Leading reports whether this server writes: a single server always, a cluster node while it
// holds the writer's lease.
func (s *Server) Leading() bool { return s.cluster == nil || s.cluster.leading.Load() }

// TLSFingerprint is the SHA-256 fingerprint of the server's certificate (tlscert.Fingerprint),
// "" when it serves plain HTTP.
func (s *Server) TLSFingerprint() string { return s.fingerprint }

// Serve answers requests on ln until Shutdown — HTTPS when Config.Certificate is set, else
// HTTP; it returns nil after a graceful shutdown. One client address holds at most
// Config.MaxConnsPerIP connections at once, over all listeners.
func (s *Server) Serve(ln net.Listener) error {
	var err error
	if s.http.TLSConfig != nil {
		err = s.http.ServeTLS(ln, "", "")
	} else {
		err = s.http.Serve(ln)
	}
	if !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	return nil
}

// Failed delivers, once, why the server cannot go on serving and must be restarted: a cluster
// node whose store fell behind what the cluster's log keeps (a restart starts it from a
// snapshot). A single server never fails this way: nil, which blocks forever.
func (s *Server) Failed() <-chan error {
	if s.cluster == nil {
		return nil
	}
	return s.cluster.failed
}

// Shutdown ends the server gracefully: streams announce a staggered retry and close, in-flight
// requests finish (until ctx ends), the hub and the search index stop, and the store commits
// what is queued and closes. A scheduled backup in progress is abandoned (its temp file
// removed); so is one through the backup socket.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopBG()
	<-s.bgDone
	<-s.statusDone
	<-s.monitorDone
	<-s.backupDone
	s.closeBackupSocket()
	errs := []error{}
	if err := s.API.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("close streams: %w", err))
	}
	if err := s.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("finish requests: %w", err))
	}
	s.Files.Close() // finishes the files in progress while the store is still open
	s.Presence.Close()
	if s.cluster != nil {
		s.cluster.close() // a writer gives its lease back
	}
	s.Hub.Close()
	if err := s.Search.Close(); err != nil { // its feeder reads the store
		errs = append(errs, err)
	}
	if err := s.Store.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// publishers hands each commit's events to every publisher, in order.
type publishers []backend.Publisher

func (ps publishers) Publish(events ...*backend.Event) {
	for _, p := range ps {
		p.Publish(events...)
	}
}

// statusSweepEvery is how often expired status lines are cleared and announced (USER_UPDATED):
// a status reads as cleared from its expiry on, and open clients hear of it within this.
const statusSweepEvery = 15 * time.Second

// statusLoop clears expired status lines until ctx ends.
func (s *Server) statusLoop(ctx context.Context) {
	defer close(s.statusDone)
	t := time.NewTicker(statusSweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.Store.Following() {
			continue // the writer clears them
		}
		if _, err := s.Store.ExpireStatuses(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Error("clear expired statuses", "err", err)
		}
	}
}

func (s *Server) pruneLoop(ctx context.Context) {
	defer close(s.bgDone)
	t := time.NewTicker(pruneInterval)
	defer t.Stop()
	for {
		if s.Store.Following() {
			select { // the writer prunes; its deletes reach this node through the log
			case <-ctx.Done():
				return
			case <-t.C:
				continue
			}
		}
		n, err := s.Store.PruneEvents(ctx, time.Now().Add(-s.cfg.Retention), s.cfg.RetentionKeep, pruneBatch)
		if err != nil && ctx.Err() == nil {
			s.log.Error("prune event log", "err", err)
		} else if n > 0 {
			s.log.Info("pruned event log", "events", n)
		}
		n, err = s.Store.PruneNotifications(ctx, time.Now().Add(-s.cfg.NotificationRetention), s.cfg.NotificationKeep, pruneBatch)
		if err != nil && ctx.Err() == nil {
			s.log.Error("prune notification history", "err", err)
		} else if n > 0 {
			s.log.Info("pruned notification history", "entries", n)
		}
		n, err = s.Store.PruneExpired(ctx, time.Now(), pruneBatch)
		if err != nil && ctx.Err() == nil {
			s.log.Error("prune expired sessions and invites", "err", err)
		} else if n > 0 {
			s.log.Info("pruned expired sessions and invites", "records", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
