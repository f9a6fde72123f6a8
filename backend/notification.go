package backend

// SystemLevel is how urgent a system notification is.
type SystemLevel string

const (
	LevelInfo     SystemLevel = "info"
	LevelWarning  SystemLevel = "warning"
	LevelCritical SystemLevel = "critical"
)

// Notification is one entry of a user's notification history: something that was meant to
// notify them, with the server's decision. Its ID is the ID of the event that delivered it.
type Notification struct {
	ID     string           `json:"id"`
	Type   NotificationKind `json:"type"`
	Title  string           `json:"title"`
	Body   string           `json:"body"`
	Link   string           `json:"link,omitempty"` // a path in the web client, e.g. /chats/{id}
	Level  SystemLevel      `json:"level,omitempty"`
	ChatID string           `json:"chatId,omitempty"`
	// ActorID is the person or bot whose action it reports (a message's author, a bot whose status
	// changed, the creator of someone else's task), for the avatar a toast or a native
	// notification shows; "" for system notifications and for one's own files and tasks.
	ActorID string `json:"actorId,omitempty"`
	// MessageID is the message the notification is about (kinds message, mention, reply) and
	// ParentID its thread (kind reply): deleting the message removes the notification, reading
	// the chat (or the thread) marks it read.
	MessageID string `json:"messageId,omitempty"`
	ParentID  string `json:"parentId,omitempty"`
	CreatedAt int64  `json:"createdAt"` // Unix ms
	Read      bool   `json:"read"`
	Decision
}

// NotificationFilter selects a page of a user's history, newest first.
type NotificationFilter struct {
	UnreadOnly bool
	Type       NotificationKind // "" for every type
	Query      string           // case-insensitive substring of title or body
	Before     string           // only entries older than this id
	Limit      int
}

// Limits of notifications.
const (
	MaxNotificationTitleLen = 120  // characters
	MaxNotificationBodyLen  = 2000 // characters
	MaxNotificationIDs      = 500  // ids in one read/unread request
)
