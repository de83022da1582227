package conn

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"github.com/rfc6455/ws/frame"
)

// Ping sends a ping and waits for the matching pong, returning the round
// trip time (RFC 6455 §5.5.2). Pongs are seen by the reading goroutine, so
// another goroutine must be reading from the Conn. Ping may be called from
// any goroutine.
func (c *Conn) Ping(ctx context.Context) (time.Duration, error) {
	id, done := c.pings.add()
	defer c.pings.remove(id)
	var p [8]byte
	binary.BigEndian.PutUint64(p[:], id)
	start := time.Now()
	if err := c.writeControl(frame.OpPing, p[:], 0); err != nil {
		return 0, err
	}
	select {
	case <-done:
		return time.Since(start), nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-c.closed:
		return 0, c.endErrOr(ErrClosed)
	}
}

// pingWaiters matches pongs to the pings sent by Ping, by an 8-byte id.
type pingWaiters struct {
	mu      sync.Mutex
	next    uint64
	waiting map[uint64]chan struct{}
}

func (w *pingWaiters) add() (uint64, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiting == nil {
		w.waiting = make(map[uint64]chan struct{})
	}
	w.next++
	ch := make(chan struct{})
	w.waiting[w.next] = ch
	return w.next, ch
}

func (w *pingWaiters) remove(id uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.waiting, id)
}

// pong wakes the Ping waiting for payload p, if any. An unsolicited pong
// (RFC 6455 §5.5.3) matches nothing and is ignored.
func (w *pingWaiters) pong(p []byte) {
	if len(p) != 8 {
		return
	}
	id := binary.BigEndian.Uint64(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.waiting[id]; ok {
		close(ch)
		delete(w.waiting, id)
	}
}

// keepAlive pings the peer every interval and fails the connection when a
// pong does not come back within the timeout. It runs on a timer, not a
// goroutine, so an idle connection costs no stack for it.
type keepAlive struct {
	c        *Conn
	mu       sync.Mutex
	timer    *time.Timer
	awaiting bool // a keepalive ping is unanswered
	stopped  bool
}

// keepAlivePayload marks keepalive pings; Ping's 8-byte ids never match it.
var keepAlivePayload = []byte("keepalive")

func (c *Conn) startKeepAlive() {
	k := &keepAlive{c: c}
	c.keepAlive = k
	k.mu.Lock()
	k.timer = time.AfterFunc(c.opts.KeepAliveInterval, k.fire)
	k.mu.Unlock()
}

func (k *keepAlive) fire() {
	k.mu.Lock()
	if k.stopped {
		k.mu.Unlock()
		return
	}
	if k.awaiting {
		k.stopped = true
		k.mu.Unlock()
		k.expire()
		return
	}
	k.awaiting = true
	k.timer.Reset(k.c.opts.KeepAliveTimeout)
	k.mu.Unlock()
	k.c.writeControl(frame.OpPing, keepAlivePayload, k.c.opts.KeepAliveTimeout)
}

// pong records that the peer answered; any pong proves it is alive.
func (k *keepAlive) pong() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.awaiting && !k.stopped {
		k.awaiting = false
		k.timer.Reset(k.c.opts.KeepAliveInterval)
	}
}

// expire sends a best-effort close frame with 1011 and closes TCP.
func (k *keepAlive) expire() {
	c := k.c
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

func (k *keepAlive) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = true
	if k.timer != nil {
		k.timer.Stop()
	}
}
