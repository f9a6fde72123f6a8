package backend

import (
	"context"
	"fmt"
	"time"
)

// Limits of the admin features. They are part of the API.
const (
	// DefaultInviteMaxUses is how many accounts an invite created without maxUses can make: the
	// link the Invite dialog shows says "Anyone with this link can create an account".
	DefaultInviteMaxUses = 100
	MaxInviteUses        = 1000
	// MaxInviteHours bounds an invite's expiresInHours.
	MaxInviteHours = 720
	// PasswordResetTTL is how long an admin's password-reset link works (once).
	PasswordResetTTL = 24 * time.Hour
	// MaxAuditEntries and AuditRetention bound the audit log: the oldest entries beyond either
	// are dropped as new ones are written.
	MaxAuditEntries = 10_000
	AuditRetention  = 365 * 24 * time.Hour
	// MaxAdminPageLimit bounds a page of GET /api/admin/users and /api/admin/audit;
	// DefaultAdminPageLimit is a page's size when the request names none.
	MaxAdminPageLimit     = 200
	DefaultAdminPageLimit = 50
	// MaxTeamNameLen bounds the team's name (characters).
	MaxTeamNameLen = 80
)

// ChannelCreation says who may create channels: ChannelsEveryone or ChannelsAdmins.
type ChannelCreation string

const (
	ChannelsEveryone ChannelCreation = "everyone"
	ChannelsAdmins   ChannelCreation = "admins"
)

// TeamSettings are the team-wide settings an admin changes (GET/PATCH /api/team).
type TeamSettings struct {
	Name string `json:"name"`
	// IconURL is the team's icon: an https URL an admin gave, or TeamIconURL of the one they
	// uploaded (PUT /api/team/icon); "" for none (clients draw the name's initial).
	IconURL string `json:"iconUrl,omitempty"`
	// IconVersion grows with each uploaded icon (Unix ms or more), so its URL changes with it.
	IconVersion     int64           `json:"iconVersion,omitempty"`
	ChannelCreation ChannelCreation `json:"channelCreation"`
}

// TeamIconURL is where an uploaded team icon of that version is served (its size chosen with
// &size=, as avatars).
func TeamIconURL(version int64) string { return fmt.Sprintf("/api/team/icon?v=%d", version) }

// HasUploadedIcon reports whether the team's icon is one an admin uploaded (its bytes are in the
// store), not an outside URL.
func (t TeamSettings) HasUploadedIcon() bool {
	return t.IconVersion > 0 && t.IconURL == TeamIconURL(t.IconVersion)
}

// DefaultTeamSettings are a new server's settings.
func DefaultTeamSettings() TeamSettings {
	return TeamSettings{Name: "Herald", ChannelCreation: ChannelsEveryone}
}

// MayCreateChannel reports whether u may create a channel under the team's settings.
func MayCreateChannel(team TeamSettings, u *User) bool {
	if u == nil || u.Deactivated {
		return false
	}
	return team.ChannelCreation != ChannelsAdmins || u.Role == RoleAdmin
}

// CheckAddable refuses a deactivated account as a new member of a chat or a new DM (ECONFLICT,
// naming them); a nil user is the caller's ENOTFOUND to report.
func CheckAddable(u *User) error {
	if u != nil && u.Deactivated {
		return Errorf(ECONFLICT, "%s's account is deactivated.", u.DisplayName)
	}
	return nil
}

// IsActiveAdmin reports whether u counts toward the team's admins: a person, admin, not
// deactivated.
func IsActiveAdmin(u *User) bool {
	return u != nil && u.Role == RoleAdmin && !u.Deactivated && !u.IsBot()
}

// CanChangeRole decides whether actor may give target role, with activeAdmins admins on the team
// now (IsActiveAdmin). Only admins change roles (EFORBIDDEN); bots cannot be admins (EINVALID);
// the last active admin cannot be demoted (ECONFLICT).
func CanChangeRole(actor, target *User, role Role, activeAdmins int) error {
	if !IsActiveAdmin(actor) {
		return Errorf(EFORBIDDEN, "Only admins can change roles.")
	}
	switch role {
	case RoleAdmin, RoleMember:
	default:
		return Errorf(EINVALID, "role must be admin or member.")
	}
	if role == RoleAdmin && target.IsBot() {
		return Errorf(EINVALID, "Bots cannot be admins.")
	}
	if role == RoleMember && IsActiveAdmin(target) && activeAdmins <= 1 {
		return Errorf(ECONFLICT, "The team needs at least one admin: make someone else admin first.")
	}
	return nil
}

// CanDeactivate decides whether actor may deactivate target, with activeAdmins admins on the
// team now. Only admins do (EFORBIDDEN); nobody deactivates themselves, nor the last active
// admin (ECONFLICT).
func CanDeactivate(actor, target *User, activeAdmins int) error {
	if !IsActiveAdmin(actor) {
		return Errorf(EFORBIDDEN, "Only admins can deactivate accounts.")
	}
	if actor.ID == target.ID {
		return Errorf(ECONFLICT, "You cannot deactivate your own account.")
	}
	if IsActiveAdmin(target) && activeAdmins <= 1 {
		return Errorf(ECONFLICT, "The team needs at least one active admin.")
	}
	return nil
}

// CanReactivate decides whether actor may reactivate an account (admins only).
func CanReactivate(actor *User) error {
	if !IsActiveAdmin(actor) {
		return Errorf(EFORBIDDEN, "Only admins can reactivate accounts.")
	}
	return nil
}

