package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
	bbolt "go.etcd.io/bbolt"
)

// Where messages live. Every message — top-level, reply or tombstone — is one record in
// bucketMessages under chat id + message id; bucketTimeline lists the ones in the chat's history
// (top-level messages and replies sent also to the chat), bucketReplies each thread's replies.
// History, unread counts and a chat's last message read the timeline.

func getMessage(tx *bbolt.Tx, chatID, id string) (*backend.Message, error) {
	v := tx.Bucket(bucketMessages).Get(concat(chatID, id))
	if v == nil {
		return nil, backend.Errorf(backend.ENOTFOUND, "Message not found.")
	}
	m := new(backend.Message)
	if err := json.Unmarshal(v, m); err != nil {
		return nil, fmt.Errorf("decode message %s: %w", id, err)
	}
	return m, nil
}

func putMessage(t *txn, m *backend.Message) error {
	return putJSON(t.Bucket(bucketMessages), string(concat(m.ChatID, m.ID)), m)
}

// memberChat returns the chat if userID belongs to it: ENOTFOUND, else EFORBIDDEN.
func (t *txn) memberChat(chatID, userID string) (*backend.Chat, error) {
	chat, err := t.chat(chatID)
	if err != nil {
		return nil, err
	}
	if !chat.HasMember(userID) {
		return nil, backend.Errorf(backend.EFORBIDDEN, "You are not a member of this chat.")
	}
	return chat, nil
}

// indexEvent records that the logged event eventID carries message msgID's content, so that
// deleting the message can rewrite it. The index holds ranges, not ids: flushMsgEvents writes one
// [first, last] pair per message per write function, since a write function's events have
// consecutive ids — a post that notifies a hundred members costs one range of 52 bytes, not a
// hundred ids. Erasing scans each range and rewrites only the events that name the message.
func (t *txn) indexEvent(chatID, msgID, eventID string) {
	if t.msgEvents == nil {
		t.msgEvents = map[string][]byte{}
	}
	key := string(concat(chatID, msgID))
	r := t.msgEvents[key]
	if r == nil {
		r = make([]byte, 2*ulid.EncodedSize)
		copy(r, eventID)
	}
	copy(r[ulid.EncodedSize:], eventID) // ids only grow within a write function
	t.msgEvents[key] = r
}

func (t *txn) flushMsgEvents() error {
	b := t.Bucket(bucketMsgEvents)
	for key, r := range t.msgEvents {
		v := append(slices.Clone(b.Get([]byte(key))), r...)
		if err := b.Put([]byte(key), v); err != nil {
			return fmt.Errorf("index message events: %w", err)
		}
	}
	t.msgEvents = nil
	return nil
}

// emitUpdated emits MESSAGE_UPDATED with m's state to the chat's members.
func (t *txn) emitUpdated(chat *backend.Chat, m *backend.Message) error {
	ev := &backend.Event{Type: backend.EventMessageUpdated, ChatID: chat.ID, Message: m.Clone(),
		Recipients: slices.Clone(chat.MemberIDs)}
	if err := t.emit(ev); err != nil {
		return err
	}
	t.indexEvent(chat.ID, m.ID, ev.ID)
	return nil
}

