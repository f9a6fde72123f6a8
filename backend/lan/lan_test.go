package lan_test

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/lan"
	"github.com/herald-chat/herald/backend/lan/lantest"
)

const fp = "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89"

func loopback(t *testing.T) []net.Interface {
	t.Helper()
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	return []net.Interface{*lo}
}

// await waits (at most 20 s) until cond holds for b's teams.
func await(t *testing.T, b *lan.Browser, what string, cond func([]lan.Team) bool) []lan.Team {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		ch := b.Changed()
		teams := b.Teams()
		if cond(teams) {
			return teams
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%s: not within 20 s; teams %+v, browse error %v", what, teams, b.Err())
		}
	}
}

func TestAnnounceAndBrowseOnLoopback(t *testing.T) {
	if !lantest.InNetns(t) {
		return
	}
	ctx := t.Context()
	long := strings.Repeat("é", 150) // 300 bytes: cut to MaxTXTValue
	stopA, err := lan.Announce(ctx, lan.Announcement{Team: "Design", Port: 7878, Fingerprint: fp, Version: "v1.2.3", HostedBy: "alice", TLS: true},
		lan.AnnounceOptions{BindIP: net.ParseIP("127.0.0.1"), HostName: "alice-laptop"})
	if err != nil {
		t.Fatal(err)
	}
	stopB, err := lan.Announce(ctx, lan.Announcement{Team: long, Port: 8080, HostedBy: `b\o"b ☃`},
		lan.AnnounceOptions{BindIP: net.ParseIP("127.0.0.1"), HostName: "bob.example"})
	if err != nil {
		t.Fatal(err)
	}
	defer stopB()

	b := lan.Browse(ctx, lan.BrowseOptions{Interfaces: loopback(t), Interval: 200 * time.Millisecond,
		QueryTimeout: 300 * time.Millisecond, Expiry: 2 * time.Second})
	teams := await(t, b, "both teams found", func(ts []lan.Team) bool { return len(ts) == 2 })
	var design, other lan.Team
	for _, tm := range teams {
		if tm.Name == "Design" {
			design = tm
		} else {
			other = tm
		}
	}
	want := lan.Team{Instance: "herald-abcdef0123456789", Name: "Design", Host: "alice-laptop.local", Addr: "127.0.0.1", Port: 7878,
		Scheme: "https", Fingerprint: fp, Version: "v1.2.3", HostedBy: "alice", LastSeen: design.LastSeen}
	if design != want {
		t.Errorf("found %+v, want %+v", design, want)
	}
	if design.URL() != "https://127.0.0.1:7878#sha256="+fp {
		t.Errorf("URL %s", design.URL())
	}
	if other.Port != 8080 || other.Scheme != "http" || other.Fingerprint != "" || other.Host != "bob.local" || other.HostedBy != `b\o"b ☃` ||
		len(other.Name) > lan.MaxTXTValue || !strings.HasPrefix(long, other.Name) || len(other.Name) < lan.MaxTXTValue-1 {
		t.Errorf("the unencrypted team with a long name: %+v (name %d bytes)", other, len(other.Name))
	}
	if other.URL() != "http://127.0.0.1:8080" {
		t.Errorf("URL %s", other.URL())
	}

	// Announced again and again, still one entry each; stopped, gone after the expiry.
	stopA()
	stopA() // idempotent
	teams = await(t, b, "the stopped team expires", func(ts []lan.Team) bool { return len(ts) == 1 })
	if teams[0].Port != 8080 {
		t.Errorf("left %+v", teams)
	}
}

func TestBrowseKeepsAtMostMaxTeams(t *testing.T) {
	if !lantest.InNetns(t) {
		return
	}
	ctx := t.Context()
	for port := 9001; port <= 9003; port++ {
		if _, err := lan.Announce(ctx, lan.Announcement{Team: "T", Port: port}, lan.AnnounceOptions{BindIP: net.ParseIP("127.0.0.1")}); err != nil {
			t.Fatal(err)
		}
	}
	b := lan.Browse(ctx, lan.BrowseOptions{Interfaces: loopback(t), Interval: 200 * time.Millisecond, QueryTimeout: 300 * time.Millisecond, MaxTeams: 2})
	await(t, b, "two teams kept", func(ts []lan.Team) bool { return len(ts) == 2 })
	// Let it hear all three a few times: never more than two.
	for range 5 {
		<-b.Round()
		if n := len(b.Teams()); n > 2 {
			t.Fatalf("%d teams kept, MaxTeams 2", n)
		}
	}
}

