package bolt

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
)

var _ backend.AdminStore = (*Store)(nil)

// The admin buckets (in allBuckets).
var (
	bucketResets = []byte("resets") // sha256(token) → resetRecord JSON
	bucketAudit  = []byte("audit")  // entry id → AuditEntry JSON (audit.go)
	// bucketLastSeen: user id → when they last went offline (Unix ms, uint64 big endian).
	bucketLastSeen = []byte("lastseen")
)

// keyTeam is where bucketMeta keeps the team's settings (TeamSettings JSON).
var keyTeam = []byte("team")

// resetRecord is a password reset as stored under sha256(token).
type resetRecord struct {
	UserID    string `json:"userId"`
	ExpiresAt int64  `json:"expiresAt"` // Unix ms
}

// inviteHintLen is how many characters of a code GET /api/invites shows.
const inviteHintLen = 4

func inviteHint(code string) string {
	if len(code) > inviteHintLen {
		return code[:inviteHintLen]
	}
	return code
}

// inviteID names the invite stored under key (the code's SHA-256) without revealing the code.
func inviteID(key []byte) string { return hex.EncodeToString(key[:8]) }

// useInvite counts one registration on the invite under key and deletes it once used up. It runs
// in CreateUser's transaction, after every check: the committer serializes writes, so of two
// registrations on the last use exactly one finds it.
func useInvite(invites bucket, key []byte) error {
	var inv inviteRecord
	if err := json.Unmarshal(invites.Get(key), &inv); err != nil {
		return fmt.Errorf("decode invite: %w", err)
	}
	inv.Uses++
	if inv.Uses >= max(inv.MaxUses, 1) {
		if err := invites.Delete(key); err != nil {
			return fmt.Errorf("use invite: %w", err)
		}
		return nil
	}
	return putJSON(invites, string(key), inv)
}

func (s *Store) Invites(ctx context.Context) ([]*backend.Invite, error) {
	out := []*backend.Invite{}
	now := s.now().UnixMilli()
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketInvites).ForEach(func(k, v []byte) error {
			var r inviteRecord
			if json.Unmarshal(v, &r) != nil || r.ExpiresAt <= now {
				return nil
			}
			out = append(out, &backend.Invite{ID: inviteID(k), Hint: r.Hint, CreatedBy: r.CreatedBy,
				CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, MaxUses: max(r.MaxUses, 1), Uses: r.Uses})
			return nil
		})
	})
	slices.SortFunc(out, func(a, b *backend.Invite) int { return cmp.Compare(b.CreatedAt, a.CreatedAt) })
	return out, err
}

func (s *Store) RevokeInvite(ctx context.Context, id string) error {
	prefix, err := hex.DecodeString(id)
	if err != nil || len(prefix) != 8 {
		return backend.Errorf(backend.ENOTFOUND, "No invite with id %s.", id)
	}
	return s.update(ctx, func(t *txn) error {
		b := t.Bucket(bucketInvites)
		k, _ := b.Cursor().Seek(prefix)
		if k == nil || !bytes.HasPrefix(k, prefix) {
			return backend.Errorf(backend.ENOTFOUND, "No invite with id %s.", id)
		}
		return b.Delete(slices.Clone(k))
	})
}

// markSeen records when userID went from online or busy to offline: when they were last seen.
func (t *txn) markSeen(userID string, from, to backend.AgentStatus) error {
	if to != backend.StatusOffline || from == backend.StatusOffline {
		return nil
	}
	return t.Bucket(bucketLastSeen).Put([]byte(userID), binary.BigEndian.AppendUint64(nil, uint64(t.now.UnixMilli())))
}

