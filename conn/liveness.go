package conn

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/ws/frame"
)

// Liveness: releasing connections whose peer has gone without closing.
//
// A peer can vanish (its host gone, a NAT entry dropped) or stall (alive,
// but no longer reading or answering) and keep its TCP connection open
// for as long as it likes. Two mechanisms bound what that costs, both on
// by default (Options.WriteTimeout, Options.KeepAliveInterval):
//
//   - The write timeout fails a write that cannot make progress: a peer
//     that stops reading fills the socket's buffers, and the writer would
//     otherwise wait forever, holding its goroutine and its message.
//   - The keepalive pings a connection every interval and closes it when
//     nothing comes back while the application is waiting to read, so
//     that a quiet but live peer stays connected and a dead one is
//     released.
//
// Both run on one timer per connection and a few words of state, not a
// goroutine: an idle connection costs no stack for them, and a write reads
// no clock.

// liveness holds the state of both mechanisms. A Conn allocates it in New
// unless the application turned both off.
type liveness struct {
	c            *Conn
	writeTimeout time.Duration

	// While a keepalive ping is unanswered (awaiting), the reader counts
	// in heard every read from the network that returns bytes and every
	// control frame it handles: any of them after the ping proves the
	// peer alive. Otherwise it only loads awaiting, so that reads cost no
	// atomic store on the hot path.
	awaiting atomic.Bool
	heard    atomic.Uint32

	// stale says that the rolling write deadline is unset or less than
	// half a WriteTimeout ahead: the next write moves it. Writers load it
	// before each write to the network and read no clock otherwise.
	stale atomic.Bool

	mu       sync.Mutex // guards the rest, and setting the write deadline
	timer    *time.Timer
	staleAt  time.Time // when the rolling deadline goes stale; zero: not pending
	keepAt   time.Time // when the keepalive looks next; zero: keepalive off
	rollWall int64     // the rolling write deadline, unix nanoseconds; 0: none
	seen     uint32    // heard when the ping went out
	suspect  bool      // silent through the timeout while a read waited: one short look more
	stopped  bool
}

// keepAlivePayload marks keepalive pings; Ping's 8-byte ids never match it.
var keepAlivePayload = []byte("keepalive")

// startLiveness sets up the write timeout and the keepalive as the options
// ask, and nothing when both are off.
func (c *Conn) startLiveness() {
	o := &c.opts
	if o.WriteTimeout <= 0 && o.KeepAliveInterval <= 0 {
		return
	}
	l := &liveness{c: c, writeTimeout: max(o.WriteTimeout, 0)}
	l.stale.Store(true)
	c.live = l
	if o.KeepAliveInterval > 0 {
		l.mu.Lock()
		l.keepAt = time.Now().Add(o.KeepAliveInterval)
		l.timer = time.AfterFunc(o.KeepAliveInterval, l.fire)
		l.mu.Unlock()
	}
}

// heardFromPeer tells the keepalive, while it waits for an answer to its
// ping, that the reader got input: bytes from the network or a control
// frame. Only the reader calls it.
func (c *Conn) heardFromPeer() {
	if l := c.live; l != nil && l.awaiting.Load() {
		l.heard.Store(l.heard.Load() + 1)
	}
}

// beforeNetWrite keeps the rolling write deadline at least half a
// WriteTimeout ahead. Writers call it before each write to the network,
// under the wire; all but one call in half a timeout load a flag and
// return (reading the clock costs more than the rest of a small message's
// bookkeeping).
func (c *Conn) beforeNetWrite() {
	l := c.live
	if l == nil || l.writeTimeout <= 0 || !l.stale.Load() {
		return
	}
	l.stale.Store(false)
	now := time.Now()
	l.mu.Lock()
	l.rollWall = now.Add(l.writeTimeout).UnixNano()
	c.applyWriteDeadlineLocked()
	l.staleAt = now.Add(l.writeTimeout / 2)
	l.arm(now)
	l.mu.Unlock()
}

