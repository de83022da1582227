package conn

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/ws/frame"
)

// lockWriter takes the message write lock, giving up when ctx is done.
func (c *Conn) lockWriter(ctx context.Context) error {
	if c.wlocks.tryLock(lockMessage) || c.wlocks.lock(lockMessage, ctx.Done(), c.closed, nil) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.endErr()
}

func (c *Conn) unlockWriter() {
	c.wlocks.unlock(lockMessage)
	c.afterWriter()
}

// unlockWriterAndWire releases both locks, taken together by WriteMessage,
// with what unlockWire and unlockWriter do after.
func (c *Conn) unlockWriterAndWire() {
	c.releaseWriteBuf()
	c.wlocks.unlock(lockMessage | lockWire)
	c.afterWire()
	c.afterWriter()
}

// afterWriter gives up the write side's use of the extension if the
// connection closed while a writer held the message lock.
func (c *Conn) afterWriter() {
	if c.isClosed.Load() {
		c.tryEndWrite()
	}
}

// lockWire takes the lock on the wire, waiting at most timeout (0: no
// bound). It reports whether it got it.
func (c *Conn) lockWire(timeout time.Duration) bool {
	if c.tryLockWire() {
		return true
	}
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	if !c.wlocks.lock(lockWire, nil, c.closed, expired) {
		return false
	}
	c.attachWriteBuf()
	return true
}

// unlockWire releases the wire and does what afterWire does.
func (c *Conn) unlockWire() {
	c.releaseWire()
	c.afterWire()
}

// afterWire runs after the wire is released: it sends a pong the reader
// queued meanwhile, and a deferred flush the reader tried to send while
// the wire was held. The reader clears moreInput before it tries the wire
// and we look at moreInput after releasing it, so if its attempt failed we
// see that it is no longer reading from its buffer, and flush.
func (c *Conn) afterWire() {
	if ps, ok := c.pongPending(); ok {
		c.flushPong(ps)
	}
	if c.flushPending.Load() && !c.moreInput.Load() {
		c.flushDeferred(false)
	}
}

// writeFrames sends payload as one data message or the rest of one:
// fragmented at MaxFrameSize, the first frame with op and rsv, the last with
// FIN when fin is set. The caller holds the write lock.
func (c *Conn) writeFrames(ctx context.Context, op frame.Opcode, rsv byte, p []byte, fin, flush bool) error {
	interrupted := c.watch(ctx, false)
	defer interrupted()
	for {
		chunk := p
		if max := c.opts.MaxFrameSize; max > 0 && len(chunk) > max {
			chunk = chunk[:max]
		}
		p = p[len(chunk):]
		last := len(p) == 0
		h := frame.Header{Fin: fin && last, RSV: rsv, Opcode: op}
		if err := c.writeFrame(h, chunk, flush && last); err != nil {
			return err
		}
		if last {
			return nil
		}
		op, rsv = frame.OpContinuation, 0
	}
}

// writeFrame puts one frame on the wire, masking it on a client.
func (c *Conn) writeFrame(h frame.Header, payload []byte, flush bool) error {
	if !c.lockWire(0) {
		return c.endErr()
	}
	defer c.unlockWire()
	return c.writeFrameLocked(h, payload, flush)
}

// writeFrameLocked is writeFrame for a caller that holds the wire.
func (c *Conn) writeFrameLocked(h frame.Header, payload []byte, flush bool) error {
	if c.writeErr != nil {
		return c.writeErr
	}
	if c.closeSentLocked() {
		return ErrClosed
	}
	if c.role == Client {
		h.Masked = true
		h.Key = c.keys.next()
	}
	err := c.fw.WriteFrame(h, payload)
	if err == nil && flush {
		err = c.endMessage()
	}
	if err != nil {
		c.writeFailed(err)
	}
	return err
}

// writeFailed makes a write error sticky and closes the connection: once
// part of a frame may have been sent, the stream cannot be resumed. The
// caller holds the wire.
func (c *Conn) writeFailed(err error) {
	c.writeErr = err
	c.closeTCP(&CloseError{Code: frame.StatusAbnormalClosure, err: err})
}

// closeSentLocked reports whether our close frame went out; after it no
// other frame may be sent (RFC 6455 §5.5.1). The caller holds the wire, and
// the close frame is sent under the wire after closeSent is set, so the
// answer cannot change before the caller lets go.
func (c *Conn) closeSentLocked() bool { return c.closeSent.Load() }

// WriteMessage sends p as one message of type typ. With MaxFrameSize set,
// a long message is fragmented. A binary message up to the write buffer
// size costs one copy into the buffer and no allocation.
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, p []byte) error {
	if typ != Text && typ != Binary {
		return ErrInvalidType
	}
	if c.oneFrame(len(p)) && c.wlocks.tryLock(lockMessage|lockWire) {
		// The common case: a message sent as one frame, by a writer that
		// finds both locks free and takes them at once.
		c.attachWriteBuf()
		interrupted := c.watch(ctx, false)
		err := c.writeFrameLocked(frame.Header{Fin: true, Opcode: frame.Opcode(typ)}, p, true)
		interrupted()
		c.unlockWriterAndWire()
		return err
	}
	return c.writeMessageLocking(ctx, typ, p)
}

