package app

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/herald-chat/herald/backend"
)

// recordingNotifier stands in for the desktop's notification daemon.
type recordingNotifier struct {
	mu   sync.Mutex
	got  []Note
	fail error
}

func (n *recordingNotifier) Notify(note Note) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail != nil {
		return n.fail
	}
	n.got = append(n.got, note)
	return nil
}

func (n *recordingNotifier) shown() []Note {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}

func note(id string, kind backend.NotificationKind, notify bool) *backend.Notification {
	return &backend.Notification{ID: id, Type: kind, Title: "title " + id, Body: "body " + id,
		Decision: backend.Decision{Notify: notify, Reason: "test"}}
}

func TestNotificationRouting(t *testing.T) {
	tests := []struct {
		name    string
		focused bool
		native  bool
		notes   []*backend.Notification
		want    []string // ids shown, in order
	}{
		{"unfocused shows one", false, true, []*backend.Notification{note("1", backend.KindMessage, true)}, []string{"1"}},
		{"focused shows none: the window has its toasts", true, true, []*backend.Notification{note("1", backend.KindMessage, true)}, nil},
		{"silenced by the server shows none", false, true, []*backend.Notification{note("1", backend.KindMessage, false)}, nil},
		{"native notifications off shows none", false, false, []*backend.Notification{note("1", backend.KindMention, true)}, nil},
		{"the same id twice shows one", false, true, []*backend.Notification{note("1", backend.KindMessage, true), note("1", backend.KindMessage, true)}, []string{"1"}},
		{"distinct ids each show", false, true, []*backend.Notification{note("1", backend.KindTask, true), note("2", backend.KindSystem, true)}, []string{"1", "2"}},
		{"nil and id-less entries are ignored", false, true, []*backend.Notification{nil, note("", backend.KindMessage, true)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &recordingNotifier{}
			r := NewNotificationRouter(n, nil)
			r.SetFocused(tt.focused)
			r.SetNative(tt.native)
			for _, x := range tt.notes {
				r.Route(x)
			}
			var want []Note
			for _, id := range tt.want {
				want = append(want, Note{Title: "title " + id, Body: "body " + id})
			}
			if got := n.shown(); !slices.Equal(got, want) {
				t.Fatalf("shown %v, want %v", got, want)
			}
		})
	}
}

func TestSilencedOrFocusedIDIsNotShownLater(t *testing.T) {
	n := &recordingNotifier{}
	r := NewNotificationRouter(n, nil)
	r.SetFocused(true)
	r.Route(note("1", backend.KindMessage, true))
	r.SetFocused(false)
	r.Route(note("1", backend.KindMessage, true)) // replayed after a reconnect
	if got := n.shown(); len(got) != 0 {
		t.Fatalf("a notification first seen while focused was shown later: %v", got)
	}
}

func TestCatchUpSummarizesABurstAfterReconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &recordingNotifier{}
		r := NewNotificationRouter(n, nil)
		defer r.Close()
		r.Reconnected()
		kinds := []backend.NotificationKind{backend.KindMessage, backend.KindMention, backend.KindMessage,
			backend.KindTask, backend.KindMessage, backend.KindMessage}
		for i, k := range kinds {
			r.Route(note(fmt.Sprint(i), k, true))
		}
		r.Route(note("silent", backend.KindMessage, false))
		if got := n.shown(); len(got) != 0 {
			t.Fatalf("shown during the catch-up window: %v", got)
		}
		time.Sleep(catchUpWindow)
		synctest.Wait()
		want := []Note{{Title: "6 notifications while you were away", Body: "4 messages, 1 mention, 1 task"}}
		if got := n.shown(); !slices.Equal(got, want) {
			t.Fatalf("shown %v, want %v", got, want)
		}
		// After the window, notifications show one by one again.
		r.Route(note("live", backend.KindMessage, true))
		if got := n.shown(); len(got) != 2 || got[1].Title != "title live" {
			t.Fatalf("after the window: %v", got)
		}
	})
}

func TestCatchUpBelowThresholdShowsEach(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &recordingNotifier{}
		r := NewNotificationRouter(n, nil)
		r.Reconnected()
		r.Route(note("a", backend.KindMessage, true))
		r.Route(note("b", backend.KindMention, true))
		time.Sleep(catchUpWindow)
		synctest.Wait()
		want := []Note{{Title: "title a", Body: "body a"}, {Title: "title b", Body: "body b"}}
		if got := n.shown(); !slices.Equal(got, want) {
			t.Fatalf("shown %v, want %v", got, want)
		}
	})
}

func TestCatchUpWhileFocusedShowsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &recordingNotifier{}
		r := NewNotificationRouter(n, nil)
		r.Reconnected()
		for i := range 5 {
			r.Route(note(fmt.Sprint(i), backend.KindMessage, true))
		}
		r.SetFocused(true) // the user came back to the window before the window ended
		time.Sleep(catchUpWindow)
		synctest.Wait()
		if got := n.shown(); len(got) != 0 {
			t.Fatalf("shown %v while focused", got)
		}
	})
}

func TestCatchUpAfterNativeTurnedOffShowsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &recordingNotifier{}
		r := NewNotificationRouter(n, nil)
		r.Reconnected()
		for i := range 5 {
			r.Route(note(fmt.Sprint(i), backend.KindMessage, true))
		}
		r.SetNative(false) // the preferences arrived during the window
		time.Sleep(catchUpWindow)
		synctest.Wait()
		if got := n.shown(); len(got) != 0 {
			t.Fatalf("shown %v with native notifications off", got)
		}
	})
}

func TestNotifierErrorsAreReported(t *testing.T) {
	n := &recordingNotifier{fail: errors.New("no notification daemon")}
	var errs []error
	r := NewNotificationRouter(n, func(err error) { errs = append(errs, err) })
	r.Route(note("1", backend.KindMessage, true))
	r.Route(note("2", backend.KindMessage, true))
	if len(errs) != 2 {
		t.Fatalf("reported %d errors, want 2", len(errs))
	}
}

func TestSeenIDsAreBounded(t *testing.T) {
	n := &recordingNotifier{}
	r := NewNotificationRouter(n, nil)
	r.SetFocused(true)
	for i := range seenLimit + 10 {
		r.Route(note(fmt.Sprint(i), backend.KindMessage, true))
	}
	if len(r.seen) != seenLimit || len(r.seenOrder) != seenLimit {
		t.Fatalf("remembered %d ids (%d in order), want %d", len(r.seen), len(r.seenOrder), seenLimit)
	}
}
