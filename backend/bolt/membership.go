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

// Membership: who is in a chat changes only here (and in CreateChat, CreateDM), and every change
// commits CHAT_UPDATED to the members after it and CHAT_MEMBER_ADDED or CHAT_MEMBER_REMOVED to
// them and the member concerned. A removed member is no recipient of anything after the commit
// that removed them; the hub ends their chat streams on the CHAT_MEMBER_REMOVED.

// checkNameFree refuses a name that a channel or private chat other than chatID holds in any
// letter case.
func checkNameFree(tx *bbolt.Tx, name, chatID string) error {
	key := backend.ChatNameKey(name)
	if key == "" {
		return nil
	}
	if id := tx.Bucket(bucketChatNames).Get([]byte(key)); id != nil && string(id) != chatID {
		return backend.Errorf(backend.ECONFLICT, "A chat named #%s already exists.", name)
	}
	return nil
}

// indexChatNames builds bucketChatNames for a file written before names were unique. Where older
// chats share a name, the oldest holds it; the others keep theirs until renamed.
func indexChatNames(tx *bbolt.Tx) error {
	idx, err := tx.CreateBucket(bucketChatNames)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketChatNames, err)
	}
	return tx.Bucket(bucketChats).ForEach(func(k, v []byte) error {
		var c backend.Chat
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("decode chat %s: %w", k, err)
		}
		key := []byte(backend.ChatNameKey(c.Name))
		if c.Kind == backend.ChatDM || len(key) == 0 || idx.Get(key) != nil {
			return nil
		}
		return idx.Put(key, slices.Clone(k))
	})
}

// writableChat is memberChat for changes to the chat's messages: an archived chat is ECONFLICT.
func (t *txn) writableChat(chatID, userID string) (*backend.Chat, error) {
	chat, err := t.memberChat(chatID, userID)
	if err != nil {
		return nil, err
	}
	if err := backend.CheckWritable(chat); err != nil {
		return nil, err
	}
	return chat, nil
}

// memberEvent is CHAT_MEMBER_ADDED or CHAT_MEMBER_REMOVED about userID, to c's members and them.
func memberEvent(typ backend.EventType, c *backend.Chat, userID string) *backend.Event {
	to := slices.Clone(c.MemberIDs)
	if !slices.Contains(to, userID) {
		to = append(to, userID)
	}
	return &backend.Event{Type: typ, ChatID: c.ID, UserID: userID, Recipients: to}
}

// addMember adds userID to c and emits CHAT_UPDATED (the new member learns of the chat from it:
// today's web client relies on it) and CHAT_MEMBER_ADDED. A member already changes nothing.
func (t *txn) addMember(c *backend.Chat, userID string) error {
	if c.HasMember(userID) {
		return nil
	}
	if len(c.MemberIDs) >= backend.MaxChatMembers {
		return backend.Errorf(backend.EINVALID, "A chat has at most %d members.", backend.MaxChatMembers)
	}
	c.MemberIDs = append(c.MemberIDs, userID)
	if err := putChat(t, c); err != nil {
		return err
	}
	if err := t.Bucket(bucketMembers).Put(concat(userID, c.ID), nil); err != nil {
		return fmt.Errorf("add member: %w", err)
	}
	if err := t.emit(chatUpdated(c)); err != nil {
		return err
	}
	return t.emit(memberEvent(backend.EventChatMemberAdded, c, userID))
}

// removeMember takes userID out of c (and its owners) and emits CHAT_MEMBER_REMOVED, then
// CHAT_UPDATED to those who remain. The member's read marker and thread follows go with them.
func (t *txn) removeMember(c *backend.Chat, userID string) error {
	if !c.HasMember(userID) {
		return nil
	}
	c.MemberIDs = slices.DeleteFunc(c.MemberIDs, func(id string) bool { return id == userID })
	c.OwnerIDs = slices.DeleteFunc(c.OwnerIDs, func(id string) bool { return id == userID })
	if err := putChat(t, c); err != nil {
		return err
	}
	for _, b := range [][]byte{bucketMembers, bucketReads, bucketHidden} {
		if err := t.Bucket(b).Delete(concat(userID, c.ID)); err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
	}
	if err := t.emit(memberEvent(backend.EventChatMemberRemoved, c, userID)); err != nil {
		return err
	}
	if len(c.MemberIDs) == 0 {
		return nil
	}
	return t.emit(chatUpdated(c))
}

