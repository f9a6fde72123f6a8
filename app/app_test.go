package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// fakeWindow records what the app asks of its window.
type fakeWindow struct {
	mu     sync.Mutex
	titles []string
	shown  int
	quit   int
}

func (w *fakeWindow) SetTitle(t string) { w.mu.Lock(); w.titles = append(w.titles, t); w.mu.Unlock() }
func (w *fakeWindow) Show()             { w.mu.Lock(); w.shown++; w.mu.Unlock() }
func (w *fakeWindow) Hide()             {}
func (w *fakeWindow) Quit()             { w.mu.Lock(); w.quit++; w.mu.Unlock() }

func (w *fakeWindow) title() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.titles) == 0 {
		return ""
	}
	return w.titles[len(w.titles)-1]
}

// recordingTray stands in for the OS tray.
type recordingTray struct {
	mu   sync.Mutex
	tips []string
	menu TrayMenu
}

func (r *recordingTray) Show(icon []byte, tooltip string) {
	r.mu.Lock()
	r.tips = append(r.tips, tooltip)
	r.mu.Unlock()
}

func (r *recordingTray) tooltip() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.tips) == 0 {
		return ""
	}
	return r.tips[len(r.tips)-1]
}

// runApp starts an App on dataDir as Wails would (without a GUI) and serves what its webview sees.
func runApp(t *testing.T, opts Options) (*App, *httptest.Server, *fakeWindow) {
	t.Helper()
	opts.WebClient = fstest.MapFS{"index.html": {Data: []byte("<html></html>")}}
	opts.Logger = quietLog()
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	tray := &recordingTray{}
	opts.StartTray = func(m TrayMenu, _ *slog.Logger) (Tray, func(), error) {
		tray.menu = m
		return tray, func() {}, nil
	}
	if opts.Notifier == nil {
		opts.Notifier = &recordingNotifier{}
	}
	a := New(opts)
	w := &fakeWindow{}
	a.start(context.Background(), w)
	front := httptest.NewServer(a.Middleware(http.FileServerFS(opts.WebClient)))
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			front.Close()
			a.Shutdown(context.Background())
		}
	}
	t.Cleanup(stop)
	return a, front, w
}

func desktopStateOf(t *testing.T, base string) desktopState {
	t.Helper()
	var s desktopState
	if resp := call(t, base, "GET", "/desktop/state", "", nil, &s); resp.StatusCode != 200 {
		t.Fatalf("state: %d", resp.StatusCode)
	}
	return s
}

