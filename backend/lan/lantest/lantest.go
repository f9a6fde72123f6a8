// Package lantest runs a test inside a fresh network namespace whose loopback carries multicast,
// so that mDNS traffic between the test's announcers and browsers never leaves it.
package lantest

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// envInside marks the re-executed test binary that runs inside the namespace.
const envInside = "HERALD_LANTEST_NETNS"

// InNetns reports whether the calling test runs inside the namespace (then it goes on). Outside,
// it runs this test again in `unshare -n` — a new network namespace with lo up, multicast on and
// 224.0.0.0/4 routed to it — reports that run's output and result as this test's, and returns
// false: the caller returns at once.
//
// Without unshare or the right to use it the test is skipped, except as root or under CI=…
// (where namespaces are expected to work): then it fails.
func InNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(envInside) == "1" {
		for _, args := range [][]string{{"link", "set", "lo", "up"}, {"link", "set", "lo", "multicast", "on"},
			{"route", "add", "224.0.0.0/4", "dev", "lo"}} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				t.Fatalf("ip %v in the test's network namespace: %v: %s", args, err, out)
			}
		}
		return true
	}
	if runtime.GOOS != "linux" {
		t.Skip("network namespaces are Linux's")
	}
	unavailable := func(why string, args ...any) {
		t.Helper()
		if os.Geteuid() == 0 || os.Getenv("CI") != "" {
			t.Fatalf("this test needs a network namespace (unshare -n, ip): "+why, args...)
		}
		t.Skipf("no network namespace (not root, not CI): "+why, args...)
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		unavailable("%v", err)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		unavailable("%v", err)
	}
	if out, err := exec.Command(unshare, "-n", "true").CombinedOutput(); err != nil {
		unavailable("unshare -n true: %v: %s", err, out)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-n", exe, "-test.run", "^" + t.Name() + "$", "-test.v", "-test.count=1"}
	cmd := exec.CommandContext(t.Context(), unshare, args...)
	cmd.Env = append(os.Environ(), envInside+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("inside the network namespace:\n%s", out.String())
	if err != nil {
		t.Fatalf("the test failed inside its network namespace: %v", err)
	}
	if bytes.Contains(out.Bytes(), []byte("--- SKIP")) || !bytes.Contains(out.Bytes(), []byte("--- PASS: "+t.Name())) {
		t.Fatalf("the test did not pass inside its network namespace")
	}
	return false
}
