package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/herald-chat/herald/backend"
)

// peopleRoutes are issue 11's routes: profiles, avatars, sessions.
func (h *Handler) peopleRoutes(m *http.ServeMux) {
	m.Handle("PATCH /api/me", h.authed(h.patchMe))
	m.Handle("GET /api/sessions", h.authed(h.listSessions))
	m.Handle("DELETE /api/sessions/{sessionId}", h.authed(h.deleteSession))
	m.Handle("POST /api/sessions/revoke-others", h.authed(h.revokeOtherSessions))
	if _, ok := h.cfg.Presence.(awayReporter); ok {
		m.Handle("PUT /api/me/presence", h.authed(h.putPresence))
	}
	if h.cfg.Avatars != nil {
		m.Handle("PUT /api/me/avatar", h.authed(h.putAvatar))
		m.Handle("DELETE /api/me/avatar", h.authed(h.deleteAvatar))
		m.Handle("GET /api/users/{userId}/avatar", h.authed(h.getAvatar))
	}
}

// nullableInt is a JSON number field that tells null (set, no value) from absent (not set).
type nullableInt struct {
	set bool
	v   int64
}

func (n *nullableInt) UnmarshalJSON(b []byte) error {
	n.set = true
	if bytes.Equal(b, []byte("null")) {
		n.v = 0
		return nil
	}
	return json.Unmarshal(b, &n.v)
}

// patchMe changes the signed-in person's display name and status line; what changed goes out as
// USER_UPDATED. It counts against the per-user profile limit.
func (h *Handler) patchMe(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		DisplayName     *string     `json:"displayName"`
		StatusText      *string     `json:"statusText"`
		StatusEmoji     *string     `json:"statusEmoji"`
		StatusExpiresAt nullableInt `json:"statusExpiresAt"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	if u.IsBot() {
		return backend.Errorf(backend.EFORBIDDEN, "Bots have no profile to change; an admin sets their avatar.")
	}
	p := backend.ProfilePatch{DisplayName: req.DisplayName, StatusText: req.StatusText, StatusEmoji: req.StatusEmoji}
	if req.StatusExpiresAt.set {
		p.StatusExpiresAt = &req.StatusExpiresAt.v
	}
	p, err := p.Check(h.now())
	if err != nil {
		return err
	}
	if ok, wait := h.profileLimit.allow(u.ID); !ok {
		return tooManyBecause(w, wait, "You are changing your profile too often")
	}
	user, err := h.writes.UpdateProfile(r.Context(), u.ID, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": user})
	return nil
}

// userPage answers GET /api/users: without q, limit or cursor every user, as before; with any
// of them a page of at most limit users (default DefaultUserPageLimit) in id order after cursor
// (a user id) whose username or display name contains q, case-insensitively, and nextCursor when
// more match.
func userPage(r *http.Request, users []*backend.User) (page []*backend.User, next string, err error) {
	query := r.URL.Query()
	q, limitArg, cursor := query.Get("q"), query.Get("limit"), query.Get("cursor")
	if q == "" && limitArg == "" && cursor == "" {
		return users, "", nil
	}
	q = strings.ToLower(strings.TrimSpace(q))
	if !utf8.ValidString(q) || utf8.RuneCountInString(q) > backend.MaxUserQueryLen {
		return nil, "", backend.Errorf(backend.EINVALID, "q must be valid UTF-8 of at most %d characters.", backend.MaxUserQueryLen)
	}
	limit := backend.DefaultUserPageLimit
	if limitArg != "" {
		n, err := strconv.Atoi(limitArg)
		if err != nil || n < 1 || n > backend.MaxUserPageLimit {
			return nil, "", backend.Errorf(backend.EINVALID, "limit must be 1 to %d.", backend.MaxUserPageLimit)
		}
		limit = n
	}
	if cursor != "" {
		if err := validID("cursor", cursor); err != nil {
			return nil, "", err
		}
	}
	page = []*backend.User{}
	for _, u := range users { // Users is in id order
		if u.ID <= cursor || q != "" && !backend.MatchesUserQuery(u, q) {
			continue
		}
		if len(page) == limit {
			return page, page[len(page)-1].ID, nil
		}
		page = append(page, u)
	}
	return page, "", nil
}

// awayReporter is the presence tracker's away report (presence.Tracker implements it).
type awayReporter interface {
	// SetAway records that the user is idle (away) or active again and returns the status that
	// is stored now: away or online while they have a stream open, else unchanged.
	SetAway(userID string, away bool) backend.AgentStatus
}

// putPresence lets a person's client say they are idle ({away: true}) or back ({away: false});
// a person's status is otherwise online or offline by their streams. It answers the status the
// user has now: a report from a user with no open stream changes nothing.
func (h *Handler) putPresence(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		Away *bool `json:"away"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	if req.Away == nil {
		return backend.Errorf(backend.EINVALID, "away must be true or false.")
	}
	if u.IsBot() {
		return backend.Errorf(backend.EFORBIDDEN, "Bots set their status with PUT /api/agents/me/status.")
	}
	if ok, wait := h.profileLimit.allow(u.ID); !ok {
		return tooManyBecause(w, wait, "You are changing your presence too often")
	}
	status := h.cfg.Presence.(awayReporter).SetAway(u.ID, *req.Away)
	writeJSON(w, http.StatusOK, map[string]any{"status": status})
	return nil
}
