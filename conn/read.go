package conn

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/rfc6455/ws/frame"
	"github.com/rfc6455/ws/internal/proto"
)

// messageReader yields the payload of the current data message. Its raw
// side walks the frames of the message, handling control frames that arrive
// between them; its decoded side applies the extension, the read limit and
// UTF-8 validation of text.
type messageReader struct {
	c        *Conn
	typ      MessageType
	open     bool // a message is being read
	lastSeen bool // the final frame of the message has been reached
	decoded  io.Reader
	text     bool
	utf8     frame.UTF8Validator
	n        int64 // decoded bytes delivered
	limit    int64 // read limit applied to decoded bytes
	raw      rawPayload
}

// rawPayload reads the payload bytes of the current message across frames,
// as they are on the wire (unmasked, before any extension decodes them).
type rawPayload struct{ m *messageReader }

// NextReader waits for the next data message and returns its type and a
// reader of its payload, valid until the next call to NextReader or
// ReadMessage. Control frames that arrive meanwhile are handled. ctx bounds
// the wait for the message to start; reads from the returned reader are
// bounded by the read deadline. A message left partly read is discarded by
// the next call.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	if !c.readLock.tryLock() {
		if err := c.readLockBusy(ctx); err != nil {
			return 0, nil, err
		}
	}
	defer c.readLock.unlock()
	if err := c.awaitMessage(ctx); err != nil {
		return 0, nil, err
	}
	interrupted := c.watch(ctx, true)
	h, err := c.nextFirstFrame()
	if interrupted() && err != nil {
		return 0, nil, ctx.Err()
	}
	if err != nil {
		return 0, nil, err
	}
	return c.msg.begin(h), &c.streamed, nil
}

// streamedMessage is the reader NextReader returns. Its reads take the
// read lock, like every other read, so closing the Conn from another
// goroutine never releases state a read is using.
type streamedMessage struct{ c *Conn }

func (s *streamedMessage) Read(p []byte) (int, error) {
	if !s.c.readLock.tryLock() {
		if err := s.c.readLockBusy(context.Background()); err != nil {
			return 0, err
		}
	}
	n, err := s.c.msg.Read(p)
	s.c.readLock.unlock() // not deferred: see ReadMessage
	return n, err
}

// readLockBusy decides what a read does when it finds the read lock held.
// While the Conn is open and our close frame has not gone out, only another
// read can hold it, and two goroutines reading at once is the
// application's error: ErrConcurrentRead. Once the Conn is closing, the
// holder may be Close, reading the peer's close on the application's
// behalf because no read was waiting, or closeTCP releasing the read side;
// a read loop that was between two messages must not fail for either. The
// read waits until the connection has ended, which Close's timeouts bound,
// and takes the lock, to return what every read after the end returns. A
// nil result means the caller holds the lock.
func (c *Conn) readLockBusy(ctx context.Context) error {
	if !c.closeSent.Load() && !c.isClosed.Load() {
		return ErrConcurrentRead
	}
	select {
	case <-c.closed:
	case <-ctx.Done():
		return ctx.Err()
	}
	if !c.readLock.tryLock() {
		return ErrConcurrentRead // a read still ending: a real second reader
	}
	return nil
}

// ReadMessage reads the next data message, appending its payload to dst,
// and returns its type and the extended slice. Passing the previous result
// sliced to zero length, as in
//
//	typ, buf, err = c.ReadMessage(ctx, buf[:0])
//
// makes a read loop allocate nothing once buf has grown to the largest
// message. Text messages are validated as UTF-8 as they arrive (RFC 6455
// §8.1).
func (c *Conn) ReadMessage(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	if !c.readLock.tryLock() {
		if err := c.readLockBusy(ctx); err != nil {
			return 0, dst, err
		}
	}
	// The unlock is not deferred: a defer here costs about 30 instructions
	// of a small message's 500 (saving the results for it and calling it).
	// Nothing below panics on any input; if a bug made it, the lock would
	// stay held and later reads would fail with ErrConcurrentRead.
	err := c.awaitMessage(ctx)
	var typ MessageType
	if err == nil {
		typ, dst, err = c.readMessage(ctx, dst)
	}
	c.readLock.unlock()
	return typ, dst, err
}

