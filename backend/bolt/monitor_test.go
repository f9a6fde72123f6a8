package bolt_test

import (
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

// The monitor's minutes are kept for backend.MonitorRetention and at most
// backend.MaxMonitorMinutes, oldest dropped first, and survive reopening the file.
func TestMonitorMinutesAreBounded(t *testing.T) {
	e := newEnv(t)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	minute := time.Minute.Milliseconds()
	for i := range int64(5) {
		wantNoError(t, e.s.AppendMonitorMinute(e.ctx, backend.MonitorMinute{Start: start + i*minute, Streams: i}), "AppendMonitorMinute")
	}
	got, err := e.s.MonitorMinutes(e.ctx, start+2*minute)
	if err != nil || len(got) != 3 || got[0].Streams != 2 || got[2].Streams != 4 {
		t.Fatalf("from the third minute: %+v %v", got, err)
	}
	// A minute 7 days and two minutes later drops the first two.
	late := start + backend.MonitorRetention.Milliseconds() + 2*minute
	wantNoError(t, e.s.AppendMonitorMinute(e.ctx, backend.MonitorMinute{Start: late, Streams: 99}), "AppendMonitorMinute")
	got, _ = e.s.MonitorMinutes(e.ctx, 0)
	if len(got) != 4 || got[0].Streams != 2 || got[3].Streams != 99 {
		t.Fatalf("after a week: %+v", got)
	}
	if e.s.Size() <= 0 {
		t.Fatal("Size")
	}
	if err := e.s.Ping(e.ctx); err != nil {
		t.Fatal(err)
	}
}

// However the clock jumps, no more than MaxMonitorMinutes are kept.
func TestMonitorMinutesCount(t *testing.T) {
	e := newEnv(t)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	// 1 ms apart, from 16 writers so that group commit keeps the test quick; the last 5 wait
	// for the rest, so that the 5 oldest are the ones dropped.
	var wg sync.WaitGroup
	for w := range int64(16) {
		wg.Go(func() {
			for i := w; i < backend.MaxMonitorMinutes; i += 16 {
				wantNoError(t, e.s.AppendMonitorMinute(e.ctx, backend.MonitorMinute{Start: start + i}), "AppendMonitorMinute")
			}
		})
	}
	wg.Wait()
	for i := range int64(5) {
		wantNoError(t, e.s.AppendMonitorMinute(e.ctx, backend.MonitorMinute{Start: start + backend.MaxMonitorMinutes + i}), "AppendMonitorMinute")
	}
	got, _ := e.s.MonitorMinutes(e.ctx, 0)
	if len(got) != backend.MaxMonitorMinutes || got[0].Start != start+5 {
		t.Fatalf("%d minutes kept from %d, want %d from %d", len(got), got[0].Start, backend.MaxMonitorMinutes, start+5)
	}
}
