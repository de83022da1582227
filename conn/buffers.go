package conn

import (
	"sync"

	"github.com/rfc6455/ws/frame"
)

// Buffers.
//
// A quiet connection holds no buffer. The frame writer's buffer is taken
// from a pool when a writer gets the wire and goes back when it lets go
// with nothing left to flush. The frame reader's buffer goes back to the
// pool when a read at a frame boundary finds no input, and a buffer is
// taken again when bytes arrive (see awaitInput); on connections that
// cannot wait for input without a buffer (TLS, net.Pipe, any net.Conn other
// than *net.TCPConn and *net.UnixConn) the reader keeps its buffer for life.
// The staging buffers of streamed and compressed messages come from the
// same pools.

// bufPools holds one pool per buffer capacity.
var bufPools sync.Map // int -> *sync.Pool of *[]byte

// poolFor returns the pool of buffers of capacity n. A Conn looks up its
// read and write pools once, in New.
func poolFor(n int) *sync.Pool {
	if p, ok := bufPools.Load(n); ok {
		return p.(*sync.Pool)
	}
	p, _ := bufPools.LoadOrStore(n, new(sync.Pool))
	return p.(*sync.Pool)
}

// getBuf returns a buffer of capacity n (and length 0) from pool p, which
// holds buffers of that capacity.
func getBuf(p *sync.Pool, n int) *[]byte {
	if b, ok := p.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, n)
	return &b
}

// putBuf gives a buffer back to pool p, which holds buffers of its capacity.
func putBuf(p *sync.Pool, b *[]byte) { p.Put(b) }

// attachWriteBuf gives the frame writer a buffer if it has none. The
// caller holds the wire.
func (c *Conn) attachWriteBuf() {
	if c.wbuf != nil {
		return
	}
	c.wbuf = getBuf(c.wpool, c.opts.WriteBufferSize)
	_ = c.fw.Attach((*c.wbuf)[:cap(*c.wbuf)]) // detached and large enough: cannot fail
}

// releaseWriteBuf gives the frame writer's buffer back to the pool when
// nothing waits in it to be flushed. The caller holds the wire.
func (c *Conn) releaseWriteBuf() {
	if c.wbuf == nil || c.fw.Detach() == nil {
		return
	}
	putBuf(c.wpool, c.wbuf)
	c.wbuf = nil
}

// tryLockWire takes the wire if it is free, without waiting.
func (c *Conn) tryLockWire() bool {
	if !c.wlocks.tryLock(lockWire) {
		return false
	}
	c.attachWriteBuf()
	return true
}

// releaseWire lets go of the wire, giving back the write buffer if it is
// empty; unlockWire also sends a pong queued meanwhile.
func (c *Conn) releaseWire() {
	c.releaseWriteBuf()
	c.wlocks.unlock(lockWire)
}

// messageEnded runs when a message has been read to its end. It tells the
// writers whether the reader holds more input (flush.go) and, when it does
// not, gives the read buffer back: the application may not read again for
// a while, and the next read takes a buffer when bytes arrive.
func (c *Conn) messageEnded() {
	c.setMoreInput(c.fr.Buffered() > 0)
	c.releaseReadBuf()
}

// setMoreInput tells the writers whether the reader holds more input. Only
// the reader stores moreInput, so it stores only when the value changes: in
// a pipelined load it stays true from message to message, and an atomic
// store per message would cost more than the rest of the bookkeeping.
func (c *Conn) setMoreInput(more bool) {
	if c.moreInput.Load() != more {
		c.moreInput.Store(more)
	}
}

// releaseReadBuf gives the read buffer back to the pool when the reader
// holds no unread bytes, on connections that can wait for input without
// one (rawReader). The caller owns the read side.
func (c *Conn) releaseReadBuf() {
	if c.raw.rc != nil && c.rbuf != nil && c.fr.Detach() != nil {
		putBuf(c.rpool, c.rbuf)
		c.rbuf = nil
	}
}

// nextHeader reads the next frame header, first waiting for input without
// a buffer when the reader has none buffered.
func (c *Conn) nextHeader() (frame.Header, error) {
	if c.fr.Buffered() == 0 {
		if err := c.awaitInput(); err != nil {
			return frame.Header{}, err
		}
	}
	return c.fr.NextHeader()
}

// beforeNetRead runs before every read from the network: the reader is
// about to wait, so writes deferred for batching go out now (flush.go).
func (c *Conn) beforeNetRead() {
	c.setMoreInput(false)
	if c.flushPending.Load() {
		c.flushDeferred(false)
	}
}
