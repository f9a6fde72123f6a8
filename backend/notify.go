package backend

import "fmt"

// Who a message notifies, and what they are told. These are the rules every store applies in the
// transaction that writes the message: the store gathers the facts (the chat, the thread's
// followers, which accounts are quiet), calls PostRecipients or EditRecipients, and for each
// Recipient records MessageNotification's note with that member's own Preferences.Decide.

// MessageNotifyLimit is the largest chat (in members) whose every message notifies each member.
// In larger chats only mentions and replies to followed threads do: a message there would
// otherwise write one history entry and one event per member, and nobody wants a toast per
// message in a 500-person channel.
const MessageNotifyLimit = 100

// MessageSummaryLen is how much of a message (in characters) the body of a notification about it
// shows; a longer message is cut with an ellipsis.
const MessageSummaryLen = 280

// Recipient is one member a message notifies, and as what: KindMention, KindReply or KindMessage.
type Recipient struct {
	UserID string
	Kind   NotificationKind
}

// MessageAudience is what PostRecipients needs to know about a message just posted. The store
// fills it inside the transaction that writes the message; the funcs are called only while
// PostRecipients runs.
type MessageAudience struct {
	Chat *Chat
	// Message is the message as stored: its ID, AuthorID, ParentID, AlsoToChat and Content count.
	Message *Message
	// Parent is the top-level message a reply answers; nil for a top-level message.
	Parent *Message
	// Followers are the users who follow Parent's thread (posting the reply makes its author and
	// the parent's author followers: they may be in it or not). Ignored without a Parent.
	Followers []string
	// UserID resolves a username as Mentions returns it (lower case) to its account's id, "" when
	// no account has it.
	UserID func(username string) string
	// Quiet reports whether an account gets no notifications but mentions: a bot or a deactivated
	// account. Its error ends PostRecipients, which returns it as is.
	Quiet func(userID string) (bool, error)
}

// PostRecipients decides who a new message notifies, each member at most once and never its
// author, in the order the notifications are to be recorded:
//
//  1. KindMention to each member named as @username (Mentions), in order of first mention — bots
//     and deactivated accounts included, since naming one is calling it;
//  2. for a reply, KindReply to the thread's other followers who are still members;
//  3. for a message in the chat's history (top-level, or a reply also sent to the chat) in a chat
//     of at most MessageNotifyLimit members, KindMessage to every other member.
//
// Quiet accounts get only mentions; names of non-members and unknown names get nothing. The
// result is nil when nobody is notified; it holds at most one entry per member, and allocating
// it is the only allocation PostRecipients makes besides Mentions'.
func PostRecipients(a MessageAudience) ([]Recipient, error) {
	chat, msg := a.Chat, a.Message
	names := Mentions(msg.Content)
	everyone := (a.Parent == nil || msg.AlsoToChat) && len(chat.MemberIDs) <= MessageNotifyLimit
	size := len(names)
	if a.Parent != nil {
		size += len(a.Followers)
	}
	if everyone {
		size = len(chat.MemberIDs)
	}
	size = min(size, len(chat.MemberIDs)) // every recipient is a member, once
	if size == 0 {
		return nil, nil
	}
	rs := appendMentions(make([]Recipient, 0, size), chat, msg.AuthorID, names, a.UserID)
	var err error
	if a.Parent != nil {
		if rs, err = appendUnlessQuiet(rs, chat, msg.AuthorID, a.Followers, KindReply, a.Quiet, true); err != nil {
			return nil, err
		}
	}
	if everyone {
		if rs, err = appendUnlessQuiet(rs, chat, msg.AuthorID, chat.MemberIDs, KindMessage, a.Quiet, false); err != nil {
			return nil, err
		}
	}
	if len(rs) == 0 {
		return nil, nil
	}
	return rs, nil
}

// EditRecipients decides who an edit of msg notifies: KindMention to each member named in its
// new content but not in before (AddedMentions), as PostRecipients would for them. Nobody else
// hears of an edit, and a name already mentioned before is not notified twice. userID is as in
// MessageAudience. The result is nil when nobody is notified.
func EditRecipients(chat *Chat, msg *Message, before string, userID func(username string) string) []Recipient {
	names := AddedMentions(before, msg.Content)
	if len(names) == 0 {
		return nil
	}
	rs := appendMentions(make([]Recipient, 0, min(len(names), len(chat.MemberIDs))), chat, msg.AuthorID, names, userID)
	if len(rs) == 0 {
		return nil
	}
	return rs
}

