package httpapi

import (
	"net/http"
	"time"

	"github.com/herald-chat/herald/backend"
)

// Defaults of Config.Chats: chat creations, DMs, joins, leaves and membership and settings
// changes per user, together.
const (
	DefaultChatBurst = 30
	DefaultChatEvery = 2 * time.Second
)

// chatLimitFor is Config.Chats with its defaults.
func chatLimitFor(l Limit) Limit { return l.withDefault(Limit{DefaultChatBurst, DefaultChatEvery}) }

// takeChatLimit takes a token of u's chat limit, or answers why not. It is taken after validation
// (a malformed request costs nothing) and before the store, so that a refused one queues no write.
func (h *Handler) takeChatLimit(w http.ResponseWriter, u *backend.User) (giveBack func(), err error) {
	giveBack, ok, wait := h.chatLimit.take(u.ID)
	if !ok {
		return nil, tooManyBecause(w, wait, "You are changing chats too fast")
	}
	return giveBack, nil
}

// pathChatID is the request's {chatId}, validated.
func pathChatID(r *http.Request) (string, error) {
	id := r.PathValue("chatId")
	if err := validID("chatId", id); err != nil {
		return "", err
	}
	return id, nil
}

// createDM answers POST /api/dms {userIds}: the DM of u and userIds, 201 when new, 200 when those
// people already have one.
func (h *Handler) createDM(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		UserIDs []string `json:"userIds"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	if len(req.UserIDs) == 0 || len(req.UserIDs) > backend.MaxDMMembers {
		return backend.Errorf(backend.EINVALID, "userIds names the 1 to %d other people of a direct message.", backend.MaxDMMembers-1)
	}
	for _, id := range req.UserIDs {
		if err := validID("userIds", id); err != nil {
			return err
		}
	}
	giveBack, err := h.takeChatLimit(w, u)
	if err != nil {
		return err
	}
	chat, created, err := h.writes.CreateDM(r.Context(), u.ID, req.UserIDs)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
		giveBack()
	}
	writeJSON(w, status, map[string]any{"chat": chat})
	return nil
}

// browseChannels answers GET /api/chats/browse: every channel that is not archived.
func (h *Handler) browseChannels(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	chans, err := h.reads.BrowseChannels(r.Context(), u.ID)
	if err != nil {
		return err
	}
	if chans == nil {
		chans = []*backend.ChannelInfo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": chans})
	return nil
}

// joinChat answers POST /api/chats/{chatId}/join: u joins a channel; 200 {chat}, also when u was
// in it already.
func (h *Handler) joinChat(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	id, err := pathChatID(r)
	if err != nil {
		return err
	}
	giveBack, err := h.takeChatLimit(w, u)
	if err != nil {
		return err
	}
	chat, joined, err := h.writes.JoinChat(r.Context(), id, u.ID)
	if err != nil {
		return err
	}
	if !joined {
		giveBack()
	}
	writeJSON(w, http.StatusOK, map[string]any{"chat": chat})
	return nil
}

// leaveChat answers POST /api/chats/{chatId}/leave: 204; a DM is hidden instead.
func (h *Handler) leaveChat(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	id, err := pathChatID(r)
	if err != nil {
		return err
	}
	if _, err := h.takeChatLimit(w, u); err != nil {
		return err
	}
	if err := h.writes.LeaveChat(r.Context(), id, u.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeMember answers DELETE /api/chats/{chatId}/members/{userId} (owners and admins): 200
// {chat}, also when userId was no member.
func (h *Handler) removeMember(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	id, err := pathChatID(r)
	if err != nil {
		return err
	}
	userID := r.PathValue("userId")
	if err := validID("userId", userID); err != nil {
		return err
	}
	if _, err := h.takeChatLimit(w, u); err != nil {
		return err
	}
	chat, err := h.writes.RemoveMember(r.Context(), id, u.ID, userID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"chat": chat})
	return nil
}

// patchChat answers PATCH /api/chats/{chatId} {name?, topic?, archived?, ownerIds?}.
func (h *Handler) patchChat(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		Name     *string  `json:"name"`
		Topic    *string  `json:"topic"`
		Archived *bool    `json:"archived"`
		OwnerIDs []string `json:"ownerIds"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	id, err := pathChatID(r)
	if err != nil {
		return err
	}
	ch := backend.ChatChange{Archived: req.Archived, OwnerIDs: req.OwnerIDs}
	if req.Name != nil {
		name, err := validText("name", *req.Name, backend.MaxChatNameLen, false)
		if err != nil {
			return err
		}
		ch.Name = &name
	}
	if req.Topic != nil {
		topic, err := validText("topic", *req.Topic, backend.MaxTopicLen, true)
		if err != nil {
			return err
		}
		ch.Topic = &topic
	}
	if len(req.OwnerIDs) > backend.MaxChatMembers {
		return backend.Errorf(backend.EINVALID, "A chat has at most %d members.", backend.MaxChatMembers)
	}
	for _, oid := range req.OwnerIDs {
		if err := validID("ownerIds", oid); err != nil {
			return err
		}
	}
	if _, err := h.takeChatLimit(w, u); err != nil {
		return err
	}
	chat, err := h.writes.UpdateChat(r.Context(), id, u.ID, ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"chat": chat})
	return nil
}
