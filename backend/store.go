package backend

import (
	"context"
	"time"
)

// UserStore keeps accounts, sessions and invites.
type UserStore interface {
	// CreateBot stores a bot (u.Kind = AgentBot, no password) with a new ID. A taken username is
	// ECONFLICT.
	CreateBot(ctx context.Context, u *User) error
	// CreateUser stores u with a new ID. On an empty server u becomes admin and inviteCode is
	// ignored; otherwise inviteCode must be a valid invite with a use left (EFORBIDDEN), and this
	// call takes one of its uses. A taken username is ECONFLICT, checked only after the invite (so that names
	// cannot be probed without one) and leaving the invite unused.
	CreateUser(ctx context.Context, u *User, inviteCode string) error
	// User returns the user with that id (ENOTFOUND).
	User(ctx context.Context, id string) (*User, error)
	// UserByUsername returns the user with that username (ENOTFOUND).
	UserByUsername(ctx context.Context, username string) (*User, error)
	// Users returns every user ordered by id (registration order).
	Users(ctx context.Context) ([]*User, error)

	// CreateSession stores a session for token. Only the token's SHA-256 is stored.
	CreateSession(ctx context.Context, token string, s Session) error
	// Session returns the session of token (ENOTFOUND, also once it has expired).
	Session(ctx context.Context, token string) (*Session, error)
	// SessionUser is Session and the session's user, read together in one transaction (what
	// every authenticated request needs): ENOTFOUND for an unknown or expired session, or a
	// session whose user is gone.
	SessionUser(ctx context.Context, token string) (*Session, *User, error)
	// DeleteSession ends the session of token (its streams get SESSION_ENDED with reason and
	// close); ending an unknown one is no error.
	DeleteSession(ctx context.Context, token, reason string) error
	// Sessions returns userID's sessions that have not expired, oldest first.
	Sessions(ctx context.Context, userID string) ([]*Session, error)
	// EndSessions ends every session of userID except the one of exceptToken ("" ends all), in
	// one commit, and their streams with SESSION_ENDED {reason}. It returns how many ended.
	EndSessions(ctx context.Context, userID, exceptToken, reason string) (int, error)
	// SetPassword replaces userID's password hash and, in the same commit, ends every other
	// session of the user than the one of keepToken (SESSION_ENDED password_changed).
	SetPassword(ctx context.Context, userID, hash, keepToken string) error

	// CreateInvite stores an invite. Only its code's SHA-256 is stored.
	CreateInvite(ctx context.Context, inv Invite) error

	// SetStatus records userID's presence. When it changes, it emits AGENT_STATUS_CHANGED to
	// everyone who shares a chat with the user (and the user), and reports changed.
	SetStatus(ctx context.Context, userID string, status AgentStatus) (changed bool, err error)
}

