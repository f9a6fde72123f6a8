package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// An invite link leads to the server's public URL whatever Host header the request carried: a
// forged Host (DNS rebinding, a proxy that passes it through) must not turn invites into links
// to someone else's server.
func TestInviteLinkUsesThePublicURLNotTheHostHeader(t *testing.T) {
	ts := newTestServer(t, serverOptions{publicURL: "https://chat.example.com/"})
	alice := ts.register(t, "alice", "")
	r := ts.must(t, http.StatusCreated, request{method: "POST", path: "/api/invites", token: alice.Token,
		header: map[string]string{"Host": "localhost:443"}}) // a name the server answers to, not its public one
	if want := "https://chat.example.com/join/" + r.str("code"); r.str("url") != want {
		t.Fatalf("invite url %q, want %q", r.str("url"), want)
	}
}

// Without a public URL the link is built from the address the connection arrived on.
func TestInviteLinkWithoutPublicURLUsesTheListenAddress(t *testing.T) {
	ts := newTestServer(t, serverOptions{})
	alice := ts.register(t, "alice", "")
	r := ts.must(t, http.StatusCreated, request{method: "POST", path: "/api/invites", token: alice.Token,
		header: map[string]string{"Host": "localhost"}})
	if want := ts.URL + "/join/" + r.str("code"); r.str("url") != want {
		t.Fatalf("invite url %q, want %q", r.str("url"), want)
	}
}

const testFingerprint = "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89"

func TestTLSServerShowsItsFingerprintAndPinsInvites(t *testing.T) {
	ts := newTestServer(t, serverOptions{tls: true, tlsFingerprint: testFingerprint, pinInvites: true})
	if got := ts.must(t, 200, request{method: "GET", path: "/api/server"}).str("tlsFingerprint"); got != testFingerprint {
		t.Fatalf("GET /api/server tlsFingerprint %q, want %q", got, testFingerprint)
	}
	alice := ts.register(t, "alice", "")
	r := ts.must(t, http.StatusCreated, request{method: "POST", path: "/api/invites", token: alice.Token})
	if want := ts.URL + "/join/" + r.str("code") + "#sha256=" + testFingerprint; r.str("url") != want {
		t.Fatalf("invite url %q, want %q", r.str("url"), want)
	}
	// A CA-issued certificate is renewed: its fingerprint is shown but not pinned.
	ca := newTestServer(t, serverOptions{tls: true, tlsFingerprint: testFingerprint})
	admin := ca.register(t, "alice", "")
	if url := ca.must(t, http.StatusCreated, request{method: "POST", path: "/api/invites", token: admin.Token}).str("url"); strings.Contains(url, "#") {
		t.Fatalf("invite url %q pins a certificate that is not self-signed", url)
	}
}

func TestPlainHTTPShowsNoFingerprint(t *testing.T) {
	ts := newTestServer(t, serverOptions{tlsFingerprint: testFingerprint})
	if r := ts.must(t, 200, request{method: "GET", path: "/api/server"}); r.Body["tlsFingerprint"] != nil {
		t.Fatalf("a plain-HTTP answer names a certificate: %s", r.Raw)
	}
}

// HSTS on every answer to a TLS request — API, errors, the web client — and never over HTTP.
func TestHSTSUnderTLSOnly(t *testing.T) {
	paths := []request{
		{method: "GET", path: "/api/server"},
		{method: "GET", path: "/api/me"},           // 401
		{method: "GET", path: "/api/nothing-here"}, // 404
		{method: "GET", path: "/"},                 // the web client
	}
	secure := newTestServer(t, serverOptions{tls: true})
	for _, rq := range paths {
		if got := secure.do(t, rq).Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("TLS %s %s: Strict-Transport-Security %q, want max-age=31536000", rq.method, rq.path, got)
		}
	}
	plain := newTestServer(t, serverOptions{})
	for _, rq := range paths {
		if got := plain.do(t, rq).Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("plain HTTP %s %s: Strict-Transport-Security %q, want none", rq.method, rq.path, got)
		}
	}
}
