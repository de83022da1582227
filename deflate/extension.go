package deflate

import (
	"errors"
	"io"

	"github.com/rfc6455/ws/frame"
)

// Session is permessage-deflate for one connection: the negotiated
// Config, our Compressor and the peer's Decompressor. It has the methods of
// conn.Extension, so package server and client hand it to the Conn as the
// negotiated extension; package deflate does not import conn.
//
// The Conn calls the decoding methods from its reading goroutine and the
// encoding methods under its write lock, and Close once neither can run
// again, so a Session needs no locking. With context takeover the window
// of each direction stays with the Session; without it, nothing is kept
// between messages.
type Session struct {
	cfg       Config
	threshold int
	comp      *Compressor
	decomp    *Decompressor
	reader    sessionReader
}

// NewSession returns the permessage-deflate state for a connection that
// negotiated cfg.
func NewSession(cfg Config) *Session {
	s := &Session{
		cfg:       cfg,
		threshold: threshold(cfg.Threshold, cfg.CompressContextTakeover),
		comp:      cfg.NewCompressor(),
		decomp:    cfg.NewDecompressor(),
	}
	s.reader.d = s.decomp
	return s
}

// Config returns the negotiated parameters.
func (s *Session) Config() Config { return s.cfg }

// RSV returns RSV1, the bit permessage-deflate owns (RFC 7692 §6).
func (s *Session) RSV() byte { return frame.RSV1 }

// DecodeMessage inflates one compressed message whose payload src yields
// (RFC 7692 §7.2.2). Errors are *frame.ProtocolError values carrying the
// close code the connection must send: 1009 past limit decompressed bytes,
// 1007 for data that is not valid DEFLATE.
func (s *Session) DecodeMessage(src io.Reader, limit int64) io.Reader {
	s.decomp.Reset(src, limit)
	return &s.reader
}

// EncodeMessage deflates one message into dst (RFC 7692 §7.2.1). It
// returns nil, and the message is sent uncompressed, when its size is known
// and below the threshold.
func (s *Session) EncodeMessage(dst io.Writer, size int) io.WriteCloser {
	if size >= 0 && size < s.threshold {
		return nil
	}
	s.comp.Reset(dst)
	return s.comp
}

// PreparedKey identifies how this Session encodes a message on its own, so
// a prepared (broadcast) message can be compressed once for every
// connection with the same key. ok is false with context takeover on our
// side: then each message depends on the connection's history.
func (s *Session) PreparedKey() (key uint32, ok bool) {
	if s.cfg.CompressContextTakeover {
		return 0, false
	}
	return uint32(s.cfg.CompressWindowBits)<<8 | uint32(s.cfg.Level&0xFF), true
}

// EncodePrepared appends msg compressed without context takeover to dst,
// or returns nil when msg is below the threshold and goes uncompressed.
func (s *Session) EncodePrepared(dst, msg []byte) []byte {
	if len(msg) < s.threshold {
		return nil
	}
	return AppendCompressed(dst, msg, s.cfg.CompressWindowBits, s.cfg.Level)
}

// ReleaseIdle gives back what the Session keeps between the messages it
// compresses: with context takeover on our side, the window and hash
// table (40 KiB at 15 window bits). The next message is compressed
// without reference to earlier ones, which the peer decodes as usual
// (RFC 7692 §7.1.1 allows a compressor to refer back but never requires
// it); later messages refer back again. The window for decompressing the
// peer's messages stays: the peer may refer to it. A Conn calls
// ReleaseIdle between messages when conn.Options.ReleaseCompressionAfter
// is set.
func (s *Session) ReleaseIdle() { s.comp.Release() }

// Close releases the Session's windows and pooled state.
func (s *Session) Close() error {
	s.comp.Release()
	s.decomp.Release()
	return nil
}

// sessionReader turns the decompressor's errors into protocol errors that
// carry their close code.
type sessionReader struct{ d *Decompressor }

var (
	errTooBig  = &frame.ProtocolError{Code: frame.StatusMessageTooBig, Reason: "decompressed message exceeds the read limit"}
	errCorrupt = &frame.ProtocolError{Code: frame.StatusInvalidPayloadData, Reason: "invalid permessage-deflate data"}
)

func (r *sessionReader) Read(p []byte) (int, error) {
	n, err := r.d.Read(p)
	if err != nil && err != io.EOF {
		switch CloseCode(err) {
		case frame.StatusMessageTooBig:
			err = errors.Join(errTooBig, err)
		case frame.StatusInvalidPayloadData:
			err = errors.Join(errCorrupt, err)
		}
	}
	return n, err
}
