package httpapi

import (
	"context"
	"net/http"
	"slices"

	"github.com/herald-chat/herald/backend"
)

// memberChat returns the chat named by the request's {chatId} if u belongs to it: 400 for a
// malformed id, 404 for an unknown chat, 403 for a non-member.
func (h *Handler) memberChat(r *http.Request, u *backend.User) (*backend.Chat, error) {
	id := r.PathValue("chatId")
	if err := validID("chatId", id); err != nil {
		return nil, err
	}
	chat, err := h.reads.Chat(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !chat.HasMember(u.ID) {
		return nil, backend.Errorf(backend.EFORBIDDEN, "You are not a member of this chat.")
	}
	return chat, nil
}

func (h *Handler) listChats(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	chats, err := h.reads.ChatsOf(r.Context(), u.ID)
	if err != nil {
		return err
	}
	// A DM the user hid is left out until its next message (search still covers it).
	chats = slices.DeleteFunc(chats, func(c *backend.ChatSummary) bool { return c.Hidden })
	if chats == nil {
		chats = []*backend.ChatSummary{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"chats": chats})
	return nil
}

func (h *Handler) createChat(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		Name      string           `json:"name"`
		Kind      backend.ChatKind `json:"kind"`
		Topic     string           `json:"topic"`
		MemberIDs []string         `json:"memberIds"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	name, err := validText("name", req.Name, backend.MaxChatNameLen, false)
	if err != nil {
		return err
	}
	topic, err := validText("topic", req.Topic, backend.MaxTopicLen, true)
	if err != nil {
		return err
	}
	switch req.Kind {
	case "":
		req.Kind = backend.ChatPrivate // what clients from before kinds create
	case backend.ChatChannel, backend.ChatPrivate:
	default:
		return backend.Errorf(backend.EINVALID, "kind must be %q or %q; a DM is made with POST /api/dms.", backend.ChatChannel, backend.ChatPrivate)
	}
	if len(req.MemberIDs) >= backend.MaxChatMembers {
		return backend.Errorf(backend.EINVALID, "A chat has at most %d members.", backend.MaxChatMembers)
	}
	for _, id := range req.MemberIDs {
		if err := validID("memberIds", id); err != nil {
			return err
		}
	}
	if req.Kind == backend.ChatChannel {
		team, err := h.reads.Team(r.Context())
		if err != nil {
			return err
		}
		if !backend.MayCreateChannel(team, u) {
			return backend.Errorf(backend.EFORBIDDEN, "Only admins may create channels on this team; ask one, or create a private chat.")
		}
	}
	if _, err := h.takeChatLimit(w, u); err != nil {
		return err
	}
	chat := &backend.Chat{Name: name, Kind: req.Kind, Topic: topic, CreatedBy: u.ID, MemberIDs: req.MemberIDs}
	if err := h.writes.CreateChat(r.Context(), chat); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"chat": chat})
	return nil
}

func (h *Handler) getChat(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	chat, err := h.memberChat(r, u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"chat": chat})
	return nil
}

// addMember answers POST /api/chats/{chatId}/members {userId} (who may: backend.MayAddMember).
func (h *Handler) addMember(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		UserID string `json:"userId"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	if err := validID("userId", req.UserID); err != nil {
		return err
	}
	id, err := pathChatID(r)
	if err != nil {
		return err
	}
	if _, err := h.takeChatLimit(w, u); err != nil {
		return err
	}
	chat, err := h.writes.AddMember(r.Context(), id, u.ID, req.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"chat": chat})
	return nil
}

func (h *Handler) listMessages(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	page, err := messagePage(r)
	if err != nil {
		return err
	}
	around := r.URL.Query().Get("around")
	if around != "" {
		if err := validID("around", around); err != nil {
			return err
		}
		if page.Before != "" || page.After != "" {
			return backend.Errorf(backend.EINVALID, "around goes without before and after.")
		}
	}
	chat, err := h.memberChat(r, u)
	if err != nil {
		return err
	}
	if around != "" {
		msgs, older, newer, err := h.reads.MessagesAround(r.Context(), chat.ID, around, page.Limit)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"messages": msgs, "hasMore": older, "hasMoreAfter": newer})
		return nil
	}
	msgs, hasMore, err := h.reads.Messages(r.Context(), chat.ID, page)
	if err != nil {
		return err
	}
	if msgs == nil {
		msgs = []*backend.Message{}
	}
	n := writeJSON(w, http.StatusOK, map[string]any{"messages": msgs, "hasMore": hasMore})
	h.cfg.Monitor.ObservePoll(n) // what a polling client would fetch each time
	return nil
}

