package httpapi

import (
	"net/http"
	"time"

	"github.com/herald-chat/herald/backend"
)

// Defaults of Config.Reactions: reactions, pins and deletes per user.
const (
	DefaultReactionBurst = 60
	DefaultReactionRate  = 10 // per second
)

// messageRef reads the request's {chatId} and {messageId}: 400 for a malformed one, then the
// chat as memberChat checks it.
func (h *Handler) messageRef(r *http.Request, u *backend.User) (*backend.Chat, string, error) {
	id := r.PathValue("messageId")
	if err := validID("messageId", id); err != nil {
		return nil, "", err
	}
	chat, err := h.memberChat(r, u)
	if err != nil {
		return nil, "", err
	}
	return chat, id, nil
}

func (h *Handler) editMessage(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		Content *string `json:"content"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	if req.Content == nil {
		return backend.Errorf(backend.EINVALID, "content is required.")
	}
	content, err := checkText("content", *req.Content, backend.MaxContentLen, false, true)
	if err != nil {
		return err
	}
	chat, id, err := h.messageRef(r, u)
	if err != nil {
		return err
	}
	if ok, wait := h.messageLimit.allow(u.ID); !ok {
		return tooManyBecause(w, wait, "You are sending messages too fast")
	}
	msg, err := h.writes.EditMessage(r.Context(), chat.ID, id, u.ID, content)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": msg})
	return nil
}

func (h *Handler) deleteMessage(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	chat, id, err := h.messageRef(r, u)
	if err != nil {
		return err
	}
	if ok, wait := h.reactionLimit.allow(u.ID); !ok {
		return tooMany(w, wait)
	}
	fileID, err := h.writes.DeleteMessage(r.Context(), chat.ID, id, u)
	if err != nil {
		return err
	}
	if fileID != "" && h.cfg.Files != nil {
		// The record is gone: the bytes go now. A crash in between leaves bytes no record
		// names, which nothing serves (and the next start sweeps away).
		if err := h.cfg.Files.Remove(r.Context(), fileID); err != nil {
			h.log.ErrorContext(r.Context(), "removing a deleted message's file", "file", fileID, "err", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listReplies(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	page, err := messagePage(r)
	if err != nil {
		return err
	}
	chat, id, err := h.messageRef(r, u)
	if err != nil {
		return err
	}
	msgs, hasMore, err := h.reads.Replies(r.Context(), chat.ID, id, page)
	if err != nil {
		return err
	}
	if msgs == nil {
		msgs = []*backend.Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs, "hasMore": hasMore})
	return nil
}

// react handles PUT (on) and DELETE of …/reactions/{emoji}: 204 either way, also when nothing
// changed.
func (h *Handler) react(on bool) func(http.ResponseWriter, *http.Request, *backend.User) error {
	return func(w http.ResponseWriter, r *http.Request, u *backend.User) error {
		emoji := r.PathValue("emoji") // net/http has unescaped it
		if err := backend.CheckEmoji(emoji); err != nil {
			return err
		}
		chat, id, err := h.messageRef(r, u)
		if err != nil {
			return err
		}
		if ok, wait := h.reactionLimit.allow(u.ID); !ok {
			return tooMany(w, wait)
		}
		if _, err := h.writes.React(r.Context(), chat.ID, id, u.ID, emoji, on); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// pin handles PUT (on) and DELETE of /api/chats/{chatId}/pins/{messageId}.
func (h *Handler) pin(on bool) func(http.ResponseWriter, *http.Request, *backend.User) error {
	return func(w http.ResponseWriter, r *http.Request, u *backend.User) error {
		chat, id, err := h.messageRef(r, u)
		if err != nil {
			return err
		}
		if ok, wait := h.reactionLimit.allow(u.ID); !ok {
			return tooMany(w, wait)
		}
		if _, err := h.writes.Pin(r.Context(), chat.ID, id, u.ID, on); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (h *Handler) listPins(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	chat, err := h.memberChat(r, u)
	if err != nil {
		return err
	}
	msgs, err := h.reads.Pins(r.Context(), chat.ID)
	if err != nil {
		return err
	}
	if msgs == nil {
		msgs = []*backend.Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs})
	return nil
}

// messagePage reads before, after and limit; at most one of before and after.
func messagePage(r *http.Request) (backend.MessagePage, error) {
	q := r.URL.Query()
	page := backend.MessagePage{After: q.Get("after"), Before: q.Get("before")}
	for field, id := range map[string]string{"after": page.After, "before": page.Before} {
		if id != "" {
			if err := validID(field, id); err != nil {
				return page, err
			}
		}
	}
	var err error
	page.Limit, err = pageLimit(q)
	return page, err
}

// reactionLimitFor is Config.Reactions with its defaults.
func reactionLimitFor(l Limit) Limit {
	return l.withDefault(Limit{DefaultReactionBurst, time.Second / DefaultReactionRate})
}
