package app

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/herald-chat/herald/backend/client"
	"github.com/herald-chat/herald/backend/teamserver/teamservertest"
	"github.com/herald-chat/herald/backend/tlscert"
)

// otherFingerprint is the fingerprint of a certificate that no server here presents.
func otherFingerprint(t *testing.T) string {
	t.Helper()
	cert, _, err := tlscert.SelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return tlscert.Fingerprint(cert.Leaf.Raw)
}

// inviteLink is an invite of srv's admin (alice) with the server's fingerprint, as the hosting
// app or herald-server --tls-self-signed hands it out.
func inviteLink(t *testing.T, srv *teamservertest.Server) (link, code string) {
	t.Helper()
	var alice account
	teamservertest.CallWith(t, srv.Client(), "POST", srv.URL+"/api/auth/register", "", map[string]string{"username": "alice", "password": "correct horse 1"}, &alice)
	var inv struct{ Code, URL string }
	teamservertest.CallWith(t, srv.Client(), "POST", srv.URL+"/api/invites", alice.Token, map[string]any{}, &inv)
	if !strings.HasSuffix(inv.URL, "#sha256="+srv.Fingerprint) {
		t.Fatalf("invite link %s lacks the fingerprint %s", inv.URL, srv.Fingerprint)
	}
	return inv.URL, inv.Code
}

// Joining with an invite link pins the certificate it names: the right one works (sign-up
// through the proxy, the app's own stream); another one is refused with the clear error and the
// app stays at the chooser; a link without a fingerprint does not trust a self-signed certificate.
func TestJoinPinsTheInviteLinksCertificate(t *testing.T) {
	srv := teamservertest.Start(t, teamservertest.WithTLS())
	link, code := inviteLink(t, srv)
	_, front, _ := runApp(t, Options{DataDir: t.TempDir()})

	var e apiError
	wrong := strings.Replace(link, srv.Fingerprint, otherFingerprint(t), 1)
	resp := call(t, front.URL, "POST", "/desktop/join", "", map[string]string{"serverUrl": wrong}, &e)
	if resp.StatusCode != http.StatusBadGateway || e.Error.Code != "unavailable" ||
		!strings.Contains(e.Error.Message, "is not the one in the invite link") || !strings.Contains(e.Error.Message, srv.Fingerprint) {
		t.Fatalf("join with another certificate's fingerprint: %d %+v", resp.StatusCode, e)
	}
	if s := desktopStateOf(t, front.URL); s.Configured {
		t.Fatalf("a refused join set the team up: %+v", s)
	}
	noPin, _, _ := strings.Cut(link, "#")
	resp = call(t, front.URL, "POST", "/desktop/join", "", map[string]string{"serverUrl": noPin}, &e)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(e.Error.Message, "not trusted") || !strings.Contains(e.Error.Message, "#sha256=") {
		t.Fatalf("join a self-signed server without a fingerprint: %d %+v", resp.StatusCode, e)
	}
	for _, bad := range []string{noPin + "#sha256=ab:cd", strings.Replace(link, "https://", "http://", 1)} {
		if resp := call(t, front.URL, "POST", "/desktop/join", "", map[string]string{"serverUrl": bad}, &e); resp.StatusCode != 400 || e.Error.Code != "invalid" {
			t.Fatalf("join %s: %d %+v", bad, resp.StatusCode, e)
		}
	}

	var joined struct{ Next string }
	if resp := call(t, front.URL, "POST", "/desktop/join", "", map[string]string{"serverUrl": link}, &joined); resp.StatusCode != 200 || joined.Next != "/join/"+code {
		t.Fatalf("join with the right fingerprint: %d %+v", resp.StatusCode, joined)
	}
	if resp := call(t, front.URL, "POST", "/api/auth/register", "", map[string]string{"username": "bob", "password": "correct horse 2", "inviteCode": code}, nil); resp.StatusCode != 201 {
		t.Fatalf("register through the pinned proxy: %d", resp.StatusCode)
	}
	waitFor(t, "the app's stream to go live through the pinned certificate", func() bool { return desktopStateOf(t, front.URL).Connection == StateLive })
	if s := desktopStateOf(t, front.URL); s.Fingerprint != srv.Fingerprint || s.ServerURL != srv.URL {
		t.Fatalf("state %+v", s)
	}
}