// applyWriteDeadline sets the connection's write deadline to the earlier
// of the application's (SetWriteDeadline) and the rolling one.
func (c *Conn) applyWriteDeadline() error {
	l := c.live
	if l == nil {
		return c.nc.SetWriteDeadline(fromUnixNano(c.writeDeadline.Load()))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return c.applyWriteDeadlineLocked()
}

// applyWriteDeadlineLocked is applyWriteDeadline for a caller holding
// c.live.mu.
func (c *Conn) applyWriteDeadlineLocked() error {
	d := c.writeDeadline.Load()
	if roll := c.live.rollWall; roll != 0 && (d == 0 || roll < d) {
		d = roll
	}
	return c.nc.SetWriteDeadline(fromUnixNano(d))
}

// arm sets the timer for the earlier of the pending events. The caller
// holds l.mu.
func (l *liveness) arm(now time.Time) {
	next := l.keepAt
	if !l.staleAt.IsZero() && (next.IsZero() || l.staleAt.Before(next)) {
		next = l.staleAt
	}
	if next.IsZero() || l.stopped {
		return
	}
	if l.timer == nil {
		l.timer = time.AfterFunc(next.Sub(now), l.fire)
		return
	}
	l.timer.Reset(next.Sub(now))
}

// fire is the timer: it marks the rolling write deadline stale when its
// time has come, and runs the keepalive when its has.
func (l *liveness) fire() {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return
	}
	now := time.Now()
	if !l.staleAt.IsZero() && !now.Before(l.staleAt) {
		l.staleAt = time.Time{}
		l.stale.Store(true)
	}
	var ping bool
	if !l.keepAt.IsZero() && !now.Before(l.keepAt) {
		var dead bool
		if ping, dead = l.keepAlive(now); dead {
			l.stopped = true
			l.mu.Unlock()
			l.expire()
			return
		}
	}
	l.arm(now)
	l.mu.Unlock()
	if ping {
		c := l.c
		c.writeControl(frame.OpPing, keepAlivePayload, c.opts.KeepAliveTimeout)
	}
}

// keepAlive takes the keepalive's step and schedules the next. Without a
// ping outstanding, it asks for one. With one outstanding, it decides:
// input heard since the ping means the peer is alive; silence while the
// application is not reading says nothing (the input would not have been
// read), so it looks again after another timeout; silence while a read
// waits means the peer is gone, once a short second look (a quarter of
// the timeout, at most a second) confirms that the read is still waiting
// and still hears nothing, since a read that began a moment ago may be
// about to read the answer. The caller holds l.mu.
func (l *liveness) keepAlive(now time.Time) (ping, dead bool) {
	c := l.c
	o := &c.opts
	heard := l.heard.Load()
	switch {
	case !l.awaiting.Load():
		l.seen = heard
		l.awaiting.Store(true)
		l.keepAt = now.Add(o.KeepAliveTimeout)
		return true, false
	case heard != l.seen:
		l.awaiting.Store(false)
		l.suspect = false
		l.keepAt = now.Add(o.KeepAliveInterval)
	case !c.readLock.held.Load():
		l.suspect = false
		l.keepAt = now.Add(o.KeepAliveTimeout)
	case !l.suspect:
		l.suspect = true
		l.keepAt = now.Add(keepAliveGrace(o.KeepAliveTimeout))
	default:
		return false, true
	}
	return false, false
}

// keepAliveGrace is the second look's delay after a timeout of d.
func keepAliveGrace(d time.Duration) time.Duration { return min(d/4, time.Second) }

// expire sends a best-effort close frame with 1011 and closes TCP.
func (l *liveness) expire() {
	c := l.c
	if c.lockWire(10 * time.Millisecond) {
		if !c.markCloseSent() {
			var buf [32]byte
			c.nc.SetWriteDeadline(deadlineIn(100 * time.Millisecond))
			c.writeControlLocked(frame.OpClose, frame.AppendClosePayload(buf[:0], frame.StatusInternalError, "keepalive timeout"))
		}
		c.unlockWire()
	}
	c.closeTCP(ErrKeepAliveTimeout)
}

// stop ends both mechanisms' timer when the connection closes.
func (l *liveness) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
	if l.timer != nil {
		l.timer.Stop()
	}
}
