// Package app is Herald's desktop shell: the Wails lifecycle, host and join modes, the API proxy
// in front of the team server, the app's own stream subscription that drives native notifications,
// the tray and the unread badge, and the durable outbox. It is the only package that imports
// Wails, systray or beeep.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	WebClient fs.FS
	Logger    *slog.Logger
	// StartTray shows the tray item (default: the OS tray; tests pass their own).
	StartTray func(TrayMenu, *slog.Logger) (Tray, func(), error)
	// Notifier raises native notifications (default: beeep with AppIcon).
	Notifier Notifier
	// AppIcon is the app's icon (PNG) for native notifications.
	AppIcon []byte
	// Stdout receives machine-readable lines that tests and scripts wait for: "herald: pid N",
	// "herald: hosting http://ADDR", "herald: joined URL", "herald: state S", "herald: tray TOOLTIP",
	// "herald: notified TITLE", "herald: debug http://ADDR", "herald: error …", "herald: stopped".
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
	startErr       atomic.Pointer[string] // why the app could not start, for the window

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

	mu           sync.Mutex
	profile      local.Profile
	configured   bool
	hosted       *teamserver.Server
	hostedURL    string // the LAN URL others use, in host mode
	streamCancel context.CancelFunc
	stream       *client.Stream
	view         TrayView
	prefs        *backend.Preferences
	quitting     bool
	unreadTimer  *time.Timer
	lastIDSaved  string
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
	return &App{opts: opts, osTray: osTray, log: opts.Logger, out: &lineWriter{w: opts.Stdout}, view: TrayView{State: StateSignedOut},
		historyCached: map[string]string{}}
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
	a.router = NewNotificationRouter(notifierFunc(func(title, body string) error {
		if err := native.Notify(title, body); err != nil {
			return err
		}
		a.out.printf("notified %s", title)
		return nil
	}), a.nativeErr)
	a.proxy = NewAPIProxy(a, a.store, a.store, nil, a.log)
	a.proxy.OnRead = a.scheduleUnread
	a.outbox = newOutboxSender(a.store, a.postQueued, a.log)
	a.outbox.OnRejected = func(item local.OutboxItem, err error) {
		// Nothing more can be done with it; the user at least learns which message and why.
		a.out.printf("not sent: %v", err)
		if nerr := native.Notify("Message not sent", fmt.Sprintf("%q: %v", summarize(item.Content, 80), err)); nerr != nil {
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

// applyStartupProfile follows --host / --join, or else the saved profile; without either the
// window shows the first-run chooser.
func (a *App) applyStartupProfile() error {
	saved, ok, err := a.store.Profile()
	if err != nil {
		return err
	}
	switch {
	case a.opts.HostAddr != "":
		p := local.Profile{Mode: local.ModeHost, HostAddr: a.opts.HostAddr, KeepInTray: saved.KeepInTray}
		if ok && saved.Mode == local.ModeHost {
			p.Token, p.Username, p.TeamName = saved.Token, saved.Username, saved.TeamName
		}
		return a.activate(p)
	case a.opts.JoinURL != "":
		u, err := parseServerURL(a.opts.JoinURL)
		if err != nil {
			return err
		}
		p := local.Profile{Mode: local.ModeJoin, ServerURL: u.String(), TeamName: u.Host, KeepInTray: saved.KeepInTray}
		if ok && saved.Mode == local.ModeJoin && saved.ServerURL == p.ServerURL {
			p.Token, p.Username = saved.Token, saved.Username
		}
		if a.opts.Username != "" && a.opts.Password != "" && !a.tokenStillGood(p, a.opts.Username) {
			c, err := client.New(p.ServerURL, "")
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(a.ctx, 30*time.Second)
			token, user, err := c.SignIn(ctx, a.opts.Username, a.opts.Password)
			cancel()
			if err != nil {
				// Keep going: the window shows sign-in, and a saved token may still work.
				a.out.printf("error sign-in as %s: %v", a.opts.Username, err)
			} else {
				if p.Username != user.Username {
					_ = a.store.SetLastEventID("")
				}
				p.Token, p.Username = token, user.Username
			}
		}
		return a.activate(p)
	case ok:
		return a.activate(saved)
	}
	return nil
}

// tokenStillGood reports whether p holds a session of username that the server still accepts, so
// a scripted start does not open a new session every time.
func (a *App) tokenStillGood(p local.Profile, username string) bool {
	if p.Token == "" || p.Username != username {
		return false
	}
	c, err := client.New(p.ServerURL, p.Token)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(a.ctx, 10*time.Second)
	defer cancel()
	u, err := c.Me(ctx)
	return err == nil && u.Username == username
}

// activate makes p the current team: hosts its server (host mode), points the proxy at it, saves
// it, and subscribes when signed in.
func (a *App) activate(p local.Profile) error {
	var upstream *url.URL
	switch p.Mode {
	case local.ModeHost:
		if p.HostAddr == "" {
			p.HostAddr = DefaultHostAddr
		}
		u, lan, bound, err := a.host(p.HostAddr)
		if err != nil {
			return err
		}
		if _, port, _ := net.SplitHostPort(p.HostAddr); port == "0" {
			p.HostAddr = bound // keep the port the system picked: invite links stay valid
		}
		if p.TeamName == "" {
			p.TeamName = defaultTeamName()
		}
		upstream = u
		a.mu.Lock()
		a.hostedURL = lan
		a.mu.Unlock()
	case local.ModeJoin:
		u, err := parseServerURL(p.ServerURL)
		if err != nil {
			return err
		}
		if p.TeamName == "" {
			p.TeamName = u.Host
		}
		upstream = u
		a.out.printf("joined %s", u)
	default:
		return fmt.Errorf("unknown mode %q", p.Mode)
	}
	if err := a.store.SaveProfile(p); err != nil {
		return err
	}
	a.mu.Lock()
	a.profile, a.configured = p, true
	a.mu.Unlock()
	a.proxy.SetUpstream(upstream)
	a.updateView(func(v *TrayView) { v.Team = p.TeamName })
	if p.Token != "" {
		a.startStream()
	} else {
		a.setState(StateSignedOut)
	}
	return nil
}

// host opens and serves the hosted team server on addr. It answers the URL the app itself uses
// (loopback), the one to give the team (a LAN address) and the address it listens on.
func (a *App) host(addr string) (self *url.URL, lan, bound string, err error) {
	a.mu.Lock()
	running := a.hosted != nil
	a.mu.Unlock()
	if running {
		return nil, "", "", backend.Errorf(backend.ECONFLICT, "A team server is already running in this app.")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", "", backend.Errorf(backend.ECONFLICT, "Cannot listen on %s: %v", addr, err)
	}
	srv, err := teamserver.Open(teamserver.Config{DataDir: filepath.Join(a.opts.DataDir, "server"), Logger: a.log, WebClient: a.opts.WebClient})
	if err != nil {
		ln.Close()
		return nil, "", "", err
	}
	go func() {
		if err := srv.Serve(ln); err != nil {
			a.log.Error("team server stopped", "err", err)
		}
	}()
	a.mu.Lock()
	a.hosted = srv
	a.mu.Unlock()
	tcp := ln.Addr().(*net.TCPAddr)
	selfHost := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		selfHost = "127.0.0.1"
	}
	self = &url.URL{Scheme: "http", Host: net.JoinHostPort(selfHost, fmt.Sprint(tcp.Port))}
	lan = "http://" + net.JoinHostPort(lanAddress(tcp.IP), fmt.Sprint(tcp.Port))
	a.log.Info("hosting team server", "addr", tcp.String(), "lan", lan)
	a.out.printf("hosting http://%s", tcp)
	return self, lan, tcp.String(), nil
}

// lanAddress is the address others on the network reach ip at: ip itself unless it is unspecified,
// then the first private IPv4 address of an interface that is up, else loopback.
func lanAddress(ip net.IP) string {
	if !ip.IsUnspecified() {
		return ip.String()
	}
	ifaces, _ := net.Interfaces()
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := iface.Addrs()
		for _, addr := range addrs {
			if n, ok := addr.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsPrivate() {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

func defaultTeamName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "My team"
}

// parseServerURL accepts an http(s) URL of a team server (any path is dropped).
func parseServerURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, backend.Errorf(backend.EINVALID, "%q is not a server address: use http://host:port or https://host.", s)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// Token, SignedIn and SignedOut make the App the proxy's Session.

func (a *App) Token() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.profile.Token
}

func (a *App) SignedIn(u *backend.User, token string) {
	a.mu.Lock()
	p := a.profile
	changedUser := p.Username != u.Username
	p.Token, p.Username = token, u.Username
	a.profile = p
	if changedUser {
		a.historyCached = map[string]string{}
	}
	a.mu.Unlock()
	if changedUser {
		_ = a.store.SetLastEventID("")
		_ = a.store.ClearCache()
	}
	if err := a.store.SaveProfile(p); err != nil {
		a.log.Error("save profile", "err", err)
	}
	a.log.Info("signed in", "user", u.Username)
	a.startStream()
}

func (a *App) SignedOut() {
	a.mu.Lock()
	if a.profile.Token == "" {
		a.mu.Unlock()
		return
	}
	a.profile.Token = ""
	p := a.profile
	a.mu.Unlock()
	if err := a.store.SaveProfile(p); err != nil {
		a.log.Error("save profile", "err", err)
	}
	a.stopStream()
	a.setState(StateSignedOut)
}

// apiClient is a client of the current team server as the signed-in user (nil when there is none).
func (a *App) apiClient() *client.Client {
	up := a.proxy.Upstream()
	token := a.Token()
	if up == nil || token == "" {
		return nil
	}
	c, err := client.New(up.String(), token, client.WithTimeout(20*time.Second))
	if err != nil {
		return nil
	}
	return c
}

// startStream (re)subscribes to the user's stream, resuming after the last event it saw.
func (a *App) startStream() {
	a.stopStream()
	c := a.apiClient()
	if c == nil {
		return
	}
	last, _ := a.store.LastEventID()
	ctx, cancel := context.WithCancel(a.ctx)
	s := c.NewStream(client.StreamOptions{
		LastEventID: last,
		OnEvent:     a.onEvent,
		OnState:     a.onStreamState,
		OnError:     func(err error) { a.log.Debug("stream", "err", err) },
	})
	a.mu.Lock()
	a.streamCancel, a.stream = cancel, s
	a.mu.Unlock()
	go func() {
		err := s.Run(ctx)
		if ctx.Err() != nil {
			return
		}
		if client.IsUnauthorized(err) {
			a.log.Info("the server ended the session")
			a.SignedOut()
			return
		}
		a.log.Error("stream stopped", "err", err)
	}()
}

func (a *App) stopStream() {
	a.mu.Lock()
	cancel := a.streamCancel
	a.streamCancel, a.stream = nil, nil
	a.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// kick reconnects the stream at once (after sleep or a network change) and retries the outbox.
func (a *App) kick() {
	a.mu.Lock()
	s := a.stream
	a.mu.Unlock()
	if s != nil {
		s.Kick()
	}
	a.outbox.Wake()
}

func (a *App) onStreamState(st client.State) {
	var state ConnState
	switch st {
	case client.Live:
		state = StateLive
	case client.Reconnecting:
		state = StateReconnecting
	default:
		state = StateConnecting
	}
	if state == StateLive {
		a.router.Reconnected() // what arrives first is the replay of what was missed
		a.outbox.Wake()
		go a.refreshPreferences()
		a.scheduleUnread()
	}
	a.setState(state)
}

func (a *App) onEvent(ev *backend.Event) {
	if ev.Notification != nil {
		a.routeNotification(ev.Notification)
	}
	switch ev.Type {
	case backend.EventPreferencesChanged:
		if ev.Preferences != nil {
			a.setPreferences(ev.Preferences)
		}
		a.scheduleUnread()
	case backend.EventNewMessage, backend.EventChatUpdated, backend.EventResync:
		a.scheduleUnread()
	}
}

func (a *App) routeNotification(n *backend.Notification) {
	a.router.Route(n)
}

// summarize cuts s to at most n runes, marking the cut.
func summarize(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// notifierFunc adapts a function to Notifier.
type notifierFunc func(title, body string) error

func (f notifierFunc) Notify(title, body string) error { return f(title, body) }

// notifyFailed logs the first failure to raise a native notification (no daemon, no bus) and
// stays quiet after that: the app runs on with its in-window toasts.
func (a *App) notifyFailed() func(error) {
	var once sync.Once
	return func(err error) {
		a.nativeFailures.Add(1)
		once.Do(func() {
			a.log.Warn("native notifications are unavailable", "err", err)
			a.out.printf("no native notifications: %v", err)
		})
	}
}

func (a *App) refreshPreferences() {
	c := a.apiClient()
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(a.ctx, 20*time.Second)
	defer cancel()
	p, err := c.Preferences(ctx)
	if err != nil {
		a.log.Debug("preferences", "err", err)
		return
	}
	a.setPreferences(p)
	a.scheduleUnread()
}

func (a *App) setPreferences(p *backend.Preferences) {
	a.mu.Lock()
	a.prefs = p
	a.mu.Unlock()
	a.router.SetNative(p.Native)
	a.refreshSilenced()
}

// refreshSilenced shows in the tooltip what silences notifications now; called when the
// preferences change and every second, so that do-not-disturb and quiet hours end on time there.
func (a *App) refreshSilenced() {
	a.mu.Lock()
	p := a.prefs
	signedIn := a.profile.Token != ""
	a.mu.Unlock()
	text := ""
	if p != nil && signedIn {
		text = p.SilencedBy(time.Now())
	}
	a.mu.Lock()
	same := a.view.Silenced == text
	a.mu.Unlock()
	if !same {
		a.updateView(func(v *TrayView) { v.Silenced = text })
	}
}

// scheduleUnread recounts the unread messages shortly: bursts of events cost one request.
func (a *App) scheduleUnread() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.unreadTimer != nil {
		a.unreadTimer.Stop()
	}
	a.unreadTimer = time.AfterFunc(250*time.Millisecond, a.recountUnread)
}

// recountUnread asks the server for the absolute unread count, muted chats excluded.
func (a *App) recountUnread() {
	c := a.apiClient()
	if c == nil || a.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(a.ctx, 20*time.Second)
	defer cancel()
	chats, err := c.Chats(ctx)
	if err != nil {
		a.log.Debug("unread count", "err", err)
		return
	}
	a.mu.Lock()
	var muted []string
	if a.prefs != nil {
		muted = a.prefs.MutedChats
	}
	a.mu.Unlock()
	n := client.TotalUnread(chats, muted)
	a.updateView(func(v *TrayView) { v.Unread = n })
	a.cacheHistory(ctx, c, chats)
}

// historyPageSize is the web client's page of messages (PAGE_SIZE in src/state/ChatStore.ts): the
// app caches each chat's latest page under the request the page makes for it.
const historyPageSize = 50

// cacheHistory keeps the latest page of every chat whose newest message changed, so that each chat
// can be read offline — also chats the window has not opened yet.
func (a *App) cacheHistory(ctx context.Context, c *client.Client, chats []*backend.ChatSummary) {
	for _, chat := range chats {
		a.mu.Lock()
		cached := a.historyCached[chat.ID]
		a.mu.Unlock()
		if chat.LastMessageID == "" || chat.LastMessageID == cached {
			continue
		}
		query := url.Values{"limit": {strconv.Itoa(historyPageSize)}}
		var page json.RawMessage
		path := "/api/chats/" + chat.ID + "/messages"
		if err := c.Do(ctx, http.MethodGet, path, query, nil, &page); err != nil {
			a.log.Debug("cache history", "chat", chat.ID, "err", err)
			return
		}
		entry := local.Cached{Body: page, ContentType: "application/json; charset=utf-8", StoredAt: time.Now()}
		if err := a.store.PutCached(path+"?"+query.Encode(), entry); err != nil {
			a.log.Warn("cache history", "chat", chat.ID, "err", err)
			return
		}
		a.mu.Lock()
		a.historyCached[chat.ID] = chat.LastMessageID
		a.mu.Unlock()
	}
}

func (a *App) setState(s ConnState) {
	changed := false
	a.updateView(func(v *TrayView) {
		changed = v.State != s
		v.State = s
	})
	if changed {
		a.out.printf("state %s", s)
	}
}

// updateView changes the tray view and shows it in the tray and the window title.
func (a *App) updateView(change func(*TrayView)) {
	a.mu.Lock()
	before := a.view
	change(&a.view)
	v := a.view
	tray := a.tray
	a.mu.Unlock()
	if tray != nil {
		tray.Show(v.Icon(), v.Tooltip())
	}
	if a.window != nil {
		a.window.SetTitle(v.WindowTitle())
	}
	if v != before || before.State == "" {
		a.out.printf("tray %s", v.Tooltip())
	}
}

func (a *App) startTray() {
	menu := TrayMenu{
		Open:         a.showWindow,
		DoNotDisturb: a.setDoNotDisturb,
		Quit:         a.quit,
	}
	tray, end, err := a.opts.StartTray(menu, a.log)
	if err != nil {
		a.log.Warn("running without a tray icon", "err", err)
		a.out.printf("no tray: %v", err)
		return
	}
	a.mu.Lock()
	a.tray, a.trayEnd = tray, end
	a.mu.Unlock()
	if trayHostMissing && a.osTray {
		a.log.Warn("no tray host (StatusNotifierWatcher) yet: the tray icon appears when one starts")
		a.out.printf("no tray host yet")
	}
}

// quitOnSignal quits on SIGINT or SIGTERM. Wails also handles them, by closing the window — which
// BeforeClose would turn into hiding it to the tray; marking the app as quitting first (or quitting
// again after the hide) makes a signal end the app.
func (a *App) quitOnSignal() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	select {
	case <-sigs:
		a.quit()
	case <-a.ctx.Done():
	}
}

func (a *App) showWindow() {
	if a.window != nil {
		a.window.Show()
	}
}

func (a *App) quit() {
	a.mu.Lock()
	a.quitting = true
	a.mu.Unlock()
	if a.window != nil {
		a.window.Quit()
	}
}

// setDoNotDisturb sets the server-side do-not-disturb preference from the tray: "1h", "tomorrow"
// (08:00 local time) or "off".
func (a *App) setDoNotDisturb(preset string) {
	c := a.apiClient()
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(a.ctx, 20*time.Second)
	defer cancel()
	p, err := c.Preferences(ctx)
	if err != nil {
		a.log.Error("do not disturb", "err", err)
		return
	}
	p.DoNotDisturb = DoNotDisturbPreset(preset, time.Now())
	if _, err := c.PutPreferences(ctx, *p); err != nil {
		a.log.Error("do not disturb", "err", err)
	}
}

// DoNotDisturbPreset is the do-not-disturb setting for a tray preset at now: "1h" → an hour from
// now, "tomorrow" → 08:00 local time on the next day, anything else → off (nil).
func DoNotDisturbPreset(preset string, now time.Time) *backend.DoNotDisturb {
	var until time.Time
	switch preset {
	case "1h":
		until = now.Add(time.Hour)
	case "tomorrow":
		y, m, d := now.Date()
		until = time.Date(y, m, d+1, 8, 0, 0, 0, now.Location())
	default:
		return nil
	}
	until = until.UTC().Truncate(time.Second)
	return &backend.DoNotDisturb{Until: &until}
}

// housekeeping runs once a second: it saves the stream's position when it moved, so a restart
// resumes (and does not notify again) without an fsync per event, and keeps the tooltip's
// do-not-disturb / quiet-hours note current.
func (a *App) housekeeping(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.saveLastEventID()
			a.refreshSilenced()
		}
	}
}