// ChatStore keeps chats, their messages and members' read markers. Its writes that others must
// see (a new message, a new chat, a new member) commit a durable Event and hand it to the
// Publisher after the commit, in commit order.
type ChatStore interface {
	// CreateChat stores c with a new ID; c.CreatedBy is a member and its owner. c.Kind is
	// ChatChannel or ChatPrivate ("" is private); a name another channel or private chat holds
	// in any letter case is ECONFLICT. Emits CHAT_UPDATED.
	CreateChat(ctx context.Context, c *Chat) error
	// AddMember adds userID (ENOTFOUND if unknown) to the chat. actorID must be allowed to
	// (MayAddMember). Adding an existing member changes nothing and emits nothing; otherwise it
	// emits CHAT_UPDATED and CHAT_MEMBER_ADDED.
	AddMember(ctx context.Context, chatID, actorID, userID string) (*Chat, error)
	// Chat returns the chat (ENOTFOUND).
	Chat(ctx context.Context, id string) (*Chat, error)
	// ChatsOf returns the chats userID belongs to, ordered by id, with unread counts.
	ChatsOf(ctx context.Context, userID string) ([]*ChatSummary, error)

	// PostMessage commits m (ID and CreatedAt are assigned) and its NEW_MESSAGE event. The author
	// must be a member (EFORBIDDEN). When the author already posted m.ClientID in this chat, it
	// returns that earlier message and created=false, and emits nothing.
	//
	// With m.ParentID the message is a reply: the parent must be a top-level message of the chat
	// (ENOTFOUND, EINVALID for a reply, ECONFLICT once deleted). The reply's author follows the
	// thread; the parent's new counts go out as MESSAGE_UPDATED; the thread's other followers get
	// a NOTIFICATION of kind reply. A reply is in the chat's history only with m.AlsoToChat.
	PostMessage(ctx context.Context, m *Message) (msg *Message, created bool, err error)
	// Message returns one message of the chat, a reply or a tombstone too (ENOTFOUND).
	Message(ctx context.Context, chatID, messageID string) (*Message, error)
	// Messages returns a page of the chat's history in id order (see MessagePage): its top-level
	// messages, tombstones and replies sent also to the chat.
	Messages(ctx context.Context, chatID string, page MessagePage) ([]*Message, bool, error)
	// MessagesAround returns up to limit messages of the chat's history centred on messageID
	// (on its parent for a reply that is only in its thread), and whether older and newer ones
	// exist. An unknown message is ENOTFOUND.
	MessagesAround(ctx context.Context, chatID, messageID string, limit int) (msgs []*Message, older, newer bool, err error)
	// Replies returns a page of a thread's replies in id order (ENOTFOUND for an unknown parent).
	Replies(ctx context.Context, chatID, parentID string, page MessagePage) ([]*Message, bool, error)
	// EditMessage replaces the content of a message (MayEdit) and sets EditedAt, emits
	// MESSAGE_UPDATED and a MENTION to each member the edit newly names. Unchanged content
	// changes nothing and emits nothing.
	EditMessage(ctx context.Context, chatID, messageID, userID, content string) (*Message, error)
	// DeleteMessage turns the message into its tombstone (MayDelete) and erases its content
	// from every record that held it: the message, its attachment's record, its pin, the logged
	// events that carried it (they carry the tombstone now) and the notifications about it. It
	// emits MESSAGE_DELETED (and MESSAGE_UPDATED for a reply's parent) and returns the
	// attachment's file id, whose bytes the caller removes, "" when none. Deleting a tombstone
	// changes nothing.
	DeleteMessage(ctx context.Context, chatID, messageID string, by *User) (fileID string, err error)
	// React adds (on) or removes userID's reaction (backend.React) and emits MESSAGE_UPDATED
	// when that changed the message.
	React(ctx context.Context, chatID, messageID, userID, emoji string, on bool) (*Message, error)
	// Pin pins (on) or unpins a message of the chat (at most MaxPins pinned, ECONFLICT; a
	// tombstone cannot be pinned, ECONFLICT) and emits MESSAGE_UPDATED when that changed it.
	Pin(ctx context.Context, chatID, messageID, userID string, on bool) (*Message, error)
	// Pins returns the chat's pinned messages, most recently pinned first.
	Pins(ctx context.Context, chatID string) ([]*Message, error)
	// MarkRead moves userID's read marker in the chat forward to messageID (never backward): it
	// emits READ_MARKER to the user and marks read their notifications about the chat's messages
	// up to it. Moving nowhere changes nothing and emits nothing.
	MarkRead(ctx context.Context, userID, chatID, messageID string) error
}

// PreferenceStore keeps each user's notification preferences.
type PreferenceStore interface {
	// Preferences returns the user's preferences, DefaultPreferences() if they never set any.
	Preferences(ctx context.Context, userID string) (Preferences, error)
	// SetPreferences replaces the user's preferences (validated by the caller) and emits
	// PREFERENCES_CHANGED to the user.
	SetPreferences(ctx context.Context, userID string, p Preferences) error
}

// NotificationStore keeps each user's notification history.
type NotificationStore interface {
	// SendSystemNotification records n for each of userIDs (every person when empty: bots get
	// none), decides per recipient with their preferences, and emits one SYSTEM_NOTIFICATION
	// per recipient. An unknown user id is ENOTFOUND and nothing is sent. It returns the
	// recipients' count.
	SendSystemNotification(ctx context.Context, n Notification, userIDs []string) (int, error)
	// Notifications returns a page of userID's history, newest first, and whether older
	// entries match too.
	Notifications(ctx context.Context, userID string, f NotificationFilter) ([]*Notification, bool, error)
	// MarkNotifications sets read on the given entries (unknown ids are ignored), or on all of
	// them when ids is nil.
	MarkNotifications(ctx context.Context, userID string, ids []string, read bool) error
	// ClearNotifications deletes userID's history.
	ClearNotifications(ctx context.Context, userID string) error
}

// TaskStore keeps tasks.
type TaskStore interface {
	// CreateTask stores t (ID, Status pending and CreatedAt are assigned). The creator must be
	// allowed to create it for its owner (MayCreateTaskFor, EFORBIDDEN) and the owner must exist
	// (ENOTFOUND); with a ChatID the chat must exist (ENOTFOUND) and the creator belong to it
	// (EFORBIDDEN).
	CreateTask(ctx context.Context, t *Task) error
	// Task returns the task (ENOTFOUND).
	Task(ctx context.Context, id string) (*Task, error)
	// CompleteTask sets the outcome of a pending task (ECONFLICT once completed), records a
	// notification for the owner (TaskCompletedNotification: it names the creator) decided by
	// their preferences, and emits TASK_COMPLETED to them.
	// by must be the creator, the owner or an admin (EFORBIDDEN).
	CompleteTask(ctx context.Context, id string, by *User, status TaskStatus, result string) (*Task, error)
}

// FileStore keeps uploaded files' metadata.
type FileStore interface {
	// CreateFile records an upload (ID, Status processing and CreatedAt are assigned) and counts
	// its size to the uploader's bytes of the day (UploadDay). The uploader must be a member of
	// the chat (EFORBIDDEN).
	CreateFile(ctx context.Context, f *File) error
	// File returns the file (ENOTFOUND).
	File(ctx context.Context, id string) (*File, error)
	// FinishFile stores the outcome of processing, records a notification for the uploader and
	// sends them FILE_PROCESSED; a ready file also becomes a message in its chat.
	FinishFile(ctx context.Context, f *File) error
}

