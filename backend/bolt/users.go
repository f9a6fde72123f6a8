package bolt

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
)

// userRecord is a User as stored, with its password hash.
type userRecord struct {
	backend.User
	PasswordHash string `json:"passwordHash"`
}

type sessionRecord struct {
	UserID    string `json:"userId"`
	CreatedAt int64  `json:"createdAt"` // Unix ms
	ExpiresAt int64  `json:"expiresAt"` // Unix ms
	// Device, IP and LastSeenAt (Unix ms) describe the session to its owner (issue 11).
	Device     string `json:"device,omitempty"`
	IP         string `json:"ip,omitempty"`
	LastSeenAt int64  `json:"lastSeenAt,omitempty"`
}

type inviteRecord struct {
	CreatedBy string `json:"createdBy"`
	CreatedAt int64  `json:"createdAt"` // Unix ms
	ExpiresAt int64  `json:"expiresAt"` // Unix ms
	// MaxUses is how many registrations the code allows (0, in records written before
	// multi-use invites: one); Uses counts them. A used-up invite is deleted.
	MaxUses int    `json:"maxUses,omitempty"`
	Uses    int    `json:"uses,omitempty"`
	Hint    string `json:"hint,omitempty"`
}

func (s *Store) CreateUser(ctx context.Context, u *backend.User, inviteCode string) error {
	return s.update(ctx, func(t *txn) error {
		// The invite is checked before the username: otherwise anyone could tell taken names
		// (409) from free ones (403) without an invite.
		users, invites := t.Bucket(bucketUsers), t.Bucket(bucketInvites)
		var inviteKey []byte
		role := backend.RoleAdmin
		if k, _ := users.Cursor().First(); k != nil {
			if inviteCode == "" {
				return backend.Errorf(backend.EFORBIDDEN, "This server needs an invite code to register.")
			}
			inviteKey = hashKey(inviteCode)
			v := invites.Get(inviteKey)
			var inv inviteRecord
			if v == nil || json.Unmarshal(v, &inv) != nil || t.now.UnixMilli() >= inv.ExpiresAt {
				return backend.Errorf(backend.EFORBIDDEN, "The invite code is not valid or has expired.")
			}
			role = backend.RoleMember
		}
		if t.Bucket(bucketUsernames).Get([]byte(u.Username)) != nil {
			return backend.Errorf(backend.ECONFLICT, "The username %q is taken.", u.Username)
		}
		if inviteKey != nil {
			if err := useInvite(invites, inviteKey); err != nil {
				return err
			}
		}
		u.Role = role
		u.ID = t.newID()
		u.CreatedAt = t.now.UnixMilli()
		if err := putJSON(users, u.ID, userRecord{User: *u, PasswordHash: u.PasswordHash}); err != nil {
			return err
		}
		u.Present(t.now) // as every read gives it
		return t.Bucket(bucketUsernames).Put([]byte(u.Username), []byte(u.ID))
	})
}

func (s *Store) CreateBot(ctx context.Context, u *backend.User) error {
	return s.update(ctx, func(t *txn) error {
		if t.Bucket(bucketUsernames).Get([]byte(u.Username)) != nil {
			return backend.Errorf(backend.ECONFLICT, "The username %q is taken.", u.Username)
		}
		u.ID = t.newID()
		u.CreatedAt = t.now.UnixMilli()
		u.Kind = backend.AgentBot
		u.Role = backend.RoleMember
		u.PasswordHash = ""
		if err := putJSON(t.Bucket(bucketUsers), u.ID, userRecord{User: *u}); err != nil {
			return err
		}
		t.cache.quiet[u.ID] = true
		u.Present(t.now) // as every read gives it
		return t.Bucket(bucketUsernames).Put([]byte(u.Username), []byte(u.ID))
	})
}

func (s *Store) User(ctx context.Context, id string) (*backend.User, error) {
	var u *backend.User
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		u, err = getUser(tx, id)
		return err
	})
	if u != nil {
		u.Present(s.now())
	}
	return u, err
}

// isQuiet reports whether id is an account that gets no notifications but mentions: a bot, or an
// account an admin deactivated. It decodes only those two fields of the record (the committer asks
// about every member of a chat on every post, through txn.isQuiet's cache). An unknown id is not
// quiet.
func isQuiet(tx *bbolt.Tx, id string) (bool, error) {
	v := tx.Bucket(bucketUsers).Get([]byte(id))
	if v == nil {
		return false, nil
	}
	var r struct {
		Kind        backend.AgentKind `json:"kind"`
		Deactivated bool              `json:"deactivated"`
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return false, fmt.Errorf("decode user %s: %w", id, err)
	}
	return r.Kind == backend.AgentBot || r.Deactivated, nil
}

