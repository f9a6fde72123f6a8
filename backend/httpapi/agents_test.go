package httpapi_test

import (
	"testing"
)

func TestBots(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	ts.must(t, 403, request{method: "POST", path: "/api/bots", token: tm.bob.Token, body: map[string]string{"name": "Deploy Bot"}})
	ts.must(t, 401, request{method: "POST", path: "/api/bots", body: map[string]string{"name": "Deploy Bot"}})
	for name, body := range map[string]map[string]string{
		"no name":         {"name": " "},
		"no letters":      {"name": "!!!"},
		"http avatar":     {"name": "Xavier Bot", "avatar": "http://example.com/a.png"},
		"javascript":      {"name": "Xavier Bot", "avatar": "javascript:alert(1)"},
		"JAVASCRIPT":      {"name": "Xavier Bot", "avatar": "JAVASCRIPT:alert(1)"},
		"space first":     {"name": "Xavier Bot", "avatar": " javascript:alert(1)"},
		"data URL":        {"name": "Xavier Bot", "avatar": "data:image/svg+xml,<svg onload=alert(1)>"},
		"scheme-relative": {"name": "Xavier Bot", "avatar": "//evil.com/x.png"},
		"user info":       {"name": "Xavier Bot", "avatar": "https://admin@evil.com/x.png"},
		"long text":       {"name": "Xavier Bot", "avatar": "this is not a short avatar"},
		"unknown field":   {"name": "X", "owner": "me"},
		"control in name": {"name": "a\x07b"},
	} {
		t.Run(name, func(t *testing.T) {
			ts.must(t, 400, request{method: "POST", path: "/api/bots", token: tm.alice.Token, body: body})
		})
	}

	created := ts.must(t, 201, request{method: "POST", path: "/api/bots", token: tm.alice.Token,
		body: map[string]string{"name": "Deploy Bot", "avatar": "🤖"}})
	bot := account{ID: created.str("bot", "id"), Token: created.str("token")}
	if created.str("bot", "username") != "deploy-bot" || created.str("bot", "kind") != "bot" || bot.Token == "" {
		t.Fatalf("created: %s", created.Raw)
	}
	ts.must(t, 409, request{method: "POST", path: "/api/bots", token: tm.alice.Token, body: map[string]string{"name": "deploy bot"}})
	me := ts.must(t, 200, request{method: "GET", path: "/api/me", token: bot.Token})
	if me.str("user", "id") != bot.ID || me.str("user", "avatar") != "🤖" {
		t.Fatalf("bot's /api/me: %s", me.Raw)
	}
	// A bot has no password to sign in with.
	ts.must(t, 401, request{method: "POST", path: "/api/auth/login", body: map[string]string{"username": "deploy-bot", "password": ""}})

	// Added to a chat, it posts like anyone; its status changes reach those who share a chat.
	ts.must(t, 200, request{method: "POST", path: "/api/chats/" + tm.chat + "/members", token: tm.alice.Token, body: map[string]string{"userId": bot.ID}})
	bob := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	carol := ts.openStream(t, "/api/stream", tm.carol.Token, "")
	ts.post(t, bot, tm.chat, "deployed v1.2")
	if ev := bob.nextOfType(t, "NEW_MESSAGE", wait); ev.Message.AuthorID != bot.ID {
		t.Fatalf("message %+v", ev.Message)
	}
	set := ts.must(t, 200, request{method: "PUT", path: "/api/agents/me/status", token: bot.Token, body: map[string]string{"status": "busy"}})
	if set.str("status") != "busy" || set.str("agent", "kind") != "bot" {
		t.Fatalf("PUT status: %s", set.Raw)
	}
	raw := bob.nextOfType(t, "AGENT_STATUS_CHANGED", wait)
	for !containsAll(raw.Data(), `"id":"`+bot.ID+`"`, `"kind":"bot"`, `"avatar":"🤖"`, `"name":"Deploy Bot"`, `"status":"busy"`) {
		raw = bob.nextOfType(t, "AGENT_STATUS_CHANGED", wait) // skip people's presence
	}
	// Carol shares no chat with the bot: the fence message in her own chat comes first.
	fence := ts.createChat(t, tm.alice, "fence", tm.carol.ID)
	ts.post(t, tm.alice, fence, "fence")
	for {
		ev := carol.nextEvent(t, wait)
		if ev.Type == "AGENT_STATUS_CHANGED" && containsAll(ev.Data(), bot.ID) {
			t.Fatalf("carol got the bot's status: %s", ev.Data())
		}
		if ev.Type == "NEW_MESSAGE" {
			break
		}
	}

	ts.must(t, 400, request{method: "PUT", path: "/api/agents/me/status", token: bot.Token, body: map[string]string{"status": "asleep"}})
	ts.must(t, 403, request{method: "PUT", path: "/api/agents/me/status", token: tm.bob.Token, body: map[string]string{"status": "busy"}})
	dir := ts.must(t, 200, request{method: "GET", path: "/api/users", token: tm.bob.Token})
	if !containsAll(string(dir.Raw), `"username":"deploy-bot"`, `"kind":"bot"`) {
		t.Fatalf("directory: %s", dir.Raw)
	}
}
