// The team: host or join, the saved profile, and the session whose token the proxy adds.

package app

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/herald-chat/herald/app/local"
	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/client"
	"github.com/herald-chat/herald/backend/teamserver"
)

// applyStartupProfile follows --host / --join, or else the saved profile; without either the
// window shows the first-run chooser.
func (a *App) applyStartupProfile() error {
	saved, ok, err := a.store.Profile()
	if err != nil {
		return err
	}
	switch {
	case a.opts.HostAddr != "":
		p := local.Profile{Mode: local.ModeHost, HostAddr: a.opts.HostAddr, KeepInTray: saved.KeepInTray}
		if ok && saved.Mode == local.ModeHost {
			p.Token, p.Username, p.TeamName = saved.Token, saved.Username, saved.TeamName
		}
		return a.activateOrNote(p)
	case a.opts.JoinURL != "":
		u, err := parseServerURL(a.opts.JoinURL)
		if err != nil {
			return err
		}
		p := local.Profile{Mode: local.ModeJoin, ServerURL: u.String(), TeamName: u.Host, KeepInTray: saved.KeepInTray}
		if ok && saved.Mode == local.ModeJoin && saved.ServerURL == p.ServerURL {
			p.Token, p.Username = saved.Token, saved.Username
		}
		if a.opts.Username != "" && a.opts.Password != "" && !a.tokenStillGood(p, a.opts.Username) {
			c, err := client.New(p.ServerURL, "")
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(a.ctx, 30*time.Second)
			token, user, err := c.SignIn(ctx, a.opts.Username, a.opts.Password)
			cancel()
			if err != nil {
				// Keep going: the window shows sign-in, and a saved token may still work.
				a.out.printf("error sign-in as %s: %v", a.opts.Username, err)
			} else {
				if p.Username != user.Username {
					_ = a.store.SetLastEventID("")
					_ = a.store.ClearCache() // another user's history must not be served offline
				}
				p.Token, p.Username = token, user.Username
			}
		}
		return a.activateOrNote(p)
	case ok:
		return a.activateOrNote(saved)
	}
	return nil
}

// activateOrNote activates p at start-up. When that fails (the port is taken, the address is gone)
// the team stays chosen, not forgotten: the window shows the problem with Try again and Change
// team instead of the first-run chooser, and the saved profile is untouched.
func (a *App) activateOrNote(p local.Profile) error {
	err := a.activate(p)
	if err != nil {
		a.mu.Lock()
		a.profile, a.configured, a.problem = p, true, err.Error()
		a.mu.Unlock()
		a.updateView(func(v *TrayView) { v.Team = p.TeamName })
	}
	return err
}

// retry activates the noted team again (POST /desktop/retry).
func (a *App) retry() error {
	a.mu.Lock()
	p, problem := a.profile, a.problem
	a.mu.Unlock()
	if problem == "" {
		return nil
	}
	return a.activateOrNote(p)
}

// tokenStillGood reports whether p holds a session of username that the server still accepts, so
// a scripted start does not open a new session every time.
func (a *App) tokenStillGood(p local.Profile, username string) bool {
	if p.Token == "" || p.Username != username {
		return false
	}
	c, err := client.New(p.ServerURL, p.Token)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(a.ctx, 10*time.Second)
	defer cancel()
	u, err := c.Me(ctx)
	return err == nil && u.Username == username
}

// activate makes p the current team: hosts its server (host mode), points the proxy at it, saves
// it, and subscribes when signed in.
func (a *App) activate(p local.Profile) error {
	var upstream *url.URL
	switch p.Mode {
	case local.ModeHost:
		if p.HostAddr == "" {
			p.HostAddr = DefaultHostAddr
		}
		u, lan, bound, err := a.host(p.HostAddr)
		if err != nil {
			return err
		}
		if _, port, _ := net.SplitHostPort(p.HostAddr); port == "0" {
			p.HostAddr = bound // keep the port the system picked: invite links stay valid
		}
		if p.TeamName == "" {
			p.TeamName = defaultTeamName()
		}
		upstream = u
		a.mu.Lock()
		a.hostedURL = lan
		a.mu.Unlock()
	case local.ModeJoin:
		u, err := parseServerURL(p.ServerURL)
		if err != nil {
			return err
		}
		if p.TeamName == "" {
			p.TeamName = u.Host
		}
		upstream = u
		a.out.printf("joined %s", u)
	default:
		return fmt.Errorf("unknown mode %q", p.Mode)
	}
	if err := a.store.SaveProfile(p); err != nil {
		return err
	}
	a.mu.Lock()
	a.profile, a.configured, a.problem = p, true, ""
	a.mu.Unlock()
	a.proxy.SetUpstream(upstream)
	a.updateView(func(v *TrayView) { v.Team = p.TeamName })
	if p.Token != "" {
		a.startStream()
	} else {
		a.setState(StateSignedOut)
	}
	return nil
}