// readMessage is ReadMessage once input is there.
func (c *Conn) readMessage(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	h, buffered, err := c.bufferedFirstFrame()
	if err != nil {
		return 0, dst, err
	}
	if buffered && h.Fin && h.RSV == 0 {
		// The common case: a message of one frame, untransformed and
		// buffered whole. It is copied out without watching ctx or the
		// messageReader, which streams messages of any shape.
		typ := MessageType(h.Opcode)
		start := len(dst)
		dst = c.fr.AppendBuffered(dst)
		c.messageEnded()
		if typ == Text && !utf8.Valid(dst[start:]) {
			return 0, dst[:start], c.fail(frame.ErrInvalidUTF8, nil)
		}
		return typ, dst, nil
	}
	interrupted := c.watch(ctx, true)
	if !buffered {
		if h, err = c.nextFirstFrame(); err != nil {
			if interrupted() {
				return 0, dst, ctx.Err()
			}
			return 0, dst, err
		}
	}
	return c.readFrames(ctx, dst, h, interrupted)
}

// bufferedFirstFrame returns the header of the next data message's first
// frame if that frame is buffered whole, handling any control frames,
// also buffered whole, before it. It reads nothing from the network: when
// the next frame is not all there, or a message is open, it returns false
// and the caller waits for input as usual.
func (c *Conn) bufferedFirstFrame() (frame.Header, bool, error) {
	if c.readErr != nil || c.msg.open || c.ctrl.active {
		return frame.Header{}, false, nil
	}
	for {
		h, ok, err := c.fr.NextBufferedHeader()
		if err != nil {
			return h, false, c.fail(err, nil)
		}
		if !ok {
			return h, false, nil
		}
		kind, err := c.admit(&h)
		if err != nil {
			return h, false, err
		}
		if kind != proto.KindControl {
			return h, true, nil // the rules admit only a first frame here
		}
	}
}

// admit applies the receive rules to header h, failing the connection if
// they refuse it, and handles the control frame h starts, if it does. It
// returns h's kind.
func (c *Conn) admit(h *frame.Header) (proto.FrameKind, error) {
	kind, err := c.rules.Check(h)
	if err != nil {
		return kind, c.fail(err, nil)
	}
	if kind == proto.KindControl {
		c.ctrl.active, c.ctrl.h, c.ctrl.n = true, *h, 0
		return kind, c.handleControl()
	}
	return kind, nil
}

// awaitMessage waits for the next message's first bytes when none are
// buffered, on connections that wait without a read buffer (rawReader).
// It runs before the rest of ReadMessage, near the top of the stack: a
// goroutine parked with less than a quarter of its stack in use has the
// stack halved by the garbage collector, so an idle connection's goroutine
// can get by with the minimum (2 KiB). A done ctx ends the wait with
// ctx.Err() and leaves the Conn usable.
func (c *Conn) awaitMessage(ctx context.Context) error {
	if c.readErr != nil {
		return c.readErr
	}
	if c.msg.open || c.ctrl.active || c.fr.Buffered() > 0 || c.raw.rc == nil {
		return nil
	}
	interrupted := c.watch(ctx, true)
	err := c.awaitInput()
	if err != nil {
		err = c.readFailed(err)
	}
	if interrupted() && err != nil {
		return ctx.Err()
	}
	return err
}

// readFrames is readMessage for a message that is not one frame buffered
// whole: it reads the message whose first frame's header is h through the
// messageReader. The caller watches ctx.
func (c *Conn) readFrames(ctx context.Context, dst []byte, h frame.Header, interrupted func() bool) (MessageType, []byte, error) {
	typ := c.msg.begin(h)
	m := &c.msg
	start := len(dst)
	if h := min(c.rules.Size(), maxPrealloc); c.rules.Counts() && m.lastSeen && int64(cap(dst)-len(dst)) < h {
		// A single-frame message of known size: grow once, up to
		// maxPrealloc; past that, grow only as payload arrives, so a
		// header alone cannot make us reserve memory.
		dst = slices.Grow(dst, int(h))
	}
	for {
		if len(dst) == cap(dst) {
			if m.atEnd() {
				m.open = false
				c.messageEnded()
				if m.text && !m.utf8.Complete() {
					return 0, dst, c.fail(frame.ErrInvalidUTF8, nil)
				}
				interrupted()
				return typ, dst, nil
			}
			dst = growMessage(dst, len(dst)-start, m.knownRest(), c.opts.ReadLimit)
		}
		n, err := m.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			interrupted()
			return typ, dst, nil
		}
		if err != nil {
			if interrupted() || isTimeout(err) {
				err = c.fail(&frame.ProtocolError{Code: frame.StatusPolicyViolation, Reason: "read interrupted inside a message"}, err)
			}
			return 0, dst, err
		}
	}
}

