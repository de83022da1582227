package load

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rfc6455/ws/bench/internal/hist"
)

// The phases of a run, in order; an idle run goes from connecting to
// holding.
const (
	phaseConnecting int32 = iota
	phaseWarmup
	phaseMeasuring
	phaseDraining
	phaseHolding
)

var phaseNames = [...]string{"connecting", "warm-up", "measuring", "draining", "holding"}

func (r *runner) setPhase(p int32) {
	r.phaseAt.Store(r.now())
	r.phase.Store(p)
}

// progress reports the run to Config.Progress every ProgressEvery until
// the returned function is called (any number of times).
func (r *runner) progress(ctx context.Context) func() {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(r.cfg.ProgressEvery)
		defer t.Stop()
		var p progressState
		last := time.Now()
		for {
			select {
			case <-done:
				if r.cfg.ProgressLive {
					fmt.Fprintln(r.cfg.Progress)
				}
				return
			case <-ctx.Done():
				if r.cfg.ProgressLive {
					fmt.Fprintln(r.cfg.Progress)
				}
				return
			case now := <-t.C:
				line := r.progressLine(&p, now.Sub(last))
				last = now
				if r.cfg.ProgressLive {
					fmt.Fprintf(r.cfg.Progress, "\r\033[K%s", line) // clear what a longer line left
				} else {
					fmt.Fprintln(r.cfg.Progress, line)
				}
			}
		}
	})
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

// progressState carries the counters of the previous report.
type progressState struct {
	msgs, bytes uint64
	all         hist.Histogram
}

// progressLine describes the run now; interval is the time since the
// previous report, for rates.
func (r *runner) progressLine(p *progressState, interval time.Duration) string {
	c := &r.cfg
	now := r.now()
	elapsed := time.Duration(now)
	phase := r.phase.Load()
	inPhase := time.Duration(now - r.phaseAt.Load())
	if phase == phaseConnecting {
		inPhase = elapsed
	}
	opened := r.connected.Load()
	failed := int64(r.errs.total())

	var b strings.Builder
	fmt.Fprintf(&b, "wsbench %s %-10s", fmtSeconds(elapsed), phaseNames[phase])
	// What follows this phase, for the estimate of the time left.
	after := c.Warmup + c.Duration
	if c.Idle {
		after = c.Duration
	}
	left := time.Duration(-1) // unknown
	switch phase {
	case phaseConnecting:
		fmt.Fprintf(&b, " conns %d/%d", opened, c.Conns)
		if settled := opened + failed; settled > 0 {
			perConn := elapsed / time.Duration(settled)
			left = max(perConn*time.Duration(int64(c.Conns)-settled), c.Ramp-elapsed) + after
		}
	case phaseWarmup:
		fmt.Fprintf(&b, " %s/%s conns %d/%d", fmtSeconds(inPhase), fmtSeconds(c.Warmup), opened, c.Conns)
		left = c.Warmup - inPhase + c.Duration
	case phaseMeasuring:
		fmt.Fprintf(&b, " %s/%s conns %d/%d", fmtSeconds(inPhase), fmtSeconds(c.Duration), opened, c.Conns)
		left = c.Duration - inPhase
	case phaseDraining:
		fmt.Fprintf(&b, " conns %d/%d", opened, c.Conns)
		left = c.DrainTimeout - inPhase
	case phaseHolding:
		if c.Duration > 0 {
			fmt.Fprintf(&b, " %s/%s", fmtSeconds(inPhase), fmtSeconds(c.Duration))
			left = c.Duration - inPhase
		} else {
			b.WriteString(" until interrupted")
		}
		fmt.Fprintf(&b, " conns %d/%d", opened, c.Conns)
	}
	if left >= 0 {
		fmt.Fprintf(&b, "  left ~%s", fmtSeconds(left))
	}

	var msgs, bytes uint64
	for i := range r.stats {
		msgs += r.stats[i].totalMsgs.Load()
		bytes += r.stats[i].totalBytes.Load()
	}
	if !c.Idle {
		p.all.Reset()
		for i := range r.hists {
			p.all.Merge(&r.hists[i])
		}
		secs := max(interval.Seconds(), 1e-3)
		fmt.Fprintf(&b, "  %9.0f msgs/s %7.1f MB/s  p99 %s",
			float64(msgs-p.msgs)/secs, float64(bytes-p.bytes)/secs/1e6,
			time.Duration(p.all.Quantile(0.99)).Round(time.Microsecond))
	}
	fmt.Fprintf(&b, "  errors %d", failed)
	p.msgs, p.bytes = msgs, bytes
	return b.String()
}

// fmtSeconds rounds d to whole seconds, at least 0.
func fmtSeconds(d time.Duration) string {
	return fmt.Sprintf("%ds", int64(max(d, 0)+time.Second/2)/int64(time.Second))
}
