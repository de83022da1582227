package conn

import (
	"math"
	"time"
)

// Releasing an extension's state on a quiet connection.
//
// With context takeover on our side, permessage-deflate keeps its sliding
// window and hash table between messages, 40 KiB per connection at the
// default window: more than everything else an idle Conn holds. A
// compressor may always choose not to refer to earlier messages, so that
// state can be dropped at any time between messages; the cost is the
// compression of the next message. With Options.ReleaseCompressionAfter
// set, a timer gives it back once the Conn has compressed nothing for a
// whole period.
//
// The timer runs only while state may be kept: it is armed by the first
// message compressed after a release and, at each firing, either finds
// that a message was compressed since the last (and runs again) or
// releases and stops. A busy connection thus pays a firing per period,
// not a timer operation per message.

// minReleasePeriod is the shortest Options.ReleaseCompressionAfter.
const minReleasePeriod = time.Millisecond

// IdleReleaser is implemented by an Extension that keeps state between
// the messages it encodes and can do without it, at a cost to the next
// message only (see Options.ReleaseCompressionAfter). *deflate.Session
// implements it.
type IdleReleaser interface {
	// ReleaseIdle gives back what the encoding side keeps between
	// messages; the next message is encoded without reference to earlier
	// ones. The Conn calls it under its write lock, between messages.
	ReleaseIdle()
}

// idleRelease is the state of Options.ReleaseCompressionAfter, made at the
// first message an IdleReleaser encodes. Its fields are under the message
// lock, except timer, which is set once, before it can first fire, and
// whose methods any goroutine may call.
type idleRelease struct {
	c       *Conn
	r       IdleReleaser
	timer   *time.Timer
	armed   bool // the timer is running
	encoded bool // a message was encoded since the timer was armed or last fired
}

// noteEncoded records that the extension encoded a message and makes sure
// the release timer runs. The caller holds the message lock.
func (c *Conn) noteEncoded() {
	ir := c.idle
	if ir == nil {
		if c.opts.ReleaseCompressionAfter <= 0 {
			return
		}
		r, ok := c.ext.(IdleReleaser)
		if !ok {
			return
		}
		ir = &idleRelease{c: c, r: r}
		c.idle = ir
	}
	ir.encoded = true
	if ir.armed {
		return
	}
	ir.armed = true
	if ir.timer == nil {
		// Made far in the future and then reset, so that fire, which
		// uses ir.timer, cannot run before ir.timer is set.
		ir.timer = time.AfterFunc(math.MaxInt64, ir.fire)
	}
	ir.timer.Reset(c.opts.ReleaseCompressionAfter)
}

// fire runs a period after the timer was armed or last fired. If a message
// was encoded meanwhile it runs again; otherwise the extension's state
// goes. A writer holding the message lock means the connection is not
// quiet: look again a period later. A closed connection keeps the lock for
// good once it is done with the extension, and needs no release.
func (ir *idleRelease) fire() {
	c := ir.c
	period := c.opts.ReleaseCompressionAfter
	if !c.wlocks.tryLock(lockMessage) {
		if !c.isClosed.Load() {
			ir.timer.Reset(period)
		}
		return
	}
	if ir.encoded && !c.isClosed.Load() {
		ir.encoded = false
		ir.timer.Reset(period)
	} else {
		ir.armed = false
		ir.r.ReleaseIdle()
	}
	c.unlockWriter()
}

// stopIdleRelease stops the release timer when the write side is done
// with the extension. The caller holds the message lock.
func (c *Conn) stopIdleRelease() {
	if c.idle != nil && c.idle.armed {
		c.idle.timer.Stop()
		c.idle.armed = false
	}
}
