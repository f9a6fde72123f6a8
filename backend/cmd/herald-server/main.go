// Command herald-server is the Herald team server without a GUI: the REST API, the SSE streams
// and the web client on one address.
//
//	herald-server serve --addr 127.0.0.1:8080 --data-dir DIR [--keepalive 30s]
//
// SIGINT or SIGTERM shut it down gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // quiet hours need time zones on machines without /usr/share/zoneinfo

	"github.com/herald-chat/herald/backend/httpapi"
	"github.com/herald-chat/herald/backend/hub"
	"github.com/herald-chat/herald/backend/teamserver"
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

const usage = `usage: herald-server serve [flags]

Runs a Herald team server: the API under /api/, the web client at /.

flags:
`

// run is main without the process: ctx ends the server, args exclude the program name.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprint(stderr, usage)
		_, fs := newFlags(stderr)
		fs.PrintDefaults()
		return errors.New("the only command is serve")
	}
	opts, fs := newFlags(stderr)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	level := slog.LevelInfo
	if opts.debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if opts.dataDir == "" {
		d, err := teamserver.UserDataDir("herald-server")
		if err != nil {
			return err
		}
		opts.dataDir = d
	}
	if opts.keepalive < 100*time.Millisecond {
		return fmt.Errorf("--keepalive %s is too short (at least 100ms)", opts.keepalive)
	}

	if opts.maxUploadMB < 1 {
		return fmt.Errorf("--max-upload-mb %d: at least 1", opts.maxUploadMB)
	}
	if opts.bodyTimeout < time.Second {
		return fmt.Errorf("--body-timeout %s is too short (at least 1s)", opts.bodyTimeout)
	}
	srv, err := teamserver.Open(teamserver.Config{DataDir: opts.dataDir, Logger: log, WebClient: frontend.Dist(),
		Keepalive: opts.keepalive, MaxUpload: int64(opts.maxUploadMB) << 20,
		MaxStreamsPerUser: offIfZero(opts.maxStreamsPerUser), ReplayLimit: offIfZero(opts.replayLimit),
		MaxConnsPerIP: offIfZero(opts.maxConnsPerIP), BodyTimeout: opts.bodyTimeout, AllowedHosts: opts.allowedHosts})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("herald-server listening", "addr", ln.Addr().String(), "data_dir", opts.dataDir, "keepalive", opts.keepalive)
	fmt.Fprintf(stdout, "herald-server listening on http://%s\n", ln.Addr())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		_ = srv.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serveErr := <-served; err == nil {
		err = serveErr
	}
	if err == nil {
		log.Info("stopped")
	}
	return err
}

type options struct {
	addr, dataDir string
	keepalive     time.Duration
	maxUploadMB   int
	debug         bool

	maxStreamsPerUser, replayLimit, maxConnsPerIP int
	bodyTimeout                                   time.Duration
	allowedHosts                                  hostList
}

// offIfZero maps a limit flag to teamserver.Config: the flag's 0 (off) is Config's negative.
func offIfZero(n int) int {
	if n <= 0 {
		return -1
	}
	return n
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
	fs.IntVar(&o.maxStreamsPerUser, "max-streams-per-user", hub.DefaultMaxStreamsPerUser, "streams one user may hold open at once; beyond it 429 (0: no limit)")
	fs.IntVar(&o.maxConnsPerIP, "max-conns-per-ip", httpapi.DefaultMaxConnsPerIP, "connections one client address may hold open; beyond it 503 (0: no limit)")
	fs.DurationVar(&o.bodyTimeout, "body-timeout", httpapi.DefaultBodyTimeout, "time a request body may take to arrive (uploads: between two chunks); then 408")
	fs.IntVar(&o.replayLimit, "replay-limit", hub.DefaultReplayLimit, "logged events one resume may examine before it gets RESYNC instead (0: no limit)")
	fs.Var(&o.allowedHosts, "allowed-hosts", "comma-separated host names that Host headers may name besides loopback, this machine's names and addresses and the public URL's host")
	return o, fs
}
