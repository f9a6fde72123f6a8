package httpapi

import (
	"net/http/httptest"
	"testing"
)

func TestClientIPBehindTrustedProxies(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"127.0.0.1", "10.0.0.0/8", " ::1 "})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no proxy: the peer", "203.0.113.7:5000", nil, "203.0.113.7"},
		{"an untrusted peer's header is ignored", "203.0.113.7:5000", []string{"198.51.100.1"}, "203.0.113.7"},
		{"a trusted proxy names the client", "127.0.0.1:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"the rightmost untrusted hop, not a forged leftmost one", "127.0.0.1:5000", []string{"6.6.6.6, 198.51.100.1, 10.1.2.3"}, "198.51.100.1"},
		{"several header lines read as one list", "[::1]:5000", []string{"6.6.6.6", "198.51.100.2"}, "198.51.100.2"},
		{"a trusted proxy without the header: itself", "127.0.0.1:5000", nil, "127.0.0.1"},
		{"an unreadable hop stops the walk", "127.0.0.1:5000", []string{"198.51.100.1, garbage"}, "127.0.0.1"},
		{"IPv4-mapped IPv6 reads as IPv4", "127.0.0.1:5000", []string{"::ffff:198.51.100.3"}, "198.51.100.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := trusted.ClientIP(r); got != tt.want {
				t.Fatalf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
	if got := TrustedProxies(nil).ClientIP(httptest.NewRequest("GET", "/", nil)); got != "192.0.2.1" {
		t.Fatalf("without proxies: %q", got)
	}
	for _, bad := range []string{"localhost", "10.0.0.0/33", "1.2.3"} {
		if _, err := ParseTrustedProxies([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
