package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
	bbolt "go.etcd.io/bbolt"
)

// preferencesOf reads userID's preferences inside a transaction (the defaults if never set).
func preferencesOf(tx *bbolt.Tx, userID string) backend.Preferences {
	p := backend.DefaultPreferences()
	if v := tx.Bucket(bucketPrefs).Get([]byte(userID)); v != nil {
		_ = json.Unmarshal(v, &p) // written by SetPreferences: a decode error leaves the defaults
	}
	return p
}

// preferencesOf is preferencesOf through the committer's cache. The result is shared: read only.
func (t *txn) preferencesOf(userID string) *backend.Preferences {
	if p, ok := t.cache.prefs[userID]; ok {
		return p
	}
	p := preferencesOf(t.Tx, userID)
	t.cache.prefs[userID] = &p
	return &p
}

// isQuiet is isQuiet through the committer's cache (a user's kind never changes; SetDeactivated
// drops the user's entry). The post path asks it about every member: backend.MessageAudience.Quiet.
func (t *txn) isQuiet(userID string) (bool, error) {
	if quiet, ok := t.cache.quiet[userID]; ok {
		return quiet, nil
	}
	if t.Bucket(bucketUsers).Get([]byte(userID)) == nil {
		return false, nil // not cached: nobody has this id (yet)
	}
	quiet, err := isQuiet(t.Tx, userID)
	if err == nil {
		t.cache.quiet[userID] = quiet
	}
	return quiet, err
}

// notifyUser decides n for userID with their preferences as of this commit, records it in their
// history and emits a personal event of type typ that carries it; with sets further payload.
// n's id is the event's.
func (t *txn) notifyUser(userID string, typ backend.EventType, n backend.Notification, notice backend.Notice, with ...func(*backend.Event)) error {
	if notice.NotifyAnyway {
		recent, err := t.recentBreakThroughs(userID, n.ActorID)
		if err != nil {
			return err
		}
		notice.RecentBreakThroughs = recent
	}
	n.Decision = t.preferencesOf(userID).Decide(notice, t.now)
	n.ID = t.newID()
	n.CreatedAt = t.now.UnixMilli()
	if err := putJSON(t.Bucket(bucketNotes), string(concat(userID, n.ID)), n); err != nil {
		return err
	}
	carried := n
	ev := &backend.Event{ID: n.ID, Type: typ, Notification: &carried, Personal: true, Recipients: []string{userID}}
	for _, f := range with {
		f(ev)
	}
	if n.MessageID != "" {
		t.indexEvent(n.ChatID, n.MessageID, ev.ID) // deleting the message erases the notification
	}
	return t.emit(ev)
}

// recentBreakThroughs counts the notifications of userID in the last backend.BreakThroughWindow
// that broke through because actorID chose to notify anyway. It reads only that window of the
// history (ids are ULIDs: time order), and decodes only the entries that broke through.
func (t *txn) recentBreakThroughs(userID, actorID string) (int, error) {
	since := ulid.ULID{}
	if err := since.SetTime(ulid.Timestamp(t.now.Add(-backend.BreakThroughWindow))); err != nil {
		return 0, fmt.Errorf("break-through window: %w", err)
	}
	prefix := []byte(userID)
	n := 0
	c := t.Bucket(bucketNotes).Cursor()
	for k, v := c.Seek(concat(userID, since.String())); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if !bytes.Contains(v, brokeThroughField) || !bytes.Contains(v, []byte(actorID)) {
			continue
		}
		var note struct{ ActorID string }
		if err := json.Unmarshal(v, &note); err != nil {
			return 0, fmt.Errorf("decode notification %s: %w", k, err)
		}
		if note.ActorID == actorID {
			n++
		}
	}
	return n, nil
}

var brokeThroughField = []byte(`"brokeThrough":true`)

