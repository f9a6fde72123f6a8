package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"

	"github.com/herald-chat/herald/backend/tlscert"
)

// CertificateMismatchError is a TLS handshake refused because the server presented another
// certificate than the pinned one. Retrying does not help (Retryable is false): either the
// server's certificate was replaced, or something between is intercepting the connection.
type CertificateMismatchError struct {
	Got, Want string // fingerprints (tlscert.Fingerprint)
}

func (e *CertificateMismatchError) Error() string {
	return fmt.Sprintf("The server's certificate (sha256 %s) is not the one in the invite link (sha256 %s): "+
		"someone may be intercepting the connection.", e.Got, e.Want)
}

// IsCertificateMismatch reports whether err is (or wraps) a *CertificateMismatchError.
func IsCertificateMismatch(err error) bool {
	var m *CertificateMismatchError
	return errors.As(err, &m)
}

// TLSConfig is the TLS configuration of connections to a team server (TLS 1.2 at least). pin is
// asked at every handshake for the fingerprint the server's certificate must have
// (tlscert.Fingerprint form, as an invite link's #sha256= carries it):
//   - "" verifies the certificate as usual: the system's roots, the server's name, its dates;
//   - anything else accepts exactly the leaf certificate with that SHA-256 — whoever issued it,
//     whatever names and dates it has, for the invite link vouches for it — and refuses any other
//     with a *CertificateMismatchError.
//
// pin nil is the same as always "". The one function lets a transport follow the team it talks
// to: the desktop app changes the pin when it hosts or joins another team.
func TLSConfig(pin func() string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The chain is checked in VerifyConnection instead, where the pin is known.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("herald: the server sent no certificate")
			}
			want := ""
			if pin != nil {
				want = pin()
			}
			leaf := cs.PeerCertificates[0]
			if want != "" {
				if got := tlscert.Fingerprint(leaf.Raw); got != want {
					return &CertificateMismatchError{Got: got, Want: want}
				}
				return nil
			}
			opts := x509.VerifyOptions{DNSName: cs.ServerName, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			if _, err := leaf.Verify(opts); err != nil {
				return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			}
			return nil
		},
	}
}

// PinnedTransport is a clone of http.DefaultTransport (HTTP/2 included) whose TLS connections
// accept exactly the certificate with fingerprint fp (TLSConfig); "" verifies as usual. A
// fingerprint that is not one is an error (tlscert.ErrBadFingerprint).
func PinnedTransport(fp string) (*http.Transport, error) {
	if fp != "" {
		var err error
		if fp, err = tlscert.ParseFingerprint(fp); err != nil {
			return nil, fmt.Errorf("herald: pinned certificate: %w", err)
		}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = TLSConfig(func() string { return fp })
	return t, nil
}

// WithPinnedCert makes New's own transport accept exactly the certificate with fingerprint fp
// (PinnedTransport; "" verifies as usual). It has no effect with WithHTTPClient, whose transport
// is the caller's; New fails on a malformed fingerprint.
func WithPinnedCert(fp string) Option { return func(c *Client) { c.pin = &fp } }
