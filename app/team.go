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
	"github.com/herald-chat/herald/backend/tlscert"
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
			p.Token, p.Username, p.TeamName, p.LANHost = saved.Token, saved.Username, saved.TeamName, saved.LANHost
		}
		return a.activateOrNote(p)
	case a.opts.JoinURL != "":
		u, fp, err := parseJoinURL(a.opts.JoinURL)
		if err != nil {
			return err
		}
		p := local.Profile{Mode: local.ModeJoin, ServerURL: u.String(), TeamName: u.Host, KeepInTray: saved.KeepInTray, Fingerprint: fp}
		if ok && saved.Mode == local.ModeJoin && saved.ServerURL == p.ServerURL {
			p.Token, p.Username = saved.Token, saved.Username
			if p.Fingerprint == "" { // the pin from the invite link stays: --join https://host is enough later
				p.Fingerprint = saved.Fingerprint
			}
		}
		if a.opts.Username != "" && a.opts.Password != "" && !a.tokenStillGood(p, a.opts.Username) {
			c, err := client.New(p.ServerURL, "", client.WithPinnedCert(p.Fingerprint))
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
	c, err := client.New(p.ServerURL, p.Token, client.WithPinnedCert(p.Fingerprint))
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
		h, err := a.host(p.HostAddr, p.LANHost)
		if err != nil {
			return err
		}
		if _, port, _ := net.SplitHostPort(p.HostAddr); port == "0" {
			p.HostAddr = h.bound // keep the port the system picked: invite links stay valid
		}
		if p.TeamName == "" {
			p.TeamName = defaultTeamName()
		}
		a.nameHostedTeam(p.TeamName)
		upstream, p.Fingerprint = h.self, h.fingerprint
		a.mu.Lock()
		a.hostedURL, a.hostedBound = h.lan, h.bound
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
	a.setPin(p.Fingerprint) // before the upstream: no request reaches it under the old pin
	a.proxy.SetUpstream(upstream)
	a.syncAnnounce()
	a.updateView(func(v *TrayView) { v.Team = p.TeamName })
	if p.Token != "" {
		a.startStream()
	} else {
		a.setState(StateSignedOut)
	}
	return nil
}

// hosting is a hosted team server as the app reaches it and as others do.
type hosting struct {
	self        *url.URL // the URL the app itself uses: https over loopback (or the bound address)
	lan         string   // the base URL to give the team: https://LANHOST:PORT
	bound       string   // the address it listens on
	fingerprint string   // of its certificate (tlscert.Fingerprint)
}

// host opens and serves the hosted team server on addr, over HTTPS with the self-signed
// certificate kept in <data-dir>/server (made on the first start, then the same one: pins in
// invite links stay valid). lanHost is the address others reach it at; "" takes the bound
// address, or for an unspecified one (0.0.0.0) teamserver.LANAddress.
func (a *App) host(addr, lanHost string) (hosting, error) {
	a.mu.Lock()
	running := a.hosted != nil
	a.mu.Unlock()
	if running {
		return hosting{}, backend.Errorf(backend.ECONFLICT, "A team server is already running in this app.")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return hosting{}, backend.Errorf(backend.ECONFLICT, "Cannot listen on %s: %v", addr, err)
	}
	tcp := ln.Addr().(*net.TCPAddr)
	if lanHost == "" {
		lanHost = tcp.IP.String()
		if tcp.IP.IsUnspecified() {
			lanHost = teamserver.LANAddress()
		}
	}
	lan := "https://" + net.JoinHostPort(lanHost, fmt.Sprint(tcp.Port))
	dir := filepath.Join(a.opts.DataDir, "server")
	cert, created, err := tlscert.SelfSigned(dir, lanHost)
	if err != nil {
		ln.Close()
		return hosting{}, err
	}
	if created {
		a.log.Info("created the hosted server's TLS certificate", "dir", dir)
	}
	srv, err := teamserver.Open(teamserver.Config{DataDir: dir, Logger: a.log, WebClient: a.opts.WebClient,
		Certificate: &cert, SelfSigned: true, PublicURL: lan})
	if err != nil {
		ln.Close()
		return hosting{}, err
	}
	go func() {
		if err := srv.Serve(ln); err != nil {
			a.log.Error("team server stopped", "err", err)
		}
	}()
	a.mu.Lock()
	a.hosted = srv
	a.mu.Unlock()
	selfHost := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		selfHost = "127.0.0.1"
	}
	h := hosting{
		self:        &url.URL{Scheme: "https", Host: net.JoinHostPort(selfHost, fmt.Sprint(tcp.Port))},
		lan:         lan,
		bound:       tcp.String(),
		fingerprint: srv.TLSFingerprint(),
	}
	a.log.Info("hosting team server", "addr", tcp.String(), "lan", lan, "sha256", h.fingerprint)
	a.out.printf("hosting https://%s", tcp)
	a.out.printf("certificate sha256 %s", h.fingerprint)
	return h, nil
}

