package monitor

import (
	"math"
	"sync/atomic"
	"time"
)

// Histogram counts observations into fixed buckets with atomic adds only, so the hot path never
// takes a lock; readers take a HistogramSnapshot. Observations are durations or plain numbers
// (a commit's batch size) in the histogram's unit. The zero value is not usable: use
// newHistogram.
type Histogram struct {
	bounds []float64       // upper bounds, ascending; a last implicit +Inf bucket follows
	counts []atomic.Uint64 // len(bounds)+1
	sum    atomic.Uint64   // math.Float64bits of the sum, updated by CAS
	n      atomic.Uint64
}

func newHistogram(bounds ...float64) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// latencyBounds are the buckets of latency histograms (seconds): 50 µs to 10 s.
var latencyBounds = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// durationBounds are the buckets of connection durations (seconds): 1 s to 1 day.
var durationBounds = []float64{1, 10, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600}

// batchBounds are the buckets of commit batch sizes (writes per commit).
var batchBounds = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}

// Observe adds one observation of v.
func (h *Histogram) Observe(v float64) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.n.Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// ObserveDuration adds d in seconds.
func (h *Histogram) ObserveDuration(d time.Duration) { h.Observe(d.Seconds()) }

// HistogramSnapshot is a histogram's state at one moment: per-bucket (not cumulative) counts.
type HistogramSnapshot struct {
	Bounds []float64
	Counts []uint64
	Count  uint64
	Sum    float64
}

// Snapshot reads the histogram. Concurrent observations may be half in it (a count without its
// sum): the numbers are for display, never for invariants.
func (h *Histogram) Snapshot() HistogramSnapshot {
	s := HistogramSnapshot{Bounds: h.bounds, Counts: make([]uint64, len(h.counts)), Sum: math.Float64frombits(h.sum.Load())}
	for i := range h.counts {
		s.Counts[i] = h.counts[i].Load()
		s.Count += s.Counts[i]
	}
	return s
}

// Sub is s minus an earlier snapshot of the same histogram: what was observed in between.
func (s HistogramSnapshot) Sub(earlier HistogramSnapshot) HistogramSnapshot {
	d := HistogramSnapshot{Bounds: s.Bounds, Counts: make([]uint64, len(s.Counts)), Sum: s.Sum - earlier.Sum}
	for i := range s.Counts {
		if i < len(earlier.Counts) && earlier.Counts[i] <= s.Counts[i] {
			d.Counts[i] = s.Counts[i] - earlier.Counts[i]
		} else {
			d.Counts[i] = s.Counts[i]
		}
		d.Count += d.Counts[i]
	}
	return d
}

// Quantile estimates the q-quantile (0..1) by linear interpolation within its bucket; 0 without
// observations. Values in the +Inf bucket read as the largest bound.
func (s HistogramSnapshot) Quantile(q float64) float64 {
	if s.Count == 0 {
		return 0
	}
	rank := q * float64(s.Count)
	var seen float64
	for i, c := range s.Counts {
		if c == 0 {
			continue
		}
		if seen+float64(c) >= rank {
			if i == len(s.Bounds) {
				return s.Bounds[len(s.Bounds)-1]
			}
			lo := 0.0
			if i > 0 {
				lo = s.Bounds[i-1]
			}
			return lo + (s.Bounds[i]-lo)*(rank-seen)/float64(c)
		}
		seen += float64(c)
	}
	return s.Bounds[len(s.Bounds)-1]
}

// Mean is the average observation; 0 without observations.
func (s HistogramSnapshot) Mean() float64 {
	if s.Count == 0 {
		return 0
	}
	return s.Sum / float64(s.Count)
}
