package httpapi

import (
	"errors"
	"net/http"
	"testing"
)

// onOwnStack returns f's error, and a panic in f is raised again on the caller's goroutine (so
// net/http recovers it per connection instead of the process dying).
func TestOnOwnStackRaisesPanicsOnTheCaller(t *testing.T) {
	want := errors.New("f's error")
	if err := onOwnStack(func() error { return want }); err != want {
		t.Fatalf("onOwnStack = %v, want f's error", err)
	}
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler", p)
		}
	}()
	_ = onOwnStack(func() error { panic(http.ErrAbortHandler) })
	t.Fatal("onOwnStack returned after f panicked")
}
