// Package backend holds Herald's domain: the types every part of the team server shares (User,
// Chat, Message, Event), the small interfaces its adapters implement (Store, EventLog, Broker), and
// the Error type whose Code decides the HTTP status in exactly one place (httpapi).
//
// It imports only the standard library and ulid. Adapters live below it: backend/bolt (storage),
// backend/hub (fan-out), backend/httpapi (REST and SSE).
package backend

import (
	"strings"
	"time"
)

// Role is what a User may do on the team server.
type Role string

const (
	// RoleAdmin may create invites and, in later features, bots and system notifications. The
	// first user of a new server becomes admin.
	RoleAdmin Role = "admin"
	// RoleMember is every user who registered with an invite.
	RoleMember Role = "member"
)

// User is a person with an account on the team server. PasswordHash never leaves the server: it
// is not part of the JSON form.
type User struct {
	ID           string `json:"id"`
	Username     string `json:"username"`
	DisplayName  string `json:"displayName"`
	Role         Role   `json:"role"`
	CreatedAt    int64  `json:"createdAt"` // Unix ms
	PasswordHash string `json:"-"`
	// Status is the user's presence: online while one of their streams is open, offline a
	// grace period after the last one closed; a bot sets its own. "" is offline.
	Status AgentStatus `json:"status,omitempty"`
	// Kind is AgentBot for bots (created by an admin, no password, authenticated by a token);
	// "" for people.
	Kind AgentKind `json:"kind,omitempty"`
	// Avatar is a bot's picture: an https URL or a short text such as an emoji.
	Avatar string `json:"avatar,omitempty"`
	// Deactivated marks an account an admin switched off (or a deleted bot): it cannot sign in
	// and its tokens are refused; its messages stay.
	Deactivated bool `json:"deactivated,omitempty"`

	// People (issue 11, profile.go). StatusText and StatusEmoji are the status line a person
	// sets; StatusExpiresAt (Unix ms, 0: never) is when it reads as cleared (User.Present).
	StatusText      string `json:"statusText,omitempty"`
	StatusEmoji     string `json:"statusEmoji,omitempty"`
	StatusExpiresAt int64  `json:"statusExpiresAt,omitempty"`
	// AvatarURL is where a person's uploaded avatar is served (backend.AvatarURL), "" without one:
	// clients then draw the initials on AvatarColor. AvatarVersion changes with every upload.
	AvatarURL     string `json:"avatarUrl,omitempty"`
	AvatarVersion int64  `json:"avatarVersion,omitempty"`
	AvatarColor   string `json:"avatarColor,omitempty"`
}

// IsBot reports whether the user is a bot.
func (u *User) IsBot() bool { return u.Kind == AgentBot }

// AsAgent is how status events name the user.
func (u *User) AsAgent() *Agent {
	kind := u.Kind
	if kind == "" {
		kind = AgentUser
	}
	return &Agent{ID: u.ID, Name: u.DisplayName, Avatar: u.Avatar, Kind: kind}
}

// AgentStatus is an agent's presence: a member's follows their streams, a bot sets its own.
type AgentStatus string

const (
	StatusOnline  AgentStatus = "online"
	StatusBusy    AgentStatus = "busy"
	StatusOffline AgentStatus = "offline"
	// StatusAway is a person who is connected but idle, as one of their clients reported
	// (PUT /api/me/presence); it ends when a client reports activity, a stream opens or the last
	// one closes.
	StatusAway AgentStatus = "away"
)

// PresenceAudienceLimit is the largest chat (in members) whose members hear of a person's
// presence as it changes (AGENT_STATUS_CHANGED). A person's status reaches whoever shares a chat
// of at most this many members with them (DMs, teams); members who share only bigger channels
// see it in the directory (GET /api/users) when they next load it. Without the bound, N members
// of one channel reconnecting after a restart would cost N² events. A bot's status, which
// notifies, still reaches every chat it is in.
const PresenceAudienceLimit = 250

// AgentKind tells members from bots.
type AgentKind string

const (
	AgentUser AgentKind = "user"
	AgentBot  AgentKind = "bot"
)

