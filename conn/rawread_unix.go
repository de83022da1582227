//go:build unix

package conn

import (
	"io"
	"net"
	"os"
	"syscall"
)

// rawReader waits for input without holding a read buffer. It reads through
// syscall.RawConn, whose callback runs each time the socket may be
// readable: a read that finds nothing gives the buffer back to the pool
// before the goroutine parks, and the next attempt, when bytes have
// arrived, takes one. This costs no system call beyond those of an
// ordinary net.Conn Read, which makes the same attempt-park-retry steps,
// and it honours the same deadlines.
type rawReader struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) bool // c.rawRead, bound once
	n   int
	err error
}

// readsWithoutBuffer reports whether the Conn waits for input on nc with
// rawReader, holding no read buffer meanwhile: on the connection types
// whose Read is the socket's read. A wrapper that implements syscall.Conn
// may transform its bytes (TLS, metering), so only these two are trusted.
func readsWithoutBuffer(nc net.Conn) bool {
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
		return true
	}
	return false
}

// initRawRead enables rawReader where readsWithoutBuffer allows it.
func (c *Conn) initRawRead(buffered int) {
	if buffered > c.opts.ReadBufferSize {
		// The reader reads the rest of the handshake's leftovers from a
		// stream of its own before the socket; keep to that path.
		return
	}
	sc, ok := c.nc.(syscall.Conn)
	if !ok || !readsWithoutBuffer(c.nc) {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	c.raw.rc = rc
	c.raw.fn = c.rawRead
}

// awaitInput waits for input when the frame reader has none buffered and
// attaches a read buffer holding the first bytes. On connections without
// rawReader the frame reader keeps its buffer and reads for itself.
func (c *Conn) awaitInput() error {
	if c.raw.rc == nil {
		return nil
	}
	c.beforeNetRead()
	c.fr.Detach() // the buffer is *c.rbuf, which rawRead gives back if it waits
	c.raw.n, c.raw.err = 0, nil
	err := c.raw.rc.Read(c.raw.fn)
	if c.raw.n > 0 {
		c.heardFromPeer()
	}
	if c.raw.n > 0 {
		return c.fr.Attach((*c.rbuf)[:cap(*c.rbuf)], c.raw.n)
	}
	if err == nil {
		err = c.raw.err
	}
	if err == nil {
		err = io.EOF
	}
	return err
}

// rawRead is the RawConn callback: one read attempt into a pooled buffer.
// It returns false, after giving the buffer back, to wait for readiness.
func (c *Conn) rawRead(fd uintptr) bool {
	if c.rbuf == nil {
		c.rbuf = getBuf(c.rpool, c.opts.ReadBufferSize)
	}
	buf := (*c.rbuf)[:c.fr.FillSize(cap(*c.rbuf))]
	for {
		n, err := syscall.Read(int(fd), buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			putBuf(c.rpool, c.rbuf)
			c.rbuf = nil
			return false
		case err != nil:
			c.raw.err = &net.OpError{Op: "read", Net: c.nc.LocalAddr().Network(),
				Source: c.nc.LocalAddr(), Addr: c.nc.RemoteAddr(), Err: os.NewSyscallError("read", err)}
			return true
		}
		c.raw.n = max(n, 0) // n == 0 with no error is the end of the stream
		return true
	}
}
