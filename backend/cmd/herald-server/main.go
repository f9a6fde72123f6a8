// Command herald-server is the Herald team server without a GUI: the REST API, the SSE streams
// and the web client on one address.
//
//	herald-server serve --addr 127.0.0.1:8080 --data-dir DIR [--keepalive 30s]
//	    [--tls-cert FILE --tls-key FILE | --tls-self-signed] [--public-url URL]
//	    [--backup-every 24h --backup-keep 7] [limits]
//	herald-server backup --data-dir DIR --to FILE
//	herald-server restore --from FILE --data-dir NEW
//
// Every abuse limit (connections, bodies, streams, sign-in, registration, messages, uploads) is
// a flag with a default; see --help. 0 turns a limit off.
//
// backup works while the server runs (through the data dir's backup socket) and when it does
// not; docs/BACKUP.md describes the archive. SIGINT or SIGTERM shut the server down gracefully.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // quiet hours need time zones on machines without /usr/share/zoneinfo

	"github.com/herald-chat/herald/backend/httpapi"
	"github.com/herald-chat/herald/backend/hub"
	"github.com/herald-chat/herald/backend/lan"
	"github.com/herald-chat/herald/backend/natslog"
	"github.com/herald-chat/herald/backend/teamserver"
	"github.com/herald-chat/herald/backend/tlscert"
	"github.com/herald-chat/herald/frontend"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "herald-server:", err)
		}
		os.Exit(2)
	}
}

const usage = `usage:
  herald-server serve [flags]                        run a Herald team server: the API under /api/, the web client at /
  herald-server backup --data-dir DIR --to FILE      write a backup of DIR (while its server runs, or not)
  herald-server restore --from FILE --data-dir NEW   restore a backup into a new data dir

herald-server COMMAND --help lists a command's flags.
`

// run is main without the process: ctx ends the server (or the backup), args exclude the
// program name.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "backup":
		return backupCommand(ctx, args[1:], stdout, stderr)
	case "restore":
		return restoreCommand(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	if cmd == "" {
		return errors.New("no command: serve, backup or restore")
	}
	return fmt.Errorf("unknown command %q: serve, backup or restore", cmd)
}