// nameHostedTeam gives the hosted server's team settings the name chosen in the app, while they
// still have a new server's: from then on the server's name (renamed by an admin on the web, say)
// is the one the app shows.
func (a *App) nameHostedTeam(name string) {
	a.mu.Lock()
	srv := a.hosted
	a.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(a.ctx, 10*time.Second)
	defer cancel()
	team, err := srv.Store.Team(ctx)
	if err != nil || team.Name != backend.DefaultTeamSettings().Name || name == team.Name {
		return
	}
	team.Name = name
	if err := srv.Store.SetTeam(ctx, team); err != nil {
		a.log.Error("name the hosted team", "err", err)
	}
}

func defaultTeamName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "My team"
}

// parseJoinURL accepts a server URL or an invite link (parseServerURL) and the certificate
// fingerprint its #sha256=… carries ("" when none). A fingerprint is only for https, and must be
// one (tlscert.ParseFingerprint).
func parseJoinURL(s string) (*url.URL, string, error) {
	u, err := parseServerURL(s)
	if err != nil {
		return nil, "", err
	}
	raw, _ := url.Parse(strings.TrimSpace(s)) // parsed by parseServerURL already
	frag, _ := url.ParseQuery(raw.Fragment)
	pin := frag.Get("sha256")
	if pin == "" {
		return u, "", nil
	}
	fp, err := tlscert.ParseFingerprint(pin)
	if err != nil {
		return nil, "", backend.Errorf(backend.EINVALID, "The invite link's certificate fingerprint is damaged (%v): copy the whole link again.", err)
	}
	if u.Scheme != "https" {
		return nil, "", backend.Errorf(backend.EINVALID, "The invite link carries a certificate fingerprint but is not https://.")
	}
	return u, fp, nil
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
	if p.Mode == local.ModeHost {
		a.lan.mu.Lock()
		a.lan.hostedBy = u.DisplayName
		a.lan.mu.Unlock()
		a.syncAnnounce() // "hosted by" the one who signed in
	}
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

// backUpNow writes a backup of the hosted team into its data dir's backups/ (the newest
// teamserver.DefaultBackupKeep are kept) — the Team settings' "Back up now". It is ECONFLICT
// unless this app hosts a running team server.
func (a *App) backUpNow(ctx context.Context) (*teamserver.BackupFile, error) {
	a.mu.Lock()
	srv := a.hosted
	a.mu.Unlock()
	if srv == nil {
		return nil, backend.Errorf(backend.ECONFLICT, "Only a team hosted on this computer, while it runs, can be backed up here.")
	}
	b, err := srv.BackupNow(ctx)
	if err != nil {
		a.log.Error("back up the hosted team", "err", err)
		return nil, fmt.Errorf("back up the hosted team: %w", err)
	}
	a.log.Info("backed up the hosted team", "path", b.Path, "bytes", b.Size, "last_event_id", b.Manifest.LastEventID)
	return b, nil
}
