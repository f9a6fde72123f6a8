package app

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/client"
	"github.com/oklog/ulid/v2"
)

// putAvatar uploads a w×h PNG of one colour as the avatar of token's user.
func putAvatar(t *testing.T, base, token string, c color.Color) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 120, 90))
	for y := range 90 {
		for x := range 120 {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, base+"/api/me/avatar", &buf)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "image/png")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /api/me/avatar: %d", resp.StatusCode)
	}
}

// centre is the colour in the middle of the image file at path.
func centre(t *testing.T, path string) color.RGBA {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if img.Bounds().Dx() != avatarIconSize || img.Bounds().Dy() != avatarIconSize {
		t.Fatalf("%s is %v, want %d px square", path, img.Bounds(), avatarIconSize)
	}
	r, g, bl, a := img.At(avatarIconSize/2, avatarIconSize/2).RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)}
}

// near reports whether two colours differ by at most a JPEG's rounding per channel.
func near(a, b color.RGBA) bool {
	d := func(x, y uint8) int { return max(int(x), int(y)) - min(int(x), int(y)) }
	return d(a.R, b.R) <= 8 && d(a.G, b.G) <= 8 && d(a.B, b.B) <= 8
}

// A native notification about a message shows its author's avatar: the app fetches the 64 px
// thumbnail from the team server into its data dir and hands the daemon that file.
func TestNativeNotificationShowsTheAuthorsAvatar(t *testing.T) {
	server := newTeamServer(t)
	alice, _, chatID := server.team(t)
	red := color.RGBA{200, 20, 20, 255}
	putAvatar(t, server.URL, alice.Token, red)

	rec := &recordingNotifier{}
	dir := t.TempDir()
	_, front, _ := runApp(t, Options{DataDir: dir, JoinURL: server.URL, Username: "bob", Password: "correct horse 2", Notifier: rec})
	waitFor(t, "the joined app to go live", func() bool { return desktopStateOf(t, front.URL).Connection == StateLive })

	call(t, server.URL, "POST", "/api/chats/"+chatID+"/messages", alice.Token, map[string]string{"content": "lunch?"}, nil)
	var got Note
	waitFor(t, "a native notification about alice's message", func() bool {
		for _, n := range rec.shown() {
			if n.Body == "lunch?" {
				got = n
				return true
			}
		}
		return false
	})
	if got.ActorID != alice.User.ID || got.Icon == "" || !strings.HasPrefix(got.Icon, filepath.Join(dir, "avatars")+string(filepath.Separator)) {
		t.Fatalf("notification %+v, want alice's avatar from %s", got, filepath.Join(dir, "avatars"))
	}
	if c := centre(t, got.Icon); !near(c, red) {
		t.Fatalf("the icon's centre is %v, want alice's red %v", c, red)
	}
}

// The cache asks the server once per avatarRecheck, conditionally; a changed avatar replaces the
// file, a removed one deletes it (the app icon shows again); an unreachable server keeps what
// was had; the number of people remembered is bounded.
func TestAvatarIconsFollowTheServer(t *testing.T) {
	server := newTeamServer(t)
	alice, bob, _ := server.team(t)
	c, err := client.New(server.URL, bob.Token)
	if err != nil {
		t.Fatal(err)
	}
	fetches := 0
	up := true
	fetch := func(ctx context.Context, userID, etag string) (*client.Avatar, error) {
		fetches++
		if !up {
			return nil, &client.NetworkError{Op: "GET avatar", Err: context.DeadlineExceeded}
		}
		return c.UserAvatar(ctx, userID, avatarIconSize, etag)
	}
	icons := newAvatarIcons(filepath.Join(t.TempDir(), "avatars"), fetch, quietLog())
	now := time.Unix(1_800_000_000, 0)
	icons.now = func() time.Time { return now }
	ctx := context.Background()

	if p := icons.Path(ctx, alice.User.ID); p != "" {
		t.Fatalf("alice has no avatar yet: %q", p)
	}
	red, blue := color.RGBA{200, 20, 20, 255}, color.RGBA{20, 20, 200, 255}
	putAvatar(t, server.URL, alice.Token, red)
	if p := icons.Path(ctx, alice.User.ID); p != "" || fetches != 1 {
		t.Fatalf("within a minute of asking, the absence stands: %q after %d fetches", p, fetches)
	}
	now = now.Add(avatarRecheck)
	path := icons.Path(ctx, alice.User.ID)
	if path == "" || !near(centre(t, path), red) || fetches != 2 {
		t.Fatalf("after a minute: %q (%d fetches), want alice's red avatar", path, fetches)
	}
	now = now.Add(avatarRecheck)
	if p := icons.Path(ctx, alice.User.ID); p != path || fetches != 3 {
		t.Fatalf("an unchanged avatar (304): %q after %d fetches, want %q", p, fetches, path)
	}

	putAvatar(t, server.URL, alice.Token, blue)
	now = now.Add(avatarRecheck)
	if p := icons.Path(ctx, alice.User.ID); p != path || !near(centre(t, p), blue) {
		t.Fatalf("a changed avatar: %q, want %q now blue", p, path)
	}

	up = false
	now = now.Add(avatarRecheck)
	if p := icons.Path(ctx, alice.User.ID); p != path || !near(centre(t, p), blue) {
		t.Fatalf("server unreachable: %q, want the blue file kept", p)
	}
	up = true

	req, _ := http.NewRequest(http.MethodDelete, server.URL+"/api/me/avatar", nil)
	req.Header.Set("Authorization", "Bearer "+alice.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if p := icons.Path(ctx, alice.User.ID); p != "" {
		t.Fatalf("the server was unreachable last time, so it asks again at once: %q, want none", p)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the removed avatar's file is still there: %v", err)
	}

	for range maxAvatarIcons + 10 {
		icons.Path(ctx, ulid.Make().String()) // nobody: a 404, remembered as "no avatar"
		now = now.Add(time.Millisecond)
	}
	icons.mu.Lock()
	n := len(icons.known)
	icons.mu.Unlock()
	if n != maxAvatarIcons {
		t.Fatalf("remembers %d people, want the bound %d", n, maxAvatarIcons)
	}
}
