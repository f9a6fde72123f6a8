package monitor

import (
	"context"
	"sync"
	"time"
)

const (
	// TickInterval is how often MONITOR_TICK goes to the admins watching the dashboard.
	TickInterval = 2 * time.Second
	// WatchLease is how long one Watch lasts: an open dashboard renews it (every 30 s).
	WatchLease = time.Minute
	// maxWatchers bounds the watching admins.
	maxWatchers = 100
)

// tickers are the admins who watch the dashboard, each until their lease ends.
type tickers struct {
	mu      sync.Mutex
	until   map[string]time.Time // user id → lease end
	publish func(ctx context.Context, recipients []string, t Totals)
}

// SetTickPublisher sets who delivers MONITOR_TICK: publish gets the watching admins and the
// totals every TickInterval while there are any.
func (m *Monitor) SetTickPublisher(publish func(ctx context.Context, recipients []string, t Totals)) {
	if m == nil {
		return
	}
	m.ticks.mu.Lock()
	m.ticks.publish = publish
	m.ticks.mu.Unlock()
}

// Watch starts or renews userID's lease on MONITOR_TICK (the caller checked that they are an
// admin) and returns when it ends; false when maxWatchers others already watch.
func (m *Monitor) Watch(userID string) (time.Time, bool) {
	if m == nil {
		return time.Time{}, false
	}
	now := m.now()
	m.ticks.mu.Lock()
	defer m.ticks.mu.Unlock()
	if m.ticks.until == nil {
		m.ticks.until = map[string]time.Time{}
	}
	m.expireLocked(now)
	if _, ok := m.ticks.until[userID]; !ok && len(m.ticks.until) >= maxWatchers {
		return time.Time{}, false
	}
	end := now.Add(WatchLease)
	m.ticks.until[userID] = end
	return end, true
}

// Unwatch ends userID's lease.
func (m *Monitor) Unwatch(userID string) {
	if m == nil {
		return
	}
	m.ticks.mu.Lock()
	delete(m.ticks.until, userID)
	m.ticks.mu.Unlock()
}

func (m *Monitor) expireLocked(now time.Time) {
	for id, end := range m.ticks.until {
		if !now.Before(end) {
			delete(m.ticks.until, id)
		}
	}
}

// tick sends MONITOR_TICK to the watchers, if there are any.
func (m *Monitor) tick(ctx context.Context) {
	m.ticks.mu.Lock()
	m.expireLocked(m.now())
	publish := m.ticks.publish
	recipients := make([]string, 0, len(m.ticks.until))
	for id := range m.ticks.until {
		recipients = append(recipients, id)
	}
	m.ticks.mu.Unlock()
	if publish == nil || len(recipients) == 0 {
		return
	}
	publish(ctx, recipients, m.Totals(ctx))
}
