package backend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// EventType names what an Event says. Clients switch on it.
type EventType string

// Event types. Durable ones are stored in the event log and carry an id; the rest are ephemeral.
const (
	EventNewMessage EventType = "NEW_MESSAGE"
	// EventChatUpdated carries a chat's new state to its members: {chatId, chat}. A chat was
	// created, renamed, archived, its topic, owners or members changed.
	EventChatUpdated EventType = "CHAT_UPDATED"
	// EventChatMemberAdded and EventChatMemberRemoved say who joined or left a chat: {chatId,
	// userId}, to the members after the change and the one added or removed. A chat stream of
	// the removed member ends with EventChatMemberRemoved as its last frame.
	EventChatMemberAdded   EventType = "CHAT_MEMBER_ADDED"
	EventChatMemberRemoved EventType = "CHAT_MEMBER_REMOVED"
	// EventChatHidden tells a user's devices that they hid a DM (leaving one hides it): {chatId}.
	// Personal and durable; a new message in the DM shows it again.
	EventChatHidden         EventType = "CHAT_HIDDEN"
	EventTaskCompleted      EventType = "TASK_COMPLETED"
	EventAgentStatusChanged EventType = "AGENT_STATUS_CHANGED"
	EventSystemNotification EventType = "SYSTEM_NOTIFICATION"
	// EventMention goes to a member named as @username in a message: {chatId, message,
	// notification}.
	EventMention       EventType = "MENTION"
	EventFileProcessed EventType = "FILE_PROCESSED"
	// EventPreferencesChanged goes to every stream of the user whose preferences changed, so
	// all their devices apply the new settings at once.
	EventPreferencesChanged EventType = "PREFERENCES_CHANGED"
	// EventNotification carries one recipient's notification where the event it is about is
	// shared by many (a NEW_MESSAGE, a bot's AGENT_STATUS_CHANGED): {chatId?, notification}. It is
	// personal, so each member gets their own decision without re-encoding the shared frame.
	EventNotification EventType = "NOTIFICATION"

	// EventMessageUpdated carries a message's new state — an edit, a reaction, a pin, a reply
	// that changed its thread's counts: {chatId, message}.
	EventMessageUpdated EventType = "MESSAGE_UPDATED"
	// EventMessageDeleted says a message was deleted: {chatId, messageId, parentId?}. Every logged
	// event that carried its content now carries its tombstone instead.
	EventMessageDeleted EventType = "MESSAGE_DELETED"
	// EventReadMarker goes to every stream of a user who read a chat up to messageId, so that
	// their other devices clear the badge: {chatId, messageId}.
	EventReadMarker EventType = "READ_MARKER"
	// EventUserUpdated carries a user's new public state (profile, status line, avatar, role,
	// deactivation) to the user and everyone who shares a chat with them: {user}.
	EventUserUpdated EventType = "USER_UPDATED"
	// EventTeamUpdated carries the team's new settings to everyone: {team}.
	EventTeamUpdated EventType = "TEAM_UPDATED"

	// EventMonitorTick carries the health monitor's totals to the admins watching the
	// dashboard, every 2 s: {monitor}. Ephemeral and personal.
	EventMonitorTick EventType = "MONITOR_TICK"

	EventTyping             EventType = "TYPING"
	EventFileUploadProgress EventType = "FILE_UPLOAD_PROGRESS"
	// EventResync tells a resuming client that the log cannot fill its gap: refetch over REST. Its
	// frame carries the id of the newest event in the log (when there is one) so that the client's
	// next resume starts from there.
	EventResync EventType = "RESYNC"
	// EventSessionEnded is the last frame of every stream of a session that ended (logout,
	// expiry, password change, revocation): {reason}. The stream closes after it; reconnecting
	// with the same credentials answers 401. It is ephemeral: the store hands it to the
	// broker after the commit that ended the sessions, and the broker ends their streams.
	EventSessionEnded EventType = "SESSION_ENDED"
)

