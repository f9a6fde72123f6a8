package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/herald-chat/herald/backend"
)

// AvatarMaker turns an uploaded image into a person's avatar (backend/files.Processor does): the
// centred square of the image at each of sizes, one PNG or JPEG per size, decoded within the server's
// decoding budget. Its errors are backend errors (EUNSUPPORTED, EINVALID, ETOOLARGE) or internal.
type AvatarMaker interface {
	MakeAvatar(ctx context.Context, img io.ReadSeeker, sizes []int) ([][]byte, error)
}

// putAvatar replaces the caller's avatar with the image that is the request body (PNG, JPEG or
// GIF, at most backend.MaxAvatarUpload bytes): it is cropped to its centred square, stored at
// every backend.AvatarSizes, and announced as USER_UPDATED with the new avatarUrl. It counts
// against the per-user profile limit, which is taken before the body is read.
func (h *Handler) putAvatar(w http.ResponseWriter, r *http.Request, u *backend.User) (err error) {
	defer func() {
		if err != nil {
			w.Header().Set("Connection", "close") // a refused body is not read to its end
		}
	}()
	if u.IsBot() {
		return backend.Errorf(backend.EFORBIDDEN, "Bots have no profile to change; an admin sets their avatar.")
	}
	if ok, wait := h.profileLimit.allow(u.ID); !ok {
		return tooManyBecause(w, wait, "You are changing your profile too often")
	}
	images, err := h.squareImages(w, r)
	if err != nil {
		return err
	}
	user, err := h.writes.SetAvatar(r.Context(), u.ID, images)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": user})
	return nil
}

// squareImages reads the request body, an image of at most backend.MaxAvatarUpload bytes, and
// makes its centred square at each of backend.AvatarSizes (an avatar, a team icon).
func (h *Handler) squareImages(w http.ResponseWriter, r *http.Request) ([][]byte, error) {
	tooLarge := backend.Errorf(backend.ETOOLARGE, "The image is limited to %d MiB.", backend.MaxAvatarUpload>>20)
	if r.ContentLength > backend.MaxAvatarUpload {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, backend.MaxAvatarUpload))
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return nil, tooLarge
		}
		if err := asBodyTimeout(err); err != nil {
			return nil, err
		}
		return nil, backend.Errorf(backend.EINVALID, "The upload broke off: %v.", err)
	}
	if len(body) == 0 {
		return nil, backend.Errorf(backend.EINVALID, "Send the image as the request body.")
	}
	return h.cfg.Avatars.MakeAvatar(r.Context(), bytes.NewReader(body), backend.AvatarSizes)
}

// deleteAvatar removes the caller's avatar: clients draw initials on avatarColor again.
func (h *Handler) deleteAvatar(w http.ResponseWriter, r *http.Request, u *backend.User) error {
	if u.IsBot() {
		return backend.Errorf(backend.EFORBIDDEN, "Bots have no profile to change; an admin sets their avatar.")
	}
	if ok, wait := h.profileLimit.allow(u.ID); !ok {
		return tooManyBecause(w, wait, "You are changing your profile too often")
	}
	user, err := h.writes.DeleteAvatar(r.Context(), u.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": user})
	return nil
}

// getAvatar serves a user's avatar (?size=64 or 256, default 256) to any signed-in user, as the
// JPEG or PNG the server encoded (its type told by its first bytes, never by the uploader), with
// the headers of every stored upload. Its ETag names the version and size; a request
// whose ?v= is the current version (the avatarUrl of the User JSON) may cache it for a year,
// since a new avatar gets a new URL.
func (h *Handler) getAvatar(w http.ResponseWriter, r *http.Request, _ *backend.User) error {
	id := r.PathValue("userId")
	if err := validID("userId", id); err != nil {
		return err
	}
	size, err := imageSize(r)
	if err != nil {
		return err
	}
	img, version, err := h.reads.Avatar(r.Context(), id, size)
	if err != nil {
		return err
	}
	serveSquare(w, r, "avatar", img, version, size)
	return nil
}

// imageSize reads ?size= (one of backend.AvatarSizes; the largest when absent).
func imageSize(r *http.Request) (int, error) {
	s := r.URL.Query().Get("size")
	if s == "" {
		return backend.AvatarSizes[len(backend.AvatarSizes)-1], nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, backend.Errorf(backend.EINVALID, "size must be one of %v.", backend.AvatarSizes)
	}
	return n, nil
}

// serveSquare serves an image squareImages made (an avatar, the team icon) as the JPEG or PNG
// it is (told by its first bytes, never by the uploader), with the headers of every stored
// upload. Its ETag names the version and size; a request whose ?v= is the current version may
// cache it for a year, since a new image gets a new URL.
func serveSquare(w http.ResponseWriter, r *http.Request, name string, img []byte, version int64, size int) {
	hdr := w.Header()
	ctype, ext := "image/png", "png"
	if bytes.HasPrefix(img, []byte{0xff, 0xd8, 0xff}) {
		ctype, ext = "image/jpeg", "jpg"
	}
	storedHeaders(hdr, fmt.Sprintf("%s-%d.%s", name, size, ext), "inline", ctype)
	hdr.Set("ETag", fmt.Sprintf(`"%d-%d"`, version, size))
	if r.URL.Query().Get("v") == strconv.FormatInt(version, 10) {
		hdr.Set("Cache-Control", "private, max-age=31536000, immutable")
	}
	http.ServeContent(w, r, "", time.UnixMilli(version), bytes.NewReader(img))
}
