package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/herald-chat/herald/app/local"
	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/client"
)

// Session is where the API proxy keeps the signed-in user's bearer token. The token never reaches
// the webview: the proxy adds it to each request and takes it out of sign-in answers.
type Session interface {
	// Token is the bearer token, or "" when nobody is signed in.
	Token() string
	// SignedIn stores the token of a sign-in, registration or first-run setup.
	SignedIn(user *backend.User, token string)
	// SignedOut forgets the token: the user signed out, or the server no longer knows it.
	SignedOut()
	// Owner names the signed-in user of this team, for the messages the outbox keeps for them.
	Owner() string
}

// Outbox is the durable queue of messages written while the team server was unreachable.
type Outbox interface {
	EnqueueItem(it local.OutboxItem, now time.Time) (local.OutboxItem, bool, error)
	OutboxLen() (int, error)
}

// ResponseCache keeps recent API answers so that history can be read offline.
type ResponseCache interface {
	PutCached(key string, c local.Cached) error
	Cached(key string) (local.Cached, bool, error)
}

// maxProxiedJSON bounds the bodies the proxy reads itself (posts, sign-in answers): the server's
// own JSON body limit.
const maxProxiedJSON = backend.MaxJSONBody

// maxCachedResponse is the largest answer kept for offline reading.
const maxCachedResponse = 1 << 20

var (
	postMessagePath = regexp.MustCompile(`^/api/chats/([0-9A-Za-z]{26})/messages$`)
	readPath        = regexp.MustCompile(`^/api/chats/[0-9A-Za-z]{26}/read$`)
	cacheablePath   = regexp.MustCompile(`^/api/(me|users|chats|chats/[0-9A-Za-z]{26}|chats/[0-9A-Za-z]{26}/messages|preferences|server|notifications)$`)
)

// APIProxy carries the webview's /api/ requests to the team server — the hosted one over
// loopback or a remote one — adding the user's bearer token. It streams SSE without buffering,
// keeps the token out of the webview, answers from its cache when the server is unreachable, and
// queues posts in the durable outbox then (202) instead of failing them. Safe for concurrent use.
type APIProxy struct {
	upstream atomic.Pointer[url.URL]
	session  Session
	outbox   Outbox
	cache    ResponseCache
	log      *slog.Logger
	// OnQueued is called after a post went into the outbox, OnRead after a read marker moved
	// (the unread count changed), OnSessionChange after a sign-in or sign-out.
	OnQueued, OnRead func()
	now              func() time.Time
	transport        http.RoundTripper
	proxy            *httputil.ReverseProxy
}

// NewTransport is the transport for the team server: http.DefaultTransport with timeouts that
// notice a server gone silent (a sleeping laptop's dead connections, a half-open network) in
// seconds rather than minutes. The response-header timeout does not cut SSE streams short: the
// server answers their headers at once. Its TLS connections accept exactly the certificate whose
// fingerprint pin answers at each handshake, or verify as usual when it answers "" or is nil
// (client.TLSConfig).
func NewTransport(pin func() string) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = client.TLSConfig(pin)
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 30 * time.Second
	t.IdleConnTimeout = 60 * time.Second
	return t
}

// NewAPIProxy returns a proxy without an upstream: until SetUpstream it answers 503. A nil
// transport means NewTransport(nil).
func NewAPIProxy(session Session, outbox Outbox, cache ResponseCache, transport http.RoundTripper, log *slog.Logger) *APIProxy {
	if transport == nil {
		transport = NewTransport(nil)
	}
	p := &APIProxy{session: session, outbox: outbox, cache: cache, log: log, now: time.Now,
		transport: transport, OnQueued: func() {}, OnRead: func() {}}
	p.proxy = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      transport,
		FlushInterval:  -1, // every write of an SSE stream goes out at once
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.upstreamFailed,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return p
}

// SetUpstream points the proxy at a team server's base URL (nil: none).
func (p *APIProxy) SetUpstream(u *url.URL) { p.upstream.Store(u) }

// Upstream is the current team server, or nil.
func (p *APIProxy) Upstream() *url.URL { return p.upstream.Load() }

