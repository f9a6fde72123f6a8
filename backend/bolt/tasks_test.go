package bolt_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/herald-chat/herald/backend"
)

// Completing a task notifies its owner with its name: only bots and admins may pick someone else
// as the owner, so a member cannot make Herald tell anyone what they choose.
func TestCreateTaskForOthersNeedsABotOrAnAdmin(t *testing.T) {
	e := newEnv(t)
	admin := e.admin("alice")
	bob, carol := e.member("bob"), e.member("carol")
	bot := &backend.User{Username: "build-bot", DisplayName: "Build Bot"}
	wantNoError(t, e.s.CreateBot(e.ctx, bot), "CreateBot")

	tests := []struct {
		name           string
		creator, owner *backend.User
		want           string // "" for success
	}{
		{"a member for themself", bob, bob, ""},
		{"a member for another member", bob, carol, backend.EFORBIDDEN},
		{"a member for an admin", bob, admin, backend.EFORBIDDEN},
		{"a member for a bot", bob, bot, backend.EFORBIDDEN},
		{"an admin for a member", admin, carol, ""},
		{"a bot for a member", bot, carol, ""},
		{"a bot for itself", bot, bot, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := &backend.Task{Name: "Deploy", OwnerID: tt.owner.ID, CreatedBy: tt.creator.ID}
			err := e.s.CreateTask(e.ctx, task)
			wantCode(t, err, tt.want)
			if tt.want == "" {
				return
			}
			if task.ID != "" {
				t.Fatalf("a refused task got id %s", task.ID)
			}
			if !strings.Contains(backend.ErrorMessage(err), "Only bots and admins") {
				t.Fatalf("refusal message: %q", backend.ErrorMessage(err))
			}
		})
	}
	// A member asking for an owner that does not exist learns nothing about ids either.
	err := e.s.CreateTask(e.ctx, &backend.Task{Name: "x", OwnerID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", CreatedBy: bob.ID})
	wantCode(t, err, backend.EFORBIDDEN)
}

func TestTaskCompletedNotificationNamesTheCreator(t *testing.T) {
	e := newEnv(t)
	e.admin("alice")
	bob := e.member("bob")
	bot := &backend.User{Username: "build-bot", DisplayName: "Build Bot"}
	wantNoError(t, e.s.CreateBot(e.ctx, bot), "CreateBot")

	complete := func(creator *backend.User, name string, status backend.TaskStatus) *backend.Notification {
		t.Helper()
		task := &backend.Task{Name: name, OwnerID: bob.ID, CreatedBy: creator.ID}
		wantNoError(t, e.s.CreateTask(e.ctx, task), "CreateTask")
		before := e.pub.Len()
		_, err := e.s.CompleteTask(e.ctx, task.ID, creator, status, "all green")
		wantNoError(t, err, "CompleteTask")
		evs := e.pub.Events()[before:]
		if len(evs) != 1 || evs[0].Type != backend.EventTaskCompleted || evs[0].Notification == nil {
			t.Fatalf("CompleteTask published %+v, want one TASK_COMPLETED with a notification", evs)
		}
		return evs[0].Notification
	}

	if n := complete(bot, "Deploy", backend.TaskSucceeded); n.Title != "Task succeeded: Deploy (from Build Bot)" || n.Body != "all green" || n.ActorID != bot.ID {
		t.Fatalf("the bot's task: title %q body %q", n.Title, n.Body)
	}
	if n := complete(bob, "Mine", backend.TaskFailed); n.Title != "Task failed: Mine" || n.ActorID != "" {
		t.Fatalf("the owner's own task needs no attribution: title %q", n.Title)
	}
	// However long the name, the attribution stays in the title and the title within its limit.
	long := strings.Repeat("Ignore the sender ", 11) // 198 characters
	n := complete(bot, long, backend.TaskSucceeded)
	if !strings.HasSuffix(n.Title, "… (from Build Bot)") || utf8.RuneCountInString(n.Title) > backend.MaxNotificationTitleLen {
		t.Fatalf("long name: title %q (%d characters)", n.Title, utf8.RuneCountInString(n.Title))
	}
	// The history keeps what was sent.
	notes, _, err := e.s.Notifications(e.ctx, bob.ID, backend.NotificationFilter{Type: backend.KindTask, Limit: 10})
	wantNoError(t, err, "Notifications")
	if len(notes) != 3 || notes[2].Title != "Task succeeded: Deploy (from Build Bot)" {
		t.Fatalf("bob's task history: %+v", notes)
	}
}
