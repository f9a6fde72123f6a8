package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/herald-chat/herald/backend"
)

// statusOf maps error codes to HTTP statuses: the one place where they meet.
var statusOf = map[string]int{
	backend.EINVALID:      http.StatusBadRequest,
	backend.EUNAUTHORIZED: http.StatusUnauthorized,
	backend.EFORBIDDEN:    http.StatusForbidden,
	backend.ENOTFOUND:     http.StatusNotFound,
	backend.ETIMEOUT:      http.StatusRequestTimeout,
	backend.ECONFLICT:     http.StatusConflict,
	backend.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	backend.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	backend.EMISDIRECTED:  http.StatusMisdirectedRequest,
	backend.ERATELIMIT:    http.StatusTooManyRequests,
	backend.EUNAVAILABLE:  http.StatusServiceUnavailable,
	backend.EINTERNAL:     http.StatusInternalServerError,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// RequestID names the request in the server's log (X-Request-Id), for a bug report.
	RequestID string `json:"requestId,omitempty"`
}

// writeError renders err as {"error":{"code","message"}} with its status, and returns them.
// Internal errors are logged with the request and shown only as "Internal error.".
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) (code string, status int, message string) {
	code = backend.ErrorCode(err)
	if errors.Is(err, backend.ErrClosed) {
		code = backend.EUNAVAILABLE
		err = backend.Errorf(code, "The server is shutting down; try again in a moment.")
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if unreadBody(r) {
		// A refusal before the body was read to its end (rate limits, authorization, sizes):
		// net/http would read up to 256 KiB of the rest once the handler returns — or wait for a
		// body that never comes, holding the connection until the body timeout. The rest is not
		// wanted: reads end now, and an HTTP/1 connection closes after this answer.
		if r.ProtoMajor == 1 {
			w.Header().Set("Connection", "close")
		}
		_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	}
	if status == http.StatusInternalServerError {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	message = backend.ErrorMessage(err)
	writeJSON(w, status, errorBody{errorDetail{Code: code, Message: message, RequestID: RequestID(r.Context())}})
	return code, status, message
}

// writeJSON answers v as JSON with status and returns the body's size in bytes.
func writeJSON(w http.ResponseWriter, status int, v any) int {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"Internal error."}}`, http.StatusInternalServerError)
		return 0
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
	return len(data) + 1
}