// serve is `herald-server serve`.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, fs := newFlags(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if opts.debug {
		level = slog.LevelDebug
	}
	var handler slog.Handler
	switch opts.logFormat {
	case "text":
		handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		return fmt.Errorf("--log-format %q: text or json", opts.logFormat)
	}
	log := slog.New(httpapi.LogHandler(handler))
	if opts.dataDir == "" {
		d, err := teamserver.UserDataDir("herald-server")
		if err != nil {
			return err
		}
		opts.dataDir = d
	}
	if opts.backupEvery < 0 || (opts.backupEvery > 0 && opts.backupEvery < time.Second) {
		return fmt.Errorf("--backup-every %s: 0 (no scheduled backups) or at least 1s", opts.backupEvery)
	}
	if opts.backupKeep < 1 {
		return fmt.Errorf("--backup-keep %d: at least 1", opts.backupKeep)
	}
	if opts.keepalive < 100*time.Millisecond {
		return fmt.Errorf("--keepalive %s is too short (at least 100ms)", opts.keepalive)
	}

	if opts.maxUploadMB < 1 {
		return fmt.Errorf("--max-upload-mb %d: at least 1", opts.maxUploadMB)
	}
	if opts.limits.bodyTimeout < time.Second {
		return fmt.Errorf("--body-timeout %s is too short (at least 1s)", opts.limits.bodyTimeout)
	}
	publicURL, err := parsePublicURL(opts.publicURL)
	if err != nil {
		return err
	}
	if (opts.tlsCert == "") != (opts.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if opts.tlsSelfSigned && opts.tlsCert != "" {
		return errors.New("--tls-self-signed or --tls-cert/--tls-key, not both")
	}
	var cert *tls.Certificate
	switch {
	case opts.tlsCert != "":
		c, err := tlscert.Load(opts.tlsCert, opts.tlsKey)
		if err != nil {
			return err
		}
		cert = &c
	case opts.tlsSelfSigned:
		var extra []string
		if publicURL != nil {
			extra = append(extra, publicURL.Hostname())
		}
		if u, err := url.Parse(opts.cluster.advertise); err == nil && u.Hostname() != "" {
			extra = append(extra, u.Hostname()) // the other nodes forward writes to it
		}
		c, created, err := tlscert.SelfSigned(opts.dataDir, extra...)
		if err != nil {
			return err
		}
		if created {
			log.Info("created a self-signed TLS certificate", "dir", opts.dataDir, "names", c.Leaf.DNSNames, "addresses", c.Leaf.IPAddresses)
		}
		cert = &c
	}
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	cfg := teamserver.Config{DataDir: opts.dataDir, Logger: log, WebClient: frontend.Dist(),
		Keepalive: opts.keepalive, MaxUpload: int64(opts.maxUploadMB) << 20,
		Certificate: cert, SelfSigned: opts.tlsSelfSigned, PublicURL: teamserver.DefaultPublicURL(ln.Addr(), cert != nil),
		BackupEvery: opts.backupEvery, BackupKeep: opts.backupKeep}
	if publicURL != nil {
		cfg.PublicURL = publicURL.String()
	}
	if err := opts.limits.apply(&cfg); err != nil {
		ln.Close()
		return err
	}
	if cfg.Cluster, err = opts.cluster.config(opts.dataDir); err != nil {
		ln.Close()
		return err
	}
	srv, err := teamserver.Open(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	scheme := "http"
	if cert != nil {
		scheme = "https"
	}
	log.Info("herald-server listening", "addr", ln.Addr().String(), "tls", cert != nil, "public_url", cfg.PublicURL,
		"data_dir", opts.dataDir, "keepalive", opts.keepalive, "backup_every", opts.backupEvery, "backup_keep", opts.backupKeep)
	fmt.Fprintf(stdout, "herald-server listening on %s://%s\n", scheme, ln.Addr())
	if fp := srv.TLSFingerprint(); fp != "" {
		log.Info("TLS certificate", "sha256", fp, "self_signed", opts.tlsSelfSigned)
		fmt.Fprintf(stdout, "herald-server certificate sha256 %s\n", fp)
	}

	if opts.announce {
		stop, err := announce(ctx, srv, ln.Addr().(*net.TCPAddr), cert != nil, opts.announceBy, log)
		if err != nil {
			_ = srv.Shutdown(context.Background())
			ln.Close()
			return fmt.Errorf("--announce: %w", err)
		}
		defer stop()
		fmt.Fprintf(stdout, "herald-server announcing %s on the local network\n", lan.Service)
	}

	var metricsSrv *http.Server
	if opts.metricsAddr != "" {
		mln, err := net.Listen("tcp", opts.metricsAddr)
		if err != nil {
			_ = srv.Shutdown(context.Background())
			ln.Close()
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		metricsSrv = &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(handler, slog.LevelWarn)}
		go func() { _ = metricsSrv.Serve(mln) }()
		log.Info("metrics listening", "addr", mln.Addr().String())
		fmt.Fprintf(stdout, "herald-server metrics on http://%s/metrics\n", mln.Addr())
		defer metricsSrv.Close()
	}

	if opts.pprofAddr != "" {
		pln, err := net.Listen("tcp", opts.pprofAddr)
		if err != nil {
			_ = srv.Shutdown(context.Background())
			ln.Close()
			return fmt.Errorf("--pprof-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		pprofSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(handler, slog.LevelWarn)}
		go func() { _ = pprofSrv.Serve(pln) }()
		log.Warn("pprof listening without authentication", "addr", pln.Addr().String())
		fmt.Fprintf(stdout, "herald-server pprof on http://%s/debug/pprof/\n", pln.Addr())
		defer pprofSrv.Close()
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var failed error
	select {
	case err := <-served:
		_ = srv.Shutdown(context.Background())
		return err
	case failed = <-srv.Failed():
		log.Error("shutting down: the server cannot go on; start it again", "err", failed)
	case <-ctx.Done():
		log.Info("shutting down")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serveErr := <-served; err == nil {
		err = serveErr
	}
	if failed != nil {
		return failed
	}
	if err == nil {
		log.Info("stopped")
	}
	return err
}

// announce announces srv's team, listening on addr, over mDNS until ctx ends or stop is called.
func announce(ctx context.Context, srv *teamserver.Server, addr *net.TCPAddr, useTLS bool, hostedBy string, log *slog.Logger) (stop func(), err error) {
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	team, err := srv.Store.Team(tctx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("read the team's name: %w", err)
	}
	return lan.Announce(ctx, lan.Announcement{Team: team.Name, Port: addr.Port, Fingerprint: srv.TLSFingerprint(),
		Version: lan.BuildVersion(), HostedBy: hostedBy, TLS: useTLS}, lan.AnnounceOptions{BindIP: addr.IP, Logger: log})
}

// parsePublicURL checks --public-url: "" (none), or an http(s) URL with a host and no path,
// query or fragment; a trailing slash is dropped.
func parsePublicURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--public-url %q: want https://host[:port] (no path)", s)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

type options struct {
	addr, dataDir   string
	keepalive       time.Duration
	maxUploadMB     int
	debug           bool
	logFormat       string
	metricsAddr     string
	pprofAddr       string
	tlsCert, tlsKey string
	tlsSelfSigned   bool
	publicURL       string
	backupEvery     time.Duration
	backupKeep      int
	announce        bool
	announceBy      string
	limits          limitFlags
	cluster         clusterFlags
}

// clusterFlags make the server a node of a cluster (docs/CLUSTER.md); all empty: a single server.
type clusterFlags struct {
	nodeName, advertise       string
	natsURLs                  hostList // --cluster: an external NATS JetStream
	embedded                  bool     // --nats-embedded
	natsAddr, natsClusterAddr string
	natsRoutes                hostList
	replicas                  int
	fileCacheGB               float64
	caFile                    string // --cluster-ca
}

func (c *clusterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.nodeName, "node-name", "", "cluster mode: this node's name, unique in the cluster")
	fs.StringVar(&c.advertise, "advertise", "", "cluster mode: the URL where the other nodes reach this node's HTTP API, e.g. https://n1.example:8443 (writes are forwarded to the writer's)")
	fs.Var(&c.natsURLs, "cluster", "cluster mode on an existing NATS JetStream: its URLs, nats://host:port[,…]")
	fs.BoolVar(&c.embedded, "nats-embedded", false, "cluster mode with a NATS node inside this server (needs --nats-addr, --nats-cluster-addr, --nats-routes)")
	fs.StringVar(&c.natsAddr, "nats-addr", "", "--nats-embedded: address of the NATS node's clients (host:port)")
	fs.StringVar(&c.natsClusterAddr, "nats-cluster-addr", "", "--nats-embedded: address the other NATS nodes route to (host:port)")
	fs.Var(&c.natsRoutes, "nats-routes", "--nats-embedded: the NATS nodes' cluster addresses, nats://host:port[,…] (this node's own may be among them)")
	fs.IntVar(&c.replicas, "cluster-replicas", 3, "cluster mode: NATS nodes that hold each log entry (1, 3 or 5)")
	fs.StringVar(&c.caFile, "cluster-ca", "", "cluster mode: PEM file of certificates to trust, besides the system's, when forwarding writes to another node's https:// --advertise URL (the nodes' self-signed certificates, or their private CA)")
	fs.Float64Var(&c.fileCacheGB, "cluster-file-cache-gb", 10, "cluster mode: GiB of this node's disk for copies of the cluster's files (the least recently downloaded go first; every file stays in NATS)")
}

// config returns the cluster configuration, nil for a single server.
func (c *clusterFlags) config(dataDir string) (*teamserver.ClusterConfig, error) {
	if c.nodeName == "" && c.advertise == "" && len(c.natsURLs) == 0 && !c.embedded {
		return nil, nil
	}
	if c.nodeName == "" || c.advertise == "" {
		return nil, errors.New("cluster mode needs --node-name and --advertise")
	}
	if c.embedded == (len(c.natsURLs) > 0) {
		return nil, errors.New("cluster mode needs either --cluster URLs or --nats-embedded")
	}
	switch c.replicas {
	case 1, 3, 5:
	default:
		return nil, fmt.Errorf("--cluster-replicas %d: want 1, 3 or 5", c.replicas)
	}
	if !(c.fileCacheGB >= 0.1 && c.fileCacheGB <= 1<<20) {
		return nil, fmt.Errorf("--cluster-file-cache-gb %g: want 0.1 to 1048576", c.fileCacheGB)
	}
	cfg := &teamserver.ClusterConfig{NodeName: c.nodeName, Advertise: c.advertise, NATS: c.natsURLs, Replicas: c.replicas,
		FileCacheBytes: int64(c.fileCacheGB * (1 << 30))}
	if c.caFile != "" {
		var err error
		if cfg.RootCAs, err = loadRoots(c.caFile); err != nil {
			return nil, err
		}
	}
	if c.embedded {
		if c.natsAddr == "" || c.natsClusterAddr == "" || len(c.natsRoutes) == 0 {
			return nil, errors.New("--nats-embedded needs --nats-addr, --nats-cluster-addr and --nats-routes")
		}
		cfg.Embedded = &natslog.EmbeddedConfig{Name: c.nodeName, StoreDir: filepath.Join(dataDir, "nats"),
			ClientAddr: c.natsAddr, ClusterAddr: c.natsClusterAddr, Routes: c.natsRoutes}
	}
	return cfg, nil
}

// loadRoots returns the system's certificate pool with the PEM certificates of file added;
// a file holding none is an error.
func loadRoots(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--cluster-ca: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool() // none on this system
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--cluster-ca %s: no PEM certificate in it", file)
	}
	return pool, nil
}

// hostList is a comma-separated flag of host names.
type hostList []string

func (l *hostList) String() string { return strings.Join(*l, ",") }
func (l *hostList) Set(v string) error {
	for _, h := range strings.Split(v, ",") {
		if h = strings.TrimSpace(h); h != "" {
			*l = append(*l, h)
		}
	}
	return nil
}

func newFlags(stderr io.Writer) (*options, *flag.FlagSet) {
	o := &options{}
	fs := flag.NewFlagSet("herald-server serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&o.dataDir, "data-dir", "", "directory of herald.db (default: the user's data directory/herald-server)")
	fs.DurationVar(&o.keepalive, "keepalive", 30*time.Second, "mean interval of keepalive comments on idle streams")
	fs.IntVar(&o.maxUploadMB, "max-upload-mb", 25, "largest file a member may upload, in MiB")
	fs.BoolVar(&o.debug, "debug", false, "log at debug level")
	fs.StringVar(&o.logFormat, "log-format", "text", "log lines as text (key=value) or json; every line of a request carries its request_id")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "",
		"also serve GET /metrics (Prometheus) on this address without authentication, for a scraper on a private interface (e.g. 127.0.0.1:9090); on the main address /metrics is for admins")
	fs.StringVar(&o.pprofAddr, "pprof-addr", "",
		"serve Go's profiler (/debug/pprof/) on this address without authentication, for measuring (e.g. 127.0.0.1:6060); never on a public interface")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate (chain); needs --tls-key")
	fs.StringVar(&o.tlsKey, "tls-key", "", "the PEM private key of --tls-cert")
	fs.BoolVar(&o.tlsSelfSigned, "tls-self-signed", false,
		"serve HTTPS with a self-signed certificate kept in the data dir (made on first start; its SHA-256 fingerprint is printed and goes into invite links)")
	fs.StringVar(&o.publicURL, "public-url", "",
		"base URL people reach the server at, e.g. https://chat.example.com; invite links are built from it (default: the listen address, for 0.0.0.0 the LAN address)")
	fs.DurationVar(&o.backupEvery, "backup-every", 0,
		"write a backup into the data dir's backups/ at this interval, e.g. 24h (0: no scheduled backups); the first is due one interval after the newest there")
	fs.IntVar(&o.backupKeep, "backup-keep", teamserver.DefaultBackupKeep, "how many backups backups/ keeps, the newest; older ones are removed after each backup")
	fs.BoolVar(&o.announce, "announce", false,
		"announce the team on the local network over mDNS/DNS-SD (_herald._tcp.local.: team name, port, certificate fingerprint, version) on the interfaces --addr serves, for the desktop app's Join screen")
	fs.StringVar(&o.announceBy, "announce-hosted-by", "", "--announce: who hosts the team, shown as \"hosted by …\" (default: nobody named)")
	o.limits.register(fs)
	o.cluster.register(fs)
	return o, fs
}

// limitFlags are the bounds on what clients can make the server do: rate limits (a burst and a
// refill interval or rate; 0 in either turns that limit off), the upload quota, and the
// connection, stream, body and replay bounds (0 turns a count off). apply checks them and puts
// them in the teamserver.Config (run checks the body timeout, which cannot be off).
type limitFlags struct {
	signInIPBurst, signInAccountBurst, registerIPBurst int
	signInIPEvery, signInAccountEvery, registerIPEvery time.Duration
	messageRate, reactionRate, searchRate              float64
	messageBurst, reactionBurst, searchBurst           int
	uploadQuotaMB                                      int64

	maxStreamsPerUser, replayLimit, maxConnsPerIP int
	bodyTimeout                                   time.Duration
	allowedHosts                                  hostList
	trustedProxies                                hostList

	chatBurst int // chat creations, DMs, joins, leaves and membership changes per user
	chatEvery time.Duration
}

func (l *limitFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&l.signInIPBurst, "signin-ip-burst", httpapi.DefaultSignInIPBurst, "sign-in attempts per client IP at once (0: no per-IP sign-in limit)")
	fs.DurationVar(&l.signInIPEvery, "signin-ip-every", httpapi.DefaultSignInIPEvery, "then one more sign-in attempt per client IP per this interval")
	fs.IntVar(&l.signInAccountBurst, "signin-account-burst", httpapi.DefaultSignInAccountBurst, "sign-in attempts per username at once, whether it exists or not; successful ones do not count (0: no per-account limit)")
	fs.DurationVar(&l.signInAccountEvery, "signin-account-every", httpapi.DefaultSignInAccountEvery, "then one more sign-in attempt per username per this interval")
	fs.IntVar(&l.registerIPBurst, "register-ip-burst", httpapi.DefaultRegisterIPBurst, "registrations per client IP at once (0: no registration limit)")
	fs.DurationVar(&l.registerIPEvery, "register-ip-every", httpapi.DefaultRegisterIPEvery, "then one more registration per client IP per this interval")
	fs.Float64Var(&l.messageRate, "message-rate", httpapi.DefaultMessageRate, "messages (and uploads) per second per user after the burst (0: no message limit)")
	fs.IntVar(&l.messageBurst, "message-burst", httpapi.DefaultMessageBurst, "messages (and uploads) per user at once (0: no message limit)")
	fs.Float64Var(&l.reactionRate, "reaction-rate", httpapi.DefaultReactionRate, "reactions, pins and message deletes per second per user after the burst (0: no limit)")
	fs.IntVar(&l.reactionBurst, "reaction-burst", httpapi.DefaultReactionBurst, "reactions, pins and message deletes per user at once (0: no limit)")
	fs.Float64Var(&l.searchRate, "search-rate", httpapi.DefaultSearchRate, "searches per second per user after the burst (0: no limit)")
	fs.IntVar(&l.searchBurst, "search-burst", httpapi.DefaultSearchBurst, "searches per user at once (0: no limit)")
	fs.IntVar(&l.chatBurst, "chat-burst", httpapi.DefaultChatBurst, "chat creations, DMs, joins, leaves, member and chat changes per user at once (0: no limit)")
	fs.DurationVar(&l.chatEvery, "chat-every", httpapi.DefaultChatEvery, "then one more chat change per user per this interval")
	fs.Int64Var(&l.uploadQuotaMB, "upload-quota-mb", httpapi.DefaultUploadQuota>>20, "MiB each user may upload per UTC day (0: no quota)")
	fs.IntVar(&l.maxStreamsPerUser, "max-streams-per-user", hub.DefaultMaxStreamsPerUser, "streams one user may hold open at once; beyond it 429 (0: no limit)")
	fs.IntVar(&l.maxConnsPerIP, "max-conns-per-ip", httpapi.DefaultMaxConnsPerIP, "connections one client address may hold open; beyond it 503 (0: no limit)")
	fs.DurationVar(&l.bodyTimeout, "body-timeout", httpapi.DefaultBodyTimeout, "time a request body may take to arrive (uploads: between two chunks); then 408")
	fs.IntVar(&l.replayLimit, "replay-limit", hub.DefaultReplayLimit, "logged events one resume may examine before it gets RESYNC instead (0: no limit)")
	fs.Var(&l.trustedProxies, "trusted-proxies", "comma-separated addresses or CIDR prefixes of reverse proxies in front of the server (e.g. 127.0.0.1,::1): their X-Forwarded-For names the client for rate limits and session IPs, and their connections are not bounded by --max-conns-per-ip")
	fs.Var(&l.allowedHosts, "allowed-hosts", "comma-separated host names that Host headers may name besides loopback, this machine's names and addresses and the public URL's host")
}

// apply puts the limits into cfg, or says which flag is out of range.
func (l *limitFlags) apply(cfg *teamserver.Config) error {
	var err error
	set := func(dst *httpapi.Limit, name string, burst int, every time.Duration) {
		switch {
		case err != nil:
		case burst < 0 || every < 0:
			err = fmt.Errorf("--%s-burst %d and --%s-every %s must not be negative", name, burst, name, every)
		case burst == 0 || every == 0:
			*dst = httpapi.Off
		default:
			*dst = httpapi.Limit{Burst: burst, Every: every}
		}
	}
	set(&cfg.SignInIP, "signin-ip", l.signInIPBurst, l.signInIPEvery)
	set(&cfg.SignInAccount, "signin-account", l.signInAccountBurst, l.signInAccountEvery)
	set(&cfg.RegisterIP, "register-ip", l.registerIPBurst, l.registerIPEvery)
	set(&cfg.Chats, "chat", l.chatBurst, l.chatEvery)
	perSecond := func(dst *httpapi.Limit, name string, rate float64, burst int) {
		switch {
		case err != nil:
		case rate < 0 || burst < 0:
			err = fmt.Errorf("--%s-rate %g and --%s-burst %d must not be negative", name, rate, name, burst)
		case rate == 0 || burst == 0:
			*dst = httpapi.Off
		case rate > 1e6:
			err = fmt.Errorf("--%s-rate %g: at most 1000000 per second (0 turns the limit off)", name, rate)
		default:
			*dst = httpapi.Limit{Burst: burst, Every: time.Duration(float64(time.Second) / rate)}
		}
	}
	perSecond(&cfg.Messages, "message", l.messageRate, l.messageBurst)
	perSecond(&cfg.Reactions, "reaction", l.reactionRate, l.reactionBurst)
	perSecond(&cfg.Searches, "search", l.searchRate, l.searchBurst)
	if err != nil {
		return err
	}
	switch {
	case l.uploadQuotaMB < 0 || l.uploadQuotaMB > 1<<32:
		return fmt.Errorf("--upload-quota-mb %d: between 0 (no quota) and %d", l.uploadQuotaMB, int64(1)<<32)
	case l.uploadQuotaMB == 0:
		cfg.UploadQuota = -1
	default:
		cfg.UploadQuota = l.uploadQuotaMB << 20
	}
	// teamserver.Config takes a negative count as off; the flags say 0.
	offIfZero := func(n int) int {
		if n <= 0 {
			return -1
		}
		return n
	}
	cfg.MaxStreamsPerUser, cfg.ReplayLimit = offIfZero(l.maxStreamsPerUser), offIfZero(l.replayLimit)
	cfg.MaxConnsPerIP, cfg.BodyTimeout, cfg.AllowedHosts = offIfZero(l.maxConnsPerIP), l.bodyTimeout, l.allowedHosts
	proxies, err := httpapi.ParseTrustedProxies(l.trustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	cfg.TrustedProxies = proxies
	return nil
}
