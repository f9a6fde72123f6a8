// Teams on the local network: the hosted team is announced over mDNS, and the Join screen's
// GET /desktop/lan lists the teams a browser finds (backend/lan).

package app

import (
	"context"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/herald-chat/herald/app/local"
	"github.com/herald-chat/herald/backend/lan"
)

// lanIdle is how long the app keeps browsing after the last GET /desktop/lan: the Join screen
// polls while it is open, and nothing is asked of the network once it has closed.
const lanIdle = 30 * time.Second

// lanBrowseOptions tune the browser (tests shorten its intervals; zero: backend/lan's defaults).
var lanBrowseOptions lan.BrowseOptions

// lanState is the announcement and the browser, behind their own lock (never held with a.mu).
type lanState struct {
	mu        sync.Mutex
	announced *lan.Announcement // what is announced now; nil when nothing is
	bind      string            // on what address
	stop      func()
	browser   *lan.Browser
	cancel    context.CancelFunc // ends browser
	lastPoll  time.Time
	hostedBy  string // the display name of who signed in to the hosted team
}

// lanSettings reads the LAN settings; a store that cannot be read gives the defaults.
func (a *App) lanSettings() local.Settings {
	s, err := a.store.Settings()
	if err != nil {
		a.log.Error("read settings", "err", err)
	}
	return s
}

// syncAnnounce makes the announcement match the app: the hosted team while it runs and the
// setting (and not --no-lan) allows, else nothing. A failure is logged and shown by nobody: the
// team works without it.
func (a *App) syncAnnounce() {
	a.mu.Lock()
	p, srv, bound := a.profile, a.hosted, a.hostedBound
	a.mu.Unlock()
	want := srv != nil && p.Mode == local.ModeHost && !a.opts.NoLAN && a.lanSettings().Announces()
	a.lan.mu.Lock()
	defer a.lan.mu.Unlock()
	var ann lan.Announcement
	var ip net.IP
	if want {
		host, port, err := net.SplitHostPort(bound)
		n, _ := strconv.Atoi(port)
		if err != nil || n == 0 {
			want = false
		} else {
			ip = net.ParseIP(host)
			by := a.lan.hostedBy
			if by == "" {
				by = p.Username
			}
			ann = lan.Announcement{Team: p.TeamName, Port: n, Fingerprint: p.Fingerprint, Version: lan.BuildVersion(), HostedBy: by, TLS: true}
		}
	}
	if a.lan.announced != nil && want && *a.lan.announced == ann && a.lan.bind == bound {
		return
	}
	if a.lan.stop != nil {
		a.lan.stop()
		a.lan.stop, a.lan.announced, a.lan.bind = nil, nil, ""
		a.out.printf("lan announce off")
	}
	if !want {
		return
	}
	stop, err := lan.Announce(a.ctx, ann, lan.AnnounceOptions{BindIP: ip, Logger: a.log})
	if err != nil {
		a.log.Warn("cannot announce the team on the local network", "err", err)
		a.out.printf("error lan announce: %v", err)
		return
	}
	a.lan.stop, a.lan.announced, a.lan.bind = stop, &ann, bound
	a.out.printf("lan announce %s", bound)
}

// lanTeam is one team of GET /desktop/lan.
type lanTeam struct {
	lan.Team
	// URL is what the Join field takes: https://ADDR:PORT#sha256=FINGERPRINT, which pins the
	// announced certificate as an invite link's fingerprint does.
	URL string `json:"url"`
}

// lanTeams is GET /desktop/lan: the teams found on the local network. Browsing starts with the
// first call and stops lanIdle after the last one; enabled is false when a setting or --no-lan
// turns it off.
func (a *App) lanTeams() map[string]any {
	if a.opts.NoLAN || !a.lanSettings().Browses() {
		a.stopBrowsing()
		return map[string]any{"enabled": false, "teams": []lanTeam{}}
	}
	a.lan.mu.Lock()
	a.lan.lastPoll = time.Now()
	b := a.lan.browser
	if b == nil {
		ctx, cancel := context.WithCancel(a.ctx)
		opts := lanBrowseOptions
		opts.Logger = a.log
		b = lan.Browse(ctx, opts)
		a.lan.browser, a.lan.cancel = b, cancel
		go a.browseUntilIdle(b, cancel)
	}
	a.lan.mu.Unlock()
	teams := []lanTeam{}
	for _, t := range b.Teams() {
		teams = append(teams, lanTeam{Team: t, URL: t.URL()})
	}
	a.out.printf("lan teams %d", len(teams))
	out := map[string]any{"enabled": true, "teams": teams}
	if err := b.Err(); err != nil {
		out["error"] = err.Error()
	}
	return out
}

// browseUntilIdle ends b (cancel) lanIdle after the last poll, or with the app.
func (a *App) browseUntilIdle(b *lan.Browser, cancel context.CancelFunc) {
	defer cancel()
	t := time.NewTimer(lanIdle)
	defer t.Stop()
	for {
		select {
		case <-b.Done():
			return
		case <-t.C:
		}
		a.lan.mu.Lock()
		idle := time.Since(a.lan.lastPoll)
		if a.lan.browser != b {
			a.lan.mu.Unlock()
			return
		}
		if idle >= lanIdle {
			a.lan.browser, a.lan.cancel = nil, nil
			a.lan.mu.Unlock()
			return
		}
		a.lan.mu.Unlock()
		t.Reset(lanIdle - idle)
	}
}

func (a *App) stopBrowsing() {
	a.lan.mu.Lock()
	cancel := a.lan.cancel
	a.lan.browser, a.lan.cancel = nil, nil
	a.lan.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// stopAnnouncing ends the announcement (at shutdown).
func (a *App) stopAnnouncing() {
	a.lan.mu.Lock()
	defer a.lan.mu.Unlock()
	if a.lan.stop != nil {
		a.lan.stop()
		a.lan.stop, a.lan.announced, a.lan.bind = nil, nil, ""
	}
}
