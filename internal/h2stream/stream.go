package h2stream

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// DefaultReadBufferSize is the size of the buffer the reading goroutine
// fills from the stream when Config.ReadBufferSize is zero: half the
// default HTTP/2 frame payload (16 KiB), a quarter of the default stream
// window. It is held for the stream's life.
const DefaultReadBufferSize = 8 << 10

// CloseWait bounds how long a client's Close waits, in the background,
// for the server to end the stream after its own END_STREAM, before it
// resets the stream (RFC 8441 §6).
const CloseWait = time.Second

// Writer is the outgoing half of a stream.
type Writer interface {
	// Write sends p as DATA on the stream. It may block while HTTP/2 flow
	// control holds the bytes back.
	Write(p []byte) (int, error)
	// Abort makes a Write blocked in the stream return early; the stream
	// may not survive it. It is called from another goroutine.
	Abort()
}

// Config describes the stream a Conn runs over.
type Config struct {
	// In is the incoming half: the request body on the server, the
	// response body on the client. Conn reads it from a goroutine of its
	// own until it fails or ends, and never closes it itself.
	In io.Reader
	// Out is the outgoing half.
	Out Writer
	// OnClose, called once by Close, ends the stream the way its role
	// does (see the package doc). pumpDone is closed when the reading
	// goroutine has seen In end or fail; OnClose must not block on it.
	OnClose func(pumpDone <-chan struct{})
	// LocalAddr and RemoteAddr are the TCP connection's addresses, or nil
	// when unknown.
	LocalAddr, RemoteAddr net.Addr
	// ReadBufferSize is the size of the reading goroutine's buffer
	// (DefaultReadBufferSize when zero or negative).
	ReadBufferSize int
}

// Conn is a net.Conn over one HTTP/2 stream. Read and Write may be called
// from two goroutines at once, and Close and the deadline setters from
// any goroutine, as for a net.Conn.
type Conn struct {
	cfg Config

	// Read side: the goroutine running pump publishes what it read in
	// data (a view of buf) and rerr, signals ready, and waits for drained
	// before it reuses buf.
	rmu      sync.Mutex
	buf      []byte
	data     []byte
	rerr     error
	ready    chan struct{} // capacity 1
	drained  chan struct{} // capacity 1
	pumpDone chan struct{}
	rdl      *deadline

	// Write side: wmu serialises Write; amu guards writing and aborted,
	// which let the write deadline (and Close) abort a blocked Write.
	wmu     sync.Mutex
	amu     sync.Mutex
	writing bool
	aborted bool
	wdl     *deadline

	closeOnce sync.Once
	closed    chan struct{}
}

// New starts the reading goroutine of a Conn over the stream cfg
// describes.
func New(cfg Config) *Conn {
	size := cfg.ReadBufferSize
	if size <= 0 {
		size = DefaultReadBufferSize
	}
	c := &Conn{
		cfg:      cfg,
		buf:      make([]byte, size),
		ready:    make(chan struct{}, 1),
		drained:  make(chan struct{}, 1),
		pumpDone: make(chan struct{}),
		closed:   make(chan struct{}),
	}
	c.rdl = newDeadline(nil)
	c.wdl = newDeadline(c.abortWrite)
	go c.pump()
	return c
}

// notify leaves a token in a channel of capacity 1 unless one is there.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// pump moves the peer's data from the stream into buf, one read at a time:
// it waits until Read has taken everything before it reads again. After
// Close it reads on and discards, so that it sees the stream end (the
// peer's END_STREAM, which the client's close waits for) or fail.
func (c *Conn) pump() {
	defer close(c.pumpDone)
	for {
		n, err := c.cfg.In.Read(c.buf)
		c.rmu.Lock()
		c.data = c.buf[:n]
		c.rerr = err
		c.rmu.Unlock()
		notify(c.ready)
		if err != nil {
			return
		}
		if n == 0 {
			continue
		}
		select {
		case <-c.drained:
		case <-c.closed:
			c.discard()
			return
		}
	}
}

// discard reads the stream to its end after Close.
func (c *Conn) discard() {
	c.rmu.Lock()
	c.data = nil
	c.rmu.Unlock()
	for {
		if _, err := c.cfg.In.Read(c.buf); err != nil {
			return
		}
	}
}

