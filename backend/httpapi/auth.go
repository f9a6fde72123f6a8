package httpapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/monitor"
)

type ctxKey int

const credentialKey ctxKey = 0

// credential is who made the request and with which session token.
type credential struct {
	user     *backend.User
	session  *backend.Session
	token    string
	byCookie bool
}

// authed adapts a handler that needs a signed-in user. Programs send "Authorization: Bearer
// <token>"; browsers send the session cookie. Tokens are never read from query strings.
func (h *Handler) authed(fn func(http.ResponseWriter, *http.Request, *backend.User) error) http.Handler {
	return h.handle(func(w http.ResponseWriter, r *http.Request) error { return h.callAuthed(w, r, fn) })
}

// callAuthed authenticates r and calls fn with the user, the credential in the context.
func (h *Handler) callAuthed(w http.ResponseWriter, r *http.Request, fn func(http.ResponseWriter, *http.Request, *backend.User) error) error {
	cred, err := h.authenticate(r)
	if err != nil {
		return err
	}
	r = r.WithContext(context.WithValue(r.Context(), credentialKey, cred))
	return fn(w, r, cred.user)
}

// streamRoute is authed for the three streams: a stream refused (any error, which is always
// before its 200) is counted by the monitor with its cause.
func (h *Handler) streamRoute(fn func(http.ResponseWriter, *http.Request, *backend.User) error) http.Handler {
	return h.handle(func(w http.ResponseWriter, r *http.Request) error {
		err := h.callAuthed(w, r, fn)
		if err != nil {
			h.cfg.Monitor.Refused(refusalOf(err))
		}
		return err
	})
}

// refusalOf names why a stream was refused.
func refusalOf(err error) monitor.Refusal {
	if errors.Is(err, backend.ErrClosed) {
		return monitor.RefusedShutdown
	}
	switch backend.ErrorCode(err) {
	case backend.EUNAUTHORIZED:
		return monitor.RefusedAuth
	case backend.ERATELIMIT: // the only limit on opening streams is the per-user cap
		return monitor.RefusedCap
	case backend.EUNAVAILABLE:
		return monitor.RefusedShutdown
	case backend.EFORBIDDEN, backend.ENOTFOUND:
		return monitor.RefusedForbidden
	}
	return monitor.RefusedOther
}

func (h *Handler) authenticate(r *http.Request) (*credential, error) {
	cred := &credential{}
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return nil, backend.Errorf(backend.EUNAUTHORIZED, "Use Authorization: Bearer <token>.")
		}
		cred.token = token
	} else if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		cred.token, cred.byCookie = c.Value, true
	} else {
		return nil, backend.Errorf(backend.EUNAUTHORIZED, "Sign in first.")
	}
	sess, user, err := h.reads.SessionUser(r.Context(), cred.token)
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		return nil, backend.Errorf(backend.EUNAUTHORIZED, "The session is not valid; sign in again.")
	} else if err != nil {
		return nil, err
	}
	cred.session, cred.user = sess, user
	if cred.user.Deactivated {
		// Deactivating ends the user's sessions; this refuses any that remained all the same.
		return nil, backend.Errorf(backend.EUNAUTHORIZED, "This account is deactivated.")
	}
	h.seeSession(r, cred) // sessionlist.go
	return cred, nil
}

type authResponse struct {
	User  *backend.User `json:"user"`
	Token string        `json:"token"`
}