// CloseIdleConnections drops the transport's idle connections to the team server, so that the
// next request dials afresh: after a wake from sleep or a network change they are likely dead.
func (p *APIProxy) CloseIdleConnections() {
	if t, ok := p.transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

type postBody struct {
	Content    string `json:"content"`
	ClientID   string `json:"clientId"`
	ParentID   string `json:"parentId"`
	AlsoToChat bool   `json:"alsoToChat"`
	// NotifyAnyway is kept with a queued post: the sender chose it when they wrote it.
	NotifyAnyway bool `json:"notifyAnyway"`
}

func (p *APIProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// httputil.ReverseProxy aborts with a panic when the webview goes away mid-answer; net/http
	// would swallow it, but the AssetServer calls us on its own goroutine.
	defer func() {
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			p.log.Error("API proxy panic", "path", r.URL.Path, "panic", v)
		}
	}()
	// The upstream is read once: a concurrent SetUpstream must not change it under rewrite.
	upstream := p.upstream.Load()
	if upstream == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "No team server is set up yet.")
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), upstreamKey{}, upstream))
	// Signed out, a post goes to the server (which refuses it) and never into the outbox, where
	// it would later be sent as whoever signs in next.
	if m := postMessagePath.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodPost && p.session.Token() != "" {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxProxiedJSON))
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", "The message is too large.")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		// Earlier posts still waiting in the outbox go first: a new one joins the queue.
		if n, err := p.outbox.OutboxLen(); err == nil && n > 0 {
			p.queuePost(w, m[1], body)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), queuedPostKey{}, queuedPost{chatID: m[1], body: body}))
	}
	p.proxy.ServeHTTP(w, r)
}

type upstreamKey struct{}

type queuedPostKey struct{}

type queuedPost struct {
	chatID string
	body   []byte
}

func (p *APIProxy) rewrite(pr *httputil.ProxyRequest) {
	u := pr.In.Context().Value(upstreamKey{}).(*url.URL) // set by ServeHTTP, never nil
	pr.SetURL(u)
	pr.Out.Host = u.Host
	// The token authenticates, not the webview's cookies or origin (wails://wails would fail the
	// server's cross-origin check, which guards cookie sessions only).
	for _, h := range []string{"Cookie", "Origin", "Referer", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest"} {
		pr.Out.Header.Del(h)
	}
	pr.Out.Header.Del("Authorization")
	if token := p.session.Token(); token != "" {
		pr.Out.Header.Set("Authorization", "Bearer "+token)
	}
}

// errUpstreamDown is what modifyResponse returns for a gateway's 502/503/504 (or the team
// server's 503 while it shuts down) where the proxy has an offline answer: ReverseProxy then
// calls upstreamFailed, as for a failed connection.
var errUpstreamDown = errors.New("the team server is down")

func (p *APIProxy) modifyResponse(resp *http.Response) error {
	resp.Header.Del("Set-Cookie") // the webview's session is the proxy's token
	req := resp.Request
	path := req.URL.Path
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if isGatewayFailure(resp.StatusCode) && p.hasOfflineAnswer(req) {
		// Drain a little so that the connection can be reused; ReverseProxy closes the body as
		// well, closing twice is harmless.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return fmt.Errorf("%w: %s", errUpstreamDown, resp.Status)
	}
	switch {
	case req.Method == http.MethodPost && ok && (path == "/api/auth/login" || path == "/api/auth/register"):
		return p.takeToken(resp)
	case req.Method == http.MethodPost && ok && path == "/api/auth/logout":
		if p.sameSession(req) {
			p.session.SignedOut()
		}
	case resp.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(path, "/api/auth/"):
		// The server no longer knows the token, unless the user signed in again meanwhile
		// (the answer is about an older token). A refused sign-in (wrong password) is about
		// the credentials, not the session.
		if p.sameSession(req) {
			p.session.SignedOut()
		}
	case req.Method == http.MethodPost && ok && readPath.MatchString(path):
		p.OnRead()
	case req.Method == http.MethodGet && resp.StatusCode == http.StatusOK && cacheablePath.MatchString(path):
		return p.store(resp)
	}
	return nil
}

func isGatewayFailure(status int) bool {
	return status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// hasOfflineAnswer tells whether upstreamFailed answers req other than with a 502: a post that
// would be queued, or a cacheable read while someone is signed in.
func (p *APIProxy) hasOfflineAnswer(req *http.Request) bool {
	if _, ok := req.Context().Value(queuedPostKey{}).(queuedPost); ok {
		return true
	}
	return req.Method == http.MethodGet && cacheablePath.MatchString(req.URL.Path) && p.session.Token() != ""
}

// sameSession tells whether the outgoing request carried the current session's token.
func (p *APIProxy) sameSession(req *http.Request) bool {
	token := p.session.Token()
	return token != "" && req.Header.Get("Authorization") == "Bearer "+token
}

// takeToken keeps a sign-in's token in Go and answers the webview without it.
func (p *APIProxy) takeToken(resp *http.Response) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxProxiedJSON))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("read sign-in answer: %w", err)
	}
	var answer map[string]json.RawMessage
	if err := json.Unmarshal(data, &answer); err != nil {
		return fmt.Errorf("decode sign-in answer: %w", err)
	}
	var token string
	var user backend.User
	if err := json.Unmarshal(answer["token"], &token); err != nil || token == "" {
		return errors.New("sign-in answer without a token")
	}
	if err := json.Unmarshal(answer["user"], &user); err != nil {
		return fmt.Errorf("decode signed-in user: %w", err)
	}
	p.session.SignedIn(&user, token)
	delete(answer, "token")
	out, err := json.Marshal(answer)
	if err != nil {
		return err
	}
	setBody(resp, out)
	return nil
}