// addableUser checks that id names an account that may join a chat: ENOTFOUND for none, and
// backend.CheckAddable's ECONFLICT for a deactivated one.
func addableUser(tx *bbolt.Tx, id string) error {
	u, err := getUser(tx, id)
	if err != nil {
		return backend.Errorf(backend.ENOTFOUND, "User %s not found.", id)
	}
	return backend.CheckAddable(u)
}

func getUser(tx *bbolt.Tx, id string) (*backend.User, error) {
	v := tx.Bucket(bucketUsers).Get([]byte(id))
	if v == nil {
		return nil, backend.Errorf(backend.ENOTFOUND, "User not found.")
	}
	var r userRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decode user %s: %w", id, err)
	}
	r.User.PasswordHash = r.PasswordHash
	return &r.User, nil
}

func (s *Store) UserByUsername(ctx context.Context, username string) (*backend.User, error) {
	var u *backend.User
	err := s.view(func(tx *bbolt.Tx) error {
		id := tx.Bucket(bucketUsernames).Get([]byte(username))
		if id == nil {
			return backend.Errorf(backend.ENOTFOUND, "User not found.")
		}
		var err error
		u, err = getUser(tx, string(id))
		return err
	})
	if u != nil {
		u.Present(s.now())
	}
	return u, err
}

func (s *Store) Users(ctx context.Context) ([]*backend.User, error) {
	var users []*backend.User
	now := s.now()
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			var r userRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode user %s: %w", k, err)
			}
			users = append(users, r.User.Present(now))
			return nil
		})
	})
	return users, err
}

func (s *Store) CreateSession(ctx context.Context, token string, sess backend.Session) error {
	return s.update(ctx, func(t *txn) error {
		key := hashKey(token)
		if err := putJSON(t.Bucket(bucketSessions), string(key), sessionRecord{
			UserID: sess.UserID, CreatedAt: sess.CreatedAt.UnixMilli(), ExpiresAt: sess.ExpiresAt.UnixMilli(),
			Device: sess.Device, IP: sess.IP, LastSeenAt: sess.CreatedAt.UnixMilli(),
		}); err != nil {
			return err
		}
		return t.Bucket(bucketUserSessions).Put(concat(sess.UserID, string(key)), nil)
	})
}

// sessionID names the session stored under key (the token's SHA-256) without revealing it.
func sessionID(key []byte) string { return hex.EncodeToString(key[:16]) }

func (r sessionRecord) session(key []byte) *backend.Session {
	s := &backend.Session{ID: sessionID(key), UserID: r.UserID, CreatedAt: time.UnixMilli(r.CreatedAt), ExpiresAt: time.UnixMilli(r.ExpiresAt),
		Device: r.Device, IP: r.IP}
	if r.LastSeenAt != 0 {
		s.LastSeenAt = time.UnixMilli(r.LastSeenAt)
	}
	return s
}

func (s *Store) Session(ctx context.Context, token string) (*backend.Session, error) {
	var r sessionRecord
	key := hashKey(token)
	err := s.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketSessions).Get(key)
		if v == nil {
			return backend.Errorf(backend.ENOTFOUND, "Session not found.")
		}
		return json.Unmarshal(v, &r)
	})
	if err != nil {
		return nil, err
	}
	if s.now().UnixMilli() >= r.ExpiresAt {
		return nil, backend.Errorf(backend.ENOTFOUND, "Session expired.")
	}
	return r.session(key), nil
}

func (s *Store) SessionUser(ctx context.Context, token string) (*backend.Session, *backend.User, error) {
	var r sessionRecord
	var u *backend.User
	key := hashKey(token)
	err := s.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketSessions).Get(key)
		if v == nil {
			return backend.Errorf(backend.ENOTFOUND, "Session not found.")
		}
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		var err error
		u, err = getUser(tx, r.UserID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	if now.UnixMilli() >= r.ExpiresAt {
		return nil, nil, backend.Errorf(backend.ENOTFOUND, "Session expired.")
	}
	u.Present(now) // as User returns it
	return r.session(key), u, nil
}

func (s *Store) DeleteSession(ctx context.Context, token, reason string) error {
	return s.update(ctx, func(t *txn) error {
		key := hashKey(token)
		v := t.Bucket(bucketSessions).Get(key)
		if v == nil {
			return nil
		}
		var r sessionRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode session: %w", err)
		}
		return t.endSessions(r.UserID, [][]byte{key}, reason)
	})
}