// maxPrealloc bounds the room ReadMessage reserves for a message before its
// payload has arrived.
const maxPrealloc = 64 << 10

// minGrowth is the least room growMessage adds.
const minGrowth = 512

// growMessage returns full, a buffer holding n bytes of a message after
// what came before it, with room for more. rest is the number of bytes the
// message still has when that is known (its last frame has arrived and no
// extension transforms it), or -1. limit is the read limit (<= 0: none).
//
// Growth is what keeps a message's memory near its size: growing by
// doubling, as append does, holds the old and the new buffer at once and
// leaves the earlier ones as garbage, up to three times the message in
// all. Here every buffer ever allocated for one message adds up to at most
// 1.25 times the limit plus minGrowth: the buffer doubles while it stays
// within an eighth of the limit (those buffers add up to a quarter of it)
// and then jumps to what the largest allowed message needs (the limit,
// plus one byte to see the message end) or, when the rest is known, to
// the exact size.
func growMessage(full []byte, n int, rest, limit int64) []byte {
	room := int64(max(n, minGrowth))
	switch {
	case rest > 0:
		room = rest
	case limit > 0 && int64(n)+room > limit/8:
		room = max(limit+1-int64(n), 1)
	}
	grown := make([]byte, len(full), int64(len(full))+room)
	copy(grown, full)
	return grown
}

// nextFirstFrame discards the rest of any open message and reads frames
// until a data message starts, and returns its first frame's header.
func (c *Conn) nextFirstFrame() (frame.Header, error) {
	if c.readErr != nil {
		return frame.Header{}, c.readErr
	}
	if c.msg.open {
		if _, err := io.Copy(io.Discard, &c.msg); err != nil {
			return frame.Header{}, err
		}
	}
	return c.nextDataFrame(proto.KindFirst)
}

// begin opens the message whose first frame has header h for reading and
// returns its type.
func (m *messageReader) begin(h frame.Header) MessageType {
	c := m.c
	*m = messageReader{c: c, typ: MessageType(h.Opcode), open: true, lastSeen: h.Fin, limit: c.opts.ReadLimit}
	m.raw.m = m
	m.text = m.typ == Text
	m.decoded = &m.raw
	if h.RSV != 0 {
		m.decoded = c.ext.DecodeMessage(&m.raw, c.opts.ReadLimit)
	}
	return m.typ
}

// nextDataFrame reads headers, handling control frames, until a data frame
// arrives, and returns it. want says which kind the caller expects; the
// rules reject the other kind. Errors other than timeouts fail the
// connection.
func (c *Conn) nextDataFrame(want proto.FrameKind) (frame.Header, error) {
	for {
		if c.ctrl.active {
			// A control frame's payload was cut short by a timeout; finish it.
			if err := c.handleControl(); err != nil {
				return frame.Header{}, err
			}
			continue
		}
		h, err := c.nextHeader()
		if err != nil {
			return h, c.readFailed(err)
		}
		kind, err := c.admit(&h)
		if err != nil {
			return h, err
		}
		if kind == proto.KindControl {
			continue
		}
		if kind != want {
			// Only reachable if the caller's state and the rules disagree.
			return h, c.fail(ErrExpectedContinuation, nil)
		}
		return h, nil
	}
}

// knownRest returns how many payload bytes an untransformed message has
// left once its last frame has arrived, and -1 while that is not known.
func (m *messageReader) knownRest() int64 {
	if m.decoded != &m.raw || !m.lastSeen || m.c.ctrl.active {
		return -1
	}
	return m.c.fr.Remaining()
}