func (s *Store) PostMessage(ctx context.Context, m *backend.Message) (*backend.Message, bool, error) {
	var (
		msg     *backend.Message
		created bool
	)
	err := s.update(ctx, func(t *txn) error {
		msg, created = nil, false
		chat, err := t.writableChat(m.ChatID, m.AuthorID)
		if err != nil {
			return err
		}
		var clientKey []byte
		if m.ClientID != "" {
			clientKey = concat(m.ChatID, m.AuthorID, m.ClientID)
			if id := t.Bucket(bucketClientIDs).Get(clientKey); id != nil {
				msg, err = getMessage(t.Tx, m.ChatID, string(id))
				if err != nil {
					return fmt.Errorf("message %s of client id %q: %w", id, m.ClientID, err)
				}
				return nil
			}
		}
		var parent *backend.Message
		if m.ParentID != "" {
			if parent, err = getMessage(t.Tx, m.ChatID, m.ParentID); err != nil {
				return backend.Errorf(backend.ENOTFOUND, "The message to reply to was not found in this chat.")
			}
			if parent.ParentID != "" {
				return backend.Errorf(backend.EINVALID, "parentId is a reply: reply to the top-level message of its thread.")
			}
			if parent.Deleted {
				return backend.Errorf(backend.ECONFLICT, "The message to reply to was deleted.")
			}
		}
		stored := *m
		stored.AlsoToChat = parent != nil && m.AlsoToChat
		stored.ID = t.newID() // the message shares its NEW_MESSAGE event's id
		stored.CreatedAt = t.now.UnixMilli()
		stored.EditedAt, stored.Deleted, stored.ReplyCount, stored.LastReplyAt, stored.Reactions, stored.Pinned = 0, false, 0, 0, nil, false
		ev := &backend.Event{ID: stored.ID, Type: backend.EventNewMessage, ChatID: m.ChatID, Message: &stored,
			Recipients: slices.Clone(chat.MemberIDs)}
		if err := t.emit(ev); err != nil {
			return err
		}
		id := stored.ID
		if err := putMessage(t, &stored); err != nil {
			return err
		}
		if clientKey != nil {
			if err := t.Bucket(bucketClientIDs).Put(clientKey, []byte(id)); err != nil {
				return fmt.Errorf("index client id: %w", err)
			}
		}
		if parent == nil || stored.AlsoToChat {
			if err := t.Bucket(bucketTimeline).Put(concat(m.ChatID, id), nil); err != nil {
				return fmt.Errorf("add to history: %w", err)
			}
			// Writing a message means having read the chat up to it.
			if err := t.readUpTo(m.AuthorID, m.ChatID, id); err != nil {
				return err
			}
		}
		if parent != nil {
			if err := t.addReply(chat, parent, &stored); err != nil {
				return err
			}
		}
		if err := t.unhide(chat); err != nil {
			return err
		}
		if err := t.notifyMembers(chat, &stored, parent); err != nil {
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

// addReply files reply in its parent's thread: the index, the followers (the parent's author and
// the reply's), and the parent's counts, which go out as MESSAGE_UPDATED.
func (t *txn) addReply(chat *backend.Chat, parent, reply *backend.Message) error {
	if err := t.Bucket(bucketReplies).Put(concat(chat.ID, parent.ID, reply.ID), nil); err != nil {
		return fmt.Errorf("add reply: %w", err)
	}
	for _, id := range []string{parent.AuthorID, reply.AuthorID} {
		if err := t.Bucket(bucketFollowers).Put(concat(chat.ID, parent.ID, id), nil); err != nil {
			return fmt.Errorf("follow thread: %w", err)
		}
	}
	parent.ReplyCount++
	parent.LastReplyAt = reply.CreatedAt
	if err := putMessage(t, parent); err != nil {
		return err
	}
	return t.emitUpdated(chat, parent)
}

// followers returns the users who follow the thread of parentID.
func followers(tx *bbolt.Tx, chatID, parentID string) []string {
	prefix := concat(chatID, parentID)
	var ids []string
	for _, k := range keysWithPrefix(tx.Bucket(bucketFollowers), prefix) {
		ids = append(ids, string(k[len(prefix):]))
	}
	return ids
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
		var err error
		msg, err = getMessage(tx, chatID, string(id))
		return err
	})
	return msg, err
}

func (s *Store) Message(ctx context.Context, chatID, messageID string) (*backend.Message, error) {
	var msg *backend.Message
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		msg, err = getMessage(tx, chatID, messageID)
		return err
	})
	return msg, err
}

func pageLimit(limit int) int {
	if limit <= 0 {
		limit = backend.DefaultPageLimit
	}
	return min(limit, backend.MaxPageLimit)
}

// listPage reads a page of the index bucket b under prefix (keys are prefix + message id) and
// fetches each message of chatID (see backend.MessagePage).
func listPage(tx *bbolt.Tx, b *bbolt.Bucket, prefix []byte, chatID string, page backend.MessagePage) ([]*backend.Message, bool, error) {
	limit := pageLimit(page.Limit)
	var msgs []*backend.Message
	c := b.Cursor()
	inRange := func(k []byte) bool {
		if k == nil || !bytes.HasPrefix(k, prefix) {
			return false
		}
		id := string(k[len(prefix):])
		return (page.After == "" || id > page.After) && (page.Before == "" || id < page.Before)
	}
	fetch := func(k []byte) error {
		m, err := getMessage(tx, chatID, string(k[len(prefix):]))
		if err != nil {
			return fmt.Errorf("message of %s: %w", b, err)
		}
		msgs = append(msgs, m)
		return nil
	}
	if page.After != "" {
		k, _ := c.Seek(concat(string(prefix), page.After))
		if k != nil && string(k) == string(concat(string(prefix), page.After)) {
			k, _ = c.Next()
		}
		for ; inRange(k) && len(msgs) < limit; k, _ = c.Next() {
			if err := fetch(k); err != nil {
				return nil, false, err
			}
		}
		return msgs, inRange(k), nil
	}
	var k []byte
	if page.Before != "" {
		if k, _ = c.Seek(concat(string(prefix), page.Before)); k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
	} else {
		k, _ = lastWithPrefix(c, prefix)
	}
	for ; inRange(k) && len(msgs) < limit; k, _ = c.Prev() {
		if err := fetch(k); err != nil {
			return nil, false, err
		}
	}
	more := inRange(k)
	slices.Reverse(msgs)
	return msgs, more, nil
}

