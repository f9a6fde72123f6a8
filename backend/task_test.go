package backend_test

import (
	"testing"

	"github.com/herald-chat/herald/backend"
)

func TestTaskCompletedNotificationWithoutItsCreator(t *testing.T) {
	task := &backend.Task{ID: "t1", Name: "Deploy", OwnerID: "owner", CreatedBy: "gone", Status: backend.TaskFailed, Result: "exit 1"}
	n := backend.TaskCompletedNotification(task, nil)
	if n.Title != "Task failed: Deploy (from a former member)" || n.Body != "exit 1" || n.Link != "/tasks/t1" || n.Type != backend.KindTask {
		t.Fatalf("%+v", n)
	}
}
