// Package frame is the RFC 6455 frame codec: headers, masking, close payloads
// and incremental UTF-8 validation.
//
// It works on byte slices and io.Reader/io.Writer only and imports nothing
// from net, so the same code serves a Conn, a fuzzer, a load generator and the
// Autobahn suite.
//
// # Headers
//
// [ParseHeader] decodes a header from the front of a byte slice and reports
// when more bytes are needed; [AppendHeader] encodes one onto a caller's
// slice. Neither allocates. ParseHeader enforces the rules that hold for every
// frame (RFC 6455 §5.2, §5.5): no reserved opcodes, control frames of at most
// 125 bytes and never fragmented, no 64-bit lengths with the top bit set.
// [Header.Check] adds the rules that depend on the receiver: masking
// direction (§5.1) and reserved bits that no negotiated extension owns.
//
// # Errors
//
// Every violation is a *[ProtocolError] that carries the close code the
// receiving endpoint must send (RFC 6455 §7.4.1), so a caller fails the
// connection with
//
//	var pe *frame.ProtocolError
//	if errors.As(err, &pe) { sendClose(pe.Code, pe.Reason) }
//
// # Streaming
//
// [Reader] and [Writer] move frames over an io.Reader or io.Writer through a
// fixed buffer supplied by the caller, so a connection's memory is known in
// advance. [Mask] unmasks a payload in chunks at any key offset, and
// [UTF8Validator] checks text that arrives split at any byte boundary and
// fails at the first byte that can no longer begin a valid completion, which
// is what lets an endpoint close with 1007 before the rest of a bad message
// arrives.
package frame
