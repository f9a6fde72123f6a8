// Package client is a Go client of the Herald team server: its REST API (sign-in, chats,
// messages, preferences) and its event stream (/api/stream) with resume, keepalive-based
// liveness, backoff and an explicit "reconnect now" for wake-from-sleep and network changes.
//
// Programs authenticate with the bearer token that sign-in and registration return; the
// session cookie the server also sets is for browsers and is ignored here.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/herald-chat/herald/backend"
)

// DefaultTimeout bounds each REST call of a Client made by New (streams are not bounded by it).
const DefaultTimeout = 30 * time.Second

// maxBody bounds a successful REST answer (bytes).
const maxBody = 16 << 20

// Client calls one team server. Its fields must not change while it is in use; WithToken
// returns a copy with another token. A Client is safe for concurrent use.
type Client struct {
	// BaseURL is the server's root, e.g. http://192.168.1.20:8080/ (a path prefix is kept).
	BaseURL *url.URL
	// Token is the bearer token sent with every call; "" sends none.
	Token string
	// HTTP does the requests. Its Timeout must be 0, or it would cut streams off: REST calls are
	// bounded by Timeout instead.
	HTTP *http.Client
	// Timeout bounds each REST call (0: only the caller's context does).
	Timeout time.Duration

	pin *string // WithPinnedCert's fingerprint, for New's own transport
}

// Option configures New.
type Option func(*Client)

// WithHTTPClient makes the client use h (its Timeout must be 0).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.HTTP = h } }

// WithTimeout sets Client.Timeout (0: no bound but the caller's context).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.Timeout = d } }

// New returns a client of the server at base (an http or https URL) that sends token ("" for
// none, e.g. before SignIn). By default it has its own transport (so Stream.Kick closing idle
// connections affects nobody else) and a DefaultTimeout per REST call.
func New(base string, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("herald: server URL %q: %w", base, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("herald: server URL %q: want http://host[:port] or https://host[:port]", base)
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	c := &Client{BaseURL: u, Token: token, Timeout: DefaultTimeout}
	for _, o := range opts {
		o(c)
	}
	if c.HTTP == nil {
		var tr http.RoundTripper = http.DefaultTransport.(*http.Transport).Clone()
		if c.pin != nil {
			if tr, err = PinnedTransport(*c.pin); err != nil {
				return nil, err
			}
		}
		c.HTTP = &http.Client{Transport: tr, CheckRedirect: NoRedirects}
	}
	c.pin = nil
	return c, nil
}

// NoRedirects is the CheckRedirect of New's HTTP client: the API never redirects, so a redirect
// comes from something in between (a captive portal's login page): it is answered as the
// *APIError it is rather than followed into a page that is not the API.
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// WithToken returns a copy of c that sends token (sharing c's HTTP client).
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.Token = token
	return &cp
}

// url is the absolute URL of an API path such as "/api/me".
func (c *Client) url(path string, query url.Values) string {
	u := c.BaseURL.JoinPath(path)
	u.RawQuery = query.Encode()
	return u.String()
}

// Do sends one API request: in (if not nil) as the JSON body, and decodes a 2xx answer's JSON
// into out (if not nil). A non-2xx answer is an *APIError, a request without a complete answer a
// *NetworkError. It is the escape hatch for endpoints that have no method here.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("herald: encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(path, query), body)
	if err != nil {
		return fmt.Errorf("herald: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.authorize(req)
	op := method + " " + path
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return &NetworkError{Op: op, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return &NetworkError{Op: op, Err: err}
	}
	if out == nil || len(raw) == 0 && resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("herald: %s: the answer is not the expected JSON: %w", op, err)
	}
	return nil
}

// httpClient is c.HTTP, or http.DefaultClient for a Client built without New.
func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) authorize(req *http.Request) {
	req.Header.Set("User-Agent", "herald-client")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
}

