package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
)

// bucketAvatars holds people's uploaded avatars: user id + size (uint16, big endian) → image
// bytes (PNG or JPEG). It is created by the first upload, so files written before it existed open unchanged.
var bucketAvatars = []byte("avatars")

var _ backend.PeopleStore = (*Store)(nil)

// personOf returns the user of id for a change to their own profile: bots have none.
func personOf(tx *bbolt.Tx, id string) (*backend.User, error) {
	u, err := getUser(tx, id)
	if err != nil {
		return nil, err
	}
	if u.IsBot() {
		return nil, backend.Errorf(backend.EFORBIDDEN, "Bots have no profile to change; an admin sets their avatar.")
	}
	return u, nil
}

func (s *Store) UpdateProfile(ctx context.Context, userID string, p backend.ProfilePatch) (*backend.User, error) {
	var out *backend.User
	err := s.update(ctx, func(t *txn) error {
		u, err := personOf(t.Tx, userID)
		if err != nil {
			return err
		}
		u.Present(t.now) // an expired status is cleared in the record as it is rewritten
		if !p.Apply(u) {
			out = u
			return nil
		}
		out = u
		return t.putUser(u) // admin.go: stores and emits USER_UPDATED
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func avatarKey(userID string, size int) []byte {
	return binary.BigEndian.AppendUint16([]byte(userID), uint16(size))
}

func (s *Store) SetAvatar(ctx context.Context, userID string, images [][]byte) (*backend.User, error) {
	if len(images) != len(backend.AvatarSizes) {
		return nil, fmt.Errorf("set avatar: %d images for %d sizes", len(images), len(backend.AvatarSizes))
	}
	var out *backend.User
	err := s.update(ctx, func(t *txn) error {
		u, err := personOf(t.Tx, userID)
		if err != nil {
			return err
		}
		b, err := t.CreateBucketIfNotExists(bucketAvatars)
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", bucketAvatars, err)
		}
		for i, size := range backend.AvatarSizes {
			if err := b.Put(avatarKey(u.ID, size), images[i]); err != nil {
				return fmt.Errorf("store avatar: %w", err)
			}
		}
		t.scrub = u.AvatarURL != "" // the replaced picture leaves no copy in the file
		// The version only grows, even when two uploads land in the same millisecond.
		u.AvatarVersion = max(t.now.UnixMilli(), u.AvatarVersion+1)
		u.AvatarURL = backend.AvatarURL(u.ID, u.AvatarVersion)
		out = u.Present(t.now)
		return t.putUser(u)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) DeleteAvatar(ctx context.Context, userID string) (*backend.User, error) {
	var out *backend.User
	err := s.update(ctx, func(t *txn) error {
		u, err := personOf(t.Tx, userID)
		if err != nil {
			return err
		}
		out = u.Present(t.now)
		if u.AvatarURL == "" {
			return nil
		}
		if b := t.Bucket(bucketAvatars); b.ok() {
			for _, size := range backend.AvatarSizes {
				if err := b.Delete(avatarKey(u.ID, size)); err != nil {
					return fmt.Errorf("delete avatar: %w", err)
				}
			}
		}
		u.AvatarURL = "" // AvatarVersion stays, so that a later upload gets a greater one
		t.scrub = true   // as a deleted message's content, no copy of the picture stays in the file
		return t.putUser(u)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) Avatar(ctx context.Context, userID string, size int) ([]byte, int64, error) {
	if !slices.Contains(backend.AvatarSizes, size) {
		return nil, 0, backend.Errorf(backend.EINVALID, "size must be one of %v.", backend.AvatarSizes)
	}
	var img []byte
	var version int64
	err := s.view(func(tx *bbolt.Tx) error {
		u, err := getUser(tx, userID)
		if err != nil {
			return err
		}
		b := tx.Bucket(bucketAvatars)
		if u.AvatarURL == "" || b == nil {
			return backend.Errorf(backend.ENOTFOUND, "This user has no avatar.")
		}
		v := b.Get(avatarKey(userID, size))
		if v == nil {
			return backend.Errorf(backend.ENOTFOUND, "This user has no avatar.")
		}
		img, version = slices.Clone(v), u.AvatarVersion
		return nil
	})
	return img, version, err
}

func (s *Store) SeeSession(ctx context.Context, token string, at time.Time, ip string) error {
	key := hashKey(token)
	// Most calls change nothing: decide that in a read transaction, without queueing a write.
	stale := false
	err := s.view(func(tx *bbolt.Tx) error {
		var r sessionRecord
		if v := tx.Bucket(bucketSessions).Get(key); v != nil && json.Unmarshal(v, &r) == nil {
			stale = at.UnixMilli()-r.LastSeenAt >= backend.SessionSeenEvery.Milliseconds()
		}
		return nil
	})
	if err != nil || !stale {
		return err
	}
	return s.update(ctx, func(t *txn) error {
		b := t.Bucket(bucketSessions)
		var r sessionRecord
		v := b.Get(key)
		if v == nil || json.Unmarshal(v, &r) != nil || at.UnixMilli()-r.LastSeenAt < backend.SessionSeenEvery.Milliseconds() {
			return nil
		}
		r.LastSeenAt = at.UnixMilli()
		if ip != "" {
			r.IP = ip
		}
		return putJSON(b, string(key), r)
	})
}

func (s *Store) EndSessionByID(ctx context.Context, userID, id, reason string) error {
	return s.update(ctx, func(t *txn) error {
		for _, key := range userSessionKeys(t.Tx, userID) {
			if sessionID(key) == id {
				return t.endSessions(userID, [][]byte{key}, reason)
			}
		}
		return backend.Errorf(backend.ENOTFOUND, "No session %s of yours.", strconv.Quote(id))
	})
}

// ExpireStatuses clears every status line whose expiry is at or before now and emits
// USER_UPDATED for each of those users, in one commit; it returns how many it cleared. Reads
// already show an expired status as cleared (User.Present): this tells open clients. It reads
// every user record's expiry without a write when none has passed, so calling it every few
// seconds costs one read transaction.
func (s *Store) ExpireStatuses(ctx context.Context, now time.Time) (int, error) {
	due := false
	err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			if !due && bytes.Contains(v, statusExpiresKey) && statusDue(v, now) {
				due = true
			}
			return nil
		})
	})
	if err != nil || !due {
		return 0, err
	}
	n := 0
	err = s.update(ctx, func(t *txn) error {
		n = 0
		var expired []string
		c := t.Bucket(bucketUsers).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if bytes.Contains(v, statusExpiresKey) && statusDue(v, now) {
				expired = append(expired, string(k))
			}
		}
		for _, id := range expired {
			u, err := getUser(t.Tx, id)
			if err != nil {
				return err
			}
			u.Present(now)
			if err := t.putUser(u); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// statusExpiresKey is in a user record only while its status has an expiry (omitempty): records
// without it are not decoded.
var statusExpiresKey = []byte(`"statusExpiresAt":`)

// statusDue reports whether the user record v has a status whose expiry is at or before now.
func statusDue(v []byte, now time.Time) bool {
	var r struct {
		StatusExpiresAt int64 `json:"statusExpiresAt"`
	}
	return json.Unmarshal(v, &r) == nil && r.StatusExpiresAt != 0 && r.StatusExpiresAt <= now.UnixMilli()
}
