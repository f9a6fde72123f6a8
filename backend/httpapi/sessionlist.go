package httpapi

import (
	"context"
	"encoding/hex"
	"net/http"
	"slices"

	"github.com/herald-chat/herald/backend"
)

// clientIP is the address the request came from: the connection's peer, or behind a trusted
// proxy (Config.TrustedProxies) the client its X-Forwarded-For names — never a header an
// untrusted peer chose.
func (h *Handler) clientIP(r *http.Request) string { return h.cfg.TrustedProxies.ClientIP(r) }

// seeSession records that the request used its session: the store writes LastSeenAt at most
// every backend.SessionSeenEvery (cred remembers when it last asked, so that a stream's
// keepalives ask at most that often too). The request does not fail when that write does; it is
// logged.
func (h *Handler) seeSession(r *http.Request, cred *credential) {
	if now := h.now(); now.Sub(cred.session.LastSeenAt) >= backend.SessionSeenEvery {
		if err := h.writes.SeeSession(context.WithoutCancel(r.Context()), cred.token, now, h.clientIP(r)); err != nil {
			h.log.WarnContext(r.Context(), "record session last seen", "user", cred.user.ID, "err", err)
			return
		}
		cred.session.LastSeenAt = now
	}
}

// sessionEntry is one of the caller's sessions as GET /api/sessions lists it. Times are Unix ms.
type sessionEntry struct {
	ID         string `json:"id"`
	Device     string `json:"device"`
	IP         string `json:"ip,omitempty"`
	CreatedAt  int64  `json:"createdAt"`
	LastSeenAt int64  `json:"lastSeenAt"`
	ExpiresAt  int64  `json:"expiresAt"`
	Current    bool   `json:"current"`
}

// maxSessionsListed bounds GET /api/sessions: the newest ones (and the caller's) are listed.
const maxSessionsListed = 200

// listSessions lists the caller's own sessions that have not expired, oldest first, at most
// maxSessionsListed of them (the newest, and always the current one); the one the request was
// made with has current: true. total counts them all.
func (h *Handler) listSessions(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	cred := r.Context().Value(credentialKey).(*credential)
	sessions, err := h.reads.Sessions(r.Context(), u.ID)
	if err != nil {
		return err
	}
	total := len(sessions)
	if total > maxSessionsListed {
		newest := sessions[total-maxSessionsListed:]
		if i := slices.IndexFunc(sessions, func(s *backend.Session) bool { return s.ID == cred.session.ID }); i >= 0 && i < total-maxSessionsListed {
			newest = append([]*backend.Session{sessions[i]}, newest[1:]...)
		}
		sessions = newest
	}
	out := make([]sessionEntry, len(sessions))
	for i, s := range sessions {
		seen := s.LastSeenAt
		if seen.IsZero() {
			seen = s.CreatedAt
		}
		device := s.Device
		if device == "" {
			device = "Unknown device" // signed in before devices were recorded
		}
		out[i] = sessionEntry{ID: s.ID, Device: device, IP: s.IP, CreatedAt: s.CreatedAt.UnixMilli(),
			LastSeenAt: seen.UnixMilli(), ExpiresAt: s.ExpiresAt.UnixMilli(), Current: s.ID == cred.session.ID}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out, "total": total})
	return nil
}

// deleteSession ends one of the caller's own sessions and its streams (SESSION_ENDED revoked, or
// signed_out when it is the caller's current one, whose cookie is cleared as by logout). Another
// user's session, or an unknown one, is 404: ids are not probed for existence.
func (h *Handler) deleteSession(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	id := r.PathValue("sessionId")
	if b, err := hex.DecodeString(id); err != nil || len(b) != 16 {
		return backend.Errorf(backend.EINVALID, "sessionId %q is not a valid session id.", id)
	}
	cred := r.Context().Value(credentialKey).(*credential)
	current := id == cred.session.ID
	reason := backend.SessionRevoked
	if current {
		reason = backend.SessionSignedOut
	}
	if err := h.writes.EndSessionByID(r.Context(), u.ID, id, reason); err != nil {
		return err
	}
	if current {
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
			SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	}
	h.log.InfoContext(r.Context(), "session ended by its user", "user", u.ID, "current", current)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// revokeOtherSessions ends every session of the caller but this one, with their streams
// (SESSION_ENDED revoked), in one commit, and answers how many ended.
func (h *Handler) revokeOtherSessions(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	cred := r.Context().Value(credentialKey).(*credential)
	n, err := h.writes.EndSessions(r.Context(), u.ID, cred.token, backend.SessionRevoked)
	if err != nil {
		return err
	}
	h.log.InfoContext(r.Context(), "other sessions revoked by their user", "user", u.ID, "revoked", n)
	writeJSON(w, http.StatusOK, map[string]any{"revoked": n})
	return nil
}