func TestAnnounceNeedsAnInterfaceWithTheAddress(t *testing.T) {
	_, err := lan.Announce(context.Background(), lan.Announcement{Team: "T", Port: 1}, lan.AnnounceOptions{BindIP: net.ParseIP("192.0.2.77")})
	if err == nil || !strings.Contains(err.Error(), "192.0.2.77") {
		t.Fatalf("announce on an address this machine lacks: %v", err)
	}
	if _, err := lan.Announce(context.Background(), lan.Announcement{Team: "T", Port: 0}, lan.AnnounceOptions{}); err == nil {
		t.Fatal("port 0 announced")
	}
}

// Bound to 0.0.0.0 the team is announced on every non-loopback interface that is up, with each
// one's addresses, and not on loopback; bound to one address, on its interface only.
func TestAnnounceOnlyOnTheServedInterfaces(t *testing.T) {
	if !lantest.InNetns(t) {
		return
	}
	ctx := t.Context()
	// Only loopback so far: 0.0.0.0 has nothing to announce on.
	if _, err := lan.Announce(ctx, lan.Announcement{Team: "T", Port: 1}, lan.AnnounceOptions{BindIP: net.IPv4zero}); err == nil {
		t.Fatal("announced on 0.0.0.0 with only loopback up")
	}
	for _, args := range [][]string{
		{"link", "add", "veth0", "type", "veth", "peer", "name", "veth1"},
		{"addr", "add", "10.77.0.1/24", "dev", "veth0"}, {"addr", "add", "10.77.0.2/24", "dev", "veth1"},
		{"link", "set", "veth0", "up"}, {"link", "set", "veth1", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	veth0, err := net.InterfaceByName("veth0")
	if err != nil {
		t.Fatal(err)
	}
	lo := loopback(t)
	waitUp(t, veth0.Name)

	stopAll, err := lan.Announce(ctx, lan.Announcement{Team: "All", Port: 7001}, lan.AnnounceOptions{BindIP: net.IPv4zero})
	if err != nil {
		t.Fatal(err)
	}
	defer stopAll()
	stopLo, err := lan.Announce(ctx, lan.Announcement{Team: "Loopback only", Port: 7002}, lan.AnnounceOptions{BindIP: net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer stopLo()

	opts := lan.BrowseOptions{Interval: 200 * time.Millisecond, QueryTimeout: 300 * time.Millisecond}
	opts.Interfaces = []net.Interface{*veth0}
	onVeth := lan.Browse(ctx, opts)
	await(t, onVeth, "the 0.0.0.0 team on veth0", func(ts []lan.Team) bool { return len(ts) >= 1 })
	for range 3 {
		<-onVeth.Round()
	}
	teams := onVeth.Teams()
	if len(teams) != 1 || teams[0].Name != "All" || !strings.HasPrefix(teams[0].Addr, "10.77.0.") {
		t.Errorf("asked on veth0: %+v (the loopback-only team must not answer there)", teams)
	}
	opts.Interfaces = lo
	onLo := lan.Browse(ctx, opts)
	await(t, onLo, "the loopback team", func(ts []lan.Team) bool { return len(ts) >= 1 })
	for range 3 {
		<-onLo.Round()
	}
	if teams := onLo.Teams(); len(teams) != 1 || teams[0].Name != "Loopback only" {
		t.Errorf("asked on loopback: %+v (the 0.0.0.0 team is not announced there)", teams)
	}
}

// waitUp waits until the interface name is up with an address (a veth takes a moment).
func waitUp(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		i, err := net.InterfaceByName(name)
		if err == nil && i.Flags&net.FlagUp != 0 {
			if addrs, _ := i.Addrs(); len(addrs) > 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not up within 10 s", name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