// Read reads the peer's data. It returns os.ErrDeadlineExceeded once the
// read deadline has passed, leaving any data for the next Read, io.EOF
// when the peer ended the stream (END_STREAM), the stream's error when it
// was reset, and net.ErrClosed after Close.
func (c *Conn) Read(p []byte) (int, error) {
	for {
		select {
		case <-c.closed:
			return 0, net.ErrClosed
		default:
		}
		if c.rdl.hasPassed() {
			return 0, os.ErrDeadlineExceeded
		}
		c.rmu.Lock()
		if len(c.data) > 0 {
			n := copy(p, c.data)
			c.data = c.data[n:]
			empty := len(c.data) == 0
			c.rmu.Unlock()
			if empty {
				notify(c.drained)
			}
			return n, nil
		}
		err := c.rerr
		c.rmu.Unlock()
		if err != nil {
			return 0, err
		}
		if len(p) == 0 {
			return 0, nil
		}
		select {
		case <-c.ready:
		case <-c.rdl.wait():
		case <-c.closed:
		}
	}
}

// Write sends p on the stream. A Write still blocked when the write
// deadline passes is aborted and returns os.ErrDeadlineExceeded with the
// count of bytes the stream took; so is one blocked when Close is called,
// which returns net.ErrClosed.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	if c.wdl.hasPassed() {
		return 0, os.ErrDeadlineExceeded
	}
	c.amu.Lock()
	c.writing = true
	c.amu.Unlock()
	n, err := c.cfg.Out.Write(p)
	c.amu.Lock()
	c.writing = false
	aborted := c.aborted
	c.aborted = false
	c.amu.Unlock()
	if err == nil && n == len(p) {
		return n, nil
	}
	select {
	case <-c.closed:
		return n, net.ErrClosed
	default:
	}
	if aborted {
		return n, os.ErrDeadlineExceeded
	}
	if err == nil {
		err = io.ErrShortWrite
	}
	return n, err
}

// abortWrite aborts the Write in progress, if any.
func (c *Conn) abortWrite() {
	c.amu.Lock()
	if c.writing {
		c.aborted = true
		c.cfg.Out.Abort()
	}
	c.amu.Unlock()
}

// Close ends the stream as its role does (Config.OnClose) and makes
// blocked and later calls return net.ErrClosed. It returns once no Write
// is in progress, so nothing touches the stream after it. It is safe to call more
// than once and from any goroutine.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.rdl.stop()
		c.wdl.stop()
		c.abortWrite()
		// Wait for the Write in progress, if any, to return: a server's
		// stream is its handler's ResponseWriter, which must not be
		// touched once the handler has returned, and a handler returns
		// after closing its Conn. Bounded: the write was just aborted.
		c.wmu.Lock()
		c.wmu.Unlock()
		if c.cfg.OnClose != nil {
			c.cfg.OnClose(c.pumpDone)
		}
	})
	return nil
}

// PumpDone is closed when the reading goroutine has ended: the stream
// ended or failed, or Close was called and the stream then ended.
func (c *Conn) PumpDone() <-chan struct{} { return c.pumpDone }

// LocalAddr returns the TCP connection's local address.
func (c *Conn) LocalAddr() net.Addr { return orUnknown(c.cfg.LocalAddr) }

// RemoteAddr returns the TCP connection's remote address.
func (c *Conn) RemoteAddr() net.Addr { return orUnknown(c.cfg.RemoteAddr) }

// SetDeadline sets the read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.rdl.set(t)
	c.wdl.set(t)
	return nil
}

// SetReadDeadline sets the deadline for Read. A Read that times out
// leaves the stream usable.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.rdl.set(t)
	return nil
}

// SetWriteDeadline sets the deadline for Write. A Write blocked past it
// is aborted (see Writer.Abort).
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.wdl.set(t)
	return nil
}

// unknownAddr stands for an address net/http did not tell.
type unknownAddr struct{}

func (unknownAddr) Network() string { return "tcp" }
func (unknownAddr) String() string  { return "unknown" }

func orUnknown(a net.Addr) net.Addr {
	if a == nil {
		return unknownAddr{}
	}
	return a
}
