package load

import (
	"strings"
	"testing"
	"time"
)

// TestProgressLine checks what each phase reports: how far it is and the
// estimate of the time left.
func TestProgressLine(t *testing.T) {
	load := Config{Conns: 10, Warmup: 2 * time.Second, Duration: 10 * time.Second}
	for _, tc := range []struct {
		name      string
		cfg       Config
		phase     int32
		open      int64
		elapsed   time.Duration // since the run started
		inPhase   time.Duration
		want, not []string
	}{
		// 5 of 10 open in 2 s: 2 s more to connect, then 2 s of warm-up
		// and 10 s of measurement.
		{"connecting", load, phaseConnecting, 5, 2 * time.Second, 0,
			[]string{"connecting", "conns 5/10", "left ~14s", "msgs/s", "errors 0"}, nil},
		{"connecting, none yet", load, phaseConnecting, 0, time.Second, 0,
			[]string{"conns 0/10"}, []string{"left"}},
		{"warm-up", load, phaseWarmup, 10, 3 * time.Second, time.Second,
			[]string{"warm-up", "1s/2s", "conns 10/10", "left ~11s"}, nil},
		{"measuring", load, phaseMeasuring, 10, 9 * time.Second, 4 * time.Second,
			[]string{"measuring", "4s/10s", "left ~6s"}, nil},
		{"holding", Config{Conns: 3, Idle: true, Duration: time.Minute}, phaseHolding, 3, 21 * time.Second, 20 * time.Second,
			[]string{"holding", "20s/60s", "conns 3/3", "left ~40s"}, []string{"msgs/s"}},
		{"holding until interrupted", Config{Conns: 3, Idle: true}, phaseHolding, 3, 21 * time.Second, 20 * time.Second,
			[]string{"until interrupted"}, []string{"left"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &runner{cfg: tc.cfg.withDefaults(), base: time.Now().Add(-tc.elapsed)}
			r.stats = make([]connStats, r.cfg.Conns)
			r.connected.Store(tc.open)
			r.phase.Store(tc.phase)
			r.phaseAt.Store(int64(tc.elapsed - tc.inPhase))
			line := r.progressLine(&progressState{}, time.Second)
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("%q lacks %q", line, w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(line, w) {
					t.Errorf("%q has %q", line, w)
				}
			}
		})
	}
}
