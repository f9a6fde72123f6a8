package httpapi

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/herald-chat/herald/backend"
)

// message is a request body as postMessage reads it.
type message struct {
	Content  string `json:"content"`
	ClientID string `json:"clientId"`
}

func decodeBody(t testing.TB, contentType string, body []byte) (message, *httptest.ResponseRecorder, error) {
	t.Helper()
	r := httptest.NewRequest("POST", "/api/chats/x/messages", strings.NewReader(string(body)))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	var m message
	err := decodeJSON(w, r, &m, 1<<10, false)
	return m, w, err
}

func utf16Body(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestDecodeJSONCharset(t *testing.T) {
	body := []byte(`{"content":"grüße"}`)
	for _, tc := range []struct {
		contentType string
		body        []byte
		code        string // "" when accepted
	}{
		{"", body, ""},
		{"application/json", body, ""},
		{"application/json; charset=utf-8", body, ""},
		{"application/json; charset=UTF-8", body, ""},
		{`application/json; charset="utf-8"`, body, ""},
		{"application/json; charset=utf-16", utf16Body(string(body)), backend.EUNSUPPORTED},
		{"application/json; charset=UTF-16LE", utf16Body(string(body)), backend.EUNSUPPORTED},
		{"application/json; charset=iso-8859-1", body, backend.EUNSUPPORTED},
		{"application/json; charset=utf8", body, backend.EUNSUPPORTED},
		{"application/json; charset=", body, backend.EUNSUPPORTED},
		{"text/plain; charset=utf-8", body, backend.EUNSUPPORTED},
	} {
		m, w, err := decodeBody(t, tc.contentType, tc.body)
		if got := backend.ErrorCode(err); got != tc.code {
			t.Errorf("%q: code %q (%v), want %q", tc.contentType, got, err, tc.code)
			continue
		}
		if tc.code == "" && m.Content != "grüße" {
			t.Errorf("%q: read %q", tc.contentType, m.Content)
		}
		if tc.code == backend.EUNSUPPORTED && strings.Contains(tc.contentType, "charset=") &&
			!strings.Contains(backend.ErrorMessage(err), "UTF-8") && !strings.Contains(backend.ErrorMessage(err), "application/json") {
			t.Errorf("%q: message %q does not say what to send", tc.contentType, backend.ErrorMessage(err))
		}
		if w.Body.Len() != 0 || len(w.Header()) != 0 {
			t.Errorf("%q: decodeJSON wrote %v %q", tc.contentType, w.Header(), w.Body)
		}
	}
}

// FuzzDecodeJSON: whatever the body and its Content-Type, decodeJSON never panics, never writes
// to the response, and answers nil or a *backend.Error whose code is a 4xx status.
func FuzzDecodeJSON(f *testing.F) {
	f.Add("application/json", []byte(`{"content":"hi","clientId":"c-1"}`))
	f.Add("", []byte(`{"content":"x"} {"content":"y"}`))
	f.Add("application/json; charset=utf-16", utf16Body(`{"content":"x"}`))
	f.Add("application/json;charset=\"UTF-8\"", []byte(`{"content":5}`))
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\n"))
	f.Add("application/json", []byte(`{"content":"`+strings.Repeat("a", 2000)+`"}`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		_, w, err := decodeBody(t, contentType, body)
		if w.Body.Len() != 0 || w.Code != 200 || len(w.Header()) != 0 {
			t.Fatalf("decodeJSON wrote: %d %v %q", w.Code, w.Header(), w.Body)
		}
		if err == nil {
			return
		}
		var e *backend.Error
		if !errors.As(err, &e) {
			t.Fatalf("not a *backend.Error: %v", err)
		}
		if status := statusOf[e.Code]; status < 400 || status > 499 || e.Message == "" {
			t.Fatalf("%v: status %d", err, status)
		}
	})
}
