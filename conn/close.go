package conn

import (
	"errors"
	"time"

	"github.com/rfc6455/ws/frame"
)

// ErrCloseTimeout is returned by Close when the peer did not answer the
// close frame within CloseTimeout.
var ErrCloseTimeout = errors.New("ws: close handshake timed out")

// Close performs the closing handshake (RFC 6455 §7): it sends a close
// frame with code and reason (reason is cut to 123 bytes), waits at most
// CloseTimeout for the peer's close frame, and closes the TCP connection (a
// client first gives the server CloseTimeout to close it, §7.1.1). If
// another goroutine is reading, that goroutine receives the peer's close and
// returns a *CloseError; otherwise Close reads and discards messages itself
// until the close arrives, and reads after it return the same *CloseError
// (ErrClosed if none came). A read that starts while Close is reading waits
// for it, so a read loop that was between two messages when Close began
// ends the same way as one that was waiting. Close returns nil once the
// handshake completed, ErrCloseTimeout if the peer did not answer, and
// ErrClosed if a close frame was already sent. StatusNoStatusReceived sends a close frame without a
// status code.
func (c *Conn) Close(code StatusCode, reason string) error {
	if code != frame.StatusNoStatusReceived && !frame.ValidCloseCode(code) {
		return &frame.ProtocolError{Code: code, Reason: "close code " + code.String() + " may not be sent"}
	}
	if err := c.writeClose(code, reason); err != nil {
		return err
	}
	completed := false
	if c.readLock.tryLock() {
		if c.readErr == nil {
			c.drainUntilClose(c.opts.CloseTimeout, 0)
			c.endRead(c.peerCloseOr(ErrClosed))
		}
		completed = c.hasPeerClose()
		if completed && c.role == Client {
			c.awaitServerClose()
		}
		c.readLock.unlock()
	} else {
		t := time.NewTimer(c.opts.CloseTimeout)
		select {
		case <-c.peerClosed():
			completed = true
			// The reader closes TCP when it has seen the close; give it the
			// time a client waits for the server.
			select {
			case <-c.closed:
			case <-t.C:
			}
		case <-c.closed:
			completed = c.hasPeerClose()
		case <-t.C:
		}
		t.Stop()
	}
	c.closeTCP(ErrClosed)
	if !completed {
		return ErrCloseTimeout
	}
	return nil
}

// CloseNow closes the TCP connection at once, without a close handshake.
// Blocked reads and writes return.
func (c *Conn) CloseNow() error {
	c.closeTCP(ErrClosed)
	return nil
}

// writeClose sends our close frame once; later frames are refused. It waits
// at most CloseTimeout for the wire and for the frame to be written.
func (c *Conn) writeClose(code StatusCode, reason string) error {
	if !c.lockWire(c.opts.CloseTimeout) {
		c.markCloseSent()
		return c.endErrOr(ErrClosed)
	}
	defer c.unlockWire()
	if c.markCloseSent() {
		return ErrClosed
	}
	var buf [frame.MaxControlPayload]byte
	p := frame.AppendClosePayload(buf[:0], code, reason)
	c.nc.SetWriteDeadline(deadlineIn(c.opts.CloseTimeout))
	return c.writeControlLocked(frame.OpClose, p)
}

// markCloseSent records that our close frame is going out and reports
// whether it already had.
func (c *Conn) markCloseSent() bool {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	return c.closeSent.Swap(true)
}

// peerCloseOr returns the peer's close frame, as a *CloseError, once it
// has arrived, and def before.
func (c *Conn) peerCloseOr(def error) error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.peerClose != nil {
		return c.peerClose
	}
	return def
}

func (c *Conn) hasPeerClose() bool { return c.peerCloseOr(nil) != nil }

// closeTCP closes the network connection once, recording why.
func (c *Conn) closeTCP(why error) {
	c.closeOnce.Do(func() {
		c.closeMu.Lock()
		c.closeErr = why
		c.closeMu.Unlock()
		c.isClosed.Store(true)
		// Release the extension's halves that no one is using. A reader or
		// writer that is busy releases its half when it finishes. The read
		// side goes before closing c.closed: a read that found the read
		// lock held while the Conn was closing takes it once c.closed is
		// closed (readLockBusy), and must not find this brief hold.
		if c.readLock.tryLock() {
			c.endRead(ErrClosed)
			c.readLock.unlock()
		}
		close(c.closed)
		c.nc.Close()
		if c.live != nil {
			c.live.stop()
		}
		if c.lockWire(0) {
			if c.flushTimer != nil {
				c.flushTimer.Stop()
			}
			c.unlockWire()
		}
		c.tryEndWrite()
		if c.onClose != nil {
			c.onClose()
		}
	})
}

// endRead makes err the sticky result of all later reads and gives up the
// read side's use of the extension. The caller holds the read lock.
func (c *Conn) endRead(err error) {
	if c.readErr == nil {
		c.readErr = err
	}
	c.msg.open = false
	if !c.readEnded {
		c.readEnded = true
		c.extHalfDone()
	}
}

// tryEndWrite gives up the write side's use of the extension once the
// connection is closed and no writer holds the write lock. It keeps the
// lock, so no writer can use the extension afterwards; lockWriter returns
// on the closed channel instead.
func (c *Conn) tryEndWrite() {
	if c.wlocks.tryLock(lockMessage) {
		c.stopIdleRelease()
		c.extHalfDone()
	}
}

// extHalfDone closes the extension when both the read and the write side
// are done with it, so its pooled buffers are never released under a user.
func (c *Conn) extHalfDone() {
	if c.ext != nil && c.extHalves.Add(1) == 2 {
		c.ext.Close()
	}
}

// endErr returns why the connection ended, or nil while it is open. After a
// close handshake it is the peer's *CloseError.
func (c *Conn) endErr() error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.closeErr == nil {
		return nil
	}
	if c.peerClose != nil {
		return c.peerClose
	}
	return c.closeErr
}

func (c *Conn) endErrOr(def error) error {
	if err := c.endErr(); err != nil {
		return err
	}
	return def
}

func deadlineIn(d time.Duration) time.Time { return time.Now().Add(d) }
