package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

// quietNow is quiet hours in UTC that hold now: from an hour ago to two hours ahead.
func quietNow() map[string]string {
	now := time.Now().UTC()
	return map[string]string{"start": now.Add(-time.Hour).Format("15:04"), "end": now.Add(2 * time.Hour).Format("15:04"), "timeZone": "UTC"}
}

func putPrefs(t *testing.T, ts *testServer, who account, change map[string]any) response {
	t.Helper()
	body := map[string]any{"sounds": true, "volume": 0.7, "native": true, "criticalBreaksThrough": true, "toastSeconds": 6}
	for k, v := range change {
		body[k] = v
	}
	return ts.do(t, request{method: "PUT", path: "/api/preferences", token: who.Token, body: body})
}

// TestBreakThroughPreference: the setting is validated, stored, sent live to the user's other
// streams as PREFERENCES_CHANGED, and replayed on resume.
func TestBreakThroughPreference(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	got := ts.must(t, 200, request{method: "GET", path: "/api/preferences", token: tm.bob.Token})
	if got.Body["preferences"].(map[string]any)["breakThrough"] != "off" {
		t.Fatalf("default: %s", got.Raw)
	}
	mark := ts.post(t, tm.alice, tm.chat, "before") // an id to resume after
	live := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	for _, bad := range []any{"sometimes", "", 1, true} {
		r := putPrefs(t, ts, tm.bob, map[string]any{"breakThrough": bad})
		if r.Status != 400 || r.errorCode() != "invalid" || !strings.Contains(string(r.Raw), "breakThrough") {
			t.Errorf("breakThrough %#v: %d %s", bad, r.Status, r.Raw)
		}
	}
	if r := putPrefs(t, ts, tm.bob, map[string]any{"breakThrough": "dms"}); r.Status != 200 {
		t.Fatalf("PUT: %d %s", r.Status, r.Raw)
	}
	ev := live.nextOfType(t, "PREFERENCES_CHANGED", wait)
	if !ev.Frame.HasID || !strings.Contains(ev.Data(), `"breakThrough":"dms"`) {
		t.Fatalf("live: %s", ev.Data())
	}
	resumed := ts.openStream(t, "/api/stream", tm.bob.Token, mark)
	if again := resumed.nextOfType(t, "PREFERENCES_CHANGED", wait); again.ID != ev.ID || !strings.Contains(again.Data(), `"breakThrough":"dms"`) {
		t.Fatalf("resumed: %s", again.Data())
	}
	if got := ts.must(t, 200, request{method: "GET", path: "/api/preferences", token: tm.bob.Token}); got.Body["preferences"].(map[string]any)["breakThrough"] != "dms" {
		t.Fatalf("stored: %s", got.Raw)
	}
}

// TestQuietLookup: GET /api/chats/{chatId}/quiet tells a member who of the chat is quiet, until
// when on their clock, and whether notify anyway reaches them — and nothing about anyone else.
func TestQuietLookup(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	dm := ts.must(t, 201, request{method: "POST", path: "/api/dms", token: tm.alice.Token,
		body: map[string]any{"userIds": []string{tm.bob.ID}}}).str("chat", "id")
	quiet := quietNow()
	for _, who := range []account{tm.bob, tm.carol} {
		if r := putPrefs(t, ts, who, map[string]any{"quietHours": quiet, "breakThrough": "dms"}); r.Status != 200 {
			t.Fatalf("PUT: %s", r.Raw)
		}
	}

	r := ts.must(t, 200, request{method: "GET", path: "/api/chats/" + dm + "/quiet", token: tm.alice.Token})
	list := r.Body["quiet"].([]any)
	if len(list) != 1 {
		t.Fatalf("DM: %s", r.Raw)
	}
	s := list[0].(map[string]any)
	if s["userId"] != tm.bob.ID || s["reason"] != "quietHours" || s["untilLocal"] != quiet["end"] || s["notifyAnyway"] != true || s["until"] == nil {
		t.Fatalf("DM: %s", r.Raw)
	}
	for _, field := range []string{"start", "timeZone", "quietHours"} {
		if _, ok := s[field]; ok {
			t.Errorf("the answer tells %s: %s", field, r.Raw)
		}
	}

	// In the channel: Bob is a member (a mention needs "always": no notify anyway), Carol is
	// not (left out), Alice herself is left out.
	path := fmt.Sprintf("/api/chats/%s/quiet?userIds=%s,%s,%s", tm.chat, tm.bob.ID, tm.carol.ID, tm.alice.ID)
	r = ts.must(t, 200, request{method: "GET", path: path, token: tm.alice.Token})
	if list := r.Body["quiet"].([]any); len(list) != 1 || list[0].(map[string]any)["userId"] != tm.bob.ID || list[0].(map[string]any)["notifyAnyway"] != false {
		t.Fatalf("channel: %s", r.Raw)
	}

	tooMany := make([]string, 21)
	for i := range tooMany {
		tooMany[i] = tm.bob.ID
	}
	for name, tt := range map[string]struct {
		path, token string
		status      int
	}{
		"not a member of the DM":      {"/api/chats/" + dm + "/quiet", tm.carol.Token, 403},
		"not signed in":               {"/api/chats/" + dm + "/quiet", "", 401},
		"userIds needed in a channel": {"/api/chats/" + tm.chat + "/quiet", tm.alice.Token, 400},
		"malformed id":                {"/api/chats/" + tm.chat + "/quiet?userIds=bob", tm.alice.Token, 400},
		"too many ids":                {"/api/chats/" + tm.chat + "/quiet?userIds=" + strings.Join(tooMany, ","), tm.alice.Token, 400},
	} {
		t.Run(name, func(t *testing.T) {
			ts.must(t, tt.status, request{method: "GET", path: tt.path, token: tt.token})
		})
	}
}

