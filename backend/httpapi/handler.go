// Package httpapi is Herald's HTTP face: the REST routes, the three SSE streams, authentication
// (bearer tokens and session cookies), CSRF protection, and the static web client.
package httpapi

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/monitor"
)

// Defaults of Config.
const (
	DefaultKeepalive    = 30 * time.Second
	DefaultRetry        = 3 * time.Second
	DefaultWriteTimeout = 15 * time.Second
	DefaultSessionTTL   = 30 * 24 * time.Hour
	DefaultInviteTTL    = 7 * 24 * time.Hour
	// SessionCookie is the name of the HttpOnly cookie that carries a browser's session token.
	SessionCookie = "herald_session"
)

// Defaults of Config's abuse limits (issue 9): sign-in, registration, messages, uploads.
const (
	DefaultSignInIPBurst      = 20
	DefaultSignInIPEvery      = 3 * time.Second
	DefaultSignInAccountBurst = 10
	DefaultSignInAccountEvery = 30 * time.Second
	DefaultRegisterIPBurst    = 20
	DefaultRegisterIPEvery    = 3 * time.Second
	DefaultMessageBurst       = 30
	DefaultMessageRate        = 10      // messages per second per user
	DefaultUploadQuota        = 1 << 30 // bytes per user per UTC day (1 GiB)
)

