package autobahn

import (
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// lockedBuffer is a strings.Builder safe for the heartbeat goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSuffix(l.b.String(), "\n"), "\n")
}

// Off a terminal, a line is written at least every Interval while cases
// run, even when none finishes, with the elapsed time and an estimate of
// what is left, and one when the last case is done.
func TestLineProgressNeverSilent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out lockedBuffer
		p := &LineProgress{W: &out}
		p.Progress(1, 4, "1.1.1", "testee") // the clock starts, with a first line
		time.Sleep(2 * time.Second)
		p.Progress(2, 4, "1.1.2", "testee")
		time.Sleep(11 * time.Second) // a long case: two heartbeats
		synctest.Wait()
		p.Progress(4, 4, "9.1.1", "testee") // the last: always a line
		p.Done()
		want := []string{
			"[1/4] 0s elapsed, ~0s left; last 1.1.1 testee",
			"[2/4] 5s elapsed, ~5s left; last 1.1.2 testee",
			"[2/4] 10s elapsed, ~10s left; last 1.1.2 testee",
			"[4/4] 13s elapsed, ~0s left; last 9.1.1 testee",
		}
		got := out.lines()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("progress lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
