package wire

import (
	"bufio"
	"fmt"
	"io"
)

// Frame is a frame read from a peer: its header and, when it is no longer
// than the Reader's limit, its payload, unmasked.
type Frame struct {
	Header
	Payload   []byte
	Discarded bool // the payload was longer than the limit and was skipped
}

// Reader reads the frames a server sends. It keeps at most MaxPayload
// bytes of a payload (longer payloads are read and dropped), so a server
// answering with huge frames costs the tool no memory.
type Reader struct {
	R          *bufio.Reader
	MaxPayload int
}

// NewReader returns a Reader on br that keeps payloads up to 64 KiB.
func NewReader(br *bufio.Reader) *Reader { return &Reader{R: br, MaxPayload: 64 << 10} }

// ReadFrame reads the next frame. Errors are those of the underlying
// reader, io.ErrUnexpectedEOF for a frame cut short.
func (r *Reader) ReadFrame() (Frame, error) {
	var hb [14]byte
	if _, err := io.ReadFull(r.R, hb[:2]); err != nil {
		return Frame{}, err
	}
	need := 2
	switch hb[1] & 0x7f {
	case 126:
		need += 2
	case 127:
		need += 8
	}
	if hb[1]&0x80 != 0 {
		need += 4
	}
	if _, err := io.ReadFull(r.R, hb[2:need]); err != nil {
		return Frame{}, eofIsUnexpected(err)
	}
	h, _, err := ParseHeader(hb[:need])
	if err != nil {
		return Frame{}, fmt.Errorf("wire: %w", err)
	}
	f := Frame{Header: h}
	if h.Length > uint64(r.MaxPayload) {
		f.Discarded = true
		if _, err := io.CopyN(io.Discard, r.R, int64(min(h.Length, 1<<62))); err != nil {
			return f, eofIsUnexpected(err)
		}
		return f, nil
	}
	f.Payload = make([]byte, h.Length)
	if _, err := io.ReadFull(r.R, f.Payload); err != nil {
		return f, eofIsUnexpected(err)
	}
	if h.Masked {
		Mask(h.Key, 0, f.Payload)
	}
	return f, nil
}

func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