func TestQuietLookupIsLimited(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	path := "/api/chats/" + tm.chat + "/quiet?userIds=" + tm.bob.ID
	for i := 0; ; i++ {
		r := ts.do(t, request{method: "GET", path: path, token: tm.alice.Token})
		if r.Status == http.StatusTooManyRequests {
			if i < 30 || r.Header.Get("Retry-After") == "" {
				t.Fatalf("limited after %d lookups, Retry-After %q", i, r.Header.Get("Retry-After"))
			}
			break
		}
		if r.Status != 200 || i > 100 {
			t.Fatalf("lookup %d: %d %s", i, r.Status, r.Raw)
		}
	}
	// Bob's lookups have a bucket of their own.
	ts.must(t, 200, request{method: "GET", path: "/api/chats/" + tm.chat + "/quiet?userIds=" + tm.alice.ID, token: tm.bob.Token})
}

// TestNotifyAnyway: a post with notifyAnyway reaches a recipient in quiet hours who lets DMs
// through, with the reason in the NOTIFICATION event and the history; the flag is refused when
// it is not a boolean, and it is not part of the message anyone sees.
func TestNotifyAnyway(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	dm := ts.must(t, 201, request{method: "POST", path: "/api/dms", token: tm.alice.Token,
		body: map[string]any{"userIds": []string{tm.bob.ID}}}).str("chat", "id")
	if r := putPrefs(t, ts, tm.bob, map[string]any{"quietHours": quietNow(), "breakThrough": "dms"}); r.Status != 200 {
		t.Fatalf("PUT: %s", r.Raw)
	}
	bob := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	messages := "/api/chats/" + dm + "/messages"

	r := ts.do(t, request{method: "POST", path: messages, token: tm.alice.Token, body: map[string]any{"content": "x", "notifyAnyway": "yes"}})
	if r.Status != 400 || r.errorCode() != "invalid" || !strings.Contains(string(r.Raw), "notifyAnyway") {
		t.Fatalf("notifyAnyway \"yes\": %d %s", r.Status, r.Raw)
	}

	ts.must(t, 201, request{method: "POST", path: messages, token: tm.alice.Token, body: map[string]any{"content": "quiet one"}})
	r = ts.must(t, 201, request{method: "POST", path: messages, token: tm.alice.Token, body: map[string]any{"content": "the build is red", "notifyAnyway": true}})
	if strings.Contains(string(r.Raw), "notifyAnyway") {
		t.Errorf("the answer carries the flag: %s", r.Raw)
	}
	var notes []*backend.Notification
	for len(notes) < 2 {
		ev := bob.nextEvent(t, wait)
		if ev.Type == "NEW_MESSAGE" && strings.Contains(ev.Data(), "notifyAnyway") {
			t.Errorf("NEW_MESSAGE carries the flag: %s", ev.Data())
		}
		if ev.Type == "NOTIFICATION" {
			notes = append(notes, ev.Notification)
		}
	}
	if n := notes[0]; n.Notify || n.BrokeThrough {
		t.Errorf("without the flag: %+v", n)
	}
	if n := notes[1]; !n.Notify || !n.BrokeThrough || n.Reason != "alice chose to notify you during your quiet hours" {
		t.Errorf("with the flag: %+v", n)
	}
	h := ts.must(t, 200, request{method: "GET", path: "/api/notifications", token: tm.bob.Token})
	if !strings.Contains(string(h.Raw), `"brokeThrough":true`) || !strings.Contains(string(h.Raw), "chose to notify you during your quiet hours") {
		t.Errorf("history: %s", h.Raw)
	}
}