// Config configures a Handler. Zero fields take the defaults above.
type Config struct {
	// Reads and Writes are the storage the routes use (store.go): every read goes through
	// Reads and every change through Writes, both required. One store is usually both
	// (bolt.Store); a node that does not own the writes gives a Writes that forwards them.
	// Optional abilities (finding a message by its clientId, loading search hits in one read,
	// counting chats, the store's size, the monitor's history) are looked for on Reads, Ping
	// (/readyz) on Writes.
	Reads  StoreReader
	Writes StoreWriter
	Broker backend.Broker
	// Presence hears of every stream that opens and closes (default: nobody).
	Presence backend.Presence
	Logger   *slog.Logger
	Clock    backend.Clock
	// WebClient is the built web client served at "/"; nil serves a page that says it is missing.
	WebClient fs.FS
	// Keepalive is the mean interval of the ": keepalive" comment on idle streams; each one is
	// jittered by ±10% so that many clients do not ping in step.
	Keepalive time.Duration
	// Retry is the reconnect delay (ms in the "retry:" field) streams announce at connect; each
	// stream gets it jittered up to +50%. On shutdown streams announce a delay spread over
	// [Retry, Retry+5s] so that clients do not come back all at once.
	Retry time.Duration
	// WriteTimeout bounds one write to a stream: a peer that stops reading is dropped after it.
	WriteTimeout time.Duration
	SessionTTL   time.Duration
	InviteTTL    time.Duration
	// Files stores and processes uploads; MaxUpload bounds one (bytes, default DefaultMaxUpload).
	Files     FileStorage
	MaxUpload int64
	// BodyTimeout bounds how long a request body may take to arrive (default
	// DefaultBodyTimeout); an upload's deadline moves with its progress instead.
	BodyTimeout time.Duration
	// PublicURL is the base URL people use to reach the server, e.g. https://chat.example.com or
	// https://192.168.1.20:7878 (no path); invite links are built from it. "" derives it from
	// the listen address the request arrived on (its scheme from TLS) — never from the request's
	// Host header, which the sender chooses. Its host is allowed in Host headers, with
	// AllowedHosts, loopback and the machine's own addresses and name; requests for any other
	// host are refused with 421 (DNS rebinding).
	PublicURL    string
	AllowedHosts []string
	// TLSFingerprint is the SHA-256 fingerprint (tlscert.Fingerprint) of the certificate the
	// server presents when it terminates TLS itself; GET /api/server shows it to requests that
	// came over TLS. "" without TLS.
	TLSFingerprint string
	// PinInvites puts TLSFingerprint into invite links (…/join/CODE#sha256=…), for a
	// self-signed certificate that nothing else vouches for: the desktop app pins it, a browser
	// shows it to compare. Leave it off for a CA-issued certificate, which is renewed.
	PinInvites bool

	// Abuse limits (issue 9). In each Limit a zero field takes its default and Off (a negative
	// field) turns the limit off; beyond a limit the answer is 429 with Retry-After.
	//
	// SignInIP limits sign-in attempts per client IP (default a burst of 20, then one per 3 s);
	// RegisterIP limits registrations per client IP in a bucket of its own (same defaults).
	SignInIP   Limit
	RegisterIP Limit
	// SignInAccount limits sign-in attempts per username, whether the account exists or not (a
	// limit only for real accounts would tell which ones exist): default a burst of 10, then one
	// per 30 s. It is checked after SignInIP, before the password; a successful sign-in gives its
	// token back, so the account's owner signing in does not use it up. The trade-off: someone
	// who keeps failing on an account from many addresses can hold its owner to one attempt per
	// Every (shared with them) for as long as they keep it up — slowed, never locked out for
	// good, and sessions already signed in (and bots' tokens) are not affected.
	SignInAccount Limit
	// Messages limits each user's message posts and file uploads together (default a burst of
	// 30, then 10 per second: a burst a fast typist never reaches). A retry of a message already
	// stored (the same clientId) is answered with it even beyond the limit.
	Messages Limit
	// Reactions limits each user's reactions, pins and message deletes together (default a
	// burst of 60, then 10 per second). Edits count against Messages.
	Reactions Limit
	// Chats limits each user's chat creations, DMs, joins, leaves, added and removed members
	// and chat changes together (default a burst of 30, then one per 2 s), so that nobody
	// creates chats without bound. An idempotent repeat (a DM or a join that exists) gives its
	// token back.
	Chats Limit
	// Searches limits each user's searches (GET /api/search; default a burst of 20, then 5 per
	// second). A malformed search is refused before it counts.
	Searches Limit
	// UploadQuota bounds the bytes each user may upload per UTC day (default
	// DefaultUploadQuota, 1 GiB); negative turns it off. Beyond it an upload is refused with 429
	// and Retry-After until midnight UTC, and leaves nothing on disk.
	UploadQuota int64
	// Uploads records files against their uploader's daily quota (default: Writes, which must
	// then implement UploadStore when Files is set).
	Uploads UploadStore
	// Search answers GET /api/search (nil: 503). When it can WaitFor an event id (search.Index
	// can), a search first waits, at most 2 s, for it to hold every event committed before.
	Search backend.Searcher
	// Avatars makes people's avatars from uploaded images (default: Files, when it can; nil
	// serves no avatar routes).
	Avatars AvatarMaker
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client (rate
	// limits, sessions' IPs, the monitor); none by default: the peer is the client.
	TrustedProxies TrustedProxies
	// Monitor is the health monitor the streams, requests and errors report to, served on
	// /metrics and /api/admin/monitor (nil: no monitor; /healthz and /readyz still answer).
	Monitor *monitor.Monitor
}

// Handler serves the API and the web client. Create it with New.
type Handler struct {
	cfg     Config
	reads   StoreReader
	writes  StoreWriter
	broker  backend.Broker
	log     *slog.Logger
	now     backend.Clock
	mux     *http.ServeMux
	handler http.Handler

	streamsMu    sync.Mutex // orders streams.Add against Shutdown's close and Wait
	shuttingDown bool
	readyz1      readyCache    // /readyz's last answer (monitor.go)
	shutdown     chan struct{} // closed by Shutdown: streams say goodbye
	// shutdownCtx is cancelled with shutdown, for streams to hook their goodbye on without a
	// goroutine each (context.AfterFunc).
	shutdownCtx  context.Context
	shutdownStop context.CancelFunc
	streams      sync.WaitGroup

	typingLimit   *keyedLimiter // per user: a burst of 5, then one per second
	passwordLimit *keyedLimiter // per user: password changes (each checks the current password)

	// Abuse limits of Config, nil when off.
	signInIP, signInAccount, registerIP *keyedLimiter
	messageLimit                        *keyedLimiter // per user: posts, edits and uploads
	reactionLimit                       *keyedLimiter // per user: reactions, pins, deletes
	searchLimit                         *keyedLimiter // per user: searches
	chatLimit                           *keyedLimiter // per user: chat and membership changes
	admin                               adminLimits   // admin.go
	profileLimit                        *keyedLimiter // per user: profile, avatar and away changes
	quietLimit                          *keyedLimiter // per user: quiet lookups (quiet.go)
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Presence == nil {
		cfg.Presence = backend.NopPresence{}
	}
	cfg.Keepalive = orDefault(cfg.Keepalive, DefaultKeepalive)
	cfg.Retry = orDefault(cfg.Retry, DefaultRetry)
	cfg.WriteTimeout = orDefault(cfg.WriteTimeout, DefaultWriteTimeout)
	cfg.SessionTTL = orDefault(cfg.SessionTTL, DefaultSessionTTL)
	cfg.InviteTTL = orDefault(cfg.InviteTTL, DefaultInviteTTL)
	cfg.BodyTimeout = orDefault(cfg.BodyTimeout, DefaultBodyTimeout)
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	cfg.SignInIP = cfg.SignInIP.withDefault(Limit{DefaultSignInIPBurst, DefaultSignInIPEvery})
	cfg.RegisterIP = cfg.RegisterIP.withDefault(Limit{DefaultRegisterIPBurst, DefaultRegisterIPEvery})
	cfg.SignInAccount = cfg.SignInAccount.withDefault(Limit{DefaultSignInAccountBurst, DefaultSignInAccountEvery})
	cfg.Messages = cfg.Messages.withDefault(Limit{DefaultMessageBurst, time.Second / DefaultMessageRate})
	cfg.Reactions = reactionLimitFor(cfg.Reactions)
	cfg.Searches = searchLimitFor(cfg.Searches)
	cfg.Chats = chatLimitFor(cfg.Chats)
	if cfg.UploadQuota == 0 {
		cfg.UploadQuota = DefaultUploadQuota
	}
	if cfg.Uploads == nil && cfg.Files != nil {
		u, ok := cfg.Writes.(UploadStore)
		if !ok {
			panic("httpapi: Config.Files needs Config.Uploads (or a Writes that implements UploadStore)")
		}
		cfg.Uploads = u
	}
	if a, ok := cfg.Files.(AvatarMaker); ok && cfg.Avatars == nil {
		cfg.Avatars = a
	}
	h := &Handler{
		cfg: cfg, reads: cfg.Reads, writes: cfg.Writes, broker: cfg.Broker, log: cfg.Logger, now: cfg.Clock,
		mux: http.NewServeMux(), shutdown: make(chan struct{}),
	}
	h.shutdownCtx, h.shutdownStop = context.WithCancel(context.Background())
	h.typingLimit = newKeyedLimiter(Limit{Burst: 5, Every: time.Second}, h.now)
	h.passwordLimit = newKeyedLimiter(Limit{Burst: 5, Every: 30 * time.Second}, h.now)
	h.signInIP = newKeyedLimiter(cfg.SignInIP, h.now)
	h.signInAccount = newKeyedLimiter(cfg.SignInAccount, h.now)
	h.registerIP = newKeyedLimiter(cfg.RegisterIP, h.now)
	h.messageLimit = newKeyedLimiter(cfg.Messages, h.now)
	h.reactionLimit = newKeyedLimiter(cfg.Reactions, h.now)
	h.searchLimit = newKeyedLimiter(cfg.Searches, h.now)
	h.chatLimit = newKeyedLimiter(cfg.Chats, h.now)
	h.profileLimit = newKeyedLimiter(Limit{Burst: 10, Every: 3 * time.Second}, h.now)
	h.quietLimit = newKeyedLimiter(Limit{Burst: quietBurst, Every: quietEvery}, h.now)
	h.routes()
	h.wireMonitor()
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, h.log, backend.Errorf(backend.EFORBIDDEN, "Cross-origin request refused."))
	}))
	// Outermost first: every request gets its id (logs, X-Request-Id, error bodies), every
	// answer carries the security headers (a refusal too), a foreign
	// Host is refused before anything else runs, bodies are bounded in time before any handler
	// reads one, and every answer under TLS carries HSTS.
	h.handler = requestIDs(securityHeaders(newHostGuard(cfg.PublicURL, cfg.AllowedHosts, h.log,
		bodyDeadline(cfg.BodyTimeout, hsts(csrf.Handler(h.mux))))))
	return h
}

