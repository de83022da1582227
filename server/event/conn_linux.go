package event

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rfc6455/ws/conn"
	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/internal/proto"
)

// Conn is one WebSocket connection of the event mode. It holds no
// goroutine and, while idle, no buffer: its socket, the protocol core's
// state (proto.Receiver), and the application's value. Its methods may
// be called from any goroutine, inside callbacks or not.
type Conn struct {
	s *srv
	l *loop

	// Loop-owned: only the connection's loop reads and parses.
	recv    proto.Receiver
	hs      []byte      // the handshake request so far; nil once open
	msg     *[]byte     // the data message being assembled (pooled); nil between messages
	open    atomic.Bool // the handshake completed
	discard bool        // input is discarded: after the peer's close or a violation
	failing atomic.Bool // we failed the connection: input is discarded until EOF

	ext         conn.Extension
	subprotocol string
	value       atomic.Value

	heard     atomic.Int64 // when input last arrived, unix nanoseconds
	deadline  atomic.Int64 // handshake, close or linger deadline (unix ns); 0: none
	pingSent  atomic.Int64 // when an unanswered keepalive ping went out; 0: none
	buffered  atomic.Int64 // bytes queued, for BufferedAmount
	outSince  atomic.Int64 // when the queue last made progress or started, unix ns
	closeSent atomic.Bool

	// mu guards the socket's write side, the queue, the callbacks' jobs
	// and the epoll interest.
	mu        sync.Mutex
	fd        int // -1 once closed
	out       []byte
	drained   chan struct{} // closed when the queue drains; made by a waiting writer
	wantOut   bool          // EPOLLOUT is armed
	paused    bool          // EPOLLIN is off: callbacks lag (MaxPendingInput)
	shutRead  bool          // shutdown asked: the loop sees EOF and closes
	peerClose *conn.CloseError
	why       error // why the connection ended, for OnClose
	jobs      jobQueue
	scheduled bool // in the pool's queue or running
	batching  bool // a worker runs c's callbacks: writes wait for endBatchLocked
	pendingIn int  // bytes of messages in jobs
}

// Subprotocol returns the subprotocol negotiated in the handshake, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// SetValue attaches the application's state to c; Value returns it.
func (c *Conn) SetValue(v any) { c.value.Store(&v) }

// Value returns what SetValue attached, or nil.
func (c *Conn) Value() any {
	if p, ok := c.value.Load().(*any); ok {
		return *p
	}
	return nil
}

// RemoteAddr returns the peer's address, asked of the kernel (a Conn does
// not keep it), or nil once the socket is closed.
func (c *Conn) RemoteAddr() net.Addr {
	c.mu.Lock()
	fd := c.fd
	var sa syscall.Sockaddr
	if fd >= 0 {
		sa, _ = syscall.Getpeername(fd)
	}
	c.mu.Unlock()
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: a.Addr[:], Port: a.Port}
	case *syscall.SockaddrInet6:
		return &net.TCPAddr{IP: a.Addr[:], Port: a.Port}
	}
	return nil
}

// BufferedAmount returns the bytes written by the application (frames
// included) that the socket has not taken yet, like the browser's
// WebSocket.bufferedAmount.
func (c *Conn) BufferedAmount() int { return int(c.buffered.Load()) }