// MessagePage selects messages by id. With After, the page holds the oldest messages after it;
// otherwise the newest messages before Before (or the newest of all). hasMore reports whether
// messages beyond the page exist in the direction of travel.
type MessagePage struct {
	After  string
	Before string
	Limit  int
}

// EventLog is the durable, ordered record of events that streams resume from.
type EventLog interface {
	// EventsAfter returns up to limit durable events with ids greater than afterID, in id order,
	// with Recipients restored. afterID must be an event the log holds: otherwise
	// ErrEventNotFound (never issued, or pruned by retention).
	EventsAfter(ctx context.Context, afterID string, limit int) ([]*Event, error)
	// ScopeEventsAfter returns up to limit (positive) durable events that scope's stream
	// carries with ids greater than afterID, in id order: exactly EventsAfter's events
	// filtered by scope.Matches, read from a per-stream index so that the cost follows the
	// scope's own events, not the whole log. They are for replay: ID, Type and the sealed
	// JSON are set (the payload fields may be left undecoded, a chat event's Recipients
	// unset). Fewer than limit means there are no more. afterID must be an event the log
	// holds: otherwise ErrEventNotFound.
	ScopeEventsAfter(ctx context.Context, scope Scope, afterID string, limit int) ([]*Event, error)
	// LastEventID returns the newest event's id, "" for an empty log.
	LastEventID(ctx context.Context) (string, error)
}

// Store is everything the API needs from storage.
type Store interface {
	UserStore
	ChatStore
	MembershipStore
	PreferenceStore
	NotificationStore
	TaskStore
	FileStore
	EventLog
	AdminStore
	PeopleStore
}

// Publisher receives events to fan out. Publish must not block on slow consumers.
type Publisher interface {
	Publish(events ...*Event)
}

// Broker fans events out to stream subscribers and resumes them from the EventLog.
type Broker interface {
	Publisher
	// Subscribe registers a live subscription for scope at once. When lastEventID is not "", the
	// subscription first replays the logged events after it that scope matches, then switches to
	// live events without a gap or a duplicate; if the log cannot serve lastEventID the first
	// event is a RESYNC. It returns ErrTooManyStreams when scope.UserID already holds the most
	// streams one user may, and ErrClosed once the broker is shutting down.
	Subscribe(scope Scope, lastEventID string) (Subscription, error)
	// Online reports how many /api/stream and notification streams userID holds open.
	Online(userID string) int
	// Stats returns the broker's counters.
	Stats() BrokerStats
}

// BrokerStats are a broker's counters since it started.
type BrokerStats struct {
	Subscribers      int64 `json:"subscribers"`      // streams open now
	Published        int64 `json:"published"`        // events handed to Publish
	Delivered        int64 `json:"delivered"`        // event copies queued for subscribers
	DroppedEphemeral int64 `json:"droppedEphemeral"` // ephemeral events dropped or evicted from full queues
	Overflows        int64 `json:"overflows"`        // streams closed because durable events did not fit
}

// Subscription is one stream's view of the Broker. It is used by one goroutine.
type Subscription interface {
	// Next waits for the next events and returns them in order, appended to buf[:0]. It returns
	// ctx.Err() when ctx ends, ErrOverflow when the subscriber fell behind on durable events,
	// ErrClosed when the broker shuts down, or an error reading the log.
	Next(ctx context.Context, buf []*Event) ([]*Event, error)
	// NextWithin is Next that returns ErrIdle once d passed with nothing to return (the stream
	// then writes a keepalive). Its timer is the subscription's own, re-armed per wait, rather
	// than a context.WithTimeout per event.
	NextWithin(ctx context.Context, buf []*Event, d time.Duration) ([]*Event, error)
	// Done is closed when the broker ends the subscription (overflow or shutdown), so that a
	// writer blocked on a dead or slow connection can be interrupted.
	Done() <-chan struct{}
	// AfterEnd has f run in its own goroutine when Done closes (at once if it has), so that a
	// stream need not keep a goroutine waiting on Done; a later call replaces f. stop cancels
	// it and reports whether it did so before f started.
	AfterEnd(f func()) (stop func() bool)
	// Close unregisters the subscription. Safe to call more than once.
	Close()
}

// DropCounter is a Subscription that counts the ephemeral events it dropped (the hub's do).
type DropCounter interface {
	Dropped() int64
}

// Presence learns when a user's streams open and close; it turns that into their status.
type Presence interface {
	Connected(userID string)
	Disconnected(userID string)
}

// NopPresence ignores streams.
type NopPresence struct{}

func (NopPresence) Connected(string)    {}
func (NopPresence) Disconnected(string) {}

// Clock tells time; tests inject their own.
type Clock func() time.Time
