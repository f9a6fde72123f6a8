package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/herald-chat/herald/backend"
)

// adminLimits are the limits of the admin routes.
type adminLimits struct {
	// writes limits each admin's changes (roles, deactivations, resets, invites created or
	// revoked, team settings, bots renamed or deleted): a burst of 30, then one per second.
	writes *keyedLimiter
	// resetIP limits password-reset attempts per client IP, with the registration limit's
	// numbers (Config.RegisterIP) in a bucket of its own: that is where reset tokens are guessed.
	resetIP *keyedLimiter
}

// maxUserQueryLen bounds GET /api/admin/users?q= (bytes).
const maxUserQueryLen = 64

// adminRoutes adds the admin routes (docs/API.md, "Admin: people, invites, audit, team
// settings") and the password-reset route that an admin's link leads to.
func (h *Handler) adminRoutes(m *http.ServeMux) {
	h.admin.writes = newKeyedLimiter(Limit{Burst: 30, Every: time.Second}, h.now)
	h.admin.resetIP = newKeyedLimiter(h.cfg.RegisterIP, h.now)

	m.Handle("GET /api/admin/users", h.authed(h.adminUsers))
	m.Handle("PATCH /api/admin/users/{userId}", h.authed(h.changeRole))
	m.Handle("POST /api/admin/users/{userId}/deactivate", h.authed(h.setDeactivated(true)))
	m.Handle("POST /api/admin/users/{userId}/reactivate", h.authed(h.setDeactivated(false)))
	m.Handle("POST /api/admin/users/{userId}/password-reset", h.authed(h.issuePasswordReset))
	m.Handle("GET /api/admin/audit", h.authed(h.listAudit))
	m.Handle("POST /api/auth/password-reset", h.limited(h.admin.resetIP, h.handle(h.usePasswordReset)))

	m.Handle("GET /api/invites", h.authed(h.listInvites))
	m.Handle("DELETE /api/invites/{inviteId}", h.authed(h.revokeInvite))

	m.Handle("GET /api/team", h.authed(h.getTeam))
	m.Handle("PATCH /api/team", h.authed(h.patchTeam))
	if h.cfg.Avatars != nil {
		m.Handle("PUT /api/team/icon", h.authed(h.putTeamIcon))
	}
	m.Handle("GET /api/team/icon", h.authed(h.getTeamIcon))
	m.Handle("DELETE /api/team/icon", h.authed(h.deleteTeamIcon))

	m.Handle("PATCH /api/bots/{botId}", h.authed(h.updateBot))
	m.Handle("DELETE /api/bots/{botId}", h.authed(h.deleteBot))
}

// requireAdmin refuses anyone but an active admin (what, e.g. "manage accounts", completes the
// message), and takes one of the admin's writes when write is set.
func (h *Handler) requireAdmin(w http.ResponseWriter, u *backend.User, what string, write bool) error {
	if !backend.IsActiveAdmin(u) {
		return backend.Errorf(backend.EFORBIDDEN, "Only admins can %s.", what)
	}
	if write {
		if ok, wait := h.admin.writes.allow(u.ID); !ok {
			return tooMany(w, wait)
		}
	}
	return nil
}

// audit records an admin action; details are key, value pairs. The action already happened: a
// failure to record it is logged, not answered.
func (h *Handler) audit(r *http.Request, actor *backend.User, action, target string, details ...string) {
	e := backend.AuditEntry{ActorID: actor.ID, Action: action, TargetID: target}
	if len(details) > 0 {
		e.Details = map[string]string{}
		for i := 0; i+1 < len(details); i += 2 {
			e.Details[details[i]] = details[i+1]
		}
	}
	if err := h.writes.RecordAudit(context.WithoutCancel(r.Context()), e); err != nil {
		h.log.ErrorContext(r.Context(), "recording an admin action failed", "action", action, "by", actor.ID, "err", err)
	}
}

// inviteID names an invite without revealing its code: the first 8 bytes of the code's SHA-256,
// hex (bolt stores invites under that hash and lists them by the same id).
func inviteID(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:8])
}

// adminPageLimit reads ?limit= (1..MaxAdminPageLimit, default DefaultAdminPageLimit).
func adminPageLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return backend.DefaultAdminPageLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > backend.MaxAdminPageLimit {
		return 0, backend.Errorf(backend.EINVALID, "limit must be 1 to %d.", backend.MaxAdminPageLimit)
	}
	return n, nil
}

// adminUserEntry is an account as GET /api/admin/users lists it.
type adminUserEntry struct {
	*backend.Account
	Online bool `json:"online"`
}

