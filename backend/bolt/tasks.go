package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/herald-chat/herald/backend"
	bbolt "go.etcd.io/bbolt"
)

func (s *Store) CreateTask(ctx context.Context, task *backend.Task) error {
	return s.update(ctx, func(t *txn) error {
		creator, err := getUser(t.Tx, task.CreatedBy)
		if err != nil {
			return err
		}
		if err := backend.MayCreateTaskFor(creator, task.OwnerID); err != nil {
			return err
		}
		if t.Bucket(bucketUsers).Get([]byte(task.OwnerID)) == nil {
			return backend.Errorf(backend.ENOTFOUND, "Owner %s not found.", task.OwnerID)
		}
		if task.ChatID != "" {
			chat, err := getChat(t.Tx, task.ChatID)
			if err != nil {
				return err
			}
			if !chat.HasMember(task.CreatedBy) {
				return backend.Errorf(backend.EFORBIDDEN, "You are not a member of this chat.")
			}
		}
		task.ID = t.newID()
		task.Status = backend.TaskPending
		task.CreatedAt = t.now.UnixMilli()
		return putJSON(t.Bucket(bucketTasks), task.ID, task)
	})
}

func getTask(tx *bbolt.Tx, id string) (*backend.Task, error) {
	v := tx.Bucket(bucketTasks).Get([]byte(id))
	if v == nil {
		return nil, backend.Errorf(backend.ENOTFOUND, "Task not found.")
	}
	task := new(backend.Task)
	if err := json.Unmarshal(v, task); err != nil {
		return nil, fmt.Errorf("decode task %s: %w", id, err)
	}
	return task, nil
}

func (s *Store) Task(ctx context.Context, id string) (*backend.Task, error) {
	var task *backend.Task
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		task, err = getTask(tx, id)
		return err
	})
	return task, err
}

func (s *Store) CompleteTask(ctx context.Context, id string, by *backend.User, status backend.TaskStatus, result string) (*backend.Task, error) {
	var done *backend.Task
	err := s.update(ctx, func(t *txn) error {
		task, err := getTask(t.Tx, id)
		if err != nil {
			return err
		}
		if by.ID != task.CreatedBy && by.ID != task.OwnerID && by.Role != backend.RoleAdmin {
			return backend.Errorf(backend.EFORBIDDEN, "Only the task's creator, its owner or an admin can complete it.")
		}
		if task.Status != backend.TaskPending {
			return backend.Errorf(backend.ECONFLICT, "The task already %s.", task.Status)
		}
		task.Status, task.Result, task.CompletedAt = status, result, t.now.UnixMilli()
		if err := putJSON(t.Bucket(bucketTasks), task.ID, task); err != nil {
			return err
		}
		creator, err := getUser(t.Tx, task.CreatedBy)
		if backend.ErrorCode(err) == backend.ENOTFOUND {
			creator = nil // the notification says so
		} else if err != nil {
			return err
		}
		n := backend.TaskCompletedNotification(task, creator)
		snapshot := *task
		notice := backend.Notice{Kind: backend.KindTask, ChatID: task.ChatID, ChatName: chatName(t.Tx, task.ChatID)}
		if err := t.notifyUser(task.OwnerID, backend.EventTaskCompleted, n, notice, func(ev *backend.Event) { ev.Task = &snapshot }); err != nil {
			return err
		}
		done = task
		return nil
	})
	return done, err
}

// chatName is the chat's name for a decision's reason, "" when there is none.
func chatName(tx *bbolt.Tx, chatID string) string {
	if chatID == "" {
		return ""
	}
	chat, err := getChat(tx, chatID)
	if err != nil {
		return ""
	}
	return chat.Name
}