// atEnd reports whether an untransformed message has been read to its end,
// so ReadMessage need not grow a full buffer to learn it.
func (m *messageReader) atEnd() bool {
	return m.decoded == &m.raw && m.lastSeen && m.c.fr.Remaining() == 0 && !m.c.ctrl.active
}

// Read implements io.Reader over the decoded message.
func (m *messageReader) Read(p []byte) (int, error) {
	c := m.c
	if !m.open {
		if c.readErr != nil {
			return 0, c.readErr
		}
		return 0, io.EOF
	}
	if m.limit > 0 && m.decoded != &m.raw {
		// The extension enforces the limit; make sure we never hand out more.
		p = p[:min(int64(len(p)), m.limit-m.n+1)]
	}
	n, err := m.decoded.Read(p)
	if n > 0 {
		m.n += int64(n)
		if m.limit > 0 && m.n > m.limit {
			return 0, c.fail(ErrMessageTooBig, nil)
		}
		if m.text && !m.utf8.Write(p[:n]) {
			return 0, c.fail(frame.ErrInvalidUTF8, nil)
		}
	}
	switch {
	case err == io.EOF:
		m.open = false
		c.messageEnded()
		if m.text && !m.utf8.Complete() {
			return n, c.fail(frame.ErrInvalidUTF8, nil)
		}
	case err != nil:
		var pe *frame.ProtocolError
		if errors.As(err, &pe) && c.readErr == nil {
			// The extension found corrupt or oversized data.
			err = c.fail(pe, nil)
		}
		return n, err
	}
	return n, err
}

func (r *rawPayload) Read(p []byte) (int, error) {
	m := r.m
	c := m.c
	for c.fr.Remaining() == 0 {
		if m.lastSeen {
			return 0, io.EOF
		}
		h, err := c.nextDataFrame(proto.KindContinuation)
		if err != nil {
			return 0, err
		}
		m.lastSeen = h.Fin
	}
	n, err := c.fr.Read(p)
	if err != nil && err != io.EOF {
		return n, c.readFailed(err)
	}
	return n, nil
}

// handleControl reads the payload of the control frame in c.ctrl and acts
// on it (RFC 6455 §5.5). A timeout leaves the partial payload in place to be
// finished by the next read.
func (c *Conn) handleControl() error {
	h := c.ctrl.h
	p := c.ctrlBuf[:h.Length]
	for c.ctrl.n < len(p) {
		n, err := c.fr.Read(p[c.ctrl.n:])
		c.ctrl.n += n
		if err != nil {
			return c.readFailed(err)
		}
	}
	c.ctrl.active = false
	c.heardFromPeer()
	switch h.Opcode {
	case frame.OpPing:
		if c.opts.OnPing != nil {
			c.opts.OnPing(p)
		}
		c.queuePong(p)
	case frame.OpPong:
		if c.opts.OnPong != nil {
			c.opts.OnPong(p)
		}
		c.pings.pong(p)
	case frame.OpClose:
		return c.handleClose(p)
	}
	return nil
}

// handleClose answers the peer's close frame and ends the connection
// (RFC 6455 §5.5.1, §7.1.5).
func (c *Conn) handleClose(p []byte) error {
	pc, err := proto.ParsePeerClose(p)
	if err != nil {
		// The peer has closed, if malformedly: the closing handshake ends
		// with our close carrying the error's code, and no reply is owed
		// to us, so fail does not wait for one.
		c.recordPeerClose(&CloseError{Code: frame.StatusProtocolError, Reason: "malformed close frame"})
		return c.fail(err, nil)
	}
	ce := &CloseError{Code: pc.Code, Reason: pc.Reason}
	if !c.recordPeerClose(ce) {
		c.writeClose(pc.Reply(), "")
	}
	if c.role == Client {
		c.awaitServerClose()
	}
	c.closeTCP(ce)
	c.endRead(ce)
	return ce
}

