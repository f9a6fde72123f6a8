package tlscert_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/herald-chat/herald/backend/tlscert"
)

func TestSelfSignedIsMadeOnceAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "server")
	cert, created, err := tlscert.SelfSigned(dir, "chat.example.com", "203.0.113.7")
	if err != nil || !created {
		t.Fatalf("first SelfSigned: created %v, %v", created, err)
	}
	for _, name := range []string{tlscert.CertFile, tlscert.KeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	leaf := cert.Leaf
	if leaf == nil {
		t.Fatal("no Leaf")
	}
	key, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || key.Curve != elliptic.P256() {
		t.Fatalf("public key %T, want ECDSA P-256", leaf.PublicKey)
	}
	host, _ := os.Hostname()
	for _, dns := range []string{strings.ToLower(host), "localhost", "chat.example.com"} {
		if !slices.Contains(leaf.DNSNames, dns) {
			t.Errorf("DNS names %v lack %s", leaf.DNSNames, dns)
		}
	}
	for _, ip := range []string{"127.0.0.1", "::1", "203.0.113.7"} {
		if !slices.ContainsFunc(leaf.IPAddresses, net.ParseIP(ip).Equal) {
			t.Errorf("IP addresses %v lack %s", leaf.IPAddresses, ip)
		}
	}
	// The machine's interface addresses are in it too.
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() && !slices.ContainsFunc(leaf.IPAddresses, n.IP.Equal) {
			t.Errorf("IP addresses %v lack the interface address %s", leaf.IPAddresses, n.IP)
		}
	}

	again, created, err := tlscert.SelfSigned(dir, "other.example.com")
	if err != nil || created {
		t.Fatalf("second SelfSigned: created %v, %v", created, err)
	}
	if tlscert.Fingerprint(again.Leaf.Raw) != tlscert.Fingerprint(leaf.Raw) {
		t.Fatal("a restart made a new certificate: pinned fingerprints would break")
	}
}

func TestSelfSignedRefusesHalfAPair(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := tlscert.SelfSigned(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, tlscert.CertFile)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tlscert.SelfSigned(dir); err == nil || !strings.Contains(err.Error(), "only one of") {
		t.Fatalf("a key without its certificate: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, tlscert.CertFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("SelfSigned wrote a certificate for a key it did not make")
	}
}

// The fingerprint is the SHA-256 of the DER certificate that a TLS client really receives.
func TestFingerprintMatchesTheServedCertificate(t *testing.T) {
	cert, _, err := tlscert.SelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	served := conn.ConnectionState().PeerCertificates[0].Raw
	sum := sha256.Sum256(served)
	want := hex.EncodeToString(sum[:])
	got := tlscert.Fingerprint(cert.Leaf.Raw)
	if strings.ReplaceAll(got, ":", "") != want || len(got) != 95 || got != strings.ToLower(got) {
		t.Fatalf("fingerprint %s, the served certificate's SHA-256 is %s", got, want)
	}
}

func TestParseFingerprint(t *testing.T) {
	cert, _, err := tlscert.SelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fp := tlscert.Fingerprint(cert.Leaf.Raw)
	for _, in := range []string{fp, strings.ToUpper(fp), strings.ReplaceAll(fp, ":", ""), " " + fp + "\n"} {
		if got, err := tlscert.ParseFingerprint(in); err != nil || got != fp {
			t.Errorf("ParseFingerprint(%q) = %q, %v; want %s", in, got, err, fp)
		}
	}
	for _, in := range []string{"", "ab:cd", fp[:94], fp + ":00", "g" + fp[1:], "a:bc" + fp[4:]} {
		if got, err := tlscert.ParseFingerprint(in); !errors.Is(err, tlscert.ErrBadFingerprint) {
			t.Errorf("ParseFingerprint(%q) = %q, %v; want ErrBadFingerprint", in, got, err)
		}
	}
}