func (h *Handler) adminUsers(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if err := h.requireAdmin(w, u, "list every account", false); err != nil {
		return err
	}
	limit, err := adminPageLimit(r)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > maxUserQueryLen {
		return backend.Errorf(backend.EINVALID, "q must be at most %d bytes.", maxUserQueryLen)
	}
	after := r.URL.Query().Get("after")
	if after != "" {
		if err := validID("after", after); err != nil {
			return err
		}
	}
	users, more, err := h.reads.ListUsers(r.Context(), backend.UserFilter{Query: q, After: after, Limit: limit})
	if err != nil {
		return err
	}
	entries := make([]adminUserEntry, len(users))
	for i, x := range users {
		entries[i] = adminUserEntry{Account: x, Online: !x.Deactivated && (x.Status == backend.StatusOnline || x.Status == backend.StatusBusy)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": entries, "hasMore": more})
	return nil
}

// subject is the account named by {userId}.
func subject(r *http.Request) (string, error) {
	id := r.PathValue("userId")
	return id, validID("userId", id)
}

func (h *Handler) changeRole(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		Role backend.Role `json:"role"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	if err := h.requireAdmin(w, u, "change roles", true); err != nil {
		return err
	}
	id, err := subject(r)
	if err != nil {
		return err
	}
	before, err := h.reads.User(r.Context(), id)
	if err != nil {
		return err
	}
	target, err := h.writes.SetRole(r.Context(), u.ID, id, req.Role)
	if err != nil {
		return err
	}
	if before.Role != target.Role {
		h.audit(r, u, backend.AuditRoleChanged, id, "from", string(before.Role), "to", string(target.Role))
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": target})
	return nil
}

func (h *Handler) setDeactivated(deactivate bool) func(http.ResponseWriter, *http.Request, *backend.User) error {
	what, action := "reactivate accounts", backend.AuditUserReactivated
	if deactivate {
		what, action = "deactivate accounts", backend.AuditUserDeactivated
	}
	return func(w http.ResponseWriter, r *http.Request, u *backend.User) error {
		if err := h.requireAdmin(w, u, what, true); err != nil {
			return err
		}
		id, err := subject(r)
		if err != nil {
			return err
		}
		before, err := h.reads.User(r.Context(), id)
		if err != nil {
			return err
		}
		target, err := h.writes.SetDeactivated(r.Context(), u.ID, id, deactivate)
		if err != nil {
			return err
		}
		if before.Deactivated != target.Deactivated {
			h.audit(r, u, action, id, "username", target.Username)
			h.log.InfoContext(r.Context(), "account "+strings.TrimSuffix(what, " accounts")+"d", "user", id, "by", u.ID)
		}
		writeJSON(w, http.StatusOK, map[string]any{"user": target})
		return nil
	}
}

// issuePasswordReset gives an admin a one-time link (valid PasswordResetTTL) that sets a new
// password for the account. Only the token's SHA-256 is stored; the link is answered once.
func (h *Handler) issuePasswordReset(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if err := h.requireAdmin(w, u, "reset passwords", true); err != nil {
		return err
	}
	id, err := subject(r)
	if err != nil {
		return err
	}
	token, err := newSecret()
	if err != nil {
		return err
	}
	expires := h.now().Add(backend.PasswordResetTTL)
	if err := h.writes.CreatePasswordReset(r.Context(), token, id, expires); err != nil {
		return err
	}
	h.audit(r, u, backend.AuditPasswordReset, id, "expiresAt", expires.UTC().Format(time.RFC3339))
	writeJSON(w, http.StatusCreated, map[string]any{"link": h.publicURL(r) + "/reset/" + token, "expiresAt": expires.UnixMilli()})
	return nil
}

// usePasswordReset consumes a reset link's token: it sets the new password and ends every
// session of the account. The token is checked before the password is hashed, so that guessing
// tokens costs the server no hashing; it works once.
func (h *Handler) usePasswordReset(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Token       string `json:"token"`
		NewPassword string `json:"newPassword"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	if err := validPassword(req.NewPassword); err != nil {
		return backend.Errorf(backend.EINVALID, "newPassword must be %d to %d bytes.", backend.MinPasswordLen, backend.MaxPasswordLen)
	}
	invalid := backend.Errorf(backend.EFORBIDDEN, "The reset link is not valid, was used already or has expired.")
	if req.Token == "" || len(req.Token) > 128 {
		return invalid
	}
	if _, err := h.reads.PasswordReset(r.Context(), req.Token); backend.ErrorCode(err) == backend.ENOTFOUND {
		return invalid
	} else if err != nil {
		return err
	}
	var hash string
	var err error
	if slotErr := withHashSlot(r.Context(), func() { hash, err = hashPassword(req.NewPassword) }); slotErr != nil {
		return slotErr
	}
	if err != nil {
		return err
	}
	userID, err := h.writes.UsePasswordReset(r.Context(), req.Token, hash)
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		return invalid
	} else if err != nil {
		return err
	}
	h.audit(r, &backend.User{ID: userID}, backend.AuditPasswordResetUsed, userID)
	h.log.InfoContext(r.Context(), "password reset", "user", userID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listAudit(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if err := h.requireAdmin(w, u, "read the audit log", false); err != nil {
		return err
	}
	limit, err := adminPageLimit(r)
	if err != nil {
		return err
	}
	before := r.URL.Query().Get("before")
	if before != "" {
		if err := validID("before", before); err != nil {
			return err
		}
	}
	entries, more, err := h.reads.Audit(r.Context(), before, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries, "hasMore": more})
	return nil
}

func (h *Handler) listInvites(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if err := h.requireAdmin(w, u, "see invites", false); err != nil {
		return err
	}
	invites, err := h.reads.Invites(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"invites": invites})
	return nil
}

func (h *Handler) revokeInvite(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if err := h.requireAdmin(w, u, "revoke invites", true); err != nil {
		return err
	}
	id := r.PathValue("inviteId")
	if err := h.writes.RevokeInvite(r.Context(), id); err != nil {
		return err
	}
	h.audit(r, u, backend.AuditInviteRevoked, id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) getTeam(w http.ResponseWriter, r *http.Request, _ *backend.User) error {
	team, err := h.reads.Team(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"team": team})
	return nil
}

func (h *Handler) patchTeam(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		Name            *string                  `json:"name"`
		IconURL         *string                  `json:"iconUrl"`
		ChannelCreation *backend.ChannelCreation `json:"channelCreation"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	if err := h.requireAdmin(w, u, "change the team's settings", true); err != nil {
		return err
	}
	team, err := h.reads.Team(r.Context())
	if err != nil {
		return err
	}
	var changed []string
	if req.Name != nil {
		name, err := validText("name", *req.Name, backend.MaxTeamNameLen, false)
		if err != nil {
			return err
		}
		if name != team.Name {
			team.Name = name
			changed = append(changed, "name", name)
		}
	}
	if req.IconURL != nil {
		icon := strings.TrimSpace(*req.IconURL)
		if icon != "" {
			if p, err := url.Parse(icon); err != nil || p.Scheme != "https" || p.Host == "" || p.User != nil || len(icon) > backend.MaxAvatarURLLen {
				return backend.Errorf(backend.EINVALID, "iconUrl must be an https URL with a host, at most %d characters.", backend.MaxAvatarURLLen)
			}
		}
		if icon != team.IconURL {
			team.IconURL = icon
			changed = append(changed, "iconUrl", icon)
		}
	}
	if req.ChannelCreation != nil {
		switch *req.ChannelCreation {
		case backend.ChannelsEveryone, backend.ChannelsAdmins:
		default:
			return backend.Errorf(backend.EINVALID, "channelCreation must be everyone or admins.")
		}
		if *req.ChannelCreation != team.ChannelCreation {
			team.ChannelCreation = *req.ChannelCreation
			changed = append(changed, "channelCreation", string(team.ChannelCreation))
		}
	}
	if len(changed) > 0 {
		if err := h.writes.SetTeam(r.Context(), team); err != nil {
			return err
		}
		h.audit(r, u, backend.AuditTeamUpdated, "", changed...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"team": team})
	return nil
}

// updateBot renames a bot or changes its avatar.
func (h *Handler) updateBot(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		DisplayName *string `json:"displayName"`
		Avatar      *string `json:"avatar"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	bot, err := h.adminBot(r, u)
	if err != nil {
		return err
	}
	if err := h.requireAdmin(w, u, "manage bots", true); err != nil {
		return err
	}
	var change backend.BotChange
	var details []string
	if req.DisplayName != nil {
		name, err := validText("displayName", *req.DisplayName, backend.MaxDisplayNameLen, false)
		if err != nil {
			return err
		}
		change.DisplayName = &name
		details = append(details, "displayName", name)
	}
	if req.Avatar != nil {
		avatar, err := validText("avatar", *req.Avatar, backend.MaxAvatarURLLen, true)
		if err != nil {
			return err
		}
		if err := backend.CheckAvatar(avatar); err != nil {
			return err
		}
		change.Avatar = &avatar
		details = append(details, "avatar", avatar)
	}
	updated, err := h.writes.UpdateBot(r.Context(), bot.ID, change)
	if err != nil {
		return err
	}
	if len(details) > 0 {
		h.audit(r, u, backend.AuditBotUpdated, bot.ID, details...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"bot": updated})
	return nil
}

// deleteBot deactivates the bot, which ends its tokens and their streams; its messages stay.
func (h *Handler) deleteBot(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	bot, err := h.adminBot(r, u)
	if err != nil {
		return err
	}
	if err := h.requireAdmin(w, u, "manage bots", true); err != nil {
		return err
	}
	if _, err := h.writes.SetDeactivated(r.Context(), u.ID, bot.ID, true); err != nil {
		return err
	}
	h.audit(r, u, backend.AuditBotDeleted, bot.ID, "username", bot.Username)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
