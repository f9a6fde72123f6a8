package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-chat/herald/backend/lan/lantest"
)

// TestDesktopLANDiscovery: in a network namespace of their own, a hosting app announces its team
// and a second app on its first run lists it on the Join screen ("Acme", its address, "hosted by
// Alice"); picking it with the keyboard fills in the address with the announced fingerprint, and
// Connect joins with that certificate pinned.
func TestDesktopLANDiscovery(t *testing.T) {
	if !lantest.InNetns(t) {
		return
	}
	needDesktop(t)
	addr := freeAddr(t)
	host := startDesktop(t, nil, "--data-dir", t.TempDir(), "--host", addr)
	fp, _ := host.hostedCertificate("https://" + addr)
	if status := api(t, "POST", host.debug+"/api/auth/register", "", map[string]string{"username": "alice", "displayName": "Alice",
		"password": "correct horse 1"}, nil); status != 201 {
		t.Fatalf("register the host's admin: %d", status)
	}
	host.expectLine("herald: state Live")
	host.expectLine("herald: lan announce " + addr)

	joiner := startDesktop(t, nil, "--data-dir", t.TempDir())
	joiner.expectLine("herald: focus ")
	dir := artifacts(t)
	key := func(keys ...string) {
		t.Helper()
		if out, err := joiner.run("xdotool", append([]string{"key", "--delay", "50"}, keys...)...); err != nil {
			t.Fatalf("xdotool key %v: %v %s", keys, err, out)
		}
	}
	// The chooser: Tab to "Join a team" and press it.
	key("Tab", "Tab", "Return")
	// The Join screen polls GET /desktop/lan: it lists the team once the app has found it.
	joiner.expectLine("herald: lan teams 1")
	// The next question comes after the page has rendered that answer.
	joiner.expectLineAfter(indexOf(joiner.output(), "herald: lan teams 1")+1, "herald: lan teams ")
	var found struct {
		Enabled bool
		Teams   []struct{ Name, HostedBy, Fingerprint, URL string }
	}
	api(t, "GET", joiner.debug+"/desktop/lan", "", nil, &found)
	if len(found.Teams) != 1 || found.Teams[0].Name == "" || found.Teams[0].HostedBy != "Alice" ||
		found.Teams[0].Fingerprint != fp || found.Teams[0].URL != "https://"+addr+"#sha256="+fp {
		t.Fatalf("the joining app found %+v; hosting %s with %s", found, addr, fp)
	}
	joiner.screenshot(filepath.Join(dir, "lan-join-screen.png"))

	// From the address field: Shift+Tab past "Look for teams on this network" to the team, pick
	// it (the field gets its address and fingerprint, and the focus), and connect.
	key("shift+Tab", "shift+Tab", "Return")
	joiner.screenshot(filepath.Join(dir, "lan-join-picked.png"))
	key("Return")
	joiner.expectLine("herald: joined https://" + addr)
	var js struct{ Mode, ServerURL, Fingerprint string }
	api(t, "GET", joiner.debug+"/desktop/state", "", nil, &js)
	if js.Mode != "join" || js.ServerURL != "https://"+addr || js.Fingerprint != fp {
		t.Fatalf("the joining app's state %+v; the host's certificate is %s", js, fp)
	}
	joiner.quit()
	host.quit()
}

// indexOf is the index of the first line starting with prefix (-1: none).
func indexOf(lines []string, prefix string) int {
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return i
		}
	}
	return -1
}
