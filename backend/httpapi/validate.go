package httpapi

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/herald-chat/herald/backend"
	"github.com/oklog/ulid/v2"
)

func validUsername(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) < 2 || len(s) > backend.MaxUsernameLen {
		return "", backend.Errorf(backend.EINVALID, "username must be 2 to %d characters.", backend.MaxUsernameLen)
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "", backend.Errorf(backend.EINVALID, "username may hold only letters a-z, digits, '.', '_' and '-'.")
		}
	}
	return s, nil
}

func validPassword(s string) error {
	if len(s) < backend.MinPasswordLen || len(s) > backend.MaxPasswordLen {
		return backend.Errorf(backend.EINVALID, "password must be %d to %d bytes.", backend.MinPasswordLen, backend.MaxPasswordLen)
	}
	return nil
}

// validText checks a one-line label — a display, chat, bot or task name, a title — shown beside
// other people's text: trimmed, valid UTF-8, at most maxLen characters, no control characters,
// and none that are invisible or change the text's direction (backend.CheckName).
func validText(field, s string, maxLen int, optional bool) (string, error) {
	s, err := checkText(field, strings.TrimSpace(s), maxLen, optional, false)
	if err != nil {
		return "", err
	}
	if err := backend.CheckName(field, s); err != nil {
		return "", err
	}
	return s, nil
}

// checkText checks s is valid UTF-8 of at most maxLen characters without control characters
// (newlines and tabs only where multiline is set). Message bodies keep bidi and zero-width
// characters: clients show them isolated.

func checkText(field, s string, maxLen int, optional, multiline bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", backend.Errorf(backend.EINVALID, "%s must be valid UTF-8.", field)
	}
	if strings.TrimSpace(s) == "" {
		if optional {
			return "", nil
		}
		return "", backend.Errorf(backend.EINVALID, "%s must not be empty.", field)
	}
	if n := utf8.RuneCountInString(s); n > maxLen {
		return "", backend.Errorf(backend.EINVALID, "%s is %d characters; the limit is %d.", field, n, maxLen)
	}
	for _, c := range s {
		if unicode.IsControl(c) && !(multiline && (c == '\n' || c == '\t' || c == '\r')) {
			return "", backend.Errorf(backend.EINVALID, "%s must not contain control characters.", field)
		}
	}
	return s, nil
}

// validID checks that s is a ULID in canonical upper-case form.
func validID(field, s string) error {
	if _, err := ulid.ParseStrict(s); err != nil || strings.ToUpper(s) != s {
		return backend.Errorf(backend.EINVALID, "%s %q is not a valid id.", field, s)
	}
	return nil
}

func validClientID(s string) error {
	if len(s) > backend.MaxClientIDLen {
		return backend.Errorf(backend.EINVALID, "clientId must be at most %d bytes.", backend.MaxClientIDLen)
	}
	for _, c := range s {
		if c < 0x21 || c > 0x7e {
			return backend.Errorf(backend.EINVALID, "clientId must be printable ASCII without spaces.")
		}
	}
	return nil
}

// pageLimit reads the limit query parameter: DefaultPageLimit when absent, else 1 to MaxPageLimit.
func pageLimit(q url.Values) (int, error) {
	s := q.Get("limit")
	if s == "" {
		return backend.DefaultPageLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > backend.MaxPageLimit {
		return 0, backend.Errorf(backend.EINVALID, "limit must be a number from 1 to %d.", backend.MaxPageLimit)
	}
	return n, nil
}
