package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

func TestMiddlewareServesClientRoutesAsIndex(t *testing.T) {
	web := fstest.MapFS{
		"index.html":    {Data: []byte("<html>index</html>")},
		"assets/app.js": {Data: []byte("js")},
		"favicon.svg":   {Data: []byte("svg")},
	}
	a := New(Options{WebClient: web, Logger: quietLog(), Stdout: io.Discard})
	h := a.Middleware(http.FileServerFS(web))
	tests := []struct {
		path, want string
		status     int
	}{
		{"/", "<html>index</html>", 200},
		{"/chats/01ARZ3NDEKTSV4RRFFQ69G5FAV", "<html>index</html>", 200},
		{"/join/abc", "<html>index</html>", 200},
		{"/tasks/01ARZ3NDEKTSV4RRFFQ69G5FAV", "<html>index</html>", 200},
		{"/settings", "<html>index</html>", 200},
		{"/assets/app.js", "js", 200},
		{"/missing.js", "", 404},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		if rec.Code != tt.status || tt.want != "" && rec.Body.String() != tt.want {
			t.Errorf("GET %s: %d %q, want %d %q", tt.path, rec.Code, rec.Body.String(), tt.status, tt.want)
		}
	}
	// Before Startup the app's own endpoints answer 503 in the API's error shape.
	for _, p := range []string{"/api/me", "/desktop/state"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code != 503 {
			t.Errorf("GET %s before start: %d", p, rec.Code)
		}
	}
}
