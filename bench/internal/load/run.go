package load

import (
	"context"
	crand "crypto/rand"
	"math/rand/v2"
	"net"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rfc6455/ws/bench/internal/hist"
	"github.com/rfc6455/ws/bench/internal/payload"
	"github.com/rfc6455/ws/deflate"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/handshake"
)

// runner holds what the connections of a run share.
type runner struct {
	cfg    Config
	u      *url.URL
	base   time.Time // origin of the monotonic clock below
	bodies [][]byte  // the message payloads, sent in turn
	plain  frameSet  // uncompressed frames
	window int       // most frames sent in one write
	op     frame.Opcode

	// With Compress: the compressed frames for each client window size a
	// server chose, built by the first connection that needs them.
	mu       sync.Mutex
	deflated [deflate.MaxWindowBits + 1]*frameSet
	ext      atomic.Pointer[string] // the first connection's negotiated extension
	extMixed atomic.Bool            // another connection negotiated differently

	goAt      atomic.Int64 // when traffic starts (ns since base), 0 until all are connected
	phase     atomic.Int32 // phaseConnecting … (progress.go)
	phaseAt   atomic.Int64 // when the phase began (ns since base)
	measuring atomic.Bool
	stopping  atomic.Bool
	connected atomic.Int64
	errs      errorCounts
	hists     []hist.Histogram // shards, indexed by connection
	stats     []connStats      // per connection
}

// frameSet is pre-masked frames back to back: frame i carries body
// i mod ring, for i in [0, ring+window), so that the window frames after
// any position are one contiguous slice. offs[i] is where frame i starts;
// offs[ring+window] is the end.
type frameSet struct {
	frames []byte
	offs   []int
	ring   int
}

// connStats are a connection's counters, padded to a cache line so that
// connections on different CPUs do not share one.
type connStats struct {
	msgs, bytes           atomic.Uint64 // echoes received while measuring
	compressed            atomic.Uint64 // of which compressed (RSV1)
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
	r.bodies = bodies(c)
	r.plain = r.buildFrames(r.bodies, 0)
	r.hists = make([]hist.Histogram, min(c.Conns, 4*runtime.GOMAXPROCS(0)))
	r.stats = make([]connStats, c.Conns)
	raiseFileLimit(c.Conns)
	// In idle mode the echoes counted are those of the warm-up.
	r.measuring.Store(c.Idle)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	conns := make([]net.Conn, c.Conns) // idle mode keeps them here
	sem := make(chan struct{}, 256)    // openings (handshake and any idle warm-up) in progress at once
	start := time.Now()
	stopProgress := r.progress(ctx)
	defer stopProgress()
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
			err := w.open(ctx)
			if err == nil && c.Idle {
				err = w.idle(ctx)
			}
			<-sem
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
	defer r.reportCompression(rep)
	if c.Idle {
		wg.Wait()
		r.setPhase(phaseHolding)
		rep.ConnectSeconds = time.Since(start).Seconds()
		rep.Connected = int(r.connected.Load())
		for i := range r.stats {
			rep.Messages += r.stats[i].msgs.Load()
			rep.Bytes += r.stats[i].bytes.Load()
		}
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

	r.setPhase(phaseWarmup)
	sleep(ctx, c.Warmup)
	cpu0, t0 := cpuTime(), time.Now()
	r.measuring.Store(true)
	r.setPhase(phaseMeasuring)
	r.event("measure_start")
	sleep(ctx, c.Duration)
	r.measuring.Store(false)
	cpu1, t1 := cpuTime(), time.Now()
	r.event("measure_end")
	r.setPhase(phaseDraining)
	r.stopping.Store(true)
	wg.Wait()
	stopProgress()

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

// bodies returns the message payloads. Without compression every message
// carries the same body. With it, a server compressing with context
// takeover would find an identical earlier message in its window and send
// each echo as a few bytes of back-reference, which no real traffic
// allows; so messages cycle through enough distinct bodies
// (payload.Series) to fill twice the largest window, 32 KiB (RFC 7692
// §7.1.2.1), before one repeats: up to 4096 bodies, so messages under 16
// bytes may repeat within a window.
func bodies(c *Config) [][]byte {
	n := 1
	if c.Compress && c.Size > 0 {
		n = min((64<<10)/c.Size+1, 4096)
	}
	return payload.Series(c.Size, n)
}

// buildFrames encodes ring+window frames, frame i carrying payloads[i mod
// ring] with rsv set, each masked with its own key.
func (r *runner) buildFrames(payloads [][]byte, rsv byte) frameSet {
	fs := frameSet{ring: len(payloads)}
	n := fs.ring + r.window
	size := 0
	for i := range n {
		size += frame.MaxHeaderSize + len(payloads[i%fs.ring])
	}
	fs.frames = make([]byte, 0, size)
	fs.offs = make([]int, 0, n+1)
	for i := range n {
		p := payloads[i%fs.ring]
		h := frame.Header{Fin: true, RSV: rsv, Opcode: r.op, Masked: true, Length: int64(len(p))}
		crand.Read(h.Key[:])
		fs.offs = append(fs.offs, len(fs.frames))
		fs.frames = frame.AppendHeader(fs.frames, h)
		start := len(fs.frames)
		fs.frames = append(fs.frames, p...)
		frame.Mask(h.Key, 0, fs.frames[start:])
	}
	fs.offs = append(fs.offs, len(fs.frames))
	return fs
}

// deflatedFrames returns the frames for a connection that negotiated neg:
// the bodies compressed once each, without context takeover, with the
// window the server allowed us (RFC 7692 §7.2.1), RSV1 set on each frame
// (§6).
func (r *runner) deflatedFrames(neg *negotiated) *frameSet {
	if s := neg.ext; !r.ext.CompareAndSwap(nil, &s) && *r.ext.Load() != s {
		r.extMixed.Store(true)
	}
	bits := neg.cfg.CompressWindowBits
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.deflated[bits] == nil {
		zs := make([][]byte, len(r.bodies))
		for i, b := range r.bodies {
			zs[i] = deflate.AppendCompressed(nil, b, bits, neg.cfg.Level)
		}
		fs := r.buildFrames(zs, frame.RSV1)
		r.deflated[bits] = &fs
	}
	return r.deflated[bits]
}

// reportCompression adds the outcome of the negotiation to rep.
func (r *runner) reportCompression(rep *Report) {
	if !r.cfg.Compress {
		return
	}
	cr := &CompressionReport{Offer: string(handshake.AppendExtensions(nil, []handshake.Extension{deflate.Offer(&offer)}))}
	if p := r.ext.Load(); p != nil {
		cr.Extension = *p
	}
	cr.Mixed = r.extMixed.Load()
	for i := range r.stats {
		cr.CompressedReplies += r.stats[i].compressed.Load()
	}
	r.mu.Lock()
	for _, fs := range r.deflated {
		if fs != nil {
			cr.FrameBytes = fs.offs[fs.ring] / fs.ring
			cr.Bodies = fs.ring
			break
		}
	}
	r.mu.Unlock()
	rep.Compression = cr
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

// newKeyRand returns a generator of masking keys seeded from crypto/rand:
// ChaCha8 is a cryptographically strong generator, as §5.3 asks.
func newKeyRand() *rand.ChaCha8 {
	var seed [32]byte
	crand.Read(seed[:])
	return rand.NewChaCha8(seed)
}
