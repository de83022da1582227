package load

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rfc6455/ws/bench/internal/hist"
	"github.com/rfc6455/ws/frame"
)

// runner holds what the connections of a run share.
type runner struct {
	cfg    Config
	u      *url.URL
	base   time.Time // origin of the monotonic clock below
	frames []byte    // 2*window pre-masked frames
	fsize  int       // bytes per encoded frame
	window int       // most frames sent in one write
	op     frame.Opcode

	goAt      atomic.Int64 // when traffic starts (ns since base), 0 until all are connected
	measuring atomic.Bool
	stopping  atomic.Bool
	connected atomic.Int64
	errs      errorCounts
	hists     []hist.Histogram // shards, indexed by connection
	stats     []connStats      // per connection
}

// connStats are a connection's counters, padded to a cache line so that
// connections on different CPUs do not share one.
type connStats struct {
	msgs, bytes           atomic.Uint64 // echoes received while measuring
	totalMsgs, totalBytes atomic.Uint64 // echoes received, for progress
	_                     [32]byte
}

func (r *runner) now() int64 { return int64(time.Since(r.base)) }

// Run carries out cfg until it completes or ctx ends, and reports.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg.withDefaults(), base: time.Now()}
	r.u, _ = url.Parse(r.cfg.URL)
	if r.u.Path == "" {
		r.u.Path = "/"
	}
	c := &r.cfg
	r.op = frame.OpBinary
	if c.Text {
		r.op = frame.OpText
	}
	r.window = c.Depth
	r.buildFrames()
	r.hists = make([]hist.Histogram, min(c.Conns, 4*runtime.GOMAXPROCS(0)))
	r.stats = make([]connStats, c.Conns)
	raiseFileLimit(c.Conns)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	conns := make([]net.Conn, c.Conns) // idle mode keeps them here
	sem := make(chan struct{}, 256)    // handshakes in progress at once
	start := time.Now()
	for i := range c.Conns {
		if c.Ramp > 0 {
			at := start.Add(time.Duration(int64(c.Ramp) * int64(i) / int64(c.Conns)))
			if d := time.Until(at); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
				}
			}
		}
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			w := &worker{r: r, id: i}
			err := w.open(ctx, sem)
			if err != nil {
				r.errs.add(err)
				return
			}
			r.connected.Add(1)
			if c.Idle {
				conns[i] = w.nc
				return
			}
			w.run(ctx)
		})
	}

	rep := &Report{Config: reportConfig(c)}
	if c.Idle {
		wg.Wait()
		rep.ConnectSeconds = time.Since(start).Seconds()
		rep.Connected = int(r.connected.Load())
		r.event("ready")
		if c.Duration > 0 {
			select {
			case <-time.After(c.Duration):
			case <-ctx.Done():
			}
		} else {
			<-ctx.Done()
		}
		for _, nc := range conns {
			if nc != nil {
				nc.Close()
			}
		}
		rep.Errors, rep.ErrorExamples = r.errs.snapshot()
		return rep, nil
	}

	// Wait for every connection to be open (or failed), then start.
	for r.connected.Load()+int64(r.errs.total()) < int64(c.Conns) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	rep.ConnectSeconds = time.Since(start).Seconds()
	rep.Connected = int(r.connected.Load())
	r.event("ready")
	r.goAt.Store(r.now())

	stopProgress := r.progress(ctx)
	sleep(ctx, c.Warmup)
	cpu0, t0 := cpuTime(), time.Now()
	r.measuring.Store(true)
	r.event("measure_start")
	sleep(ctx, c.Duration)
	r.measuring.Store(false)
	cpu1, t1 := cpuTime(), time.Now()
	r.event("measure_end")
	r.stopping.Store(true)
	stopProgress()
	wg.Wait()

	rep.Seconds = t1.Sub(t0).Seconds()
	var all hist.Histogram
	for i := range r.hists {
		all.Merge(&r.hists[i])
	}
	for i := range r.stats {
		rep.Messages += r.stats[i].msgs.Load()
		rep.Bytes += r.stats[i].bytes.Load()
	}
	rep.MsgsPerSec = float64(rep.Messages) / rep.Seconds
	rep.MBPerSec = float64(rep.Bytes) / rep.Seconds / 1e6
	rep.Latency = latencyOf(&all)
	rep.Errors, rep.ErrorExamples = r.errs.snapshot()
	rep.ClientCPUSeconds = (cpu1 - cpu0).Seconds()
	rep.ClientCPUs = runtime.GOMAXPROCS(0)
	rep.ClientCPUUtil = rep.ClientCPUSeconds / (rep.Seconds * float64(rep.ClientCPUs))
	return rep, nil
}