// Agent is how AGENT_STATUS_CHANGED names whose status changed.
type Agent struct {
	ID     string    `json:"id"`
	Name   string    `json:"name"`
	Avatar string    `json:"avatar,omitempty"`
	Kind   AgentKind `json:"kind"`
}

// Chat is a conversation between its members: a channel, a private chat or a DM (Kind, see
// chats.go for the rules).
type Chat struct {
	ID   string   `json:"id"`
	Kind ChatKind `json:"kind"`
	// Name is unique among channels and private chats in letter case (ChatNameKey); "" for a DM.
	Name      string   `json:"name"`
	Topic     string   `json:"topic"`
	MemberIDs []string `json:"memberIds"`
	// OwnerIDs manage the chat with the admins (MayManageChat); the creator is the first. Empty
	// for a DM.
	OwnerIDs []string `json:"ownerIds"`
	// Archived makes the chat read-only (CheckWritable) until it is unarchived.
	Archived  bool   `json:"archived"`
	CreatedBy string `json:"createdBy"`
	CreatedAt int64  `json:"createdAt"` // Unix ms
	// LastMessageID is the newest message in the chat, "" while it has none.
	LastMessageID string `json:"lastMessageId,omitempty"`
}

// HasMember reports whether userID belongs to the chat.
func (c *Chat) HasMember(userID string) bool {
	for _, id := range c.MemberIDs {
		if id == userID {
			return true
		}
	}
	return false
}

// ChatSummary is a Chat as one of its members sees it in their chat list.
type ChatSummary struct {
	Chat
	// Unread counts messages by other members after the member's read marker, capped at
	// MaxUnreadCount.
	Unread int `json:"unread"`
	// LastReadID is the member's read marker, "" before they read anything.
	LastReadID string `json:"lastReadId,omitempty"`
	// Mentions counts the member's unread mentions in the chat (threads included), among their
	// newest MentionScanLimit notifications.
	Mentions int `json:"mentions"`
	// Hidden marks a DM the member left (hid) until its next message; GET /api/chats omits it.
	Hidden bool `json:"hidden,omitempty"`
}

// MentionScanLimit is how many of a member's newest notifications ChatSummary.Mentions looks
// through: listing chats stays cheap for someone with a long history.
const MentionScanLimit = 2000

// MaxUnreadCount caps ChatSummary.Unread so listing chats stays cheap in very busy chats; clients
// show it as "999+".
const MaxUnreadCount = 999

// Message is one chat message. Its ID is the ID of the NEW_MESSAGE event that announced it, so
// the message's position in the chat and in the event stream agree.
type Message struct {
	ID       string `json:"id"`
	ChatID   string `json:"chatId"`
	AuthorID string `json:"authorId"`
	Content  string `json:"content"`
	// ClientID is the sender's idempotency key: a second post with the same ClientID by the same
	// author in the same chat returns this message instead of creating another.
	ClientID  string `json:"clientId,omitempty"`
	CreatedAt int64  `json:"createdAt"` // Unix ms
	// Attachment is the processed file a FILE message carries.
	Attachment *File `json:"attachment,omitempty"`

	// ParentID is the top-level message of the same chat whose thread this reply belongs to; ""
	// for a top-level message.
	ParentID string `json:"parentId,omitempty"`
	// AlsoToChat marks a reply that is also shown in the chat's own history ("also send to the
	// chat"); a reply without it lives only in its thread.
	AlsoToChat bool `json:"alsoToChat,omitempty"`
	// EditedAt is when the author last changed Content (Unix ms), 0 if never.
	EditedAt int64 `json:"editedAt,omitempty"`
	// Deleted marks a tombstone: the message was deleted and its content, attachment and
	// reactions are gone from the store. ID, ChatID, AuthorID, ParentID, CreatedAt and the thread
	// counts remain, so that threads and unread counts stay consistent.
	Deleted bool `json:"deleted,omitempty"`
	// ReplyCount and LastReplyAt (Unix ms) describe a top-level message's thread: its replies
	// that are not deleted, and when the newest of them was posted.
	ReplyCount  int   `json:"replyCount,omitempty"`
	LastReplyAt int64 `json:"lastReplyAt,omitempty"`
	// Reactions are the emoji members reacted with, in the order each was first used.
	Reactions []Reaction `json:"reactions,omitempty"`
	// Pinned marks a message pinned to its chat (GET /api/chats/{chatId}/pins).
	Pinned bool `json:"pinned,omitempty"`

	// NotifyAnyway is the author's request, with the post, to notify its recipients during their
	// do-not-disturb and quiet hours; each recipient's Preferences.BreakThrough decides
	// (Preferences.Decide). It belongs to the post, not to the message: never stored, never sent.
	NotifyAnyway bool `json:"-"`
}

