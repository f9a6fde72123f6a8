// Package lan finds Herald teams on the local network: a hosting app or herald-server announces
// its team over multicast DNS / DNS-SD as _herald._tcp in local., and a joining app browses for
// them. github.com/hashicorp/mdns builds the records (MDNSService) and asks the questions
// (QueryContext, over IPv4); the answering is this package's responder, which unlike mdns.Server
// answers only on the interfaces the team is served on.
//
// mDNS is unauthenticated: anyone on the network can announce anything. What Browse finds is a
// hint for the Join screen — the user still sees the address and the announced certificate
// fingerprint, and the app pins that fingerprint only when the user picks the team.
package lan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/mdns"
)

// Service and Domain are the DNS-SD service type and domain Herald announces under.
const (
	Service = "_herald._tcp"
	Domain  = "local."
)

// Bounds on what is announced and what is believed.
const (
	// MaxTXTValue is the longest TXT value announced or accepted, in bytes (a DNS character
	// string holds 255 bytes with its key); a longer team name is cut at a rune boundary.
	MaxTXTValue = 200
	// DefaultMaxTeams is how many teams a Browser keeps at most; the ones seen longest ago go.
	DefaultMaxTeams = 64
	// DefaultInterval is how often a Browser asks the network again.
	DefaultInterval = 3 * time.Second
	// DefaultQueryTimeout is how long a Browser listens for answers to one question.
	DefaultQueryTimeout = time.Second
	// maxBrowseInterfaces is how many interfaces a Browser asks on at most.
	maxBrowseInterfaces = 16
	// DefaultExpiry is how long a team stays listed after it last answered.
	DefaultExpiry = 10 * time.Second
)

// TXT keys.
const (
	keyVersion     = "txtvers"
	keyTeam        = "team"
	keyPort        = "port"
	keyFingerprint = "fp"
	keyServer      = "v"
	keyHostedBy    = "by"
	keyScheme      = "scheme"
)

// Announcement is what a hosting app or server says about its team.
type Announcement struct {
	Team        string // the team's name (cut to MaxTXTValue bytes)
	Port        int    // the TCP port the team server listens on
	Fingerprint string // tlscert.Fingerprint of the served certificate; "" without TLS
	Version     string // the server's version (BuildVersion)
	HostedBy    string // who hosts it ("alice"), "" when unknown
	TLS         bool   // the server speaks https
}

// AnnounceOptions say where to announce.
type AnnounceOptions struct {
	// BindIP is the address the team server listens on. A specific address announces on its
	// interface only, with that address; nil or unspecified (0.0.0.0, ::) on every interface
	// that is up, multicast-capable and not loopback, each with its own addresses. Loopback is
	// used only when BindIP is a loopback address (tests).
	BindIP net.IP
	// HostName is the announced host name ("" takes the machine's); it is made DNS-safe.
	HostName string
	Logger   *slog.Logger
}

// Announce answers mDNS questions for _herald._tcp.local. with a until ctx ends or stop is
// called (stop is idempotent and waits for nothing: the listeners close at once). It fails when
// no interface can carry the announcement or no multicast listener can be opened on it.
func Announce(ctx context.Context, a Announcement, opts AnnounceOptions) (stop func(), err error) {
	if a.Port <= 0 || a.Port > 65535 {
		return nil, fmt.Errorf("lan: announce: port %d is not a TCP port", a.Port)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	targets, err := announceTargets(opts.BindIP)
	if err != nil {
		return nil, err
	}
	host := dnsLabel(opts.HostName)
	instance := instanceName(a)
	txt := a.txt()
	var servers []*responder
	for _, t := range targets {
		zone, err := mdns.NewMDNSService(instance, Service, Domain, host+"."+Domain, a.Port, t.ips, txt)
		if err != nil {
			closeAll(servers)
			return nil, fmt.Errorf("lan: announce on %s: %w", t.iface.Name, err)
		}
		srv, err := newResponder(zone, t.iface, logger)
		if err != nil {
			closeAll(servers)
			return nil, fmt.Errorf("lan: announce on %s: %w", t.iface.Name, err)
		}
		servers = append(servers, srv)
		logger.Info("announcing the team on the local network", "interface", t.iface.Name, "addresses", t.ips, "instance", instance, "port", a.Port)
	}
	var once sync.Once
	done := make(chan struct{})
	stop = func() {
		once.Do(func() {
			close(done)
			closeAll(servers)
		})
	}
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-done:
		}
	}()
	return stop, nil
}