// host opens and serves the hosted team server on addr. It answers the URL the app itself uses
// (loopback), the one to give the team (a LAN address) and the address it listens on.
func (a *App) host(addr string) (self *url.URL, lan, bound string, err error) {
	a.mu.Lock()
	running := a.hosted != nil
	a.mu.Unlock()
	if running {
		return nil, "", "", backend.Errorf(backend.ECONFLICT, "A team server is already running in this app.")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", "", backend.Errorf(backend.ECONFLICT, "Cannot listen on %s: %v", addr, err)
	}
	srv, err := teamserver.Open(teamserver.Config{DataDir: filepath.Join(a.opts.DataDir, "server"), Logger: a.log, WebClient: a.opts.WebClient})
	if err != nil {
		ln.Close()
		return nil, "", "", err
	}
	go func() {
		if err := srv.Serve(ln); err != nil {
			a.log.Error("team server stopped", "err", err)
		}
	}()
	a.mu.Lock()
	a.hosted = srv
	a.mu.Unlock()
	tcp := ln.Addr().(*net.TCPAddr)
	selfHost := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		selfHost = "127.0.0.1"
	}
	self = &url.URL{Scheme: "http", Host: net.JoinHostPort(selfHost, fmt.Sprint(tcp.Port))}
	lan = "http://" + net.JoinHostPort(lanAddress(tcp.IP), fmt.Sprint(tcp.Port))
	a.log.Info("hosting team server", "addr", tcp.String(), "lan", lan)
	a.out.printf("hosting http://%s", tcp)
	return self, lan, tcp.String(), nil
}

// lanAddress is the address others on the network reach ip at: ip itself unless it is unspecified,
// then the first private IPv4 address of an interface that is up, else loopback.
func lanAddress(ip net.IP) string {
	if !ip.IsUnspecified() {
		return ip.String()
	}
	ifaces, _ := net.Interfaces()
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := iface.Addrs()
		for _, addr := range addrs {
			if n, ok := addr.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsPrivate() {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

func defaultTeamName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "My team"
}

// parseServerURL accepts an http(s) URL of a team server (any path is dropped).
func parseServerURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, backend.Errorf(backend.EINVALID, "%q is not a server address: use http://host:port or https://host.", s)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// Token, SignedIn and SignedOut make the App the proxy's Session.

func (a *App) Token() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.profile.Token
}

// Owner is the team and the signed-in user: "host|alice" or "https://chat.example|alice".
func (a *App) Owner() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return ownerOf(a.profile)
}

func ownerOf(p local.Profile) string {
	team := p.ServerURL
	if p.Mode == local.ModeHost {
		team = "host"
	}
	return team + "|" + p.Username
}

func (a *App) SignedIn(u *backend.User, token string) {
	a.mu.Lock()
	p := a.profile
	changedUser := p.Username != u.Username
	p.Token, p.Username = token, u.Username
	a.profile = p
	if changedUser {
		a.historyCached = map[string]string{}
	}
	a.mu.Unlock()
	a.stopStream() // saves the previous session's position first …
	if changedUser {
		_ = a.store.SetLastEventID("") // … which another user's stream must not resume from
		_ = a.store.ClearCache()
	}
	if err := a.store.SaveProfile(p); err != nil {
		a.log.Error("save profile", "err", err)
	}
	a.log.Info("signed in", "user", u.Username)
	a.startStream()
}

func (a *App) SignedOut() {
	a.mu.Lock()
	if a.profile.Token == "" {
		a.mu.Unlock()
		return
	}
	a.profile.Token = ""
	p := a.profile
	a.historyCached = map[string]string{}
	a.mu.Unlock()
	if err := a.store.SaveProfile(p); err != nil {
		a.log.Error("save profile", "err", err)
	}
	// Whoever opens the app next must not read this user's history offline.
	if err := a.store.ClearCache(); err != nil {
		a.log.Error("clear the offline cache", "err", err)
	}
	a.stopStream()
	a.setState(StateSignedOut)
}

// apiClient is a client of the current team server as the signed-in user (nil when there is none).
func (a *App) apiClient() *client.Client {
	up := a.proxy.Upstream()
	token := a.Token()
	if up == nil || token == "" {
		return nil
	}
	// One HTTP client for all of them: a client per call would leave its idle connections behind.
	c, err := client.New(up.String(), token, client.WithTimeout(20*time.Second), client.WithHTTPClient(a.httpClient))
	if err != nil {
		return nil
	}
	return c
}
