package autobahn

import (
	"net"
	"sync"
	"time"

	"github.com/rfc6455/ws/autobahn/engine"
)

// netEnv runs an engine.Session over a net.Conn: one goroutine runs the
// session and its timers, one reads, one writes. Writes never block the
// session, so a testee that echoes while the suite is still sending cannot
// deadlock it.
type netEnv struct {
	conn   net.Conn
	events chan func()
	done   chan struct{}

	mu      sync.Mutex
	cond    *sync.Cond
	wq      [][]byte
	closing bool // graceful drop: close after the queue is written
	aborted bool
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
	s := engine.NewSession(cfg)
	go e.writer()
	go e.reader(s)
	var wd *time.Timer
	if watchdog > 0 {
		wd = time.AfterFunc(watchdog, func() { e.post(s.Watchdog) })
	}
	s.Start()
	for {
		select {
		case f := <-e.events:
			f()
			continue
		case <-finished:
		}
		break
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
	return s
}
