// Package app is Herald's desktop shell: the Wails lifecycle, host and join modes, the API proxy
// in front of the team server, the app's own stream subscription that drives native notifications,
// the tray and the unread badge, and the durable outbox. It is the only package that imports
// Wails, systray or beeep.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-chat/herald/app/local"
	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/client"
	"github.com/herald-chat/herald/backend/teamserver"
)

// DefaultHostAddr is where a hosted team server listens unless the user or --host says otherwise:
// every interface, so that the team reaches it over the LAN.
const DefaultHostAddr = "0.0.0.0:7878"

// Options configure the desktop app.
type Options struct {
	// DataDir holds the app's own file (app.db) and, in host mode, the team server's data
	// (server/). Default: the user's data directory/herald.
	DataDir string
	// HostAddr, when set, hosts a team server on this address without the first-run chooser.
	HostAddr string
	// JoinURL, when set, joins this team server without the chooser, signing in with Username and
	// Password (from HERALD_USERNAME / HERALD_PASSWORD, never from flags).
	JoinURL            string
	Username, Password string
	// DebugAddr, when set, also serves what the webview sees (/api/ through the proxy and
	// /desktop/) on this loopback address, for tests and debugging.
	DebugAddr string
	// NoLAN turns off announcing a hosted team on the local network and looking for teams there
	// (mDNS), whatever the settings say.
	NoLAN     bool
	WebClient fs.FS
	Logger    *slog.Logger
	// StartTray shows the tray item (default: the OS tray; tests pass their own).
	StartTray func(TrayMenu, *slog.Logger) (Tray, func(), error)
	// Notifier raises native notifications (default: beeep with AppIcon).
	Notifier Notifier
	// AppIcon is the app's icon (PNG) for native notifications.
	AppIcon []byte
	// Stdout receives machine-readable lines that tests and scripts wait for: "herald: pid N",
	// "herald: hosting https://ADDR", "herald: certificate sha256 FINGERPRINT" (right after it),
	// "herald: joined URL", "herald: state S", "herald: tray TOOLTIP", "herald: notified TITLE",
	// "herald: debug http://ADDR", "herald: lan announce ADDR" / "herald: lan announce off", "herald: lan teams N"
	// (each answer of GET /desktop/lan), "herald: error …", "herald: stopped".
	Stdout io.Writer
}

// Window is what the app asks of its window; the Wails implementation is wailsWindow.
type Window interface {
	SetTitle(title string)
	Show()
	Hide()
	Quit()
}

// App is the desktop app. Nothing starts before Startup (the Wails CLI runs main to generate
// bindings); Shutdown stops everything.
type App struct {
	opts   Options
	log    *slog.Logger
	out    *lineWriter
	osTray bool // the OS tray, not one a test passed in
	// nativeFailures counts native notifications the desktop did not show (no daemon, no bus).
	nativeFailures atomic.Int64
	nativeErr      func(error)            // counts a failed native notification; says so the first time
	icons          *avatarIcons           // the avatars native notifications show; set in startup
	startErr       atomic.Pointer[string] // why the app could not start, for the window
	started        atomic.Bool            // start has begun
	ready          chan struct{}          // closed when start has finished (well or not)

	ctx    context.Context
	cancel context.CancelFunc
	window Window
	store  *local.Store
	proxy  *APIProxy
	router *NotificationRouter
	outbox *outboxSender
	desk   http.Handler
	debug  *http.Server

	tray    Tray
	trayEnd func()

	showMu      sync.Mutex // serializes updateView's showing; taken before mu
	mu          sync.Mutex
	profile     local.Profile
	configured  bool
	hosted      *teamserver.Server
	hostedURL   string // the LAN URL others use, in host mode
	hostedBound string // the address the hosted server listens on, in host mode
	lan         lanState
	problem     string     // why the chosen team could not be started, "" when it runs
	run         *streamRun // the app's own stream, nil when not subscribed
	// transport carries everything the app sends to the team server: the proxy's requests and
	// httpClient's. Its TLS connections accept the certificate that pin names (see setPin).
	transport *http.Transport
	pin       atomic.Pointer[string]
	// httpClient carries the app's own calls to the team server (stream, unread count, outbox):
	// transport, no redirects.
	httpClient  *http.Client
	view        TrayView
	prefs       *backend.Preferences
	quitting    bool
	closing     bool // BeforeClose has let a close through: the window is going away
	unreadTimer *time.Timer
	lastIDSaved string
	// historyCached is, per chat, the newest message id whose page is in the offline cache.
	historyCached map[string]string
}

