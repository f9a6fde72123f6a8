package httpapi

import (
	"net/http"

	"github.com/herald-chat/herald/backend"
)

func (h *Handler) createTask(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		Name    string `json:"name"`
		OwnerID string `json:"ownerId"`
		ChatID  string `json:"chatId"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	name, err := validText("name", req.Name, backend.MaxTaskNameLen, false)
	if err != nil {
		return err
	}
	if req.OwnerID == "" {
		req.OwnerID = u.ID
	}
	if err := validID("ownerId", req.OwnerID); err != nil {
		return err
	}
	if req.ChatID != "" {
		if err := validID("chatId", req.ChatID); err != nil {
			return err
		}
	}
	task := &backend.Task{Name: name, OwnerID: req.OwnerID, CreatedBy: u.ID, ChatID: req.ChatID}
	if err := h.writes.CreateTask(r.Context(), task); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"task": task})
	return nil
}

func (h *Handler) getTask(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	id := r.PathValue("taskId")
	if err := validID("taskId", id); err != nil {
		return err
	}
	task, err := h.reads.Task(r.Context(), id)
	if err != nil {
		return err
	}
	if !task.MayRead(u) {
		return backend.Errorf(backend.EFORBIDDEN, "Only the task's owner, its creator and admins can see it.")
	}
	writeJSON(w, http.StatusOK, map[string]any{"task": task})
	return nil
}

// completeTask records a task's outcome; the owner gets TASK_COMPLETED with the decision.
func (h *Handler) completeTask(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	var req struct {
		Status backend.TaskStatus `json:"status"`
		Result string             `json:"result"`
	}
	if err := decodeJSON(w, r, &req, backend.MaxJSONBody, false); err != nil {
		return err
	}
	if req.Status != backend.TaskSucceeded && req.Status != backend.TaskFailed {
		return backend.Errorf(backend.EINVALID, "status must be succeeded or failed.")
	}
	result, err := checkText("result", req.Result, backend.MaxTaskResultLen, true, true)
	if err != nil {
		return err
	}
	id := r.PathValue("taskId")
	if err := validID("taskId", id); err != nil {
		return err
	}
	task, err := h.writes.CompleteTask(r.Context(), id, u, req.Status, result)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"task": task})
	return nil
}