type authAnswer struct {
	User  *backend.User `json:"user"`
	Token string        `json:"token"`
}

// SignIn signs in with a username and password (POST /api/auth/login) and returns the new
// session's bearer token and the user. c's own Token is not changed: use WithToken. A wrong
// username or password is an *APIError with status 401 (IsUnauthorized).
func (c *Client) SignIn(ctx context.Context, username, password string) (string, *backend.User, error) {
	var a authAnswer
	err := c.Do(ctx, http.MethodPost, "/api/auth/login", nil,
		map[string]string{"username": username, "password": password}, &a)
	if err != nil {
		return "", nil, err
	}
	if a.Token == "" || a.User == nil {
		return "", nil, errors.New("herald: sign-in answer without token or user")
	}
	return a.Token, a.User, nil
}

// Register creates an account (POST /api/auth/register) and returns its session's bearer token
// and the user. inviteCode is "" for the first user of a new server (who becomes admin);
// displayName "" means the username.
func (c *Client) Register(ctx context.Context, inviteCode, username, displayName, password string) (string, *backend.User, error) {
	var a authAnswer
	err := c.Do(ctx, http.MethodPost, "/api/auth/register", nil, map[string]string{
		"username": username, "password": password, "displayName": displayName, "inviteCode": inviteCode,
	}, &a)
	if err != nil {
		return "", nil, err
	}
	if a.Token == "" || a.User == nil {
		return "", nil, errors.New("herald: registration answer without token or user")
	}
	return a.Token, a.User, nil
}

// Logout ends the session of c's token (POST /api/auth/logout); its streams end within one
// keepalive.
func (c *Client) Logout(ctx context.Context) error {
	return c.Do(ctx, http.MethodPost, "/api/auth/logout", nil, nil, nil)
}

// Me is the signed-in user (GET /api/me).
func (c *Client) Me(ctx context.Context) (*backend.User, error) {
	var a struct {
		User *backend.User `json:"user"`
	}
	if err := c.Do(ctx, http.MethodGet, "/api/me", nil, nil, &a); err != nil {
		return nil, err
	}
	return a.User, nil
}

// ServerInfo is GET /api/server: public facts about the server.
type ServerInfo struct {
	// NeedsSetup is true while the server has no user: the first to register becomes admin.
	NeedsSetup bool `json:"needsSetup"`
	// KeepaliveMs is the streams' mean keepalive interval.
	KeepaliveMs int64 `json:"keepaliveMs"`
	// TLSFingerprint is the SHA-256 fingerprint of the certificate of a server that terminates
	// TLS itself (tlscert.Fingerprint form); "" otherwise.
	TLSFingerprint string `json:"tlsFingerprint,omitempty"`
	// TeamName is the team's name from its settings (GET /api/team).
	TeamName string `json:"teamName,omitempty"`
}

// Team is GET /api/team: the team's settings as any signed-in member sees them.
func (c *Client) Team(ctx context.Context) (*backend.TeamSettings, error) {
	var a struct {
		Team *backend.TeamSettings `json:"team"`
	}
	if err := c.Do(ctx, http.MethodGet, "/api/team", nil, nil, &a); err != nil {
		return nil, err
	}
	if a.Team == nil {
		return nil, fmt.Errorf("GET /api/team: no team in the answer")
	}
	return a.Team, nil
}

// Keepalive is KeepaliveMs as a duration.
func (i *ServerInfo) Keepalive() time.Duration {
	return time.Duration(i.KeepaliveMs) * time.Millisecond
}

