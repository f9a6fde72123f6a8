package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/client"
	"github.com/herald-chat/herald/backend/teamserver/teamservertest"
	"github.com/herald-chat/herald/backend/tlscert"
)

// The desktop tests build the real herald binary and run it under Xvfb inside its own D-Bus
// session with dunst (notifications) and status-notifier-watcher (tray host) — what a Linux
// desktop gives it. They need the packages `make deps` installs, so they run when
// HERALD_DESKTOP_TEST=1 (as `make test` sets). Screenshots of the window and the tray icon go to
// test-artifacts/desktop/.

const guiWait = 60 * time.Second

func needDesktop(t *testing.T) {
	t.Helper()
	if os.Getenv("HERALD_DESKTOP_TEST") != "1" {
		t.Skip("set HERALD_DESKTOP_TEST=1 (make test does) to run the desktop app under Xvfb")
	}
	for _, tool := range []string{"xvfb-run", "dbus-run-session", "dunst", "dunstctl", "status-notifier-watcher", "busctl", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: run make deps", tool)
		}
	}
}

var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "herald-desktop-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "herald")
	out, err := exec.Command("go", "build", "-tags", "desktop,production,webkit2_41", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build desktop app: %v\n%s", err, out)
	}
	server := filepath.Join(dir, "herald-server")
	out, err = exec.Command("go", "build", "-o", server, "./backend/cmd/herald-server").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build herald-server: %v\n%s", err, out)
	}
	return dir, nil
})

func binaries(t *testing.T) (herald, server string) {
	t.Helper()
	dir, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "herald"), filepath.Join(dir, "herald-server")
}

// desktop is one run of the herald binary in its own X display and session bus.
type desktop struct {
	t      *testing.T
	cmd    *exec.Cmd
	pid    int // herald's own pid (not xvfb-run's)
	env    []string
	debug  string // base URL of the app's loopback view (HERALD_DEBUG_ADDR)
	mu     sync.Mutex
	lines  []string
	notify chan struct{}
	stderr bytes.Buffer
	exited chan error
}

// startDesktop runs herald with args inside xvfb-run + dbus-run-session, dunst and the tray
// watcher running in that session.
func startDesktop(t *testing.T, env []string, args ...string) *desktop {
	t.Helper()
	return startDesktopSession(t, false, env, args...)
}

// bareBusConfig is a session bus that starts no services on demand: nothing answers for
// notifications or the tray unless a test starts it.
const bareBusConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// startDesktopSession is startDesktop; bare leaves out the notification daemon and the tray
// watcher, and the bus starts neither on demand.
func startDesktopSession(t *testing.T, bare bool, env []string, args ...string) *desktop {
	t.Helper()
	herald, _ := binaries(t)
	dir := t.TempDir()
	session := filepath.Join(dir, "session")
	debugAddr := freeAddr(t)
	script := `set -e
echo "$DBUS_SESSION_BUS_ADDRESS" > "$SESSION.bus"
echo "$DISPLAY" > "$SESSION.display"
echo "$XAUTHORITY" > "$SESSION.xauth"
if [ -z "$BARE" ]; then
  dunst >"$SESSION.dunst.log" 2>&1 &
  status-notifier-watcher >"$SESSION.watcher.log" 2>&1 &
fi
exec "$@"`
	bus := []string{"dbus-run-session"}
	bareEnv := "BARE="
	if bare {
		config := filepath.Join(dir, "bus.conf")
		if err := os.WriteFile(config, []byte(bareBusConfig), 0o600); err != nil {
			t.Fatal(err)
		}
		bus = append(bus, "--config-file="+config)
		bareEnv = "BARE=1"
	}
	cmdArgs := append([]string{"-a", "-s", "-screen 0 1280x800x24"}, bus...)
	cmdArgs = append(cmdArgs, "--", "bash", "-c", script, "herald", herald)
	cmdArgs = append(cmdArgs, args...)
	cmd := exec.Command("xvfb-run", cmdArgs...)
	cmd.Env = append(os.Environ(), "NO_AT_BRIDGE=1", "SESSION="+session, "XDG_DATA_HOME="+filepath.Join(dir, "xdg"),
		"HERALD_DEBUG_ADDR="+debugAddr, bareEnv)
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	d := &desktop{t: t, cmd: cmd, debug: "http://" + debugAddr, notify: make(chan struct{}, 1), exited: make(chan error, 1)}
	cmd.Stderr = &d.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			d.mu.Lock()
			d.lines = append(d.lines, sc.Text())
			d.mu.Unlock()
			select {
			case d.notify <- struct{}{}:
			default:
			}
		}
		d.exited <- cmd.Wait()
		close(d.notify)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-d.exited
		}
		if t.Failed() {
			t.Logf("herald output:\n%s\nstderr (tail):\n%s", strings.Join(d.output(), "\n"), stderrExcerpt(d.stderr.String()))
		}
	})
	pid, err := strconv.Atoi(strings.TrimPrefix(d.expectLine("herald: pid "), "herald: pid "))
	if err != nil {
		t.Fatal(err)
	}
	d.pid = pid
	busAddr := strings.TrimSpace(string(mustRead(t, session+".bus")))
	display := strings.TrimSpace(string(mustRead(t, session+".display")))
	xauth := strings.TrimSpace(string(mustRead(t, session+".xauth")))
	d.env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+busAddr, "DISPLAY="+display, "XAUTHORITY="+xauth)
	d.expectLine("herald: debug ")
	return d
}