// writeMessageLocking is WriteMessage for a message that waits for the
// locks, is compressed or is fragmented. It is apart so that the common
// case above pays nothing for its deferred unlock.
func (c *Conn) writeMessageLocking(ctx context.Context, typ MessageType, p []byte) error {
	if err := c.lockWriter(ctx); err != nil {
		return err
	}
	defer c.unlockWriter()
	if c.ext != nil && c.compress.Load() {
		c.mw.frames.m = &c.mw
		if enc := c.ext.EncodeMessage(&c.mw.frames, len(p)); enc != nil {
			c.mw.start(ctx, typ, c.mw.wholeSize(len(p)))
			c.mw.rsv = c.ext.RSV()
			return c.mw.finish(enc, p)
		}
	}
	return c.writeFrames(ctx, frame.Opcode(typ), 0, p, true, true)
}

// oneFrame reports whether WriteMessage sends a message of n bytes as one
// frame, as it is: not encoded by an extension, not fragmented.
func (c *Conn) oneFrame(n int) bool {
	return (c.ext == nil || !c.compress.Load()) && (c.opts.MaxFrameSize <= 0 || n <= c.opts.MaxFrameSize)
}

// SetWriteCompression turns the negotiated extension's encoding of
// messages written after the call on or off (default on). Turn it off for
// payloads that are already compressed, such as images: permessage-deflate
// lets each message be sent uncompressed (RFC 7692 §6). It has no effect on
// a Conn without an extension.
func (c *Conn) SetWriteCompression(enabled bool) { c.compress.Store(enabled) }

// NextWriter returns a writer for one message of type typ, which is sent
// in frames as the writer's buffer fills and ends when the writer is
// closed. Other writers wait until then, so the writer must be closed.
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if typ != Text && typ != Binary {
		return nil, ErrInvalidType
	}
	if err := c.lockWriter(ctx); err != nil {
		return nil, err
	}
	c.mw.start(ctx, typ, c.mw.frameSize())
	c.mw.stream = true
	if c.ext != nil && c.compress.Load() {
		if enc := c.ext.EncodeMessage(&c.mw.frames, -1); enc != nil {
			c.mw.rsv = c.ext.RSV()
			c.mw.enc = enc
		}
	}
	return &c.mw, nil
}

// messageWriter streams one message as frames. It buffers up to one frame
// and sends it when the buffer fills, so a message of unknown length needs
// no more memory than a frame.
type messageWriter struct {
	c      *Conn
	ctx    context.Context
	op     frame.Opcode // opcode of the next frame
	rsv    byte         // RSV bits of the first frame
	buf    []byte       // pending payload of the next frame
	bufp   *[]byte      // pooled backing of buf while a message is open
	stream bool         // returned by NextWriter: Close releases the write lock
	open   bool
	enc    io.WriteCloser // extension encoder writing into frames, or nil
	frames frameSink
	err    error
}

// frameSink is where an extension's encoder writes the encoded message.
type frameSink struct{ m *messageWriter }

func (s *frameSink) Write(p []byte) (int, error) { return s.m.writeRaw(p) }

// start opens a message staged through a pooled buffer of n bytes, the
// most a frame carries.
func (m *messageWriter) start(ctx context.Context, typ MessageType, n int) {
	m.ctx, m.op, m.rsv, m.open, m.err, m.enc, m.stream = ctx, frame.Opcode(typ), 0, true, nil, nil, false
	m.frames.m = m
	m.bufp = getBuf(poolFor(n), n)
	m.buf = (*m.bufp)[:0]
}

func (m *messageWriter) frameSize() int {
	if n := m.c.opts.MaxFrameSize; n > 0 && n < m.c.opts.WriteBufferSize {
		return n
	}
	return m.c.opts.WriteBufferSize
}

// maxWholeFrame bounds the staging buffer of a message written whole
// through an extension.
const maxWholeFrame = 64 << 10

// wholeSize is the staging size for a message of n bytes that WriteMessage
// encodes through the extension: large enough, up to 64 KiB, for the
// encoded message to leave as one frame and one write (compressed output
// is at most a few bytes per 64 KiB longer than its input), in powers of
// two from WriteBufferSize so that few pools serve all sizes. With
// MaxFrameSize set, frames keep to it.
func (m *messageWriter) wholeSize(n int) int {
	size := m.frameSize()
	if m.c.opts.MaxFrameSize > 0 {
		return size
	}
	for size < n+n/256+64 && size < maxWholeFrame {
		size *= 2
	}
	return size
}