func TestFirstRunHostThenJoinThenRestart(t *testing.T) {
	hostDir := t.TempDir()
	host, front, window := runApp(t, Options{DataDir: hostDir})
	if s := desktopStateOf(t, front.URL); s.Configured || s.SignedIn {
		t.Fatalf("first run state %+v", s)
	}

	// A refused account leaves no half-set-up team behind.
	var apiErr struct {
		Error struct{ Code, Message string }
	}
	resp := call(t, front.URL, "POST", "/desktop/host", "", map[string]string{"hostAddr": "127.0.0.1:0", "teamName": "Acme",
		"username": "owner", "password": "short"}, &apiErr)
	if resp.StatusCode != 400 || apiErr.Error.Code != "invalid" || !strings.Contains(apiErr.Error.Message, "assword") {
		t.Fatalf("weak password: %d %+v", resp.StatusCode, apiErr)
	}
	if s := desktopStateOf(t, front.URL); s.Configured {
		t.Fatalf("state after a refused setup %+v", s)
	}
	if resp := call(t, front.URL, "POST", "/desktop/host", "", map[string]string{"hostAddr": "not an address"}, &apiErr); resp.StatusCode != 400 {
		t.Fatalf("bad address: %d", resp.StatusCode)
	}
	resp = call(t, front.URL, "POST", "/desktop/host", "", map[string]string{"hostAddr": "127.0.0.1:0", "teamName": "Acme\u202e",
		"username": "owner", "password": "correct horse 1"}, &apiErr)
	if resp.StatusCode != 400 || apiErr.Error.Message != "teamName must not contain invisible or direction-changing characters (U+202E)." {
		t.Fatalf("team name with a bidi override: %d %+v", resp.StatusCode, apiErr)
	}
	if s := desktopStateOf(t, front.URL); s.Configured {
		t.Fatalf("state after a refused team name %+v", s)
	}

	var hosted struct{ InviteURL, LanURL string }
	resp = call(t, front.URL, "POST", "/desktop/host", "", map[string]string{"hostAddr": "127.0.0.1:0", "teamName": "Acme",
		"username": "owner", "displayName": "Olivia", "password": "correct horse 1"}, &hosted)
	if resp.StatusCode != 200 || !strings.Contains(hosted.InviteURL, "/join/") || !strings.HasPrefix(hosted.InviteURL, hosted.LanURL) ||
		!strings.HasPrefix(hosted.LanURL, "https://") {
		t.Fatalf("host: %d %+v", resp.StatusCode, hosted)
	}
	waitFor(t, "the host app to go live", func() bool { return desktopStateOf(t, front.URL).Connection == StateLive })
	s := desktopStateOf(t, front.URL)
	if !s.Configured || s.Mode != "host" || !s.SignedIn || s.TeamName != "Acme" || s.LANURL != hosted.LanURL {
		t.Fatalf("host state %+v", s)
	}
	// The invite link carries the hosted server's certificate fingerprint.
	if len(s.Fingerprint) != 95 || !strings.HasSuffix(hosted.InviteURL, "#sha256="+s.Fingerprint) {
		t.Fatalf("invite link %s, fingerprint %q", hosted.InviteURL, s.Fingerprint)
	}
	if window.title() != "Acme — Herald" {
		t.Fatalf("window title %q", window.title())
	}
	if tip := host.tray.(*recordingTray).tooltip(); tip != "Herald — Live · Acme" {
		t.Fatalf("tray tooltip %q", tip)
	}
	// The page is signed in through the app, without any cookie of its own.
	var me struct {
		User struct{ Username, Role string }
	}
	if resp := call(t, front.URL, "GET", "/api/me", "", nil, &me); resp.StatusCode != 200 || me.User.Role != "admin" {
		t.Fatalf("me through the app: %d %+v", resp.StatusCode, me)
	}
	// A second setup is refused while a team is set up.
	if resp := call(t, front.URL, "POST", "/desktop/host", "", map[string]string{"username": "x", "password": "correct horse 9"}, nil); resp.StatusCode != 409 {
		t.Fatalf("second host: %d", resp.StatusCode)
	}

	// Another member's app joins with the invite link, then registers in the window.
	joiner, joinFront, joinWindow := runApp(t, Options{DataDir: t.TempDir()})
	var joined struct{ Next string }
	if resp := call(t, joinFront.URL, "POST", "/desktop/join", "", map[string]string{"serverUrl": "http://127.0.0.1:1"}, &apiErr); resp.StatusCode != 502 {
		t.Fatalf("join an address nobody answers: %d", resp.StatusCode)
	}
	resp = call(t, joinFront.URL, "POST", "/desktop/join", "", map[string]string{"serverUrl": hosted.InviteURL}, &joined)
	link, _, _ := strings.Cut(hosted.InviteURL, "#")
	code := link[strings.LastIndex(link, "/")+1:]
	if resp.StatusCode != 200 || joined.Next != "/join/"+code {
		t.Fatalf("join: %d %+v", resp.StatusCode, joined)
	}
	var reg map[string]json.RawMessage
	if resp := call(t, joinFront.URL, "POST", "/api/auth/register", "", map[string]string{"username": "bob", "password": "correct horse 2", "inviteCode": code}, &reg); resp.StatusCode != 201 {
		t.Fatalf("register through the joining app: %d %v", resp.StatusCode, reg)
	}
	if _, leaked := reg["token"]; leaked {
		t.Fatal("the token reached the page")
	}
	waitFor(t, "the joining app to go live", func() bool { return desktopStateOf(t, joinFront.URL).Connection == StateLive })
	if js := desktopStateOf(t, joinFront.URL); js.Fingerprint != s.Fingerprint {
		t.Fatalf("the joining app pins %q, the host's certificate is %s", js.Fingerprint, s.Fingerprint)
	}
	// The joined team is named as its host named it (the hosted server's settings), not by its
	// address; an admin's rename reaches both apps' trays and titles live (TEAM_UPDATED).
	joinTray := joiner.tray.(*recordingTray)
	waitFor(t, "the joining app to name the team Acme", func() bool { return desktopStateOf(t, joinFront.URL).TeamName == "Acme" })
	if resp := call(t, front.URL, "PATCH", "/api/team", "", map[string]string{"name": "Acme Labs"}, nil); resp.StatusCode != 200 {
		t.Fatalf("rename the team: %d", resp.StatusCode)
	}
	waitFor(t, "the host's tray to say Acme Labs", func() bool { return host.tray.(*recordingTray).tooltip() == "Herald — Live · Acme Labs" })
	waitFor(t, "the joiner's tray to say Acme Labs", func() bool { return joinTray.tooltip() == "Herald — Live · Acme Labs" })
	if title := joinWindow.title(); title != "Acme Labs — Herald" {
		t.Fatalf("the joiner's window title %q", title)
	}

	// Unread badge: the owner writes to bob; bob's tray and title count it, until bob mutes the chat.
	var bobMe struct{ User struct{ ID string } }
	call(t, joinFront.URL, "GET", "/api/me", "", nil, &bobMe)
	var chat struct{ Chat struct{ ID string } }
	call(t, front.URL, "POST", "/api/chats", "", map[string]any{"name": "plans", "memberIds": []string{bobMe.User.ID}}, &chat)
	call(t, front.URL, "POST", "/api/chats/"+chat.Chat.ID+"/messages", "", map[string]string{"content": "hi bob", "clientId": "c1"}, nil)
	waitFor(t, "bob's unread count", func() bool { return strings.HasSuffix(joinTray.tooltip(), " · 1 unread") })
	if title := joinWindow.title(); !strings.HasPrefix(title, "(1) ") {
		t.Fatalf("bob's window title %q", title)
	}
	// The chat's latest page is cached for reading offline, though bob's window never opened it.
	historyKey := "/api/chats/" + chat.Chat.ID + "/messages?limit=50"
	waitFor(t, "the chat's history in the offline cache", func() bool {
		c, ok, _ := joiner.store.Cached(historyKey)
		return ok && strings.Contains(string(c.Body), "hi bob")
	})
	var prefs struct{ Preferences map[string]any }
	call(t, joinFront.URL, "GET", "/api/preferences", "", nil, &prefs)
	prefs.Preferences["mutedChats"] = []string{chat.Chat.ID}
	if resp := call(t, joinFront.URL, "PUT", "/api/preferences", "", prefs.Preferences, nil); resp.StatusCode != 200 {
		t.Fatalf("mute: %d", resp.StatusCode)
	}
	waitFor(t, "a muted chat to leave the count", func() bool { return !strings.Contains(joinTray.tooltip(), "unread") })

	// The tray's Do Not Disturb sets the server-side preference for every device.
	joinTray.menu.DoNotDisturb("1h")
	waitFor(t, "the tooltip to say do not disturb", func() bool { return strings.Contains(joinTray.tooltip(), " · do not disturb until ") })
	call(t, joinFront.URL, "GET", "/api/preferences", "", nil, &prefs)
	dnd, _ := prefs.Preferences["doNotDisturb"].(map[string]any)
	until, _ := time.Parse(time.RFC3339, fmt.Sprint(dnd["until"]))
	if d := time.Until(until); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("do not disturb after the tray's 1 hour: %v", prefs.Preferences["doNotDisturb"])
	}
	joinTray.menu.DoNotDisturb("off")
	prefs.Preferences = nil // decoding into a map merges: start afresh
	call(t, joinFront.URL, "GET", "/api/preferences", "", nil, &prefs)
	if prefs.Preferences["doNotDisturb"] != nil {
		t.Fatalf("do not disturb after off: %v", prefs.Preferences["doNotDisturb"])
	}
	waitFor(t, "the tooltip to drop do not disturb", func() bool { return !strings.Contains(joinTray.tooltip(), "do not disturb") })

	// Restart the host app: it goes straight back to its team, signed in, on the same address.
	_ = host
	front.Close()
	host.Shutdown(context.Background())
	_, front2, _ := runApp(t, Options{DataDir: hostDir})
	waitFor(t, "the restarted host app to go live", func() bool { return desktopStateOf(t, front2.URL).Connection == StateLive })
	s2 := desktopStateOf(t, front2.URL)
	if !s2.Configured || !s2.SignedIn || s2.HostAddr != s.HostAddr || s2.LANURL != hosted.LanURL {
		t.Fatalf("after restart %+v, before %+v", s2, s)
	}

	// Change team: back to the chooser.
	if resp := call(t, front2.URL, "POST", "/desktop/reset", "", map[string]any{}, nil); resp.StatusCode != 204 {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	if s := desktopStateOf(t, front2.URL); s.Configured || s.SignedIn {
		t.Fatalf("after reset %+v", s)
	}
}