func closeAll(servers []*responder) {
	for _, s := range servers {
		s.Shutdown()
	}
}

type target struct {
	iface net.Interface
	ips   []net.IP
}

// announceTargets are the interfaces (and their addresses) a server bound to bind serves.
func announceTargets(bind net.IP) ([]target, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("lan: list network interfaces: %w", err)
	}
	all := bind == nil || bind.IsUnspecified()
	var out []target
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagMulticast == 0 {
			continue
		}
		loop := iface.Flags&net.FlagLoopback != 0
		if all && loop {
			continue
		}
		addrs, _ := iface.Addrs()
		var ips []net.IP
		for _, ad := range addrs {
			n, ok := ad.(*net.IPNet)
			if !ok {
				continue
			}
			switch {
			case !all && n.IP.Equal(bind):
				ips = append(ips, n.IP)
			case all && !n.IP.IsLinkLocalUnicast() && (bind == nil || (bind.To4() != nil) == (n.IP.To4() != nil) || bind.To4() == nil):
				// 0.0.0.0 serves IPv4 only; :: (and nil) serves both.
				ips = append(ips, n.IP)
			}
		}
		if len(ips) > 0 {
			out = append(out, target{iface: iface, ips: ips})
		}
	}
	if len(out) == 0 {
		if all {
			return nil, errors.New("lan: announce: no network interface is up with multicast and an address")
		}
		return nil, fmt.Errorf("lan: announce: no multicast-capable interface that is up has the address %s", bind)
	}
	return out, nil
}

func (a Announcement) txt() []string {
	scheme := "http"
	if a.TLS {
		scheme = "https"
	}
	return []string{
		keyVersion + "=1",
		keyTeam + "=" + escapeTXT(cut(a.Team)),
		keyPort + "=" + strconv.Itoa(a.Port),
		keyFingerprint + "=" + cut(a.Fingerprint),
		keyServer + "=" + escapeTXT(cut(a.Version)),
		keyHostedBy + "=" + escapeTXT(cut(a.HostedBy)),
		keyScheme + "=" + scheme,
	}
}

// instanceName is the DNS-SD instance: unique per server (the certificate, else the port and
// host), free of dots and other characters the mdns library would not escape.
func instanceName(a Announcement) string {
	if fp := strings.ReplaceAll(a.Fingerprint, ":", ""); len(fp) >= 16 {
		return "herald-" + strings.ToLower(fp[:16])
	}
	return fmt.Sprintf("herald-%s-%d", dnsLabel(""), a.Port)
}

// dnsLabel makes name (or the machine's host name when "") a DNS label: letters, digits and
// hyphens, at most 63 bytes, never empty.
func dnsLabel(name string) string {
	if name == "" {
		name, _ = osHostname()
	}
	if i := strings.IndexByte(name, '.'); i >= 0 {
		name = name[:i]
	}
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		}
		if b.Len() == 63 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		return "herald"
	}
	return s
}

// cut shortens s to MaxTXTValue bytes at a rune boundary and drops invalid UTF-8.
func cut(s string) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= MaxTXTValue {
		return s
	}
	s = s[:MaxTXTValue]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// debugLogger turns the mdns library's log lines into slog debug lines.
func debugLogger(l *slog.Logger) *log.Logger {
	return log.New(writerFunc(func(p []byte) (int, error) {
		l.Debug("mdns", "msg", strings.TrimSpace(string(p)))
		return len(p), nil
	}), "", 0)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

var _ io.Writer = writerFunc(nil)

var osHostname = os.Hostname

// BuildVersion is this binary's module version ("(devel)" when built from a work tree) with the
// VCS revision when known.
func BuildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += "+" + s.Value[:12]
		}
	}
	return v
}

// Team is a team found on the network.
type Team struct {
	Instance    string    `json:"instance"`              // the DNS-SD instance name, unique per server
	Name        string    `json:"name"`                  // the announced team name
	Host        string    `json:"host"`                  // the announced host name, e.g. "alice-laptop.local"
	Addr        string    `json:"addr"`                  // the IP address to reach it at
	Port        int       `json:"port"`                  // its TCP port
	Scheme      string    `json:"scheme"`                // "https" or "http"
	Fingerprint string    `json:"fingerprint,omitempty"` // announced, unverified (tlscert format)
	Version     string    `json:"version,omitempty"`
	HostedBy    string    `json:"hostedBy,omitempty"`
	LastSeen    time.Time `json:"lastSeen"`
}

