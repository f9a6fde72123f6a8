package httpapi_test

import (
	"fmt"
	"testing"
)

type notificationEvent struct {
	event
	Notification struct {
		ID, Type, Title, Body, Level, Reason string
		Notify, Read                         bool
	} `json:"notification"`
}

func (sc *streamClient) nextNotification(t *testing.T) notificationEvent {
	t.Helper()
	ev := sc.nextOfType(t, "SYSTEM_NOTIFICATION", wait)
	var n notificationEvent
	if err := jsonUnmarshal(ev.Data(), &n); err != nil {
		t.Fatal(err)
	}
	n.event = ev
	return n
}

func TestSystemNotificationsAreDecidedPerRecipient(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	ts.must(t, 201, request{method: "POST", path: "/api/bots", token: tm.alice.Token, body: map[string]string{"name": "ci"}})
	bob := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	bobNotes := ts.openStream(t, "/api/notifications/"+tm.bob.ID+"/stream", tm.bob.Token, "")
	carol := ts.openStream(t, "/api/stream", tm.carol.Token, "")
	// Carol is in do-not-disturb: her entry is recorded, silenced, with the reason.
	ts.must(t, 200, request{method: "PUT", path: "/api/preferences", token: tm.carol.Token,
		body: map[string]any{"sounds": true, "volume": 0.5, "native": true, "criticalBreaksThrough": true, "doNotDisturb": map[string]any{}}})

	sent := ts.must(t, 201, request{method: "POST", path: "/api/system/notifications", token: tm.alice.Token,
		body: map[string]any{"title": "Maintenance tonight", "body": "The server restarts at 22:00.", "level": "warning"}})
	if sent.Body["sent"] != float64(3) { // alice, bob, carol; not the bot
		t.Fatalf("sent: %s", sent.Raw)
	}
	for _, sc := range []*streamClient{bob, bobNotes} {
		n := sc.nextNotification(t)
		if !n.Frame.HasID || n.Notification.ID != n.Frame.ID || n.Notification.Title != "Maintenance tonight" ||
			n.Notification.Level != "warning" || n.Notification.Type != "system" || !n.Notification.Notify ||
			n.Notification.Reason != "notifications are on" {
			t.Fatalf("bob's event: %+v", n.Notification)
		}
	}
	if n := carol.nextNotification(t); n.Notification.Notify || n.Notification.Reason != "do not disturb" {
		t.Fatalf("carol's event: %+v", n.Notification)
	}

	ts.must(t, 201, request{method: "POST", path: "/api/system/notifications", token: tm.alice.Token,
		body: map[string]any{"title": "Disk full", "level": "critical", "userIds": []string{tm.carol.ID}}})
	if n := carol.nextNotification(t); !n.Notification.Notify || n.Notification.Reason != "critical alert breaks through do not disturb" {
		t.Fatalf("carol's critical: %+v", n.Notification)
	}

	// Errors: nothing is sent.
	cases := []struct {
		name   string
		token  string
		body   map[string]any
		status int
	}{
		{"not an admin", tm.bob.Token, map[string]any{"title": "x"}, 403},
		{"no auth", "", map[string]any{"title": "x"}, 401},
		{"no title", tm.alice.Token, map[string]any{"title": ""}, 400},
		{"bad level", tm.alice.Token, map[string]any{"title": "x", "level": "panic"}, 400},
		{"bad user id", tm.alice.Token, map[string]any{"title": "x", "userIds": []string{"bob"}}, 400},
		{"unknown user", tm.alice.Token, map[string]any{"title": "x", "userIds": []string{tm.bob.ID, unknownID}}, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts.must(t, tc.status, request{method: "POST", path: "/api/system/notifications", token: tc.token, body: tc.body})
		})
	}
	list := ts.must(t, 200, request{method: "GET", path: "/api/notifications", token: tm.bob.Token})
	if n := len(list.Body["notifications"].([]any)); n != 1 {
		t.Fatalf("bob's history has %d entries, want 1: %s", n, list.Raw)
	}
}

