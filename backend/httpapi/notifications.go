package httpapi

import (
	"net/http"
	"slices"

	"github.com/herald-chat/herald/backend"
)

// sendSystemNotification lets an admin notify everyone, or the listed users.
func (h *Handler) sendSystemNotification(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		Title   string              `json:"title"`
		Body    string              `json:"body"`
		Level   backend.SystemLevel `json:"level"`
		UserIDs []string            `json:"userIds"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	if u.Role != backend.RoleAdmin {
		return backend.Errorf(backend.EFORBIDDEN, "Only admins send system notifications.")
	}
	title, err := validText("title", req.Title, backend.MaxNotificationTitleLen, false)
	if err != nil {
		return err
	}
	body, err := checkText("body", req.Body, backend.MaxNotificationBodyLen, true, true)
	if err != nil {
		return err
	}
	if req.Level == "" {
		req.Level = backend.LevelInfo
	}
	if !slices.Contains([]backend.SystemLevel{backend.LevelInfo, backend.LevelWarning, backend.LevelCritical}, req.Level) {
		return backend.Errorf(backend.EINVALID, "level must be info, warning or critical.")
	}
	if len(req.UserIDs) > backend.MaxChatMembers {
		return backend.Errorf(backend.EINVALID, "userIds holds at most %d users; leave it out to notify everyone.", backend.MaxChatMembers)
	}
	for _, id := range req.UserIDs {
		if err := validID("userIds", id); err != nil {
			return err
		}
	}
	n := backend.Notification{Title: title, Body: body, Level: req.Level}
	sent, err := h.writes.SendSystemNotification(r.Context(), n, req.UserIDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"sent": sent})
	return nil
}

func (h *Handler) listNotifications(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	q := r.URL.Query()
	f := backend.NotificationFilter{
		UnreadOnly: q.Get("unread") == "true",
		Type:       backend.NotificationKind(q.Get("type")),
		Query:      q.Get("q"),
		Before:     q.Get("before"),
		Limit:      backend.DefaultPageLimit,
	}
	if f.Type != "" && !slices.Contains(backend.NotificationKinds, f.Type) {
		return backend.Errorf(backend.EINVALID, "type %q is not a notification type.", f.Type)
	}
	if f.Before != "" {
		if err := validID("before", f.Before); err != nil {
			return err
		}
	}
	if len(f.Query) > 200 {
		return backend.Errorf(backend.EINVALID, "q is at most 200 bytes.")
	}
	var err error
	if f.Limit, err = pageLimit(q); err != nil {
		return err
	}
	page, hasMore, err := h.reads.Notifications(r.Context(), u.ID, f)
	if err != nil {
		return err
	}
	if page == nil {
		page = []*backend.Notification{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifications": page, "hasMore": hasMore})
	return nil
}

// markNotifications handles both POST /api/notifications/read ({ids} or {all: true}) and
// POST /api/notifications/unread ({ids}).
func (h *Handler) markNotifications(read bool) func(http.ResponseWriter, *http.Request, *backend.User) error {
	return func(w http.ResponseWriter, r *http.Request, u *backend.User) error {
		var req struct {
			IDs []string `json:"ids"`
			All bool     `json:"all"`
		}
		if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
			return err
		}
		switch {
		case req.All && !read:
			return backend.Errorf(backend.EINVALID, "all is only for marking read.")
		case req.All && req.IDs != nil:
			return backend.Errorf(backend.EINVALID, "Send either ids or all, not both.")
		case !req.All && len(req.IDs) == 0:
			return backend.Errorf(backend.EINVALID, "ids must name at least one notification.")
		case len(req.IDs) > backend.MaxNotificationIDs:
			return backend.Errorf(backend.EINVALID, "ids holds at most %d notifications.", backend.MaxNotificationIDs)
		}
		for _, id := range req.IDs {
			if err := validID("ids", id); err != nil {
				return err
			}
		}
		ids := req.IDs
		if req.All {
			ids = nil
		}
		if err := h.writes.MarkNotifications(r.Context(), u.ID, ids, read); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (h *Handler) clearNotifications(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if err := h.writes.ClearNotifications(r.Context(), u.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