// Invite lets people register on a server whose first user already exists. A code works
// MaxUses times (0 means once) until it expires.
type Invite struct {
	// ID names the invite without revealing its code (for listing and revoking); Hint is the
	// code's first characters, to tell links apart.
	ID        string `json:"id"`
	Code      string `json:"code,omitempty"`
	Hint      string `json:"hint,omitempty"`
	CreatedBy string `json:"createdBy"`
	CreatedAt int64  `json:"createdAt"` // Unix ms
	ExpiresAt int64  `json:"expiresAt"` // Unix ms
	MaxUses   int    `json:"maxUses"`
	Uses      int    `json:"uses"`
}

// Session is a signed-in device (or a bot's token). Only the SHA-256 of its token is stored.
type Session struct {
	// ID names the session without revealing its token: the first 16 bytes of the token's
	// SHA-256, hex. Streams are tied to it, so that ending the session ends them.
	ID        string    `json:"id"`
	UserID    string    `json:"userId"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	// Device (DeviceLabel of the User-Agent) and IP are recorded at sign-in; LastSeenAt is the
	// last authenticated request or open stream's keepalive, written at most every
	// SessionSeenEvery (issue 11).
	Device     string    `json:"device,omitempty"`
	IP         string    `json:"ip,omitempty"`
	LastSeenAt time.Time `json:"lastSeenAt,omitzero"`
}

// Why a session ended before the stream that was using it (SESSION_ENDED's reason).
const (
	SessionSignedOut       = "signed_out"       // the session's own logout
	SessionExpired         = "expired"          // its time ran out
	SessionPasswordChanged = "password_changed" // the user changed their password elsewhere
	SessionRevoked         = "revoked"          // an admin revoked it (a bot's token) or it was replaced
	SessionDeactivated     = "deactivated"      // an admin deactivated the account
)

// Limits on user input. They are part of the API: clients validate against the same numbers.
const (
	MaxUsernameLen    = 32       // bytes; usernames are [a-z0-9._-], lower case
	MinPasswordLen    = 8        // bytes
	MaxPasswordLen    = 256      // bytes
	MaxDisplayNameLen = 64       // characters
	MaxChatNameLen    = 80       // characters
	MaxContentLen     = 8000     // characters of a message
	MaxClientIDLen    = 64       // bytes
	MaxChatMembers    = 1000     // members of one chat
	MaxPageLimit      = 200      // messages per history page
	DefaultPageLimit  = 50       // messages per history page when the request names none
	MaxJSONBody       = 64 << 10 // bytes of a JSON request body
	// MaxReactions is how many distinct emoji one message may carry.
	MaxReactions = 20
	// MaxEmojiLen bounds one reaction's emoji sequence (bytes of UTF-8).
	MaxEmojiLen = 64
	// MaxPins is how many messages one chat may have pinned at once.
	MaxPins = 100
)

// Mentions returns the usernames named as @username in content, each once, in order of first
// appearance. A username is [a-z0-9._-], 2 to MaxUsernameLen long, matched case-insensitively;
// a trailing '.' or '-' (end of a sentence) is not part of it, and an @ inside a word (an e-mail
// address) is no mention.
func Mentions(content string) []string {
	var out []string
	seen := map[string]bool{}
	for i := 0; i < len(content); i++ {
		if content[i] != '@' || i > 0 && isUsernameByte(content[i-1]) {
			continue
		}
		j := i + 1
		for j < len(content) && isUsernameByte(content[j]) {
			j++
		}
		name := strings.ToLower(strings.TrimRight(content[i+1:j], ".-"))
		if len(name) >= 2 && len(name) <= MaxUsernameLen && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
		i = j - 1
	}
	return out
}

func isUsernameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}
