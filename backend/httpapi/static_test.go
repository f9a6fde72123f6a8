package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/herald-chat/herald/backend/httpapi"
)

// TestWebClientCaching: hashed assets are cached for a year, the service worker and the page are
// revalidated on every fetch (a new build's worker takes over at the next load), and the worker
// is served as JavaScript under the same policy, whose script-src 'self' lets the page register
// it (worker-src falls back to script-src).
func TestWebClientCaching(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	web := httptest.NewServer(httpapi.New(httpapi.Config{Reads: ts.Store, Writes: ts.Store, Broker: ts.Hub,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		WebClient: fstest.MapFS{
			"index.html":         {Data: []byte(`<!doctype html><script type="module" src="/assets/app-1a2b.js"></script>`)},
			"assets/app-1a2b.js": {Data: []byte(`console.log("hi")`)},
			"sw.js":              {Data: []byte(`self.addEventListener('fetch', () => {})`)},
			"herald-icon.svg":    {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
		}}))
	defer web.Close()

	for _, tc := range []struct {
		path, cacheControl, contentType string
	}{
		{"/assets/app-1a2b.js", "public, max-age=31536000, immutable", "text/javascript"},
		{"/sw.js", "no-cache", "text/javascript"},
		{"/", "no-cache", "text/html"},
		{"/chats/x", "no-cache", "text/html"},
		{"/herald-icon.svg", "", "image/svg+xml"},
	} {
		resp, err := http.Get(web.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", tc.path, resp.StatusCode)
		}
		if got := resp.Header.Get("Cache-Control"); got != tc.cacheControl {
			t.Errorf("GET %s: Cache-Control %q, want %q", tc.path, got, tc.cacheControl)
		}
		if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, tc.contentType) {
			t.Errorf("GET %s: Content-Type %q, want %s", tc.path, got, tc.contentType)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != httpapi.ContentSecurityPolicy {
			t.Errorf("GET %s: CSP %q", tc.path, got)
		}
	}
	if !strings.Contains(httpapi.ContentSecurityPolicy, "script-src 'self'") || strings.Contains(httpapi.ContentSecurityPolicy, "worker-src") {
		t.Errorf("the policy must let the page register /sw.js: %s", httpapi.ContentSecurityPolicy)
	}
}
