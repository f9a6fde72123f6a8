package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/sse"
	"github.com/herald-chat/herald/backend/tlscert"
)

// trusting is an HTTP client that trusts exactly the certificate in certFile, checking its
// names as a browser would (the server is reached at 127.0.0.1, an IP SAN of the certificate).
func trusting(tb testing.TB, certFile string) *http.Client {
	tb.Helper()
	pem, err := os.ReadFile(certFile)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		tb.Fatalf("no certificate in %s", certFile)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// get makes one request whose Host header names loopback (a name the server answers to, but not
// its public URL; a foreign one is refused before any handler) and decodes the JSON answer.
func get(tb testing.TB, hc *http.Client, method, url, token string) (*http.Response, map[string]any) {
	tb.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Host = "localhost"
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		tb.Fatalf("%s %s: %d, not JSON: %v", method, url, resp.StatusCode, err)
	}
	return resp, out
}

// --tls-self-signed: the certificate is made once in the data dir (0600) and kept across
// restarts; the fingerprint printed is the served certificate's and GET /api/server's; the
// connection is HTTP/2 over TLS ≥ 1.2 with HSTS; invite links come from --public-url (whatever
// the Host header says) and carry the fingerprint.
func TestServeSelfSignedTLS(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, dataDir, "--tls-self-signed", "--public-url", "https://chat.example.com:8443/")
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") {
		t.Fatalf("listening on %s, want https://127.0.0.1:…", srv.URL)
	}
	for _, name := range []string{tlscert.CertFile, tlscert.KeyFile} {
		fi, err := os.Stat(filepath.Join(dataDir, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v; want 0600", name, err, fi.Mode().Perm())
		}
	}
	cert, _, err := tlscert.SelfSigned(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(cert.Leaf.DNSNames, " "), "chat.example.com") {
		t.Errorf("the certificate's names %v lack the public URL's host", cert.Leaf.DNSNames)
	}
	hc := trusting(t, filepath.Join(dataDir, tlscert.CertFile))

	resp, info := get(t, hc, "GET", srv.URL+"/api/server", "")
	if resp.Proto != "HTTP/2.0" {
		t.Errorf("protocol %s, want HTTP/2.0", resp.Proto)
	}
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("TLS state %+v", resp.TLS)
	}
	served := tlscert.Fingerprint(resp.TLS.PeerCertificates[0].Raw)
	if srv.Fingerprint != served || info["tlsFingerprint"] != served {
		t.Fatalf("printed %s, GET /api/server %v, served %s: want one fingerprint", srv.Fingerprint, info["tlsFingerprint"], served)
	}
	if logs := srv.logText(); !strings.Contains(logs, "sha256="+served) {
		t.Errorf("the log does not name the fingerprint:\n%s", logs)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("Strict-Transport-Security %q", got)
	}

	tm := setupTeamWith(t, hc, srv.URL)
	// The stream over HTTP/2: a message posted arrives on it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/stream", nil)
	req.Header.Set("Authorization", "Bearer "+tm.bob)
	stream, err := hc.Do(req)
	if err != nil || stream.StatusCode != 200 || stream.Proto != "HTTP/2.0" {
		t.Fatalf("stream: %v %v", err, stream)
	}
	defer stream.Body.Close()
	frames := sse.NewReader(stream.Body)
	if f, err := frames.Next(); err != nil || f.Comment != "connected" {
		t.Fatalf("first frame %+v %v", f, err)
	}
	mustCallWith(t, hc, srv.URL, "POST", "/api/chats/"+tm.chat+"/messages", tm.alice, map[string]string{"content": "over h2"}, 201)
	for {
		f, err := frames.Next()
		if err != nil {
			t.Fatalf("stream ended before the message: %v", err)
		}
		if strings.Contains(f.Data, `"over h2"`) {
			break
		}
	}

	_, inv := get(t, hc, "POST", srv.URL+"/api/invites", tm.alice)
	want := "https://chat.example.com:8443/join/" + inv["code"].(string) + "#sha256=" + served
	if inv["url"] != want {
		t.Fatalf("invite url %v, want %s", inv["url"], want)
	}

	// TLS 1.1 is refused.
	old := &tls.Config{RootCAs: hc.Transport.(*http.Transport).TLSClientConfig.RootCAs, MaxVersion: tls.VersionTLS11}
	if conn, err := tls.Dial("tcp", strings.TrimPrefix(srv.URL, "https://"), old); err == nil {
		conn.Close()
		t.Fatal("a TLS 1.1 handshake succeeded")
	}

	// A restart keeps the certificate.
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	again := startServer(t, dataDir, "--tls-self-signed")
	if again.Fingerprint != served {
		t.Fatalf("after a restart the fingerprint is %s, was %s", again.Fingerprint, served)
	}
	// Without --public-url the link is built from the listen address, not the forged Host.
	_, inv = get(t, hc, "POST", again.URL+"/api/invites", tm.alice)
	if want := again.URL + "/join/" + inv["code"].(string) + "#sha256=" + served; inv["url"] != want {
		t.Fatalf("invite url %v, want %s", inv["url"], want)
	}
}

// --tls-cert/--tls-key: the given certificate is served; its fingerprint is shown, but invite
// links do not pin a certificate that a CA vouches for (it is renewed).
func TestServeGivenCertificate(t *testing.T) {
	certDir := t.TempDir()
	cert, _, err := tlscert.SelfSigned(certDir) // stands in for a CA-issued pair
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	srv := startServer(t, dataDir, "--tls-cert", filepath.Join(certDir, tlscert.CertFile), "--tls-key", filepath.Join(certDir, tlscert.KeyFile))
	if want := tlscert.Fingerprint(cert.Leaf.Raw); srv.Fingerprint != want {
		t.Fatalf("printed fingerprint %s, want %s", srv.Fingerprint, want)
	}
	if _, err := os.Stat(filepath.Join(dataDir, tlscert.CertFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a self-signed certificate was made although one was given: %v", err)
	}
	hc := trusting(t, filepath.Join(certDir, tlscert.CertFile))
	tm := setupTeamWith(t, hc, srv.URL)
	_, inv := get(t, hc, "POST", srv.URL+"/api/invites", tm.alice)
	if url, _ := inv["url"].(string); !strings.HasPrefix(url, srv.URL+"/join/") || strings.Contains(url, "#") {
		t.Fatalf("invite url %q", url)
	}
}

// Over plain HTTP there is no HSTS and no fingerprint.
func TestServePlainHTTPHasNoHSTS(t *testing.T) {
	srv := startServer(t, t.TempDir())
	resp, info := get(t, http.DefaultClient, "GET", srv.URL+"/api/server", "")
	if got := resp.Header.Get("Strict-Transport-Security"); got != "" || info["tlsFingerprint"] != nil {
		t.Fatalf("plain HTTP: Strict-Transport-Security %q, tlsFingerprint %v", got, info["tlsFingerprint"])
	}
}
