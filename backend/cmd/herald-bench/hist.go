package main

import (
	"math"
	"math/bits"
	"slices"
	"sync/atomic"
	"time"
)

// histSub is the number of sub-buckets per power of two: values are kept with a relative error
// below 1/histSub (about 1.6 %).
const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histBuckets = (64 - histSubBits + 1) * histSub
)

// histogram counts durations (ns) in log-linear buckets; Record is safe for concurrent use and
// does not allocate, so thousands of subscriber goroutines can share one. Negative values count
// as 0.
type histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64
}

func bucketOf(v int64) int {
	if v < histSub {
		return int(max(v, 0))
	}
	exp := bits.Len64(uint64(v)) - histSubBits // ≥ 1
	return exp*histSub + int(uint64(v)>>uint(exp-1)) - histSub
}

// bucketLow is the smallest value bucketOf maps to b.
func bucketLow(b int) int64 {
	if b < histSub*2 {
		return int64(b)
	}
	exp := b / histSub
	return int64(b%histSub+histSub) << uint(exp-1)
}

func (h *histogram) Record(d time.Duration) {
	v := int64(d)
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

func (h *histogram) Count() uint64 { return h.n.Load() }

func (h *histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Quantile returns the q-quantile (0 < q ≤ 1) as the middle of its bucket, never more than the
// largest recorded value; 0 when nothing was recorded.
func (h *histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen uint64
	for b := range h.counts {
		seen += h.counts[b].Load()
		if seen >= rank {
			lo, hi := bucketLow(b), bucketLow(b+1)
			mid := lo + (hi-lo)/2
			return time.Duration(min(mid, h.max.Load()))
		}
	}
	return h.Max()
}

// percentile returns the q-quantile of a sample (nearest rank), 0 for an empty one; it sorts
// a copy.
func percentile(sample []time.Duration, q float64) time.Duration {
	if len(sample) == 0 {
		return 0
	}
	s := slices.Clone(sample)
	slices.Sort(s)
	rank := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// median of the values, NaN for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
