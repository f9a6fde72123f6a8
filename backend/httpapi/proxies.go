package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies are the addresses of reverse proxies in front of the server (nginx, Caddy).
// A request whose peer is one of them is from the client its X-Forwarded-For names: the
// rightmost address there that is not itself a trusted proxy. Requests from anyone else are
// from their peer, whatever they claim — a client chooses its own headers.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies reads addresses and CIDR prefixes ("127.0.0.1", "10.0.0.0/8", "::1").
func ParseTrustedProxies(list []string) (TrustedProxies, error) {
	var t TrustedProxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			t = append(t, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: an IP address or a CIDR prefix", s)
		}
		t = append(t, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return t, nil
}

// trusts reports whether ip is one of the proxies.
func (t TrustedProxies) trusts(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP is the address a request came from (see TrustedProxies): the peer's, or the client a
// trusted proxy's X-Forwarded-For names.
func (t TrustedProxies) ClientIP(r *http.Request) string {
	peer, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		peer = r.RemoteAddr
	}
	if len(t) == 0 || !t.trusts(peer) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		a, err := netip.ParseAddr(hop)
		if err != nil {
			break // a hop we cannot read: stop at the last one we could
		}
		client = a.Unmap().String()
		if !t.trusts(client) {
			break
		}
	}
	return client
}