func (s *Store) ListUsers(ctx context.Context, f backend.UserFilter) ([]*backend.Account, bool, error) {
	q := strings.ToLower(f.Query)
	out := []*backend.Account{}
	more := false
	err := s.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketUsers).Cursor()
		k, v := c.First()
		if f.After != "" {
			k, v = c.Seek([]byte(f.After))
			if k != nil && string(k) == f.After {
				k, v = c.Next()
			}
		}
		for ; k != nil; k, v = c.Next() {
			var r userRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode user %s: %w", k, err)
			}
			if q != "" && !strings.Contains(r.Username, q) && !strings.Contains(strings.ToLower(r.DisplayName), q) {
				continue
			}
			if len(out) == f.Limit {
				more = true
				return nil
			}
			a := &backend.Account{User: r.User}
			if v := tx.Bucket(bucketLastSeen).Get(k); len(v) == 8 {
				a.LastSeenAt = int64(binary.BigEndian.Uint64(v))
			}
			out = append(out, a)
		}
		return nil
	})
	return out, more, err
}

// activeAdmins counts the users that IsActiveAdmin.
func activeAdmins(tx *bbolt.Tx) (int, error) {
	n := 0
	err := tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
		var r userRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode user %s: %w", k, err)
		}
		if backend.IsActiveAdmin(&r.User) {
			n++
		}
		return nil
	})
	return n, err
}

// putUser stores u (keeping its password hash) and emits USER_UPDATED to everyone who shares a
// chat with u.
func (t *txn) putUser(u *backend.User) error {
	if err := putJSON(t.Bucket(bucketUsers), u.ID, userRecord{User: *u, PasswordHash: u.PasswordHash}); err != nil {
		return err
	}
	public := *u
	public.PasswordHash = ""
	public.Present(t.now) // as reads give it: an expired status cleared, avatarColor set
	return t.emit(&backend.Event{Type: backend.EventUserUpdated, User: &public, Personal: true,
		Recipients: coMembers(t.Tx, u.ID)})
}

func (s *Store) SetDeactivated(ctx context.Context, actorID, userID string, deactivated bool) (*backend.User, error) {
	var out *backend.User
	err := s.update(ctx, func(t *txn) error {
		actor, err := getUser(t.Tx, actorID)
		if err != nil {
			return err
		}
		u, err := getUser(t.Tx, userID)
		if err != nil {
			return err
		}
		if deactivated {
			n, err := activeAdmins(t.Tx)
			if err != nil {
				return err
			}
			err = backend.CanDeactivate(actor, u, n)
			if err != nil {
				return err
			}
		} else if err := backend.CanReactivate(actor); err != nil {
			return err
		}
		out = u
		if u.Deactivated == deactivated {
			return nil
		}
		u.Deactivated = deactivated
		delete(t.cache.quiet, u.ID) // notified again on reactivation, not while deactivated
		current := u.Status
		wasOnline := current != "" && current != backend.StatusOffline
		if deactivated {
			u.Status = ""
			if err := t.markSeen(u.ID, cmp.Or(current, backend.StatusOffline), backend.StatusOffline); err != nil {
				return err
			}
		}
		if err := t.putUser(u); err != nil {
			return err
		}
		if !deactivated {
			return nil
		}
		if wasOnline {
			// Its streams end now: say so at once rather than after presence's grace period (a
			// bot's own status would never change again).
			err := t.emit(&backend.Event{Type: backend.EventAgentStatusChanged, Agent: u.AsAgent(),
				Status: backend.StatusOffline, Personal: true, Recipients: coMembers(t.Tx, u.ID)})
			if err != nil {
				return err
			}
		}
		if err := revokeInvitesBy(t, u.ID); err != nil {
			return err
		}
		return t.endSessions(u.ID, userSessionKeys(t.Tx, u.ID), backend.SessionDeactivated)
	})
	if out != nil {
		out.PasswordHash = ""
	}
	return out, err
}

// revokeInvitesBy deletes the invites userID created: a deactivated admin's links stop letting
// people in.
func revokeInvitesBy(t *txn, userID string) error {
	b := t.Bucket(bucketInvites)
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var r inviteRecord
		if json.Unmarshal(v, &r) == nil && r.CreatedBy == userID {
			keys = append(keys, slices.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("revoke invite: %w", err)
		}
	}
	return nil
}

