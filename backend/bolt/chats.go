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
			if t.Bucket(bucketUsers).Get([]byte(id)) == nil {
				return backend.Errorf(backend.ENOTFOUND, "User %s not found.", id)
			}
		}
		c.ID = t.newID()
		c.CreatedAt = t.now.UnixMilli()
		c.MemberIDs = members
		if err := putJSON(t.Bucket(bucketChats), c.ID, c); err != nil {
			return err
		}
		for _, id := range members {
			if err := t.Bucket(bucketMembers).Put(concat(id, c.ID), nil); err != nil {
				return fmt.Errorf("add member: %w", err)
			}
		}
		return t.emit(chatUpdated(c))
	})
}

func chatUpdated(c *backend.Chat) *backend.Event {
	snapshot := *c
	snapshot.MemberIDs = slices.Clone(c.MemberIDs)
	return &backend.Event{Type: backend.EventChatUpdated, ChatID: c.ID, Chat: &snapshot, Recipients: snapshot.MemberIDs}
}

func (s *Store) AddMember(ctx context.Context, chatID, actorID, userID string) (*backend.Chat, error) {
	var chat *backend.Chat
	err := s.update(ctx, func(t *txn) error {
		c, err := getChat(t.Tx, chatID)
		if err != nil {
			return err
		}
		if !c.HasMember(actorID) {
			return backend.Errorf(backend.EFORBIDDEN, "Only members can add members to this chat.")
		}
		if t.Bucket(bucketUsers).Get([]byte(userID)) == nil {
			return backend.Errorf(backend.ENOTFOUND, "User %s not found.", userID)
		}
		chat = c
		if c.HasMember(userID) {
			return nil
		}
		if len(c.MemberIDs) >= backend.MaxChatMembers {
			return backend.Errorf(backend.EINVALID, "A chat has at most %d members.", backend.MaxChatMembers)
		}
		c.MemberIDs = append(c.MemberIDs, userID)
		if err := putJSON(t.Bucket(bucketChats), c.ID, c); err != nil {
			return err
		}
		if err := t.Bucket(bucketMembers).Put(concat(userID, c.ID), nil); err != nil {
			return fmt.Errorf("add member: %w", err)
		}
		return t.emit(chatUpdated(c))
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
	if k, _ := lastWithPrefix(tx.Bucket(bucketMessages).Cursor(), []byte(id)); k != nil {
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

func (s *Store) ChatsOf(ctx context.Context, userID string) ([]*backend.ChatSummary, error) {
	var chats []*backend.ChatSummary
	err := s.view(func(tx *bbolt.Tx) error {
		prefix := []byte(userID)
		c := tx.Bucket(bucketMembers).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			chat, err := getChat(tx, string(k[len(prefix):]))
			if err != nil {
				return err
			}
			sum := &backend.ChatSummary{Chat: *chat}
			sum.LastReadID = string(tx.Bucket(bucketReads).Get(concat(userID, chat.ID)))
			sum.Unread = countAfter(tx.Bucket(bucketMessages).Cursor(), []byte(chat.ID), sum.LastReadID, backend.MaxUnreadCount)
			chats = append(chats, sum)
		}
		return nil
	})
	return chats, err
}

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

func (s *Store) PostMessage(ctx context.Context, m *backend.Message) (*backend.Message, bool, error) {
	var (
		msg     *backend.Message
		created bool
	)
	err := s.update(ctx, func(t *txn) error {
		chat, err := getChat(t.Tx, m.ChatID)
		if err != nil {
			return err
		}
		if !chat.HasMember(m.AuthorID) {
			return backend.Errorf(backend.EFORBIDDEN, "You are not a member of this chat.")
		}
		var clientKey []byte
		if m.ClientID != "" {
			clientKey = concat(m.ChatID, m.AuthorID, m.ClientID)
			if id := t.Bucket(bucketClientIDs).Get(clientKey); id != nil {
				v := t.Bucket(bucketMessages).Get(concat(m.ChatID, string(id)))
				if v == nil {
					return fmt.Errorf("message %s of client id %q is missing", id, m.ClientID)
				}
				msg = new(backend.Message)
				return json.Unmarshal(v, msg)
			}
		}
		stored := *m
		stored.ID = t.newID() // the message shares its NEW_MESSAGE event's id
		stored.CreatedAt = t.now.UnixMilli()
		ev := &backend.Event{ID: stored.ID, Type: backend.EventNewMessage, ChatID: m.ChatID, Message: &stored,
			Recipients: slices.Clone(chat.MemberIDs)}
		if err := t.emit(ev); err != nil {
			return err
		}
		id := stored.ID
		if err := putJSON(t.Bucket(bucketMessages), string(concat(m.ChatID, id)), &stored); err != nil {
			return err
		}
		if clientKey != nil {
			if err := t.Bucket(bucketClientIDs).Put(clientKey, []byte(id)); err != nil {
				return fmt.Errorf("index client id: %w", err)
			}
		}
		// Writing a message means having read the chat up to it.
		if err := t.Bucket(bucketReads).Put(concat(m.AuthorID, m.ChatID), []byte(id)); err != nil {
			return fmt.Errorf("move read marker: %w", err)
		}
		if err := t.notifyMembers(chat, &stored); err != nil {
			return err
		}
		answer := stored // the event keeps its own copy: it is shared once published
		msg, created = &answer, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return msg, created, nil
}

// MessageByClientID returns the message authorID posted in chatID with clientID (ENOTFOUND when
// there is none): what PostMessage would answer a retry with, without queueing a write.
func (s *Store) MessageByClientID(ctx context.Context, chatID, authorID, clientID string) (*backend.Message, error) {
	var msg *backend.Message
	err := s.view(func(tx *bbolt.Tx) error {
		id := tx.Bucket(bucketClientIDs).Get(concat(chatID, authorID, clientID))
		if id == nil {
			return backend.Errorf(backend.ENOTFOUND, "No message with that client id.")
		}
		v := tx.Bucket(bucketMessages).Get(concat(chatID, string(id)))
		if v == nil {
			return fmt.Errorf("message %s of client id %q is missing", id, clientID)
		}
		msg = new(backend.Message)
		return json.Unmarshal(v, msg)
	})
	return msg, err
}

func (s *Store) Messages(ctx context.Context, chatID string, page backend.MessagePage) ([]*backend.Message, bool, error) {
	limit := page.Limit
	if limit <= 0 {
		limit = backend.DefaultPageLimit
	}
	limit = min(limit, backend.MaxPageLimit)
	var (
		msgs    []*backend.Message
		hasMore bool
	)
	err := s.view(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketChats).Get([]byte(chatID)) == nil {
			return backend.Errorf(backend.ENOTFOUND, "Chat not found.")
		}
		prefix := []byte(chatID)
		c := tx.Bucket(bucketMessages).Cursor()
		inRange := func(k []byte) bool {
			if k == nil || !bytes.HasPrefix(k, prefix) {
				return false
			}
			id := string(k[len(prefix):])
			return (page.After == "" || id > page.After) && (page.Before == "" || id < page.Before)
		}
		decode := func(v []byte) error {
			m := new(backend.Message)
			if err := json.Unmarshal(v, m); err != nil {
				return fmt.Errorf("decode message: %w", err)
			}
			msgs = append(msgs, m)
			return nil
		}
		if page.After != "" {
			k, v := c.Seek(concat(chatID, page.After))
			if k != nil && string(k) == string(concat(chatID, page.After)) {
				k, v = c.Next()
			}
			for ; inRange(k) && len(msgs) < limit; k, v = c.Next() {
				if err := decode(v); err != nil {
					return err
				}
			}
			hasMore = inRange(k)
			return nil
		}
		var k, v []byte
		if page.Before != "" {
			if k, _ = c.Seek(concat(chatID, page.Before)); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		} else {
			k, v = lastWithPrefix(c, prefix)
		}
		for ; inRange(k) && len(msgs) < limit; k, v = c.Prev() {
			if err := decode(v); err != nil {
				return err
			}
		}
		hasMore = inRange(k)
		slices.Reverse(msgs)
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return msgs, hasMore, nil
}

func (s *Store) MarkRead(ctx context.Context, userID, chatID, messageID string) error {
	return s.update(ctx, func(t *txn) error {
		chat, err := getChat(t.Tx, chatID)
		if err != nil {
			return err
		}
		if !chat.HasMember(userID) {
			return backend.Errorf(backend.EFORBIDDEN, "You are not a member of this chat.")
		}
		if t.Bucket(bucketMessages).Get(concat(chatID, messageID)) == nil {
			return backend.Errorf(backend.ENOTFOUND, "Message not found in this chat.")
		}
		key := concat(userID, chatID)
		if cur := t.Bucket(bucketReads).Get(key); cur != nil && string(cur) >= messageID {
			return nil
		}
		return t.Bucket(bucketReads).Put(key, []byte(messageID))
	})
}

// MessageNotifyLimit is the largest chat (in members) whose every message notifies each member.
// In larger chats only mentions do: a message there would otherwise write one history entry and
// one event per member, and nobody wants a toast per message in a 500-person channel.
const MessageNotifyLimit = 100

// notifyMembers sends MENTION to each member named as @username in msg and, in chats of up to
// MessageNotifyLimit members, NOTIFICATION (kind message) to every other member. The author, bots
// and names of non-members get nothing.
func (t *txn) notifyMembers(chat *backend.Chat, msg *backend.Message) error {
	names := backend.Mentions(msg.Content)
	everyone := len(chat.MemberIDs) <= MessageNotifyLimit
	if len(names) == 0 && !everyone {
		return nil
	}
	author, err := getUser(t.Tx, msg.AuthorID)
	if err != nil {
		return err
	}
	body := summary(msg.Content, 280)
	link := "/chats/" + chat.ID
	mentioned := make(map[string]bool, len(names))
	for _, name := range names {
		id := string(t.Bucket(bucketUsernames).Get([]byte(name)))
		if id == "" || id == msg.AuthorID || mentioned[id] || !chat.HasMember(id) {
			continue
		}
		mentioned[id] = true
		n := backend.Notification{
			Type: backend.KindMention, Title: fmt.Sprintf("%s mentioned you in #%s", author.DisplayName, chat.Name),
			Body: body, Link: link, ChatID: chat.ID,
		}
		notice := backend.Notice{Kind: backend.KindMention, ChatID: chat.ID, ChatName: chat.Name}
		message := *msg
		err := t.notifyUser(id, backend.EventMention, n, notice, func(ev *backend.Event) {
			ev.ChatID, ev.Message = chat.ID, &message
		})
		if err != nil {
			return err
		}
	}
	if !everyone {
		return nil
	}
	title := fmt.Sprintf("%s in #%s", author.DisplayName, chat.Name)
	notice := backend.Notice{Kind: backend.KindMessage, ChatID: chat.ID, ChatName: chat.Name}
	for _, id := range chat.MemberIDs {
		if id == msg.AuthorID || mentioned[id] {
			continue
		}
		if bot, err := t.isBot(id); err != nil || bot {
			if err != nil {
				return err
			}
			continue
		}
		n := backend.Notification{Type: backend.KindMessage, Title: title, Body: body, Link: link, ChatID: chat.ID}
		if err := t.notifyUser(id, backend.EventNotification, n, notice, func(ev *backend.Event) { ev.ChatID = chat.ID }); err != nil {
			return err
		}
	}
	return nil
}
