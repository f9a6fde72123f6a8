package app

import (
	"context"
	"net"
	"slices"
	"strings"
	"time"
)

// wakeCheckInterval is how often the watcher looks at the clock and the network.
const wakeCheckInterval = 2 * time.Second

// wakeWatcher notices that the machine slept (the wall clock jumped further than the ticker's
// interval — the monotonic clock stops during suspend, so a ticker alone cannot tell) or that the
// network changed (the set of interface addresses differs), and calls onWake at once, so the
// stream reconnects without waiting out a backoff.
type wakeWatcher struct {
	interval time.Duration
	now      func() time.Time
	addrs    func() string
	onWake   func(reason string)

	last      time.Time
	lastAddrs string
}

func newWakeWatcher(onWake func(reason string)) *wakeWatcher {
	return &wakeWatcher{interval: wakeCheckInterval, now: time.Now, addrs: interfaceAddrs, onWake: onWake}
}

// Run checks every interval until ctx ends.
func (w *wakeWatcher) Run(ctx context.Context) {
	w.last, w.lastAddrs = w.now().Round(0), w.addrs()
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.check()
		}
	}
}

// check compares the wall clock and the addresses with the last check.
func (w *wakeWatcher) check() {
	now := w.now().Round(0) // wall clock only: it keeps counting while the machine sleeps
	slept := now.Sub(w.last) > 3*w.interval
	addrs := w.addrs()
	changed := addrs != w.lastAddrs
	w.last, w.lastAddrs = now, addrs
	switch {
	case slept:
		w.onWake("resumed from sleep")
	case changed:
		w.onWake("network changed")
	}
}

// interfaceAddrs is a fingerprint of the machine's addresses on interfaces that are up.
func interfaceAddrs() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return ""
	}
	var out []string
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, _ := iface.Addrs()
		for _, a := range addrs {
			out = append(out, iface.Name+"="+a.String())
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}
