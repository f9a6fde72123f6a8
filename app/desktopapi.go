package app

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/herald-chat/herald/app/local"
	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/client"
	"github.com/herald-chat/herald/backend/teamserver"
)

// desktopState is GET /desktop/state: what the web client needs to know about the app.
type desktopState struct {
	Configured bool       `json:"configured"`
	Mode       local.Mode `json:"mode,omitempty"`
	ServerURL  string     `json:"serverUrl,omitempty"`
	HostAddr   string     `json:"hostAddr,omitempty"`
	LANURL     string     `json:"lanUrl,omitempty"`
	TeamName   string     `json:"teamName,omitempty"`
	SignedIn   bool       `json:"signedIn"`
	Connection ConnState  `json:"connection"`
	Unread     int        `json:"unread"`
	KeepInTray bool       `json:"keepInTray"`
	HasTray    bool       `json:"hasTray"`
	Outbox     int        `json:"outbox"` // messages waiting to be sent
	// Problem says why the chosen team could not be started (the window offers Try again and
	// Change team); "" when it runs.
	Problem string `json:"problem,omitempty"`
	// NativeFailures counts native notifications the desktop could not show (no notification
	// daemon): the settings page says the app falls back to its in-window toasts.
	NativeFailures int64 `json:"nativeFailures"`
	// Fingerprint is the team server's certificate fingerprint (tlscert.Fingerprint): the hosted
	// server's own, or the one pinned from the invite link; "" when there is none.
	Fingerprint string `json:"fingerprint,omitempty"`
	// LastBackup is the hosted team's newest backup in <data-dir>/server/backups (host mode, once
	// there is one): POST /desktop/backup writes one.
	LastBackup *teamserver.BackupFile `json:"lastBackup,omitempty"`
	// LANAnnounce and LANBrowse are the settings "Announce this team on the local network" and
	// "Look for teams on the local network" (both default on); LANAvailable is false when
	// --no-lan turns both off.
	LANAnnounce  bool `json:"lanAnnounce"`
	LANBrowse    bool `json:"lanBrowse"`
	LANAvailable bool `json:"lanAvailable"`
	// LANAnnounced is the address the hosted team is announced for ("" when it is not).
	LANAnnounced string `json:"lanAnnounced,omitempty"`
}