func TestNotificationHistory(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	for i := range 7 {
		ts.must(t, 201, request{method: "POST", path: "/api/system/notifications", token: tm.alice.Token,
			body: map[string]any{"title": fmt.Sprintf("Notice %d", i), "body": map[bool]string{true: "about the Deploy", false: "other"}[i%2 == 0],
				"userIds": []string{tm.bob.ID}}})
	}
	titles := func(query string) ([]string, []string, bool) {
		t.Helper()
		r := ts.must(t, 200, request{method: "GET", path: "/api/notifications" + query, token: tm.bob.Token})
		var got, ids []string
		for _, n := range r.Body["notifications"].([]any) {
			m := n.(map[string]any)
			got = append(got, m["title"].(string))
			ids = append(ids, m["id"].(string))
		}
		return got, ids, r.Body["hasMore"].(bool)
	}
	all, ids, _ := titles("")
	if fmt.Sprint(all) != "[Notice 6 Notice 5 Notice 4 Notice 3 Notice 2 Notice 1 Notice 0]" {
		t.Fatalf("newest first: %v", all)
	}
	page, _, more := titles("?limit=3")
	next, _, more2 := titles("?limit=3&before=" + ids[2])
	if fmt.Sprint(page, next) != "[Notice 6 Notice 5 Notice 4] [Notice 3 Notice 2 Notice 1]" || !more || !more2 {
		t.Fatalf("paging: %v %v %v %v", page, next, more, more2)
	}
	if got, _, _ := titles("?q=deploy"); fmt.Sprint(got) != "[Notice 6 Notice 4 Notice 2 Notice 0]" {
		t.Fatalf("search: %v", got)
	}
	if got, _, _ := titles("?type=task"); len(got) != 0 {
		t.Fatalf("type filter: %v", got)
	}

	ts.must(t, 204, request{method: "POST", path: "/api/notifications/read", token: tm.bob.Token, body: map[string]any{"ids": []string{ids[0], ids[1]}}})
	if got, _, _ := titles("?unread=true"); len(got) != 5 {
		t.Fatalf("unread after reading 2: %v", got)
	}
	ts.must(t, 204, request{method: "POST", path: "/api/notifications/unread", token: tm.bob.Token, body: map[string]any{"ids": []string{ids[0]}}})
	if got, _, _ := titles("?unread=true"); len(got) != 6 || got[0] != "Notice 6" {
		t.Fatalf("unread after marking one unread: %v", got)
	}
	// Another user's ids change nothing of theirs and nothing of bob's.
	ts.must(t, 204, request{method: "POST", path: "/api/notifications/read", token: tm.carol.Token, body: map[string]any{"ids": []string{ids[2]}}})
	if got, _, _ := titles("?unread=true"); len(got) != 6 {
		t.Fatalf("carol marked bob's entry: %v", got)
	}
	ts.must(t, 204, request{method: "POST", path: "/api/notifications/read", token: tm.bob.Token, body: map[string]any{"all": true}})
	if got, _, _ := titles("?unread=true"); len(got) != 0 {
		t.Fatalf("after all read: %v", got)
	}

	for name, rq := range map[string]request{
		"bad type":      {method: "GET", path: "/api/notifications?type=weather"},
		"bad before":    {method: "GET", path: "/api/notifications?before=x"},
		"bad limit":     {method: "GET", path: "/api/notifications?limit=0"},
		"no ids":        {method: "POST", path: "/api/notifications/read", body: map[string]any{}},
		"all unread":    {method: "POST", path: "/api/notifications/unread", body: map[string]any{"all": true}},
		"ids and all":   {method: "POST", path: "/api/notifications/read", body: map[string]any{"all": true, "ids": []string{ids[0]}}},
		"malformed id":  {method: "POST", path: "/api/notifications/read", body: map[string]any{"ids": []string{"nope"}}},
		"unknown field": {method: "POST", path: "/api/notifications/read", body: map[string]any{"every": true}},
	} {
		t.Run(name, func(t *testing.T) {
			rq.token = tm.bob.Token
			ts.must(t, 400, rq)
		})
	}
	ts.must(t, 401, request{method: "GET", path: "/api/notifications"})

	ts.must(t, 204, request{method: "DELETE", path: "/api/notifications", token: tm.bob.Token})
	if got, _, _ := titles(""); len(got) != 0 {
		t.Fatalf("after clearing: %v", got)
	}
}