func (h *Handler) register(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Username    string `json:"username"`
		Password    string `json:"password"`
		DisplayName string `json:"displayName"`
		InviteCode  string `json:"inviteCode"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	username, err := validUsername(req.Username)
	if err != nil {
		return err
	}
	if err := validPassword(req.Password); err != nil {
		return err
	}
	display, err := validText("displayName", req.DisplayName, backend.MaxDisplayNameLen, true)
	if err != nil {
		return err
	}
	if display == "" {
		display = username
	}
	var hash string
	if slotErr := withHashSlot(r.Context(), func() { hash, err = hashPassword(req.Password) }); slotErr != nil {
		return slotErr
	}
	if err != nil {
		return err
	}
	u := &backend.User{Username: username, DisplayName: display, PasswordHash: hash}
	if err := h.writes.CreateUser(r.Context(), u, req.InviteCode); err != nil {
		return err
	}
	token, err := h.startSession(w, r, u)
	if err != nil {
		return err
	}
	h.log.InfoContext(r.Context(), "user registered", "user", u.ID, "username", u.Username, "role", u.Role)
	writeJSON(w, http.StatusCreated, authResponse{User: u, Token: token})
	return nil
}

// login signs a person in. Every failure — unknown user, bot (bots have no password), wrong or
// overlong password — answers the same 401 after exactly one argon2id check (against the user's
// hash, or dummyHash), so that neither the answer nor its timing tells which it was. The
// account's sign-in limit is taken before the check and given back on success.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	username := strings.ToLower(strings.TrimSpace(req.Username))
	giveBack, ok, wait := h.signInAccount.take(accountKey(username))
	if !ok {
		return tooManyBecause(w, wait, "Too many sign-in attempts for this account")
	}
	u, err := h.reads.UserByUsername(r.Context(), username)
	if err != nil && backend.ErrorCode(err) != backend.ENOTFOUND {
		return err
	}
	hash, password := dummyHash, req.Password
	canSignIn := u != nil && !u.IsBot() && len(password) <= backend.MaxPasswordLen
	if canSignIn {
		hash = u.PasswordHash
	}
	if len(password) > backend.MaxPasswordLen {
		password = password[:backend.MaxPasswordLen] // hashed all the same, and refused
	}
	var match bool
	if err := withHashSlot(r.Context(), func() { match = checkPassword(hash, password) }); err != nil {
		return err
	}
	if !canSignIn || !match {
		return backend.Errorf(backend.EUNAUTHORIZED, "Wrong username or password.")
	}
	if u.Deactivated {
		// Told only to whoever knows the password.
		return backend.Errorf(backend.EFORBIDDEN, "This account is deactivated.")
	}
	giveBack()
	token, err := h.startSession(w, r, u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, authResponse{User: u, Token: token})
	return nil
}

// accountKey is the per-account limiter's key for a normalized username. Names longer than any
// username share keys by their first bytes, so that a key costs at most MaxUsernameLen+1 bytes
// whatever a client sends.
func accountKey(username string) string {
	if len(username) > backend.MaxUsernameLen {
		return username[:backend.MaxUsernameLen+1]
	}
	return username
}

// startSession stores a new session for u, sets the session cookie, and returns the token.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, u *backend.User) (string, error) {
	token, err := newSecret()
	if err != nil {
		return "", err
	}
	now := h.now()
	sess := backend.Session{UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(h.cfg.SessionTTL),
		Device: backend.DeviceLabel(r.UserAgent()), IP: h.clientIP(r)}
	if err := h.writes.CreateSession(r.Context(), token, sess); err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", Expires: now.Add(h.cfg.SessionTTL),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
	return token, nil
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	cred := r.Context().Value(credentialKey).(*credential)
	if err := h.writes.DeleteSession(r.Context(), cred.token, backend.SessionSignedOut); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) me(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
	return nil
}

// createInvite makes an invite link. Without maxUses it lets DefaultInviteMaxUses people register
// (the Invite dialog says "Anyone with this link can create an account") until it expires;
// maxUses 1 makes a single-use link.
func (h *Handler) createInvite(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		MaxUses        int `json:"maxUses"`
		ExpiresInHours int `json:"expiresInHours"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, true); err != nil {
		return err
	}
	if err := h.requireAdmin(w, u, "invite", true); err != nil {
		return err
	}
	ttl := h.cfg.InviteTTL
	if req.ExpiresInHours != 0 {
		if req.ExpiresInHours < 1 || req.ExpiresInHours > backend.MaxInviteHours {
			return backend.Errorf(backend.EINVALID, "expiresInHours must be between 1 and %d.", backend.MaxInviteHours)
		}
		ttl = time.Duration(req.ExpiresInHours) * time.Hour
	}
	uses := backend.DefaultInviteMaxUses
	if req.MaxUses != 0 {
		if req.MaxUses < 1 || req.MaxUses > backend.MaxInviteUses {
			return backend.Errorf(backend.EINVALID, "maxUses must be between 1 and %d.", backend.MaxInviteUses)
		}
		uses = req.MaxUses
	}
	code, err := newSecret()
	if err != nil {
		return err
	}
	now := h.now()
	inv := backend.Invite{Code: code, CreatedBy: u.ID, CreatedAt: now.UnixMilli(), ExpiresAt: now.Add(ttl).UnixMilli(), MaxUses: uses}
	if err := h.writes.CreateInvite(r.Context(), inv); err != nil {
		return err
	}
	link := h.publicURL(r) + "/join/" + code
	if h.cfg.PinInvites && h.cfg.TLSFingerprint != "" {
		link += "#sha256=" + h.cfg.TLSFingerprint
	}
	id := inviteID(code)
	h.audit(r, u, backend.AuditInviteCreated, id, "maxUses", strconv.Itoa(uses), "expiresAt", time.UnixMilli(inv.ExpiresAt).UTC().Format(time.RFC3339))
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "code": code, "url": link, "expiresAt": inv.ExpiresAt, "maxUses": uses})
	return nil
}

