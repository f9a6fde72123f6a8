// Command herald-server is the Herald team server without a GUI: the REST API, the SSE streams
// and the web client on one address.
//
//	herald-server serve --addr 127.0.0.1:8080 --data-dir DIR [--keepalive 30s] [limits]
//
// Every abuse limit (sign-in, registration, messages, uploads) is a flag with a default; see
// --help. 0 turns a limit off.
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
	"syscall"
	"time"
	_ "time/tzdata" // quiet hours need time zones on machines without /usr/share/zoneinfo

	"github.com/herald-chat/herald/backend/httpapi"
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
	cfg := teamserver.Config{DataDir: opts.dataDir, Logger: log, WebClient: frontend.Dist(),
		Keepalive: opts.keepalive, MaxUpload: int64(opts.maxUploadMB) << 20}
	if err := opts.limits.apply(&cfg); err != nil {
		return err
	}
	srv, err := teamserver.Open(cfg)
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
	limits        limitFlags
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
	o.limits.register(fs)
	return o, fs
}

// limitFlags are the abuse limits of issue 9. Each is a burst and a refill interval (or rate);
// 0 in either turns that limit off.
type limitFlags struct {
	signInIPBurst, signInAccountBurst, registerIPBurst int
	signInIPEvery, signInAccountEvery, registerIPEvery time.Duration
	messageRate                                        float64
	messageBurst                                       int
	uploadQuotaMB                                      int64
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
	fs.Int64Var(&l.uploadQuotaMB, "upload-quota-mb", httpapi.DefaultUploadQuota>>20, "MiB each user may upload per UTC day (0: no quota)")
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
	switch {
	case err != nil:
		return err
	case l.messageRate < 0 || l.messageBurst < 0:
		return fmt.Errorf("--message-rate %g and --message-burst %d must not be negative", l.messageRate, l.messageBurst)
	case l.messageRate == 0 || l.messageBurst == 0:
		cfg.Messages = httpapi.Off
	case l.messageRate > 1e6:
		return fmt.Errorf("--message-rate %g: at most 1000000 per second (0 turns the limit off)", l.messageRate)
	default:
		cfg.Messages = httpapi.Limit{Burst: l.messageBurst, Every: time.Duration(float64(time.Second) / l.messageRate)}
	}
	switch {
	case l.uploadQuotaMB < 0 || l.uploadQuotaMB > 1<<32:
		return fmt.Errorf("--upload-quota-mb %d: between 0 (no quota) and %d", l.uploadQuotaMB, int64(1)<<32)
	case l.uploadQuotaMB == 0:
		cfg.UploadQuota = -1
	default:
		cfg.UploadQuota = l.uploadQuotaMB << 20
	}
	return nil
}