func (s *Store) Sessions(ctx context.Context, userID string) ([]*backend.Session, error) {
	var out []*backend.Session
	now := s.now().UnixMilli()
	err := s.view(func(tx *bbolt.Tx) error {
		for _, key := range userSessionKeys(tx, userID) {
			var r sessionRecord
			if v := tx.Bucket(bucketSessions).Get(key); v == nil || json.Unmarshal(v, &r) != nil || r.ExpiresAt <= now {
				continue
			}
			out = append(out, r.session(key))
		}
		return nil
	})
	slices.SortFunc(out, func(a, b *backend.Session) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, err
}

func (s *Store) EndSessions(ctx context.Context, userID, exceptToken, reason string) (int, error) {
	n := 0
	err := s.update(ctx, func(t *txn) error {
		keys := othersOf(userSessionKeys(t.Tx, userID), exceptToken)
		n = len(keys)
		return t.endSessions(userID, keys, reason)
	})
	return n, err
}

func (s *Store) SetPassword(ctx context.Context, userID, hash, keepToken string) error {
	return s.update(ctx, func(t *txn) error {
		u, err := getUser(t.Tx, userID)
		if err != nil {
			return err
		}
		if u.IsBot() {
			return backend.Errorf(backend.EFORBIDDEN, "Bots have no password.")
		}
		if err := putJSON(t.Bucket(bucketUsers), u.ID, userRecord{User: *u, PasswordHash: hash}); err != nil {
			return err
		}
		return t.endSessions(userID, othersOf(userSessionKeys(t.Tx, userID), keepToken), backend.SessionPasswordChanged)
	})
}

// othersOf is keys without the one of token ("" keeps none).
func othersOf(keys [][]byte, token string) [][]byte {
	if token == "" {
		return keys
	}
	keep := hashKey(token)
	return slices.DeleteFunc(keys, func(k []byte) bool { return bytes.Equal(k, keep) })
}

// userSessionKeys are the session keys (token hashes) of userID, expired ones included.
func userSessionKeys(tx *bbolt.Tx, userID string) [][]byte {
	var keys [][]byte
	prefix := []byte(userID)
	c := tx.Bucket(bucketUserSessions).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, slices.Clone(k[len(prefix):]))
	}
	return keys
}

// endSessions deletes the sessions stored under keys (all of userID) and, after the commit, hands
// the broker one SESSION_ENDED for their streams.
func (t *txn) endSessions(userID string, keys [][]byte, reason string) error {
	if len(keys) == 0 {
		return nil
	}
	ids := make([]string, len(keys))
	for i, key := range keys {
		if err := t.Bucket(bucketSessions).Delete(key); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		if err := t.Bucket(bucketUserSessions).Delete(concat(userID, string(key))); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		ids[i] = sessionID(key)
	}
	return t.signal(&backend.Event{Type: backend.EventSessionEnded, Reason: reason, Personal: true,
		Recipients: []string{userID}, Sessions: ids})
}

func (s *Store) CreateInvite(ctx context.Context, inv backend.Invite) error {
	return s.update(ctx, func(t *txn) error {
		return putJSON(t.Bucket(bucketInvites), string(hashKey(inv.Code)), inviteRecord{
			CreatedBy: inv.CreatedBy, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt,
			MaxUses: inv.MaxUses, Hint: inviteHint(inv.Code),
		})
	})
}

// PruneExpired deletes sessions, invites and password resets that expired before now, at most
// batch per commit. It returns how many it deleted.
func (s *Store) PruneExpired(ctx context.Context, now time.Time, batch int) (int, error) {
	if batch <= 0 {
		return 0, fmt.Errorf("prune expired: batch %d must be positive", batch)
	}
	total := 0
	for _, bucket := range [][]byte{bucketSessions, bucketInvites, bucketResets} {
		for {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			n := 0
			err := s.update(ctx, func(t *txn) error {
				b := t.Bucket(bucket)
				var expired, owners [][]byte
				c := b.Cursor()
				for k, v := c.First(); k != nil && len(expired) < batch; k, v = c.Next() {
					var rec struct {
						UserID    string `json:"userId"` // sessions only
						ExpiresAt int64  `json:"expiresAt"`
					}
					if json.Unmarshal(v, &rec) != nil || rec.ExpiresAt <= now.UnixMilli() {
						expired = append(expired, slices.Clone(k))
						owners = append(owners, concat(rec.UserID, string(k)))
					}
				}
				for i, k := range expired {
					if err := b.Delete(k); err != nil {
						return fmt.Errorf("prune %s: %w", bucket, err)
					}
					if bytes.Equal(bucket, bucketSessions) {
						if err := t.Bucket(bucketUserSessions).Delete(owners[i]); err != nil {
							return fmt.Errorf("prune %s: %w", bucket, err)
						}
					}
				}
				n = len(expired)
				return nil
			})
			total += n
			if err != nil {
				return total, err
			}
			if n < batch {
				break
			}
		}
	}
	return total, nil
}

