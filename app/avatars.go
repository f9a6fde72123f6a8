package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/herald-chat/herald/backend/client"
)

// Bounds of the avatar icons native notifications show.
const (
	// avatarIconSize is the thumbnail fetched (px, one of backend.AvatarSizes): notification
	// daemons draw icons at 32–64 px.
	avatarIconSize = 64
	// avatarRecheck is how long a fetched avatar (or its absence) is used without asking the
	// server again; after it, a conditional GET (usually a 304) confirms it.
	avatarRecheck = time.Minute
	// avatarFetchTimeout bounds one fetch: a notification waits at most this long for its icon.
	avatarFetchTimeout = 3 * time.Second
	// maxAvatarIcons bounds the people remembered (and their files); the least recently
	// checked are forgotten first.
	maxAvatarIcons = 256
)

// avatarFetch gets userID's avatar thumbnail conditionally on etag (client.Client.UserAvatar).
type avatarFetch func(ctx context.Context, userID, etag string) (*client.Avatar, error)

// avatarIcons keeps the avatars native notifications show as files in dir (a notification daemon
// wants a path), one per person, named by a hash of their id. It asks the server at most once
// per avatarRecheck per person, conditionally, so a changed avatar shows within a minute and an
// unchanged one costs a 304. Path is called by the one native-notification worker, but is safe
// for concurrent use.
type avatarIcons struct {
	dir   string
	fetch avatarFetch
	log   *slog.Logger
	now   func() time.Time

	mu    sync.Mutex
	known map[string]*avatarIcon // by user id
}

type avatarIcon struct {
	path    string // "" while the person has no avatar (the app icon shows)
	etag    string
	checked time.Time
}

func newAvatarIcons(dir string, fetch avatarFetch, log *slog.Logger) *avatarIcons {
	return &avatarIcons{dir: dir, fetch: fetch, log: log, now: time.Now, known: map[string]*avatarIcon{}}
}

// Path is the file of userID's avatar for a notification, fetching or refreshing it when due;
// "" when they have none, or none could be had (the server unreachable and nothing cached).
func (c *avatarIcons) Path(ctx context.Context, userID string) string {
	c.mu.Lock()
	icon := c.known[userID]
	if icon != nil && c.now().Sub(icon.checked) < avatarRecheck {
		path := icon.path
		c.mu.Unlock()
		return path
	}
	etag := ""
	if icon != nil && icon.path != "" {
		etag = icon.etag
	}
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, avatarFetchTimeout)
	defer cancel()
	got, err := c.fetch(ctx, userID, etag)
	c.mu.Lock()
	defer c.mu.Unlock()
	if icon == nil {
		icon = &avatarIcon{}
	}
	var apiErr *client.APIError
	switch {
	case err == nil && got.NotModified:
	case err == nil:
		path, werr := c.write(userID, got.Image)
		if werr != nil {
			c.log.Warn("saving an avatar for notifications failed", "err", werr)
			return icon.path
		}
		icon.path, icon.etag = path, got.ETag
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
		// No avatar (removed, a bot, gone): the app icon, and no stale picture on disk.
		if icon.path != "" {
			_ = os.Remove(icon.path)
		}
		icon.path, icon.etag = "", ""
	default:
		// Unreachable or refused: what we had, and ask again next time.
		c.log.Debug("fetching an avatar for a notification", "user", userID, "err", err)
		return icon.path
	}
	icon.checked = c.now()
	c.known[userID] = icon
	c.evict()
	return icon.path
}

// write stores img as userID's icon file (temp file + rename, so a daemon reading it never sees
// half a picture). The name is a hash: user ids come from the server.
func (c *avatarIcons) write(userID string, img []byte) (string, error) {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return "", fmt.Errorf("avatar dir: %w", err)
	}
	path := filepath.Join(c.dir, fileKey(userID)+".img")
	tmp, err := os.CreateTemp(c.dir, ".avatar-*")
	if err != nil {
		return "", fmt.Errorf("avatar file: %w", err)
	}
	_, err = tmp.Write(img)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("avatar file: %w", err)
	}
	return path, nil
}

// evict forgets the least recently checked people beyond maxAvatarIcons, with their files.
// Called with c.mu held.
func (c *avatarIcons) evict() {
	for len(c.known) > maxAvatarIcons {
		var oldest string
		for id, icon := range c.known {
			if oldest == "" || icon.checked.Before(c.known[oldest].checked) {
				oldest = id
			}
		}
		if p := c.known[oldest].path; p != "" {
			_ = os.Remove(p)
		}
		delete(c.known, oldest)
	}
}

// fetchAvatar is the app's avatarFetch: through the signed-in team's API client; an error while
// signed out.
func (a *App) fetchAvatar(ctx context.Context, userID, etag string) (*client.Avatar, error) {
	c := a.apiClient()
	if c == nil {
		return nil, errors.New("not signed in")
	}
	return c.UserAvatar(ctx, userID, avatarIconSize, etag)
}

// fileKey names a file after an id the server chose: the first 16 bytes of its SHA-256, hex.
func fileKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}
