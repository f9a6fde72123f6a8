package httpapi

import (
	"context"
	"time"

	"github.com/herald-chat/herald/backend"
)

// The storage the routes use, declared here by what they do with it (each method as backend's
// store interfaces document it). Reads and changes are apart: every route reads through
// Config.Reads and changes through Config.Writes, so that a node that does not own the writes
// (SCALEOUT.md: a cluster replica) can serve reads from its own copy and forward changes to
// the writer. One store is usually both; backend.Store (bolt.Store) is.
var (
	_ StoreReader = backend.Store(nil)
	_ StoreWriter = backend.Store(nil)
)

// StoreReader is every read the routes make.
type StoreReader interface {
	AccountReader
	ChatReader
	PersonalReader
	AdminReader
}

// StoreWriter is every change the routes make. Each call commits before it returns and hands its
// events to the broker; a read through StoreReader that follows must see it (a store that
// forwards writes elsewhere waits until its reads have caught up).
type StoreWriter interface {
	AccountWriter
	ChatWriter
	PersonalWriter
	AdminWriter
}

// AccountReader reads accounts and sessions (backend.UserStore): sign-in, authentication,
// the directory, session lists.
type AccountReader interface {
	User(ctx context.Context, id string) (*backend.User, error)
	UserByUsername(ctx context.Context, username string) (*backend.User, error)
	Users(ctx context.Context) ([]*backend.User, error)
	SessionUser(ctx context.Context, token string) (*backend.Session, *backend.User, error)
	Sessions(ctx context.Context, userID string) ([]*backend.Session, error)
}

// AccountWriter changes accounts, sessions, invites, bots and statuses (backend.UserStore,
// backend.PeopleStore's sessions and profiles).
type AccountWriter interface {
	CreateUser(ctx context.Context, u *backend.User, inviteCode string) error
	CreateBot(ctx context.Context, u *backend.User) error
	CreateSession(ctx context.Context, token string, s backend.Session) error
	DeleteSession(ctx context.Context, token, reason string) error
	EndSessions(ctx context.Context, userID, exceptToken, reason string) (int, error)
	EndSessionByID(ctx context.Context, userID, sessionID, reason string) error
	// SeeSession is a write that authenticated requests and open streams make, at most once
	// per backend.SessionSeenEvery per session.
	SeeSession(ctx context.Context, token string, at time.Time, ip string) error
	SetPassword(ctx context.Context, userID, hash, keepToken string) error
	CreateInvite(ctx context.Context, inv backend.Invite) error
	SetStatus(ctx context.Context, userID string, status backend.AgentStatus) (changed bool, err error)
	UpdateProfile(ctx context.Context, userID string, p backend.ProfilePatch) (*backend.User, error)
	SetAvatar(ctx context.Context, userID string, images [][]byte) (*backend.User, error)
	DeleteAvatar(ctx context.Context, userID string) (*backend.User, error)
}

// ChatReader reads chats, their messages and files (backend.ChatStore, backend.MembershipStore,
// backend.FileStore): the chat and message routes, the streams' membership check, search.
type ChatReader interface {
	Chat(ctx context.Context, id string) (*backend.Chat, error)
	ChatsOf(ctx context.Context, userID string) ([]*backend.ChatSummary, error)
	BrowseChannels(ctx context.Context, userID string) ([]*backend.ChannelInfo, error)
	Message(ctx context.Context, chatID, messageID string) (*backend.Message, error)
	Messages(ctx context.Context, chatID string, page backend.MessagePage) ([]*backend.Message, bool, error)
	MessagesAround(ctx context.Context, chatID, messageID string, limit int) (msgs []*backend.Message, older, newer bool, err error)
	Replies(ctx context.Context, chatID, parentID string, page backend.MessagePage) ([]*backend.Message, bool, error)
	Pins(ctx context.Context, chatID string) ([]*backend.Message, error)
	File(ctx context.Context, id string) (*backend.File, error)
	// LastEventID is the event log's head (backend.EventLog), which a search waits for the
	// index to reach.
	LastEventID(ctx context.Context) (string, error)
}