// Durable reports whether events of this type are written to the event log before fan-out,
// carry an id, and are replayed on resume.
func (t EventType) Durable() bool {
	switch t {
	case EventTyping, EventFileUploadProgress, EventResync, EventSessionEnded, EventMonitorTick:
		return false
	}
	return true
}

// Event is one thing that happened, as every stream carries it: its JSON form (Data) is the data
// of one SSE frame, which httpapi writes. An Event is immutable once sealed and then shared by
// every subscriber it is fanned out to; its JSON is encoded once.
type Event struct {
	// ID is a ULID for durable events, strictly increasing across the server in commit order; ""
	// for ephemeral events.
	ID     string    `json:"id,omitempty"`
	Type   EventType `json:"type"`
	ChatID string    `json:"chatId,omitempty"`
	// UserID is who acted, where the type needs it (TYPING), or whom a CHAT_MEMBER_* is about.
	UserID  string   `json:"userId,omitempty"`
	Message *Message `json:"message,omitempty"`
	// MessageID names the message of MESSAGE_DELETED and READ_MARKER.
	MessageID string `json:"messageId,omitempty"`
	// ParentID is the thread a MESSAGE_DELETED reply or a TYPING in a thread belongs to.
	ParentID string `json:"parentId,omitempty"`
	Chat     *Chat  `json:"chat,omitempty"`
	// Preferences travel in PREFERENCES_CHANGED.
	Preferences *Preferences `json:"preferences,omitempty"`
	// File travels in FILE_PROCESSED.
	File *File `json:"file,omitempty"`
	// Upload travels in FILE_UPLOAD_PROGRESS.
	Upload *UploadProgress `json:"upload,omitempty"`
	// Task travels in TASK_COMPLETED.
	Task *Task `json:"task,omitempty"`
	// Notification travels in personal events meant to notify (SYSTEM_NOTIFICATION, …), with
	// the recipient's decision.
	Notification *Notification `json:"notification,omitempty"`
	// Agent and Status travel in AGENT_STATUS_CHANGED.
	Agent  *Agent      `json:"agent,omitempty"`
	Status AgentStatus `json:"status,omitempty"`
	// User travels in USER_UPDATED.
	User *User `json:"user,omitempty"`
	// Team travels in TEAM_UPDATED.
	Team *TeamSettings `json:"team,omitempty"`
	// Reason travels in SESSION_ENDED (backend.Session* constants).
	Reason string `json:"reason,omitempty"`
	// Monitor travels in MONITOR_TICK: the health monitor's totals (monitor.Totals, encoded).
	Monitor   json.RawMessage `json:"monitor,omitempty"`
	Timestamp int64           `json:"timestamp"` // Unix ms

	// PublishedAt is when the broker received the event to fan out (Unix ns; 0 for events read
	// back from the log): the health monitor's fan-out latency runs from it to the socket write.
	// Set once by the broker before the event is shared.
	PublishedAt int64 `json:"-"`

	// Personal events are addressed to Recipients themselves (notification streams carry only
	// these); other events with a ChatID belong to that chat's stream.
	Personal bool `json:"-"`
	// Recipients are the users whose /api/stream carries the event: the chat's members for a chat
	// event (as of the commit, or as of the read when it comes from the log), the addressees of a
	// personal event. For ephemeral chat events the publisher fills in the members too.
	Recipients []string `json:"-"`
	// Sessions are the ids of the sessions a SESSION_ENDED ends: the broker closes their streams.
	Sessions []string `json:"-"`

	// data is the sealed JSON, owned by the event: never a caller's buffer, never written after
	// Seal or a decode set it.
	data []byte
}

// Seal encodes the event's JSON once. It must be called, by the one goroutine that owns the
// event, before the event is shared; sealing twice is a no-op.
func (e *Event) Seal() error {
	if e.data != nil {
		return nil
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", e.Type, err)
	}
	e.data = data
	return nil
}

