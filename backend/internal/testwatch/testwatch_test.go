package testwatch

import (
	"strings"
	"testing"
	"time"
)

// fakeTB records a Fatalf instead of ending the test.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = format
	if len(args) > 0 {
		f.failed = args[0].(string) + " " + args[len(args)-1].(string)
	}
}

func blockedHere(release <-chan struct{}) { <-release }

func TestWithinNamesTheHangAndWhereItStood(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	f := &fakeTB{TB: t}
	Within(f, 50*time.Millisecond, "the blocked call", func() { blockedHere(release) })
	if !strings.Contains(f.failed, "the blocked call") || !strings.Contains(f.failed, "testwatch.blockedHere") {
		t.Fatalf("a hang's report: %q, want what hung and the blocked goroutine's frame", f.failed)
	}
}

func TestWithinPassesWhatFinishes(t *testing.T) {
	f := &fakeTB{TB: t}
	ran := false
	Within(f, time.Minute, "a quick call", func() { ran = true })
	if !ran || f.failed != "" {
		t.Fatalf("ran %v, failed %q", ran, f.failed)
	}
}
