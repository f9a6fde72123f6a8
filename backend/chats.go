package backend

import (
	"context"
	"slices"
	"strings"
)

// ChatKind is what sort of conversation a Chat is.
type ChatKind string

const (
	// ChatChannel is open to the team: any member of the team may find it (GET
	// /api/chats/browse) and join it. Its owners and admins manage it.
	ChatChannel ChatKind = "channel"
	// ChatPrivate is seen only by its members, who are added by someone already in it. A chat
	// stored before kinds existed reads as private.
	ChatPrivate ChatKind = "private"
	// ChatDM is a direct message between a fixed set of 2 to MaxDMMembers people: no name, no
	// owners, no added or removed members. There is one DM per set of people (DMKey).
	ChatDM ChatKind = "dm"
)

// Limits of chats; part of the API like the limits in herald.go.
const (
	MaxTopicLen  = 250 // characters of a chat's topic
	MaxDMMembers = 8   // people in one direct message, its creator included
)

// ChannelInfo is a channel as GET /api/chats/browse lists it: enough to decide whether to join.
type ChannelInfo struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Topic       string   `json:"topic,omitempty"`
	OwnerIDs    []string `json:"ownerIds"`
	CreatedAt   int64    `json:"createdAt"` // Unix ms
	MemberCount int      `json:"memberCount"`
	// Joined reports whether the user who browses is a member.
	Joined bool `json:"joined"`
}

// ChatChange is a PATCH of a chat: nil fields stay as they are.
type ChatChange struct {
	Name     *string
	Topic    *string
	Archived *bool
	// OwnerIDs replaces the owners; each must be a member.
	OwnerIDs []string
}

// NormalizeChat fills in what a chat record written before kinds existed lacks: such a chat is
// private and owned by its creator. Stores call it on every chat they read.
func NormalizeChat(c *Chat) {
	if c.Kind == "" {
		c.Kind = ChatPrivate
	}
	if c.OwnerIDs == nil {
		c.OwnerIDs = []string{}
		if c.Kind != ChatDM && c.CreatedBy != "" {
			c.OwnerIDs = []string{c.CreatedBy}
		}
	}
}

// IsOwner reports whether userID is one of the chat's owners.
func (c *Chat) IsOwner(userID string) bool { return slices.Contains(c.OwnerIDs, userID) }

// ChatLabel is how notification titles name the chat: "#name", or "a direct message".
func ChatLabel(c *Chat) string {
	if c.Kind == ChatDM {
		return "a direct message"
	}
	return "#" + c.Name
}

// ChatNameKey is the key under which a channel's or private chat's name is unique: names differ
// only if they differ in more than letter case.
func ChatNameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// DMKey is the identity of a direct message: its members' ids, sorted and de-duplicated, so that
// the same people always get the same DM.
func DMKey(memberIDs []string) string {
	ids := slices.Clone(memberIDs)
	slices.Sort(ids)
	return strings.Join(slices.Compact(ids), ",")
}

// errArchived is what changing an archived chat answers.
func errArchived() error { return Errorf(ECONFLICT, "This chat is archived.") }

// CheckWritable refuses changes to an archived chat's messages (posts, edits, reactions, pins,
// uploads): ECONFLICT.
func CheckWritable(c *Chat) error {
	if c.Archived {
		return errArchived()
	}
	return nil
}

// MayManageChat reports whether u may rename a chat, change its topic, owners or archive state,
// and remove its members: its owners and admins may; nobody manages a DM (EINVALID). EFORBIDDEN
// otherwise.
func MayManageChat(c *Chat, u *User) error {
	if c.Kind == ChatDM {
		return Errorf(EINVALID, "A direct message has no owners: it cannot be managed.")
	}
	if u.Role == RoleAdmin || c.IsOwner(u.ID) {
		return nil
	}
	return Errorf(EFORBIDDEN, "Only the chat's owners and admins can do that.")
}

// MayAddMember reports whether u may add someone else to the chat: for a channel its owners and
// admins (anyone may join a channel themselves); for a private chat any of its members, as
// before kinds existed, and admins; a DM never (EINVALID: start another DM).
func MayAddMember(c *Chat, u *User) error {
	switch {
	case c.Kind == ChatDM:
		return Errorf(EINVALID, "A direct message keeps its people: start a new one to add someone.")
	case c.Archived:
		return errArchived()
	case u.Role == RoleAdmin || c.IsOwner(u.ID):
		return nil
	case c.Kind == ChatPrivate && c.HasMember(u.ID):
		return nil
	case c.Kind == ChatPrivate:
		return Errorf(EFORBIDDEN, "Only members can add members to this chat.")
	}
	return Errorf(EFORBIDDEN, "Only the channel's owners and admins can add members; anyone can join it.")
}

