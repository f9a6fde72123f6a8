package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/lan"
	"github.com/herald-chat/herald/backend/lan/lantest"
	"github.com/herald-chat/herald/backend/tlscert"
)

// serve --announce, run in-process in a network namespace of its own: a browser on loopback
// finds the team with the port it listens on and the fingerprint of the certificate it serves;
// when serve ends, the team is no longer announced.
func TestServeAnnounce(t *testing.T) {
	if !lantest.InNetns(t) {
		return
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--tls-self-signed",
			"--announce", "--announce-hosted-by", "ops"}, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var addr, printed string
	for lines.Scan() && (addr == "" || printed == "" || !strings.Contains(lines.Text(), "announcing")) {
		l := lines.Text()
		if rest, ok := strings.CutPrefix(l, "herald-server listening on https://"); ok {
			addr = rest
		}
		if rest, ok := strings.CutPrefix(l, "herald-server certificate sha256 "); ok {
			printed = rest
		}
	}
	if addr == "" || printed == "" {
		t.Fatalf("serve did not print its address and fingerprint: %v", <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	// The fingerprint of the certificate the server really serves.
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	served := tlscert.Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw)
	conn.Close()

	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	bctx, bcancel := context.WithCancel(t.Context())
	defer bcancel()
	b := lan.Browse(bctx, lan.BrowseOptions{Interfaces: []net.Interface{*lo}, Interval: 200 * time.Millisecond,
		QueryTimeout: 300 * time.Millisecond, Expiry: 2 * time.Second})
	_, port, _ := net.SplitHostPort(addr)
	team := awaitTeams(t, b, "the served team found", func(ts []lan.Team) bool { return len(ts) == 1 })[0]
	if team.Fingerprint != served || served != printed {
		t.Errorf("announced fingerprint %s, served %s, printed %s", team.Fingerprint, served, printed)
	}
	if team.Name != backend.DefaultTeamSettings().Name || team.Addr != "127.0.0.1" || team.Scheme != "https" || team.HostedBy != "ops" ||
		net.JoinHostPort(team.Addr, itoa(team.Port)) != addr || itoa(team.Port) != port || team.Version == "" {
		t.Errorf("announced %+v; serving %s", team, addr)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	awaitTeams(t, b, "the stopped server no longer found", func(ts []lan.Team) bool { return len(ts) == 0 })
}

// serve without --announce announces nothing.
func TestServeDoesNotAnnounceByDefault(t *testing.T) {
	if !lantest.InNetns(t) {
		return
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "herald-server listening on") {
		t.Fatalf("serve did not start: %v", <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	// A control that is announced, so that "nothing found" is known to be after the questions
	// were answered.
	stop, err := lan.Announce(ctx, lan.Announcement{Team: "control", Port: 1}, lan.AnnounceOptions{BindIP: net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	b := lan.Browse(ctx, lan.BrowseOptions{Interfaces: []net.Interface{*lo}, Interval: 200 * time.Millisecond, QueryTimeout: 300 * time.Millisecond})
	awaitTeams(t, b, "the control found", func(ts []lan.Team) bool { return len(ts) == 1 })
	for range 3 { // three more rounds of answers
		<-b.Round()
	}
	if ts := b.Teams(); len(ts) != 1 || ts[0].Name != "control" {
		t.Fatalf("found %+v: serve announced without --announce", ts)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func awaitTeams(t *testing.T, b *lan.Browser, what string, cond func([]lan.Team) bool) []lan.Team {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		ch := b.Changed()
		if ts := b.Teams(); cond(ts) {
			return ts
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%s: not within 20 s; teams %+v, browse error %v", what, b.Teams(), b.Err())
		}
	}
}
