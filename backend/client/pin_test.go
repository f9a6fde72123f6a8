package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/client"
	"github.com/herald-chat/herald/backend/teamserver/teamservertest"
	"github.com/herald-chat/herald/backend/tlscert"
)

// testCA is a certificate authority that TestMain makes the system's only root (SSL_CERT_FILE,
// read once per process), standing in for a publicly trusted CA.
var testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "herald-client-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := makeTestCA(filepath.Join(dir, "ca.pem")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("SSL_CERT_FILE", filepath.Join(dir, "ca.pem"))
	os.Unsetenv("SSL_CERT_DIR")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func makeTestCA(path string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	testCA.cert, _ = x509.ParseCertificate(der)
	testCA.key = key
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
}

// caIssued is a certificate from testCA for the given IP address.
func caIssued(tb testing.TB, ip string) tls.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: ip},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, testCA.cert, &key.PublicKey, testCA.key)
	if err != nil {
		tb.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func serverInfo(tb testing.TB, base string, opts ...client.Option) error {
	tb.Helper()
	c, err := client.New(base, "", opts...)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err = c.Server(ctx)
	return err
}

// A team server with a self-signed certificate: pinned, the client signs in and follows the
// stream over TLS; pinned to another certificate, it is refused with the clear error.
func TestPinnedCertificate(t *testing.T) {
	srv := teamservertest.Start(t, teamservertest.WithTLS())
	var reg struct{ Token string }
	teamservertest.CallWith(t, srv.Client(), "POST", srv.URL+"/api/auth/register", "",
		map[string]string{"username": "alice", "password": "correct-horse-9"}, &reg)

	// The fingerprint as people may type it: upper case, without colons.
	typed := strings.ToUpper(strings.ReplaceAll(srv.Fingerprint, ":", ""))
	c, err := client.New(srv.URL, "", client.WithPinnedCert(typed))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	token, user, err := c.SignIn(ctx, "alice", "correct-horse-9")
	if err != nil || user.Username != "alice" || token == "" {
		t.Fatalf("sign in through the pinned certificate: %v", err)
	}
	if _, err := c.WithToken(token).Me(ctx); err != nil {
		t.Fatal(err)
	}
	live := make(chan struct{})
	stream := c.WithToken(token).NewStream(client.StreamOptions{OnState: func(st client.State) {
		if st == client.Live {
			select {
			case <-live:
			default:
				close(live)
			}
		}
	}})
	streamCtx, stop := context.WithCancel(ctx)
	ended := make(chan error, 1)
	go func() { ended <- stream.Run(streamCtx) }()
	select {
	case <-live:
	case err := <-ended:
		t.Fatalf("the stream through the pinned certificate ended: %v", err)
	case <-ctx.Done():
		t.Fatal("the stream through the pinned certificate did not go live")
	}
	stop()
	<-ended

	other, _, err := tlscert.SelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	wrong := tlscert.Fingerprint(other.Leaf.Raw)
	err = serverInfo(t, srv.URL, client.WithPinnedCert(wrong))
	var mismatch *client.CertificateMismatchError
	if !errors.As(err, &mismatch) || mismatch.Got != srv.Fingerprint || mismatch.Want != wrong {
		t.Fatalf("pinned to another certificate: %v", err)
	}
	for _, words := range []string{"sha256 " + srv.Fingerprint, wrong, "not the one in the invite link", "intercepting"} {
		if !strings.Contains(err.Error(), words) {
			t.Errorf("the error %q does not say %q", err, words)
		}
	}
	if client.Retryable(err) {
		t.Error("a certificate mismatch is retryable")
	}

	// Unpinned, a self-signed certificate is not trusted.
	err = serverInfo(t, srv.URL)
	var unverified *tls.CertificateVerificationError
	if !errors.As(err, &unverified) || client.Retryable(err) {
		t.Fatalf("a self-signed certificate without a pin: %v", err)
	}

	if _, err := client.New(srv.URL, "", client.WithPinnedCert("ab:cd")); !errors.Is(err, tlscert.ErrBadFingerprint) {
		t.Fatalf("a malformed pin: %v", err)
	}
}

// Without a pin the certificate is verified as usual: a CA's certificate for the address the
// client dialled is accepted, one for another address is not.
func TestUnpinnedVerifiesAsUsual(t *testing.T) {
	serve := func(cert tls.Certificate) *httptest.Server {
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"needsSetup":false,"keepaliveMs":30000}`)
		}))
		s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		s.Config.ErrorLog = log.New(io.Discard, "", 0)
		s.StartTLS()
		t.Cleanup(s.Close)
		return s
	}
	good := serve(caIssued(t, "127.0.0.1"))
	if err := serverInfo(t, good.URL); err != nil {
		t.Fatalf("a CA-issued certificate for 127.0.0.1: %v", err)
	}
	misnamed := serve(caIssued(t, "192.0.2.99"))
	err := serverInfo(t, misnamed.URL)
	var unverified *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	if !errors.As(err, &unverified) || !errors.As(err, &hostErr) {
		t.Fatalf("a certificate for another address: %v", err)
	}
}
