package app

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/lan"
	"github.com/herald-chat/herald/backend/lan/lantest"
)

type lanAnswer struct {
	Enabled bool      `json:"enabled"`
	Teams   []lanTeam `json:"teams"`
	Error   string    `json:"error"`
}

func lanOf(t *testing.T, base string) lanAnswer {
	t.Helper()
	var out lanAnswer
	if resp := call(t, base, "GET", "/desktop/lan", "", nil, &out); resp.StatusCode != 200 {
		t.Fatalf("GET /desktop/lan: %d", resp.StatusCode)
	}
	return out
}

// Two apps in one network namespace: the hosting one announces its team, the other's Join
// screen (GET /desktop/lan) lists it with the hosted server's fingerprint and who hosts it, and
// joining with the listed URL pins that fingerprint. The setting turns the announcement off;
// --no-lan turns browsing off.
func TestJoinScreenFindsAHostedTeamOnTheLAN(t *testing.T) {
	if !lantest.InNetns(t) {
		return
	}
	lanBrowseOptions = lan.BrowseOptions{Interval: 200 * time.Millisecond, QueryTimeout: 300 * time.Millisecond, Expiry: 2 * time.Second}
	defer func() { lanBrowseOptions = lan.BrowseOptions{} }()

	_, host, _ := runApp(t, Options{DataDir: t.TempDir()})
	var hosted map[string]string
	if resp := call(t, host.URL, "POST", "/desktop/host", "", map[string]string{"hostAddr": "127.0.0.1:0", "teamName": "Acme",
		"username": "alice", "displayName": "Alice Liddell", "password": "correct horse 1"}, &hosted); resp.StatusCode != 200 {
		t.Fatalf("host: %d %v", resp.StatusCode, hosted)
	}
	hs := desktopStateOf(t, host.URL)
	if !hs.LANAnnounce || !hs.LANAvailable || hs.LANAnnounced != strings.TrimPrefix(hs.LANURL, "https://") {
		t.Fatalf("hosting state: %+v", hs)
	}

	_, joiner, _ := runApp(t, Options{DataDir: t.TempDir()})
	var found lanTeam
	waitFor(t, "the hosted team listed", func() bool {
		a := lanOf(t, joiner.URL)
		if len(a.Teams) == 1 {
			found = a.Teams[0]
		}
		return a.Enabled && len(a.Teams) == 1
	})
	want := fmt.Sprintf("%s#sha256=%s", hs.LANURL, hs.Fingerprint)
	if found.Name != "Acme" || found.HostedBy != "Alice Liddell" || found.Fingerprint != hs.Fingerprint || found.URL != want || found.Scheme != "https" {
		t.Fatalf("listed %+v; want the URL %s", found, want)
	}

	// The host turns announcing off: the team drops off the list.
	var after desktopState
	call(t, host.URL, "PUT", "/desktop/settings", "", map[string]any{"lanAnnounce": false}, &after)
	if after.LANAnnounce || after.LANAnnounced != "" {
		t.Fatalf("after turning announcing off: %+v", after)
	}
	waitFor(t, "the team no longer listed", func() bool { return len(lanOf(t, joiner.URL).Teams) == 0 })
	call(t, host.URL, "PUT", "/desktop/settings", "", map[string]any{"lanAnnounce": true}, &after)
	waitFor(t, "the team listed again", func() bool { return len(lanOf(t, joiner.URL).Teams) == 1 })

	// One click: the listed URL joins and pins the announced certificate.
	var joined map[string]string
	if resp := call(t, joiner.URL, "POST", "/desktop/join", "", map[string]string{"serverUrl": found.URL}, &joined); resp.StatusCode != 200 {
		t.Fatalf("join with %s: %d %v", found.URL, resp.StatusCode, joined)
	}
	if js := desktopStateOf(t, joiner.URL); js.Fingerprint != hs.Fingerprint || js.ServerURL != hs.LANURL {
		t.Fatalf("joined: %+v", js)
	}

	// Browsing off by the setting, and by --no-lan.
	call(t, joiner.URL, "PUT", "/desktop/settings", "", map[string]any{"lanBrowse": false}, nil)
	if a := lanOf(t, joiner.URL); a.Enabled || len(a.Teams) != 0 {
		t.Fatalf("browsing off: %+v", a)
	}
	_, nolan, _ := runApp(t, Options{DataDir: t.TempDir(), NoLAN: true})
	if a := lanOf(t, nolan.URL); a.Enabled || len(a.Teams) != 0 {
		t.Fatalf("--no-lan: %+v", a)
	}
	if s := desktopStateOf(t, nolan.URL); s.LANAvailable {
		t.Fatalf("--no-lan state: %+v", s)
	}
}

// --no-lan: a hosted team is not announced.
func TestNoLANDoesNotAnnounce(t *testing.T) {
	if !lantest.InNetns(t) {
		return
	}
	_, host, _ := runApp(t, Options{DataDir: t.TempDir(), NoLAN: true})
	var hosted map[string]string
	if resp := call(t, host.URL, "POST", "/desktop/host", "", map[string]string{"hostAddr": "127.0.0.1:0", "teamName": "Acme",
		"username": "alice", "password": "correct horse 1"}, &hosted); resp.StatusCode != 200 {
		t.Fatalf("host: %d %v", resp.StatusCode, hosted)
	}
	if s := desktopStateOf(t, host.URL); s.LANAnnounced != "" {
		t.Fatalf("announced with --no-lan: %+v", s)
	}
	// A control that is announced: rounds that find it and nothing else find no Acme.
	stop, err := lan.Announce(t.Context(), lan.Announcement{Team: "control", Port: 1}, lan.AnnounceOptions{BindIP: net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	b := lan.Browse(t.Context(), lan.BrowseOptions{Interfaces: []net.Interface{*lo}, Interval: 200 * time.Millisecond, QueryTimeout: 300 * time.Millisecond})
	waitFor(t, "the control found", func() bool { return len(b.Teams()) > 0 })
	for range 3 {
		<-b.Round()
	}
	if ts := b.Teams(); len(ts) != 1 || ts[0].Name != "control" {
		t.Fatalf("found %+v: the app announced under --no-lan", ts)
	}
}
