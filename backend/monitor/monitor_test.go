package monitor

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend"
)

func TestHistogramQuantiles(t *testing.T) {
	h := newHistogram(1, 2, 4, 8)
	for range 50 {
		h.Observe(0.5) // bucket ≤1
	}
	for range 50 {
		h.Observe(3) // bucket (2,4]
	}
	s := h.Snapshot()
	if s.Count != 100 || math.Abs(s.Sum-175) > 1e-9 || s.Mean() != 1.75 {
		t.Fatalf("count %d sum %v mean %v", s.Count, s.Sum, s.Mean())
	}
	if q := s.Quantile(0.5); q != 1 {
		t.Errorf("median %v, want 1 (the top of the first bucket)", q)
	}
	if q := s.Quantile(0.99); q <= 2 || q > 4 {
		t.Errorf("p99 %v, want in (2,4]", q)
	}
	h.Observe(100) // beyond the last bound: reads as the largest bound
	if q := h.Snapshot().Quantile(1); q != 8 {
		t.Errorf("max %v, want 8", q)
	}
	d := h.Snapshot().Sub(s)
	if d.Count != 1 || d.Sum != 100 {
		t.Errorf("difference %+v, want the one observation", d)
	}
	if (HistogramSnapshot{Bounds: []float64{1}, Counts: []uint64{0, 0}}).Quantile(0.5) != 0 {
		t.Error("an empty histogram's quantile is 0")
	}
}

func TestHistogramConcurrentObservations(t *testing.T) {
	h := newHistogram(latencyBounds...)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				h.Observe(0.001)
			}
		})
	}
	wg.Wait()
	if s := h.Snapshot(); s.Count != 8000 || math.Abs(s.Sum-8) > 1e-6 {
		t.Fatalf("count %d sum %v", s.Count, s.Sum)
	}
}

// A nil monitor (monitoring off) takes every call.
func TestNilMonitor(t *testing.T) {
	var m *Monitor
	s := m.Open(StreamInfo{UserID: "u"}, nil)
	s.Wrote([]*backend.Event{{Type: backend.EventNewMessage}}, 10)
	s.Close(EndClientGone)
	m.Refused(RefusedAuth)
	m.ObservePost(time.Millisecond)
	m.ObserveCommit(time.Millisecond, 3)
	m.ObservePoll(100)
	m.Error("invalid", 400, "GET", "/", "x")
	if m.Streams() != nil || m.Totals(context.Background()).Streams.Open != 0 {
		t.Fatal("a nil monitor reported something")
	}
	if _, err := m.CloseMinute(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

// The polling comparison comes from the counters: the streams' connects and bytes over the
// window, against each followed chat polled every 15 s at the measured size of a history answer.
func TestPollingComparison(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m := New(nil, func() time.Time { return now })
	m.SetFollowedChats(func(_ context.Context, userID string) int { return map[string]int{"ann": 5, "bob": 2}[userID] })
	ann := m.Open(StreamInfo{UserID: "ann", Kind: KindStream}, nil)
	m.Open(StreamInfo{UserID: "bob", Kind: KindStream}, nil)
	m.Open(StreamInfo{UserID: "bob", Kind: KindChat, ChatID: "c1"}, nil)
	m.Open(StreamInfo{UserID: "cat", Kind: KindNotifications}, nil)
	ann.Wrote(nil, 9000)
	m.ObservePoll(400)
	m.ObservePoll(600)

	now = now.Add(30 * time.Minute)
	p := m.Totals(context.Background()).Polling
	if p.WindowSeconds != 1800 || p.StreamRequestsPerHour != 8 || p.StreamBytesPerHour != 18000 {
		t.Fatalf("streams side %+v: want 4 connects and 9000 bytes in 30 min, scaled to an hour", p)
	}
	if p.FollowedChats != 5+2+1+1 || p.PollRequestsPerHour != 9*240 || p.MeanPollBytes != 500 || p.PollsMeasured != 2 ||
		p.PollBytesPerHour != 9*240*500 {
		t.Fatalf("polling side %+v", p)
	}
	if p.RequestRatio != 9*240/8.0 || p.ByteRatio != 9*240*500/18000.0 {
		t.Fatalf("ratios %v %v", p.RequestRatio, p.ByteRatio)
	}

	// A closed minute carries what polling would have cost in it.
	rec, err := m.CloseMinute(context.Background(), nil)
	if err != nil || rec.PollRequests != 9*4 || rec.PollBytes != 9*4*500 || rec.Connects != 4 || rec.Streams != 4 || rec.Bytes != 9000 {
		t.Fatalf("minute %+v %v", rec, err)
	}
}

func TestWatchLeases(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	m := New(nil, func() time.Time { return now })
	var got [][]string
	m.SetTickPublisher(func(_ context.Context, recipients []string, _ Totals) { got = append(got, recipients) })
	m.tick(context.Background())
	if len(got) != 0 {
		t.Fatal("a tick with nobody watching was published")
	}
	until, ok := m.Watch("admin")
	if !ok || !until.Equal(now.Add(WatchLease)) {
		t.Fatalf("Watch = %v %v", until, ok)
	}
	m.tick(context.Background())
	if len(got) != 1 || len(got[0]) != 1 || got[0][0] != "admin" {
		t.Fatalf("ticks %v", got)
	}
	now = now.Add(WatchLease)
	m.tick(context.Background())
	if len(got) != 1 {
		t.Fatal("a tick went out after the lease ended")
	}
	for i := range maxWatchers {
		if _, ok := m.Watch(fmt.Sprint("a", i)); !ok {
			t.Fatalf("watcher %d refused", i)
		}
	}
	if _, ok := m.Watch("one-too-many"); ok {
		t.Fatal("more watchers than the bound")
	}
	m.Unwatch("a0")
	if _, ok := m.Watch("one-too-many"); !ok {
		t.Fatal("a freed place was not given")
	}
}

func TestErrorLogIsBounded(t *testing.T) {
	m := New(nil, nil)
	for i := range MaxErrorLog + 20 {
		m.Error(fmt.Sprint("code", i%70), 500, "POST", "/api/x", fmt.Sprint("message ", i))
	}
	counts, recent := m.Errors()
	if len(recent) != MaxErrorLog || recent[0].Message != fmt.Sprint("message ", MaxErrorLog+19) {
		t.Fatalf("%d recent, newest %q", len(recent), recent[0].Message)
	}
	if len(counts) != 65 || counts["other"] == 0 {
		t.Fatalf("categories %d (%v): want 64 and the rest as other", len(counts), counts["other"])
	}
}

func TestClassifyClient(t *testing.T) {
	for ua, want := range map[string]Client{
		"Mozilla/5.0 (X11; Linux x86_64) Chrome/140": ClientBrowser,
		"herald-client": ClientDesktop,
		"curl/8.5.0":    ClientOther,
		"":              ClientOther,
	} {
		if got := ClassifyClient(false, ua); got != want {
			t.Errorf("%q: %s, want %s", ua, got, want)
		}
	}
	if ClassifyClient(true, "Mozilla/5.0") != ClientBot {
		t.Error("a bot is a bot whatever its user agent")
	}
}