// switchProxy forwards TCP connections to a target that the test can change, as a machine in
// the middle would; switching closes the connections to the old target.
type switchProxy struct {
	ln     net.Listener
	target atomic.Pointer[string]
	mu     sync.Mutex
	conns  []net.Conn
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{ln: ln}
	p.target.Store(&target)
	t.Cleanup(func() { ln.Close(); p.dropAll() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", *p.target.Load())
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return p
}

func (p *switchProxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *switchProxy) switchTo(target string) {
	p.target.Store(&target)
	p.dropAll()
}

// --join with a fingerprinted link pins the certificate for good: a later start with the bare
// URL still pins it, and when another certificate answers at that address (a machine in the
// middle) the proxy and the app's own stream refuse it.
func TestJoinedAppKeepsPinningAcrossRestarts(t *testing.T) {
	real := teamservertest.Start(t, teamservertest.WithTLS())
	link, code := inviteLink(t, real)
	teamservertest.CallWith(t, real.Client(), "POST", real.URL+"/api/auth/register", "", map[string]string{"username": "bob", "password": "correct horse 2", "inviteCode": code}, nil)
	mitm := newSwitchProxy(t, strings.TrimPrefix(real.URL, "https://"))
	viaProxy := "https://" + mitm.ln.Addr().String()
	pinned := strings.Replace(link, real.URL, viaProxy, 1)

	dir := t.TempDir()
	a, front, _ := runApp(t, Options{DataDir: dir, JoinURL: pinned, Username: "bob", Password: "correct horse 2"})
	waitFor(t, "the joined app to go live", func() bool { return desktopStateOf(t, front.URL).Connection == StateLive })
	front.Close()
	a.Shutdown(context.Background())

	b, front2, _ := runApp(t, Options{DataDir: dir, JoinURL: viaProxy, Username: "bob", Password: "correct horse 2"})
	waitFor(t, "the restarted app to go live", func() bool { return desktopStateOf(t, front2.URL).Connection == StateLive })
	if s := desktopStateOf(t, front2.URL); s.Fingerprint != real.Fingerprint {
		t.Fatalf("after a restart with the bare URL the app pins %q, want %s", s.Fingerprint, real.Fingerprint)
	}

	// Someone else's server (another certificate) answers at the address now.
	impostor := teamservertest.Start(t, teamservertest.WithTLS())
	mitm.switchTo(strings.TrimPrefix(impostor.URL, "https://"))
	b.kick() // as after a network change: reconnect at once
	waitFor(t, "the app's stream to refuse the other certificate", func() bool { return desktopStateOf(t, front2.URL).Connection == StateReconnecting })
	var e apiError
	resp := call(t, front2.URL, "POST", "/api/chats", "", map[string]any{"name": "secrets"}, &e)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(e.Error.Message, "(sha256 "+impostor.Fingerprint+")") {
		t.Fatalf("a request through the proxy to another certificate: %d %+v", resp.StatusCode, e)
	}
	if _, err := b.apiClient().Me(context.Background()); !errors.As(err, new(*client.CertificateMismatchError)) {
		t.Fatalf("the app's own client (stream, outbox, unread count) to another certificate: %v", err)
	}
}

// Host mode serves HTTPS with the certificate kept in <data-dir>/server; invite links lead to
// the address the user chose (one of GET /desktop/addresses) and carry the fingerprint.
func TestHostWithAChosenAddress(t *testing.T) {
	dir := t.TempDir()
	_, front, _ := runApp(t, Options{DataDir: dir})
	var addrs struct {
		Addresses []struct {
			Interface, Address string
			DefaultRoute       bool
		}
		Preferred string
	}
	if resp := call(t, front.URL, "GET", "/desktop/addresses", "", nil, &addrs); resp.StatusCode != 200 || addrs.Preferred == "" {
		t.Fatalf("addresses: %d %+v", resp.StatusCode, addrs)
	}
	if len(addrs.Addresses) > 0 && addrs.Addresses[0].Address != addrs.Preferred {
		t.Fatalf("the preferred address %s is not the first candidate %+v", addrs.Preferred, addrs.Addresses)
	}
	var e apiError
	if resp := call(t, front.URL, "POST", "/desktop/host", "", map[string]string{"hostAddr": "127.0.0.1:0", "lanHost": "http://x/",
		"username": "owner", "password": "correct horse 1"}, &e); resp.StatusCode != 400 || e.Error.Code != "invalid" {
		t.Fatalf("a lanHost that is no address: %d %+v", resp.StatusCode, e)
	}
	var hosted struct{ InviteURL, LanURL string }
	resp := call(t, front.URL, "POST", "/desktop/host", "", map[string]string{"hostAddr": "127.0.0.1:0", "lanHost": "herald.lan",
		"username": "owner", "password": "correct horse 1"}, &hosted)
	if resp.StatusCode != 200 || !strings.HasPrefix(hosted.LanURL, "https://herald.lan:") {
		t.Fatalf("host: %d %+v", resp.StatusCode, hosted)
	}
	s := desktopStateOf(t, front.URL)
	if !strings.HasPrefix(hosted.InviteURL, hosted.LanURL+"/join/") || !strings.HasSuffix(hosted.InviteURL, "#sha256="+s.Fingerprint) {
		t.Fatalf("invite %s, state %+v", hosted.InviteURL, s)
	}
	// The invite dialog in the window (POST /api/invites through the proxy) gives the same kind
	// of link: the server's public URL is the chosen address, not the loopback the app uses.
	var inv struct{ URL string }
	call(t, front.URL, "POST", "/api/invites", "", map[string]any{}, &inv)
	if !strings.HasPrefix(inv.URL, hosted.LanURL+"/join/") || !strings.HasSuffix(inv.URL, "#sha256="+s.Fingerprint) {
		t.Fatalf("invite through the proxy %s", inv.URL)
	}
	cert, created, err := tlscert.SelfSigned(filepath.Join(dir, "server"))
	if err != nil || created {
		t.Fatalf("the hosted server's certificate is not in <data-dir>/server: created %v, %v", created, err)
	}
	if tlscert.Fingerprint(cert.Leaf.Raw) != s.Fingerprint || !slices.Contains(cert.Leaf.DNSNames, "herald.lan") {
		t.Fatalf("certificate %s for %v; state %s", tlscert.Fingerprint(cert.Leaf.Raw), cert.Leaf.DNSNames, s.Fingerprint)
	}
	// The hosted server speaks only TLS, and GET /api/server shows its fingerprint.
	var info struct{ TLSFingerprint string }
	call(t, front.URL, "GET", "/api/server", "", nil, &info)
	if info.TLSFingerprint != s.Fingerprint {
		t.Fatalf("GET /api/server through the app: %+v", info)
	}
	hostAddr := strings.TrimPrefix(hosted.LanURL, "https://herald.lan")
	if resp, err := http.Get("http://127.0.0.1" + hostAddr + "/api/server"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("the hosted server answered plain HTTP")
		}
	}
}
