package frame

import (
	"encoding/binary"
	"errors"
	"io"
)

// ErrBufferTooSmall is returned by NewReader and NewWriter for a buffer that
// cannot hold a maximal header.
var ErrBufferTooSmall = errors.New("ws: frame buffer smaller than MaxHeaderSize")

// ErrNoBuffer is returned by a Reader or Writer used while its buffer is
// detached (see Reader.Detach and Writer.Detach).
var ErrNoBuffer = errors.New("ws: frame buffer detached")

// Reader reads frames from an io.Reader through a fixed buffer. It reads a
// header with NextHeader and then the payload with Read, which unmasks masked
// payloads. Payload reads larger than the buffer go straight from the source
// into the caller's slice, so large messages are not copied twice; and after
// such a read, the next read into the buffer asks for at most
// ReadAheadAfterLarge bytes (see FillSize), so that little of a following
// large payload is copied twice either.
//
// Reader checks only the rules ParseHeader checks; the caller applies
// Header.Check and the rules of message sequencing.
type Reader struct {
	src       io.Reader
	buf       []byte
	r, w      int   // buf[r:w] holds bytes read from src but not yet consumed
	remaining int64 // payload bytes of the current frame not yet read
	masked    bool
	large     bool // the last payload read went straight into the caller's slice
	key       [4]byte
	pos       int // key position of the next payload byte
}

// ReadAheadAfterLarge bounds the next read into the buffer after a payload
// read went straight into the caller's slice. Large messages tend to follow
// each other: a full buffer read would take the next header and up to a
// buffer's worth of the next payload, which Read then copies out, where a
// short read takes the header and a little of the payload and the rest again
// goes straight to the caller. Small messages after a large one cost at
// most one read more.
const ReadAheadAfterLarge = 2 << 10

// FillSize returns how many bytes the next read into n free bytes of
// buffer should ask for: n, or at most ReadAheadAfterLarge right after a
// payload read went straight into the caller's slice. Reader's own reads
// ask for that many, and so does a caller that reads into a detached
// buffer itself (see Attach).
func (r *Reader) FillSize(n int) int {
	if r.large {
		return min(n, ReadAheadAfterLarge)
	}
	return n
}

// NewReader returns a Reader that reads from src through buf, which must be
// at least MaxHeaderSize bytes long.
func NewReader(src io.Reader, buf []byte) (*Reader, error) {
	r := &Reader{}
	if err := r.Reset(src, buf, nil); err != nil {
		return nil, err
	}
	return r, nil
}

// Reset discards all state and makes r read from src through buf. The bytes
// of pending are consumed before src; pass the bytes a handshake parser
// buffered past the end of the HTTP headers. pending is copied when it fits
// in buf; otherwise it is kept and read first.
func (r *Reader) Reset(src io.Reader, buf, pending []byte) error {
	if len(buf) < MaxHeaderSize {
		return ErrBufferTooSmall
	}
	*r = Reader{src: src, buf: buf}
	if len(pending) > 0 {
		if len(pending) <= len(buf) {
			r.w = copy(buf, pending)
		} else {
			r.src = io.MultiReader(&sliceReader{pending}, src)
		}
	}
	return nil
}

// Detach takes the buffer away from r and returns it, so that a connection
// waiting for input need not hold one: the caller may pool it, wait for the
// source to become readable, and Attach a buffer holding the first bytes.
// Detach returns nil and keeps the buffer while r holds unread bytes. Until
// Attach, NextHeader and Read fail with ErrNoBuffer; the state of a frame
// whose payload is being read is kept.
func (r *Reader) Detach() []byte {
	if r.r < r.w || r.buf == nil {
		return nil
	}
	b := r.buf
	r.buf, r.r, r.w = nil, 0, 0
	return b
}

// Attach gives a detached r the buffer buf, whose first n bytes were read
// from the source and are consumed before anything else.
func (r *Reader) Attach(buf []byte, n int) error {
	switch {
	case len(buf) < MaxHeaderSize:
		return ErrBufferTooSmall
	case r.buf != nil || n < 0 || n > len(buf):
		return errors.New("ws: Reader.Attach on an attached reader or with n out of range")
	}
	r.buf, r.r, r.w = buf, 0, n
	r.large = false
	return nil
}

// sliceReader reads from a byte slice without taking it over.
type sliceReader struct{ b []byte }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// Buffered returns the number of bytes read from the source and not yet
// consumed.
func (r *Reader) Buffered() int { return r.w - r.r }

// Remaining returns the number of payload bytes of the current frame not yet
// read.
func (r *Reader) Remaining() int64 { return r.remaining }