func (s *Store) SetStatus(ctx context.Context, userID string, status backend.AgentStatus) (bool, error) {
	// Most calls change nothing (a reconnect within the presence grace): a read tells, without
	// a commit and its fsync. The write below checks again.
	var current backend.AgentStatus
	if err := s.view(func(tx *bbolt.Tx) error {
		u, err := getUser(tx, userID)
		if err == nil {
			current = u.Status
		}
		return err
	}); err != nil {
		return false, err
	}
	if current == "" {
		current = backend.StatusOffline
	}
	if current == status {
		return false, nil
	}
	changed := false
	err := s.update(ctx, func(t *txn) error {
		changed = false
		u, err := getUser(t.Tx, userID)
		if err != nil {
			return err
		}
		current := u.Status
		if current == "" {
			current = backend.StatusOffline
		}
		if current == status {
			return nil
		}
		u.Status = status
		if err := putJSON(t.Bucket(bucketUsers), u.ID, userRecord{User: *u, PasswordHash: u.PasswordHash}); err != nil {
			return err
		}
		changed = true
		if err := t.markSeen(u.ID, current, status); err != nil {
			return err
		}
		recipients := t.presenceAudience(u.ID)
		if u.IsBot() {
			recipients = coMembers(t.Tx, u.ID)
		}
		err = t.emit(&backend.Event{
			Type:   backend.EventAgentStatusChanged,
			Agent:  u.AsAgent(),
			Status: status, Personal: true, Recipients: recipients,
		})
		if err != nil || !u.IsBot() {
			return err // people's presence comes and goes all day: it updates the UI, it does not notify
		}
		n := backend.AgentStatusNotification(u, status)
		for _, id := range recipients {
			if id == u.ID {
				continue
			}
			if quiet, err := t.isQuiet(id); err != nil || quiet {
				continue // a bot does not watch other bots; a deactivated account watches nothing
			}
			if err := t.notifyUser(id, backend.EventNotification, n, backend.Notice{Kind: backend.KindAgent}); err != nil {
				return err
			}
		}
		return nil
	})
	return changed, err
}

// coMembers are userID and everyone who shares a chat with them, each once.
func coMembers(tx *bbolt.Tx, userID string) []string {
	return membersOfChats(tx, userID, func(chatID string) *backend.Chat {
		chat, err := getChat(tx, chatID)
		if err != nil {
			return nil
		}
		return chat
	})
}

// presenceAudience is userID and everyone who shares a chat of at most
// backend.PresenceAudienceLimit members with them, each once. Chats come from the committer's
// cache: a big channel is decoded once, not per status change.
func (t *txn) presenceAudience(userID string) []string {
	return membersOfChats(t.Tx, userID, func(chatID string) *backend.Chat {
		chat, err := t.sharedChat(chatID)
		if err != nil || len(chat.MemberIDs) > backend.PresenceAudienceLimit {
			return nil
		}
		return chat
	})
}

// membersOfChats is userID and the members of each of userID's chats that chatOf returns (nil:
// leave that chat out), each once.
func membersOfChats(tx *bbolt.Tx, userID string, chatOf func(chatID string) *backend.Chat) []string {
	seen := map[string]bool{userID: true}
	out := []string{userID}
	prefix := []byte(userID)
	c := tx.Bucket(bucketMembers).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		chat := chatOf(string(k[len(prefix):]))
		if chat == nil {
			continue
		}
		for _, id := range chat.MemberIDs {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// indexSessions builds the user → sessions index of a file written before it existed.
func indexSessions(tx *bbolt.Tx) error {
	idx, err := tx.CreateBucket(bucketUserSessions)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketUserSessions, err)
	}
	return tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
		var r sessionRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return nil // unreadable: it expires unindexed and PruneExpired removes it
		}
		return idx.Put(concat(r.UserID, string(k)), nil)
	})
}
