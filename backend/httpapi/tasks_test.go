package httpapi_test

import (
	"strings"
	"testing"
)

func TestTasks(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	created := ts.must(t, 201, request{method: "POST", path: "/api/bots", token: tm.alice.Token, body: map[string]string{"name": "builder"}})
	bot := account{ID: created.str("bot", "id"), Token: created.str("token")}
	ts.must(t, 200, request{method: "POST", path: "/api/chats/" + tm.chat + "/members", token: tm.alice.Token, body: map[string]string{"userId": bot.ID}})

	// The bot runs a build for bob in #general.
	task := ts.must(t, 201, request{method: "POST", path: "/api/tasks", token: bot.Token,
		body: map[string]string{"name": "Build #42", "ownerId": tm.bob.ID, "chatId": tm.chat}})
	id := task.str("task", "id")
	if task.str("task", "status") != "pending" || task.str("task", "createdBy") != bot.ID || task.str("task", "ownerId") != tm.bob.ID {
		t.Fatalf("created: %s", task.Raw)
	}
	bobNotes := ts.openStream(t, "/api/notifications/"+tm.bob.ID+"/stream", tm.bob.Token, "")
	aliceStream := ts.openStream(t, "/api/stream", tm.alice.Token, "")

	done := ts.must(t, 200, request{method: "POST", path: "/api/tasks/" + id + "/complete", token: bot.Token,
		body: map[string]string{"status": "failed", "result": "3 tests failed:\n- TestA\n- TestB\n- TestC"}})
	if done.str("task", "status") != "failed" {
		t.Fatalf("completed: %s", done.Raw)
	}
	ev := bobNotes.nextOfType(t, "TASK_COMPLETED", wait)
	for _, want := range []string{`"task":{"id":"` + id + `"`, `"status":"failed"`, `"title":"Task failed: Build #42 (from builder)"`,
		`"link":"/tasks/` + id + `"`, `"notify":true`, `"type":"task"`} {
		if !strings.Contains(ev.Data(), want) {
			t.Fatalf("TASK_COMPLETED lacks %s: %s", want, ev.Data())
		}
	}
	// Only the owner is notified: alice's next event is a later fence.
	ts.post(t, tm.bob, tm.chat, "fence")
	if got := aliceStream.nextEventExcept(t, wait, "AGENT_STATUS_CHANGED"); got.Type != "NEW_MESSAGE" {
		t.Fatalf("alice got %s", got.Type)
	}
	history := ts.must(t, 200, request{method: "GET", path: "/api/notifications?type=task", token: tm.bob.Token})
	if n := len(history.Body["notifications"].([]any)); n != 1 {
		t.Fatalf("bob's task history: %s", history.Raw)
	}

	// The results page: owner, creator and admins.
	for _, who := range []account{tm.bob, bot, tm.alice} {
		if r := ts.must(t, 200, request{method: "GET", path: "/api/tasks/" + id, token: who.Token}); !strings.Contains(r.str("task", "result"), "TestB") {
			t.Fatalf("GET task: %s", r.Raw)
		}
	}
	ts.must(t, 403, request{method: "GET", path: "/api/tasks/" + id, token: tm.carol.Token})
	ts.must(t, 409, request{method: "POST", path: "/api/tasks/" + id + "/complete", token: bot.Token, body: map[string]string{"status": "succeeded"}})

	mine := ts.must(t, 201, request{method: "POST", path: "/api/tasks", token: tm.carol.Token, body: map[string]string{"name": "Mine"}})
	if mine.str("task", "ownerId") != tm.carol.ID {
		t.Fatalf("owner defaults to the creator: %s", mine.Raw)
	}
	cases := []struct {
		name   string
		rq     request
		status int
	}{
		{"no auth", request{method: "POST", path: "/api/tasks", body: map[string]string{"name": "x"}}, 401},
		{"no name", request{method: "POST", path: "/api/tasks", token: tm.bob.Token, body: map[string]string{"name": ""}}, 400},
		{"unknown owner", request{method: "POST", path: "/api/tasks", token: tm.alice.Token, body: map[string]string{"name": "x", "ownerId": unknownID}}, 404},
		{"a member for another", request{method: "POST", path: "/api/tasks", token: tm.bob.Token, body: map[string]string{"name": "x", "ownerId": tm.carol.ID}}, 403},
		{"a member for an unknown owner", request{method: "POST", path: "/api/tasks", token: tm.bob.Token, body: map[string]string{"name": "x", "ownerId": unknownID}}, 403},
		{"chat of others", request{method: "POST", path: "/api/tasks", token: tm.carol.Token, body: map[string]string{"name": "x", "chatId": tm.chat}}, 403},
		{"unknown task", request{method: "GET", path: "/api/tasks/" + unknownID, token: tm.bob.Token}, 404},
		{"bad task id", request{method: "GET", path: "/api/tasks/nope", token: tm.bob.Token}, 400},
		{"bad status", request{method: "POST", path: "/api/tasks/" + mine.str("task", "id") + "/complete", token: tm.carol.Token, body: map[string]string{"status": "done"}}, 400},
		{"stranger completes", request{method: "POST", path: "/api/tasks/" + mine.str("task", "id") + "/complete", token: tm.bob.Token, body: map[string]string{"status": "succeeded"}}, 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { ts.must(t, tc.status, tc.rq) })
	}
	if r := ts.must(t, 200, request{method: "GET", path: "/api/tasks/" + mine.str("task", "id"), token: tm.carol.Token}); r.str("task", "status") != "pending" {
		t.Fatalf("a refused completion changed the task: %s", r.Raw)
	}
}

// A member can no longer make Herald notify someone else with a title of their choosing; an
// admin can, and the notification says who it is from.
func TestOnlyBotsAndAdminsCreateTasksForOthers(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	r := ts.must(t, 403, request{method: "POST", path: "/api/tasks", token: tm.bob.Token,
		body: map[string]string{"name": "Your account is locked: visit evil.example", "ownerId": tm.carol.ID}})
	if r.errorCode() != "forbidden" || !strings.Contains(r.str("error", "message"), "Only bots and admins can create tasks for other users") {
		t.Fatalf("refusal: %s", r.Raw)
	}
	carolNotes := ts.openStream(t, "/api/notifications/"+tm.carol.ID+"/stream", tm.carol.Token, "")
	task := ts.must(t, 201, request{method: "POST", path: "/api/tasks", token: tm.alice.Token,
		body: map[string]string{"name": "Review the budget", "ownerId": tm.carol.ID}})
	ts.must(t, 200, request{method: "POST", path: "/api/tasks/" + task.str("task", "id") + "/complete", token: tm.alice.Token,
		body: map[string]string{"status": "succeeded"}})
	ev := carolNotes.nextOfType(t, "TASK_COMPLETED", wait)
	if ev.Notification == nil || ev.Notification.Title != "Task succeeded: Review the budget (from alice)" {
		t.Fatalf("carol's notification: %s", ev.Data())
	}
	// Carol's history holds that one task only: the refused one never existed.
	history := ts.must(t, 200, request{method: "GET", path: "/api/notifications?type=task", token: tm.carol.Token})
	if n := len(history.Body["notifications"].([]any)); n != 1 {
		t.Fatalf("carol's task history: %s", history.Raw)
	}
}