// stderrExcerpt is what a failed test shows of herald's stderr: from a crash's first line on (a
// Go crash dumps every goroutine after it), else the end.
func stderrExcerpt(s string) string {
	for _, marker := range []string{"SIGSEGV", "SIGABRT", "SIGBUS", "fatal error:", "panic:"} {
		if i := strings.Index(s, marker); i >= 0 {
			return s[max(0, i-2000):min(len(s), i+6000)]
		}
	}
	return tail(s, 4000)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	deadline := time.Now().Add(guiWait)
	for {
		b, err := os.ReadFile(path)
		if err == nil && len(bytes.TrimSpace(b)) > 0 {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not written", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *desktop) output() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.lines...)
}

// expectLine waits for an output line starting with prefix that was not consumed before, and
// returns it.
func (d *desktop) expectLine(prefix string) string {
	d.t.Helper()
	return d.expectLineAfter(0, prefix)
}

// expectLineAfter waits for a line starting with prefix among the lines after the first from.
func (d *desktop) expectLineAfter(from int, prefix string) string {
	d.t.Helper()
	timeout := time.After(guiWait)
	for {
		lines := d.output()
		for _, l := range lines[min(from, len(lines)):] {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		select {
		case _, ok := <-d.notify:
			if !ok {
				d.t.Fatalf("herald exited before %q", prefix)
			}
		case <-timeout:
			d.t.Fatalf("no %q line within %s", prefix, guiWait)
		}
	}
}

// run runs a tool inside the app's session (bus and display).
func (d *desktop) run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = d.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// trayItem is the bus name of the registered StatusNotifierItem ("" while there is none).
func (d *desktop) trayItem() string {
	out, err := d.run("busctl", "--user", "get-property", "org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher",
		"org.kde.StatusNotifierWatcher", "RegisteredStatusNotifierItems")
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`"(:[0-9.]+)[^"]*"`).FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	return m[1]
}

// trayTooltip reads the registered tray item's tooltip title over D-Bus.
func (d *desktop) trayTooltip() string {
	item := d.trayItem()
	if item == "" {
		return ""
	}
	out, err := d.run("busctl", "--user", "--json=short", "get-property", item, "/StatusNotifierItem",
		"org.kde.StatusNotifierItem", "ToolTip")
	if err != nil {
		return ""
	}
	var prop struct {
		Data []json.RawMessage `json:"data"`
	}
	if json.Unmarshal([]byte(out), &prop) != nil || len(prop.Data) < 3 {
		return ""
	}
	var title string
	_ = json.Unmarshal(prop.Data[2], &title)
	return title
}

// awaitTooltip waits until the tray tooltip contains want.
func (d *desktop) awaitTooltip(want string) string {
	d.t.Helper()
	deadline := time.Now().Add(guiWait)
	for {
		tip := d.trayTooltip()
		if strings.Contains(tip, want) {
			return tip
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("the tray tooltip is %q, want it to say %q", tip, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// saveTrayIcon writes the tray item's icon, as the tray host reads it (IconPixmap, ARGB), to path.
func (d *desktop) saveTrayIcon(path string) {
	d.t.Helper()
	out, err := d.run("busctl", "--user", "--json=short", "get-property", d.trayItem(), "/StatusNotifierItem",
		"org.kde.StatusNotifierItem", "IconPixmap")
	if err != nil {
		d.t.Fatalf("IconPixmap: %v %s", err, out)
	}
	var prop struct {
		Data [][]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &prop); err != nil || len(prop.Data) == 0 || len(prop.Data[0]) != 3 {
		d.t.Fatalf("IconPixmap %.200s: %v", out, err)
	}
	var w, h int
	var argb []byte
	_ = json.Unmarshal(prop.Data[0][0], &w)
	_ = json.Unmarshal(prop.Data[0][1], &h)
	var ints []int
	if err := json.Unmarshal(prop.Data[0][2], &ints); err != nil || len(ints) != w*h*4 {
		d.t.Fatalf("IconPixmap data: %d bytes for %dx%d, %v", len(ints), w, h, err)
	}
	for _, v := range ints {
		argb = append(argb, byte(v))
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		p := argb[i*4 : i*4+4]
		img.SetNRGBA(i%w, i/w, color.NRGBA{p[1], p[2], p[3], p[0]})
	}
	f, err := os.Create(path)
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		d.t.Fatal(err)
	}
}

// screenshot saves the screen to path once the window shows something: WebKit paints a moment
// after the page has rendered, so a blank (single-colour) window is taken again, for up to 15 s.
func (d *desktop) screenshot(path string) {
	d.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if out, err := d.run("import", "-window", "root", path); err != nil {
			d.t.Errorf("screenshot: %v %s", err, out)
			return
		}
		if painted(path) || time.Now().After(deadline) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// painted reports whether the middle of the screenshot at path holds more than one colour.
func painted(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return false
	}
	b := img.Bounds()
	first := img.At(b.Dx()/2, b.Dy()/2)
	for y := b.Dy() / 8; y < b.Dy()*7/8; y += 4 {
		for x := b.Dx() / 8; x < b.Dx()*7/8; x += 4 {
			if img.At(x, y) != first {
				return true
			}
		}
	}
	return false
}

// quit sends SIGTERM to herald and waits for a clean exit.
func (d *desktop) quit() {
	d.t.Helper()
	if err := syscall.Kill(d.pid, syscall.SIGTERM); err != nil {
		d.t.Fatal(err)
	}
	d.expectLine("herald: stopped")
	select {
	case err := <-d.exited:
		if err != nil {
			d.t.Fatalf("herald exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		d.t.Fatal("herald did not exit within 30 s of SIGTERM")
	}
}

func artifacts(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("test-artifacts", "desktop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// api makes a JSON request and decodes the answer into out (if not nil); it returns the status.
func api(t *testing.T, method, url, token string, body, out any) int {
	t.Helper()
	return teamservertest.Call(t, method, url, token, body, out).StatusCode
}

// apiVia is api through hc (pinned to a team server's certificate).
func apiVia(t *testing.T, hc *http.Client, method, url, token string, body, out any) int {
	t.Helper()
	return teamservertest.CallWith(t, hc, method, url, token, body, out).StatusCode
}

// pinnedClient trusts exactly the certificate with fingerprint fp, as the desktop app does.
func pinnedClient(t *testing.T, fp string) *http.Client {
	t.Helper()
	tr, err := client.PinnedTransport(fp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// hostedCertificate reads the hosting app's "certificate sha256 FP" line and checks that the
// hosted server at base presents that certificate over TLS; it returns a client pinned to it.
func (d *desktop) hostedCertificate(base string) (string, *http.Client) {
	d.t.Helper()
	fp := strings.TrimPrefix(d.expectLine("herald: certificate sha256 "), "herald: certificate sha256 ")
	hc := pinnedClient(d.t, fp)
	resp, err := hc.Get(base + "/api/server")
	if err != nil {
		d.t.Fatalf("the hosted server with the certificate %s: %v", fp, err)
	}
	resp.Body.Close()
	if resp.TLS == nil || tlscert.Fingerprint(resp.TLS.PeerCertificates[0].Raw) != fp || resp.Proto != "HTTP/2.0" {
		d.t.Fatalf("the hosted server answered over %s, TLS %+v", resp.Proto, resp.TLS)
	}
	return fp, hc
}

// TestDesktopHostMode: the app hosts a team server in a temp data dir; it answers on its address,
// the first account (made in the window, through the app's proxy) signs the app in, and the tray
// item is registered with a tooltip saying Live. SIGTERM quits cleanly.
func TestDesktopHostMode(t *testing.T) {
	needDesktop(t)
	addr := freeAddr(t)
	dataDir := t.TempDir()
	d := startDesktop(t, nil, "--data-dir", dataDir, "--host", addr)
	hosting := strings.TrimPrefix(d.expectLine("herald: hosting "), "herald: hosting ")
	if hosting != "https://"+addr {
		t.Fatalf("hosting %s, want https://%s", hosting, addr)
	}
	fp, hc := d.hostedCertificate(hosting)
	var info struct {
		NeedsSetup     bool
		TLSFingerprint string
	}
	if status := apiVia(t, hc, "GET", hosting+"/api/server", "", nil, &info); status != 200 || !info.NeedsSetup || info.TLSFingerprint != fp {
		t.Fatalf("the hosted server: %d %+v", status, info)
	}
	// The first-run form of the window posts this; the app keeps the token, the page gets none.
	var reg map[string]json.RawMessage
	if status := api(t, "POST", d.debug+"/api/auth/register", "", map[string]string{"username": "owner", "password": "correct-horse-9"}, &reg); status != 201 {
		t.Fatalf("register through the app: %d %v", status, reg)
	}
	if _, leaked := reg["token"]; leaked {
		t.Fatal("the token reached the page")
	}
	d.expectLine("herald: state Live")
	tip := d.awaitTooltip("Live")
	t.Logf("tray tooltip: %q", tip)
	var state struct {
		Configured, SignedIn, HasTray bool
		Connection, Fingerprint       string
	}
	api(t, "GET", d.debug+"/desktop/state", "", nil, &state)
	if !state.Configured || !state.SignedIn || !state.HasTray || state.Connection != "Live" || state.Fingerprint != fp {
		t.Fatalf("desktop state %+v", state)
	}
	dir := artifacts(t)
	d.saveTrayIcon(filepath.Join(dir, "host-tray-live.png"))
	d.expectLine("herald: focus ") // the page has loaded

	// Starting herald again (same data dir, same desktop session) hands over to the running one,
	// which brings its window forward, and exits.
	herald, _ := binaries(t)
	second := exec.Command(herald, "--data-dir", dataDir, "--host", addr)
	second.Env = d.env
	done := make(chan error, 1)
	go func() { done <- second.Run() }()
	select {
	case <-done:
	case <-time.After(guiWait):
		_ = second.Process.Kill()
		t.Fatal("a second herald did not exit")
	}
	d.expectLine("herald: second instance")
	d.screenshot(filepath.Join(dir, "host-window.png"))
	d.quit()
}

// TestDesktopJoinMode: the app joins a herald-server --tls-self-signed started here with the
// fingerprinted invite link, signed in from the environment. A message from another member raises a native notification (dunst's history);
// stopping the server turns the tray to Reconnecting, a message written meanwhile is queued, and
// restarting the server turns it back to Live and delivers the queued message exactly once.
func TestDesktopJoinMode(t *testing.T) {
	needDesktop(t)
	_, serverBin := binaries(t)
	dataDir := t.TempDir()
	serverAddr := freeAddr(t)
	base := "https://" + serverAddr
	var fp string
	var hc *http.Client
	startServer := func() *exec.Cmd {
		cmd := exec.Command(serverBin, "serve", "--addr", serverAddr, "--data-dir", dataDir, "--keepalive", "1s", "--tls-self-signed")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		for lines.Scan() && !strings.HasPrefix(lines.Text(), "herald-server certificate sha256 ") {
		}
		printed := strings.TrimPrefix(lines.Text(), "herald-server certificate sha256 ")
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		if fp != "" && printed != fp {
			t.Fatalf("after a restart herald-server has the certificate %s, was %s", printed, fp)
		}
		fp, hc = printed, pinnedClient(t, printed)
		deadline := time.Now().Add(guiWait)
		for {
			if resp, err := hc.Get(base + "/api/server"); err == nil {
				resp.Body.Close()
				return cmd
			}
			if time.Now().After(deadline) {
				t.Fatal("herald-server did not come up")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	server := startServer()
	t.Cleanup(func() { _ = server.Process.Kill(); _, _ = server.Process.Wait() })

	type account struct {
		User  struct{ ID string }
		Token string
	}
	var alice, bob account
	apiVia(t, hc, "POST", base+"/api/auth/register", "", map[string]string{"username": "alice", "displayName": "Alice", "password": "correct horse 1"}, &alice)
	var inv struct{ Code, URL string }
	apiVia(t, hc, "POST", base+"/api/invites", alice.Token, map[string]any{}, &inv)
	if !strings.HasSuffix(inv.URL, "#sha256="+fp) {
		t.Fatalf("invite link %s lacks the fingerprint %s", inv.URL, fp)
	}
	apiVia(t, hc, "POST", base+"/api/auth/register", "", map[string]string{"username": "bob", "password": "correct horse 2", "inviteCode": inv.Code}, &bob)
	var chat struct{ Chat struct{ ID string } }
	apiVia(t, hc, "POST", base+"/api/chats", alice.Token, map[string]any{"name": "general", "memberIds": []string{bob.User.ID}}, &chat)

	// Alice has an avatar: bob's native notification about her message shows it.
	avatar := pngImage(t, 96, 96)
	req, _ := http.NewRequest(http.MethodPut, base+"/api/me/avatar", bytes.NewReader(avatar))
	req.Header.Set("Authorization", "Bearer "+alice.Token)
	req.Header.Set("Content-Type", "image/png")
	if resp, err := hc.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("alice's avatar upload: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	desktopDir := t.TempDir()
	d := startDesktop(t, []string{"HERALD_USERNAME=bob", "HERALD_PASSWORD=correct horse 2"},
		"--data-dir", desktopDir, "--join", inv.URL)
	d.expectLine("herald: joined " + base)
	d.expectLine("herald: state Live")
	d.awaitTooltip("Live")
	dir := artifacts(t)

	// The window is not focused (as when it sits behind other windows): a message notifies. The
	// page reports its focus when it loads (under Xvfb without a window manager it has it); after
	// that report, this one stands until the focus changes, which nothing does here.
	d.expectLine("herald: focus ")
	if status := api(t, "POST", d.debug+"/desktop/focus", "", map[string]bool{"focused": false}, nil); status != 204 {
		t.Fatalf("focus: %d", status)
	}
	apiVia(t, hc, "POST", base+"/api/chats/"+chat.Chat.ID+"/messages", alice.Token, map[string]string{"content": "Lunch at noon?"}, nil)
	deadline := time.Now().Add(guiWait)
	for {
		history, _ := d.run("dunstctl", "history")
		displayed, _ := d.run("dunstctl", "count", "displayed")
		if strings.Contains(history, "Lunch at noon?") {
			t.Logf("dunst history has the notification")
			if icon := filepath.Join(desktopDir, "avatars") + "/"; !strings.Contains(history, icon) {
				t.Fatalf("the notification's icon is not alice's avatar under %s; dunst history:\n%s", icon, history)
			}
			break
		}
		if strings.TrimSpace(displayed) != "0" {
			d.screenshot(filepath.Join(dir, "join-notification.png"))
			_, _ = d.run("dunstctl", "close-all") // history lists closed notifications only
		}
		if time.Now().After(deadline) {
			t.Fatalf("no native notification; dunst history:\n%s", history)
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.awaitTooltip("1 unread")
	d.saveTrayIcon(filepath.Join(dir, "join-tray-live.png"))
	d.screenshot(filepath.Join(dir, "join-window.png"))

	// The server goes away: Reconnecting, and a message written now is queued durably.
	if err := server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_, _ = server.Process.Wait()
	d.awaitTooltip("Reconnecting")
	d.saveTrayIcon(filepath.Join(dir, "join-tray-reconnecting.png"))
	var queued struct{ Queued bool }
	if status := api(t, "POST", d.debug+"/api/chats/"+chat.Chat.ID+"/messages", "", map[string]string{"content": "written offline", "clientId": "offline-1"}, &queued); status != 202 || !queued.Queued {
		t.Fatalf("post while the server is down: %d %+v", status, queued)
	}

	// Back: Live again, and the queued message arrives once.
	server = startServer()
	d.awaitTooltip("Live")
	var page struct {
		Messages []struct{ Content, AuthorID string }
	}
	deadline = time.Now().Add(guiWait)
	for {
		apiVia(t, hc, "GET", base+"/api/chats/"+chat.Chat.ID+"/messages", alice.Token, nil, &page)
		n := 0
		for _, m := range page.Messages {
			if m.Content == "written offline" {
				n++
			}
		}
		if n == 1 {
			break
		}
		if n > 1 || time.Now().After(deadline) {
			t.Fatalf("the queued message arrived %d times", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.quit()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestDesktopFirstRun: without --host or --join the window shows the first-run chooser; choosing
// to host (what its form posts) starts the team server over HTTPS, creates the admin account and
// answers an invite link with the certificate's fingerprint; the app is then live with that team.
// A second app joins with that link through the pinned certificate (and refuses a link whose
// fingerprint is not the server's).
func TestDesktopFirstRun(t *testing.T) {
	needDesktop(t)
	d := startDesktop(t, nil, "--data-dir", t.TempDir())
	d.expectLine("herald: focus ") // the page has loaded
	var state struct {
		Configured bool
		Connection string
	}
	api(t, "GET", d.debug+"/desktop/state", "", nil, &state)
	if state.Configured || state.Connection != "Signed out" {
		t.Fatalf("first-run state %+v", state)
	}
	dir := artifacts(t)
	d.screenshot(filepath.Join(dir, "first-run-chooser.png"))

	addr := freeAddr(t)
	var hosted struct{ InviteURL, LanURL string }
	status := api(t, "POST", d.debug+"/desktop/host", "", map[string]string{"hostAddr": addr, "lanHost": "127.0.0.1", "teamName": "Acme",
		"username": "owner", "displayName": "Olivia", "password": "correct horse 1"}, &hosted)
	if status != 200 || !strings.HasPrefix(hosted.InviteURL, "https://"+addr+"/join/") {
		t.Fatalf("host from the chooser: %d %+v", status, hosted)
	}
	fp, _ := d.hostedCertificate("https://" + addr)
	if !strings.HasSuffix(hosted.InviteURL, "#sha256="+fp) {
		t.Fatalf("invite link %s, certificate %s", hosted.InviteURL, fp)
	}
	d.expectLine("herald: state Live")
	d.awaitTooltip("Live · Acme")

	// Another member's app, on its first run, joins with the invite link.
	joiner := startDesktop(t, nil, "--data-dir", t.TempDir())
	joiner.expectLine("herald: focus ")
	var refused struct {
		Error struct{ Code, Message string }
	}
	forged := strings.Replace(hosted.InviteURL, fp, strings.Repeat("00:", 31)+"00", 1)
	if status := api(t, "POST", joiner.debug+"/desktop/join", "", map[string]string{"serverUrl": forged}, &refused); status != 502 ||
		!strings.Contains(refused.Error.Message, "not the one in the invite link") {
		t.Fatalf("join with another fingerprint: %d %+v", status, refused)
	}
	var joined struct{ Next string }
	if status := api(t, "POST", joiner.debug+"/desktop/join", "", map[string]string{"serverUrl": hosted.InviteURL}, &joined); status != 200 || !strings.HasPrefix(joined.Next, "/join/") {
		t.Fatalf("join with the invite link: %d %+v", status, joined)
	}
	code := strings.TrimPrefix(joined.Next, "/join/")
	if status := api(t, "POST", joiner.debug+"/api/auth/register", "", map[string]string{"username": "bob", "password": "correct horse 2", "inviteCode": code}, nil); status != 201 {
		t.Fatalf("register with the invite through the joining app: %d", status)
	}
	joiner.expectLine("herald: state Live")
	var js struct{ Mode, ServerURL, Fingerprint, Connection string }
	api(t, "GET", joiner.debug+"/desktop/state", "", nil, &js)
	if js.Mode != "join" || js.ServerURL != "https://"+addr || js.Fingerprint != fp {
		t.Fatalf("the joining app's state %+v; the host's certificate is %s", js, fp)
	}
	// No screenshot of the joining app: the test drove it through /desktop/ and /api/, not its
	// window, which still shows the chooser it had loaded.
	joiner.quit()
	d.quit()
}

// TestDesktopWithoutNotificationDaemonOrTrayHost: on a desktop with neither, the app says so once
// each and runs on — live, counting unread messages — however many notifications come.
func TestDesktopWithoutNotificationDaemonOrTrayHost(t *testing.T) {
	needDesktop(t)
	addr := freeAddr(t)
	d := startDesktopSession(t, true, nil, "--data-dir", t.TempDir(), "--host", addr)
	d.expectLine("herald: no tray host yet")
	base := "https://" + addr
	_, hc := d.hostedCertificate(base)
	var owner, bob struct {
		User  struct{ ID string }
		Token string
	}
	api(t, "POST", d.debug+"/api/auth/register", "", map[string]string{"username": "owner", "password": "correct horse 1"}, &owner)
	d.expectLine("herald: state Live")
	var inv struct{ Code string }
	api(t, "POST", d.debug+"/api/invites", "", map[string]any{}, &inv)
	apiVia(t, hc, "POST", base+"/api/auth/register", "", map[string]string{"username": "bob", "password": "correct horse 2", "inviteCode": inv.Code}, &bob)
	var me struct{ User struct{ ID string } }
	api(t, "GET", d.debug+"/api/me", "", nil, &me)
	var chat struct{ Chat struct{ ID string } }
	apiVia(t, hc, "POST", base+"/api/chats", bob.Token, map[string]any{"name": "general", "memberIds": []string{me.User.ID}}, &chat)
	d.expectLine("herald: focus ")
	api(t, "POST", d.debug+"/desktop/focus", "", map[string]bool{"focused": false}, nil)
	type state struct {
		Connection     string
		Unread         int
		NativeFailures int
	}
	awaitState := func(what string, ok func(state) bool) {
		t.Helper()
		deadline := time.Now().Add(guiWait)
		for {
			var s state
			api(t, "GET", d.debug+"/desktop/state", "", nil, &s)
			if ok(s) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: state %+v", what, s)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// Each message is one more native notification the desktop cannot show; the app says so once.
	for i := range 3 {
		apiVia(t, hc, "POST", base+"/api/chats/"+chat.Chat.ID+"/messages", bob.Token, map[string]string{"content": fmt.Sprint("ping ", i)}, nil)
		awaitState(fmt.Sprint("failure ", i+1), func(s state) bool { return s.NativeFailures >= i+1 })
	}
	d.expectLine("herald: no native notifications")
	awaitState("live with 3 unread", func(s state) bool { return s.Connection == "Live" && s.Unread == 3 })
	n := 0
	for _, l := range d.output() {
		if strings.HasPrefix(l, "herald: no native notifications") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("said %d times that notifications are unavailable, want once", n)
	}
	d.quit()
}

// pngImage is a w×h PNG of a diagonal gradient (an avatar to upload).
func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), 90, uint8(y * 255 / h), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