func (p *APIProxy) store(resp *http.Response) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxCachedResponse+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", resp.Request.URL.Path, err)
	}
	if len(data) > maxCachedResponse { // too large to keep: pass it through whole
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(data), resp.Body), resp.Body}
		return nil
	}
	resp.Body.Close()
	setBody(resp, data)
	c := local.Cached{Body: data, ContentType: resp.Header.Get("Content-Type"), StoredAt: p.now()}
	if err := p.cache.PutCached(cacheKey(resp.Request.URL), c); err != nil {
		p.log.Warn("cache API answer", "path", resp.Request.URL.Path, "err", err)
	}
	return nil
}

func setBody(resp *http.Response, data []byte) {
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))
	resp.Header.Set("Content-Length", strconv.Itoa(len(data)))
}

func cacheKey(u *url.URL) string {
	if u.RawQuery == "" {
		return u.Path
	}
	return u.Path + "?" + u.RawQuery
}

// upstreamFailed answers when the team server could not be reached: a post goes into the outbox,
// a cacheable read comes from the cache, anything else is 502 in the API's error shape.
func (p *APIProxy) upstreamFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the webview went away
	}
	p.log.Debug("team server unreachable", "path", r.URL.Path, "err", err)
	if post, ok := r.Context().Value(queuedPostKey{}).(queuedPost); ok {
		p.queuePost(w, post.chatID, post.body)
		return
	}
	// Signed out, nothing comes from the cache: it holds the previous user's data.
	if r.Method == http.MethodGet && cacheablePath.MatchString(r.URL.Path) && p.session.Token() != "" {
		if c, ok, cerr := p.cache.Cached(cacheKey(r.URL)); cerr == nil && ok {
			w.Header().Set("Content-Type", c.ContentType)
			w.Header().Set("X-Herald-Offline", "cached "+c.StoredAt.UTC().Format(time.RFC3339))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(c.Body)
			return
		}
	}
	var mismatch *client.CertificateMismatchError
	if errors.As(err, &mismatch) {
		writeError(w, http.StatusBadGateway, "unavailable", mismatch.Error())
		return
	}
	writeError(w, http.StatusBadGateway, "unavailable", "The team server is unreachable.")
}

// queuePost stores a post in the outbox and answers 202 {queued: true, message}: the message
// (without id) will be sent in order, exactly once, when the server is back.
func (p *APIProxy) queuePost(w http.ResponseWriter, chatID string, body []byte) {
	var post postBody
	if err := json.Unmarshal(body, &post); err != nil {
		writeError(w, http.StatusBadRequest, "invalid", "The request body is not valid JSON.")
		return
	}
	if strings.TrimSpace(post.Content) == "" || post.ClientID == "" {
		// Without a client id a retry could post twice; the web client always sends one.
		writeError(w, http.StatusBadGateway, "unavailable", "The team server is unreachable.")
		return
	}
	item, _, err := p.outbox.EnqueueItem(local.OutboxItem{Owner: p.session.Owner(), ChatID: chatID, ClientID: post.ClientID,
		Content: post.Content, ParentID: post.ParentID, AlsoToChat: post.AlsoToChat, NotifyAnyway: post.NotifyAnyway}, p.now())
	var be *backend.Error
	if errors.As(err, &be) && be.Code == backend.EINVALID {
		writeAppError(w, err) // too long, control characters…: 400 with the reason
		return
	}
	if err != nil {
		p.log.Error("queue message", "chat", chatID, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "The message could not be queued.")
		return
	}
	p.OnQueued()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"queued":  true,
		"message": queuedMessage(item),
	})
}

// queuedMessage is how a queued item is shown: a message without id, in its thread if a reply.
func queuedMessage(item local.OutboxItem) map[string]any {
	m := map[string]any{"chatId": item.ChatID, "content": item.Content, "clientId": item.ClientID, "createdAt": item.QueuedAt.UnixMilli()}
	if item.ParentID != "" {
		m["parentId"], m["alsoToChat"] = item.ParentID, item.AlsoToChat
	}
	return m
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}
