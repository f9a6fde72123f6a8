// Package testwatch bounds the waits of a test that have no bound of their own (a server's
// Open or Shutdown, a request), so that a hang fails the test that hung, naming what it waited
// for and where this module's goroutines stood, instead of the whole package's timeout burying
// it under every goroutine's stack.
package testwatch

import (
	"bytes"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// module is the import path prefix of the frames Stacks keeps.
const module = "github.com/herald-chat/herald/"

// Within runs fn and waits for it at most d. Past d it fails the test (t.Fatalf, so call it
// from the test's goroutine) with what and the stacks of this module's goroutines; fn goes on
// running in the background, leaked, as there is no way to stop it.
func Within(tb testing.TB, d time.Duration, what string, fn func()) {
	tb.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		tb.Fatalf("%s did not finish within %v; this module's goroutines:\n%s", what, d, Stacks(200))
	}
}

// Stacks returns the stacks of the goroutines with a frame in this module, except the test
// runner's own, at most maxLines lines (the rest is cut, said so in the last line).
func Stacks(maxLines int) string {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 2)
	var out []string
	for _, g := range strings.Split(buf.String(), "\n\n") {
		if !strings.Contains(g, module) || strings.Contains(g, "testwatch.Stacks") {
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(g), "\n") {
			if strings.HasPrefix(line, "\t") {
				continue // the file:line under each function: the function names say where
			}
			out = append(out, line)
		}
		out = append(out, "")
	}
	if len(out) > maxLines {
		out = append(out[:maxLines], "… cut")
	}
	return strings.Join(out, "\n")
}