// Server fetches GET /api/server (no token needed).
func (c *Client) Server(ctx context.Context) (*ServerInfo, error) {
	var info ServerInfo
	if err := c.Do(ctx, http.MethodGet, "/api/server", nil, nil, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// Invite is a registration code and the link that carries it. It lets MaxUses people register
// (the server's default: 100) until it expires.
type Invite struct {
	ID        string `json:"id"`
	Code      string `json:"code"`
	MaxUses   int    `json:"maxUses"`
	URL       string `json:"url"`       // <the server's public URL>/join/<code>[#sha256=<fingerprint>]
	ExpiresAt int64  `json:"expiresAt"` // Unix ms
}

// CreateInvite makes an invite (admins only; POST /api/invites). expiresInHours 0 takes the
// server's default (7 days).
func (c *Client) CreateInvite(ctx context.Context, expiresInHours int) (*Invite, error) {
	var in any
	if expiresInHours != 0 {
		in = map[string]int{"expiresInHours": expiresInHours}
	}
	var inv Invite
	if err := c.Do(ctx, http.MethodPost, "/api/invites", nil, in, &inv); err != nil {
		return nil, err
	}
	return &inv, nil
}

// Chats lists the chats the user belongs to with their unread counts (GET /api/chats).
func (c *Client) Chats(ctx context.Context) ([]*backend.ChatSummary, error) {
	var a struct {
		Chats []*backend.ChatSummary `json:"chats"`
	}
	if err := c.Do(ctx, http.MethodGet, "/api/chats", nil, nil, &a); err != nil {
		return nil, err
	}
	return a.Chats, nil
}

// CreateChat creates a chat with the caller and memberIDs as members (POST /api/chats).
func (c *Client) CreateChat(ctx context.Context, name string, memberIDs []string) (*backend.Chat, error) {
	if memberIDs == nil {
		memberIDs = []string{}
	}
	var a struct {
		Chat *backend.Chat `json:"chat"`
	}
	err := c.Do(ctx, http.MethodPost, "/api/chats", nil, map[string]any{"name": name, "memberIds": memberIDs}, &a)
	if err != nil {
		return nil, err
	}
	return a.Chat, nil
}

// Messages fetches a page of a chat's history (GET /api/chats/{chatId}/messages) in id order:
// with page.After the oldest messages after it, otherwise the newest before page.Before (or the
// newest of all). Limit 0 takes the server's default (backend.DefaultPageLimit). hasMore reports
// whether more messages lie in the direction of travel.
func (c *Client) Messages(ctx context.Context, chatID string, page backend.MessagePage) (msgs []*backend.Message, hasMore bool, err error) {
	q := url.Values{}
	if page.After != "" {
		q.Set("after", page.After)
	}
	if page.Before != "" {
		q.Set("before", page.Before)
	}
	if page.Limit > 0 {
		q.Set("limit", strconv.Itoa(page.Limit))
	}
	var a struct {
		Messages []*backend.Message `json:"messages"`
		HasMore  bool               `json:"hasMore"`
	}
	if err := c.Do(ctx, http.MethodGet, "/api/chats/"+url.PathEscape(chatID)+"/messages", q, nil, &a); err != nil {
		return nil, false, err
	}
	return a.Messages, a.HasMore, nil
}

// PostMessage posts a message (POST /api/chats/{chatId}/messages). clientID ("" for none;
// printable ASCII, at most backend.MaxClientIDLen bytes) makes the post idempotent: repeating it
// with the same clientID returns the message the first post created, so an outbox may retry
// after any Retryable error without creating duplicates.
func (c *Client) PostMessage(ctx context.Context, chatID, content, clientID string) (*backend.Message, error) {
	return c.Post(ctx, &backend.Message{ChatID: chatID, Content: content, ClientID: clientID})
}

// Post sends m (POST /api/chats/{chatId}/messages): its Content, and ClientID, ParentID and
// AlsoToChat when set — a reply in a thread — and NotifyAnyway when set.
func (c *Client) Post(ctx context.Context, m *backend.Message) (*backend.Message, error) {
	in := map[string]any{"content": m.Content}
	if m.ClientID != "" {
		in["clientId"] = m.ClientID
	}
	if m.ParentID != "" {
		in["parentId"] = m.ParentID
		in["alsoToChat"] = m.AlsoToChat
	}
	if m.NotifyAnyway {
		in["notifyAnyway"] = true
	}
	chatID := m.ChatID
	var a struct {
		Message *backend.Message `json:"message"`
	}
	if err := c.Do(ctx, http.MethodPost, "/api/chats/"+url.PathEscape(chatID)+"/messages", nil, in, &a); err != nil {
		return nil, err
	}
	return a.Message, nil
}

// MarkRead moves the user's read marker in a chat forward to messageID
// (POST /api/chats/{chatId}/read).
func (c *Client) MarkRead(ctx context.Context, chatID, messageID string) error {
	return c.Do(ctx, http.MethodPost, "/api/chats/"+url.PathEscape(chatID)+"/read", nil,
		map[string]string{"messageId": messageID}, nil)
}

// Preferences fetches the user's notification preferences (GET /api/preferences).
func (c *Client) Preferences(ctx context.Context) (*backend.Preferences, error) {
	var a struct {
		Preferences *backend.Preferences `json:"preferences"`
	}
	if err := c.Do(ctx, http.MethodGet, "/api/preferences", nil, nil, &a); err != nil {
		return nil, err
	}
	return a.Preferences, nil
}

// PutPreferences replaces the user's preferences as a whole (PUT /api/preferences) and returns
// what the server stored; every stream of the user gets PREFERENCES_CHANGED. Invalid values are
// an *APIError with status 400.
func (c *Client) PutPreferences(ctx context.Context, p backend.Preferences) (*backend.Preferences, error) {
	var a struct {
		Preferences *backend.Preferences `json:"preferences"`
	}
	if err := c.Do(ctx, http.MethodPut, "/api/preferences", nil, p, &a); err != nil {
		return nil, err
	}
	return a.Preferences, nil
}

// TotalUnread sums the unread counts of chats, leaving out the muted ones (Preferences.MutedChats):
// the number a badge shows.
func TotalUnread(chats []*backend.ChatSummary, muted []string) int {
	skip := make(map[string]bool, len(muted))
	for _, id := range muted {
		skip[id] = true
	}
	n := 0
	for _, c := range chats {
		if !skip[c.ID] {
			n += c.Unread
		}
	}
	return n
}

// maxAvatar bounds an avatar image (bytes); the server's thumbnails are a few KiB.
const maxAvatar = 1 << 20

// Avatar is one of a user's avatar thumbnails (GET /api/users/{userId}/avatar?size=N).
type Avatar struct {
	Image []byte // PNG or JPEG; nil when NotModified
	ETag  string // the server's validator, for the next call's etag
	// NotModified: the server answered 304 to etag; the caller's copy is current.
	NotModified bool
}

// UserAvatar fetches userID's avatar at size px (one of backend.AvatarSizes), conditionally on
// etag when it is not "". A user without an uploaded avatar (and a bot) is an *APIError with
// status 404; an image over 1 MiB is an error.
func (c *Client) UserAvatar(ctx context.Context, userID string, size int, etag string) (*Avatar, error) {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	path := "/api/users/" + url.PathEscape(userID) + "/avatar"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(path, url.Values{"size": {strconv.Itoa(size)}}), nil)
	if err != nil {
		return nil, fmt.Errorf("herald: GET %s: %w", path, err)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	c.authorize(req)
	op := "GET " + path
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, &NetworkError{Op: op, Err: err}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return &Avatar{ETag: etag, NotModified: true}, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, decodeError(resp)
	}
	img, err := io.ReadAll(io.LimitReader(resp.Body, maxAvatar+1))
	if err != nil {
		return nil, &NetworkError{Op: op, Err: err}
	}
	if len(img) > maxAvatar {
		return nil, fmt.Errorf("herald: %s: the image is over %d bytes", op, maxAvatar)
	}
	return &Avatar{Image: img, ETag: resp.Header.Get("ETag")}, nil
}
