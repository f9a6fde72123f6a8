package app

import (
	"slices"
	"testing"
	"time"
)

func TestWakeWatcher(t *testing.T) {
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		elapsed time.Duration // wall-clock time since the last check
		addrs   string
		want    []string
	}{
		{"a regular tick", wakeCheckInterval, "eth0=10.0.0.2/24", nil},
		{"a late tick is not sleep", 2 * wakeCheckInterval, "eth0=10.0.0.2/24", nil},
		{"the clock jumped: the machine slept", 10 * time.Minute, "eth0=10.0.0.2/24", []string{"resumed from sleep"}},
		{"new addresses: the network changed", wakeCheckInterval, "wlan0=192.168.1.9/24", []string{"network changed"}},
		{"both: one reconnect", time.Hour, "wlan0=192.168.1.9/24", []string{"resumed from sleep"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			now := start
			w := &wakeWatcher{interval: wakeCheckInterval, now: func() time.Time { return now },
				addrs: func() string { return tt.addrs }, onWake: func(r string) { got = append(got, r) }}
			w.last, w.lastAddrs = start, "eth0=10.0.0.2/24"
			now = start.Add(tt.elapsed)
			w.check()
			if !slices.Equal(got, tt.want) {
				t.Fatalf("onWake %v, want %v", got, tt.want)
			}
			// The next regular tick is quiet again.
			got = nil
			now = now.Add(wakeCheckInterval)
			w.check()
			if len(got) != 0 {
				t.Fatalf("second check: %v", got)
			}
		})
	}
}

func TestDoNotDisturbPresets(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2026, 11, 27, 22, 15, 30, 0, berlin)
	if d := DoNotDisturbPreset("1h", now); d == nil || !d.Until.Equal(time.Date(2026, 11, 27, 23, 15, 30, 0, berlin)) {
		t.Errorf("1h: %v", d)
	}
	if d := DoNotDisturbPreset("tomorrow", now); d == nil || !d.Until.Equal(time.Date(2026, 11, 28, 8, 0, 0, 0, berlin)) {
		t.Errorf("tomorrow: %v", d)
	}
	if d := DoNotDisturbPreset("off", now); d != nil {
		t.Errorf("off: %v", d)
	}
}
