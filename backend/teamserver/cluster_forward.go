package teamserver

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// A node that forwards a client's write to the writer says who the client is, signed with the
// cluster's shared secret (natslog.SharedSecret, made by the first node and kept in NATS): the
// writer then counts the write against the client's address — its sign-in and registration
// limits, its session list — not against the forwarding node's, without every node's address in
// --trusted-proxies. A signature that checks also lets the forwarding node's connections past
// --max-conns-per-ip for a while (httpapi.ConnLimiter.TrustPeer): it carries many clients.
//
// The signature covers the time, the client's address, the method, the Host and the request
// URI (not the body), and holds for forwardSignatureAge either side of the writer's clock: a
// captured request can be replayed only within that window, to the same URI, and only to say
// the same client. Between nodes that talk HTTPS (--cluster-ca) nothing can be captured.
const (
	headerForwardClient = "X-Herald-Forward-Client"
	headerForwardTime   = "X-Herald-Forward-Time" // Unix milliseconds
	headerForwardSig    = "X-Herald-Forward-Signature"
)

// forwardSignatureAge is how far a signed forward's time may be from the receiving node's clock.
const forwardSignatureAge = 30 * time.Second

// forwardSecretKey names the shared secret the signatures use.
const forwardSecretKey = "forward-signing"

// forwardSignature is the base64 HMAC-SHA256 of a forward's signed parts under key.
func forwardSignature(key []byte, at, client, method, host, uri string) string {
	m := hmac.New(sha256.New, key)
	for _, part := range []string{"herald-forward-v1", at, client, method, host, uri} {
		m.Write([]byte(part))
		m.Write([]byte{'\n'})
	}
	return base64.RawStdEncoding.EncodeToString(m.Sum(nil))
}

// forwardClient is the client of in by this node's rules: its trusted proxies' view, else the peer.
func (n *node) forwardClient(in *http.Request) string {
	if n.clientIP != nil {
		return n.clientIP(in)
	}
	if host, _, err := net.SplitHostPort(in.RemoteAddr); err == nil {
		return host
	}
	return in.RemoteAddr
}

// signForward sets out's forward headers: client is the address the forwarding node's own
// rules (its --trusted-proxies) found for the request. Headers of that name the client sent
// are dropped first.
func (n *node) signForward(out *http.Request, client string, now time.Time) {
	h := out.Header
	h.Del(headerForwardClient)
	h.Del(headerForwardTime)
	h.Del(headerForwardSig)
	if len(n.forwardKey) == 0 {
		return
	}
	at := strconv.FormatInt(now.UnixMilli(), 10)
	h.Set(headerForwardClient, client)
	h.Set(headerForwardTime, at)
	h.Set(headerForwardSig, forwardSignature(n.forwardKey, at, client, out.Method, out.Host, out.URL.RequestURI()))
}

// fromPeer returns r as the client a signed forward names: RemoteAddr is the client's address
// (port 0) and X-Forwarded-For is gone, so every limit and record further in sees the client.
// The forwarding node's address is vouched for to the connection limiter. A request without
// the headers comes back as it is; one whose signature does not check, or is stale, comes back
// without them, as an ordinary request from its peer (and is logged).
func (n *node) fromPeer(r *http.Request, now time.Time) *http.Request {
	sig := r.Header.Get(headerForwardSig)
	client := r.Header.Get(headerForwardClient)
	at := r.Header.Get(headerForwardTime)
	if sig == "" && client == "" && at == "" {
		return r
	}
	r = r.Clone(r.Context())
	r.Header.Del(headerForwardClient)
	r.Header.Del(headerForwardTime)
	r.Header.Del(headerForwardSig)
	reject := func(why string) *http.Request {
		n.log.WarnContext(r.Context(), "a forwarded request's signature was refused: serving it as its peer's",
			"why", why, "peer", r.RemoteAddr, "path", r.URL.Path)
		return r
	}
	if len(n.forwardKey) == 0 {
		return reject("this node has no signing key")
	}
	ms, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return reject("no time")
	}
	if d := now.Sub(time.UnixMilli(ms)); d > forwardSignatureAge || d < -forwardSignatureAge {
		return reject("signed " + d.Round(time.Millisecond).String() + " from this node's clock")
	}
	addr, err := netip.ParseAddr(client)
	if err != nil {
		return reject("no client address")
	}
	want := forwardSignature(n.forwardKey, at, client, r.Method, r.Host, r.URL.RequestURI())
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return reject("a wrong signature")
	}
	if peer, _, err := net.SplitHostPort(r.RemoteAddr); err == nil && n.trustPeer != nil {
		n.trustPeer(peer, now)
	}
	r.RemoteAddr = net.JoinHostPort(addr.Unmap().String(), "0")
	r.Header.Del("X-Forwarded-For")
	return r.WithContext(context.WithValue(r.Context(), forwardedKey{}, true))
}

// forwardedKey marks the context of a request another node forwarded here (fromPeer).
type forwardedKey struct{}

// forwardedHere reports whether r came from another node's forward, signed: such a write is
// not forwarded again.
func forwardedHere(r *http.Request) bool {
	v, _ := r.Context().Value(forwardedKey{}).(bool)
	return v
}
