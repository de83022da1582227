package proto

import (
	"math"

	"github.com/rfc6455/ws/frame"
)

// Errors of message sequencing (RFC 6455 §5.4) and of limits. Each carries
// the close code the receiver sends when it fails the connection.
var (
	ErrUnexpectedContinuation = &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "continuation frame without a message to continue"}
	ErrExpectedContinuation   = &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "new data frame inside a fragmented message"}
	ErrExtensionBitOnControl  = &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "extension bit on a control or continuation frame"}
	ErrMessageTooBig          = &frame.ProtocolError{Code: frame.StatusMessageTooBig, Reason: "message exceeds the read limit"}
	// ErrTooManyFrames fails a message fragmented into more frames than
	// Options.MaxMessageFrames allows. Empty continuation frames cost the
	// receiver work but add nothing to the message's size, so the read
	// limit alone does not bound them.
	ErrTooManyFrames = &frame.ProtocolError{Code: frame.StatusMessageTooBig, Reason: "message has too many frames"}
)

// Rules decides, frame header by frame header, whether what the peer
// sends is allowed (RFC 6455 §5.1-§5.5). It does no I/O, so every rule is
// testable on header values alone.
//
// Its fields are ordered to pack into 32 bytes: every connection holds one.
type Rules struct {
	server    bool  // the receiver is a server: frames must be masked
	rsv       byte  // reserved bits owned by the negotiated extension
	inMessage bool  // a fragmented data message is open
	counts    bool  // size counts towards limit (false when an extension transforms the payload and counts itself)
	frames    int32 // frames of the open message so far
	limit     int64 // maximum message size; <= 0 means no limit
	size      int64 // payload bytes declared so far in the open message
	maxFrames int32 // maximum frames per data message; <= 0 means no limit
}

// NewRules returns the rules of a receiver: a server when server
// is set, rsv the reserved bits owned by the negotiated extension, limit
// the read limit and maxFrames the bound on frames per message.
func NewRules(server bool, rsv byte, limit int64, maxFrames int) Rules {
	return Rules{server: server, rsv: rsv, limit: limit, maxFrames: int32(min(maxFrames, math.MaxInt32))}
}

// transformedLimit is the bound on the wire size of a message whose
// payload an extension decodes, given the read limit on its decoded size.
// The decoded size is checked as it is produced, but the wire bytes must
// be bounded too, before they are read: a compressed stream can carry any
// number of bytes that decode to nothing (empty DEFLATE blocks), and a
// frame can declare 2^63-1 bytes. A quarter more than the limit leaves
// room for any sensible encoder on incompressible data (stored DEFLATE
// blocks add 5 bytes in 65535; fixed Huffman codes at most one bit in 8).
func TransformedLimit(limit int64) int64 {
	if limit <= 0 {
		return limit
	}
	if limit > math.MaxInt64/5*4 {
		return math.MaxInt64
	}
	return limit + limit/4 + 1024
}

// FrameKind classifies a header that passed the rules.
type FrameKind uint8

const (
	KindControl      FrameKind = iota
	KindFirst                  // first frame of a data message
	KindContinuation           // a later frame of the open message
)

// Check validates h against the rules and the sequencing state and advances
// the state. It returns the kind of frame h starts.
func (r *Rules) Check(h *frame.Header) (FrameKind, error) {
	if err := h.Check(r.server, r.rsv); err != nil {
		return 0, err
	}
	switch {
	case h.Opcode.IsControl():
		if h.RSV != 0 {
			return 0, ErrExtensionBitOnControl
		}
		return KindControl, nil
	case h.Opcode == frame.OpContinuation:
		if !r.inMessage {
			return 0, ErrUnexpectedContinuation
		}
		// RFC 7692 §6.1: only the first frame of a message may carry the
		// extension's bit; the same holds for every per-message extension
		// this package supports.
		if h.RSV != 0 {
			return 0, ErrExtensionBitOnControl
		}
		if r.maxFrames > 0 && r.frames >= r.maxFrames {
			return 0, ErrTooManyFrames
		}
		r.frames++
		if err := r.grow(h.Length); err != nil {
			return 0, err
		}
		r.inMessage = !h.Fin
		return KindContinuation, nil
	default:
		if r.inMessage {
			return 0, ErrExpectedContinuation
		}
		r.size, r.frames = 0, 1
		r.counts = h.RSV == 0
		if err := r.grow(h.Length); err != nil {
			return 0, err
		}
		r.inMessage = !h.Fin
		return KindFirst, nil
	}
}

// grow adds a frame's declared length to the open message and enforces the
// read limit before any payload is read, so a peer cannot make the receiver
// buffer more than the limit. A message an extension transforms is held
// to wireLimit instead: its decoded size is checked as it is decoded.
func (r *Rules) grow(n int64) error {
	limit := r.limit
	if !r.counts {
		limit = TransformedLimit(limit)
	}
	r.size += n
	if limit > 0 && (r.size > limit || r.size < 0) {
		return ErrMessageTooBig
	}
	return nil
}

// AllowRSV makes the reserved bits rsv legal on first frames, as when an
// extension owning them has been negotiated (RFC 6455 §5.2).
func (r *Rules) AllowRSV(rsv byte) { r.rsv = rsv }

// Size returns the payload bytes declared so far by the frames of the open
// (or last) data message.
func (r *Rules) Size() int64 { return r.size }

// Counts reports whether the open message's declared size is its real
// size: no extension transforms it.
func (r *Rules) Counts() bool { return r.counts }

// InMessage reports whether a fragmented data message is open.
func (r *Rules) InMessage() bool { return r.inMessage }
