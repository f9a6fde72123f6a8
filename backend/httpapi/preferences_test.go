package httpapi_test

import (
	"testing"
)

func TestPreferences(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	got := ts.must(t, 200, request{method: "GET", path: "/api/preferences", token: tm.bob.Token})
	prefs := got.Body["preferences"].(map[string]any)
	if prefs["sounds"] != true || prefs["criticalBreaksThrough"] != true || prefs["quietHours"] != nil {
		t.Fatalf("defaults: %s", got.Raw)
	}

	bobStream := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	bobNotes := ts.openStream(t, "/api/notifications/"+tm.bob.ID+"/stream", tm.bob.Token, "")
	aliceStream := ts.openStream(t, "/api/stream", tm.alice.Token, "")
	body := map[string]any{
		"sounds": false, "volume": 0.3, "native": true, "criticalBreaksThrough": false,
		"kinds":        map[string]bool{"agent": false},
		"soundByKind":  map[string]string{"mention": "chime"},
		"mutedChats":   []string{tm.chat},
		"doNotDisturb": map[string]any{"until": "2026-06-01T14:30:00Z"},
		"quietHours":   map[string]string{"start": "22:00", "end": "07:00", "timeZone": "Europe/Berlin"},
	}
	put := ts.must(t, 200, request{method: "PUT", path: "/api/preferences", token: tm.bob.Token, body: body})
	if put.Body["preferences"].(map[string]any)["volume"] != 0.3 {
		t.Fatalf("PUT answer: %s", put.Raw)
	}
	for _, sc := range []*streamClient{bobStream, bobNotes} {
		ev := sc.nextOfType(t, "PREFERENCES_CHANGED", wait)
		if !ev.Frame.HasID || ev.UserID != "" {
			t.Fatalf("PREFERENCES_CHANGED frame %+v", ev.Frame)
		}
	}
	again := ts.must(t, 200, request{method: "GET", path: "/api/preferences", token: tm.bob.Token})
	if q := again.Body["preferences"].(map[string]any)["quietHours"].(map[string]any); q["timeZone"] != "Europe/Berlin" {
		t.Fatalf("stored: %s", again.Raw)
	}
	// Alice's stream does not carry Bob's preferences: a fence message arrives first.
	ts.post(t, tm.bob, tm.chat, "fence")
	if ev := aliceStream.nextEventExcept(t, wait, "AGENT_STATUS_CHANGED"); ev.Type != "NEW_MESSAGE" {
		t.Fatalf("alice got %s", ev.Type)
	}

	for name, bad := range map[string]map[string]any{
		"unknown time zone": {"quietHours": map[string]string{"start": "22:00", "end": "07:00", "timeZone": "Mars/Base"}},
		"malformed time":    {"quietHours": map[string]string{"start": "10pm", "end": "07:00", "timeZone": "UTC"}},
		"bad until":         {"doNotDisturb": map[string]any{"until": "tomorrow"}},
		"volume":            {"volume": 2},
		"toastSeconds":      {"toastSeconds": 0},
		"unknown kind":      {"kinds": map[string]bool{"weather": true}},
		"unknown field":     {"loud": true},
		"bad muted chat id": {"mutedChats": []string{"general"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := ts.must(t, 400, request{method: "PUT", path: "/api/preferences", token: tm.bob.Token, body: bad})
			if r.errorCode() != "invalid" {
				t.Fatalf("%s", r.Raw)
			}
		})
	}
	after := ts.must(t, 200, request{method: "GET", path: "/api/preferences", token: tm.bob.Token})
	if string(after.Raw) != string(again.Raw) {
		t.Fatalf("a refused PUT changed the preferences: %s", after.Raw)
	}
	ts.must(t, 401, request{method: "GET", path: "/api/preferences"})
	ts.must(t, 401, request{method: "PUT", path: "/api/preferences", body: body})
}