// WriteMessage sends p as one message of type typ (RFC 6455 §5.6),
// compressed when permessage-deflate was negotiated. It writes to the
// socket at once when nothing is queued; what the socket does not take is
// queued, and the loop sends it when the socket becomes writable. When
// the queue would pass Options.WriteQueueLimit, Options.QueueFull
// decides. p may be reused when WriteMessage returns.
func (c *Conn) WriteMessage(typ conn.MessageType, p []byte) error {
	if typ != conn.Text && typ != conn.Binary {
		return conn.ErrInvalidType
	}
	h := frame.Header{Fin: true, Opcode: frame.Opcode(typ)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ext != nil && c.fd >= 0 {
		var enc *[]byte
		h, enc = c.encode(h, p)
		if enc != nil {
			defer putBuf(enc)
			p = *enc
		}
	}
	return c.sendLocked(h, p, false)
}

// Close starts the closing handshake (RFC 6455 §7.1.2): it sends a close
// frame with code and reason and returns; the socket is closed when the
// peer answers, or after CloseTimeout. OnClose follows.
func (c *Conn) Close(code conn.StatusCode, reason string) error {
	if code != frame.StatusNoStatusReceived && !frame.ValidCloseCode(code) {
		return &frame.ProtocolError{Code: code, Reason: "close code " + code.String() + " may not be sent"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sendCloseLocked(code, reason, c.s.set.closeTimeout)
}

// CloseNow closes the connection without a closing handshake.
func (c *Conn) CloseNow() error {
	c.mu.Lock()
	c.shutdownLocked()
	c.mu.Unlock()
	return nil
}

// sendCloseLocked sends our close frame once and gives the peer wait to
// answer.
func (c *Conn) sendCloseLocked(code conn.StatusCode, reason string, wait time.Duration) error {
	if c.closeSent.Load() || c.fd < 0 {
		return ErrClosed
	}
	var buf [frame.MaxControlPayload]byte
	p := frame.AppendClosePayload(buf[:0], code, reason)
	err := c.sendLocked(frame.Header{Fin: true, Opcode: frame.OpClose}, p, true)
	c.closeSent.Store(true)
	c.deadline.Store(time.Now().Add(wait).UnixNano())
	return err
}

// sendLocked puts one frame on the socket or in the queue. control frames
// skip the queue's bound (they are small and owed).
func (c *Conn) sendLocked(h frame.Header, payload []byte, control bool) error {
	if c.fd < 0 || c.closeSent.Load() {
		return ErrClosed
	}
	h.Length = int64(len(payload))
	size := h.Size() + len(payload)
	if c.batching && !c.wantOut && len(c.out) > 0 && len(c.out)+size > c.s.set.queueLimit {
		c.endBatchLocked() // the batch is at the bound: write it now
		c.batching = true
	}
	for !control && len(c.out) > 0 && len(c.out)+size > c.s.set.queueLimit {
		switch c.s.set.policy {
		case Drop:
			return ErrQueueFull
		case Close:
			c.failLocked(&frame.ProtocolError{Code: frame.StatusPolicyViolation, Reason: "write queue full"})
			return ErrQueueFull
		}
		if !c.waitDrainLocked() {
			return ErrQueueFull
		}
		if c.fd < 0 || c.closeSent.Load() {
			return ErrClosed
		}
	}
	if len(c.out) > 0 || c.batching {
		// Queued behind earlier bytes, or written while callbacks run:
		// the worker writes what they produced with one system call when
		// the connection's callbacks are done (endBatchLocked), as a
		// goroutine-mode Conn defers its flush while input is buffered.
		if len(c.out) == 0 {
			c.out = getOut(size)
			c.outSince.Store(time.Now().UnixNano())
		}
		c.out = frame.AppendHeader(c.out, h)
		c.out = append(c.out, payload...)
		c.buffered.Store(int64(len(c.out)))
		return nil
	}
	var small [512]byte
	var n int
	var err error
	if size <= len(small) {
		b := append(frame.AppendHeader(small[:0], h), payload...)
		n, err = writeFD(c.fd, b)
		if n < len(b) && err == nil {
			c.queueLocked(b[n:], nil)
		}
	} else {
		b := frame.AppendHeader(small[:0], h)
		n, err = writeFD(c.fd, b)
		if err == nil {
			if n < len(b) {
				c.queueLocked(b[n:], payload)
			} else {
				var m int
				m, err = writeFD(c.fd, payload)
				if m < len(payload) && err == nil {
					c.queueLocked(nil, payload[m:])
				}
			}
		}
	}
	if err != nil {
		c.why = &conn.CloseError{Code: frame.StatusAbnormalClosure, Reason: err.Error()}
		c.shutdownLocked()
		return err
	}
	return nil
}

// writeFD writes b to the non-blocking socket fd, and reports a full
// socket as a short write, not an error.
func writeFD(fd int, b []byte) (int, error) {
	for {
		n, err := syscall.Write(fd, b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, nil
		case err != nil:
			return 0, err
		}
		return n, nil
	}
}

// Queue buffers of up to 64 KiB come from a pool: with write batching,
// every burst of replies starts one.
var outPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func getOut(n int) []byte {
	if n > 16<<10 {
		return make([]byte, 0, n)
	}
	return (*outPool.Get().(*[]byte))[:0]
}

func putOut(b []byte) {
	if cap(b) >= 16<<10 && cap(b) <= 64<<10 {
		b = b[:0]
		outPool.Put(&b)
	}
}

// queueLocked starts the queue with a and b and asks the loop to say when
// the socket is writable.
func (c *Conn) queueLocked(a, b []byte) {
	c.out = append(append(getOut(len(a)+len(b)), a...), b...)
	c.buffered.Store(int64(len(c.out)))
	c.outSince.Store(time.Now().UnixNano())
	c.wantOut = true
	c.l.modify(c)
}

// waitDrainLocked waits, with c.mu released, until the queue drains below
// half its bound or the write timeout passes; it reports whether it did.
func (c *Conn) waitDrainLocked() bool {
	if c.drained == nil {
		c.drained = make(chan struct{})
	}
	ch := c.drained
	c.mu.Unlock()
	var expired <-chan time.Time
	if d := c.s.set.writeTimeout; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		expired = t.C
	}
	ok := true
	select {
	case <-ch:
	case <-expired:
		ok = false
	}
	c.mu.Lock()
	if !ok {
		c.why = errWriteTimeout
		c.shutdownLocked()
	}
	return ok
}

var errWriteTimeout = errors.New("event: write timeout: the peer does not read")

// endBatchLocked writes what c's callbacks queued, when the worker has
// run them all; what the socket does not take waits for the loop.
func (c *Conn) endBatchLocked() {
	c.batching = false
	if len(c.out) == 0 || c.wantOut || c.fd < 0 {
		return
	}
	c.flushLocked()
	if len(c.out) > 0 && !c.wantOut && c.fd >= 0 {
		c.wantOut = true
		c.l.modify(c)
	}
}

// flushLocked writes what is queued, on the loop when the socket is
// writable.
func (c *Conn) flushLocked() {
	if c.fd < 0 {
		return
	}
	n, err := writeFD(c.fd, c.out)
	if err != nil {
		c.why = &conn.CloseError{Code: frame.StatusAbnormalClosure, Reason: err.Error()}
		c.shutdownLocked()
		return
	}
	if n > 0 {
		c.outSince.Store(time.Now().UnixNano())
	}
	rest := copy(c.out, c.out[n:])
	c.out = c.out[:rest]
	c.buffered.Store(int64(rest))
	if c.drained != nil && rest <= c.s.set.queueLimit/2 {
		close(c.drained)
		c.drained = nil
	}
	if rest == 0 {
		putOut(c.out)
		c.out = nil // an idle connection holds no buffer
		if c.wantOut {
			c.wantOut = false
			c.l.modify(c)
		}
		c.afterFlushLocked()
	}
}

// afterFlushLocked closes the socket once our last frames are out: after
// answering the peer's close (the server closes TCP first, RFC 6455
// §7.1.1), and half-closes it after failing the connection (§7.1.7), to
// wait briefly for the peer's close or EOF.
func (c *Conn) afterFlushLocked() {
	switch {
	case c.peerClose != nil && c.closeSent.Load():
		c.shutdownLocked()
	case c.failing.Load():
		syscall.Shutdown(c.fd, syscall.SHUT_WR)
	}
}

// shutdownLocked asks the loop to close the socket: the loop sees end of
// input and closes it there, the only goroutine that does, so that a
// descriptor number is never reused under a writer's feet.
func (c *Conn) shutdownLocked() {
	if c.fd < 0 || c.shutRead {
		return
	}
	c.shutRead = true
	syscall.Shutdown(c.fd, syscall.SHUT_RDWR)
}

// failLocked fails the connection (RFC 6455 §7.1.7) with the close code
// err carries, and lingers at most a second for the peer to see it.
func (c *Conn) failLocked(err error) {
	var pe *frame.ProtocolError
	if !errors.As(err, &pe) {
		pe = &frame.ProtocolError{Code: frame.StatusInternalError, Reason: err.Error()}
	}
	if c.why == nil {
		c.why = err
	}
	c.failing.Store(true)
	c.sendCloseLocked(pe.Code, pe.Reason, min(c.s.set.closeTimeout, time.Second))
	if len(c.out) == 0 {
		c.afterFlushLocked()
	}
}

// encode compresses p through the extension; the caller holds c.mu.
func (c *Conn) encode(h frame.Header, p []byte) (frame.Header, *[]byte) {
	buf := getBuf(len(p) + len(p)/256 + 64)
	w := appendWriter{buf}
	enc := c.ext.EncodeMessage(&w, len(p))
	if enc == nil {
		putBuf(buf)
		return h, nil
	}
	_, err := enc.Write(p)
	if cerr := enc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		putBuf(buf)
		return h, nil // send it as is
	}
	h.RSV = c.ext.RSV()
	return h, w.b
}

// appendWriter collects an encoder's output in a pooled buffer.
type appendWriter struct{ b *[]byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	*w.b = append(*w.b, p...)
	return len(p), nil
}
