package backend

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one HTTP status in httpapi; the strings are part of the API
// ({"error":{"code":"…","message":"…"}}) and never change meaning.
const (
	EINVALID      = "invalid"      // 400: the request is malformed or a field fails validation
	EUNAUTHORIZED = "unauthorized" // 401: no valid credentials
	EFORBIDDEN    = "forbidden"    // 403: authenticated, but not allowed
	ENOTFOUND     = "not_found"    // 404
	ETIMEOUT      = "timeout"      // 408: the request body did not arrive in time
	ECONFLICT     = "conflict"     // 409: e.g. a username that is taken
	ETOOLARGE     = "too_large"    // 413: the body exceeds its limit
	EUNSUPPORTED  = "unsupported"  // 415: a body that is not JSON
	EMISDIRECTED  = "misdirected"  // 421: the Host header names a host this server is not
	ERATELIMIT    = "rate_limited" // 429
	EUNAVAILABLE  = "unavailable"  // 503: shutting down
	EINTERNAL     = "internal"     // 500: details are logged, never shown
)

// Error is a failure the user can act on. Its Message is safe to show; anything else that goes
// wrong is an internal error whose details stay in the log.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("herald error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other error and
// "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a generic text for an
// internal error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Sentinel errors of the stream machinery.
var (
	// ErrEventNotFound: a resume id that the event log does not hold (never issued, or pruned).
	ErrEventNotFound = errors.New("event not in the log")
	// ErrOverflow: a subscriber fell so far behind that a durable event did not fit its queue. The
	// stream is closed; the client resumes from the log.
	ErrOverflow = errors.New("subscriber queue overflow")
	// ErrIdle: Subscription.NextWithin waited its whole bound and nothing arrived (the stream
	// writes a keepalive).
	ErrIdle = errors.New("no events within the wait")
	// ErrClosed: the broker or store is shutting down.
	ErrClosed = errors.New("closed")
	// ErrSessionEnded: the session a stream was opened with ended (logout, expiry, password
	// change, revocation); the stream's last frame was SESSION_ENDED.
	ErrSessionEnded = errors.New("session ended")
	// ErrRemovedFromChat: the subscriber of a chat stream left or was removed from the chat; the
	// stream's last frame was CHAT_MEMBER_REMOVED.
	ErrRemovedFromChat = errors.New("removed from chat")
	// ErrTooManyStreams: the user already holds the most streams the broker allows one user.
	ErrTooManyStreams = errors.New("too many streams for one user")
)
