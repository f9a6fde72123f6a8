package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
)

func (s *Store) CreateChat(ctx context.Context, c *backend.Chat) error {
	return s.update(ctx, func(t *txn) error {
		switch c.Kind {
		case "":
			c.Kind = backend.ChatPrivate
		case backend.ChatChannel, backend.ChatPrivate:
		default:
			return backend.Errorf(backend.EINVALID, "kind must be %q or %q; a DM is made with POST /api/dms.", backend.ChatChannel, backend.ChatPrivate)
		}
		members := []string{c.CreatedBy}
		for _, id := range c.MemberIDs {
			if !slices.Contains(members, id) {
				members = append(members, id)
			}
		}
		if len(members) > backend.MaxChatMembers {
			return backend.Errorf(backend.EINVALID, "A chat has at most %d members.", backend.MaxChatMembers)
		}
		for _, id := range members {
			if err := addableUser(t.Tx, id); err != nil {
				return err
			}
		}
		if err := checkNameFree(t.Tx, c.Name, ""); err != nil {
			return err
		}
		c.ID = t.newID()
		c.CreatedAt = t.now.UnixMilli()
		c.MemberIDs = members
		c.OwnerIDs = []string{c.CreatedBy}
		if err := putChat(t, c); err != nil {
			return err
		}
		if key := backend.ChatNameKey(c.Name); key != "" {
			if err := t.Bucket(bucketChatNames).Put([]byte(key), []byte(c.ID)); err != nil {
				return fmt.Errorf("index chat name: %w", err)
			}
		}
		for _, id := range members {
			if err := t.Bucket(bucketMembers).Put(concat(id, c.ID), nil); err != nil {
				return fmt.Errorf("add member: %w", err)
			}
		}
		return t.emit(chatUpdated(c))
	})
}

// putChat stores the chat's record; LastMessageID is derived on read, not stored.
func putChat(t *txn, c *backend.Chat) error {
	rec := *c
	rec.LastMessageID = ""
	delete(t.cache.chats, c.ID)
	return putJSON(t.Bucket(bucketChats), c.ID, &rec)
}

// chat is getChat through the committer's cache: a chat's record is decoded once per change
// rather than once per post. The result is the caller's own copy, to change and put.
func (t *txn) chat(id string) (*backend.Chat, error) {
	cached, err := t.sharedChat(id)
	if err != nil {
		return nil, err
	}
	c := *cached
	c.MemberIDs, c.OwnerIDs = slices.Clone(cached.MemberIDs), slices.Clone(cached.OwnerIDs)
	if k, _ := lastWithPrefix(t.Bucket(bucketTimeline).Cursor(), []byte(id)); k != nil {
		c.LastMessageID = string(k[len(id):])
	}
	return &c, nil
}

// sharedChat is the committer's cached record of a chat (LastMessageID left out), decoded on
// first use. It is shared: read it, never change it.
func (t *txn) sharedChat(id string) (*backend.Chat, error) {
	if c, ok := t.cache.chats[id]; ok {
		return c, nil
	}
	c, err := getChat(t.Tx, id)
	if err != nil {
		return nil, err
	}
	if len(t.cache.chats) >= maxCachedChats {
		clear(t.cache.chats)
	}
	c.LastMessageID = ""
	t.cache.chats[id] = c
	return c, nil
}

func chatUpdated(c *backend.Chat) *backend.Event {
	snapshot := *c
	snapshot.MemberIDs = slices.Clone(c.MemberIDs)
	snapshot.OwnerIDs = slices.Clone(c.OwnerIDs)
	return &backend.Event{Type: backend.EventChatUpdated, ChatID: c.ID, Chat: &snapshot, Recipients: snapshot.MemberIDs}
}

func (s *Store) AddMember(ctx context.Context, chatID, actorID, userID string) (*backend.Chat, error) {
	var chat *backend.Chat
	err := s.update(ctx, func(t *txn) error {
		c, err := getChat(t.Tx, chatID)
		if err != nil {
			return err
		}
		actor, err := getUser(t.Tx, actorID)
		if err != nil {
			return backend.Errorf(backend.EFORBIDDEN, "Only members can add members to this chat.")
		}
		if err := backend.MayAddMember(c, actor); err != nil {
			return err
		}
		if c.HasMember(userID) {
			chat = c
			return nil
		}
		if err := addableUser(t.Tx, userID); err != nil {
			return err
		}
		chat = c
		return t.addMember(c, userID)
	})
	if err != nil {
		return nil, err
	}
	return chat, nil
}