func (s *Store) Messages(ctx context.Context, chatID string, page backend.MessagePage) ([]*backend.Message, bool, error) {
	var (
		msgs    []*backend.Message
		hasMore bool
	)
	err := s.view(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketChats).Get([]byte(chatID)) == nil {
			return backend.Errorf(backend.ENOTFOUND, "Chat not found.")
		}
		var err error
		msgs, hasMore, err = listPage(tx, tx.Bucket(bucketTimeline), []byte(chatID), chatID, page)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return msgs, hasMore, nil
}

func (s *Store) MessagesAround(ctx context.Context, chatID, messageID string, limit int) ([]*backend.Message, bool, bool, error) {
	limit = pageLimit(limit)
	var (
		msgs         []*backend.Message
		older, newer bool
	)
	err := s.view(func(tx *bbolt.Tx) error {
		m, err := getMessage(tx, chatID, messageID)
		if err != nil {
			return err
		}
		if m.ParentID != "" && !m.AlsoToChat {
			if m, err = getMessage(tx, chatID, m.ParentID); err != nil {
				return err
			}
		}
		timeline := tx.Bucket(bucketTimeline)
		before, after := (limit-1)/2, limit-1-(limit-1)/2
		var head, tail []*backend.Message
		head, older, err = listPage(tx, timeline, []byte(chatID), chatID, backend.MessagePage{Before: m.ID, Limit: max(before, 1)})
		if err != nil {
			return err
		}
		if before == 0 {
			head, older = nil, len(head) > 0
		}
		tail, newer, err = listPage(tx, timeline, []byte(chatID), chatID, backend.MessagePage{After: m.ID, Limit: max(after, 1)})
		if err != nil {
			return err
		}
		if after == 0 {
			tail, newer = nil, len(tail) > 0
		}
		msgs = append(append(head, m), tail...)
		return nil
	})
	if err != nil {
		return nil, false, false, err
	}
	return msgs, older, newer, nil
}

