package app

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/herald-chat/herald/backend"
)

// Note is one native OS notification: what it says and whose picture it shows.
type Note struct {
	Title, Body string
	// ActorID is whoever it is about (backend.Notification.ActorID); "" for nobody (a summary,
	// a system alert).
	ActorID string
	// Icon is an image file the notification daemon can read; "" shows the app icon. The app
	// fills it in from ActorID's avatar just before raising the notification.
	Icon string
}

// Notifier shows one native OS notification. Implementations may fail (no notification daemon);
// the caller logs the first failure and carries on.
type Notifier interface {
	Notify(Note) error
}

// catchUpWindow is how long after the stream comes (back) live the router gathers replayed
// notifications before deciding between showing them one by one and one summary.
const catchUpWindow = 1500 * time.Millisecond

// catchUpThreshold is the number of notifications gathered in the catch-up window from which they
// are summarized in one native notification instead of shown one by one.
const catchUpThreshold = 3

// seenLimit bounds the set of notification ids already shown (or summarized); the oldest are
// forgotten first. Ids are ULIDs that only grow, and the stream resumes after the last one, so a
// repeat can only be recent.
const seenLimit = 4096

// NotificationRouter decides which of the server's notifications become native OS notifications:
// only those the server decided should notify, only while the window is not focused, only with
// native notifications enabled in the user's preferences, and each id once. After the stream
// (re)connects it gathers the replayed burst for catchUpWindow and, from catchUpThreshold on,
// shows one summary instead of a flood. Safe for concurrent use.
type NotificationRouter struct {
	notifier Notifier
	onError  func(error) // called with each failed Notify; the app logs the first
	// afterFunc schedules the end of a catch-up window (time.AfterFunc; tests inject their own).
	afterFunc func(time.Duration, func()) func()

	mu        sync.Mutex
	focused   bool
	native    bool
	seen      map[string]struct{}
	seenOrder []string
	catching  bool
	gathered  []*backend.Notification
	cancel    func()
}

// NewNotificationRouter returns a router that shows notifications through n. It starts unfocused
// with native notifications on.
func NewNotificationRouter(n Notifier, onError func(error)) *NotificationRouter {
	if onError == nil {
		onError = func(error) {}
	}
	return &NotificationRouter{
		notifier: n, onError: onError, native: true, seen: map[string]struct{}{},
		afterFunc: func(d time.Duration, f func()) func() {
			t := time.AfterFunc(d, f)
			return func() { t.Stop() }
		},
	}
}

// SetFocused records whether the app's window has the focus; a focused window shows its own
// toasts, so nothing native is raised then.
func (r *NotificationRouter) SetFocused(focused bool) {
	r.mu.Lock()
	r.focused = focused
	r.mu.Unlock()
}

// SetNative follows the user's "native notifications" preference.
func (r *NotificationRouter) SetNative(on bool) {
	r.mu.Lock()
	r.native = on
	r.mu.Unlock()
}

// Reconnected starts a catch-up window: what arrives in it is the replay of what was missed.
func (r *NotificationRouter) Reconnected() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.catching {
		return
	}
	r.catching = true
	r.cancel = r.afterFunc(catchUpWindow, r.endCatchUp)
}

// Route considers one notification from the stream.
func (r *NotificationRouter) Route(n *backend.Notification) {
	if n == nil || n.ID == "" {
		return
	}
	r.mu.Lock()
	if _, dup := r.seen[n.ID]; dup {
		r.mu.Unlock()
		return
	}
	r.remember(n.ID)
	if !n.Notify || !r.native || r.focused {
		r.mu.Unlock()
		return
	}
	if r.catching {
		r.gathered = append(r.gathered, n)
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	r.show(Note{Title: n.Title, Body: n.Body, ActorID: n.ActorID})
}

// Close stops a pending catch-up window; what it gathered is dropped.
func (r *NotificationRouter) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil {
		r.cancel()
	}
	r.catching, r.gathered = false, nil
}

func (r *NotificationRouter) remember(id string) {
	r.seen[id] = struct{}{}
	r.seenOrder = append(r.seenOrder, id)
	if len(r.seenOrder) > seenLimit {
		delete(r.seen, r.seenOrder[0])
		r.seenOrder = r.seenOrder[1:]
	}
}

func (r *NotificationRouter) endCatchUp() {
	r.mu.Lock()
	gathered := r.gathered
	r.catching, r.gathered, r.cancel = false, nil, nil
	focused, native := r.focused, r.native // either may have changed during the window
	r.mu.Unlock()
	if focused || !native || len(gathered) == 0 {
		return
	}
	if len(gathered) < catchUpThreshold {
		for _, n := range gathered {
			r.show(Note{Title: n.Title, Body: n.Body, ActorID: n.ActorID})
		}
		return
	}
	title, body := CatchUpSummary(gathered)
	r.show(Note{Title: title, Body: body})
}

func (r *NotificationRouter) show(n Note) {
	if err := r.notifier.Notify(n); err != nil {
		r.onError(err)
	}
}

// CatchUpSummary words one native notification for many: "7 notifications while you were away"
// and a breakdown by kind, most frequent first ("4 messages, 2 mentions, 1 task").
func CatchUpSummary(ns []*backend.Notification) (title, body string) {
	counts := map[backend.NotificationKind]int{}
	for _, n := range ns {
		counts[n.Type]++
	}
	kinds := make([]backend.NotificationKind, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if counts[kinds[i]] != counts[kinds[j]] {
			return counts[kinds[i]] > counts[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	parts := make([]string, 0, len(kinds))
	for _, k := range kinds {
		parts = append(parts, plural(counts[k], kindNoun(k)))
	}
	return fmt.Sprintf("%s while you were away", plural(len(ns), "notification")), strings.Join(parts, ", ")
}

func kindNoun(k backend.NotificationKind) string {
	switch k {
	case backend.KindMessage:
		return "message"
	case backend.KindMention:
		return "mention"
	case backend.KindTask:
		return "task"
	case backend.KindAgent:
		return "agent update"
	case backend.KindSystem:
		return "system alert"
	case backend.KindFile:
		return "file"
	}
	return string(k)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