func (a *App) saveLastEventID() {
	a.mu.Lock()
	s := a.stream
	saved := a.lastIDSaved
	a.mu.Unlock()
	if s == nil {
		return
	}
	id := s.LastEventID()
	if id == "" || id == saved {
		return
	}
	if err := a.store.SetLastEventID(id); err != nil {
		a.log.Warn("save stream position", "err", err)
		return
	}
	a.mu.Lock()
	a.lastIDSaved = id
	a.mu.Unlock()
}

// postQueued sends one message from the outbox with the current team's client.
func (a *App) postQueued(ctx context.Context, item local.OutboxItem) error {
	c := a.apiClient()
	if c == nil {
		return errNotSignedIn
	}
	_, err := c.PostMessage(ctx, item.ChatID, item.Content, item.ClientID)
	return err
}

var errNotSignedIn = errors.New("not signed in")

// BeforeClose is Wails' OnBeforeClose: closing the window hides it to the tray, unless the user
// turned that off, there is no tray, or the app is quitting.
func (a *App) BeforeClose(ctx context.Context) (prevent bool) {
	a.mu.Lock()
	hide := !a.quitting && a.tray != nil && a.profile.HidesOnClose()
	a.mu.Unlock()
	if hide {
		a.window.Hide()
		a.out.printf("hidden to tray")
	}
	return hide
}

// SecondInstance brings the window forward when herald is started again.
func (a *App) SecondInstance(args []string) {
	a.log.Info("herald started again: showing the window", "args", args)
	a.out.printf("second instance")
	a.showWindow()
}

// Shutdown is Wails' OnShutdown: the stream, the hosted server and the local store close.
func (a *App) Shutdown(ctx context.Context) {
	a.saveLastEventID()
	a.stopStream()
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
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/") && a.proxy != nil:
			a.proxy.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/desktop/") && a.desk != nil:
			a.desk.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/desktop/"):
			if msg := a.startErr.Load(); msg != nil {
				writeError(w, http.StatusInternalServerError, "internal", *msg)
				return
			}
			writeError(w, http.StatusServiceUnavailable, "unavailable", "Herald is starting.")
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
	a.debug = &http.Server{Handler: a.Middleware(http.FileServerFS(a.opts.WebClient)), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.debug.Serve(ln) }()
	a.out.printf("debug http://%s", ln.Addr())
}
