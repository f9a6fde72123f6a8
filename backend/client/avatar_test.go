package client_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/client"
)

// pngOf is a w×h PNG of one colour.
func pngOf(tb testing.TB, w, h int, c color.Color) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestUserAvatarIsConditional(t *testing.T) {
	srv := newTestServer(t, time.Second)
	tm := srv.team(t)
	ctx := context.Background()

	var apiErr *client.APIError
	if _, err := tm.bob.UserAvatar(ctx, tm.aliceID, 64, ""); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Fatalf("alice has no avatar yet: %v, want a 404 APIError", err)
	}

	if err := tm.alice.Do(ctx, http.MethodPut, "/api/me/avatar", nil, nil, nil); err == nil {
		t.Fatal("an empty avatar upload was accepted")
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL+"/api/me/avatar", bytes.NewReader(pngOf(t, 300, 200, color.RGBA{200, 30, 30, 255})))
	req.Header.Set("Authorization", "Bearer "+tm.alice.Token)
	req.Header.Set("Content-Type", "image/png")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /api/me/avatar: %d", resp.StatusCode)
	}

	a, err := tm.bob.UserAvatar(ctx, tm.aliceID, 64, "")
	if err != nil || a.NotModified || a.ETag == "" {
		t.Fatalf("UserAvatar = %+v, %v", a, err)
	}
	img, _, err := image.Decode(bytes.NewReader(a.Image))
	if err != nil || img.Bounds().Dx() != 64 || img.Bounds().Dy() != 64 {
		t.Fatalf("the 64 px avatar decodes to %v, %v", img, err)
	}
	again, err := tm.bob.UserAvatar(ctx, tm.aliceID, 64, a.ETag)
	if err != nil || !again.NotModified || again.Image != nil || again.ETag != a.ETag {
		t.Fatalf("with its ETag: %+v, %v; want NotModified", again, err)
	}
	if other, err := tm.bob.UserAvatar(ctx, tm.aliceID, 64, `"0-64"`); err != nil || other.NotModified || len(other.Image) == 0 {
		t.Fatalf("with a stale ETag: %+v, %v; want the image", other, err)
	}
}
