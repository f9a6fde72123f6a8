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

var securityHeaders = map[string]string{
	"Content-Security-Policy": httpapi.ContentSecurityPolicy,
	"X-Frame-Options":         "DENY",
	"X-Content-Type-Options":  "nosniff",
	"Referrer-Policy":         "no-referrer",
	"Permissions-Policy":      httpapi.PermissionsPolicy,
}

// TestSecurityHeadersOnEveryResponse: the web client's pages and assets, client-side routes, the
// API's answers and its errors all carry the CSP and the frame, referrer, permission and sniffing
// headers.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	for _, directive := range []string{"default-src 'self'", "script-src 'self'", "object-src 'none'",
		"frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'", "connect-src 'self'"} {
		if !strings.Contains(httpapi.ContentSecurityPolicy, directive) {
			t.Fatalf("the policy lacks %s", directive)
		}
	}
	ts := newTestServer(t, serverOptions{})
	tm := ts.team(t)
	web := httptest.NewServer(httpapi.New(httpapi.Config{Reads: ts.Store, Writes: ts.Store, Broker: ts.Hub,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		WebClient: fstest.MapFS{
			"index.html":    {Data: []byte(`<!doctype html><script type="module" src="/assets/app.js"></script>`)},
			"assets/app.js": {Data: []byte(`console.log("hi")`)},
		}}))
	defer web.Close()

	for _, tc := range []struct {
		base, method, path, token string
		status                    int
	}{
		{web.URL, "GET", "/", "", 200},
		{web.URL, "GET", "/assets/app.js", "", 200},
		{web.URL, "GET", "/join/SOMECODE", "", 200},
		{web.URL, "HEAD", "/chats/x", "", 200},
		{web.URL, "POST", "/", "", 405},
		{ts.URL, "GET", "/api/server", "", 200},
		{ts.URL, "GET", "/api/me", tm.alice.Token, 200},
		{ts.URL, "GET", "/api/me", "", 401},
		{ts.URL, "GET", "/api/nope", tm.alice.Token, 404},
		{ts.URL, "POST", "/api/chats", tm.alice.Token, 400},
	} {
		req, _ := http.NewRequest(tc.method, tc.base+tc.path, strings.NewReader("{"))
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
		for name, want := range securityHeaders {
			if got := resp.Header.Get(name); got != want {
				t.Errorf("%s %s: %s = %q, want %q", tc.method, tc.path, name, got, want)
			}
		}
	}

	// A cross-origin refusal, answered before any route, carries them too.
	req, _ := http.NewRequest("POST", ts.URL+"/api/chats", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("Content-Security-Policy") != httpapi.ContentSecurityPolicy {
		t.Errorf("cross-origin refusal: %d %v", resp.StatusCode, resp.Header)
	}

	// A download keeps its stricter sandbox policy.
	notes := ts.openStream(t, "/api/notifications/"+tm.alice.ID+"/stream", tm.alice.Token, "")
	up := ts.upload(t, tm.alice, tm.chat, "page.html", []byte("<script>alert(1)</script>"))
	notes.nextOfType(t, "FILE_PROCESSED", wait)
	req, _ = http.NewRequest("GET", ts.URL+"/api/files/"+up.str("file", "id"), nil)
	req.Header.Set("Authorization", "Bearer "+tm.alice.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Content-Security-Policy"); got != "sandbox; default-src 'none'" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("download: CSP %q, headers %v", got, resp.Header)
	}
}
