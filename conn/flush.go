package conn

import (
	"net"
	"time"
)

// Write batching.
//
// A Conn flushes its write buffer at the end of every message, unless the
// reader already holds more input: then a reply to each of those messages
// would cost a system call of its own, so the flush is deferred until the
// reader is about to wait for the network, and the replies go out together
// (as Netty flushes on read-complete). At depth 1 the reader never holds
// more input, so nothing is deferred and no latency is added. A timer
// bounds the deferral in case the application stops reading.

// maxFlushDelay bounds how long a deferred flush can wait for the reader.
const maxFlushDelay = 2 * time.Millisecond

// netSource is the frame reader's source: it flushes deferred writes
// before each read from the network.
type netSource struct{ c *Conn }

func (s netSource) Read(p []byte) (int, error) {
	s.c.beforeNetRead()
	n, err := s.c.nc.Read(p)
	if n > 0 {
		s.c.heardFromPeer()
	}
	return n, err
}

// netSink is the Conn seen as the frame writer's destination, a type of
// its own so that Conn does not export Write. It sends a header and a
// large payload with one writev where the connection supports it, and
// keeps the write timeout armed (liveness.go).
type netSink Conn

// vectors is the writev argument, kept so that writing it allocates
// nothing after the first time.
type vectors struct {
	arr  [2][]byte
	bufs net.Buffers
}

func (s *netSink) Write(p []byte) (int, error) {
	c := (*Conn)(s)
	c.beforeNetWrite()
	return c.nc.Write(p)
}

func (s *netSink) WriteVectors(a, b []byte) error {
	c := (*Conn)(s)
	if c.vec == nil {
		c.vec = new(vectors)
	}
	v := c.vec
	v.arr = [2][]byte{a, b}
	v.bufs = v.arr[:]
	c.beforeNetWrite()
	_, err := v.bufs.WriteTo(c.nc)
	v.arr = [2][]byte{}
	return err
}

// endMessage flushes at the end of a message, or defers the flush while
// the reader holds more input. The caller holds the wire.
func (c *Conn) endMessage() error {
	// flushPending changes only under the wire, so it is stored only when
	// it changes: an atomic store costs as much as the rest of a small
	// message's bookkeeping.
	if c.moreInput.Load() {
		if !c.flushPending.Load() {
			c.flushPending.Store(true)
			if !c.flushArmed {
				c.armFlushTimer()
			}
		}
		// The reader sets moreInput false before it checks flushPending;
		// if it did so meanwhile, it may have missed our flag: flush here.
		if c.moreInput.Load() {
			return nil
		}
	}
	if c.flushPending.Load() {
		c.flushPending.Store(false)
	}
	c.disarmFlushTimer()
	return c.fw.Flush()
}

// flushDeferred sends a deferred flush. From the reader it does not wait
// for the wire: a writer holding it flushes when its message ends or, if
// it deferred before the reader cleared moreInput, when it lets go of the
// wire (afterWire). From the timer it waits.
func (c *Conn) flushDeferred(wait bool) {
	if wait {
		if !c.lockWire(0) {
			return
		}
		c.flushArmed = false
	} else if !c.tryLockWire() {
		return
	}
	if c.flushPending.Swap(false) && c.writeErr == nil {
		if !wait {
			c.disarmFlushTimer()
		}
		if err := c.fw.Flush(); err != nil {
			c.writeFailed(err)
		}
	}
	c.unlockWire()
}

// disarmFlushTimer stops the flush timer after a flush. The caller holds
// the wire. If the timer has fired already, its callback finds nothing
// pending, or flushes a later deferral early, which is harmless.
func (c *Conn) disarmFlushTimer() {
	if c.flushArmed {
		c.flushTimer.Stop()
		c.flushArmed = false
	}
}

// armFlushTimer starts the timer that bounds a deferred flush. The caller
// holds the wire. An armed timer is not reset by later deferrals (timer
// operations take a runtime lock): it flushes whatever is pending when it
// fires, at most maxFlushDelay after any deferral. A flush by the reader
// or a writer stops it, so in a steady pipelined load it never fires
// (each firing would start a goroutine). A timer per connection, rather
// than one sweeper for the process, keeps a timer pending only while a
// deferral is: a sweeper's periodic timer, pending whenever any
// connection had deferred within its period, cost a single pipelining
// connection 9% more CPU per message (the scheduler then sleeps in epoll
// with a timeout and wakes every period), more than the 5% of CPU time
// that arming and stopping these timers takes at 100 or 1,000 connections
// pipelining 16 B messages (perf profiles).
func (c *Conn) armFlushTimer() {
	c.flushArmed = true
	if c.flushTimer == nil {
		c.flushTimer = time.AfterFunc(maxFlushDelay, func() { c.flushDeferred(true) })
		return
	}
	c.flushTimer.Reset(maxFlushDelay)
}
