package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDesktopHostsTeamServer builds the real desktop binary and runs it under Xvfb with its own
// session bus: the window opens, the team server inside it answers on its address, and SIGTERM
// quits through Wails so the server shuts down cleanly. It needs the GUI packages that `make
// deps` installs, so it runs when HERALD_DESKTOP_TEST=1 (as `make test` sets).
func TestDesktopHostsTeamServer(t *testing.T) {
	if os.Getenv("HERALD_DESKTOP_TEST") != "1" {
		t.Skip("set HERALD_DESKTOP_TEST=1 (make test does) to run the desktop app under Xvfb")
	}
	for _, tool := range []string{"xvfb-run", "dbus-run-session"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: run make deps", tool)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "herald")
	build := exec.Command("go", "build", "-tags", "desktop,production,webkit2_41", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build desktop app: %v\n%s", err, out)
	}

	addr := freeAddr(t)
	cmd := exec.Command("xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "dbus-run-session", "--",
		bin, "--data-dir", filepath.Join(dir, "data"), "--host", addr)
	cmd.Env = append(os.Environ(), "NO_AT_BRIDGE=1", "XDG_DATA_HOME="+filepath.Join(dir, "xdg"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	expectLine := func(prefix string) string {
		t.Helper()
		timeout := time.After(60 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("herald exited before %q; stderr:\n%s", prefix, stderr.String())
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-timeout:
				t.Fatalf("no %q line within 60 s; stderr:\n%s", prefix, stderr.String())
			}
		}
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(expectLine("herald: pid "), "herald: pid "))
	if err != nil {
		t.Fatal(err)
	}
	url := strings.TrimPrefix(expectLine("herald: hosting "), "herald: hosting ")
	if url != "http://"+addr {
		t.Fatalf("hosting %s, want http://%s", url, addr)
	}

	// The embedded team server answers: the first account becomes admin.
	resp, err := http.Post(url+"/api/auth/register", "application/json",
		strings.NewReader(`{"username":"owner","password":"correct-horse-9"}`))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct{ User struct{ Role string } }
	_ = json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	if resp.StatusCode != 201 || reg.User.Role != "admin" {
		t.Fatalf("register on the hosted server: %d %+v", resp.StatusCode, reg)
	}
	// The web client is served too.
	resp, err = http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET / on the hosted server: %d", resp.StatusCode)
	}

	// SIGTERM to herald itself (not to xvfb-run): it quits through Wails and stops the server.
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expectLine("herald: stopped")
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("herald exited with %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("herald did not exit within 20 s of SIGTERM; stderr:\n%s", stderr.String())
	}
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
