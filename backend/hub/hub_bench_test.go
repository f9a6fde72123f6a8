package hub_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/herald-chat/herald/backend"
	"github.com/herald-chat/herald/backend/hub"
)

const (
	benchSubscribers = 1000
	// benchQueue is large enough that drainers never overflow while the publisher runs ahead
	// of them (they take whole batches per Next, so they catch up).
	benchQueue = 4096
)

// fanoutBench is 1,000 users with one /api/stream subscription each, every one drained by its
// own goroutine calling Next in a loop, and n sealed chat events addressed to all of them.
type fanoutBench struct {
	hub      *hub.Hub
	events   []*backend.Event
	drainers sync.WaitGroup
	caughtUp sync.WaitGroup // each drainer is done once it has all n events, or has failed
	received atomic.Int64
	errs     chan error // the first unexpected drainer error
}

// onEvent, if not nil, is called by a drainer for each event it receives.
func newFanoutBench(b *testing.B, n int, onEvent func()) *fanoutBench {
	b.Helper()
	f := &fanoutBench{hub: hub.New(&memLog{}, hub.WithQueueSize(benchQueue)), errs: make(chan error, benchSubscribers)}
	recipients := make([]string, benchSubscribers)
	for i := range recipients {
		recipients[i] = fmt.Sprintf("user%04d", i)
	}
	var ids seq
	f.events = make([]*backend.Event, n)
	for i := range f.events {
		f.events[i] = chatEvent(b, ids.next(), "bench", recipients...)
	}
	f.caughtUp.Add(benchSubscribers)
	for _, uid := range recipients {
		sub, err := f.hub.Subscribe(userScope(uid), "")
		if err != nil {
			b.Fatal(err)
		}
		f.drainers.Go(func() {
			defer sub.Close()
			var buf []*backend.Event
			got := 0
			for {
				var err error
				buf, err = sub.Next(context.Background(), buf)
				for range buf {
					if onEvent != nil {
						onEvent()
					}
				}
				f.received.Add(int64(len(buf)))
				if got < n && got+len(buf) >= n {
					f.caughtUp.Done()
				}
				got += len(buf)
				if err != nil {
					if !errors.Is(err, backend.ErrClosed) {
						f.errs <- fmt.Errorf("drainer %s after %d events: %w", uid, got, err)
					}
					if got < n {
						f.caughtUp.Done()
					}
					return
				}
			}
		})
	}
	return f
}

// stop ends every drainer through Hub.Close and waits for them, failing on any drainer error
// and on overflows: the drainers must have kept up.
func (f *fanoutBench) stop(b *testing.B) {
	b.Helper()
	f.hub.Close()
	f.drainers.Wait()
	close(f.errs)
	for err := range f.errs {
		b.Error(err)
	}
	if st := f.hub.Stats(); st.Overflows != 0 {
		b.Fatalf("%d subscribers overflowed: the drainers did not keep up (stats %+v)", st.Overflows, st)
	}
}

// BenchmarkFanout1000 measures Publish of one event to 1,000 subscribers (queueing a copy of
// the pointer for each and waking its drainer) while the drainers run.
func BenchmarkFanout1000(b *testing.B) {
	f := newFanoutBench(b, b.N, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		f.hub.Publish(f.events[i])
	}
	b.StopTimer()
	elapsed := b.Elapsed()
	// Untimed: let the drainers finish so that the run checks they received everything.
	f.caughtUp.Wait()
	f.stop(b)
	want := int64(b.N) * benchSubscribers
	if got := f.received.Load(); got != want {
		b.Fatalf("drainers received %d events, want %d", got, want)
	}
	b.ReportMetric(float64(want)/elapsed.Seconds(), "deliveries/s")
}

// BenchmarkFanout1000Delivered measures end-to-end fan-out latency: from Publish until every
// one of the 1,000 drainers has taken the event out of its queue.
func BenchmarkFanout1000Delivered(b *testing.B) {
	var remaining atomic.Int64
	all := make(chan struct{}, 1)
	f := newFanoutBench(b, b.N, func() {
		if remaining.Add(-1) == 0 {
			all <- struct{}{}
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		remaining.Store(benchSubscribers)
		f.hub.Publish(f.events[i])
		select {
		case <-all:
		case err := <-f.errs:
			b.Fatal(err)
		}
	}
	b.StopTimer()
	elapsed := b.Elapsed()
	f.caughtUp.Wait()
	f.stop(b)
	want := int64(b.N) * benchSubscribers
	if got := f.received.Load(); got != want {
		b.Fatalf("drainers received %d events, want %d", got, want)
	}
	b.ReportMetric(float64(want)/elapsed.Seconds(), "deliveries/s")
}