// publicURL is the base URL people reach the server at (no trailing slash): Config.PublicURL, or
// else the scheme and the local address of the connection r arrived on. Never r.Host: whoever
// sends the request chooses it, and an invite link must not lead to their server.
func (h *Handler) publicURL(r *http.Request) string {
	if h.cfg.PublicURL != "" {
		return strings.TrimSuffix(h.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := "localhost"
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		ip := a.IP
		if ip.IsUnspecified() {
			ip = net.IPv4(127, 0, 0, 1)
		}
		host = net.JoinHostPort(ip.String(), strconv.Itoa(a.Port))
	}
	return scheme + "://" + host
}

type directoryEntry struct {
	*backend.User
	Online bool `json:"online"`
}

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, _ *backend.User) error {
	users, err := h.reads.Users(r.Context())
	if err != nil {
		return err
	}
	users, next, err := userPage(r, users) // ?q=&limit=&cursor= (profile.go)
	if err != nil {
		return err
	}
	entries := make([]directoryEntry, len(users))
	for i, u := range users {
		entries[i] = directoryEntry{User: u, Online: u.Status == backend.StatusOnline || u.Status == backend.StatusBusy || u.Status == backend.StatusAway}
	}
	answer := map[string]any{"users": entries}
	if next != "" {
		answer["nextCursor"] = next
	}
	writeJSON(w, http.StatusOK, answer)
	return nil
}

// serverInfo is public: a client learns whether the server still needs its first (admin)
// account before anyone can sign in.
func (h *Handler) serverInfo(w http.ResponseWriter, r *http.Request) error {
	users, err := h.reads.Users(r.Context())
	if err != nil {
		return err
	}
	team, err := h.reads.Team(r.Context())
	if err != nil {
		return err
	}
	info := map[string]any{"needsSetup": len(users) == 0, "keepaliveMs": h.cfg.Keepalive.Milliseconds(), "teamName": team.Name}
	if r.TLS != nil && h.cfg.TLSFingerprint != "" {
		info["tlsFingerprint"] = h.cfg.TLSFingerprint
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

// stats shows admins the stream counters.
func (h *Handler) stats(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if u.Role != backend.RoleAdmin {
		return backend.Errorf(backend.EFORBIDDEN, "Only admins can see server statistics.")
	}
	writeJSON(w, http.StatusOK, map[string]any{"streams": h.broker.Stats()})
	return nil
}
