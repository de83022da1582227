package hist

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBucketsContiguous(t *testing.T) {
	// Every bucket's range starts right after the previous one ends, and
	// index maps both ends back to the bucket.
	for i := range nBuckets {
		lo, hi := lowest(i), highest(i)
		if lo > hi {
			t.Fatalf("bucket %d: lowest %d > highest %d", i, lo, hi)
		}
		if i > 0 && lo != highest(i-1)+1 {
			t.Fatalf("bucket %d starts at %d, previous ends at %d", i, lo, highest(i-1))
		}
		if index(lo) != i || index(hi) != i {
			t.Fatalf("bucket %d [%d,%d]: index gives %d and %d", i, lo, hi, index(lo), index(hi))
		}
	}
	if highest(nBuckets-1) != MaxValue {
		t.Fatalf("top bucket ends at %d, want MaxValue %d", highest(nBuckets-1), int64(MaxValue))
	}
}

func TestPrecision(t *testing.T) {
	for _, v := range []int64{0, 1, 255, 256, 1000, 123456, 9_999_999, 1 << 35} {
		i := index(v)
		if w := highest(i) - lowest(i); float64(w) > float64(v)/subCount+1 {
			t.Errorf("value %d: bucket width %d exceeds 1/%d of the value", v, w, subCount)
		}
	}
}

func TestQuantilesAgainstSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2)) // fixed seed: reproducible
	var h Histogram
	vals := make([]int64, 100000)
	for i := range vals {
		// Log-uniform from 1 µs to 100 ms, like latencies.
		vals[i] = int64(1000 * pow10(r.Float64()*5))
		h.Record(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := vals[int(q*float64(len(vals)))-1]
		got := h.Quantile(q)
		if d := float64(got-want) / float64(want); d < -0.01 || d > 0.01 {
			t.Errorf("q%.3f: got %d, want %d (off by %.2f%%)", q, got, want, 100*d)
		}
	}
	if h.Max() != vals[len(vals)-1] {
		t.Errorf("max %d, want %d", h.Max(), vals[len(vals)-1])
	}
	if h.Count() != uint64(len(vals)) {
		t.Errorf("count %d, want %d", h.Count(), len(vals))
	}
}

func pow10(x float64) float64 {
	v := 1.0
	for x >= 1 {
		v *= 10
		x--
	}
	// 10^x for x in [0,1) by a short series of e^(x ln 10).
	y, term := 1.0, 1.0
	for k := 1; k < 30; k++ {
		term *= x * 2.302585092994046 / float64(k)
		y += term
	}
	return v * y
}

func TestClampAndMerge(t *testing.T) {
	var a, b Histogram
	a.Record(-5)
	a.Record(10)
	b.Record(MaxValue + 1000)
	a.Merge(&b)
	if a.Count() != 3 {
		t.Fatalf("count %d, want 3", a.Count())
	}
	if a.Max() != MaxValue+1000 {
		t.Fatalf("max %d, want the exact clamped value", a.Max())
	}
	if q := a.Quantile(1); q != MaxValue+1000 {
		t.Fatalf("q1 = %d", q)
	}
	if q := a.Quantile(0); q != 0 {
		t.Fatalf("q0 = %d, want 0 (negative recorded as zero)", q)
	}
	var e Histogram
	if e.Quantile(0.5) != 0 || e.Mean() != 0 {
		t.Fatal("empty histogram should report zeros")
	}
}

func TestRecordAllocs(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(1000, func() { h.Record(12345) }); n != 0 {
		t.Fatalf("Record allocates %v times", n)
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	v := int64(1)
	for b.Loop() {
		h.Record(v)
		v = v*3 + 7&0xFFFFFF
	}
}
