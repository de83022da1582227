// Package hist is a log-linear latency histogram in the manner of
// HdrHistogram: each power-of-two range of values is split into 128 linear
// sub-buckets, so any recorded value is reported within 1/128 (< 0.8%) of
// its true value, with constant memory and O(1) recording. Values are
// nanoseconds up to MaxValue; larger ones are clamped and counted in the
// top bucket (the exact maximum is kept separately).
//
// Record is safe for concurrent use and does not allocate: counts are
// atomic, so a progress reporter can read percentiles while connections
// record.
package hist

import (
	"math/bits"
	"sync/atomic"
	"time"
)

const (
	subBits  = 7
	subCount = 1 << subBits
	// MaxValue is the largest value recorded exactly to the histogram's
	// precision: about 68.7 s in nanoseconds.
	MaxValue = 1<<36 - 1
	// buckets: values below 2*subCount map to themselves; each further
	// power of two up to 2^36 adds subCount buckets.
	nBuckets = (36-subBits)*subCount + subCount
)

// Histogram counts values in log-linear buckets. The zero value is empty
// and ready to use.
type Histogram struct {
	counts [nBuckets]atomic.Uint64
	total  atomic.Uint64
	max    atomic.Int64
	sum    atomic.Uint64
}

// index returns the bucket of v, which must be in [0, MaxValue].
func index(v int64) int {
	b := max(bits.Len64(uint64(v))-subBits-1, 0)
	return b*subCount + int(v>>b)
}

// lowest returns the smallest value that maps to bucket i.
func lowest(i int) int64 {
	if i < 2*subCount {
		return int64(i)
	}
	b := i/subCount - 1
	return int64(i-b*subCount) << b
}

// highest returns the largest value that maps to bucket i.
func highest(i int) int64 {
	if i < 2*subCount {
		return int64(i)
	}
	b := i/subCount - 1
	return (int64(i-b*subCount+1) << b) - 1
}

// Record adds one value. Negative values count as zero.
func (h *Histogram) Record(v int64) {
	v = max(v, 0)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
	h.sum.Add(uint64(v))
	h.counts[index(min(v, MaxValue))].Add(1)
	h.total.Add(1)
}

// RecordDuration adds d.
func (h *Histogram) RecordDuration(d time.Duration) { h.Record(int64(d)) }

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max returns the largest value recorded, exactly.
func (h *Histogram) Max() int64 { return h.max.Load() }

// Mean returns the mean of the values recorded.
func (h *Histogram) Mean() float64 {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	return float64(h.sum.Load()) / float64(n)
}

// Quantile returns a value v such that a fraction q (0..1) of the recorded
// values are at most v, to the histogram's precision: the highest value of
// the bucket holding the q-th value, capped at the exact maximum. It
// returns 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) int64 {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			if i == nBuckets-1 {
				return h.max.Load() // the top bucket holds clamped values
			}
			return min(highest(i), h.max.Load())
		}
	}
	return h.max.Load()
}

// Merge adds the counts of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.total.Add(o.total.Load())
	h.sum.Add(o.sum.Load())
	for {
		m, om := h.max.Load(), o.max.Load()
		if om <= m || h.max.CompareAndSwap(m, om) {
			break
		}
	}
}

// Reset empties h. It must not run concurrently with Record.
func (h *Histogram) Reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
	h.total.Store(0)
	h.sum.Store(0)
	h.max.Store(0)
}