func (s *Store) SetRole(ctx context.Context, actorID, userID string, role backend.Role) (*backend.User, error) {
	var out *backend.User
	err := s.update(ctx, func(t *txn) error {
		actor, err := getUser(t.Tx, actorID)
		if err != nil {
			return err
		}
		u, err := getUser(t.Tx, userID)
		if err != nil {
			return err
		}
		n, err := activeAdmins(t.Tx)
		if err != nil {
			return err
		}
		if err := backend.CanChangeRole(actor, u, role, n); err != nil {
			return err
		}
		out = u
		if u.Role == role {
			return nil
		}
		u.Role = role
		return t.putUser(u)
	})
	if out != nil {
		out.PasswordHash = ""
	}
	return out, err
}

func (s *Store) UpdateBot(ctx context.Context, botID string, c backend.BotChange) (*backend.User, error) {
	var out *backend.User
	err := s.update(ctx, func(t *txn) error {
		u, err := getUser(t.Tx, botID)
		if err != nil {
			return err
		}
		if !u.IsBot() {
			return backend.Errorf(backend.ENOTFOUND, "No bot with id %s.", botID)
		}
		out = u
		changed := false
		if c.DisplayName != nil && *c.DisplayName != u.DisplayName {
			u.DisplayName, changed = *c.DisplayName, true
		}
		if c.Avatar != nil && *c.Avatar != u.Avatar {
			u.Avatar, changed = *c.Avatar, true
		}
		if !changed {
			return nil
		}
		return t.putUser(u)
	})
	return out, err
}

func (s *Store) CreatePasswordReset(ctx context.Context, token, userID string, expiresAt time.Time) error {
	return s.update(ctx, func(t *txn) error {
		u, err := getUser(t.Tx, userID)
		if err != nil {
			return err
		}
		if u.IsBot() {
			return backend.Errorf(backend.ECONFLICT, "Bots have no password; rotate their token instead.")
		}
		if u.Deactivated {
			return backend.Errorf(backend.ECONFLICT, "The account is deactivated; reactivate it first.")
		}
		// A new link replaces the user's earlier ones: only the newest one handed out works.
		b := t.Bucket(bucketResets)
		var old [][]byte
		err = b.ForEach(func(k, v []byte) error {
			var r resetRecord
			if json.Unmarshal(v, &r) != nil || r.UserID == userID {
				old = append(old, slices.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("replace password reset: %w", err)
			}
		}
		return putJSON(b, string(hashKey(token)), resetRecord{UserID: userID, ExpiresAt: expiresAt.UnixMilli()})
	})
}

// reset returns the valid reset stored for token.
func reset(tx *bbolt.Tx, token string, now time.Time) (*resetRecord, error) {
	var r resetRecord
	v := tx.Bucket(bucketResets).Get(hashKey(token))
	if v == nil || json.Unmarshal(v, &r) != nil || now.UnixMilli() >= r.ExpiresAt {
		return nil, backend.Errorf(backend.ENOTFOUND, "The reset link is not valid, was used already or has expired.")
	}
	return &r, nil
}

func (s *Store) PasswordReset(ctx context.Context, token string) (string, error) {
	var userID string
	err := s.view(func(tx *bbolt.Tx) error {
		r, err := reset(tx, token, s.now())
		if err == nil {
			userID = r.UserID
		}
		return err
	})
	return userID, err
}

func (s *Store) UsePasswordReset(ctx context.Context, token, hash string) (string, error) {
	var userID string
	err := s.update(ctx, func(t *txn) error {
		r, err := reset(t.Tx, token, t.now)
		if err != nil {
			return err
		}
		u, err := getUser(t.Tx, r.UserID)
		if err != nil {
			return err
		}
		if u.IsBot() || u.Deactivated {
			return backend.Errorf(backend.EFORBIDDEN, "This account is deactivated.")
		}
		if err := t.Bucket(bucketResets).Delete(hashKey(token)); err != nil {
			return fmt.Errorf("use password reset: %w", err)
		}
		if err := putJSON(t.Bucket(bucketUsers), u.ID, userRecord{User: *u, PasswordHash: hash}); err != nil {
			return err
		}
		userID = u.ID
		return t.endSessions(u.ID, userSessionKeys(t.Tx, u.ID), backend.SessionPasswordChanged)
	})
	return userID, err
}

func (s *Store) Team(ctx context.Context) (backend.TeamSettings, error) {
	var team backend.TeamSettings
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		team, err = readTeam(tx)
		return err
	})
	return team, err
}