// NextHeader discards what is left of the current frame's payload and reads
// the next header. It returns io.EOF when the source ends cleanly at a frame
// boundary and io.ErrUnexpectedEOF when it ends inside a frame.
func (r *Reader) NextHeader() (Header, error) {
	if r.remaining > 0 {
		if err := r.discard(); err != nil {
			return Header{}, err
		}
	}
	for {
		h, n, err := ParseHeader(r.buf[r.r:r.w])
		if err != nil {
			return Header{}, err
		}
		if n > 0 {
			r.begin(h, n)
			return h, nil
		}
		if err := r.fill(); err != nil {
			if err == io.EOF && r.Buffered() > 0 {
				err = io.ErrUnexpectedEOF
			}
			return Header{}, err
		}
	}
}

// NextBufferedHeader is NextHeader for a frame that is already buffered
// whole, header and payload; it never reads from the source. When the
// current frame's payload has not all been read, or the next frame is not
// all buffered, it returns ok false and changes nothing. A malformed
// header is reported as NextHeader reports it.
func (r *Reader) NextBufferedHeader() (h Header, ok bool, err error) {
	if r.remaining != 0 {
		return Header{}, false, nil
	}
	h, n, err := ParseHeader(r.buf[r.r:r.w])
	if err != nil || n == 0 || h.Length > int64(r.w-r.r-n) {
		return Header{}, false, err
	}
	r.begin(h, n)
	return h, true, nil
}

// begin consumes the n bytes of header h and starts its frame's payload.
func (r *Reader) begin(h Header, n int) {
	r.r += n
	r.remaining = h.Length
	r.masked = h.Masked
	r.key = h.Key
	r.pos = 0
}

// fill reads more bytes from the source, moving unconsumed bytes to the
// front of the buffer first.
func (r *Reader) fill() error {
	if r.buf == nil {
		return ErrNoBuffer
	}
	if r.r > 0 {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	end := r.w + r.FillSize(len(r.buf)-r.w)
	r.large = false
	for range 100 {
		n, err := r.src.Read(r.buf[r.w:end])
		r.w += n
		if n > 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// AppendBuffered appends to dst the part of the current frame's payload
// that is buffered, unmasked, consumes it and returns the extended slice.
// It reads nothing from the source. After NextBufferedHeader reports a
// frame, that is the whole payload: a buffered message is copied out in
// one step, with none of Read's handling of payload still to come.
func (r *Reader) AppendBuffered(dst []byte) []byte {
	n := int(min(r.remaining, int64(r.w-r.r)))
	src := r.buf[r.r : r.r+n]
	r.r += n
	r.remaining -= int64(n)
	if r.masked && n < maskWideMin && r.pos == 0 && cap(dst)-len(dst) >= n {
		// A short payload, the usual case of chat traffic: unmasked
		// as it is copied, in one pass and without calls.
		out := dst[len(dst) : len(dst)+n]
		out = out[:len(src)] // equal lengths, which spares the loops bounds checks
		k32 := binary.LittleEndian.Uint32(r.key[:])
		k := uint64(k32) | uint64(k32)<<32
		i := 0
		for ; i < len(src)-7; i += 8 {
			binary.LittleEndian.PutUint64(out[i:], binary.LittleEndian.Uint64(src[i:])^k)
		}
		for ; i < len(src); i++ {
			out[i] = src[i] ^ byte(k32>>(8*(i&3)))
		}
		r.pos = n & 3
		return dst[:len(dst)+n]
	}
	start := len(dst)
	dst = append(dst, src...)
	if r.masked {
		r.pos = Mask(r.key, r.pos, dst[start:])
	}
	return dst
}

// Read reads payload of the current frame into p, unmasking it. It returns
// io.EOF at the end of the frame's payload.
func (r *Reader) Read(p []byte) (int, error) {
	if r.remaining == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.remaining {
		p = p[:r.remaining]
	}
	var n int
	if r.r < r.w {
		n = copy(p, r.buf[r.r:r.w])
		r.r += n
	} else if len(p) >= len(r.buf) && r.buf != nil {
		// Large read with an empty buffer: read directly into p.
		var err error
		n, err = r.src.Read(p)
		if n == 0 {
			return 0, unexpected(err)
		}
		r.large = true
	} else {
		if err := r.fill(); err != nil {
			return 0, unexpected(err)
		}
		n = copy(p, r.buf[r.r:r.w])
		r.r += n
	}
	if r.masked {
		r.pos = Mask(r.key, r.pos, p[:n])
	}
	r.remaining -= int64(n)
	return n, nil
}

// discard skips the rest of the current payload.
func (r *Reader) discard() error {
	for r.remaining > 0 {
		if r.r == r.w {
			if err := r.fill(); err != nil {
				return unexpected(err)
			}
		}
		n := min(int64(r.w-r.r), r.remaining)
		r.r += int(n)
		r.remaining -= n
	}
	return nil
}

// unexpected turns an end of input inside a frame into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == nil || err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