// ChatWriter changes chats, their members and messages, and read markers (backend.ChatStore,
// backend.MembershipStore).
type ChatWriter interface {
	CreateChat(ctx context.Context, c *backend.Chat) error
	CreateDM(ctx context.Context, creatorID string, userIDs []string) (chat *backend.Chat, created bool, err error)
	UpdateChat(ctx context.Context, chatID, actorID string, ch backend.ChatChange) (*backend.Chat, error)
	AddMember(ctx context.Context, chatID, actorID, userID string) (*backend.Chat, error)
	RemoveMember(ctx context.Context, chatID, actorID, userID string) (*backend.Chat, error)
	JoinChat(ctx context.Context, chatID, userID string) (chat *backend.Chat, joined bool, err error)
	LeaveChat(ctx context.Context, chatID, userID string) error
	PostMessage(ctx context.Context, m *backend.Message) (msg *backend.Message, created bool, err error)
	EditMessage(ctx context.Context, chatID, messageID, userID, content string) (*backend.Message, error)
	DeleteMessage(ctx context.Context, chatID, messageID string, by *backend.User) (fileID string, err error)
	React(ctx context.Context, chatID, messageID, userID, emoji string, on bool) (*backend.Message, error)
	Pin(ctx context.Context, chatID, messageID, userID string, on bool) (*backend.Message, error)
	MarkRead(ctx context.Context, userID, chatID, messageID string) error
}

// PersonalReader reads what belongs to one user: preferences, notification history, tasks,
// avatars (backend.PreferenceStore, backend.NotificationStore, backend.TaskStore,
// backend.PeopleStore).
type PersonalReader interface {
	Preferences(ctx context.Context, userID string) (backend.Preferences, error)
	Notifications(ctx context.Context, userID string, f backend.NotificationFilter) ([]*backend.Notification, bool, error)
	Task(ctx context.Context, id string) (*backend.Task, error)
	Avatar(ctx context.Context, userID string, size int) (img []byte, version int64, err error)
}

// PersonalWriter changes preferences, notifications and tasks (backend.PreferenceStore,
// backend.NotificationStore, backend.TaskStore).
type PersonalWriter interface {
	SetPreferences(ctx context.Context, userID string, p backend.Preferences) error
	SendSystemNotification(ctx context.Context, n backend.Notification, userIDs []string) (int, error)
	MarkNotifications(ctx context.Context, userID string, ids []string, read bool) error
	ClearNotifications(ctx context.Context, userID string) error
	CreateTask(ctx context.Context, t *backend.Task) error
	CompleteTask(ctx context.Context, id string, by *backend.User, status backend.TaskStatus, result string) (*backend.Task, error)
}

// AdminReader reads what admins manage, and the team's settings everyone reads
// (backend.AdminStore).
type AdminReader interface {
	ListUsers(ctx context.Context, f backend.UserFilter) ([]*backend.Account, bool, error)
	Invites(ctx context.Context) ([]*backend.Invite, error)
	PasswordReset(ctx context.Context, token string) (userID string, err error)
	Audit(ctx context.Context, before string, limit int) ([]*backend.AuditEntry, bool, error)
	Team(ctx context.Context) (backend.TeamSettings, error)
	TeamIcon(ctx context.Context, size int) ([]byte, int64, error)
}

// AdminWriter changes what admins manage (backend.AdminStore).
type AdminWriter interface {
	SetDeactivated(ctx context.Context, actorID, userID string, deactivated bool) (*backend.User, error)
	SetRole(ctx context.Context, actorID, userID string, role backend.Role) (*backend.User, error)
	UpdateBot(ctx context.Context, botID string, c backend.BotChange) (*backend.User, error)
	RevokeInvite(ctx context.Context, id string) error
	CreatePasswordReset(ctx context.Context, token, userID string, expiresAt time.Time) error
	UsePasswordReset(ctx context.Context, token, hash string) (userID string, err error)
	RecordAudit(ctx context.Context, e backend.AuditEntry) error
	SetTeam(ctx context.Context, t backend.TeamSettings) error
	SetTeamIcon(ctx context.Context, images [][]byte) (backend.TeamSettings, error)
}
