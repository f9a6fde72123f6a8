package httpapi

import (
	"net/http"

	"github.com/herald-chat/herald/backend"
)

func (h *Handler) getPreferences(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	p, err := h.reads.Preferences(r.Context(), u.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"preferences": p})
	return nil
}

// putPreferences replaces the user's preferences as a whole (every device sends what it shows),
// and every stream of the user gets PREFERENCES_CHANGED.
func (h *Handler) putPreferences(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	p := backend.DefaultPreferences()
	if err := decodeJSON(w, r, &p, backend.MaxJSONBody, false); err != nil {
		return err
	}
	if p.Kinds == nil {
		p.Kinds = map[backend.NotificationKind]bool{}
	}
	if p.SoundByKind == nil {
		p.SoundByKind = map[backend.NotificationKind]string{}
	}
	if p.MutedChats == nil {
		p.MutedChats = []string{}
	}
	if err := p.Validate(); err != nil {
		return err
	}
	for _, id := range p.MutedChats {
		if err := validID("mutedChats", id); err != nil {
			return err
		}
	}
	if err := h.writes.SetPreferences(r.Context(), u.ID, p); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"preferences": p})
	return nil
}