func TestJoinFromTheCommandLineReusesItsSession(t *testing.T) {
	server := newTeamServer(t)
	server.team(t)
	dir := t.TempDir()
	opts := Options{DataDir: dir, JoinURL: server.URL + "/ignored/path", Username: "bob", Password: "correct horse 2"}
	a, front, _ := runApp(t, opts)
	waitFor(t, "the joined app to go live", func() bool { return desktopStateOf(t, front.URL).Connection == StateLive })
	s := desktopStateOf(t, front.URL)
	if s.Mode != "join" || s.ServerURL != server.URL || !s.SignedIn {
		t.Fatalf("state %+v", s)
	}
	first := a.Token()
	front.Close()
	a.Shutdown(context.Background())

	// The next start checks the saved session instead of signing in again.
	b, front2, _ := runApp(t, opts)
	waitFor(t, "the restarted app to go live", func() bool { return desktopStateOf(t, front2.URL).Connection == StateLive })
	if b.Token() != first {
		t.Fatal("a restart opened a new session although the saved one was good")
	}

	// A wrong password keeps the app running, signed out, with the window offering sign-in.
	c, front3, _ := runApp(t, Options{DataDir: t.TempDir(), JoinURL: server.URL, Username: "bob", Password: "wrong password"})
	if s := desktopStateOf(t, front3.URL); !s.Configured || s.SignedIn || c.Token() != "" {
		t.Fatalf("after a refused sign-in: %+v", s)
	}
}