// URL is the team's address with the announced fingerprint as an invite link carries it:
// https://ADDR:PORT#sha256=FP.
func (t Team) URL() string {
	u := t.Scheme + "://" + net.JoinHostPort(t.Addr, strconv.Itoa(t.Port))
	if t.Fingerprint != "" && t.Scheme == "https" {
		u += "#sha256=" + t.Fingerprint
	}
	return u
}

// BrowseOptions tune a Browser; zero values take the defaults.
type BrowseOptions struct {
	// Interfaces to ask on; empty: every interface that is up, multicast-capable and not
	// loopback, or the system's default multicast interface when there is none.
	Interfaces   []net.Interface
	Interval     time.Duration // between two questions (DefaultInterval)
	QueryTimeout time.Duration // listening for answers to one question (DefaultQueryTimeout)
	Expiry       time.Duration // a team not heard from for this long is dropped (DefaultExpiry)
	MaxTeams     int           // kept at most (DefaultMaxTeams)
	Logger       *slog.Logger
	now          func() time.Time
}

// Browser asks the network for Herald teams until its context ends and keeps what answers,
// deduplicated by instance and dropped after Expiry without an answer. It is safe for concurrent
// use.
type Browser struct {
	opts    BrowseOptions
	mu      sync.Mutex
	teams   map[string]Team
	changed chan struct{} // closed and replaced on every change
	round   chan struct{} // closed and replaced after every round of questions
	err     error         // the last question's error, nil after one that worked
	done    chan struct{}
}

// Browse starts a Browser; it runs until ctx ends (Done is closed then).
func Browse(ctx context.Context, opts BrowseOptions) *Browser {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = DefaultQueryTimeout
	}
	if opts.Expiry <= 0 {
		opts.Expiry = DefaultExpiry
	}
	if opts.MaxTeams <= 0 {
		opts.MaxTeams = DefaultMaxTeams
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	b := &Browser{opts: opts, teams: map[string]Team{}, changed: make(chan struct{}), round: make(chan struct{}), done: make(chan struct{})}
	go b.run(ctx)
	return b
}

// Teams lists the teams heard from within Expiry, by name then address.
func (b *Browser) Teams() []Team {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expireLocked()
	out := make([]Team, 0, len(b.teams))
	for _, t := range b.teams {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Instance < out[j].Instance
	})
	return out
}

// Changed is closed at the next change of Teams (a team found, changed or dropped).
func (b *Browser) Changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.changed
}

// Round is closed when the next round of questions (on every interface) has ended and its
// answers are in Teams.
func (b *Browser) Round() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.round
}

// Err is the last question's error (nil after one that worked).
func (b *Browser) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// Done is closed when the Browser has stopped.
func (b *Browser) Done() <-chan struct{} { return b.done }

func (b *Browser) run(ctx context.Context) {
	defer close(b.done)
	t := time.NewTicker(b.opts.Interval)
	defer t.Stop()
	for {
		b.query(ctx)
		b.mu.Lock()
		b.expireLocked()
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (b *Browser) query(ctx context.Context) {
	ifaces := b.opts.Interfaces
	if len(ifaces) == 0 {
		ifaces = browseInterfaces()
	}
	var targets []*net.Interface
	for i := range ifaces {
		targets = append(targets, &ifaces[i])
	}
	if len(targets) == 0 {
		targets = []*net.Interface{nil} // the system's default
	}
	if len(targets) > maxBrowseInterfaces {
		targets = targets[:maxBrowseInterfaces]
	}
	// One question per interface, at once: a round takes QueryTimeout however many there are
	// (docker bridges, VPNs), well within Expiry.
	errs := make([]error, len(targets))
	found := make([][]*mdns.ServiceEntry, len(targets))
	var wg sync.WaitGroup
	for i, iface := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Read only after the question has ended: the library goes on writing to an entry it
			// has sent when more answers about it come in. Sends that find the buffer full are
			// dropped.
			entries := make(chan *mdns.ServiceEntry, b.opts.MaxTeams)
			err := mdns.QueryContext(ctx, &mdns.QueryParam{Service: Service, Domain: Domain, Timeout: b.opts.QueryTimeout,
				Interface: iface, Entries: entries, DisableIPv6: true, Logger: debugLogger(b.opts.Logger)})
			close(entries)
			for e := range entries {
				found[i] = append(found[i], e)
			}
			if err != nil && ctx.Err() == nil {
				name := "default"
				if iface != nil {
					name = iface.Name
				}
				errs[i] = fmt.Errorf("lan: browse on %s: %w", name, err)
			}
		}()
	}
	wg.Wait()
	for _, entries := range found {
		for _, e := range entries {
			b.add(e)
		}
	}
	err := errors.Join(errs...)
	b.mu.Lock()
	if (err == nil) != (b.err == nil) && err != nil {
		b.opts.Logger.Warn("cannot browse the local network for teams", "err", err)
	}
	b.err = err
	close(b.round)
	b.round = make(chan struct{})
	b.mu.Unlock()
}

