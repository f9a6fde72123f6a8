package bolt

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
)

// bucketScopeEvents indexes the event log by the streams that carry each event, so that a
// resume reads only its own events (see ScopeEventsAfter). Its keys, all with an empty value
// unless noted, are written in the commit that logs the event (txn.emit), deleted with it
// (PruneEvents) and built from an existing log by the migration to schema version 3:
//
//   - 'c' + chat id + event id: a chat event (not personal, ChatID set). Its recipients are
//     the chat's members when it is read.
//   - 'u' + user id + event id: a personal event, once per recipient.
//   - 'r' + user id + event id → chat id: a CHAT_MEMBER_REMOVED, under the member it removed,
//     who learns it on resume even when no longer a member.
//
// Events neither personal nor of a chat have no recipients on resume and are not indexed.
var bucketScopeEvents = []byte("scopeevents")

const (
	scopeChat     = 'c'
	scopePersonal = 'u'
	scopeRemoved  = 'r'
)

// scopeKey is prefix + owner id + event id.
func scopeKey(prefix byte, owner, eventID string) []byte {
	k := make([]byte, 0, 1+len(owner)+len(eventID))
	k = append(k, prefix)
	k = append(k, owner...)
	return append(k, eventID...)
}

// indexScopes calls put for every bucketScopeEvents entry of ev (key, value).
func indexScopes(ev *backend.Event, put func(k, v []byte) error) error {
	if ev.Personal {
		for _, r := range ev.Recipients {
			if err := put(scopeKey(scopePersonal, r, ev.ID), nil); err != nil {
				return err
			}
		}
		return nil
	}
	if ev.ChatID == "" {
		return nil
	}
	if err := put(scopeKey(scopeChat, ev.ChatID, ev.ID), nil); err != nil {
		return err
	}
	if ev.Type == backend.EventChatMemberRemoved && ev.UserID != "" {
		return put(scopeKey(scopeRemoved, ev.UserID, ev.ID), []byte(ev.ChatID))
	}
	return nil
}

// putScopes writes ev's index entries into b (bucketScopeEvents).
func putScopes(b bucket, ev *backend.Event) error {
	if err := indexScopes(ev, func(k, v []byte) error { return b.Put(k, v) }); err != nil {
		return fmt.Errorf("index event %s: %w", ev.ID, err)
	}
	return nil
}

// deleteScopes removes ev's index entries from b (bucketScopeEvents).
func deleteScopes(b bucket, ev *backend.Event) error {
	if err := indexScopes(ev, func(k, _ []byte) error { return b.Delete(k) }); err != nil {
		return fmt.Errorf("unindex event %s: %w", ev.ID, err)
	}
	return nil
}

// indexScopeEvents builds bucketScopeEvents from the whole log (migration to version 3). An
// existing bucket is rebuilt.
func indexScopeEvents(tx *bbolt.Tx) error {
	if tx.Bucket(bucketScopeEvents) != nil {
		if err := tx.DeleteBucket(bucketScopeEvents); err != nil {
			return fmt.Errorf("drop scope index: %w", err)
		}
	}
	idx, err := tx.CreateBucket(bucketScopeEvents)
	if err != nil {
		return fmt.Errorf("create scope index: %w", err)
	}
	log := tx.Bucket(bucketEvents)
	if log == nil {
		return nil
	}
	return log.ForEach(func(k, v []byte) error {
		ev, err := decodeLogRecord(v)
		if err != nil {
			return fmt.Errorf("event %s: %w", k, err)
		}
		return putScopes(bucket{b: idx, name: bucketScopeEvents}, ev) // each node migrates itself
	})
}

// scopeIDs appends to ids the event ids after afterID under prefix+owner, at most limit of
// them, in id order. keep, if set, filters by the entry's value.
func scopeIDs(c *bbolt.Cursor, prefix byte, owner, afterID string, limit int, keep func(v []byte) bool, ids []string) []string {
	p := scopeKey(prefix, owner, "")
	seek := scopeKey(prefix, owner, afterID)
	n := 0
	k, v := c.Seek(seek)
	if k != nil && bytes.Equal(k, seek) {
		k, v = c.Next()
	}
	for ; k != nil && n < limit && bytes.HasPrefix(k, p); k, v = c.Next() {
		if keep != nil && !keep(v) {
			continue
		}
		ids = append(ids, string(k[len(p):]))
		n++
	}
	return ids
}