func TestASecondAppOnTheSameDataSaysSo(t *testing.T) {
	dir := t.TempDir()
	runApp(t, Options{DataDir: dir})
	_, front, _ := runApp(t, Options{DataDir: dir}) // no single-instance lock here: the file is held
	var apiErr struct {
		Error struct{ Code, Message string }
	}
	resp := call(t, front.URL, "GET", "/desktop/state", "", nil, &apiErr)
	if resp.StatusCode != 500 || !strings.Contains(apiErr.Error.Message, "Another Herald is already running") {
		t.Fatalf("second app: %d %+v", resp.StatusCode, apiErr)
	}
}

func TestDesktopOutboxListsWhatWaits(t *testing.T) {
	a, front, _ := runApp(t, Options{DataDir: t.TempDir()})
	var list struct {
		Messages []struct{ ChatID, ClientID, Content string }
	}
	if resp := call(t, front.URL, "GET", "/desktop/outbox", "", nil, &list); resp.StatusCode != 200 || len(list.Messages) != 0 {
		t.Fatalf("empty outbox: %d %+v", resp.StatusCode, list)
	}
	chat := "01ARZ3NDEKTSV4RRFFQ69G5FAV"
	for _, k := range []string{"a", "b"} {
		if _, _, err := a.store.Enqueue(chat, "c-"+k, "message "+k, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	call(t, front.URL, "GET", "/desktop/outbox", "", nil, &list)
	if len(list.Messages) != 2 || list.Messages[0].ClientID != "c-a" || list.Messages[1].Content != "message b" || list.Messages[0].ChatID != chat {
		t.Fatalf("outbox %+v", list)
	}
}

func TestHostedTeamWhosePortIsTakenStaysChosen(t *testing.T) {
	dir := t.TempDir()
	a, front, _ := runApp(t, Options{DataDir: dir})
	var hosted struct{ InviteURL string }
	call(t, front.URL, "POST", "/desktop/host", "", map[string]string{"hostAddr": "127.0.0.1:0", "teamName": "Acme",
		"username": "owner", "displayName": "Olivia", "password": "correct horse 1"}, &hosted)
	addr := desktopStateOf(t, front.URL).HostAddr
	front.Close()
	a.Shutdown(context.Background())

	// Something else took the port while Herald was closed.
	squatter, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, front2, _ := runApp(t, Options{DataDir: dir})
	s := desktopStateOf(t, front2.URL)
	if !s.Configured || s.Problem == "" || s.Mode != "host" || s.TeamName != "Acme" {
		t.Fatalf("state with the port taken: %+v", s)
	}
	if resp := call(t, front2.URL, "POST", "/desktop/retry", "", map[string]any{}, nil); resp.StatusCode != 409 {
		t.Fatalf("retry with the port still taken: %d", resp.StatusCode)
	}
	squatter.Close()
	if resp := call(t, front2.URL, "POST", "/desktop/retry", "", map[string]any{}, nil); resp.StatusCode != 204 {
		t.Fatalf("retry with the port free: %d", resp.StatusCode)
	}
	waitFor(t, "the team to be live again", func() bool { return desktopStateOf(t, front2.URL).Connection == StateLive })
	if s := desktopStateOf(t, front2.URL); s.Problem != "" || !s.SignedIn || s.HostAddr != addr {
		t.Fatalf("after retry: %+v", s)
	}
}

func TestHostingAgainAfterChangeTeamSignsIn(t *testing.T) {
	_, front, _ := runApp(t, Options{DataDir: t.TempDir()})
	host := func(username, password string) (*http.Response, map[string]any) {
		var out map[string]any
		resp := call(t, front.URL, "POST", "/desktop/host", "", map[string]string{"hostAddr": "127.0.0.1:0", "teamName": "Acme",
			"username": username, "displayName": username, "password": password}, &out)
		return resp, out
	}
	if resp, out := host("owner", "correct horse 1"); resp.StatusCode != 200 || out["inviteUrl"] == nil {
		t.Fatalf("first hosting: %d %v", resp.StatusCode, out)
	}
	if resp := call(t, front.URL, "POST", "/desktop/reset", "", map[string]any{}, nil); resp.StatusCode != 204 {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	// The team's data is still on this computer: a wrong password is told so, the right one hosts it again.
	resp, out := host("owner", "wrong horse 1")
	if resp.StatusCode != 409 || !strings.Contains(fmt.Sprint(out), "already hosts a team") {
		t.Fatalf("hosting again with a wrong password: %d %v", resp.StatusCode, out)
	}
	if s := desktopStateOf(t, front.URL); s.Configured {
		t.Fatalf("after a refused re-hosting: %+v", s)
	}
	if resp, out := host("owner", "correct horse 1"); resp.StatusCode != 200 || out["inviteUrl"] == nil {
		t.Fatalf("hosting again: %d %v", resp.StatusCode, out)
	}
	waitFor(t, "live", func() bool { return desktopStateOf(t, front.URL).Connection == StateLive })
}

// BeforeClose lets exactly one close through: a signal reaches both Wails' own handler and the
// app's, and each asks it; a second close let through would end GTK's main loop twice.
func TestBeforeCloseLetsOneCloseThrough(t *testing.T) {
	a := New(Options{Logger: quietLog(), Stdout: io.Discard})
	a.quitting = true // quitOnSignal has begun
	if a.BeforeClose(context.Background()) {
		t.Fatal("the first close while quitting was prevented")
	}
	for range 3 {
		if !a.BeforeClose(context.Background()) {
			t.Fatal("a second close was let through")
		}
	}
}