// Audit actions (AuditEntry.Action).
const (
	AuditInviteCreated     = "invite.created"
	AuditInviteRevoked     = "invite.revoked"
	AuditUserDeactivated   = "user.deactivated"
	AuditUserReactivated   = "user.reactivated"
	AuditRoleChanged       = "user.role_changed"
	AuditPasswordReset     = "user.password_reset_issued"
	AuditBotCreated        = "bot.created"
	AuditBotUpdated        = "bot.updated"
	AuditBotTokenRotated   = "bot.token_rotated"
	AuditBotTokensRevoked  = "bot.tokens_revoked"
	AuditBotDeleted        = "bot.deleted"
	AuditTeamUpdated       = "team.updated"
	AuditPasswordResetUsed = "user.password_reset_used"
)

// AuditEntry is one admin action in the audit log.
type AuditEntry struct {
	ID      string `json:"id"` // a ULID: entries are ordered by time
	ActorID string `json:"actorId"`
	Action  string `json:"action"`
	// TargetID is the user, bot or invite acted on, "" for team settings.
	TargetID string `json:"targetId,omitempty"`
	// Details are short facts about the action (the new role, an invite's uses), never secrets.
	Details   map[string]string `json:"details,omitempty"`
	CreatedAt int64             `json:"createdAt"` // Unix ms
}

// UserFilter selects users for the admin list: Query matches username or display name
// (case-insensitively); the page holds up to Limit users with ids after After, in id order.
type UserFilter struct {
	Query string
	After string
	Limit int
}

// Account is a user as the admin list shows them.
type Account struct {
	User
	// LastSeenAt is when the account last went offline (Unix ms), 0 if never recorded.
	LastSeenAt int64 `json:"lastSeenAt,omitempty"`
}

// BotChange is a bot's rename or new avatar; nil fields stay.
type BotChange struct {
	DisplayName *string
	Avatar      *string
}

// AdminStore keeps what admins manage: accounts' state and roles, invites, password resets,
// the audit log and the team's settings.
type AdminStore interface {
	// ListUsers returns a page of users (bots and deactivated ones too) and whether more match.
	ListUsers(ctx context.Context, f UserFilter) ([]*Account, bool, error)
	// SetDeactivated deactivates (CanDeactivate) or reactivates (CanReactivate) userID as actorID.
	// Deactivating ends every session of the user and their streams (SESSION_ENDED deactivated)
	// in the same commit. A change emits USER_UPDATED to everyone sharing a chat with the user;
	// no change emits nothing.
	SetDeactivated(ctx context.Context, actorID, userID string, deactivated bool) (*User, error)
	// SetRole gives userID role as actorID (CanChangeRole) and emits USER_UPDATED when it changed.
	SetRole(ctx context.Context, actorID, userID string, role Role) (*User, error)
	// UpdateBot renames a bot or changes its avatar (ENOTFOUND for a non-bot) and emits
	// USER_UPDATED.
	UpdateBot(ctx context.Context, botID string, c BotChange) (*User, error)

	// Invites returns the invites that have not expired or been used up, newest first, without
	// their codes.
	Invites(ctx context.Context) ([]*Invite, error)
	// RevokeInvite deletes the invite with that id (ENOTFOUND).
	RevokeInvite(ctx context.Context, id string) error

	// CreatePasswordReset stores a one-time reset for userID (a person, not deactivated:
	// ECONFLICT) valid until expiresAt, replacing the user's earlier ones. Only the token's
	// SHA-256 is stored.
	CreatePasswordReset(ctx context.Context, token, userID string, expiresAt time.Time) error
	// PasswordReset returns the user a valid reset token is for (ENOTFOUND once used or
	// expired).
	PasswordReset(ctx context.Context, token string) (userID string, err error)
	// UsePasswordReset sets the password of the reset's user to hash, uses the token up and ends
	// every session of the user (SESSION_ENDED password_changed), in one commit. An unknown,
	// used or expired token is ENOTFOUND.
	UsePasswordReset(ctx context.Context, token, hash string) (userID string, err error)

	// RecordAudit appends e (ID and CreatedAt are assigned), dropping entries beyond
	// MaxAuditEntries or older than AuditRetention.
	RecordAudit(ctx context.Context, e AuditEntry) error
	// Audit returns up to limit entries older than before ("" for the newest), newest first, and
	// whether older ones exist.
	Audit(ctx context.Context, before string, limit int) ([]*AuditEntry, bool, error)

	// Team returns the team's settings, DefaultTeamSettings() until an admin changes them.
	Team(ctx context.Context) (TeamSettings, error)
	// SetTeam stores the team's settings (validated by the caller) and emits TEAM_UPDATED to
	// everyone. Settings that no longer name the uploaded icon delete its bytes.
	SetTeam(ctx context.Context, t TeamSettings) error
	// SetTeamIcon stores an uploaded icon, one image per AvatarSizes (made by the caller), as
	// the team's icon, and emits TEAM_UPDATED with its new IconURL.
	SetTeamIcon(ctx context.Context, images [][]byte) (TeamSettings, error)
	// TeamIcon returns the uploaded icon at size and its version (ENOTFOUND when there is none,
	// EINVALID for a size not in AvatarSizes).
	TeamIcon(ctx context.Context, size int) ([]byte, int64, error)
}
