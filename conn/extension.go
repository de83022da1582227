package conn

import "io"

// Extension is a negotiated extension that transforms the payload of data
// messages, such as permessage-deflate (RFC 7692). It owns reserved bits of
// the frame header: a message whose first frame has one of them set is
// passed through the extension on receipt, and a message the extension
// encodes is sent with them set on its first frame (RFC 6455 §5.2, §9).
//
// A Conn calls the read methods from its reading goroutine and the write
// methods while holding its write lock, so an implementation needs no
// locking of its own.
type Extension interface {
	// RSV returns the reserved bits the extension owns, e.g. frame.RSV1.
	RSV() byte

	// DecodeMessage returns a reader of the decoded message. src yields the
	// payload of every frame of the message, unmasked, then io.EOF. limit is
	// the read limit in decoded bytes (<= 0: none): once the decoded message
	// would exceed it, Read must fail with ErrMessageTooBig without having
	// buffered the excess. The reader is used until it returns an error
	// (io.EOF at the end of the message).
	DecodeMessage(src io.Reader, limit int64) io.Reader

	// EncodeMessage returns a writer that encodes one message into dst, or
	// nil to send the message as is. size is the message length when known
	// and -1 otherwise, so an extension can leave small messages alone.
	// Close ends the message; the Conn then ends it on the wire.
	EncodeMessage(dst io.Writer, size int) io.WriteCloser

	// Close releases the extension's resources when the connection ends.
	Close() error
}
