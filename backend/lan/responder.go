package lan

import (
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/hashicorp/mdns"
	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// responder answers mDNS questions with a zone's records (mdns.MDNSService builds them), on one
// interface only. It stands in for mdns.Server, which answers whatever reaches its socket: Linux
// delivers a multicast group's packets to every socket bound to the group's port when any socket
// joined the group on the arriving interface (IP_MULTICAST_ALL), so a server meant for loopback
// would answer questions from the LAN too. This one drops packets that did not arrive on its
// interface.
type responder struct {
	zone   mdns.Zone
	iface  net.Interface
	log    *slog.Logger
	v4     *ipv4.PacketConn
	v6     *ipv6.PacketConn
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

var (
	mdnsGroup4 = &net.UDPAddr{IP: net.ParseIP("224.0.0.251"), Port: 5353}
	mdnsGroup6 = &net.UDPAddr{IP: net.ParseIP("ff02::fb"), Port: 5353}
)

// maxPacket is the largest mDNS packet read (RFC 6762 allows up to 9000 bytes).
const maxPacket = 9000

func newResponder(zone mdns.Zone, iface net.Interface, log *slog.Logger) (*responder, error) {
	r := &responder{zone: zone, iface: iface, log: log, closed: make(chan struct{})}
	var errs []error
	if c, err := net.ListenMulticastUDP("udp4", &iface, mdnsGroup4); err == nil {
		r.v4 = ipv4.NewPacketConn(c)
		if err := r.v4.SetControlMessage(ipv4.FlagInterface, true); err != nil {
			c.Close()
			r.v4 = nil
			errs = append(errs, err)
		}
	} else {
		errs = append(errs, err)
	}
	if c, err := net.ListenMulticastUDP("udp6", &iface, mdnsGroup6); err == nil {
		r.v6 = ipv6.NewPacketConn(c)
		if err := r.v6.SetControlMessage(ipv6.FlagInterface, true); err != nil {
			c.Close()
			r.v6 = nil
		}
	}
	if r.v4 == nil && r.v6 == nil {
		return nil, fmt.Errorf("no multicast listener on %s: %v", iface.Name, errs)
	}
	if r.v4 != nil {
		r.wg.Add(1)
		go r.serve4()
	}
	if r.v6 != nil {
		r.wg.Add(1)
		go r.serve6()
	}
	return r, nil
}

func (r *responder) serve4() {
	defer r.wg.Done()
	buf := make([]byte, maxPacket)
	for {
		n, cm, from, err := r.v4.ReadFrom(buf)
		if err != nil {
			select {
			case <-r.closed:
				return
			default:
				continue
			}
		}
		if cm == nil || cm.IfIndex != r.iface.Index {
			continue // not from the served interface
		}
		if resp := r.answer(buf[:n]); resp != nil {
			if _, err := r.v4.WriteTo(resp, &ipv4.ControlMessage{IfIndex: r.iface.Index}, from); err != nil {
				r.log.Debug("mdns: answer", "to", from, "err", err)
			}
		}
	}
}

func (r *responder) serve6() {
	defer r.wg.Done()
	buf := make([]byte, maxPacket)
	for {
		n, cm, from, err := r.v6.ReadFrom(buf)
		if err != nil {
			select {
			case <-r.closed:
				return
			default:
				continue
			}
		}
		if cm == nil || cm.IfIndex != r.iface.Index {
			continue
		}
		if resp := r.answer(buf[:n]); resp != nil {
			if _, err := r.v6.WriteTo(resp, &ipv6.ControlMessage{IfIndex: r.iface.Index}, from); err != nil {
				r.log.Debug("mdns: answer", "to", from, "err", err)
			}
		}
	}
}

// answer is the packed response to the query in packet, nil when there is none (not a
// standard query, a response, or no question about our records).
func (r *responder) answer(packet []byte) []byte {
	var q dns.Msg
	if err := q.Unpack(packet); err != nil || q.Response || q.Opcode != dns.OpcodeQuery || q.Rcode != 0 || len(q.Question) > 16 {
		return nil
	}
	var answers []dns.RR
	unicast := false
	for _, question := range q.Question {
		if question.Qclass&(1<<15) != 0 {
			unicast = true
		}
		question.Qclass &^= 1 << 15
		answers = append(answers, r.zone.Records(question)...)
	}
	if len(answers) == 0 {
		return nil
	}
	resp := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Opcode: dns.OpcodeQuery, Authoritative: true}, Compress: true, Answer: answers}
	if unicast {
		resp.Id = q.Id
	}
	out, err := resp.Pack()
	if err != nil {
		r.log.Debug("mdns: pack the answer", "err", err)
		return nil
	}
	return out
}

func (r *responder) Shutdown() {
	r.once.Do(func() {
		close(r.closed)
		if r.v4 != nil {
			_ = r.v4.Close()
		}
		if r.v6 != nil {
			_ = r.v6.Close()
		}
		r.wg.Wait()
	})
}
