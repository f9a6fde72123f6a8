package backend

import (
	"slices"
	"unicode/utf8"
)

// Reaction is one emoji on a message and who reacted with it.
type Reaction struct {
	Emoji string `json:"emoji"`
	// Count is len(UserIDs); clients show it without counting.
	Count int `json:"count"`
	// UserIDs are the members who reacted, in the order they did.
	UserIDs []string `json:"userIds"`
}

// Tombstone is what remains of m once it is deleted: no content, attachment, reactions, pin or
// client id — only what keeps its thread and its chat's unread count consistent.
func (m *Message) Tombstone() *Message {
	return &Message{
		ID: m.ID, ChatID: m.ChatID, AuthorID: m.AuthorID, CreatedAt: m.CreatedAt, Deleted: true,
		ParentID: m.ParentID, AlsoToChat: m.AlsoToChat, ReplyCount: m.ReplyCount, LastReplyAt: m.LastReplyAt,
	}
}

// Clone copies m deeply enough that changing the copy's reactions or attachment does not touch m
// (events share their message once published).
func (m *Message) Clone() *Message {
	c := *m
	if m.Attachment != nil {
		a := *m.Attachment
		c.Attachment = &a
	}
	c.Reactions = make([]Reaction, len(m.Reactions))
	for i, r := range m.Reactions {
		c.Reactions[i] = Reaction{Emoji: r.Emoji, Count: r.Count, UserIDs: slices.Clone(r.UserIDs)}
	}
	if len(c.Reactions) == 0 {
		c.Reactions = nil
	}
	return &c
}

// MayEdit says whether userID may change m's content: only its author, and not once deleted
// (ECONFLICT).
func MayEdit(m *Message, userID string) error {
	if m.AuthorID != userID {
		return Errorf(EFORBIDDEN, "Only the author can edit this message.")
	}
	if m.Deleted {
		return Errorf(ECONFLICT, "This message was deleted.")
	}
	return nil
}

// MayDelete says whether u may delete m: its author or an admin (who must be able to see the
// chat: callers check membership first).
func MayDelete(m *Message, u *User) error {
	if m.AuthorID != u.ID && u.Role != RoleAdmin {
		return Errorf(EFORBIDDEN, "Only the author or an admin can delete this message.")
	}
	return nil
}

// React adds (on) or removes userID's reaction emoji on m and reports whether m changed. Adding
// an emoji beyond MaxReactions distinct ones is ECONFLICT; reacting to a deleted message is
// ECONFLICT. Adding twice or removing what is not there changes nothing (PUT and DELETE are
// idempotent).
func React(m *Message, userID, emoji string, on bool) (bool, error) {
	if m.Deleted {
		return false, Errorf(ECONFLICT, "This message was deleted.")
	}
	i := slices.IndexFunc(m.Reactions, func(r Reaction) bool { return r.Emoji == emoji })
	switch {
	case on && i < 0:
		if len(m.Reactions) >= MaxReactions {
			return false, Errorf(ECONFLICT, "A message has at most %d different reactions.", MaxReactions)
		}
		m.Reactions = append(m.Reactions, Reaction{Emoji: emoji, Count: 1, UserIDs: []string{userID}})
		return true, nil
	case on:
		r := &m.Reactions[i]
		if slices.Contains(r.UserIDs, userID) {
			return false, nil
		}
		r.UserIDs = append(r.UserIDs, userID)
		r.Count = len(r.UserIDs)
		return true, nil
	case i < 0:
		return false, nil
	default:
		r := &m.Reactions[i]
		j := slices.Index(r.UserIDs, userID)
		if j < 0 {
			return false, nil
		}
		r.UserIDs = slices.Delete(r.UserIDs, j, j+1)
		r.Count = len(r.UserIDs)
		if r.Count == 0 {
			m.Reactions = slices.Delete(m.Reactions, i, i+1)
		}
		return true, nil
	}
}

// AddedMentions returns the usernames Mentions finds in after but not in before: an edit
// notifies only those.
func AddedMentions(before, after string) []string {
	old := Mentions(before)
	return slices.DeleteFunc(Mentions(after), func(name string) bool { return slices.Contains(old, name) })
}

// CheckEmoji validates a reaction: exactly one Unicode emoji sequence (a pictograph with an
// optional variation selector or skin tone, ZWJ sequences of those, a keycap, a flag of two
// regional indicators or a subdivision flag with tags), at most MaxEmojiLen bytes. Anything else
// is EINVALID.
func CheckEmoji(s string) error {
	if s == "" || len(s) > MaxEmojiLen || !utf8.ValidString(s) || !isEmojiSequence([]rune(s)) {
		return Errorf(EINVALID, "A reaction must be one emoji.")
	}
	return nil
}

const (
	vs16         = 0xFE0F
	vs15         = 0xFE0E
	keycap       = 0x20E3
	tagCancel    = 0xE007F
	regionalLow  = 0x1F1E6
	regionalHigh = 0x1F1FF
)

func isEmojiSequence(rs []rune) bool {
	// A flag: exactly two regional indicators.
	if len(rs) == 2 && isRegional(rs[0]) && isRegional(rs[1]) {
		return true
	}
	// A keycap: [0-9#*] FE0F? 20E3.
	if n := len(rs); n >= 2 && rs[n-1] == keycap && (rs[0] >= '0' && rs[0] <= '9' || rs[0] == '#' || rs[0] == '*') {
		return n == 2 || n == 3 && rs[1] == vs16
	}
	// A subdivision flag: 1F3F4 tag-letters… E007F.
	if len(rs) > 2 && rs[0] == 0x1F3F4 && rs[len(rs)-1] == tagCancel {
		for _, r := range rs[1 : len(rs)-1] {
			if r < 0xE0020 || r > 0xE007E {
				return false
			}
		}
		return true
	}
	// Pictographs, each with an optional modifier or variation selector, joined by ZWJ.
	expectBase := true
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if expectBase {
			if !isPictograph(r) {
				return false
			}
			expectBase = false
			continue
		}
		switch {
		case r == zwj:
			expectBase = true
		case r == vs16 || r == vs15 || r >= 0x1F3FB && r <= 0x1F3FF:
			if !isPictograph(rs[i-1]) { // at most one per pictograph
				return false
			}
		default:
			return false
		}
	}
	return !expectBase
}

func isRegional(r rune) bool { return r >= regionalLow && r <= regionalHigh }

// isPictograph approximates Unicode's Extended_Pictographic property with the blocks emoji come
// from: what a picker offers is inside them, text letters and digits are not.
func isPictograph(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF && !(r >= 0x1F3FB && r <= 0x1F3FF) && !isRegional(r):
		return true
	case r >= 0x2600 && r <= 0x27BF, r >= 0x2300 && r <= 0x23FF, r >= 0x2B00 && r <= 0x2BFF,
		r >= 0x2190 && r <= 0x21FF, r >= 0x25A0 && r <= 0x25FF, r >= 0x2900 && r <= 0x297F:
		return true
	}
	switch r {
	case 0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x24C2, 0x3030, 0x303D, 0x3297, 0x3299:
		return true
	}
	return false
}
