package backend

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

// Limits of tasks.
const (
	MaxTaskNameLen   = 200   // characters
	MaxTaskResultLen = 20000 // characters
)