func (s *Store) Replies(ctx context.Context, chatID, parentID string, page backend.MessagePage) ([]*backend.Message, bool, error) {
	var (
		msgs    []*backend.Message
		hasMore bool
	)
	err := s.view(func(tx *bbolt.Tx) error {
		parent, err := getMessage(tx, chatID, parentID)
		if err != nil {
			return err
		}
		if parent.ParentID != "" {
			return backend.Errorf(backend.EINVALID, "That message is a reply: its thread is the one of %s.", parent.ParentID)
		}
		msgs, hasMore, err = listPage(tx, tx.Bucket(bucketReplies), concat(chatID, parentID), chatID, page)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return msgs, hasMore, nil
}

func (s *Store) EditMessage(ctx context.Context, chatID, messageID, userID, content string) (*backend.Message, error) {
	var msg *backend.Message
	err := s.update(ctx, func(t *txn) error {
		chat, err := t.writableChat(chatID, userID)
		if err != nil {
			return err
		}
		m, err := getMessage(t.Tx, chatID, messageID)
		if err != nil {
			return err
		}
		if err := backend.MayEdit(m, userID); err != nil {
			return err
		}
		msg = m
		if m.Content == content {
			return nil
		}
		before := m.Content
		m.Content = content
		m.EditedAt = t.now.UnixMilli()
		if err := putMessage(t, m); err != nil {
			return err
		}
		if err := t.emitUpdated(chat, m); err != nil {
			return err
		}
		return t.notifyRecipients(chat, m, backend.EditRecipients(chat, m, before, t.userIDByName))
	})
	if err != nil {
		return nil, err
	}
	return msg, nil
}

func (s *Store) React(ctx context.Context, chatID, messageID, userID, emoji string, on bool) (*backend.Message, error) {
	return s.changeMessage(ctx, chatID, messageID, userID, func(t *txn, m *backend.Message) (bool, error) {
		return backend.React(m, userID, emoji, on)
	})
}

// pinRecord is the value of a pin: when and by whom.
type pinRecord struct {
	At int64  `json:"at"` // Unix ms
	By string `json:"by"`
	// Seq is a ULID issued when the message was pinned: it orders pins of the same millisecond
	// (one group commit shares its clock reading) in the order they were made.
	Seq string `json:"seq,omitempty"`
}

func (s *Store) Pin(ctx context.Context, chatID, messageID, userID string, on bool) (*backend.Message, error) {
	return s.changeMessage(ctx, chatID, messageID, userID, func(t *txn, m *backend.Message) (bool, error) {
		pins := t.Bucket(bucketPins)
		key := concat(chatID, messageID)
		switch {
		case m.Pinned == on:
			return false, nil
		case !on:
			m.Pinned = false
			return true, pins.Delete(key)
		case m.Deleted:
			return false, backend.Errorf(backend.ECONFLICT, "This message was deleted.")
		case len(keysWithPrefix(pins, []byte(chatID))) >= backend.MaxPins:
			return false, backend.Errorf(backend.ECONFLICT, "A chat has at most %d pinned messages: unpin one first.", backend.MaxPins)
		}
		m.Pinned = true
		rec, err := json.Marshal(pinRecord{At: t.now.UnixMilli(), By: userID, Seq: t.newID()})
		if err != nil {
			return false, err
		}
		return true, pins.Put(key, rec)
	})
}

// changeMessage runs change on a message of a chat userID belongs to; when it reports a change,
// the message is stored and MESSAGE_UPDATED emitted. change must do its checks before writing.
func (s *Store) changeMessage(ctx context.Context, chatID, messageID, userID string, change func(*txn, *backend.Message) (bool, error)) (*backend.Message, error) {
	var msg *backend.Message
	err := s.update(ctx, func(t *txn) error {
		chat, err := t.writableChat(chatID, userID)
		if err != nil {
			return err
		}
		m, err := getMessage(t.Tx, chatID, messageID)
		if err != nil {
			return err
		}
		changed, err := change(t, m)
		if err != nil || !changed {
			msg = m
			return err
		}
		if err := putMessage(t, m); err != nil {
			return err
		}
		msg = m
		return t.emitUpdated(chat, m)
	})
	if err != nil {
		return nil, err
	}
	return msg, nil
}

func (s *Store) Pins(ctx context.Context, chatID string) ([]*backend.Message, error) {
	var msgs []*backend.Message
	err := s.view(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketChats).Get([]byte(chatID)) == nil {
			return backend.Errorf(backend.ENOTFOUND, "Chat not found.")
		}
		type pinned struct {
			at  int64
			seq string
			msg *backend.Message
		}
		var all []pinned
		prefix := []byte(chatID)
		c := tx.Bucket(bucketPins).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var rec pinRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode pin %s: %w", k, err)
			}
			m, err := getMessage(tx, chatID, string(k[len(prefix):]))
			if err != nil {
				return fmt.Errorf("pinned message: %w", err)
			}
			all = append(all, pinned{rec.At, rec.Seq, m})
		}
		sort.SliceStable(all, func(i, j int) bool {
			return all[i].at > all[j].at || all[i].at == all[j].at && all[i].seq > all[j].seq
		})
		for _, p := range all {
			msgs = append(msgs, p.msg)
		}
		return nil
	})
	return msgs, err
}

func (s *Store) MarkRead(ctx context.Context, userID, chatID, messageID string) error {
	return s.update(ctx, func(t *txn) error {
		if _, err := t.memberChat(chatID, userID); err != nil {
			return err
		}
		if t.Bucket(bucketMessages).Get(concat(chatID, messageID)) == nil {
			return backend.Errorf(backend.ENOTFOUND, "Message not found in this chat.")
		}
		key := concat(userID, chatID)
		prev := string(t.Bucket(bucketReads).Get(key))
		if prev >= messageID {
			return nil
		}
		if err := t.Bucket(bucketReads).Put(key, []byte(messageID)); err != nil {
			return fmt.Errorf("move read marker: %w", err)
		}
		if err := t.markChatNotificationsRead(userID, chatID, prev, messageID); err != nil {
			return err
		}
		return t.emit(&backend.Event{Type: backend.EventReadMarker, ChatID: chatID, MessageID: messageID,
			Personal: true, Recipients: []string{userID}})
	})
}

