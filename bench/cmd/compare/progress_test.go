package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/ws/bench/internal/stamped"
)

// TestProgressNeverSilent drives the tracker off a terminal with compare's
// own interval through a build task and two steps, the second longer than
// 5 s as compare's runs are, and checks that the output never went quiet
// for more than 5 s and that its lines say where the run is.
func TestProgressNeverSilent(t *testing.T) {
	t.Parallel()
	var out stamped.Lines
	start := time.Now()
	tr := newTracker(&out, false, progressEvery, 2, 3*time.Second)
	end := tr.task("building")
	time.Sleep(100 * time.Millisecond)
	end()
	end = tr.step("ours: first")
	time.Sleep(time.Second)
	end()
	end = tr.step("gobwas: second")
	time.Sleep(6500 * time.Millisecond)
	end()
	tr.printf("done")
	tr.close()
	stop := time.Now()

	for _, g := range out.Gaps(start, stop, 5*time.Second) {
		t.Errorf("silent for %v before line %d of %q", g.Length.Round(time.Millisecond), g.Before, out.Text)
	}
	all := strings.Join(out.Text, "\n")
	for _, want := range []string{"building", "[1/2] ours: first", "[2/2] gobwas: second: ", "s in this step, ", "elapsed, ~", "s left", "done"} {
		if !strings.Contains(all, want) {
			t.Errorf("no line contains %q; output:\n%s", want, all)
		}
	}
	if strings.Contains(all, "\r") {
		t.Errorf("carriage return off a terminal:\n%q", all)
	}
}

// TestProgressLive checks that on a terminal the progress is one line
// rewritten in place, erased before the next permanent line.
func TestProgressLive(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })
	tr := newTracker(w, true, progressEvery, 1, time.Second)
	end := tr.step("ours: only")
	time.Sleep(2500 * time.Millisecond)
	end()
	tr.printf("done")
	tr.close()
	mu.Lock()
	s := out.String()
	mu.Unlock()
	if n := strings.Count(s, "\r\033[K[1/1] ours: only: "); n < 2 {
		t.Errorf("%d live rewrites in 2.5 s, want at least 2; output %q", n, s)
	}
	// The live line is erased before "done" is logged.
	i, j := strings.LastIndex(s, "\r\033[K"), strings.Index(s, "done")
	if i < 0 || j < i || strings.Contains(s[i:j], "ours") {
		t.Errorf("the live line is not erased before the next line: %q", s)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestProgressLeft checks the estimate of what is left: the rest of the
// running step and the remaining steps at the mean of those ended, or at
// the prior before any has.
func TestProgressLeft(t *testing.T) {
	for _, tc := range []struct {
		name            string
		total, index    int
		finished        int
		spent, inStep   time.Duration
		prior, wantLeft time.Duration
	}{
		{"first step, prior", 10, 1, 0, 0, 2 * time.Second, 5 * time.Second, 3*time.Second + 9*5*time.Second},
		{"mean of ended steps", 10, 5, 4, 40 * time.Second, 4 * time.Second, 5 * time.Second, 6*time.Second + 5*10*time.Second},
		{"step over its mean", 10, 10, 9, 90 * time.Second, 15 * time.Second, time.Second, 0},
		{"more steps than counted", 2, 3, 2, 20 * time.Second, 0, time.Second, 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &tracker{total: tc.total, index: tc.index, finished: tc.finished, spent: tc.spent, prior: tc.prior}
			if got := tr.left(tc.inStep); got != tc.wantLeft {
				t.Errorf("left(%v) = %v, want %v", tc.inStep, got, tc.wantLeft)
			}
		})
	}
}

// TestSteps checks that the count of steps matches the runs of a small
// configuration: 2 sizes × 1 conns × 2 depths off and 1 scenario on, 2
// libraries, 2 repeats; one fixed-rate size; one idle count, off (ours,
// ours-raw, gobwas) and on (ours, ours-raw, ours-nct, gobwas); 2 profiles.
func TestSteps(t *testing.T) {
	o := &options{libs: []string{"ours", "gobwas"}, sizes: []int{16, 1024}, conns: []int{1}, depths: []int{1, 16},
		compressSizes: []int{1024}, compressConns: []int{1}, compressDepths: []int{16}, repeats: 2,
		rates: map[int]float64{16: 1000}, idleN: []int{10}, idleCompress: true, profile: true, maxInFlight: 256 << 20}
	want := 2*4*2 + 2*1*2 + 2*2 + 3 + 4 + 2
	if got := o.steps(); got != want {
		t.Errorf("steps() = %d, want %d", got, want)
	}
}