func (s *Store) JoinChat(ctx context.Context, chatID, userID string) (*backend.Chat, bool, error) {
	var (
		chat   *backend.Chat
		joined bool
	)
	err := s.update(ctx, func(t *txn) error {
		chat, joined = nil, false
		c, err := getChat(t.Tx, chatID)
		if err != nil {
			return err
		}
		if c.Kind != backend.ChatChannel {
			return backend.Errorf(backend.EFORBIDDEN, "Only channels can be joined; a member adds people to a private chat.")
		}
		if c.HasMember(userID) {
			chat = c
			return nil
		}
		if err := backend.CheckWritable(c); err != nil {
			return err
		}
		if t.Bucket(bucketUsers).Get([]byte(userID)) == nil {
			return backend.Errorf(backend.ENOTFOUND, "User %s not found.", userID)
		}
		if err := t.addMember(c, userID); err != nil {
			return err
		}
		chat, joined = c, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return chat, joined, nil
}

func (s *Store) LeaveChat(ctx context.Context, chatID, userID string) error {
	return s.update(ctx, func(t *txn) error {
		c, err := t.memberChat(chatID, userID)
		if err != nil {
			return err
		}
		if c.Kind == backend.ChatDM {
			key := concat(userID, c.ID)
			if t.Bucket(bucketHidden).Get(key) != nil {
				return nil // hidden already: nothing changes, nothing to tell
			}
			if err := t.Bucket(bucketHidden).Put(key, nil); err != nil {
				return fmt.Errorf("hide chat: %w", err)
			}
			return t.emit(&backend.Event{Type: backend.EventChatHidden, ChatID: c.ID, Personal: true, Recipients: []string{userID}})
		}
		return t.removeMember(c, userID)
	})
}

func (s *Store) RemoveMember(ctx context.Context, chatID, actorID, userID string) (*backend.Chat, error) {
	var chat *backend.Chat
	err := s.update(ctx, func(t *txn) error {
		c, err := managedChat(t.Tx, chatID, actorID)
		if err != nil {
			return err
		}
		if err := t.removeMember(c, userID); err != nil {
			return err
		}
		chat = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return chat, nil
}

// managedChat returns the chat if actorID may manage it (MayManageChat).
func managedChat(tx *bbolt.Tx, chatID, actorID string) (*backend.Chat, error) {
	c, err := getChat(tx, chatID)
	if err != nil {
		return nil, err
	}
	actor, err := getUser(tx, actorID)
	if err != nil {
		return nil, err
	}
	if err := backend.MayManageChat(c, actor); err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Store) UpdateChat(ctx context.Context, chatID, actorID string, ch backend.ChatChange) (*backend.Chat, error) {
	var chat *backend.Chat
	err := s.update(ctx, func(t *txn) error {
		chat = nil
		c, err := getChat(t.Tx, chatID)
		if err != nil {
			return err
		}
		if c.Kind == backend.ChatDM {
			if !c.HasMember(actorID) {
				return backend.Errorf(backend.EFORBIDDEN, "You are not a member of this chat.")
			}
		} else if c, err = managedChat(t.Tx, chatID, actorID); err != nil {
			return err
		}
		oldName := c.Name
		changed, err := backend.ApplyChatChange(c, ch)
		if err != nil {
			return err
		}
		chat = c
		if !changed {
			return nil
		}
		if c.Name != oldName {
			if err := checkNameFree(t.Tx, c.Name, c.ID); err != nil {
				return err
			}
			names := t.Bucket(bucketChatNames)
			oldKey := []byte(backend.ChatNameKey(oldName))
			if len(oldKey) > 0 && bytes.Equal(names.Get(oldKey), []byte(c.ID)) {
				if err := names.Delete(oldKey); err != nil {
					return fmt.Errorf("rename chat: %w", err)
				}
			}
			if err := names.Put([]byte(backend.ChatNameKey(c.Name)), []byte(c.ID)); err != nil {
				return fmt.Errorf("rename chat: %w", err)
			}
		}
		if err := putChat(t, c); err != nil {
			return err
		}
		return t.emit(chatUpdated(c))
	})
	if err != nil {
		return nil, err
	}
	return chat, nil
}

func (s *Store) BrowseChannels(ctx context.Context, userID string) ([]*backend.ChannelInfo, error) {
	var out []*backend.ChannelInfo
	err := s.view(func(tx *bbolt.Tx) error {
		// Every chat record is decoded: fine for a team's few thousand chats; an index of
		// channels is the next step if browsing shows up in profiles.
		return tx.Bucket(bucketChats).ForEach(func(k, v []byte) error {
			var c backend.Chat
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decode chat %s: %w", k, err)
			}
			backend.NormalizeChat(&c)
			if c.Kind != backend.ChatChannel || c.Archived {
				return nil
			}
			out = append(out, &backend.ChannelInfo{ID: c.ID, Name: c.Name, Topic: c.Topic, OwnerIDs: c.OwnerIDs,
				CreatedAt: c.CreatedAt, MemberCount: len(c.MemberIDs), Joined: c.HasMember(userID)})
			return nil
		})
	})
	return out, err
}

// unhide shows a DM again to every member who hid it: a new message in it.
func (t *txn) unhide(c *backend.Chat) error {
	if c.Kind != backend.ChatDM {
		return nil
	}
	b := t.Bucket(bucketHidden)
	for _, id := range c.MemberIDs {
		if err := b.Delete(concat(id, c.ID)); err != nil {
			return fmt.Errorf("show chat: %w", err)
		}
	}
	return nil
}