// readUpTo moves userID's read marker in the chat to id, the newest message there (the user
// posted it), and marks read their notifications about the chat's messages the marker passed —
// MarkRead looks only at notifications newer than the marker it moves from, so a marker moved
// without them would leave those unread for good.
func (t *txn) readUpTo(userID, chatID, id string) error {
	key := concat(userID, chatID)
	prev := string(t.Bucket(bucketReads).Get(key))
	if err := t.Bucket(bucketReads).Put(key, []byte(id)); err != nil {
		return fmt.Errorf("move read marker: %w", err)
	}
	return t.markChatNotificationsRead(userID, chatID, prev, id)
}

// markChatNotificationsRead marks read userID's notifications about the chat's messages in
// (prev, upTo] — the ones the read marker just passed. Those about replies (kind reply, and
// mentions in a reply) are read in their thread, not here.
// A notification is newer than its message, so only entries after prev need to be looked at.
func (t *txn) markChatNotificationsRead(userID, chatID, prev, upTo string) error {
	b := t.Bucket(bucketNotes)
	prefix := []byte(userID)
	var changed [][2][]byte
	c := b.Cursor()
	for k, v := c.Seek(concat(userID, prev)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		// Cheap tests first: most entries are read already or about other chats.
		if !bytes.Contains(v, unreadField) || !bytes.Contains(v, []byte(chatID)) {
			continue
		}
		var n struct {
			ChatID, MessageID, ParentID string
		}
		if err := json.Unmarshal(v, &n); err != nil {
			return fmt.Errorf("decode notification %s: %w", k, err)
		}
		if n.ChatID != chatID || n.MessageID == "" || n.MessageID > upTo || n.ParentID != "" {
			continue
		}
		// The entry is encoding/json's encoding of backend.Notification: `"read":false` with
		// bare quotes is its Read field and nothing else (quotes inside strings are escaped).
		changed = append(changed, [2][]byte{slices.Clone(k), bytes.Replace(v, unreadField, readField, 1)})
	}
	for _, kv := range changed {
		if err := b.Put(kv[0], kv[1]); err != nil {
			return fmt.Errorf("mark notification read: %w", err)
		}
	}
	return nil
}

var unreadField, readField = []byte(`"read":false`), []byte(`"read":true`)

// notifyMembers records and emits the notifications backend.PostRecipients decides for msg, just
// posted in chat (parent is the message it replies to, nil for a top-level message). It runs after
// addReply, so the thread's followers include the reply's author and the parent's.
func (t *txn) notifyMembers(chat *backend.Chat, msg, parent *backend.Message) error {
	a := backend.MessageAudience{Chat: chat, Message: msg, Parent: parent, UserID: t.userIDByName, Quiet: t.isQuiet}
	if parent != nil {
		a.Followers = followers(t.Tx, chat.ID, parent.ID)
	}
	rs, err := backend.PostRecipients(a)
	if err != nil {
		return err
	}
	return t.notifyRecipients(chat, msg, rs)
}

// notifyRecipients records for each of rs the note backend.MessageNotification gives its kind,
// with the recipient's own decision, and emits it to them: MENTION with a copy of msg, or
// NOTIFICATION.
func (t *txn) notifyRecipients(chat *backend.Chat, msg *backend.Message, rs []backend.Recipient) error {
	if len(rs) == 0 {
		return nil
	}
	author, err := getUser(t.Tx, msg.AuthorID)
	if err != nil {
		return err
	}
	var note backend.MessageNote
	for _, r := range rs {
		if r.Kind != note.Notification.Type { // rs is grouped by kind: one note per kind
			note = backend.MessageNotification(r.Kind, chat, msg, author.DisplayName)
		}
		with := func(ev *backend.Event) { ev.ChatID = chat.ID }
		if note.Event == backend.EventMention {
			message := msg.Clone()
			with = func(ev *backend.Event) { ev.ChatID, ev.Message = chat.ID, message }
		}
		if err := t.notifyUser(r.UserID, note.Event, note.Notification, note.Notice, with); err != nil {
			return err
		}
	}
	return nil
}

// userIDByName is the id of the account with username name, "" for none.
func (t *txn) userIDByName(name string) string {
	return string(t.Bucket(bucketUsernames).Get([]byte(name)))
}

// indexTimeline builds bucketTimeline for a file written before threads existed, when every
// message was in its chat's history.
func indexTimeline(tx *bbolt.Tx) error {
	idx, err := tx.CreateBucket(bucketTimeline)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketTimeline, err)
	}
	return tx.Bucket(bucketMessages).ForEach(func(k, _ []byte) error { return idx.Put(k, nil) })
}