// readTeam returns the stored team settings, backend.DefaultTeamSettings() before any.
func readTeam(tx *bbolt.Tx) (backend.TeamSettings, error) {
	team := backend.DefaultTeamSettings()
	v := tx.Bucket(bucketMeta).Get(keyTeam)
	if v == nil {
		return team, nil
	}
	if err := json.Unmarshal(v, &team); err != nil {
		return team, fmt.Errorf("decode team settings: %w", err)
	}
	return team, nil
}

// teamIconOwner is the avatars bucket's key prefix of the team's icon: no user id is this short.
const teamIconOwner = "team"

func (s *Store) SetTeam(ctx context.Context, team backend.TeamSettings) error {
	return s.update(ctx, func(t *txn) error {
		old, err := readTeam(t.Tx)
		if err != nil {
			return err
		}
		if old.HasUploadedIcon() && team.IconURL != old.IconURL {
			// The uploaded icon is no longer the team's: its bytes go, and no copy stays in the file.
			if b := t.Bucket(bucketAvatars); b.ok() {
				for _, size := range backend.AvatarSizes {
					if err := b.Delete(avatarKey(teamIconOwner, size)); err != nil {
						return fmt.Errorf("delete team icon: %w", err)
					}
				}
			}
			t.scrub = true
		}
		return t.putTeam(team)
	})
}

func (s *Store) SetTeamIcon(ctx context.Context, images [][]byte) (backend.TeamSettings, error) {
	if len(images) != len(backend.AvatarSizes) {
		return backend.TeamSettings{}, fmt.Errorf("set team icon: %d images for %d sizes", len(images), len(backend.AvatarSizes))
	}
	var team backend.TeamSettings
	err := s.update(ctx, func(t *txn) error {
		var err error
		if team, err = readTeam(t.Tx); err != nil {
			return err
		}
		b, err := t.CreateBucketIfNotExists(bucketAvatars)
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", bucketAvatars, err)
		}
		for i, size := range backend.AvatarSizes {
			if err := b.Put(avatarKey(teamIconOwner, size), images[i]); err != nil {
				return fmt.Errorf("store team icon: %w", err)
			}
		}
		t.scrub = team.HasUploadedIcon() // the replaced icon leaves no copy in the file
		team.IconVersion = max(t.now.UnixMilli(), team.IconVersion+1)
		team.IconURL = backend.TeamIconURL(team.IconVersion)
		return t.putTeam(team)
	})
	return team, err
}

func (s *Store) TeamIcon(ctx context.Context, size int) ([]byte, int64, error) {
	if !slices.Contains(backend.AvatarSizes, size) {
		return nil, 0, backend.Errorf(backend.EINVALID, "size must be one of %v.", backend.AvatarSizes)
	}
	var img []byte
	var version int64
	err := s.view(func(tx *bbolt.Tx) error {
		team, err := readTeam(tx)
		if err != nil {
			return err
		}
		var v []byte
		if b := tx.Bucket(bucketAvatars); b != nil && team.HasUploadedIcon() {
			v = b.Get(avatarKey(teamIconOwner, size))
		}
		if v == nil {
			return backend.Errorf(backend.ENOTFOUND, "The team has no uploaded icon.")
		}
		img, version = slices.Clone(v), team.IconVersion
		return nil
	})
	return img, version, err
}

// putTeam stores the team settings and emits TEAM_UPDATED to every account.
func (t *txn) putTeam(team backend.TeamSettings) error {
	var everyone []string
	err := t.Bucket(bucketUsers).ForEach(func(k, _ []byte) error {
		everyone = append(everyone, string(k))
		return nil
	})
	if err != nil {
		return err
	}
	if err := putJSON(t.Bucket(bucketMeta), string(keyTeam), team); err != nil {
		return err
	}
	return t.emit(&backend.Event{Type: backend.EventTeamUpdated, Team: &team, Personal: true, Recipients: everyone})
}
