package conn

import (
	"github.com/rfc6455/ws/frame"
)

// Errors of message sequencing (RFC 6455 §5.4) and of limits. Each carries
// the close code the receiver sends when it fails the connection.
var (
	ErrUnexpectedContinuation = &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "continuation frame without a message to continue"}
	ErrExpectedContinuation   = &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "new data frame inside a fragmented message"}
	ErrExtensionBitOnControl  = &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "extension bit on a control or continuation frame"}
	ErrMessageTooBig          = &frame.ProtocolError{Code: frame.StatusMessageTooBig, Reason: "message exceeds the read limit"}
)

// receiveRules decides, frame header by frame header, whether what the peer
// sends is allowed (RFC 6455 §5.1-§5.5). It does no I/O, so every rule is
// testable on header values alone.
type receiveRules struct {
	server    bool  // the receiver is a server: frames must be masked
	rsv       byte  // reserved bits owned by the negotiated extension
	inMessage bool  // a fragmented data message is open
	limit     int64 // maximum message size; <= 0 means no limit
	size      int64 // payload bytes declared so far in the open message
	counts    bool  // size counts towards limit (false when an extension transforms the payload and counts itself)
}

// frameKind classifies a header that passed the rules.
type frameKind uint8

const (
	kindControl      frameKind = iota
	kindFirst                  // first frame of a data message
	kindContinuation           // a later frame of the open message
)

// check validates h against the rules and the sequencing state and advances
// the state. It returns the kind of frame h starts.
func (r *receiveRules) check(h *frame.Header) (frameKind, error) {
	if err := h.Check(r.server, r.rsv); err != nil {
		return 0, err
	}
	switch {
	case h.Opcode.IsControl():
		if h.RSV != 0 {
			return 0, ErrExtensionBitOnControl
		}
		return kindControl, nil
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
		if err := r.grow(h.Length); err != nil {
			return 0, err
		}
		r.inMessage = !h.Fin
		return kindContinuation, nil
	default:
		if r.inMessage {
			return 0, ErrExpectedContinuation
		}
		r.size = 0
		r.counts = h.RSV == 0
		if err := r.grow(h.Length); err != nil {
			return 0, err
		}
		r.inMessage = !h.Fin
		return kindFirst, nil
	}
}

// grow adds a frame's declared length to the open message and enforces the
// read limit before any payload is read, so a peer cannot make the receiver
// buffer more than the limit.
func (r *receiveRules) grow(n int64) error {
	if !r.counts {
		return nil
	}
	r.size += n
	if r.limit > 0 && (r.size > r.limit || r.size < 0) {
		return ErrMessageTooBig
	}
	return nil
}