func (h *Handler) postMessage(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		Content    string `json:"content"`
		ClientID   string `json:"clientId"`
		ParentID   string `json:"parentId"`
		AlsoToChat bool   `json:"alsoToChat"`
		// NotifyAnyway asks to notify recipients during their do-not-disturb and quiet hours;
		// each recipient's preferences decide (backend.Message.NotifyAnyway).
		NotifyAnyway bool `json:"notifyAnyway"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	content, err := checkText("content", req.Content, backend.MaxContentLen, false, true)
	if err != nil {
		return err
	}
	if err := validClientID(req.ClientID); err != nil {
		return err
	}
	if req.ParentID != "" {
		if err := validID("parentId", req.ParentID); err != nil {
			return err
		}
	} else if req.AlsoToChat {
		return backend.Errorf(backend.EINVALID, "alsoToChat is for replies: it needs a parentId.")
	}
	chatID := r.PathValue("chatId")
	if err := validID("chatId", chatID); err != nil {
		return err
	}
	// The limit is taken after validation (a malformed post costs nothing) and before the
	// store, so that a refused post queues no write. A retry of a stored message gives its token
	// back, and one refused by the limit is still answered with the message (sentMessages):
	// a client resending its outbox after a reconnect is never told to wait for what it sent.
	giveBack, ok, wait := h.messageLimit.take(u.ID)
	if !ok {
		if msg := h.sentMessage(r, chatID, u.ID, req.ClientID); msg != nil {
			writeJSON(w, http.StatusOK, map[string]any{"message": msg})
			return nil
		}
		return tooManyBecause(w, wait, "You are sending messages too fast")
	}
	msg, created, err := h.writes.PostMessage(r.Context(), &backend.Message{
		ChatID: chatID, AuthorID: u.ID, Content: content, ClientID: req.ClientID, ParentID: req.ParentID, AlsoToChat: req.AlsoToChat,
		NotifyAnyway: req.NotifyAnyway,
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	} else {
		giveBack()
	}
	writeJSON(w, status, map[string]any{"message": msg})
	return nil
}

// sentMessages finds a message already stored under its author's clientId without a write; the
// bolt store implements it. A store without it makes a retry beyond the limit wait like any post.
type sentMessages interface {
	MessageByClientID(ctx context.Context, chatID, authorID, clientID string) (*backend.Message, error)
}

// sentMessage is the message authorID already posted in chatID with clientID, or nil.
func (h *Handler) sentMessage(r *http.Request, chatID, authorID, clientID string) *backend.Message {
	finder, ok := h.reads.(sentMessages)
	if clientID == "" || !ok {
		return nil
	}
	msg, err := finder.MessageByClientID(r.Context(), chatID, authorID, clientID)
	if err != nil {
		return nil // ENOTFOUND: a new post, refused by the limit
	}
	return msg
}

// typing tells the chat's other members that u is typing: an ephemeral TYPING event, never
// stored. Clients send it at most every few seconds while the user types.
func (h *Handler) typing(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		ParentID string `json:"parentId"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, true); err != nil {
		return err
	}
	if req.ParentID != "" {
		if err := validID("parentId", req.ParentID); err != nil {
			return err
		}
	}
	chat, err := h.memberChat(r, u)
	if err != nil {
		return err
	}
	if err := backend.CheckWritable(chat); err != nil {
		return err
	}
	if ok, wait := h.typingLimit.allow(u.ID); !ok {
		return tooMany(w, wait)
	}
	if req.ParentID != "" {
		if _, err := h.reads.Message(r.Context(), chat.ID, req.ParentID); err != nil {
			return err
		}
	}
	others := slices.DeleteFunc(slices.Clone(chat.MemberIDs), func(id string) bool { return id == u.ID })
	h.broker.Publish(&backend.Event{
		Type: backend.EventTyping, ChatID: chat.ID, UserID: u.ID, ParentID: req.ParentID, Timestamp: h.now().UnixMilli(),
		Recipients: others,
	})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) markRead(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		MessageID string `json:"messageId"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	if err := validID("messageId", req.MessageID); err != nil {
		return err
	}
	chat, err := h.memberChat(r, u)
	if err != nil {
		return err
	}
	if err := h.writes.MarkRead(r.Context(), u.ID, chat.ID, req.MessageID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
