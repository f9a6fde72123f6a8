// Package testnet has what the tests of a cluster need of the network.
package testnet

import (
	"net"
	"testing"
)

// FreePorts returns n loopback TCP ports that were free a moment ago: for servers whose
// addresses must be known before any of them starts (NATS routes name every node's port).
func FreePorts(tb testing.TB, n int) []int {
	tb.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}