// readFailed handles an error from the network on the read side. Timeouts
// are returned as is and leave the Conn usable; anything else means the
// connection is gone without a close frame: 1006 (RFC 6455 §7.1.5).
func (c *Conn) readFailed(err error) error {
	var pe *frame.ProtocolError
	if errors.As(err, &pe) {
		return c.fail(pe, nil)
	}
	if isTimeout(err) {
		return err
	}
	if c.readErr != nil {
		return c.readErr
	}
	end := c.endErr()
	if end == nil {
		end = &CloseError{Code: frame.StatusAbnormalClosure, err: err}
		c.closeTCP(end)
	}
	c.endRead(end)
	return end
}

// fail fails the connection (RFC 6455 §7.1.7): it sends a close frame with
// the code pe earns, waits a bounded time for the peer's close, closes TCP
// and makes the read side return pe from now on. cause, if any, is the
// underlying error. The caller holds the read lock.
func (c *Conn) fail(err error, cause error) error {
	var pe *frame.ProtocolError
	if !errors.As(err, &pe) {
		pe = &frame.ProtocolError{Code: frame.StatusInternalError, Reason: err.Error()}
	}
	if cause != nil {
		err = errors.Join(err, cause)
	}
	if c.readErr != nil {
		return c.readErr
	}
	c.endRead(err)
	c.writeClose(pe.Code, pe.Reason)
	c.drainUntilClose(min(c.opts.CloseTimeout, failLinger), failDrainBytes)
	if c.role == Client && c.hasPeerClose() {
		c.awaitServerClose()
	}
	c.closeTCP(err)
	return err
}

// After failing the connection, the Conn waits at most failLinger for the
// peer's close frame, discarding at most failDrainBytes of what comes
// before it. RFC 6455 §7.1.7 lets an endpoint that fails a connection stop
// processing at once; the wait only gives a peer that made a mistake the
// chance to see our close frame before the TCP connection goes (closing a
// socket with unread input resets it, and a reset may discard the close
// frame before the peer reads it). A peer that keeps sending gets neither
// more time nor more of our CPU.
const (
	failLinger     = time.Second
	failDrainBytes = 1 << 20
)

// drainUntilClose reads and discards frames until the peer's close frame or
// the end of the stream, for at most timeout and, if budget is positive,
// at most budget bytes of payload, and records the peer's close. The
// caller holds the read lock and has sent its own close frame.
func (c *Conn) drainUntilClose(timeout time.Duration, budget int64) {
	if c.hasPeerClose() {
		return
	}
	if budget > 0 {
		// The rest of the frame the reader is in is discarded first.
		if budget -= c.fr.Remaining(); budget <= 0 {
			return
		}
	}
	c.nc.SetReadDeadline(deadlineIn(timeout))
	for {
		h, err := c.nextHeader()
		if err != nil {
			return
		}
		if h.Opcode != frame.OpClose {
			if budget > 0 {
				if budget -= h.Length + 2; budget <= 0 {
					return
				}
			}
			continue
		}
		p := c.ctrlBuf[:h.Length]
		if _, err := io.ReadFull(&c.fr, p); err != nil {
			return
		}
		code, reason, err := frame.ParseClosePayload(p)
		if err != nil {
			code, reason = frame.StatusProtocolError, err.Error()
		}
		c.recordPeerClose(&CloseError{Code: code, Reason: reason})
		return
	}
}

// peerClosed returns a channel closed when the peer's close frame has
// arrived. It is made on first use: most connections never wait for it.
func (c *Conn) peerClosed() <-chan struct{} {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.gotClose == nil {
		c.gotClose = make(chan struct{})
		if c.peerClose != nil {
			close(c.gotClose)
		}
	}
	return c.gotClose
}

// recordPeerClose stores the peer's close frame and wakes Close. It reports
// whether our own close frame had already been sent.
func (c *Conn) recordPeerClose(ce *CloseError) (closeSent bool) {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.peerClose == nil {
		c.peerClose = ce
		if c.gotClose != nil {
			close(c.gotClose)
		}
	}
	return c.closeSent.Load()
}

// awaitServerClose waits, on a client, for the server to close TCP after the
// close handshake (RFC 6455 §7.1.1), for at most CloseTimeout.
func (c *Conn) awaitServerClose() {
	c.nc.SetReadDeadline(deadlineIn(c.opts.CloseTimeout))
	var buf [64]byte
	for {
		if _, err := c.nc.Read(buf[:]); err != nil {
			return
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
