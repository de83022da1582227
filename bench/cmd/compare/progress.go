package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"time"
)

// A compare run is a fixed list of steps (wsbench runs, idle-memory
// measurements, profiles), each lasting a few to tens of seconds. The
// tracker says which step is running and, while it runs, how long it and
// the whole compare have taken and about how long is left, so that the
// output never stays silent for more than 5 s (issue 21): off a terminal
// a plain line every progressEvery, on a terminal one line rewritten
// every second, the way wsbench reports its own phases.

// progressEvery is the interval of progress lines off a terminal: under
// 5 s, so that a log never goes quiet longer than that.
const progressEvery = 4 * time.Second

// liveEvery is the interval at which the live line on a terminal is
// rewritten.
const liveEvery = time.Second

// tracker reports compare's progress to w. Its methods are safe for
// concurrent use; a nil *tracker reports nothing.
type tracker struct {
	mu    sync.Mutex
	w     io.Writer
	log   *log.Logger
	live  bool          // w is a terminal: rewrite one line
	every time.Duration // interval of progress lines
	prior time.Duration // expected length of a step, until one has ended
	start time.Time

	total, index int           // steps in all, and the one running (1-based)
	label        string        // the running step or task; "" when none
	counted      bool          // the running step counts in total
	stepStart    time.Time     // when it began
	finished     int           // counted steps ended
	spent        time.Duration // their total time
	lineShown    bool          // a live line is on the terminal
	lastWrite    time.Time     // when the last line was written

	stop chan struct{}
	wg   sync.WaitGroup
}

// newTracker returns a tracker of total steps writing to w: a live line
// when live, otherwise a plain line every `every`. prior is the expected
// length of a step, the basis of the estimate of what is left until the
// first step ends. Stop it with close.
func newTracker(w io.Writer, live bool, every time.Duration, total int, prior time.Duration) *tracker {
	if live {
		every = liveEvery
	}
	t := &tracker{w: w, log: log.New(w, "", log.LstdFlags), live: live, every: every,
		prior: prior, start: time.Now(), total: total, stop: make(chan struct{})}
	t.wg.Go(t.tick)
	return t
}

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// close stops the reports and clears the live line.
func (t *tracker) close() {
	close(t.stop)
	t.wg.Wait()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clearLine()
}

// printf logs a permanent line, below which the live line is redrawn.
func (t *tracker) printf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clearLine()
	t.log.Printf(format, args...)
	t.lastWrite = time.Now()
}

// step announces the next of the total steps and returns the function
// that ends it.
func (t *tracker) step(format string, args ...any) (end func()) {
	return t.begin(true, fmt.Sprintf(format, args...))
}

// task announces work outside the counted steps (building the binaries)
// and returns the function that ends it.
func (t *tracker) task(format string, args ...any) (end func()) {
	return t.begin(false, fmt.Sprintf(format, args...))
}

func (t *tracker) begin(counted bool, label string) func() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clearLine()
	now := time.Now()
	if counted {
		t.index++
		t.log.Printf("[%d/%d] %s", t.index, t.total, label)
	} else {
		t.log.Print(label)
	}
	t.label, t.counted, t.stepStart, t.lastWrite = label, counted, now, now
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			if counted {
				t.finished++
				t.spent += time.Since(now)
			}
			t.label = ""
			t.clearLine()
		})
	}
}

// tick writes a progress line while a step runs, t.every after the last
// line written.
func (t *tracker) tick() {
	tm := time.NewTimer(t.every)
	defer tm.Stop()
	for {
		select {
		case <-t.stop:
			return
		case now := <-tm.C:
			t.mu.Lock()
			next := t.lastWrite.Add(t.every).Sub(now)
			if next <= 0 {
				if t.label != "" {
					line := t.line(now)
					if t.live {
						fmt.Fprintf(t.w, "\r\033[K%s", line)
						t.lineShown = true
					} else {
						t.log.Print(line)
					}
				}
				t.lastWrite, next = now, t.every
			}
			t.mu.Unlock()
			tm.Reset(next)
		}
	}
}

// line describes the running step at now: where it is in the list, its
// time so far, the whole run's, and an estimate of what is left.
func (t *tracker) line(now time.Time) string {
	inStep := now.Sub(t.stepStart)
	elapsed := now.Sub(t.start)
	if !t.counted {
		return fmt.Sprintf("%s: %s, %s elapsed", t.label, fmtDuration(inStep), fmtDuration(elapsed))
	}
	return fmt.Sprintf("[%d/%d] %s: %s in this step, %s elapsed, ~%s left", t.index, t.total, t.label,
		fmtDuration(inStep), fmtDuration(elapsed), fmtDuration(t.left(inStep)))
}

// left estimates the time left: the rest of the running step and the
// steps after it, each as long as the mean of those that ended (or
// prior, before any has).
func (t *tracker) left(inStep time.Duration) time.Duration {
	mean := t.prior
	if t.finished > 0 {
		mean = t.spent / time.Duration(t.finished)
	}
	return max(mean-inStep, 0) + mean*time.Duration(max(t.total-t.index, 0))
}

// clearLine erases the live line, if one is shown; t.mu is held.
func (t *tracker) clearLine() {
	if t.lineShown {
		fmt.Fprint(t.w, "\r\033[K")
		t.lineShown = false
	}
}

// fmtDuration rounds d to whole seconds and writes it as 1h2m3s does,
// without the zero units: "45s", "3m12s".
func fmtDuration(d time.Duration) string {
	return max(d, 0).Round(time.Second).String()
}