// hsts tells a browser that reached the server over TLS to use only HTTPS for this host for a
// year: every answer to a TLS request carries Strict-Transport-Security: max-age=31536000.
// Without includeSubDomains: the host is often a LAN address, or a name whose other subdomains
// are not this server's. Plain-HTTP answers carry nothing (browsers ignore the header there).
func hsts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.handler.ServeHTTP(w, r) }

// Shutdown tells every open stream to announce a staggered retry and close, and waits for them
// (or ctx). Call it before http.Server.Shutdown, which waits only for idle connections.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.streamsMu.Lock()
	if !h.shuttingDown {
		h.shuttingDown = true
		close(h.shutdown)
		h.shutdownStop()
	}
	h.streamsMu.Unlock()
	done := make(chan struct{})
	go func() { h.streams.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// streamStarted registers a stream for Shutdown to wait for; false once shutdown has begun.
func (h *Handler) streamStarted() bool {
	h.streamsMu.Lock()
	defer h.streamsMu.Unlock()
	if h.shuttingDown {
		return false
	}
	h.streams.Add(1)
	return true
}

func (h *Handler) routes() {
	m := h.mux
	// Sign-in and registration are limited per client IP, each in its own bucket: they are where
	// passwords and invite codes are guessed. Sign-in is also limited per account (in login).
	m.Handle("POST /api/auth/register", h.limited(h.registerIP, h.handle(h.register)))
	m.Handle("POST /api/auth/login", h.limited(h.signInIP, h.handle(h.login)))
	m.Handle("POST /api/auth/logout", h.authed(h.logout))
	m.Handle("GET /api/me", h.authed(h.me))
	m.Handle("POST /api/invites", h.authed(h.createInvite))
	m.Handle("GET /api/users", h.authed(h.listUsers))
	m.Handle("GET /api/server", h.handle(h.serverInfo))
	m.Handle("GET /api/stats", h.authed(h.stats))

	m.Handle("GET /api/chats", h.authed(h.listChats))
	m.Handle("POST /api/chats", h.authed(h.createChat))
	m.Handle("GET /api/chats/{chatId}", h.authed(h.getChat))
	m.Handle("POST /api/chats/{chatId}/members", h.authed(h.addMember))
	m.Handle("GET /api/chats/browse", h.authed(h.browseChannels))
	m.Handle("PATCH /api/chats/{chatId}", h.authed(h.patchChat))
	m.Handle("POST /api/chats/{chatId}/join", h.authed(h.joinChat))
	m.Handle("POST /api/chats/{chatId}/leave", h.authed(h.leaveChat))
	m.Handle("DELETE /api/chats/{chatId}/members/{userId}", h.authed(h.removeMember))
	m.Handle("POST /api/dms", h.authed(h.createDM))
	m.Handle("GET /api/chats/{chatId}/messages", h.authed(h.listMessages))
	m.Handle("POST /api/chats/{chatId}/messages", h.authed(h.postMessage))
	m.Handle("POST /api/chats/{chatId}/typing", h.authed(h.typing))
	m.Handle("POST /api/chats/{chatId}/read", h.authed(h.markRead))
	m.Handle("GET /api/chats/{chatId}/quiet", h.authed(h.getQuiet))
	m.Handle("PATCH /api/chats/{chatId}/messages/{messageId}", h.authed(h.editMessage))
	m.Handle("DELETE /api/chats/{chatId}/messages/{messageId}", h.authed(h.deleteMessage))
	m.Handle("GET /api/chats/{chatId}/messages/{messageId}/replies", h.authed(h.listReplies))
	m.Handle("PUT /api/chats/{chatId}/messages/{messageId}/reactions/{emoji}", h.authed(h.react(true)))
	m.Handle("DELETE /api/chats/{chatId}/messages/{messageId}/reactions/{emoji}", h.authed(h.react(false)))
	// An empty emoji matches no {emoji}: it is refused like any other non-emoji (400).
	m.Handle("PUT /api/chats/{chatId}/messages/{messageId}/reactions/{$}", h.authed(h.react(true)))
	m.Handle("DELETE /api/chats/{chatId}/messages/{messageId}/reactions/{$}", h.authed(h.react(false)))
	m.Handle("GET /api/chats/{chatId}/pins", h.authed(h.listPins))
	m.Handle("PUT /api/chats/{chatId}/pins/{messageId}", h.authed(h.pin(true)))
	m.Handle("DELETE /api/chats/{chatId}/pins/{messageId}", h.authed(h.pin(false)))
	m.Handle("GET /api/search", h.authed(h.search))

	m.Handle("POST /api/me/password", h.authed(h.changePassword))
	m.Handle("POST /api/bots", h.authed(h.createBot))
	m.Handle("GET /api/bots", h.authed(h.listBots))
	m.Handle("POST /api/bots/{botId}/token", h.authed(h.rotateBotToken))
	m.Handle("DELETE /api/bots/{botId}/token", h.authed(h.revokeBotTokens))
	m.Handle("PUT /api/agents/me/status", h.authed(h.setAgentStatus))
	h.adminRoutes(m)
	h.monitorRoutes(m) // monitor.go
	h.peopleRoutes(m)  // profile.go

	if cfg := h.cfg; cfg.Files != nil {
		m.Handle("POST /api/chats/{chatId}/files", h.authed(h.uploadFile))
		m.Handle("GET /api/files/{fileId}", h.authed(h.downloadFile))
		m.Handle("GET /api/files/{fileId}/thumbnail", h.authed(h.downloadThumbnail))
	}
	m.Handle("POST /api/tasks", h.authed(h.createTask))
	m.Handle("GET /api/tasks/{taskId}", h.authed(h.getTask))
	m.Handle("POST /api/tasks/{taskId}/complete", h.authed(h.completeTask))
	m.Handle("POST /api/system/notifications", h.authed(h.sendSystemNotification))
	m.Handle("GET /api/notifications", h.authed(h.listNotifications))
	m.Handle("POST /api/notifications/read", h.authed(h.markNotifications(true)))
	m.Handle("POST /api/notifications/unread", h.authed(h.markNotifications(false)))
	m.Handle("DELETE /api/notifications", h.authed(h.clearNotifications))

	m.Handle("GET /api/preferences", h.authed(h.getPreferences))
	m.Handle("PUT /api/preferences", h.authed(h.putPreferences))

	m.Handle("GET /api/stream", h.streamRoute(h.userStream))
	m.Handle("GET /api/chat/{chatId}/stream", h.streamRoute(h.chatStream))
	m.Handle("GET /api/notifications/{userId}/stream", h.streamRoute(h.notificationStream))

	m.Handle("/api/", h.handle(func(w http.ResponseWriter, r *http.Request) error {
		return backend.Errorf(backend.ENOTFOUND, "No API route %s %s.", r.Method, r.URL.Path)
	}))
	m.Handle("/", h.webClient())
}

// handle adapts a handler that returns an error; the error is rendered by writeError and
// counted by the monitor, and POSTs are timed.
func (h *Handler) handle(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var began time.Time
		if r.Method == http.MethodPost {
			began = time.Now()
		}
		if err := fn(w, r); err != nil {
			code, status, message := writeError(w, r, h.log, err)
			h.cfg.Monitor.Error(code, status, r.Method, r.URL.Path, message)
		}
		if !began.IsZero() {
			h.cfg.Monitor.ObservePost(time.Since(began))
		}
	})
}