// ApplyChatChange applies ch to c after checking it (by MayManageChat's caller), and reports
// whether anything changed. Names and topics must have been validated as text; here: a DM takes
// only a topic, owners must be members and at least one, an archived chat takes only
// unarchiving (with other fields in the same change).
func ApplyChatChange(c *Chat, ch ChatChange) (bool, error) {
	if c.Kind == ChatDM && (ch.Name != nil || ch.Archived != nil || ch.OwnerIDs != nil) {
		return false, Errorf(EINVALID, "A direct message has no name, owners or archive: only its topic changes.")
	}
	if c.Archived && (ch.Archived == nil || *ch.Archived) && (ch.Name != nil || ch.Topic != nil || ch.OwnerIDs != nil) {
		return false, errArchived()
	}
	changed := false
	if ch.OwnerIDs != nil {
		owners := slices.Compact(slices.Sorted(slices.Values(ch.OwnerIDs)))
		if len(owners) == 0 {
			return false, Errorf(EINVALID, "A chat needs at least one owner.")
		}
		for _, id := range owners {
			if !c.HasMember(id) {
				return false, Errorf(EINVALID, "Owners must be members of the chat; %s is not.", id)
			}
		}
		// Keep the order owners had, new ones after.
		next := slices.DeleteFunc(slices.Clone(c.OwnerIDs), func(id string) bool { return !slices.Contains(owners, id) })
		for _, id := range owners {
			if !slices.Contains(next, id) {
				next = append(next, id)
			}
		}
		if !slices.Equal(next, c.OwnerIDs) {
			c.OwnerIDs, changed = next, true
		}
	}
	if ch.Name != nil && *ch.Name != c.Name {
		c.Name, changed = *ch.Name, true
	}
	if ch.Topic != nil && *ch.Topic != c.Topic {
		c.Topic, changed = *ch.Topic, true
	}
	if ch.Archived != nil && *ch.Archived != c.Archived {
		c.Archived, changed = *ch.Archived, true
	}
	return changed, nil
}

// MembershipStore keeps chat kinds, direct messages and membership changes beyond AddMember. Every
// change commits durable events (see docs/API.md, "Channels, direct messages and membership"):
// CHAT_UPDATED {chat} to the members after the change; CHAT_MEMBER_ADDED and CHAT_MEMBER_REMOVED
// {chatId, userId} to the members after the change and the member added or removed.
type MembershipStore interface {
	// CreateDM returns the DM of creatorID and userIDs (2 to MaxDMMembers people in all), creating
	// it when there is none (created): the same people always get the same chat, even when they
	// ask at once. An unknown user is ENOTFOUND. Asking for a DM the creator hid shows it again.
	CreateDM(ctx context.Context, creatorID string, userIDs []string) (chat *Chat, created bool, err error)
	// JoinChat adds userID to a channel (EINVALID for other kinds, ECONFLICT when archived).
	// Joining a channel one is in changes nothing and reports joined=false.
	JoinChat(ctx context.Context, chatID, userID string) (chat *Chat, joined bool, err error)
	// LeaveChat removes userID from the chat (EFORBIDDEN for a non-member); for a DM it hides the
	// chat from userID's list instead, until the next message in it.
	LeaveChat(ctx context.Context, chatID, userID string) error
	// RemoveMember removes userID from the chat; actorID must be allowed to (MayManageChat).
	// Removing a non-member changes nothing.
	RemoveMember(ctx context.Context, chatID, actorID, userID string) (*Chat, error)
	// UpdateChat applies ch (ApplyChatChange) as actorID (MayManageChat; a DM's topic: any
	// member). A name another channel or private chat holds, in any letter case, is ECONFLICT.
	UpdateChat(ctx context.Context, chatID, actorID string, ch ChatChange) (*Chat, error)
	// BrowseChannels lists every channel that is not archived, by id, flagging those userID is in.
	BrowseChannels(ctx context.Context, userID string) ([]*ChannelInfo, error)
}
