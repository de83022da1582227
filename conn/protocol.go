package conn

import "github.com/rfc6455/ws/internal/proto"

// Errors of message sequencing (RFC 6455 §5.4) and of limits. Each carries
// the close code the receiver sends when it fails the connection. The
// rules that return them live in the protocol core (internal/proto),
// shared with the event-driven server (server/event).
var (
	ErrUnexpectedContinuation = proto.ErrUnexpectedContinuation
	ErrExpectedContinuation   = proto.ErrExpectedContinuation
	ErrExtensionBitOnControl  = proto.ErrExtensionBitOnControl
	ErrMessageTooBig          = proto.ErrMessageTooBig
	// ErrTooManyFrames fails a message fragmented into more frames than
	// Options.MaxMessageFrames allows. Empty continuation frames cost the
	// receiver work but add nothing to the message's size, so the read
	// limit alone does not bound them.
	ErrTooManyFrames = proto.ErrTooManyFrames
)
