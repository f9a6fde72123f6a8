package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

// userOf decodes a USER_UPDATED event's user.
func userOf(tb testing.TB, ev event) backend.User {
	tb.Helper()
	var v struct{ User *backend.User }
	if err := json.Unmarshal([]byte(ev.Data()), &v); err != nil || v.User == nil {
		tb.Fatalf("%s event without a user: %s", ev.Type, ev.Data())
	}
	return *v.User
}

// nextUserUpdated skips presence and other events up to the next USER_UPDATED.
func (sc *streamClient) nextUserUpdated(tb testing.TB) backend.User {
	tb.Helper()
	return userOf(tb, sc.nextOfType(tb, "USER_UPDATED", wait))
}

func patchMe(token string, body any) request {
	return request{method: "PATCH", path: "/api/me", token: token, body: body}
}

func TestPatchMeValidatesAndAuthorizes(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	soon := time.Now().Add(time.Hour).UnixMilli()
	r := ts.must(t, 200, patchMe(tm.bob.Token, map[string]any{"displayName": "  Bob B.  ", "statusText": "On call",
		"statusEmoji": "📟", "statusExpiresAt": soon}))
	if r.str("user", "displayName") != "Bob B." || r.str("user", "statusText") != "On call" || r.str("user", "statusEmoji") != "📟" ||
		int64(r.Body["user"].(map[string]any)["statusExpiresAt"].(float64)) != soon || r.str("user", "id") != tm.bob.ID {
		t.Fatalf("patched: %s", r.Raw)
	}
	if r.str("user", "avatarColor") == "" || strings.Contains(string(r.Raw), "password") {
		t.Fatalf("user JSON: %s", r.Raw)
	}
	if me := ts.must(t, 200, request{method: "GET", path: "/api/me", token: tm.bob.Token}); me.str("user", "statusText") != "On call" {
		t.Fatalf("GET /api/me after the patch: %s", me.Raw)
	}
	// null clears the expiry, the status stays.
	r = ts.must(t, 200, patchMe(tm.bob.Token, map[string]any{"statusExpiresAt": nil}))
	if _, ok := r.Body["user"].(map[string]any)["statusExpiresAt"]; ok || r.str("user", "statusText") != "On call" {
		t.Fatalf("null expiry: %s", r.Raw)
	}

	for name, body := range map[string]any{
		"empty name":      map[string]any{"displayName": " "},
		"long name":       map[string]any{"displayName": strings.Repeat("x", backend.MaxDisplayNameLen+1)},
		"long status":     map[string]any{"statusText": strings.Repeat("x", backend.MaxStatusTextLen+1)},
		"two emoji":       map[string]any{"statusEmoji": "🌴🌴"},
		"word emoji":      map[string]any{"statusEmoji": "away"},
		"past expiry":     map[string]any{"statusText": "x", "statusExpiresAt": time.Now().Add(-time.Minute).UnixMilli()},
		"string expiry":   map[string]any{"statusExpiresAt": "tomorrow"},
		"unknown field":   map[string]any{"username": "root"},
		"role escalation": map[string]any{"role": "admin"},
	} {
		t.Run(name, func(t *testing.T) {
			if r := ts.do(t, patchMe(tm.bob.Token, body)); r.Status != 400 || r.errorCode() != "invalid" {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
	if me := ts.must(t, 200, request{method: "GET", path: "/api/me", token: tm.bob.Token}); me.str("user", "displayName") != "Bob B." || me.str("user", "role") != "member" {
		t.Fatalf("refused patches changed the user: %s", me.Raw)
	}
	ts.must(t, 401, patchMe("", map[string]any{"displayName": "x"}))
	// PATCH /api/me changes only the caller: the admin's patch is theirs alone.
	ts.must(t, 200, patchMe(tm.alice.Token, map[string]any{"displayName": "Alice Admin"}))
	if me := ts.must(t, 200, request{method: "GET", path: "/api/me", token: tm.bob.Token}); me.str("user", "displayName") != "Bob B." {
		t.Fatalf("the admin's patch reached bob: %s", me.Raw)
	}
	bot := ts.must(t, 201, request{method: "POST", path: "/api/bots", token: tm.alice.Token, body: map[string]string{"name": "Deploy Bot"}}).str("token")
	ts.must(t, 403, patchMe(bot, map[string]any{"displayName": "Evil"}))
	ts.must(t, 403, request{method: "PUT", path: "/api/me/avatar", token: bot, raw: pngBytes(t, 10, 10)})
}

func TestProfileChangesAreRateLimited(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	limited := 0
	for i := range 15 {
		r := ts.do(t, patchMe(tm.bob.Token, map[string]any{"statusText": strings.Repeat("z", i+1)}))
		if r.Status == 429 {
			limited++
			if r.Header.Get("Retry-After") == "" || r.errorCode() != "rate_limited" {
				t.Fatalf("429 without Retry-After: %v %s", r.Header, r.Raw)
			}
		}
	}
	if limited == 0 {
		t.Fatal("15 profile changes at once were all accepted")
	}
	ts.must(t, 200, patchMe(tm.alice.Token, map[string]any{"statusText": "others are not limited"}))
}

// USER_UPDATED reaches the subject and everyone who shares a chat with them, live and on resume,
// and nobody else.
func TestUserUpdatedReachesCoMembersOnly(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	mark := ts.post(t, tm.alice, tm.chat, "before") // a logged id to resume after
	bob := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	alice := ts.openStream(t, "/api/stream", tm.alice.Token, "")
	carol := ts.openStream(t, "/api/stream", tm.carol.Token, "")
	bobNotes := ts.openStream(t, "/api/notifications/"+tm.bob.ID+"/stream", tm.bob.Token, "")

	ts.must(t, 200, patchMe(tm.alice.Token, map[string]any{"displayName": "Alice Liddell", "statusEmoji": "🐇"}))
	for name, sc := range map[string]*streamClient{"bob": bob, "alice": alice, "bob's notifications": bobNotes} {
		if u := sc.nextUserUpdated(t); u.ID != tm.alice.ID || u.DisplayName != "Alice Liddell" || u.StatusEmoji != "🐇" || u.PasswordHash != "" {
			t.Fatalf("%s got %+v", name, u)
		}
	}
	// carol shares no chat with alice: the first USER_UPDATED she sees is her own.
	ts.must(t, 200, patchMe(tm.carol.Token, map[string]any{"statusText": "new here"}))
	if u := carol.nextUserUpdated(t); u.ID != tm.carol.ID {
		t.Fatalf("carol got alice's update: %+v", u)
	}

	// Durable: a client that resumes after an older event gets it from the log.
	resumed := ts.openStream(t, "/api/stream", tm.bob.Token, mark)
	ev := resumed.nextOfType(t, "USER_UPDATED", wait)
	if ev.ID == "" || userOf(t, ev).DisplayName != "Alice Liddell" {
		t.Fatalf("resumed: %s", ev.Data())
	}
	// and carol's resume does not hold it.
	ts.post(t, tm.alice, tm.chat, "after")
	again := ts.openStream(t, "/api/stream", tm.carol.Token, mark)
	if u := again.nextUserUpdated(t); u.ID != tm.carol.ID {
		t.Fatalf("carol's resume replayed %+v", u)
	}
	// An unchanged patch emits nothing.
	last := ts.must(t, 200, patchMe(tm.alice.Token, map[string]any{"displayName": "Alice Liddell"}))
	if last.str("user", "displayName") != "Alice Liddell" {
		t.Fatalf("unchanged patch: %s", last.Raw)
	}
	ts.post(t, tm.alice, tm.chat, "marker")
	if ev := bob.nextEventExcept(t, wait, "AGENT_STATUS_CHANGED"); ev.Type != "NEW_MESSAGE" {
		t.Fatalf("after an unchanged patch bob got %s", ev.Data())
	}
}

func TestExpiredStatusReadsAsCleared(t *testing.T) {
	clock := newTestClock()
	ts := newTestServer(t, serverOptions{clock: clock.Now, storeClock: clock.Now})
	tm := ts.team(t)
	ts.must(t, 200, patchMe(tm.bob.Token, map[string]any{"statusText": "Lunch", "statusEmoji": "🍜",
		"statusExpiresAt": clock.Now().Add(time.Hour).UnixMilli()}))
	clock.Advance(59 * time.Minute)
	if me := ts.must(t, 200, request{method: "GET", path: "/api/me", token: tm.bob.Token}); me.str("user", "statusText") != "Lunch" {
		t.Fatalf("before expiry: %s", me.Raw)
	}
	clock.Advance(2 * time.Minute)
	if me := ts.must(t, 200, request{method: "GET", path: "/api/me", token: tm.bob.Token}); me.str("user", "statusText") != "" || me.str("user", "statusEmoji") != "" {
		t.Fatalf("after expiry /api/me: %s", me.Raw)
	}
	users := ts.must(t, 200, request{method: "GET", path: "/api/users", token: tm.alice.Token})
	if strings.Contains(string(users.Raw), "Lunch") {
		t.Fatalf("after expiry the directory: %s", users.Raw)
	}
}

func TestUserDirectorySearch(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	ts.must(t, 200, patchMe(tm.carol.Token, map[string]any{"displayName": "Carol Ångström"}))
	ids := func(r response) []string {
		var out []string
		for _, u := range r.Body["users"].([]any) {
			out = append(out, u.(map[string]any)["id"].(string))
		}
		return out
	}
	get := func(query string) response {
		return ts.must(t, 200, request{method: "GET", path: "/api/users" + query, token: tm.bob.Token})
	}
	// Without parameters: everyone, as before, with presence.
	all := get("")
	if got := ids(all); len(got) != 3 || all.Body["nextCursor"] != nil {
		t.Fatalf("directory: %s", all.Raw)
	}
	if _, ok := all.Body["users"].([]any)[0].(map[string]any)["online"]; !ok {
		t.Fatalf("directory without online: %s", all.Raw)
	}
	if got := ids(get("?q=BO")); len(got) != 1 || got[0] != tm.bob.ID {
		t.Fatalf("q=BO: %v", got)
	}
	if got := ids(get("?q=%C3%A5ngstr")); len(got) != 1 || got[0] != tm.carol.ID {
		t.Fatalf("q=ångstr (display name): %v", got)
	}
	if got := ids(get("?q=zzz")); len(got) != 0 {
		t.Fatalf("q=zzz: %v", got)
	}
	first := get("?limit=2")
	next, _ := first.Body["nextCursor"].(string)
	if got := ids(first); len(got) != 2 || got[0] != tm.alice.ID || next != got[1] {
		t.Fatalf("limit=2: %s", first.Raw)
	}
	rest := get("?limit=2&cursor=" + next)
	if got := ids(rest); len(got) != 1 || got[0] != tm.carol.ID || rest.Body["nextCursor"] != nil {
		t.Fatalf("second page: %s", rest.Raw)
	}
	for _, q := range []string{"?limit=0", "?limit=201", "?limit=x", "?cursor=nope", "?q=" + strings.Repeat("a", backend.MaxUserQueryLen+1)} {
		ts.must(t, 400, request{method: "GET", path: "/api/users" + q, token: tm.bob.Token})
	}
	ts.must(t, 401, request{method: "GET", path: "/api/users?q=a"})
}

// avatarSource is a w×h image in three vertical bands, red | green | blue, so that its centred
// square of a 3:1 image is all green.
func avatarSource(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{0, 200, 0, 255}
			if x < w/3 {
				c = color.RGBA{200, 0, 0, 255}
			} else if x >= w-w/3 {
				c = color.RGBA{0, 0, 200, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func putAvatar(token string, body []byte) request {
	return request{method: "PUT", path: "/api/me/avatar", token: token, raw: body, header: map[string]string{"Content-Type": "image/png"}}
}

func TestAvatarUploadServeAndDelete(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	bob := ts.openStream(t, "/api/stream", tm.bob.Token, "")

	r := ts.must(t, 200, putAvatar(tm.alice.Token, encodePNG(t, avatarSource(300, 100))))
	url := r.str("user", "avatarUrl")
	if !strings.HasPrefix(url, "/api/users/"+tm.alice.ID+"/avatar?v=") {
		t.Fatalf("avatarUrl %q", url)
	}
	if u := bob.nextUserUpdated(t); u.ID != tm.alice.ID || u.AvatarURL != url {
		t.Fatalf("bob's USER_UPDATED: %+v", u)
	}
	if users := ts.must(t, 200, request{method: "GET", path: "/api/users", token: tm.carol.Token}); !strings.Contains(string(users.Raw), url) {
		t.Fatalf("directory without the avatar: %s", users.Raw)
	}

	for _, size := range []int{64, 256} {
		// Any signed-in user may see it: carol shares no chat with alice.
		resp := ts.do(t, request{method: "GET", path: url + "&size=" + strconv.Itoa(size), token: tm.carol.Token})
		if resp.Status != 200 {
			t.Fatalf("size %d: %d %s", size, resp.Status, resp.Raw)
		}
		h := resp.Header
		// An opaque picture is stored as JPEG.
		if h.Get("Content-Type") != "image/jpeg" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.HasPrefix(h.Get("Content-Security-Policy"), "sandbox") || h.Get("ETag") == "" ||
			!strings.Contains(h.Get("Cache-Control"), "immutable") {
			t.Fatalf("size %d headers: %v", size, h)
		}
		img, err := jpeg.Decode(bytes.NewReader(resp.Raw))
		if err != nil {
			t.Fatalf("size %d is not a JPEG: %v", size, err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Fatalf("size %d is %v", size, b)
		}
		// The centred square of the bands is the green one, to its corners.
		for _, p := range []image.Point{{1, 1}, {size / 2, size / 2}, {size - 2, size - 2}} {
			if r, g, b, _ := img.At(p.X, p.Y).RGBA(); g>>8 < 150 || r>>8 > 60 || b>>8 > 60 {
				t.Fatalf("size %d pixel %v is %d,%d,%d: not the centre of the image", size, p, r>>8, g>>8, b>>8)
			}
		}
		// Revalidation by ETag answers 304.
		if again := ts.do(t, request{method: "GET", path: url + "&size=" + strconv.Itoa(size), token: tm.bob.Token,
			header: map[string]string{"If-None-Match": h.Get("ETag")}}); again.Status != 304 {
			t.Fatalf("If-None-Match: %d", again.Status)
		}
	}
	ts.must(t, 400, request{method: "GET", path: url + "&size=100", token: tm.bob.Token})
	ts.must(t, 401, request{method: "GET", path: url + "&size=64"})
	ts.must(t, 404, request{method: "GET", path: "/api/users/" + tm.bob.ID + "/avatar", token: tm.alice.Token})
	ts.must(t, 404, request{method: "GET", path: "/api/users/" + unknownID + "/avatar", token: tm.alice.Token})

	// A JPEG (taller than wide) works too, and gets a new URL.
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, avatarSource(90, 300), nil); err != nil {
		t.Fatal(err)
	}
	second := ts.must(t, 200, request{method: "PUT", path: "/api/me/avatar", token: tm.alice.Token, raw: jpg.Bytes()}).str("user", "avatarUrl")
	if second == url || second == "" {
		t.Fatalf("second avatar URL %q after %q", second, url)
	}
	if u := bob.nextUserUpdated(t); u.AvatarURL != second {
		t.Fatalf("bob's second USER_UPDATED: %+v", u)
	}
	if old := ts.do(t, request{method: "GET", path: url + "&size=64", token: tm.bob.Token}); strings.Contains(old.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("an old URL is served as immutable: %v", old.Header)
	}
	// A picture with transparency stays a PNG, with its alpha.
	clear := avatarSource(100, 100)
	clear.Set(0, 0, color.RGBA{})
	for y := range 100 {
		for x := range 100 {
			if (x-50)*(x-50)+(y-50)*(y-50) > 40*40 {
				clear.Set(x, y, color.RGBA{})
			}
		}
	}
	third := ts.must(t, 200, putAvatar(tm.alice.Token, encodePNG(t, clear))).str("user", "avatarUrl")
	bob.nextUserUpdated(t)
	resp := ts.must(t, 200, request{method: "GET", path: third + "&size=64", token: tm.bob.Token})
	img, err := png.Decode(bytes.NewReader(resp.Raw))
	if err != nil || resp.Header.Get("Content-Type") != "image/png" || img.Bounds().Dx() != 64 {
		t.Fatalf("transparent avatar: %v %v", err, resp.Header)
	}
	if _, _, _, a := img.At(1, 1).RGBA(); a != 0 {
		t.Fatalf("the transparent corner has alpha %d", a>>8)
	}
	second = third

	// Only the caller's own avatar can be removed: DELETE /api/me/avatar has no other target.
	ts.must(t, 401, request{method: "DELETE", path: "/api/me/avatar"})
	ts.must(t, 200, request{method: "DELETE", path: "/api/me/avatar", token: tm.bob.Token})
	ts.must(t, 200, request{method: "GET", path: second + "&size=64", token: tm.bob.Token})
	gone := ts.must(t, 200, request{method: "DELETE", path: "/api/me/avatar", token: tm.alice.Token})
	if gone.str("user", "avatarUrl") != "" || gone.str("user", "avatarColor") == "" {
		t.Fatalf("after delete: %s", gone.Raw)
	}
	if u := bob.nextUserUpdated(t); u.ID != tm.alice.ID || u.AvatarURL != "" {
		t.Fatalf("bob's USER_UPDATED after delete: %+v", u)
	}
	ts.must(t, 404, request{method: "GET", path: second + "&size=64", token: tm.bob.Token})
}

func TestAvatarRefusesBadImages(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	broken := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 200)...)
	huge := bytes.Repeat([]byte{0}, backend.MaxAvatarUpload+1)
	copy(huge, encodePNG(t, avatarSource(30, 30)))
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"empty", []byte{}, 400, "invalid"},
		{"text", []byte("hello, this is not an image"), 415, "unsupported"},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), 415, "unsupported"},
		{"broken png", broken, 400, "invalid"},
		{"too large", huge, 413, "too_large"},
		// A decompression bomb: a header for 20000×20000 RGBA pixels (1.5 GiB decoded) in a few
		// bytes, refused by the memory its decoding would need, before decoding.
		{"bomb", pngHeader(20000, 20000), 413, "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := ts.do(t, putAvatar(tm.bob.Token, tc.body)); r.Status != tc.status || r.errorCode() != tc.code {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
	// A chunked body (no Content-Length) is cut off at the limit.
	req, err := http.NewRequest("PUT", ts.URL+"/api/me/avatar", io.MultiReader(bytes.NewReader(huge), strings.NewReader("")))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tm.bob.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 || req.ContentLength != 0 {
		t.Fatalf("chunked oversize body: %d (ContentLength %d)", resp.StatusCode, req.ContentLength)
	}
	ts.must(t, 401, request{method: "PUT", path: "/api/me/avatar", raw: encodePNG(t, avatarSource(30, 30))})
	if me := ts.must(t, 200, request{method: "GET", path: "/api/me", token: tm.bob.Token}); me.str("user", "avatarUrl") != "" {
		t.Fatalf("a refused image became the avatar: %s", me.Raw)
	}
}

// signIn signs the user in again with a User-Agent and returns the new token.
func (ts *testServer) signIn(tb testing.TB, username, ua string) string {
	tb.Helper()
	rq := login(username, "password-"+username)
	rq.header = map[string]string{"User-Agent": ua}
	return ts.must(tb, 200, rq).str("token")
}

type sessionJSON struct {
	ID         string `json:"id"`
	Device     string `json:"device"`
	IP         string `json:"ip"`
	CreatedAt  int64  `json:"createdAt"`
	LastSeenAt int64  `json:"lastSeenAt"`
	Current    bool   `json:"current"`
}

func (ts *testServer) sessions(tb testing.TB, token string) []sessionJSON {
	tb.Helper()
	r := ts.must(tb, 200, request{method: "GET", path: "/api/sessions", token: token})
	var v struct{ Sessions []sessionJSON }
	if err := json.Unmarshal(r.Raw, &v); err != nil {
		tb.Fatal(err)
	}
	return v.Sessions
}

func TestSessionsListDeleteAndRevokeOthers(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	chrome := ts.signIn(t, "bob", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	desktop := ts.signIn(t, "bob", "herald-client")

	list := ts.sessions(t, chrome)
	if len(list) != 3 {
		t.Fatalf("bob's sessions: %+v", list)
	}
	byDevice := map[string]sessionJSON{}
	for _, s := range list {
		byDevice[s.Device] = s
		if len(s.ID) != 32 || strings.Contains(chrome, s.ID) || strings.Contains(desktop, s.ID) || s.IP != "127.0.0.1" || s.CreatedAt == 0 || s.LastSeenAt < s.CreatedAt {
			t.Fatalf("session entry %+v", s)
		}
	}
	if !byDevice["Chrome on Linux"].Current || byDevice["Herald desktop"].Current || byDevice["API client"].Current {
		t.Fatalf("current marks: %+v", list)
	}
	if other := ts.sessions(t, tm.alice.Token); len(other) != 1 || !other[0].Current {
		t.Fatalf("alice sees %+v", other)
	}
	ts.must(t, 401, request{method: "GET", path: "/api/sessions"})
	ts.must(t, 401, request{method: "POST", path: "/api/sessions/revoke-others"})

	chromeStream := ts.openStream(t, "/api/stream", chrome, "")
	desktopStream := ts.openStream(t, "/api/stream", desktop, "")
	firstStream := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	for _, sc := range []*streamClient{chromeStream, desktopStream, firstStream} {
		sc.next(t, wait)
	}

	// Nobody else can end bob's sessions, the admin neither: 404, as for an unknown id.
	desktopID := byDevice["Herald desktop"].ID
	for _, token := range []string{tm.alice.Token, tm.carol.Token} {
		ts.must(t, 404, request{method: "DELETE", path: "/api/sessions/" + desktopID, token: token})
	}
	ts.must(t, 401, request{method: "DELETE", path: "/api/sessions/" + desktopID})
	ts.must(t, 400, request{method: "DELETE", path: "/api/sessions/not-an-id", token: chrome})
	ts.must(t, 404, request{method: "DELETE", path: "/api/sessions/" + strings.Repeat("0", 32), token: chrome})

	start := time.Now()
	ts.must(t, 204, request{method: "DELETE", path: "/api/sessions/" + desktopID, token: chrome})
	if end := awaitSessionEnd(t, desktopStream, start, 5*time.Second); end.last.Type != "SESSION_ENDED" || end.last.reason() != "revoked" {
		t.Fatalf("the deleted session's stream ended with %s %q", end.last.Type, end.last.reason())
	}
	ts.must(t, 401, request{method: "GET", path: "/api/me", token: desktop})
	if list := ts.sessions(t, chrome); len(list) != 2 {
		t.Fatalf("after delete: %+v", list)
	}

	start = time.Now()
	r := ts.must(t, 200, request{method: "POST", path: "/api/sessions/revoke-others", token: chrome})
	if n, _ := r.Body["revoked"].(float64); n != 1 {
		t.Fatalf("revoke-others: %s", r.Raw)
	}
	if end := awaitSessionEnd(t, firstStream, start, 5*time.Second); end.last.Type != "SESSION_ENDED" || end.last.reason() != "revoked" {
		t.Fatalf("the other session's stream ended with %s %q", end.last.Type, end.last.reason())
	}
	ts.must(t, 401, request{method: "GET", path: "/api/me", token: tm.bob.Token})
	// The caller's own session and stream go on; alice's are untouched.
	ts.post(t, tm.alice, tm.chat, "still here")
	if ev := chromeStream.nextOfType(t, "NEW_MESSAGE", wait); ev.Message.Content != "still here" {
		t.Fatalf("the current session's stream: %s", ev.Data())
	}
	ts.must(t, 200, request{method: "GET", path: "/api/me", token: tm.alice.Token})
	if list := ts.sessions(t, chrome); len(list) != 1 || !list[0].Current {
		t.Fatalf("after revoke-others: %+v", list)
	}

	// Deleting the current session signs out: its cookie is cleared, its stream ends.
	start = time.Now()
	del := ts.must(t, 204, request{method: "DELETE", path: "/api/sessions/" + byDevice["Chrome on Linux"].ID, token: chrome})
	if c := del.Header.Get("Set-Cookie"); !strings.Contains(c, "herald_session=;") {
		t.Fatalf("cookie after deleting the current session: %q", c)
	}
	if end := awaitSessionEnd(t, chromeStream, start, 5*time.Second); end.last.reason() != "signed_out" {
		t.Fatalf("own stream ended with %s %q", end.last.Type, end.last.reason())
	}
	ts.must(t, 401, request{method: "GET", path: "/api/me", token: chrome})
}

// A session's last-seen time is written at most once a minute, however many requests it makes.
func TestSessionLastSeenIsWrittenAtMostOncePerMinute(t *testing.T) {
	clock := newTestClock()
	ts := newTestServer(t, serverOptions{clock: clock.Now, storeClock: clock.Now})
	tm := ts.team(t)
	seen := func() int64 { return ts.sessions(t, tm.bob.Token)[0].LastSeenAt }
	first := seen()
	commits := ts.Store.Commits()
	for range 5 {
		clock.Advance(10 * time.Second)
		ts.must(t, 200, request{method: "GET", path: "/api/me", token: tm.bob.Token})
	}
	if got := ts.Store.Commits(); got != commits {
		t.Fatalf("%d commits for reads within a minute", got-commits)
	}
	if s := seen(); s != first {
		t.Fatalf("last seen moved within a minute: %d → %d", first, s)
	}
	clock.Advance(11 * time.Second)
	ts.must(t, 200, request{method: "GET", path: "/api/me", token: tm.bob.Token})
	if s := seen(); s != clock.Now().UnixMilli() {
		t.Fatalf("last seen after a minute: %d, want %d", s, clock.Now().UnixMilli())
	}
}

// Changing the password needs the current one and ends every other session of the user and its
// streams (TestPasswordChangeEndsOtherSessions covers the streams); the sessions list shows it.
func TestPasswordChangeLeavesOnlyTheCurrentSession(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	other := ts.signIn(t, "bob", "curl/8")
	change := func(token, current string) response {
		return ts.do(t, request{method: "POST", path: "/api/me/password", token: token,
			body: map[string]string{"currentPassword": current, "newPassword": "a-new-password"}})
	}
	if r := change(tm.bob.Token, ""); r.Status != 403 {
		t.Fatalf("no current password: %d %s", r.Status, r.Raw)
	}
	if r := change("", "password-bob"); r.Status != 401 {
		t.Fatalf("no auth: %d", r.Status)
	}
	if len(ts.sessions(t, tm.bob.Token)) != 2 {
		t.Fatal("a refused change ended sessions")
	}
	if r := change(tm.bob.Token, "password-bob"); r.Status != http.StatusNoContent {
		t.Fatalf("change: %d %s", r.Status, r.Raw)
	}
	ts.must(t, 401, request{method: "GET", path: "/api/sessions", token: other})
	if list := ts.sessions(t, tm.bob.Token); len(list) != 1 || !list[0].Current {
		t.Fatalf("after the change: %+v", list)
	}
	if n := len(ts.sessions(t, tm.alice.Token)); n != 1 {
		t.Fatalf("alice's sessions: %d", n)
	}
}

// statusOf decodes an AGENT_STATUS_CHANGED event: whose status, and which.
func statusOf(tb testing.TB, ev event) (string, string) {
	tb.Helper()
	var v struct {
		Agent  struct{ ID string }
		Status string
	}
	if err := json.Unmarshal([]byte(ev.Data()), &v); err != nil {
		tb.Fatal(err)
	}
	return v.Agent.ID, v.Status
}

// nextStatusOf skips events up to the next AGENT_STATUS_CHANGED about userID and returns its
// status.
func (sc *streamClient) nextStatusOf(tb testing.TB, userID string) string {
	tb.Helper()
	deadline := time.Now().Add(wait)
	for {
		ev := sc.nextOfType(tb, "AGENT_STATUS_CHANGED", time.Until(deadline))
		if id, status := statusOf(tb, ev); id == userID {
			return status
		}
	}
}

func TestAwayIsReportedByAConnectedClient(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	alice := ts.openStream(t, "/api/stream", tm.alice.Token, "")
	bob := ts.openStream(t, "/api/stream", tm.bob.Token, "")
	if s := alice.nextStatusOf(t, tm.bob.ID); s != "online" {
		t.Fatalf("bob connected: %s", s)
	}
	presence := func(token string, body any) response {
		return ts.do(t, request{method: "PUT", path: "/api/me/presence", token: token, body: body})
	}
	if r := presence(tm.bob.Token, map[string]any{"away": true}); r.Status != 200 || r.str("status") != "away" {
		t.Fatalf("away: %d %s", r.Status, r.Raw)
	}
	if s := alice.nextStatusOf(t, tm.bob.ID); s != "away" {
		t.Fatalf("alice saw %s", s)
	}
	users := ts.must(t, 200, request{method: "GET", path: "/api/users?q=bob", token: tm.alice.Token})
	if u := users.Body["users"].([]any)[0].(map[string]any); u["status"] != "away" || u["online"] != true {
		t.Fatalf("directory: %s", users.Raw)
	}
	if r := presence(tm.bob.Token, map[string]any{"away": false}); r.str("status") != "online" {
		t.Fatalf("back: %s", r.Raw)
	}
	if s := alice.nextStatusOf(t, tm.bob.ID); s != "online" {
		t.Fatalf("alice saw %s", s)
	}
	// A reload while away starts online again.
	presence(tm.bob.Token, map[string]any{"away": true})
	alice.nextStatusOf(t, tm.bob.ID)
	bob.close()
	ts.openStream(t, "/api/stream", tm.bob.Token, "")
	if s := alice.nextStatusOf(t, tm.bob.ID); s != "online" {
		t.Fatalf("after a reload: %s", s)
	}
	// Without a stream, a report changes nothing: carol stays offline.
	if r := presence(tm.carol.Token, map[string]any{"away": true}); r.Status != 200 || r.str("status") != "offline" {
		t.Fatalf("carol without a stream: %d %s", r.Status, r.Raw)
	}
	ts.must(t, 400, request{method: "PUT", path: "/api/me/presence", token: tm.bob.Token, body: map[string]any{}})
	ts.must(t, 400, request{method: "PUT", path: "/api/me/presence", token: tm.bob.Token, body: map[string]any{"away": "yes"}})
	ts.must(t, 401, request{method: "PUT", path: "/api/me/presence", body: map[string]any{"away": true}})
	bot := ts.must(t, 201, request{method: "POST", path: "/api/bots", token: tm.alice.Token, body: map[string]string{"name": "Deploy Bot"}}).str("token")
	ts.must(t, 403, request{method: "PUT", path: "/api/me/presence", token: bot, body: map[string]any{"away": true}})
}

// An open stream keeps its session's last-seen time current (at most once a minute).
func TestOpenStreamKeepsItsSessionSeen(t *testing.T) {
	clock := newTestClock()
	ts := newTestServer(t, serverOptions{clock: clock.Now, storeClock: clock.Now, keepalive: 20 * time.Millisecond})
	tm := ts.team(t)
	streaming := ts.signIn(t, "bob", "herald-client")
	sc := ts.openStream(t, "/api/stream", streaming, "")
	clock.Advance(2 * time.Minute)
	// The loop records the session after writing a keepalive: by the second, the first is done.
	for seen := 0; seen < 2; {
		if f, ok := sc.next(t, wait); !ok {
			t.Fatal("stream ended")
		} else if f.Event == "keepalive" {
			seen++
		}
	}
	found := false
	for _, s := range ts.sessions(t, tm.bob.Token) {
		if s.Device == "Herald desktop" {
			found = true
			if s.LastSeenAt != clock.Now().UnixMilli() {
				t.Fatalf("the streaming session was last seen %d, want %d", s.LastSeenAt, clock.Now().UnixMilli())
			}
		}
	}
	if !found {
		t.Fatal("the streaming session is not listed")
	}
}

// The sessions list is bounded: the newest sessions, and always the caller's.
func TestSessionsListIsBounded(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t) // bob's first session is his oldest
	start := time.Now()
	for i := range 205 {
		at := start.Add(time.Duration(i+1) * time.Second)
		if err := ts.Store.CreateSession(context.Background(), "token-"+strconv.Itoa(i),
			backend.Session{UserID: tm.bob.ID, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	r := ts.must(t, 200, request{method: "GET", path: "/api/sessions", token: tm.bob.Token})
	var v struct {
		Sessions []sessionJSON
		Total    int
	}
	if err := json.Unmarshal(r.Raw, &v); err != nil {
		t.Fatal(err)
	}
	if v.Total != 206 || len(v.Sessions) != 200 || !v.Sessions[0].Current {
		t.Fatalf("total %d, listed %d, first %+v", v.Total, len(v.Sessions), v.Sessions[0])
	}
	if last := v.Sessions[199]; last.CreatedAt != start.Add(205*time.Second).UnixMilli() {
		t.Fatalf("the newest is not listed last: %+v", last)
	}
}
