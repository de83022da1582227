package autobahn

import (
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/rfc6455/ws/autobahn/engine"
)

// netEnv runs an engine.Session over a net.Conn: one goroutine runs the
// session and its timers, one reads, one writes. Writes never block the
// session, so a testee that echoes while the suite is still sending cannot
// deadlock it.
//
// The connection is set up by the callers (Client.dial, Server.Serve);
// from here on only a net.Conn is needed.
type netEnv struct {
	conn   net.Conn
	events chan func()
	done   chan struct{}

	// soon holds the timers shorter than shortDelay (the 10 µs between
	// chopped writes); the session goroutine runs them itself, read and
	// written on that goroutine only.
	soon []*shortTimer

	mu      sync.Mutex
	cond    *sync.Cond
	wq      [][]byte
	closing bool // graceful drop: close after the queue is written
	aborted bool

	// cpu adds up the CPU time of the session's steps (see step), on the
	// session goroutine only; measured reports whether any step could be
	// measured.
	cpu      time.Duration
	measured bool
}

// shortTimer bounds the delays the session goroutine waits for itself
// instead of going through a runtime timer, which on an idle machine can
// fire a millisecond late: a 1 MiB message chopped into 64-octet writes
// 10 µs apart (cases 9.5.1 and 9.6.1) would take 16 s instead of 0.2 s.
const shortDelay = time.Millisecond

type shortTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newNetEnv(conn net.Conn) *netEnv {
	e := &netEnv{conn: conn, events: make(chan func(), 64), done: make(chan struct{})}
	e.cond = sync.NewCond(&e.mu)
	return e
}

func (e *netEnv) Post(f func()) { e.post(f) }

func (e *netEnv) post(f func()) {
	select {
	case e.events <- f:
	case <-e.done:
	}
}

func (e *netEnv) Now() time.Time { return time.Now() }

func (e *netEnv) AfterFunc(d time.Duration, f func()) func() {
	if d < shortDelay {
		t := &shortTimer{at: time.Now().Add(d), f: f}
		e.soon = append(e.soon, t)
		return func() { t.stopped = true }
	}
	stopped := false // read and written on the session goroutine only
	t := time.AfterFunc(d, func() {
		e.post(func() {
			if !stopped {
				f()
			}
		})
	})
	return func() {
		stopped = true
		t.Stop()
	}
}

// runDueShortTimer runs the first short timer that is due, if any, and
// reports whether short timers are pending.
func (e *netEnv) runDueShortTimer() bool {
	for len(e.soon) > 0 && e.soon[0].stopped {
		e.soon = e.soon[1:]
	}
	if len(e.soon) == 0 {
		return false
	}
	// Timers are added in the order they fire: all have the same delay.
	if t := e.soon[0]; !time.Now().Before(t.at) {
		e.soon[0] = nil
		e.soon = e.soon[1:]
		e.step(t.f)
	}
	return true
}

func (e *netEnv) Write(p []byte) {
	e.mu.Lock()
	if !e.closing && !e.aborted {
		e.wq = append(e.wq, p)
		e.cond.Signal()
	}
	e.mu.Unlock()
}

// dropGrace bounds how long a graceful drop waits for queued bytes to go.
const dropGrace = 2 * time.Second

func (e *netEnv) Drop(abort bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if abort {
		e.aborted = true
		e.wq = nil
		e.conn.Close()
	} else {
		e.closing = true
		e.conn.SetWriteDeadline(time.Now().Add(dropGrace))
	}
	e.cond.Signal()
}

// step runs f, a step of the session, and adds the CPU time it took to
// e.cpu. A step never blocks, so its thread runs nothing else meanwhile;
// a step that the scheduler moved to another thread is not counted.
func (e *netEnv) step(f func()) {
	start, tid, ok := threadCPU()
	f()
	if end, tid2, ok2 := threadCPU(); ok && ok2 && tid == tid2 {
		e.cpu += end - start
		e.measured = true
	}
}

func (e *netEnv) writer() {
	for {
		e.mu.Lock()
		for len(e.wq) == 0 && !e.closing && !e.aborted {
			e.cond.Wait()
		}
		if e.aborted || (e.closing && len(e.wq) == 0) {
			e.mu.Unlock()
			e.conn.Close()
			return
		}
		p := e.wq[0]
		e.wq[0] = nil
		e.wq = e.wq[1:]
		e.mu.Unlock()
		if _, err := e.conn.Write(p); err != nil {
			// The peer is gone for writing. Stop sending but keep the
			// connection open for the reader: what the peer sent before
			// it closed (an echo, a close frame) is still to be read.
			e.mu.Lock()
			e.aborted = true
			e.wq = nil
			e.mu.Unlock()
			return
		}
	}
}

func (e *netEnv) reader(s *engine.Session) {
	buf := make([]byte, 64<<10)
	for {
		n, err := e.conn.Read(buf)
		if n > 0 {
			p := append([]byte(nil), buf[:n]...)
			e.post(func() { s.Receive(p) })
		}
		if err != nil {
			e.post(s.ConnectionLost)
			return
		}
	}
}

// runSession drives a session over conn until the connection is lost. The
// watchdog drops a connection whose case runs longer than any of its waits
// could explain.
//
// The result goes to cfg.Done when the session sees the connection end,
// with SuiteCPU set to the CPU time of the session's steps: the suite's
// own work for the case (parsing, unmasking, inflating and checking,
// compressing, framing), where the platform can measure it. The system
// calls that move the octets, and the copy of what is read, are not in
// it: they run on the reading and writing goroutines.
func runSession(conn net.Conn, cfg engine.Config, watchdog time.Duration) *engine.Session {
	e := newNetEnv(conn)
	cfg.Env = e
	finished := make(chan struct{})
	lost := cfg.Lost
	cfg.Lost = func(s *engine.Session) {
		if lost != nil {
			lost(s)
		}
		close(finished)
	}
	if done := cfg.Done; done != nil {
		cfg.Done = func(r *engine.Result) {
			if e.measured {
				r.SuiteCPU = float64(e.cpu) / float64(time.Millisecond)
			}
			done(r)
		}
	}
	s := engine.NewSession(cfg)
	var ioDone sync.WaitGroup
	ioDone.Add(2)
	go func() {
		defer ioDone.Done()
		e.writer()
	}()
	go func() {
		defer ioDone.Done()
		e.reader(s)
	}()
	var wd *time.Timer
	if watchdog > 0 {
		wd = time.AfterFunc(watchdog, func() { e.post(s.Watchdog) })
	}
	e.step(s.Start)
	for running := true; running; {
		if e.runDueShortTimer() {
			// Between chopped writes: keep looking at the clock, and at
			// the connection, without blocking.
			select {
			case f := <-e.events:
				e.step(f)
			case <-finished:
				running = false
			default:
				runtime.Gosched()
			}
			continue
		}
		select {
		case f := <-e.events:
			e.step(f)
		case <-finished:
			running = false
		}
	}
	if wd != nil {
		wd.Stop()
	}
	close(e.done)
	conn.Close()
	e.mu.Lock()
	e.aborted = true
	e.cond.Signal()
	e.mu.Unlock()
	ioDone.Wait()
	return s
}