// Unsealed returns a copy of e that is not sealed yet, for a store that rewrites a logged event
// (erasing a deleted message); e itself stays as it is.
func (e *Event) Unsealed() *Event {
	c := *e
	c.data = nil
	return &c
}

// Data is the event's JSON object, nil before Seal. It is shared by every holder of the event:
// read it, never write it.
func (e *Event) Data() []byte { return e.data }

// DecodeEvent rebuilds a sealed Event from the JSON that Data returned; it keeps a copy of data,
// so the caller may reuse its buffer. Routing fields (Personal, Recipients) are not part of the
// JSON; the caller restores them.
func DecodeEvent(data []byte) (*Event, error) {
	e := new(Event)
	if err := json.Unmarshal(data, e); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	e.data = bytes.Clone(data)
	return e, nil
}

// DecodeEventHead rebuilds a sealed Event from the JSON that Data returned, decoding only its id
// and type: a replay writes the JSON as it was sealed and needs nothing else, so the payload
// (message, chat, …) is left undecoded and its fields stay empty. Routing fields are the
// caller's, as for DecodeEvent.
func DecodeEventHead(data []byte) (*Event, error) {
	e := new(Event)
	if id, typ, ok := eventHead(data); ok {
		e.ID, e.Type = id, EventType(typ)
	} else {
		var head struct {
			ID   string    `json:"id"`
			Type EventType `json:"type"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			return nil, fmt.Errorf("decode event: %w", err)
		}
		e.ID, e.Type = head.ID, head.Type
	}
	e.data = bytes.Clone(data)
	return e, nil
}

// eventHead reads id and type from the start of a sealed event's JSON, which Seal writes in
// field order as {"id":"…","type":"…", with neither needing escapes. ok is false for anything
// else (the caller decodes properly).
func eventHead(data []byte) (id, typ string, ok bool) {
	const idKey, typeKey = `{"id":"`, `","type":"`
	rest, found := bytes.CutPrefix(data, []byte(idKey))
	if !found {
		return "", "", false
	}
	i := bytes.IndexByte(rest, '"')
	if i <= 0 || bytes.IndexByte(rest[:i], '\\') >= 0 {
		return "", "", false
	}
	id, rest = string(rest[:i]), rest[i:]
	if rest, found = bytes.CutPrefix(rest, []byte(typeKey)); !found {
		return "", "", false
	}
	j := bytes.IndexByte(rest, '"')
	if j <= 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		return "", "", false
	}
	return id, string(rest[:j]), true
}

// ScopeKind is which of the three streams a subscription is.
type ScopeKind int

const (
	// ScopeUser is /api/stream: every chat the user belongs to plus their personal events.
	ScopeUser ScopeKind = iota
	// ScopeChat is /api/chat/{chatId}/stream: the chat's events (not personal ones).
	// Like every stream it carries only events the subscriber is a recipient of (a TYPING event
	// is not echoed to the typer).
	ScopeChat
	// ScopeNotifications is /api/notifications/{userId}/stream: the user's personal events.
	ScopeNotifications
)

// Scope is what one stream carries. Authorization happens before a scope is built.
type Scope struct {
	Kind   ScopeKind
	UserID string // the subscriber
	ChatID string // ScopeChat only
	// SessionID is the session the stream is opened with (Session.ID): SESSION_ENDED for it ends
	// the stream. "" for streams tied to no session.
	SessionID string
}

// Matches reports whether the stream of this scope carries ev.
func (s Scope) Matches(ev *Event) bool {
	switch s.Kind {
	case ScopeChat:
		return !ev.Personal && ev.ChatID == s.ChatID && slices.Contains(ev.Recipients, s.UserID)
	case ScopeNotifications:
		return ev.Personal && slices.Contains(ev.Recipients, s.UserID)
	default:
		return slices.Contains(ev.Recipients, s.UserID)
	}
}
