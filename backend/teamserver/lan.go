package teamserver

import (
	"bufio"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Address is one address of this machine that others on the network may reach a server at.
type Address struct {
	Interface string `json:"interface"` // e.g. "eth0", "wlan0", "docker0"
	Address   string `json:"address"`   // an IP address, e.g. "192.168.1.20"
	// DefaultRoute is true for the addresses of the interface that carries the default route:
	// the one the machine's own traffic to the rest of the network leaves by.
	DefaultRoute bool `json:"defaultRoute"`
}

// Interface is what LANAddresses needs to know about one network interface.
type Interface struct {
	Name         string
	Up, Loopback bool
	Addrs        []net.IP
}

// LANAddresses lists the addresses of this machine's interfaces that are up, best first (see
// RankAddresses). It reads the interfaces and the default route from the system; what it cannot
// read is left out, so the list may be empty.
func LANAddresses() []Address {
	ifaces, _ := net.Interfaces()
	list := make([]Interface, 0, len(ifaces))
	for _, iface := range ifaces {
		in := Interface{Name: iface.Name, Up: iface.Flags&net.FlagUp != 0, Loopback: iface.Flags&net.FlagLoopback != 0}
		addrs, _ := iface.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				in.Addrs = append(in.Addrs, n.IP)
			}
		}
		list = append(list, in)
	}
	return RankAddresses(list, defaultRouteInterface(list))
}

// LANAddress is the address to give others for a server on this machine: the first of
// LANAddresses, or 127.0.0.1 when the machine has no other.
func LANAddress() string {
	if addrs := LANAddresses(); len(addrs) > 0 {
		return addrs[0].Address
	}
	return "127.0.0.1"
}

// RankAddresses lists the usable addresses of ifaces — interfaces that are up and not loopback;
// neither loopback nor link-local addresses — best first: the IPv4 addresses of defaultIface
// (the interface of the default route, "" when unknown), then private IPv4 addresses (a docker
// bridge or a VPN has them too, which is why the default route comes first), then other IPv4
// addresses, then IPv6 ones in the same order. Interfaces keep their order within each rank.
func RankAddresses(ifaces []Interface, defaultIface string) []Address {
	var ranked [6][]Address
	for _, iface := range ifaces {
		if !iface.Up || iface.Loopback {
			continue
		}
		for _, ip := range iface.Addrs {
			if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast() {
				continue
			}
			a := Address{Interface: iface.Name, Address: ip.String(), DefaultRoute: iface.Name == defaultIface && defaultIface != ""}
			rank := 2
			switch {
			case a.DefaultRoute:
				rank = 0
			case ip.IsPrivate():
				rank = 1
			}
			if ip.To4() == nil {
				rank += 3
			}
			ranked[rank] = append(ranked[rank], a)
		}
	}
	var out []Address
	for _, r := range ranked {
		out = append(out, r...)
	}
	return out
}

// defaultRouteInterface names the interface of the default route: on Linux from
// /proc/net/route, elsewhere (or when that says nothing) the interface that holds the local
// address of a UDP socket connected towards the internet.
func defaultRouteInterface(ifaces []Interface) string {
	if runtime.GOOS == "linux" {
		if f, err := os.Open("/proc/net/route"); err == nil {
			name := parseDefaultRoute(f)
			f.Close()
			if name != "" {
				return name
			}
		}
	}
	ip := outboundIP()
	if ip == nil {
		return ""
	}
	for _, iface := range ifaces {
		for _, a := range iface.Addrs {
			if a.Equal(ip) {
				return iface.Name
			}
		}
	}
	return ""
}

// outboundIP is the local address the system picks for traffic to the internet. Connecting a
// UDP socket sends nothing — it only chooses the route — and 192.0.2.1 is TEST-NET-1, an
// address no one uses. nil when there is no route.
func outboundIP() net.IP {
	conn, err := net.Dial("udp", "192.0.2.1:9")
	if err != nil {
		return nil
	}
	defer conn.Close()
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok && !a.IP.IsUnspecified() {
		return a.IP
	}
	return nil
}

// parseDefaultRoute reads a Linux /proc/net/route table and names the interface of its
// default route (destination and mask 0, flag RTF_UP) with the lowest metric; "" when it has
// none.
func parseDefaultRoute(r io.Reader) string {
	sc := bufio.NewScanner(r)
	best, bestMetric := "", -1
	for first := true; sc.Scan(); first = false {
		f := strings.Fields(sc.Text())
		if first || len(f) < 8 { // the header line
			continue
		}
		flags, err1 := strconv.ParseUint(f[3], 16, 32)
		metric, err2 := strconv.Atoi(f[6])
		if err1 != nil || err2 != nil || f[1] != "00000000" || f[7] != "00000000" || flags&0x1 == 0 {
			continue
		}
		if bestMetric < 0 || metric < bestMetric {
			best, bestMetric = f[0], metric
		}
	}
	return best
}
