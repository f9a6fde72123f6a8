package backend

import "unicode/utf8"

// TaskStatus is where a Task is.
type TaskStatus string

const (
	TaskPending   TaskStatus = "pending"
	TaskSucceeded TaskStatus = "succeeded"
	TaskFailed    TaskStatus = "failed"
)

// Task is a piece of work a bot or a person runs for its owner; completing it notifies the owner.
type Task struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	OwnerID     string     `json:"ownerId"`
	CreatedBy   string     `json:"createdBy"`
	ChatID      string     `json:"chatId,omitempty"`
	Status      TaskStatus `json:"status"`
	Result      string     `json:"result,omitempty"`
	CreatedAt   int64      `json:"createdAt"`             // Unix ms
	CompletedAt int64      `json:"completedAt,omitempty"` // Unix ms
}

// MayRead reports whether u may see the task: its owner, its creator, or an admin.
func (t *Task) MayRead(u *User) bool {
	return u.ID == t.OwnerID || u.ID == t.CreatedBy || u.Role == RoleAdmin
}

// MayCreateTaskFor decides who may create a task owned by ownerID. Anyone may create a task for
// themself; only bots and admins create tasks for other users, because completing a task notifies
// its owner with the name its creator chose. The refusal is an EFORBIDDEN *Error; nil allows it.
func MayCreateTaskFor(creator *User, ownerID string) error {
	if creator.ID == ownerID || creator.IsBot() || creator.Role == RoleAdmin {
		return nil
	}
	return Errorf(EFORBIDDEN, "Only bots and admins can create tasks for other users; leave ownerId out to create one for yourself.")
}

// TaskCompletedNotification is what a task's owner is told when it ends: the outcome and the
// task's name in the title, the start of the result (at most TaskResultSummaryLen characters) in
// the body. When someone else created the task, the title names them — "Task succeeded: Deploy
// (from Build Bot)" — so that text chosen by another user never reaches the owner unattributed.
// creator is the task's creator (nil when their account is gone). The title stays within
// MaxNotificationTitleLen characters: a long name is cut, the attribution never is.
func TaskCompletedNotification(task *Task, creator *User) Notification {
	outcome := "Task succeeded: "
	if task.Status == TaskFailed {
		outcome = "Task failed: "
	}
	from, actor := "", ""
	if task.CreatedBy != task.OwnerID {
		actor = task.CreatedBy
		name := "a former member"
		if creator != nil {
			name = creator.DisplayName
		}
		from = " (from " + name + ")"
	}
	room := MaxNotificationTitleLen - utf8.RuneCountInString(outcome) - utf8.RuneCountInString(from)
	return Notification{
		Type:    KindTask,
		Title:   outcome + cut(task.Name, max(room, 1)) + from,
		Body:    cut(task.Result, TaskResultSummaryLen),
		Link:    "/tasks/" + task.ID,
		ChatID:  task.ChatID,
		ActorID: actor,
	}
}

// cut shortens s to at most n characters, marking the cut with an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Limits of tasks.
const (
	MaxTaskNameLen   = 200   // characters
	MaxTaskResultLen = 20000 // characters
	// TaskResultSummaryLen is how much of a result a completion notification's body shows.
	TaskResultSummaryLen = 280 // characters
)
