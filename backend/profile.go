package backend

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Profile limits (issue 11). They are part of the API: clients validate against the same numbers.
const (
	// MaxStatusTextLen bounds a status line (characters).
	MaxStatusTextLen = 100
	// MaxAvatarUpload bounds an uploaded avatar image (bytes, 5 MiB).
	MaxAvatarUpload = 5 << 20
	// MaxUserQueryLen bounds a directory search (characters).
	MaxUserQueryLen = 64
	// DefaultUserPageLimit and MaxUserPageLimit bound a page of the user directory.
	DefaultUserPageLimit = 50
	MaxUserPageLimit     = 200
	// SessionSeenEvery is how often a session's LastSeenAt is written at most: a request within
	// it of the last write changes nothing, so that signed-in clients cost no write per request.
	SessionSeenEvery = time.Minute
)

// AvatarSizes are the square sizes (pixels) every uploaded avatar is stored at, smallest first.
var AvatarSizes = []int{64, 256}

// ProfilePatch is a change to a person's own profile (PATCH /api/me): nil fields stay as they
// are. Setting StatusText or StatusEmoji without StatusExpiresAt clears the expiry: a new status
// does not inherit the old one's end.
type ProfilePatch struct {
	DisplayName     *string
	StatusText      *string
	StatusEmoji     *string
	StatusExpiresAt *int64 // Unix ms; 0 (or JSON null) means the status does not expire
}

// Check validates the patch as of now and returns it normalized (trimmed). The error is
// EINVALID: an empty or overlong display name, a status text over MaxStatusTextLen characters or
// with control, invisible or direction-changing characters, a status emoji that is not one emoji,
// an expiry that is not in the future.
func (p ProfilePatch) Check(now time.Time) (ProfilePatch, error) {
	if p.DisplayName != nil {
		s, err := checkLabel("displayName", *p.DisplayName, MaxDisplayNameLen)
		if err != nil {
			return p, err
		}
		if s == "" {
			return p, Errorf(EINVALID, "displayName must not be empty.")
		}
		p.DisplayName = &s
	}
	if p.StatusText != nil {
		s, err := checkLabel("statusText", *p.StatusText, MaxStatusTextLen)
		if err != nil {
			return p, err
		}
		p.StatusText = &s
	}
	if p.StatusEmoji != nil {
		s := strings.TrimSpace(*p.StatusEmoji)
		if s != "" && CheckEmoji(s) != nil {
			return p, Errorf(EINVALID, "statusEmoji must be one emoji, or empty.")
		}
		p.StatusEmoji = &s
	}
	if p.StatusExpiresAt != nil && *p.StatusExpiresAt != 0 && *p.StatusExpiresAt <= now.UnixMilli() {
		return p, Errorf(EINVALID, "statusExpiresAt must be in the future (Unix ms), or 0 for a status that does not expire.")
	}
	return p, nil
}

// Apply writes the (checked) patch onto u and reports whether anything changed.
func (p ProfilePatch) Apply(u *User) bool {
	before := *u
	if p.DisplayName != nil {
		u.DisplayName = *p.DisplayName
	}
	if p.StatusText != nil {
		u.StatusText = *p.StatusText
	}
	if p.StatusEmoji != nil {
		u.StatusEmoji = *p.StatusEmoji
	}
	switch {
	case p.StatusExpiresAt != nil:
		u.StatusExpiresAt = *p.StatusExpiresAt
	case p.StatusText != nil || p.StatusEmoji != nil:
		u.StatusExpiresAt = 0
	}
	if u.StatusText == "" && u.StatusEmoji == "" {
		u.StatusExpiresAt = 0 // no status, nothing to expire
	}
	return before.DisplayName != u.DisplayName || before.StatusText != u.StatusText ||
		before.StatusEmoji != u.StatusEmoji || before.StatusExpiresAt != u.StatusExpiresAt
}

// checkLabel trims s and checks it is valid UTF-8 of at most maxLen characters with no control,
// invisible or direction-changing characters; "" is returned as is.
func checkLabel(field, s string, maxLen int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", Errorf(EINVALID, "%s must be valid UTF-8.", field)
	}
	if n := utf8.RuneCountInString(s); n > maxLen {
		return "", Errorf(EINVALID, "%s is %d characters; the limit is %d.", field, n, maxLen)
	}
	for _, c := range s {
		if unicode.IsControl(c) {
			return "", Errorf(EINVALID, "%s must not contain control characters.", field)
		}
	}
	return s, CheckName(field, s)
}

