package httpapi

import (
	"net/http"
	"strconv"

	"github.com/herald-chat/herald/backend"
)

// putTeamIcon makes the request body (an image, as an avatar's) the team's icon: its centred
// square at every backend.AvatarSizes, announced as TEAM_UPDATED with the new iconUrl. Admins
// only; it counts against the admin write limit, taken before the body is read.
func (h *Handler) putTeamIcon(w http.ResponseWriter, r *http.Request, u *backend.User) (err error) {
	defer func() {
		if err != nil {
			w.Header().Set("Connection", "close") // a refused body is not read to its end
		}
	}()
	if err := h.requireAdmin(w, u, "change the team's icon", true); err != nil {
		return err
	}
	images, err := h.squareImages(w, r)
	if err != nil {
		return err
	}
	team, err := h.writes.SetTeamIcon(r.Context(), images)
	if err != nil {
		return err
	}
	h.audit(r, u, backend.AuditTeamUpdated, "", "iconUrl", team.IconURL)
	writeJSON(w, http.StatusOK, map[string]any{"team": team})
	return nil
}

// deleteTeamIcon removes the team's icon, uploaded or given as a URL (clients draw the name's
// initial again).
func (h *Handler) deleteTeamIcon(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if err := h.requireAdmin(w, u, "change the team's icon", true); err != nil {
		return err
	}
	team, err := h.reads.Team(r.Context())
	if err != nil {
		return err
	}
	if team.IconURL != "" {
		team.IconURL = ""
		if err := h.writes.SetTeam(r.Context(), team); err != nil {
			return err
		}
		h.audit(r, u, backend.AuditTeamUpdated, "", "iconUrl", "")
	}
	writeJSON(w, http.StatusOK, map[string]any{"team": team})
	return nil
}

// getTeamIcon serves the uploaded team icon (?size=64 or 256, default 256) to anyone signed in.
func (h *Handler) getTeamIcon(w http.ResponseWriter, r *http.Request, _ *backend.User) error {
	size, err := imageSize(r)
	if err != nil {
		return err
	}
	img, version, err := h.reads.TeamIcon(r.Context(), size)
	if err != nil {
		return err
	}
	serveSquare(w, r, "team-icon-v"+strconv.FormatInt(version, 10), img, version, size)
	return nil
}
