package httpapi_test

import (
	"strings"
	"testing"
)

func TestMentionsNotifyMembersOnly(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t) // alice and bob share #general; carol is in no chat
	bobNotes := ts.openStream(t, "/api/notifications/"+tm.bob.ID+"/stream", tm.bob.Token, "")
	aliceNotes := ts.openStream(t, "/api/notifications/"+tm.alice.ID+"/stream", tm.alice.Token, "")
	// Bob muted the chat: a mention still notifies him.
	ts.must(t, 200, request{method: "PUT", path: "/api/preferences", token: tm.bob.Token,
		body: map[string]any{"sounds": true, "volume": 0.5, "native": true, "criticalBreaksThrough": true, "mutedChats": []string{tm.chat}}})

	msg := ts.post(t, tm.alice, tm.chat, "@bob can you review? cc @carol @alice @nobody")
	ev := bobNotes.nextOfType(t, "MENTION", wait)
	for _, want := range []string{`"chatId":"` + tm.chat + `"`, `"id":"` + msg + `"`, `"title":"alice mentioned you in #general"`,
		`"type":"mention"`, `"notify":true`, `"link":"/chats/` + tm.chat + `?message=` + msg + `"`, `"messageId":"` + msg + `"`} {
		if !strings.Contains(ev.Data(), want) {
			t.Fatalf("MENTION lacks %s: %s", want, ev.Data())
		}
	}
	// Carol is no member and alice wrote it: neither gets one. A fence system notice proves it.
	ts.must(t, 201, request{method: "POST", path: "/api/system/notifications", token: tm.alice.Token, body: map[string]any{"title": "fence"}})
	if got := aliceNotes.nextEventExcept(t, wait, "AGENT_STATUS_CHANGED", "PREFERENCES_CHANGED"); got.Type != "SYSTEM_NOTIFICATION" {
		t.Fatalf("alice got %s before the fence", got.Type)
	}
	carol := ts.must(t, 200, request{method: "GET", path: "/api/notifications?type=mention", token: tm.carol.Token})
	if n := len(carol.Body["notifications"].([]any)); n != 0 {
		t.Fatalf("carol, not a member, was notified: %s", carol.Raw)
	}
	bob := ts.must(t, 200, request{method: "GET", path: "/api/notifications?type=mention", token: tm.bob.Token})
	if n := len(bob.Body["notifications"].([]any)); n != 1 {
		t.Fatalf("bob's mentions: %s", bob.Raw)
	}
}
