// Package tlscert makes, keeps and names a team server's TLS certificate: a self-signed ECDSA
// P-256 certificate created once in the data directory, and the SHA-256 fingerprint by which
// people and the desktop app recognise it. Standard library only.
package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File names of the self-signed certificate and its private key in the data directory. Both
// are PEM, mode 0600.
const (
	CertFile = "tls-cert.pem"
	KeyFile  = "tls-key.pem"
)

// Validity is how long a self-signed certificate is valid (10 years). Clients that pin it by
// fingerprint do not look at its dates; browsers warn about a self-signed certificate anyway.
const Validity = 10 * 365 * 24 * time.Hour

// Fingerprint is the SHA-256 of a DER certificate in Herald's one form: lowercase hex, the 32
// bytes separated by colons ("ab:cd:…:ef", 95 characters). Invite links (#sha256=…), the API
// (tlsFingerprint), the logs and the desktop app all use this form.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return withColons(sum[:])
}

func withColons(raw []byte) string {
	parts := make([]string, len(raw))
	for i, c := range raw {
		parts[i] = hex.EncodeToString([]byte{c})
	}
	return strings.Join(parts, ":")
}

// ErrBadFingerprint is ParseFingerprint's error for anything but 32 bytes of hex.
var ErrBadFingerprint = errors.New("not a SHA-256 fingerprint (64 hex digits, colons optional)")

// ParseFingerprint accepts a fingerprint as people copy it — 64 hex digits in either case, with
// or without colons between the bytes — and returns it in Fingerprint's form.
func ParseFingerprint(s string) (string, error) {
	s = strings.TrimSpace(s)
	plain := strings.ReplaceAll(s, ":", "")
	if strings.Contains(s, ":") { // then between every two bytes, and only there
		for i := range len(s) {
			if (i%3 == 2) != (s[i] == ':') || len(s) != 95 {
				return "", fmt.Errorf("%q: %w", s, ErrBadFingerprint)
			}
		}
	}
	raw, err := hex.DecodeString(plain)
	if err != nil || len(raw) != sha256.Size {
		return "", fmt.Errorf("%q: %w", s, ErrBadFingerprint)
	}
	return withColons(raw), nil
}

// Load reads a certificate chain and its key from PEM files (e.g. --tls-cert and --tls-key);
// the result's Leaf is set.
func Load(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return cert, nil // Go ≥ 1.23 fills Leaf
}

// SelfSigned returns the self-signed certificate kept in dir (CertFile and KeyFile), creating it
// first when there is none. A new one is for MachineNames plus extra (host names or IP
// addresses, e.g. the host of the public URL); a kept one is reused as it is, whatever names it
// has, so that the fingerprint people pinned stays valid — delete both files for a new one.
// created reports whether this call made it. One file without the other is an error: SelfSigned
// never replaces a key it did not create.
func SelfSigned(dir string, extra ...string) (cert tls.Certificate, created bool, err error) {
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	switch {
	case certErr == nil && keyErr == nil:
		cert, err = Load(certPath, keyPath)
		return cert, false, err
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
	case certErr == nil || keyErr == nil:
		return tls.Certificate{}, false, fmt.Errorf("only one of %s and %s exists: restore the other, or delete it for a new certificate", certPath, keyPath)
	default:
		return tls.Certificate{}, false, fmt.Errorf("TLS certificate in %s: %w", dir, errors.Join(certErr, keyErr))
	}
	certPEM, keyPEM, err := generate(append(MachineNames(), extra...), time.Now())
	if err != nil {
		return tls.Certificate{}, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, false, fmt.Errorf("create %s: %w", dir, err)
	}
	// The key first: a crash between the two leaves a key without a certificate, which the next
	// start reports instead of silently making another pair.
	if err := writeNew(keyPath, keyPEM); err != nil {
		return tls.Certificate{}, false, err
	}
	if err := writeNew(certPath, certPEM); err != nil {
		return tls.Certificate{}, false, err
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("the new TLS certificate: %w", err)
	}
	return cert, true, nil
}

// writeNew writes data to a file that must not exist yet, mode 0600, and syncs it.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// generate makes a self-signed ECDSA P-256 server certificate for names (DNS names and IP
// addresses; duplicates and empty ones are dropped), valid from an hour before now for Validity.
func generate(names []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("certificate serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Herald team server", Organization: []string{"Herald"}},
		NotBefore:             now.Add(-time.Hour), // clocks of other machines run a little behind
		NotAfter:              now.Add(Validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, n := range names {
		n = strings.Trim(strings.TrimSpace(n), "[]")
		if n == "" {
			continue
		}
		if ip := net.ParseIP(n); ip != nil {
			if !slices.ContainsFunc(tmpl.IPAddresses, ip.Equal) {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else if !slices.Contains(tmpl.DNSNames, strings.ToLower(n)) {
			tmpl.DNSNames = append(tmpl.DNSNames, strings.ToLower(n))
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create TLS certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode TLS key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// MachineNames are the names and addresses this machine is reached at: its host name,
// localhost, 127.0.0.1, ::1 and the addresses of its network interfaces (link-local ones
// left out). Interfaces that cannot be listed are left out too.
func MachineNames() []string {
	names := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil && h != "" {
		names = append([]string{h}, names...)
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() && !n.IP.IsLoopback() {
			names = append(names, n.IP.String())
		}
	}
	return names
}
