// Package app is Herald's desktop shell: the Wails lifecycle, the team server it hosts, and
// (in later work) the tray, native notifications and the offline outbox. It is the only package
// that imports Wails.
package app

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/herald-chat/herald/backend/teamserver"
)

// DefaultHostAddr is where a hosted team server listens unless --host says otherwise.
const DefaultHostAddr = "127.0.0.1:7878"

// Options configure the desktop app.
type Options struct {
	// DataDir holds the hosted team server's data (default: the user's data directory/herald).
	DataDir string
	// HostAddr is the address the hosted team server listens on for other members and browsers.
	HostAddr  string
	WebClient fs.FS
	Logger    *slog.Logger
	// Stdout receives machine-readable lines that tests and scripts wait for: "herald: pid N",
	// "herald: hosting http://ADDR", "herald: error …", "herald: stopped".
	Stdout io.Writer
}

// App is bound to the Wails window. Its team server starts in Startup, never before wails.Run
// (the Wails CLI runs main to generate bindings).
type App struct {
	opts   Options
	log    *slog.Logger
	ctx    context.Context
	server *teamserver.Server
	api    atomic.Pointer[http.Handler] // set once the server is up
}

// New returns an App; nothing starts until Startup.
func New(opts Options) *App {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.HostAddr == "" {
		opts.HostAddr = DefaultHostAddr
	}
	return &App{opts: opts, log: opts.Logger}
}

// Startup is Wails' OnStartup: it opens the hosted team server and starts listening.
func (a *App) Startup(ctx context.Context) {
	a.ctx = ctx
	fmt.Fprintf(a.opts.Stdout, "herald: pid %d\n", os.Getpid())
	if err := a.startServer(); err != nil {
		a.log.Error("team server did not start", "err", err)
		fmt.Fprintf(a.opts.Stdout, "herald: error %v\n", err)
	}
}

func (a *App) startServer() error {
	dir := a.opts.DataDir
	if dir == "" {
		d, err := teamserver.UserDataDir("herald")
		if err != nil {
			return err
		}
		dir = d
	}
	srv, err := teamserver.Open(teamserver.Config{DataDir: dir, Logger: a.log, WebClient: a.opts.WebClient})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.opts.HostAddr)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return fmt.Errorf("listen on %s: %w", a.opts.HostAddr, err)
	}
	a.server = srv
	h := srv.Handler()
	a.api.Store(&h)
	go func() {
		if err := srv.Serve(ln); err != nil {
			a.log.Error("team server stopped", "err", err)
		}
	}()
	a.log.Info("hosting team server", "addr", ln.Addr().String(), "data_dir", dir)
	fmt.Fprintf(a.opts.Stdout, "herald: hosting http://%s\n", ln.Addr())
	return nil
}

// Shutdown is Wails' OnShutdown: the hosted server closes its streams and its store.
func (a *App) Shutdown(ctx context.Context) {
	if a.server == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.server.Shutdown(ctx); err != nil {
		a.log.Error("team server shutdown", "err", err)
	}
	fmt.Fprintln(a.opts.Stdout, "herald: stopped")
}

// Middleware routes the webview's /api/ requests to the hosted team server; everything else goes
// to the embedded web client. It is the AssetServer Middleware, not its Handler: under `wails
// dev` the Handler would see GETs only after Vite.
func (a *App) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		h := a.api.Load()
		if h == nil {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"error":{"code":"unavailable","message":"The team server is starting."}}`)
			return
		}
		(*h).ServeHTTP(w, r)
	})
}