func (s *Store) SendSystemNotification(ctx context.Context, n backend.Notification, userIDs []string) (int, error) {
	sent := 0
	err := s.update(ctx, func(t *txn) error {
		sent = 0
		recipients := slices.Clone(userIDs)
		if len(recipients) == 0 {
			err := t.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
				var u userRecord
				if err := json.Unmarshal(v, &u); err != nil {
					return fmt.Errorf("decode user %s: %w", k, err)
				}
				if !u.IsBot() {
					recipients = append(recipients, u.ID)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		slices.Sort(recipients)
		recipients = slices.Compact(recipients)
		for _, id := range recipients {
			if t.Bucket(bucketUsers).Get([]byte(id)) == nil {
				return backend.Errorf(backend.ENOTFOUND, "User %s not found.", id)
			}
		}
		n.Type = backend.KindSystem
		notice := backend.Notice{Kind: backend.KindSystem, Critical: n.Level == backend.LevelCritical}
		for _, id := range recipients {
			if err := t.notifyUser(id, backend.EventSystemNotification, n, notice); err != nil {
				return err
			}
		}
		sent = len(recipients)
		return nil
	})
	return sent, err
}

func (s *Store) Notifications(ctx context.Context, userID string, f backend.NotificationFilter) ([]*backend.Notification, bool, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = backend.DefaultPageLimit
	}
	limit = min(limit, backend.MaxPageLimit)
	query := strings.ToLower(f.Query)
	matches := func(n *backend.Notification) bool {
		return (!f.UnreadOnly || !n.Read) && (f.Type == "" || n.Type == f.Type) &&
			(query == "" || strings.Contains(strings.ToLower(n.Title), query) || strings.Contains(strings.ToLower(n.Body), query))
	}
	var (
		page    []*backend.Notification
		hasMore bool
	)
	err := s.view(func(tx *bbolt.Tx) error {
		prefix := []byte(userID)
		c := tx.Bucket(bucketNotes).Cursor()
		var k, v []byte
		if f.Before != "" {
			if after, _ := c.Seek(concat(userID, f.Before)); after == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		} else {
			k, v = lastWithPrefix(c, prefix)
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			n := new(backend.Notification)
			if err := json.Unmarshal(v, n); err != nil {
				return fmt.Errorf("decode notification %s: %w", k, err)
			}
			if !matches(n) {
				continue
			}
			if len(page) == limit {
				hasMore = true
				return nil
			}
			page = append(page, n)
		}
		return nil
	})
	return page, hasMore, err
}

func (s *Store) MarkNotifications(ctx context.Context, userID string, ids []string, read bool) error {
	return s.update(ctx, func(t *txn) error {
		b := t.Bucket(bucketNotes)
		var keys [][]byte
		if ids == nil {
			keys = keysWithPrefix(b, []byte(userID))
		} else {
			for _, id := range ids {
				keys = append(keys, concat(userID, id))
			}
		}
		for _, k := range keys {
			v := b.Get(k)
			if v == nil {
				continue
			}
			var n backend.Notification
			if err := json.Unmarshal(v, &n); err != nil {
				return fmt.Errorf("decode notification %s: %w", k, err)
			}
			if n.Read == read {
				continue
			}
			n.Read = read
			if err := putJSON(b, string(k), n); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) ClearNotifications(ctx context.Context, userID string) error {
	return s.update(ctx, func(t *txn) error {
		b := t.Bucket(bucketNotes)
		for _, k := range keysWithPrefix(b, []byte(userID)) {
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("clear notifications: %w", err)
			}
		}
		return nil
	})
}

// PruneNotifications deletes history entries older than olderThan, and each user's oldest
// beyond keepPerUser, at most batch per commit. It returns how many it deleted.
func (s *Store) PruneNotifications(ctx context.Context, olderThan time.Time, keepPerUser, batch int) (int, error) {
	if batch <= 0 {
		return 0, fmt.Errorf("prune notifications: batch %d must be positive", batch)
	}
	cutoff := ulid.Timestamp(olderThan)
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		// Finding what to delete reads the whole history: do it in a read transaction.
		var doomed [][]byte
		err := s.view(func(tx *bbolt.Tx) error {
			c := tx.Bucket(bucketNotes).Cursor()
			for k, _ := c.First(); k != nil && len(doomed) < batch; {
				user := slices.Clone(k[:ulid.EncodedSize])
				keys := keysWithPrefix(tx.Bucket(bucketNotes), user)
				k, _ = c.Seek(append(slices.Clone(user), 0xff))
				excess := len(keys) - keepPerUser
				for i, key := range keys { // oldest first
					id, err := ulid.ParseStrict(string(key[ulid.EncodedSize:]))
					if i < excess || err != nil || id.Time() < cutoff {
						doomed = append(doomed, key)
					}
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		doomed = doomed[:min(len(doomed), batch)]
		if len(doomed) == 0 {
			return total, nil
		}
		err = s.update(ctx, func(t *txn) error {
			for _, k := range doomed {
				if err := t.Bucket(bucketNotes).Delete(k); err != nil {
					return fmt.Errorf("prune notification %s: %w", k, err)
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += len(doomed)
		if len(doomed) < batch {
			return total, nil
		}
	}
}
