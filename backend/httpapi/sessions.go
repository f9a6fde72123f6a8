package httpapi

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/herald-chat/herald/backend"
)

// changePassword replaces the signed-in user's password (the current one is required) and ends
// every other session of theirs, with their streams, in the same commit. This session stays.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		CurrentPassword string `json:"currentPassword"`
		NewPassword     string `json:"newPassword"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	if u.IsBot() {
		return backend.Errorf(backend.EFORBIDDEN, "Bots have no password; an admin rotates their token.")
	}
	if err := validPassword(req.NewPassword); err != nil {
		return backend.Errorf(backend.EINVALID, "newPassword must be %d to %d bytes.", backend.MinPasswordLen, backend.MaxPasswordLen)
	}
	// A stolen session must not become a way to guess the password at full speed.
	if ok, wait := h.passwordLimit.allow(u.ID); !ok {
		return tooMany(w, wait)
	}
	var ok bool
	if err := withHashSlot(r.Context(), func() { ok = checkPassword(u.PasswordHash, req.CurrentPassword) }); err != nil {
		return err
	}
	if !ok || len(req.CurrentPassword) > backend.MaxPasswordLen {
		return backend.Errorf(backend.EFORBIDDEN, "The current password is wrong.")
	}
	var hash string
	var err error
	if slotErr := withHashSlot(r.Context(), func() { hash, err = hashPassword(req.NewPassword) }); slotErr != nil {
		return slotErr
	}
	if err != nil {
		return err
	}
	cred := r.Context().Value(credentialKey).(*credential)
	if err := h.writes.SetPassword(r.Context(), u.ID, hash, cred.token); err != nil {
		return err
	}
	h.log.InfoContext(r.Context(), "password changed", "user", u.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// botEntry is a bot as GET /api/bots lists it: with its tokens (never their values).
type botEntry struct {
	Bot    *backend.User      `json:"bot"`
	Tokens []*backend.Session `json:"tokens"`
}

// listBots shows admins every bot with its live tokens.
func (h *Handler) listBots(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if u.Role != backend.RoleAdmin {
		return backend.Errorf(backend.EFORBIDDEN, "Only admins can manage bots.")
	}
	users, err := h.reads.Users(r.Context())
	if err != nil {
		return err
	}
	bots := []botEntry{}
	for _, b := range slices.DeleteFunc(users, func(x *backend.User) bool { return !x.IsBot() || x.Deactivated }) {
		tokens, err := h.reads.Sessions(r.Context(), b.ID)
		if err != nil {
			return err
		}
		if tokens == nil {
			tokens = []*backend.Session{}
		}
		bots = append(bots, botEntry{Bot: b, Tokens: tokens})
	}
	writeJSON(w, http.StatusOK, map[string]any{"bots": bots})
	return nil
}

// adminBot returns the bot named by {botId} if u is an admin.
func (h *Handler) adminBot(r *http.Request, u *backend.User) (*backend.User, error) {
	if u.Role != backend.RoleAdmin {
		return nil, backend.Errorf(backend.EFORBIDDEN, "Only admins can manage bots.")
	}
	id := r.PathValue("botId")
	if err := validID("botId", id); err != nil {
		return nil, err
	}
	bot, err := h.reads.User(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !bot.IsBot() || bot.Deactivated {
		return nil, backend.Errorf(backend.ENOTFOUND, "No bot with id %s.", id)
	}
	return bot, nil
}

// rotateBotToken gives the bot a new token (answered once) and revokes every other: the bot's
// streams on an old token end at once.
func (h *Handler) rotateBotToken(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	bot, err := h.adminBot(r, u)
	if err != nil {
		return err
	}
	token, err := h.newBotToken(r, bot)
	if err != nil {
		return err
	}
	n, err := h.writes.EndSessions(r.Context(), bot.ID, token, backend.SessionRevoked)
	if err != nil {
		return err
	}
	h.log.InfoContext(r.Context(), "bot token rotated", "bot", bot.ID, "revoked", n, "by", u.ID)
	h.audit(r, u, backend.AuditBotTokenRotated, bot.ID, "revoked", strconv.Itoa(n))
	writeJSON(w, http.StatusCreated, map[string]any{"bot": bot, "token": token, "revoked": n})
	return nil
}

// revokeBotTokens ends every token of the bot, and its streams: it cannot act until an admin
// rotates in a new one.
func (h *Handler) revokeBotTokens(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	bot, err := h.adminBot(r, u)
	if err != nil {
		return err
	}
	n, err := h.writes.EndSessions(r.Context(), bot.ID, "", backend.SessionRevoked)
	if err != nil {
		return err
	}
	h.log.InfoContext(r.Context(), "bot tokens revoked", "bot", bot.ID, "revoked", n, "by", u.ID)
	h.audit(r, u, backend.AuditBotTokensRevoked, bot.ID, "revoked", strconv.Itoa(n))
	writeJSON(w, http.StatusOK, map[string]any{"revoked": n})
	return nil
}

// newBotToken stores a new session for bot and returns its token.
func (h *Handler) newBotToken(r *http.Request, bot *backend.User) (string, error) {
	token, err := newSecret()
	if err != nil {
		return "", err
	}
	now := h.now()
	err = h.writes.CreateSession(r.Context(), token, backend.Session{UserID: bot.ID, CreatedAt: now, ExpiresAt: now.Add(botTokenTTL)})
	return token, err
}
