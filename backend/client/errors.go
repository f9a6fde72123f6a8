package client

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// APIError is an answer of the team server other than success: its HTTP status and, when the
// body had the API's shape {"error":{"code","message"}}, its code and message (Message is safe
// to show to the user). A non-API answer (a proxy's 502 page) has Code "" and the status text.
type APIError struct {
	Status  int
	Code    string // backend.EINVALID, backend.EUNAUTHORIZED, …; "" when the body was not the API's
	Message string
	// RetryAfter is the server's Retry-After (429, 503), 0 when it sent none.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("herald: HTTP %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("herald: HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// retryable reports whether the same request may succeed later: server errors, 408 and 429.
func (e *APIError) retryable() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout
}

// NetworkError is a request that got no complete answer: the server is unreachable, the
// connection broke, or the answer was cut off.
type NetworkError struct {
	Op  string // "GET /api/me"
	Err error
}

func (e *NetworkError) Error() string { return "herald: " + e.Op + ": " + e.Err.Error() }
func (e *NetworkError) Unwrap() error { return e.Err }

// ErrStreamEnded is the error of a stream connection that the server closed (end of the body).
var ErrStreamEnded = errors.New("herald: the server ended the stream")

// IsUnauthorized reports whether err is a 401: the token is missing, expired or logged out, or
// the username or password is wrong. Sign in again; retrying will not help.
func IsUnauthorized(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusUnauthorized
}

// ErrorCode is the API error code in err ("invalid", "not_found", …), "" when err is no APIError.
func ErrorCode(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// Retryable reports whether the failed request may succeed when repeated later unchanged: true
// when the server was unreachable, the connection broke, the request timed out, or the server
// answered 5xx, 408 or 429; false for a rejection (any other 4xx: fix the request or sign in
// again), for a request the caller cancelled, for a certificate the client does not trust or
// that is not the pinned one (*CertificateMismatchError), and for nil.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.retryable()
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) || IsCertificateMismatch(err) {
		return false
	}
	var netErr *NetworkError
	if errors.As(err, &netErr) {
		return true
	}
	if errors.Is(err, ErrStreamEnded) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// decodeError builds the APIError of a non-2xx answer.
func decodeError(resp *http.Response) *APIError {
	e := &APIError{Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
	if e.Message == "" {
		e.Message = "unexpected answer"
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if secs, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && secs >= 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		}
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error.Code != "" {
		e.Code = body.Error.Code
		if body.Error.Message != "" {
			e.Message = body.Error.Message
		}
	}
	return e
}