// ScopeEventsAfter returns up to limit logged events that scope's stream carries with ids
// greater than afterID, in id order: the same events, in the same order, as EventsAfter
// filtered by scope.Matches, but read through bucketScopeEvents, so the cost follows the
// scope's own events, not the log's. Each is decoded for replay only (decodeLogHead: id,
// type, sealed JSON, Personal and a personal event's Recipients). A chat's events count for the members it
// has now (and a removal for the member it removed). afterID must be an event the log holds:
// otherwise ErrEventNotFound (never issued, or pruned by retention). limit must be positive.
func (s *Store) ScopeEventsAfter(ctx context.Context, scope backend.Scope, afterID string, limit int) ([]*backend.Event, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("scope events after %s: limit %d must be positive", afterID, limit)
	}
	var events []*backend.Event
	err := s.view(func(tx *bbolt.Tx) error {
		log := tx.Bucket(bucketEvents)
		if log.Get([]byte(afterID)) == nil {
			return backend.ErrEventNotFound
		}
		idx := tx.Bucket(bucketScopeEvents)
		if idx == nil {
			return fmt.Errorf("scope events: no index %s", bucketScopeEvents)
		}
		c := idx.Cursor()
		user := scope.UserID
		var ids []string
		sources := 0
		switch scope.Kind {
		case backend.ScopeNotifications:
			ids = scopeIDs(c, scopePersonal, user, afterID, limit, nil, ids)
			sources = 1
		case backend.ScopeChat:
			if tx.Bucket(bucketMembers).Get(concat(user, scope.ChatID)) != nil {
				ids = scopeIDs(c, scopeChat, scope.ChatID, afterID, limit, nil, ids)
			} else {
				chat := []byte(scope.ChatID)
				ids = scopeIDs(c, scopeRemoved, user, afterID, limit, func(v []byte) bool { return bytes.Equal(v, chat) }, ids)
			}
			sources = 1
		default:
			ids = scopeIDs(c, scopePersonal, user, afterID, limit, nil, ids)
			ids = scopeIDs(c, scopeRemoved, user, afterID, limit, nil, ids)
			sources = 2
			mc := tx.Bucket(bucketMembers).Cursor()
			p := []byte(user)
			for k, _ := mc.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = mc.Next() {
				if err := ctx.Err(); err != nil {
					return err
				}
				ids = scopeIDs(c, scopeChat, string(k[len(p):]), afterID, limit, nil, ids)
				sources++
			}
		}
		if sources > 1 {
			// Each source is in id order: sorting merges them; equal ids (a removal of a member
			// who is back) are one event.
			slices.Sort(ids)
			ids = slices.Compact(ids)
		}
		ids = ids[:min(len(ids), limit)]
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			v := log.Get([]byte(id))
			if v == nil {
				return fmt.Errorf("scope index names event %s that the log lacks", id)
			}
			// The index already chose them for the scope: only the sealed JSON is needed, not
			// the payload decoded nor the chat's members as recipients.
			ev, err := decodeLogHead(v)
			if err != nil {
				return fmt.Errorf("event %s: %w", id, err)
			}
			events = append(events, ev)
		}
		return nil
	})
	return events, err
}

// restoreRecipients sets a chat event's Recipients to the chat's members now (plus, for
// CHAT_MEMBER_REMOVED, the member it removed). members caches them by chat id for one read.
func restoreRecipients(tx *bbolt.Tx, ev *backend.Event, members map[string][]string) error {
	if ev.Personal || ev.ChatID == "" {
		return nil
	}
	m, ok := members[ev.ChatID]
	if !ok {
		chat, err := getChat(tx, ev.ChatID)
		if err != nil {
			return err
		}
		m = chat.MemberIDs
		members[ev.ChatID] = m
	}
	ev.Recipients = m
	if ev.Type == backend.EventChatMemberRemoved && !slices.Contains(m, ev.UserID) {
		// The one who left learns it on resume too, and nothing of the chat after it.
		ev.Recipients = append(slices.Clone(m), ev.UserID)
	}
	return nil
}