// desktopAPI serves /desktop/: the first-run choice, focus, settings. JSON in and out, errors in
// the API's shape.
func (a *App) desktopAPI() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /desktop/state", func(w http.ResponseWriter, r *http.Request) {
		writeJSONAnswer(w, http.StatusOK, a.state())
	})
	m.HandleFunc("POST /desktop/focus", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Focused bool `json:"focused"`
		}
		if !readJSON(w, r, &req) {
			return
		}
		a.router.SetFocused(req.Focused)
		a.out.printf("focus %v", req.Focused)
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("GET /desktop/outbox", func(w http.ResponseWriter, r *http.Request) {
		items, err := a.store.Outbox()
		if err != nil {
			writeAppError(w, err)
			return
		}
		owner := a.Owner()
		out := make([]map[string]any, 0, len(items))
		for _, it := range items {
			if it.Owner == "" || it.Owner == owner { // the page is this user's: not others' messages
				out = append(out, queuedMessage(it))
			}
		}
		writeJSONAnswer(w, http.StatusOK, map[string]any{"messages": out})
	})
	m.HandleFunc("POST /desktop/retry", func(w http.ResponseWriter, r *http.Request) {
		if err := a.retry(); err != nil {
			writeAppError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("GET /desktop/addresses", func(w http.ResponseWriter, r *http.Request) {
		addrs := teamserver.LANAddresses()
		if addrs == nil {
			addrs = []teamserver.Address{}
		}
		writeJSONAnswer(w, http.StatusOK, map[string]any{"addresses": addrs, "preferred": teamserver.LANAddress()})
	})
	m.HandleFunc("POST /desktop/backup", func(w http.ResponseWriter, r *http.Request) {
		b, err := a.backUpNow(r.Context())
		if err != nil {
			writeAppError(w, err)
			return
		}
		writeJSONAnswer(w, http.StatusOK, b)
	})
	m.HandleFunc("GET /desktop/lan", func(w http.ResponseWriter, r *http.Request) {
		writeJSONAnswer(w, http.StatusOK, a.lanTeams())
	})
	m.HandleFunc("POST /desktop/host", a.handleHost)
	m.HandleFunc("POST /desktop/join", a.handleJoin)
	m.HandleFunc("POST /desktop/reset", func(w http.ResponseWriter, r *http.Request) {
		if err := a.reset(r.Context()); err != nil {
			writeAppError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("PUT /desktop/settings", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			KeepInTray  *bool `json:"keepInTray"`
			LANAnnounce *bool `json:"lanAnnounce"`
			LANBrowse   *bool `json:"lanBrowse"`
		}
		if !readJSON(w, r, &req) {
			return
		}
		if req.LANAnnounce != nil || req.LANBrowse != nil {
			st := a.lanSettings()
			if req.LANAnnounce != nil {
				st.LANAnnounce = req.LANAnnounce
			}
			if req.LANBrowse != nil {
				st.LANBrowse = req.LANBrowse
			}
			if err := a.store.SaveSettings(st); err != nil {
				writeAppError(w, err)
				return
			}
			a.syncAnnounce()
			if !st.Browses() {
				a.stopBrowsing()
			}
		}
		a.mu.Lock()
		p, configured := a.profile, a.configured
		if req.KeepInTray != nil {
			keep := *req.KeepInTray
			p.KeepInTray = &keep
			a.profile = p
		}
		a.mu.Unlock()
		if configured {
			if err := a.store.SaveProfile(p); err != nil {
				writeAppError(w, err)
				return
			}
		}
		writeJSONAnswer(w, http.StatusOK, a.state())
	})
	m.HandleFunc("/desktop/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "No such desktop endpoint.")
	})
	return m
}

func (a *App) state() desktopState {
	s, hosted := a.lockedState()
	st := a.lanSettings()
	s.LANAnnounce, s.LANBrowse, s.LANAvailable = st.Announces(), st.Browses(), !a.opts.NoLAN
	a.lan.mu.Lock()
	s.LANAnnounced = a.lan.bind
	a.lan.mu.Unlock()
	if hosted != nil {
		if b, err := hosted.LastBackup(); err == nil {
			s.LastBackup = b // a listing that failed shows none; Back up now reports its error
		}
	}
	return s
}

// lockedState is the state but the last backup, which is read from disk outside the lock, and
// the hosted server in host mode.
func (a *App) lockedState() (desktopState, *teamserver.Server) {
	visible := a.trayVisible()
	a.mu.Lock()
	defer a.mu.Unlock()
	n, _ := a.store.OutboxLen()
	p := a.profile
	var hosted *teamserver.Server
	s := desktopState{
		Configured: a.configured, Mode: p.Mode, TeamName: p.TeamName, SignedIn: p.Token != "",
		Connection: a.view.State, Unread: a.view.Unread, KeepInTray: p.HidesOnClose(), HasTray: visible,
		Outbox: n, NativeFailures: a.nativeFailures.Load(), Problem: a.problem, Fingerprint: p.Fingerprint,
	}
	switch p.Mode {
	case local.ModeHost:
		s.HostAddr, s.LANURL = p.HostAddr, a.hostedURL
		hosted = a.hosted
	case local.ModeJoin:
		s.ServerURL = p.ServerURL
	}
	return s, hosted
}

// handleHost is the first run's "Host a team on this computer": it starts the team server on the
// chosen address, creates the admin account, keeps its token and answers an invite link.
func (a *App) handleHost(w http.ResponseWriter, r *http.Request) {
	var req struct {
		HostAddr string `json:"hostAddr"`
		// LANHost is the address invite links lead to (one of GET /desktop/addresses, or a name
		// that reaches this computer); "" picks the default route's.
		LANHost     string `json:"lanHost"`
		TeamName    string `json:"teamName"`
		Username    string `json:"username"`
		DisplayName string `json:"displayName"`
		Password    string `json:"password"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	keep, ok := a.firstRun(w)
	if !ok {
		return
	}
	if req.HostAddr == "" {
		req.HostAddr = DefaultHostAddr
	}
	if _, _, err := splitHostPort(req.HostAddr); err != nil {
		writeAppError(w, err)
		return
	}
	lanHost := strings.Trim(strings.TrimSpace(req.LANHost), "[]")
	if lanHost != "" && net.ParseIP(lanHost) == nil && !hostNamePattern.MatchString(lanHost) {
		writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("%q is not an address or host name for invite links.", req.LANHost))
		return
	}
	team := strings.TrimSpace(req.TeamName)
	if len(team) > 80 {
		writeError(w, http.StatusBadRequest, "invalid", "The team name is at most 80 characters.")
		return
	}
	if err := backend.CheckName("teamName", team); err != nil {
		writeError(w, http.StatusBadRequest, "invalid", backend.ErrorMessage(err))
		return
	}
	if err := a.activate(local.Profile{Mode: local.ModeHost, HostAddr: req.HostAddr, LANHost: lanHost, TeamName: team, KeepInTray: keep}); err != nil {
		a.undoHost()
		writeAppError(w, err)
		return
	}
	// The app's own transport: it pins the hosted server's certificate.
	c, err := client.New(a.proxy.Upstream().String(), "", client.WithHTTPClient(a.httpClient))
	if err != nil {
		a.undoHost()
		writeAppError(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	info, err := c.Server(ctx)
	if err != nil {
		a.undoHost()
		writeAppError(w, err)
		return
	}
	var token string
	var user *backend.User
	if info.NeedsSetup {
		token, user, err = c.Register(ctx, "", req.Username, req.DisplayName, req.Password)
	} else {
		// This computer hosted a team before (Change team keeps its data): host it again, signed
		// in as one of its people.
		token, user, err = c.SignIn(ctx, req.Username, req.Password)
		if client.IsUnauthorized(err) {
			err = backend.Errorf(backend.ECONFLICT, "This computer already hosts a team (its data is in %s): "+
				"sign in with the username and password of one of its people.", filepath.Join(a.opts.DataDir, "server"))
		}
	}
	if err != nil {
		// A refused account (weak password, bad username) must not leave a half-set-up team: the
		// hosted server stops and the chooser stays, with the reason.
		a.undoHost()
		writeAppError(w, err)
		return
	}
	a.SignedIn(user, token)
	a.mu.Lock()
	lan := a.hostedURL
	a.mu.Unlock()
	answer := map[string]string{"lanUrl": lan}
	// An invite needs an admin; a member hosting an existing team is set up without one.
	if user.Role == backend.RoleAdmin {
		invite, err := c.WithToken(token).CreateInvite(ctx, 0)
		if err != nil {
			a.log.Warn("invite after hosting", "err", err) // the team runs: invites are in the app too
		} else {
			answer["inviteUrl"] = invite.URL // lan + /join/CODE#sha256=FINGERPRINT
		}
	}
	writeJSONAnswer(w, http.StatusOK, answer)
}

// firstRun answers 409 and false when a team is already set up (the first-run choices apply only
// before one is); otherwise it gives the tray setting to carry into the new profile.
func (a *App) firstRun(w http.ResponseWriter) (keepInTray *bool, ok bool) {
	a.mu.Lock()
	configured, keep := a.configured, a.profile.KeepInTray
	a.mu.Unlock()
	if configured {
		writeError(w, http.StatusConflict, "conflict", "A team is already set up: change it in Settings first.")
		return nil, false
	}
	return keep, true
}

// undoHost stops a hosted server whose first-run setup failed and forgets that setup, and only
// that: the cache and the outbox are left as they were.
func (a *App) undoHost() {
	a.stopStream()
	a.mu.Lock()
	srv := a.hosted
	a.hosted, a.hostedURL, a.hostedBound = nil, "", ""
	a.profile.Mode, a.profile.HostAddr, a.profile.TeamName, a.profile.Token, a.profile.Username = "", "", "", "", ""
	a.profile.LANHost, a.profile.Fingerprint = "", ""
	a.configured, a.problem = false, ""
	a.mu.Unlock()
	a.syncAnnounce()
	a.proxy.SetUpstream(nil)
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			a.log.Error("team server shutdown", "err", err)
		}
	}
	if err := a.store.ClearProfile(); err != nil {
		a.log.Error("forget the failed setup", "err", err)
	}
	a.updateView(func(v *TrayView) { *v = TrayView{State: StateSignedOut} })
}

// handleJoin is the first run's "Join a team": it checks that the server answers, then the window
// signs in (or registers with the invite) through the proxy.
func (a *App) handleJoin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ServerURL string `json:"serverUrl"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	keep, ok := a.firstRun(w)
	if !ok {
		return
	}
	next := "/"
	raw := strings.TrimSpace(req.ServerURL)
	if u, err := url.Parse(raw); err == nil {
		if code, ok := strings.CutPrefix(u.Path, "/join/"); ok && code != "" && !strings.Contains(code, "/") {
			next = "/join/" + url.PathEscape(code)
		}
	}
	u, fp, err := parseJoinURL(raw)
	if err != nil {
		writeAppError(w, err)
		return
	}
	c, err := client.New(u.String(), "", client.WithPinnedCert(fp))
	if err != nil {
		writeAppError(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	if _, err := c.Server(ctx); err != nil {
		var mismatch *client.CertificateMismatchError
		var untrusted *tls.CertificateVerificationError
		switch {
		case errors.As(err, &mismatch):
			writeError(w, http.StatusBadGateway, "unavailable", mismatch.Error())
		case errors.As(err, &untrusted):
			writeError(w, http.StatusBadGateway, "unavailable", fmt.Sprintf("The certificate of %s is not trusted (%v). "+
				"If the team is hosted on someone's computer, use the invite link they sent: it carries the certificate's fingerprint (#sha256=…).", u, untrusted.Err))
		default:
			writeError(w, http.StatusBadGateway, "unavailable", fmt.Sprintf("Could not reach a Herald server at %s: %v", u, err))
		}
		return
	}
	if err := a.activate(local.Profile{Mode: local.ModeJoin, ServerURL: u.String(), TeamName: u.Host, KeepInTray: keep, Fingerprint: fp}); err != nil {
		writeAppError(w, err)
		return
	}
	writeJSONAnswer(w, http.StatusOK, map[string]string{"next": next})
}

// reset forgets the team (back to the first-run chooser): the stream stops, a hosted server shuts
// down (its data stays on disk), the token, cache and outbox are dropped.
func (a *App) reset(ctx context.Context) error {
	a.stopStream()
	a.mu.Lock()
	srv := a.hosted
	a.hosted, a.hostedURL, a.hostedBound = nil, "", ""
	keep := a.profile.KeepInTray
	a.profile, a.configured, a.problem = local.Profile{KeepInTray: keep}, false, ""
	a.historyCached = map[string]string{}
	a.mu.Unlock()
	a.syncAnnounce()
	a.proxy.SetUpstream(nil)
	if srv != nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			a.log.Error("team server shutdown", "err", err)
		}
	}
	errs := []error{a.store.ClearProfile(), a.store.ClearCache()}
	items, err := a.store.Outbox()
	errs = append(errs, err)
	for _, it := range items {
		errs = append(errs, a.store.RemoveFromOutbox(it.Seq))
	}
	a.updateView(func(v *TrayView) { *v = TrayView{State: StateSignedOut} })
	return errors.Join(errs...)
}

// hostNamePattern is a DNS host name: labels of letters, digits and hyphens, dot-separated.
var hostNamePattern = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

func splitHostPort(addr string) (string, string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", "", backend.Errorf(backend.EINVALID, "%q is not an address: use host:port, e.g. 0.0.0.0:7878.", addr)
	}
	return host, port, nil
}

// readJSON decodes a small JSON body into v; on failure it answers 400 and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "invalid", "The request body is not valid JSON: "+err.Error())
		return false
	}
	return true
}

func writeJSONAnswer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeAppError answers err in the API's error shape: a herald error with its code and status, a
// team server's answer as it was, anything else 500.
func writeAppError(w http.ResponseWriter, err error) {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Code != "" {
		writeError(w, apiErr.Status, apiErr.Code, apiErr.Message)
		return
	}
	var netErr *client.NetworkError
	if errors.As(err, &netErr) || (errors.As(err, &apiErr) && apiErr.Code == "") {
		writeError(w, http.StatusBadGateway, "unavailable", err.Error())
		return
	}
	var he *backend.Error
	if errors.As(err, &he) {
		status := map[string]int{backend.EINVALID: 400, backend.ECONFLICT: 409, backend.ENOTFOUND: 404,
			backend.EFORBIDDEN: 403, backend.EUNAUTHORIZED: 401, backend.EUNAVAILABLE: 503}[he.Code]
		if status == 0 {
			status = 500
		}
		writeError(w, status, he.Code, he.Message)
		return
	}
	writeError(w, http.StatusInternalServerError, "internal", err.Error())
}
