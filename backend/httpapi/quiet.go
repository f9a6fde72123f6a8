package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/herald-chat/herald/backend"
)

// MaxQuietLookup is how many people one GET /api/chats/{chatId}/quiet asks about.
const MaxQuietLookup = 20

// The per-user limit of quiet lookups: a burst of 30, then one per second. The composer asks
// when a DM opens and when the people a draft mentions change.
const (
	quietBurst = 30
	quietEvery = time.Second
)

// getQuiet tells a sender in the chat which of its members would not be notified now (their
// do-not-disturb or quiet hours are on), until when on their own clock, and whether a message
// sent with notifyAnyway would reach them: {"quiet": [backend.Silence…]}, only the silenced.
// userIds (comma-separated, at most MaxQuietLookup) names whom to ask about; without it a DM
// asks about its other members and any other chat is refused. Ids that are not members of the
// chat, and the caller, are left out as if not silenced: the lookup says nothing about people
// the caller does not share this chat with.
func (h *Handler) getQuiet(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	chat, err := h.memberChat(r, u)
	if err != nil {
		return err
	}
	var ids []string
	if q := r.URL.Query().Get("userIds"); q != "" {
		ids = strings.Split(q, ",")
		if len(ids) > MaxQuietLookup {
			return backend.Errorf(backend.EINVALID, "userIds names at most %d people.", MaxQuietLookup)
		}
		for _, id := range ids {
			if err := validID("userIds", id); err != nil {
				return err
			}
		}
	} else if chat.Kind == backend.ChatDM {
		ids = chat.MemberIDs
	} else {
		return backend.Errorf(backend.EINVALID, "userIds is required outside DMs.")
	}
	if ok, wait := h.quietLimit.allow(u.ID); !ok {
		return tooMany(w, wait)
	}
	now := h.now()
	quiet := []*backend.Silence{}
	seen := map[string]bool{u.ID: true}
	for _, id := range ids {
		if seen[id] || !chat.HasMember(id) {
			continue
		}
		seen[id] = true
		p, err := h.reads.Preferences(r.Context(), id)
		if err != nil {
			return err
		}
		if s := backend.SilenceOf(id, &p, chat, now); s != nil {
			quiet = append(quiet, s)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"quiet": quiet})
	return nil
}
