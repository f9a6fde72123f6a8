package teamserver

import (
	"net"
	"reflect"
	"strings"
	"testing"
)

func ips(s ...string) []net.IP {
	out := make([]net.IP, len(s))
	for i, a := range s {
		out[i] = net.ParseIP(a)
	}
	return out
}

// The case: docker0 (and a VPN) come before the LAN interface in the system's list and
// have private addresses too; the interface of the default route wins.
func TestRankAddressesPrefersTheDefaultRoute(t *testing.T) {
	ifaces := []Interface{
		{Name: "lo", Up: true, Loopback: true, Addrs: ips("127.0.0.1", "::1")},
		{Name: "docker0", Up: true, Addrs: ips("172.17.0.1")},
		{Name: "tun0", Up: true, Addrs: ips("10.8.0.2")},
		{Name: "wlan0", Up: true, Addrs: ips("fe80::1", "192.168.1.20", "2001:db8::20")},
		{Name: "eth1", Up: false, Addrs: ips("192.168.7.7")},
	}
	got := RankAddresses(ifaces, "wlan0")
	want := []Address{
		{Interface: "wlan0", Address: "192.168.1.20", DefaultRoute: true},
		{Interface: "docker0", Address: "172.17.0.1"},
		{Interface: "tun0", Address: "10.8.0.2"},
		{Interface: "wlan0", Address: "2001:db8::20", DefaultRoute: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ranked\n%+v\nwant\n%+v", got, want)
	}
}

func TestRankAddressesWithoutADefaultRoute(t *testing.T) {
	ifaces := []Interface{
		{Name: "eth0", Up: true, Addrs: ips("203.0.113.5")}, // public, not private
		{Name: "docker0", Up: true, Addrs: ips("172.17.0.1")},
	}
	got := RankAddresses(ifaces, "")
	if len(got) != 2 || got[0].Address != "172.17.0.1" || got[1].Address != "203.0.113.5" {
		t.Fatalf("without a default route the first private IPv4 comes first: %+v", got)
	}
	// A public address on the default route beats a private one elsewhere.
	if got := RankAddresses(ifaces, "eth0"); got[0].Address != "203.0.113.5" || !got[0].DefaultRoute {
		t.Fatalf("default route on eth0: %+v", got)
	}
	if got := RankAddresses([]Interface{{Name: "lo", Up: true, Loopback: true, Addrs: ips("127.0.0.1")}}, "lo"); len(got) != 0 {
		t.Fatalf("loopback only: %+v", got)
	}
}

func TestParseDefaultRoute(t *testing.T) {
	table := `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
wlan0	00000000	0101A8C0	0003	0	0	600	00000000	0	0	0
eth0	00000000	0102A8C0	0003	0	0	100	00000000	0	0	0
tun0	00000000	0100080A	0002	0	0	0	00000000	0	0	0
wlan0	0001A8C0	00000000	0001	0	0	600	00FFFFFF	0	0	0
`
	if got := parseDefaultRoute(strings.NewReader(table)); got != "eth0" {
		t.Fatalf("default route via %q, want eth0 (lowest metric; tun0's route is down)", got)
	}
	if got := parseDefaultRoute(strings.NewReader("Iface\tDestination\n")); got != "" {
		t.Fatalf("no routes: %q", got)
	}
}

// On this machine: the address LANAddress picks belongs to the interface of the default route
// when there is one.
func TestLANAddressOnThisMachine(t *testing.T) {
	addrs := LANAddresses()
	t.Logf("candidates: %+v", addrs)
	if len(addrs) == 0 {
		if got := LANAddress(); got != "127.0.0.1" {
			t.Fatalf("no candidates, LANAddress %q", got)
		}
		return
	}
	if LANAddress() != addrs[0].Address {
		t.Fatalf("LANAddress %q is not the first candidate %+v", LANAddress(), addrs[0])
	}
	if ip := outboundIP(); ip != nil && !addrs[0].DefaultRoute {
		t.Fatalf("the system routes through %s, but the first candidate %+v is not on the default route", ip, addrs[0])
	}
}
