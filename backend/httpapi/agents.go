package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/herald-chat/herald/backend"
)

// botTokenTTL: a bot's token is its only credential and does not expire on its own; admins
// rotate and revoke it (sessions.go).
const botTokenTTL = 100 * 365 * 24 * time.Hour

// createBot lets an admin add a bot. Its token is answered once and never shown again.
func (h *Handler) createBot(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if err := h.requireAdmin(w, u, "add bots", true); err != nil {
		return err
	}
	var req struct {
		Name   string `json:"name"`
		Avatar string `json:"avatar"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	name, err := validText("name", req.Name, backend.MaxDisplayNameLen, false)
	if err != nil {
		return err
	}
	username, err := validUsername(slug(name))
	if err != nil {
		return backend.Errorf(backend.EINVALID, "name must contain letters or digits to make a username from.")
	}
	avatar, err := validText("avatar", req.Avatar, backend.MaxAvatarURLLen, true)
	if err != nil {
		return err
	}
	if err := backend.CheckAvatar(avatar); err != nil {
		return err
	}
	bot := &backend.User{Username: username, DisplayName: name, Avatar: avatar}
	if err := h.writes.CreateBot(r.Context(), bot); err != nil {
		return err
	}
	token, err := h.newBotToken(r, bot)
	if err != nil {
		return err
	}
	h.log.InfoContext(r.Context(), "bot created", "bot", bot.ID, "username", bot.Username, "by", u.ID)
	h.audit(r, u, backend.AuditBotCreated, bot.ID, "username", bot.Username)
	writeJSON(w, http.StatusCreated, map[string]any{"bot": bot, "token": token})
	return nil
}

// slug turns a display name into a username: lower case, runs of other characters as one "-".
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// setAgentStatus lets a bot say it is online, busy or offline. People's presence follows their
// streams.
func (h *Handler) setAgentStatus(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		Status backend.AgentStatus `json:"status"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	switch req.Status {
	case backend.StatusOnline, backend.StatusBusy, backend.StatusOffline:
	default:
		return backend.Errorf(backend.EINVALID, "status must be online, busy or offline.")
	}
	if !u.IsBot() {
		return backend.Errorf(backend.EFORBIDDEN, "Only bots set their status; a person's follows their connection.")
	}
	if _, err := h.writes.SetStatus(r.Context(), u.ID, req.Status); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"agent": u.AsAgent(), "status": req.Status})
	return nil
}