func browseInterfaces() []net.Interface {
	all, _ := net.Interfaces()
	var out []net.Interface
	for _, i := range all {
		if i.Flags&net.FlagUp != 0 && i.Flags&net.FlagMulticast != 0 && i.Flags&net.FlagLoopback == 0 {
			out = append(out, i)
		}
	}
	return out
}

// add keeps what e says, when it says enough: a port, an address and our TXT version.
func (b *Browser) add(e *mdns.ServiceEntry) {
	t, ok := parseEntry(e)
	if !ok {
		return
	}
	t.LastSeen = b.opts.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	old, had := b.teams[t.Instance]
	if !had && len(b.teams) >= b.opts.MaxTeams {
		var oldest string
		for k, v := range b.teams {
			if oldest == "" || v.LastSeen.Before(b.teams[oldest].LastSeen) {
				oldest = k
			}
		}
		delete(b.teams, oldest)
	}
	b.teams[t.Instance] = t
	old.LastSeen = t.LastSeen
	if !had || old != t {
		b.notifyLocked()
	}
}

func (b *Browser) expireLocked() {
	cutoff := b.opts.now().Add(-b.opts.Expiry)
	for k, t := range b.teams {
		if t.LastSeen.Before(cutoff) {
			delete(b.teams, k)
			b.notifyLocked()
		}
	}
}

func (b *Browser) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

func parseEntry(e *mdns.ServiceEntry) (Team, bool) {
	fields := map[string]string{}
	for i, f := range e.InfoFields {
		if i >= 16 {
			break
		}
		k, v, _ := strings.Cut(unescapeTXT(f), "=")
		if len(v) <= MaxTXTValue && utf8.ValidString(v) {
			fields[k] = v
		}
	}
	if fields[keyVersion] != "1" || e.Port <= 0 {
		return Team{}, false
	}
	var addr string
	switch {
	case e.AddrV4 != nil:
		addr = e.AddrV4.String()
	case e.AddrV6IPAddr != nil:
		addr = e.AddrV6IPAddr.String()
	default:
		return Team{}, false
	}
	instance, _, _ := strings.Cut(e.Name, ".")
	scheme := "http"
	if fields[keyScheme] == "https" {
		scheme = "https"
	}
	t := Team{Instance: instance, Name: fields[keyTeam], Host: strings.TrimSuffix(e.Host, "."), Addr: addr, Port: e.Port,
		Scheme: scheme, Fingerprint: fields[keyFingerprint], Version: fields[keyServer], HostedBy: fields[keyHostedBy]}
	if t.Name == "" {
		t.Name = t.Host
	}
	if !validFingerprint(t.Fingerprint) {
		t.Fingerprint = ""
	}
	return t, true
}

// validFingerprint: 32 colon-separated hex bytes (tlscert.Fingerprint), or "".
func validFingerprint(s string) bool {
	if s == "" {
		return true
	}
	if len(s) != 95 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if i%3 == 2 {
			if c != ':' {
				return false
			}
		} else if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// escapeTXT and unescapeTXT undo what github.com/miekg/dns does to TXT strings: it reads a
// backslash as an escape when packing, and presents bytes outside printable ASCII as \DDD (and
// a backslash or quote as \\ or \") when unpacking.
func escapeTXT(s string) string { return strings.ReplaceAll(s, `\`, `\\`) }

func unescapeTXT(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b = append(b, c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			n := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if n <= 255 {
				b = append(b, byte(n))
				i += 3
				continue
			}
		}
		b = append(b, s[i+1])
		i++
	}
	return string(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