// Present is how a user record reads as of now: a status whose expiry has passed reads as
// cleared, and AvatarColor is filled in. Stores apply it on every read, so that an expired
// status is never shown even before anything rewrites the record.
func (u *User) Present(now time.Time) *User {
	if u.StatusExpiresAt != 0 && now.UnixMilli() >= u.StatusExpiresAt {
		u.StatusText, u.StatusEmoji, u.StatusExpiresAt = "", "", 0
	}
	u.AvatarColor = AvatarColor(u.ID)
	return u
}

// avatarPalette are the colours clients draw a person's initials on when they have no avatar;
// each has at least 4.5:1 contrast with white text.
var avatarPalette = []string{
	"#b91c1c", "#c2410c", "#a16207", "#4d7c0f", "#15803d", "#0f766e",
	"#0e7490", "#1d4ed8", "#4338ca", "#6d28d9", "#a21caf", "#be185d",
}

// AvatarColor is a stable colour (#rrggbb) for the user id: the same on every client and server.
func AvatarColor(userID string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(userID))
	return avatarPalette[h.Sum32()%uint32(len(avatarPalette))]
}

// AvatarURL is where the user's uploaded avatar of the given version is served; clients add
// &size=64 or &size=256. The version in the URL changes with every upload, so a cached old
// picture is never shown for a new one.
func AvatarURL(userID string, version int64) string {
	return fmt.Sprintf("/api/users/%s/avatar?v=%d", userID, version)
}

// MatchesUserQuery reports whether q (already lower case, non-empty) is part of the user's
// username or display name, case-insensitively.
func MatchesUserQuery(u *User, q string) bool {
	return strings.Contains(u.Username, q) || strings.Contains(strings.ToLower(u.DisplayName), q)
}

// maxUserAgent bounds how much of a User-Agent DeviceLabel reads (bytes).
const maxUserAgent = 512

// DeviceLabel names the device and program a session was signed in from, from its User-Agent:
// "Chrome on Linux", "Safari on iOS", "Herald desktop", "API client". The label is shown to the
// session's owner only; it is a hint, not an identity (any client can claim any User-Agent).
func DeviceLabel(ua string) string {
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	switch {
	case ua == "":
		return "Unknown device"
	case strings.HasPrefix(ua, "herald-client") || strings.Contains(ua, "Herald/"):
		return "Herald desktop"
	case !strings.HasPrefix(ua, "Mozilla/"):
		return "API client"
	}
	browser := "Browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"OPR/", "Opera"},
		{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"}, {"CriOS/", "Chrome"}, {"Chrome/", "Chrome"},
		{"Safari/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	os := ""
	for _, o := range []struct{ token, name string }{
		{"Windows", "Windows"}, {"iPhone", "iOS"}, {"iPad", "iOS"}, {"Android", "Android"},
		{"CrOS", "ChromeOS"}, {"Mac OS X", "macOS"}, {"Macintosh", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			os = o.name
			break
		}
	}
	if os == "" {
		return browser
	}
	return browser + " on " + os
}

// PeopleStore keeps profiles, avatars and the details of sessions (issue 11).
type PeopleStore interface {
	// UpdateProfile applies the checked patch to userID's profile (a bot's is EFORBIDDEN) and,
	// when that changed it, emits USER_UPDATED to everyone who shares a chat with the user (and
	// the user). It returns the user as they read now.
	UpdateProfile(ctx context.Context, userID string, p ProfilePatch) (*User, error)
	// SetAvatar stores the user's avatar, one image per AvatarSizes entry (PNG or JPEG bytes,
	// same order), gives it a new version (User.AvatarURL) and emits USER_UPDATED. A bot's is
	// EFORBIDDEN: bots keep their Avatar text or URL.
	SetAvatar(ctx context.Context, userID string, images [][]byte) (*User, error)
	// DeleteAvatar removes the user's uploaded avatar and emits USER_UPDATED; a user without one
	// is left as is and nothing is emitted.
	DeleteAvatar(ctx context.Context, userID string) (*User, error)
	// Avatar returns the user's avatar at size (one of AvatarSizes) and its version; ENOTFOUND
	// when they have none.
	Avatar(ctx context.Context, userID string, size int) (img []byte, version int64, err error)
	// SeeSession records that the session of token was used at at: its LastSeenAt (and IP) are
	// written only when the last write is SessionSeenEvery or more ago. An unknown session is
	// no error.
	SeeSession(ctx context.Context, token string, at time.Time, ip string) error
	// EndSessionByID ends userID's session whose public ID is sessionID (its streams get
	// SESSION_ENDED with reason). A session that is not userID's, or unknown, is ENOTFOUND.
	EndSessionByID(ctx context.Context, userID, sessionID, reason string) error
}
