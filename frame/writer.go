package frame

import (
	"errors"
	"io"
)

// Writer writes frames to an io.Writer through a fixed buffer. Masked
// payloads are copied into the buffer and masked there, so the caller's slice
// is never modified; large unmasked payloads bypass the buffer. Nothing
// reaches the destination until the buffer fills or Flush is called.
type Writer struct {
	dst io.Writer
	buf []byte // len(buf) is the capacity; buf[:n] is pending
	n   int
}

// NewWriter returns a Writer that writes to dst through buf, which must be
// at least MaxHeaderSize bytes long.
func NewWriter(dst io.Writer, buf []byte) (*Writer, error) {
	w := &Writer{}
	if err := w.Reset(dst, buf); err != nil {
		return nil, err
	}
	return w, nil
}

// Reset discards pending bytes and makes w write to dst through buf.
func (w *Writer) Reset(dst io.Writer, buf []byte) error {
	if len(buf) < MaxHeaderSize {
		return ErrBufferTooSmall
	}
	*w = Writer{dst: dst, buf: buf}
	return nil
}

// Detach takes the buffer away from w and returns it when nothing is
// pending, so that a quiet connection need not hold one; it returns nil,
// and keeps the buffer, while bytes wait to be flushed. Until Attach,
// WriteFrame and Write fail with ErrNoBuffer.
func (w *Writer) Detach() []byte {
	if w.n > 0 || w.buf == nil {
		return nil
	}
	b := w.buf
	w.buf = nil
	return b
}

// Attach gives a detached w the buffer buf.
func (w *Writer) Attach(buf []byte) error {
	switch {
	case len(buf) < MaxHeaderSize:
		return ErrBufferTooSmall
	case w.buf != nil:
		return errors.New("ws: Writer.Attach on an attached writer")
	}
	w.buf = buf
	return nil
}

// Attached reports whether w has a buffer.
func (w *Writer) Attached() bool { return w.buf != nil }

// VectorWriter is implemented by destinations that can write two slices
// with one call, as writev does (net.Buffers over a TCP connection). Writer
// uses it to send a buffered header and a large payload together. Either
// all of a and b are written or an error is returned.
type VectorWriter interface {
	WriteVectors(a, b []byte) error
}

// Buffered returns the number of bytes waiting to be flushed.
func (w *Writer) Buffered() int { return w.n }

// WriteFrame writes one frame: h with its Length set to len(payload), then
// the payload, masked with h.Key when h.Masked.
func (w *Writer) WriteFrame(h Header, payload []byte) error {
	if n := len(payload); n <= 0xFFFF && !h.Masked && len(w.buf)-w.n >= 4+n {
		// The common frame of a server's message: unmasked, its length
		// in the 2- or 4-byte header, room for all of it. (A detached
		// writer has no room and goes on below.)
		b := w.buf[w.n:]
		b[0] = h.firstByte()
		hl := 2
		if n <= 125 {
			b[1] = byte(n)
		} else {
			b[1], b[2], b[3] = 126, byte(n>>8), byte(n)
			hl = 4
		}
		w.n += hl + copy(b[hl:], payload)
		return nil
	}
	if w.buf == nil {
		return ErrNoBuffer
	}
	h.Length = int64(len(payload))
	if len(w.buf)-w.n < MaxHeaderSize {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	w.n = len(AppendHeader(w.buf[:w.n], h))
	if !h.Masked && len(payload) >= len(w.buf)-w.n {
		// Too big to buffer: send what is pending and the payload as is,
		// in one call when the destination can take two slices at once.
		if vw, ok := w.dst.(VectorWriter); ok {
			err := vw.WriteVectors(w.buf[:w.n], payload)
			w.n = 0
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		_, err := w.dst.Write(payload)
		return err
	}
	pos := 0
	for len(payload) > 0 {
		if w.n == len(w.buf) {
			if err := w.Flush(); err != nil {
				return err
			}
		}
		c := copy(w.buf[w.n:], payload)
		if h.Masked {
			pos = Mask(h.Key, pos, w.buf[w.n:w.n+c])
		}
		w.n += c
		payload = payload[c:]
	}
	return nil
}

// Flush writes pending bytes to the destination.
func (w *Writer) Flush() error {
	if w.n == 0 {
		return nil
	}
	n, err := w.dst.Write(w.buf[:w.n])
	if n < w.n && err == nil {
		err = io.ErrShortWrite
	}
	if err != nil {
		// Keep what was not written so a caller that retries loses nothing.
		w.n = copy(w.buf, w.buf[n:w.n])
		return err
	}
	w.n = 0
	return nil
}

// Write writes p, which must hold whole encoded frames (for example a
// prepared message), through the buffer. It implements io.Writer.
func (w *Writer) Write(p []byte) (int, error) {
	if w.buf == nil {
		return 0, ErrNoBuffer
	}
	if len(p) >= len(w.buf)-w.n {
		if err := w.Flush(); err != nil {
			return 0, err
		}
		if len(p) >= len(w.buf) {
			return w.dst.Write(p)
		}
	}
	w.n += copy(w.buf[w.n:], p)
	return len(p), nil
}