func getChat(tx *bbolt.Tx, id string) (*backend.Chat, error) {
	v := tx.Bucket(bucketChats).Get([]byte(id))
	if v == nil {
		return nil, backend.Errorf(backend.ENOTFOUND, "Chat not found.")
	}
	c := new(backend.Chat)
	if err := json.Unmarshal(v, c); err != nil {
		return nil, fmt.Errorf("decode chat %s: %w", id, err)
	}
	backend.NormalizeChat(c) // a record from before kinds reads as a private chat
	if k, _ := lastWithPrefix(tx.Bucket(bucketTimeline).Cursor(), []byte(id)); k != nil {
		c.LastMessageID = string(k[len(id):])
	}
	return c, nil
}

func (s *Store) Chat(ctx context.Context, id string) (*backend.Chat, error) {
	var c *backend.Chat
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		c, err = getChat(tx, id)
		return err
	})
	return c, err
}

// ChatCount is how many chats userID is a member of (len of ChatsOf, from the membership
// index alone: the health monitor counts the chats every live stream follows once a minute).
func (s *Store) ChatCount(ctx context.Context, userID string) (int, error) {
	n := 0
	err := s.view(func(tx *bbolt.Tx) error {
		prefix := []byte(userID)
		c := tx.Bucket(bucketMembers).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
}

func (s *Store) ChatsOf(ctx context.Context, userID string) ([]*backend.ChatSummary, error) {
	var chats []*backend.ChatSummary
	err := s.view(func(tx *bbolt.Tx) error {
		mentions, err := unreadMentions(tx, userID)
		if err != nil {
			return err
		}
		prefix := []byte(userID)
		c := tx.Bucket(bucketMembers).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			chat, err := getChat(tx, string(k[len(prefix):]))
			if err != nil {
				return err
			}
			sum := &backend.ChatSummary{Chat: *chat, Mentions: mentions[chat.ID]}
			sum.LastReadID = string(tx.Bucket(bucketReads).Get(concat(userID, chat.ID)))
			sum.Unread = countAfter(tx.Bucket(bucketTimeline).Cursor(), []byte(chat.ID), sum.LastReadID, backend.MaxUnreadCount)
			sum.Hidden = tx.Bucket(bucketHidden).Get(concat(userID, chat.ID)) != nil
			chats = append(chats, sum)
		}
		return nil
	})
	return chats, err
}

// unreadMentions counts userID's unread mention notifications by chat, among their newest
// backend.MentionScanLimit notifications.
func unreadMentions(tx *bbolt.Tx, userID string) (map[string]int, error) {
	counts := map[string]int{}
	prefix := []byte(userID)
	c := tx.Bucket(bucketNotes).Cursor()
	n := 0
	for k, v := lastWithPrefix(c, prefix); k != nil && bytes.HasPrefix(k, prefix) && n < backend.MentionScanLimit; k, v = c.Prev() {
		n++
		// Cheap tests first: most entries are read, or not mentions.
		if !bytes.Contains(v, unreadField) || !bytes.Contains(v, mentionField) {
			continue
		}
		var note struct {
			Type   backend.NotificationKind `json:"type"`
			ChatID string                   `json:"chatId"`
			Read   bool                     `json:"read"`
		}
		if err := json.Unmarshal(v, &note); err != nil {
			return nil, fmt.Errorf("decode notification %s: %w", k, err)
		}
		if note.Type == backend.KindMention && !note.Read && note.ChatID != "" {
			counts[note.ChatID]++
		}
	}
	return counts, nil
}

var mentionField = []byte(`"type":"mention"`)

// countAfter counts keys prefix+id with id > after, up to limit.
func countAfter(c *bbolt.Cursor, prefix []byte, after string, limit int) int {
	n := 0
	k, _ := c.Seek(concat(string(prefix), after))
	if k != nil && after != "" && string(k[len(prefix):]) == after {
		k, _ = c.Next()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix) && n < limit; k, _ = c.Next() {
		n++
	}
	return n
}

// lastWithPrefix positions c on the last key that starts with prefix.
func lastWithPrefix(c *bbolt.Cursor, prefix []byte) ([]byte, []byte) {
	var k, v []byte
	if after, _ := c.Seek(append(slices.Clone(prefix), 0xff)); after == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	if k != nil && bytes.HasPrefix(k, prefix) {
		return k, v
	}
	return nil, nil
}
