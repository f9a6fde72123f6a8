package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// target is one server under load: a child process the tool started (or, with --pid, one it
// did not), reached at addr.
type target struct {
	name    string // "herald" or "naive"
	addr    string // host:port
	pprof   string // host:port of herald-server's --pprof-addr, "" without profiling
	pid     int
	cmd     *exec.Cmd // nil for --pid
	dataDir string    // holds the child's log; "" for --pid
	logFile *os.File
	exited  chan struct{}
}

// startHerald starts the herald-server binary at path on dataDir, listening on a free port of
// 127.0.0.1, with the limits that would refuse the load turned off (streams per user, conns per
// IP, message rate), and waits for its /readyz. The server's log goes to dataDir/server.log.
func startHerald(ctx context.Context, path, dataDir string, extra []string) (*target, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := append([]string{"serve", "--addr", addr, "--data-dir", dataDir,
		"--max-streams-per-user", "0", "--max-conns-per-ip", "0", "--message-burst", "0"}, extra...)
	return startChild(ctx, "herald", path, args, addr, dataDir, "")
}

// startNaive re-executes this binary as the naive hub.
func startNaive(ctx context.Context, dir string) (*target, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this executable: %w", err)
	}
	ready := filepath.Join(dir, "naive.addr")
	return startChild(ctx, "naive", self, []string{"naive-hub", "--addr", "127.0.0.1:0", "--ready-file", ready}, "", dir, ready)
}

func startChild(ctx context.Context, name, path string, args []string, addr, dir, readyFile string) (*target, error) {
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("create the %s log: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the tool
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	t := &target{name: name, addr: addr, pid: cmd.Process.Pid, cmd: cmd, dataDir: dir, logFile: logFile, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(t.exited)
	}()
	if err := t.waitReady(ctx, readyFile, 30*time.Second); err != nil {
		t.stop()
		return nil, fmt.Errorf("%s did not get ready: %w (log: %s)", name, err, t.logTail())
	}
	return t, nil
}

// waitReady polls the ready file (if any) for the address, then GET /readyz until it answers
// 200, the child exits, or limit passes.
func (t *target) waitReady(ctx context.Context, readyFile string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-t.exited:
			return errors.New("it exited")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if t.addr == "" {
			if b, err := os.ReadFile(readyFile); err == nil && len(b) > 0 {
				t.addr = strings.TrimSpace(string(b))
			}
		}
		if t.addr != "" {
			resp, err := client.Get("http://" + t.addr + "/readyz")
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		time.Sleep(20 * time.Millisecond) // a poll tick: the child has no way to tell us
	}
	return errors.New("timed out")
}

func (t *target) logTail() string {
	if t.logFile == nil {
		return ""
	}
	b, _ := os.ReadFile(t.logFile.Name())
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// stop sends SIGTERM to a child the tool started, waits up to 10 s, then kills it. The caller
// removes the data dir.
func (t *target) stop() {
	if t.cmd != nil {
		_ = t.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-t.exited:
		case <-time.After(10 * time.Second):
			_ = t.cmd.Process.Kill()
			<-t.exited
		}
	}
	if t.logFile != nil {
		t.logFile.Close()
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
