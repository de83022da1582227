package frame

// ProtocolError is a violation of RFC 6455 found in bytes received from the
// peer. Code is the status code the receiving endpoint sends in its close
// frame when it fails the connection (RFC 6455 §7.1.7, §7.4.1).
type ProtocolError struct {
	Code   StatusCode
	Reason string
}

func (e *ProtocolError) Error() string { return "ws: " + e.Reason }

// Errors found by the codec. Each is a *ProtocolError; compare with
// errors.Is, or use errors.As to read the close code.
var (
	ErrReservedOpcode     = &ProtocolError{StatusProtocolError, "reserved opcode"}
	ErrControlTooLong     = &ProtocolError{StatusProtocolError, "control frame payload longer than 125 bytes"}
	ErrControlFragmented  = &ProtocolError{StatusProtocolError, "fragmented control frame"}
	ErrLengthOverflow     = &ProtocolError{StatusProtocolError, "64-bit payload length with the most significant bit set"}
	ErrNonMinimalLength   = &ProtocolError{StatusProtocolError, "payload length not in its minimal encoding"}
	ErrReservedBits       = &ProtocolError{StatusProtocolError, "reserved bits set without a negotiated extension"}
	ErrUnmaskedFrame      = &ProtocolError{StatusProtocolError, "unmasked frame from a client"}
	ErrMaskedFrame        = &ProtocolError{StatusProtocolError, "masked frame from a server"}
	ErrCloseTooShort      = &ProtocolError{StatusProtocolError, "close payload of one byte"}
	ErrInvalidCloseCode   = &ProtocolError{StatusProtocolError, "close code not valid on the wire"}
	ErrInvalidCloseReason = &ProtocolError{StatusInvalidPayloadData, "close reason is not valid UTF-8"}
	ErrInvalidUTF8        = &ProtocolError{StatusInvalidPayloadData, "text is not valid UTF-8"}
)