// appendMentions appends KindMention for each of names that is a member other than authorID.
func appendMentions(rs []Recipient, chat *Chat, authorID string, names []string, userID func(string) string) []Recipient {
	for _, name := range names {
		id := userID(name)
		if id == "" || id == authorID || notified(rs, id) || !chat.HasMember(id) {
			continue
		}
		rs = append(rs, Recipient{UserID: id, Kind: KindMention})
	}
	return rs
}

// appendUnlessQuiet appends kind for each of ids (distinct ids) other than authorID who is not
// in rs yet, not quiet and, when checkMember, a member of chat. quiet is asked only about those
// who pass the first two tests.
func appendUnlessQuiet(rs []Recipient, chat *Chat, authorID string, ids []string, kind NotificationKind,
	quiet func(string) (bool, error), checkMember bool) ([]Recipient, error) {
	before := rs // ids are distinct: only those notified before need looking at, not ids' own
	for _, id := range ids {
		if id == authorID || notified(before, id) {
			continue
		}
		q, err := quiet(id)
		if err != nil {
			return nil, err
		}
		if q || checkMember && !chat.HasMember(id) {
			continue
		}
		rs = append(rs, Recipient{UserID: id, Kind: kind})
	}
	return rs, nil
}

// notified reports whether rs holds id. A linear scan: before the members of a chat are added as
// KindMessage, rs holds the few mentioned and followers, and scanning them costs less than
// building a set would.
func notified(rs []Recipient, id string) bool {
	for _, r := range rs {
		if r.UserID == id {
			return true
		}
	}
	return false
}

// MessageNote is what every recipient of one kind is told about one message: the store records
// Notification (after filling in its ID, CreatedAt and the recipient's Decision) and delivers it in
// a personal event of type Event, deciding with Notice.
type MessageNote struct {
	// Event is EventMention for a mention, whose event also carries the message, and
	// EventNotification for the other kinds.
	Event        EventType
	Notification Notification
	Notice       Notice
}

// MessageNotification is what a recipient of kind (KindMention, KindReply or KindMessage) is told
// about msg, posted in chat by authorName (their display name): a title that names the author and
// the chat (ChatLabel), the message's first MessageSummaryLen characters as the body, a link that
// opens it (messageLink), and the ids that let deleting the message remove the notification and
// reading the chat or thread mark it read. ParentID is set for a mention and a reply in a thread;
// a KindMessage notification is about the chat's history and has none. The Notice carries the
// message's NotifyAnyway and what breaking through needs for kind in chat (BreakThroughNeeded).
func MessageNotification(kind NotificationKind, chat *Chat, msg *Message, authorName string) MessageNote {
	var title, parentID string
	event := EventNotification
	switch kind {
	case KindMention:
		title, parentID, event = fmt.Sprintf("%s mentioned you in %s", authorName, ChatLabel(chat)), msg.ParentID, EventMention
	case KindReply:
		title, parentID = fmt.Sprintf("%s replied in %s", authorName, ChatLabel(chat)), msg.ParentID
	default:
		title = fmt.Sprintf("%s in %s", authorName, ChatLabel(chat))
	}
	return MessageNote{
		Event: event,
		Notification: Notification{Type: kind, Title: title, Body: cut(msg.Content, MessageSummaryLen), Link: messageLink(msg),
			ChatID: chat.ID, MessageID: msg.ID, ParentID: parentID, ActorID: msg.AuthorID},
		Notice: Notice{Kind: kind, ChatID: chat.ID, ChatName: chat.Name, NotifyAnyway: msg.NotifyAnyway,
			BreakThrough: BreakThroughNeeded(chat, kind), ActorName: authorName},
	}
}

// messageLink is the web client's path to m: its chat opened at it, and for a reply its thread.
func messageLink(m *Message) string {
	link := "/chats/" + m.ChatID + "?message=" + m.ID
	if m.ParentID != "" {
		link += "&thread=" + m.ParentID
	}
	return link
}

// FileProcessedNotification is what a file's uploader is told when processing it ends: "NAME is
// ready", or "NAME could not be processed" with the reason (File.Error) as the body. The link
// opens the chat it was uploaded to.
func FileProcessedNotification(f *File) Notification {
	title := f.Name + " is ready"
	if f.Status != FileReady {
		title = f.Name + " could not be processed"
	}
	return Notification{Type: KindFile, Title: title, Body: f.Error, Link: "/chats/" + f.ChatID, ChatID: f.ChatID}
}

// AgentStatusNotification is what a bot's status change tells the people who share a chat with
// it: "NAME is STATUS". The store sends it to each of them but quiet accounts; a person's own
// presence notifies nobody.
func AgentStatusNotification(bot *User, status AgentStatus) Notification {
	return Notification{Type: KindAgent, Title: fmt.Sprintf("%s is %s", bot.DisplayName, status), ActorID: bot.ID}
}