// New returns an App; nothing starts until Startup.
func New(opts Options) *App {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	osTray := opts.StartTray == nil
	if osTray {
		opts.StartTray = startTray
	}
	a := &App{
		opts: opts, osTray: osTray, log: opts.Logger, out: &lineWriter{w: opts.Stdout},
		ready:         make(chan struct{}),
		view:          TrayView{State: StateSignedOut},
		historyCached: map[string]string{},
	}
	a.transport = NewTransport(a.currentPin)
	a.httpClient = &http.Client{Transport: a.transport, CheckRedirect: client.NoRedirects}
	return a
}

// currentPin is the fingerprint the team server's certificate must have, "" for none (verify as
// usual). It is asked at every TLS handshake.
func (a *App) currentPin() string {
	if p := a.pin.Load(); p != nil {
		return *p
	}
	return ""
}

// setPin makes the app's connections accept exactly the certificate with fingerprint fp from
// now on ("" verifies as usual) and drops the connections made under the previous pin.
func (a *App) setPin(fp string) {
	if old := a.pin.Swap(&fp); old == nil || *old != fp {
		a.transport.CloseIdleConnections()
	}
}

// lineWriter prints the machine-readable lines, one at a time.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "herald: "+format+"\n", args...)
}

// Startup is Wails' OnStartup.
func (a *App) Startup(ctx context.Context) {
	a.start(ctx, wailsWindow{ctx})
}

// start brings the app up with window; errors are shown in the window and logged, never fatal.
func (a *App) start(ctx context.Context, window Window) {
	// The page's first requests wait for ready (Middleware): until the team is applied, the
	// app's answers would be wrong (a returning user would see the first-run chooser).
	a.started.Store(true)
	defer close(a.ready)
	a.ctx, a.cancel = context.WithCancel(ctx)
	a.window = window
	a.out.printf("pid %d", os.Getpid())
	if err := a.open(); err != nil {
		a.log.Error("desktop app did not start", "err", err)
		a.out.printf("error %v", err)
		msg := fmt.Sprintf("Herald could not open its data in %s: %v", a.opts.DataDir, err)
		if errors.Is(err, local.ErrLocked) {
			msg = "Another Herald is already running with the data in " + a.opts.DataDir + "."
		}
		a.startErr.Store(&msg)
		return
	}
	a.nativeErr = a.notifyFailed()
	var native Notifier = a.opts.Notifier
	if native == nil {
		icon := a.opts.AppIcon
		if icon == nil {
			icon = TrayView{State: StateLive}.Icon()
		}
		native = newNativeNotifier(a.opts.DataDir, icon)
	}
	// Native notifications are raised by one worker: a hung notification daemon (D-Bus waits up
	// to 25 s) or a slow avatar fetch must not stall the stream that routes them. A full queue
	// drops the newest.
	notes := make(chan Note, 32)
	a.icons = newAvatarIcons(filepath.Join(a.opts.DataDir, "avatars"), a.fetchAvatar, a.log)
	go func() {
		for {
			select {
			case <-a.ctx.Done():
				return
			case n := <-notes:
				if n.Icon == "" && n.ActorID != "" {
					n.Icon = a.icons.Path(a.ctx, n.ActorID)
				}
				if err := native.Notify(n); err != nil {
					a.nativeErr(err)
				} else {
					a.out.printf("notified %s", n.Title)
				}
			}
		}
	}()
	a.router = NewNotificationRouter(notifierFunc(func(n Note) error {
		select {
		case notes <- n:
		default:
			a.log.Warn("native notifications are backed up: one dropped", "title", n.Title)
		}
		return nil
	}), a.nativeErr)
	a.proxy = NewAPIProxy(a, a.store, a.store, a.transport, a.log)
	a.proxy.OnRead = a.scheduleUnread
	a.outbox = newOutboxSender(a.store, a.postQueued, a.Owner, a.log)
	a.outbox.OnRejected = func(item local.OutboxItem, err error) {
		// Nothing more can be done with it; the user at least learns which message and why.
		a.out.printf("not sent: %v", err)
		if nerr := native.Notify(Note{Title: "Message not sent", Body: fmt.Sprintf("%q: %v", summarize(item.Content, 80), err)}); nerr != nil {
			a.nativeErr(nerr)
		}
	}
	a.proxy.OnQueued = a.outbox.Wake
	a.desk = a.desktopAPI()
	a.outbox.Start(a.ctx)
	go a.housekeeping(a.ctx)
	go newWakeWatcher(func(reason string) {
		a.log.Info("reconnecting at once", "reason", reason)
		a.kick()
	}).Run(a.ctx)
	a.startTray()
	go a.quitOnSignal()

	if err := a.applyStartupProfile(); err != nil {
		a.log.Error("team", "err", err)
		a.out.printf("error %v", err)
	}
	if a.opts.DebugAddr != "" {
		a.serveDebug()
	}
	a.updateView(func(*TrayView) {})
}