// finish encodes p whole through enc and ends the message (WriteMessage
// with an extension).
func (m *messageWriter) finish(enc io.WriteCloser, p []byte) error {
	m.enc = enc
	if _, err := enc.Write(p); err != nil {
		m.err = err
	}
	// Close even after an error, to release the message's buffer.
	return m.Close()
}

// Write adds p to the message.
func (m *messageWriter) Write(p []byte) (int, error) {
	if !m.open {
		return 0, ErrWriterClosed
	}
	if m.err != nil {
		return 0, m.err
	}
	if m.enc != nil {
		return m.enc.Write(p)
	}
	return m.writeRaw(p)
}

// writeRaw buffers payload bytes, sending a non-final frame whenever the
// buffer is full and more bytes follow.
func (m *messageWriter) writeRaw(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if len(m.buf) == cap(m.buf) {
			if err := m.flushFrame(false); err != nil {
				return n, err
			}
		}
		c := copy(m.buf[len(m.buf):cap(m.buf)], p)
		m.buf = m.buf[:len(m.buf)+c]
		p = p[c:]
		n += c
	}
	return n, nil
}

func (m *messageWriter) flushFrame(fin bool) error {
	err := m.c.writeFrames(m.ctx, m.op, m.rsv, m.buf, fin, fin)
	m.op, m.rsv, m.buf = frame.OpContinuation, 0, m.buf[:0]
	if err != nil {
		m.err = err
	}
	return err
}

// Close ends the message with a final frame and releases the write lock.
func (m *messageWriter) Close() error {
	if !m.open {
		return ErrWriterClosed
	}
	err := m.err
	if m.enc != nil {
		if err == nil {
			err = m.enc.Close()
		}
		m.c.noteEncoded()
	}
	if err == nil {
		err = m.flushFrame(true)
	}
	m.open = false
	m.enc = nil
	*m.bufp = m.buf[:0]
	putBuf(poolFor(cap(*m.bufp)), m.bufp)
	m.buf, m.bufp = nil, nil
	if m.stream {
		m.c.unlockWriter()
	}
	return err
}

// queuePong arranges for a pong carrying p to be sent. If a writer holds
// the wire, the pong goes out when it lets go, so the reading goroutine
// never waits for a writer. Only the latest unanswered ping is answered,
// as RFC 6455 §5.5.3 allows.
func (c *Conn) queuePong(p []byte) {
	ps := c.pong.Load()
	if ps == nil {
		// Only the reading goroutine stores it, so there is no race to lose.
		ps = new(pongState)
		c.pong.Store(ps)
	}
	ps.mu.Lock()
	ps.n = copy(ps.buf[:], p)
	ps.mu.Unlock()
	ps.pending.Store(true)
	c.flushPong(ps)
}

// pongState holds the pong the reader queued for the next holder of the
// wire. A Conn allocates it when the first ping arrives: many connections
// are never pinged, and the 125-byte payload would cost each of them.
type pongState struct {
	pending atomic.Bool
	mu      sync.Mutex
	n       int
	buf     [frame.MaxControlPayload]byte
}

// pongPending reports whether a queued pong waits for the wire.
func (c *Conn) pongPending() (*pongState, bool) {
	ps := c.pong.Load()
	return ps, ps != nil && ps.pending.Load()
}

// flushPong sends the queued pong if the wire is free. If it is not, the
// holder sends it in unlockWire.
func (c *Conn) flushPong(ps *pongState) {
	for ps.pending.Load() {
		if !c.tryLockWire() {
			return
		}
		if ps.pending.Swap(false) && c.writeErr == nil && !c.closeSentLocked() {
			var buf [frame.MaxControlPayload]byte
			ps.mu.Lock()
			p := buf[:copy(buf[:], ps.buf[:ps.n])]
			ps.mu.Unlock()
			c.writeControlLocked(frame.OpPong, p)
		}
		c.releaseWire()
	}
}

// writeControlLocked sends a control frame and flushes. The caller holds
// the wire.
func (c *Conn) writeControlLocked(op frame.Opcode, p []byte) error {
	if c.writeErr != nil {
		return c.writeErr
	}
	h := frame.Header{Fin: true, Opcode: op}
	if c.role == Client {
		h.Masked = true
		h.Key = c.keys.next()
	}
	err := c.fw.WriteFrame(h, p)
	if err == nil {
		err = c.fw.Flush()
	}
	if err != nil {
		c.writeFailed(err)
	}
	return err
}

// writeControl sends a control frame from any goroutine, waiting for the
// wire at most timeout.
func (c *Conn) writeControl(op frame.Opcode, p []byte, timeout time.Duration) error {
	if len(p) > frame.MaxControlPayload {
		return ErrControlTooLong
	}
	if !c.lockWire(timeout) {
		return c.endErrOr(ErrClosed)
	}
	defer c.unlockWire()
	if c.closeSentLocked() {
		return ErrClosed
	}
	return c.writeControlLocked(op, p)
}