func (r *runner) event(name string) {
	if r.cfg.Event != nil {
		r.cfg.Event(name)
	}
}

// buildFrames encodes 2*window frames back to back, each masked with its
// own key.
func (r *runner) buildFrames() {
	c := &r.cfg
	payload := Payload(c.Size, c.Text)
	h := frame.Header{Fin: true, Opcode: r.op, Masked: true, Length: int64(c.Size)}
	r.fsize = h.Size() + c.Size
	r.frames = make([]byte, 0, 2*r.window*r.fsize)
	for range 2 * r.window {
		crand.Read(h.Key[:])
		r.frames = frame.AppendHeader(r.frames, h)
		start := len(r.frames)
		r.frames = append(r.frames, payload...)
		frame.Mask(h.Key, 0, r.frames[start:])
	}
}

// Payload returns the message payload: for text, printable ASCII (valid
// UTF-8) shaped like JSON; for binary, a byte ramp.
func Payload(n int, text bool) []byte {
	p := make([]byte, n)
	const js = `{"id":12345,"user":"someone","text":"hello, world","ok":true},`
	for i := range p {
		if text {
			p[i] = js[i%len(js)]
		} else {
			p[i] = byte(i * 7)
		}
	}
	return p
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// cpuTime returns the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// raiseFileLimit raises the soft limit on open files as far as the hard
// limit allows (Go already does this at start-up on Linux; an explicit call
// documents the need and tries the hard limit too, which works only with
// privilege).
func raiseFileLimit(conns int) {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return
	}
	want := uint64(conns) + 256
	if lim.Max < want {
		try := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &try) == nil {
			return
		}
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// FileLimit returns the current soft limit on open files.
func FileLimit() uint64 {
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	return lim.Cur
}

// progress prints a status line every second until the returned function
// is called.
func (r *runner) progress(ctx context.Context) func() {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		start := time.Now()
		var lastMsgs, lastBytes uint64
		var all hist.Histogram
		for {
			select {
			case <-done:
				fmt.Fprintln(r.cfg.Progress)
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var msgs, bytes uint64
			for i := range r.stats {
				msgs += r.stats[i].totalMsgs.Load()
				bytes += r.stats[i].totalBytes.Load()
			}
			all.Reset()
			for i := range r.hists {
				all.Merge(&r.hists[i])
			}
			phase := "warm-up"
			if r.measuring.Load() {
				phase = "measuring"
			}
			fmt.Fprintf(r.cfg.Progress, "\r%4.0fs %-9s conns %d  %10.0f msgs/s  %8.1f MB/s  p99 %-9s errors %d   ",
				time.Since(start).Seconds(), phase, r.connected.Load(),
				float64(msgs-lastMsgs), float64(bytes-lastBytes)/1e6,
				time.Duration(all.Quantile(0.99)).Round(time.Microsecond), r.errs.total())
			lastMsgs, lastBytes = msgs, bytes
		}
	})
	return func() { close(done); wg.Wait() }
}

// newKeyRand returns a generator of masking keys seeded from crypto/rand:
// ChaCha8 is a cryptographically strong generator, as §5.3 asks.
func newKeyRand() *rand.ChaCha8 {
	var seed [32]byte
	crand.Read(seed[:])
	return rand.NewChaCha8(seed)
}