func (a *App) open() error {
	if a.opts.DataDir == "" {
		dir, err := teamserver.UserDataDir("herald")
		if err != nil {
			return err
		}
		a.opts.DataDir = dir
	}
	if err := os.MkdirAll(a.opts.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	st, err := local.Open(filepath.Join(a.opts.DataDir, "app.db"))
	if err != nil {
		return err
	}
	a.store = st
	return nil
}

// Shutdown is Wails' OnShutdown: the stream, the hosted server and the local store close.
func (a *App) Shutdown(ctx context.Context) {
	a.stopStream() // waits for the stream and saves where it got to
	a.stopAnnouncing()
	a.stopBrowsing()
	if a.router != nil {
		a.router.Close()
	}
	if a.cancel != nil {
		a.cancel()
	}
	if a.debug != nil {
		_ = a.debug.Close()
	}
	a.mu.Lock()
	srv := a.hosted
	a.hosted = nil
	end := a.trayEnd
	a.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			a.log.Error("team server shutdown", "err", err)
		}
		cancel()
	}
	if end != nil {
		end()
	}
	if a.outbox != nil {
		a.outbox.Wait()
	}
	if a.store != nil {
		_ = a.store.Close()
	}
	a.out.printf("stopped")
}

// Middleware routes the webview's /api/ requests through the proxy to the team server and
// /desktop/ to the app's own endpoints; everything else goes to the embedded web client. It is
// the AssetServer Middleware, not its Handler: under `wails dev` the Handler would see GETs only
// after Vite.
func (a *App) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ours := strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/desktop/")
		switch {
		case ours && !a.started.Load():
			writeError(w, http.StatusServiceUnavailable, "unavailable", "Herald is starting.")
		case ours:
			select {
			case <-a.ready:
			case <-r.Context().Done():
				return
			}
			if msg := a.startErr.Load(); msg != nil {
				writeError(w, http.StatusInternalServerError, "internal", *msg)
			} else if strings.HasPrefix(r.URL.Path, "/api/") {
				a.proxy.ServeHTTP(w, r)
			} else {
				a.desk.ServeHTTP(w, r)
			}
		case a.isClientRoute(r):
			// /chats/…, /tasks/…, /join/…, /settings are the web client's own routes: index.html.
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/"
			next.ServeHTTP(w, r2)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// isClientRoute reports whether r asks for a page of the web client rather than a file of it.
func (a *App) isClientRoute(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead || r.URL.Path == "/" || a.opts.WebClient == nil {
		return false
	}
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if _, err := fs.Stat(a.opts.WebClient, name); err == nil {
		return false
	}
	return path.Ext(name) == ""
}

// serveDebug serves the webview's view of the app on a loopback address.
func (a *App) serveDebug() {
	ln, err := net.Listen("tcp", a.opts.DebugAddr)
	if err != nil {
		a.out.printf("error debug listener: %v", err)
		return
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		ln.Close()
		a.out.printf("error debug listener: %s is not a loopback address", ln.Addr())
		return
	}
	a.debug = &http.Server{Handler: debugGuard(a.Middleware(http.FileServerFS(a.opts.WebClient))), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.debug.Serve(ln) }()
	a.out.printf("debug http://%s", ln.Addr())
}

// debugGuard lets through only what a program on this machine sends to the debug listener,
// which answers as the signed-in user:
//   - a loopback Host (127.0.0.1:PORT, localhost:PORT, [::1]:PORT), else 421: a web page that
//     rebinds its own name to 127.0.0.1 sends its name;
//   - no Origin, or a loopback one, else 403: a page elsewhere may send requests but not hide
//     where it comes from;
//   - on /desktop/, a POST or PUT with a body only as Content-Type application/json, else 415:
//     text/plain and form bodies are what any page can post without a preflight.
func debugGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopbackHost(r.Host) {
			writeError(w, http.StatusMisdirectedRequest, backend.EFORBIDDEN, "The debug listener answers only to a loopback Host.")
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			u, err := url.Parse(origin)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !isLoopbackHost(u.Host) {
				writeError(w, http.StatusForbidden, backend.EFORBIDDEN, "The debug listener answers only to pages on this computer's loopback address.")
				return
			}
		}
		hasBody := r.ContentLength != 0 // -1: unknown (chunked), a body all the same
		if strings.HasPrefix(r.URL.Path, "/desktop/") && hasBody && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, backend.EUNSUPPORTED, "Send the body as Content-Type: application/json.")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// isLoopbackHost reports whether hostport (a Host header or an origin's host, port optional)
// names this computer's loopback: localhost, 127.0.0.0/8 or ::1.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
