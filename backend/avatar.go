package backend

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// Avatar limits.
const (
	// MaxAvatarURLLen bounds an avatar URL (bytes).
	MaxAvatarURLLen = 512
	// MaxAvatarTextLen bounds a text avatar (characters): room for an emoji ZWJ sequence.
	MaxAvatarTextLen = 16
)

// CheckAvatar accepts a bot's avatar: empty, an https URL (a host, no user info, at most
// MaxAvatarURLLen bytes), or a short text such as an emoji (at most MaxAvatarTextLen characters
// with no ':', '/' or '\', so that nothing can read it as a URL: no javascript:, data:, //host or
// relative path). Clients show an https avatar as an image and anything else as text. The error
// is EINVALID.
func CheckAvatar(s string) error {
	if s == "" {
		return nil
	}
	if strings.HasPrefix(s, "https://") {
		u, err := url.Parse(s)
		if err != nil || len(s) > MaxAvatarURLLen || u.Scheme != "https" || u.Host == "" || u.Hostname() == "" ||
			u.User != nil || u.Opaque != "" || strings.ContainsAny(s, " \\") {
			return Errorf(EINVALID, "avatar must be an https URL with a host and no user name, at most %d characters.", MaxAvatarURLLen)
		}
		return nil
	}
	if strings.ContainsAny(s, `:/\`) {
		return Errorf(EINVALID, "avatar must be an https:// URL or a short text such as an emoji.")
	}
	if n := utf8.RuneCountInString(s); n > MaxAvatarTextLen {
		return Errorf(EINVALID, "A text avatar is at most %d characters; this one is %d.", MaxAvatarTextLen, n)
	}
	return nil
}
